#pragma once
// Server settings from, in order of precedence: command-line flags, ONAIR_* environment
// variables, a config file (--config FILE or ONAIR_CONFIG; lines `key = value`, `#` comments),
// and the embedded defaults.
#include <map>
#include <string>
#include <vector>

#include "domain/result.hpp"

namespace onair::api {

struct server_config {
  std::string data_dir = "./var/onair";
  std::string http_listen = "127.0.0.1:8080";
  std::string rtmp_listen = "127.0.0.1:1935";
  std::size_t http_max_connections = 10'000;
  unsigned rtmp_max_per_address = 64;            // RTMP connections from one IP address not yet publishing or playing
  unsigned rtmp_max_players_per_address = 4096;   // RTMP players from one IP address
  std::size_t http_threads = 0;       // HTTP event loops; 0: one per usable core (net::usable_cores)
  unsigned rtmp_threads = 0;          // RTMP event loops; 0: one per usable core
  std::size_t max_transcodes = 0;     // concurrent CMAF transcodes; 0: from the usable cores
  std::string x264_preset = "veryfast"; // the live ladder's x264 preset
  std::size_t max_archives = 1;       // VOD archives made at once
  std::string vod_preset = "veryfast"; // the VOD renditions' x264 preset
  std::string public_host;            // host in the URLs handed out; default: the HTTP listen host
  std::string kafka = "embedded";     // embedded | off | HOST:PORT,...
  std::string kafka_topic = "onair.events";
  std::string kafka_telemetry_topic = "onair.telemetry"; // stream health, best effort
  std::string kafka_config;           // librdkafka settings file (SASL/TLS), passed through
  double kafka_max_lag_seconds = 5;   // publish lag beyond which /readyz says DEGRADED
  std::string log_level = "info";     // trace | debug | info | warn | error
  std::string web_dir;                // browser assets (swagger-ui); load_server_config fills in the default
  std::string config_file;
};

// Every setting: its flag / file key, env var, and help line.
struct setting_info {
  const char* key;
  const char* env;
  const char* help;
};
[[nodiscard]] const std::vector<setting_info>& settings();

// Parses `serve` arguments (argv after the command). Unknown or malformed flags: INVALID_PARAMETER.
[[nodiscard]] domain::result<server_config> load_server_config(const std::vector<std::string>& args,
                                                               const std::map<std::string, std::string>& env);
[[nodiscard]] std::map<std::string, std::string> environment();

} // namespace onair::api
