#include "api/config.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "api/http_server.hpp"

extern char** environ;

namespace onair::api {

using domain::error_code;
using domain::make_error;

const std::vector<setting_info>& settings() {
  static const std::vector<setting_info> all{
      {"data-dir", "ONAIR_DATA_DIR", "folder of the event store (RocksDB) and server files [./var/onair]"},
      {"http-listen", "ONAIR_HTTP_LISTEN", "ADDR:PORT of the HTTP API and playback [127.0.0.1:8080]; port 0 picks one"},
      {"rtmp-listen", "ONAIR_RTMP_LISTEN", "ADDR:PORT of RTMP ingest and playback [127.0.0.1:1935]"},
      {"http-max-connections", "ONAIR_HTTP_MAX_CONNECTIONS", "open HTTP connections at most; more get 503 [10000]"},
      {"rtmp-max-per-address", "ONAIR_RTMP_MAX_PER_ADDRESS", "RTMP connections from one IP address not yet publishing or playing [64]"},
      {"rtmp-max-players-per-address", "ONAIR_RTMP_MAX_PLAYERS_PER_ADDRESS", "RTMP players at most from one IP address (a NAT may hide many) [4096]"},
      {"http-threads", "ONAIR_HTTP_THREADS", "HTTP event loops (threads) sharing the listen port [the usable cores]"},
      {"rtmp-threads", "ONAIR_RTMP_THREADS", "RTMP event loops (threads) the connections are spread over [the usable cores]"},
      {"max-transcodes", "ONAIR_MAX_TRANSCODES", "CMAF streams transcoded at once; more are refused at publish [usable cores - 1, at least 1]"},
      {"x264-preset", "ONAIR_X264_PRESET", "x264 preset of the live CMAF ladder: ultrafast ... medium [veryfast]"},
      {"max-archives", "ONAIR_MAX_ARCHIVES", "VOD archives made at once, below live transcodes in priority [1]"},
      {"vod-preset", "ONAIR_VOD_PRESET", "x264 preset of the VOD renditions: ultrafast ... medium [veryfast]"},
      {"public-host", "ONAIR_PUBLIC_HOST", "host name put in ingest and play URLs [the HTTP listen address]"},
      {"kafka", "ONAIR_KAFKA", "embedded | off | HOST:PORT,... [embedded]"},
      {"kafka-topic", "ONAIR_KAFKA_TOPIC", "topic of the event stream [onair.events]"},
      {"kafka-telemetry-topic", "ONAIR_KAFKA_TELEMETRY_TOPIC", "topic of stream health every few seconds, best effort [onair.telemetry]"},
      {"kafka-config", "ONAIR_KAFKA_CONFIG", "file of librdkafka settings (SASL, TLS…), `key = value` lines"},
      {"kafka-max-lag", "ONAIR_KAFKA_MAX_LAG", "seconds of publish lag after which /readyz says DEGRADED [5]"},
      {"log-level", "ONAIR_LOG_LEVEL", "trace | debug | info | warn | error [info]"},
      {"web-dir", "ONAIR_WEB_DIR", "folder of the browser assets (api/web's layout) [share/onair/web beside an installed "
                                   "binary, else the build's source tree]"},
      {"config", "ONAIR_CONFIG", "a file of `key = value` lines with the keys above"},
  };
  return all;
}

std::map<std::string, std::string> environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    if (auto eq = kv.find('='); eq != std::string::npos && kv.rfind("ONAIR_", 0) == 0)
      env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

namespace {

// The browser assets beside an installed binary (PREFIX/bin/onair -> PREFIX/share/onair/web), so a
// package or `cmake --install` finds its own copy wherever it lands; a binary run from the build
// tree has none there and reads the source tree it was built from.
std::string default_web_dir() {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto installed = (exe.parent_path() / ONAIR_WEB_DIR_FROM_BINARY).lexically_normal();
    if (fs::is_directory(installed, ec))
      return installed.string();
  }
  return ONAIR_WEB_DIR;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos)
    return {};
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// A count setting: a whole number from 1 to max.
template <class N>
domain::status parse_count(const std::string& value, N max, N& out, const std::string& origin, const std::string& key) {
  N n = 0;
  const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (value.empty() || ec != std::errc{} || ptr != value.data() + value.size() || n == 0 || n > max)
    return make_error(error_code::invalid_parameter, origin + ": " + key + " must be 1.." + std::to_string(max), key);
  out = n;
  return domain::ok_status();
}

#define ONAIR_TRY_COUNT(field, max)                                                                  \
  if (auto st = parse_count(value, decltype(field){max}, field, origin, key); !st)                  \
    return st

domain::status apply(server_config& c, const std::string& key, const std::string& value, const std::string& origin) {
  if (key == "data-dir") {
    if (value.empty())
      return make_error(error_code::invalid_parameter, origin + ": data-dir must not be empty", key);
    c.data_dir = value;
  } else if (key == "http-listen" || key == "rtmp-listen") {
    if (auto a = parse_listen_address(value); !a)
      return make_error(error_code::invalid_parameter, origin + ": " + key + ": " + a.error().message, key);
    (key == "http-listen" ? c.http_listen : c.rtmp_listen) = value;
  } else if (key == "http-max-connections") {
    ONAIR_TRY_COUNT(c.http_max_connections, 1'000'000);
  } else if (key == "rtmp-max-per-address") {
    ONAIR_TRY_COUNT(c.rtmp_max_per_address, 1'000'000);
  } else if (key == "rtmp-max-players-per-address") {
    ONAIR_TRY_COUNT(c.rtmp_max_players_per_address, 1'000'000);
  } else if (key == "http-threads") {
    ONAIR_TRY_COUNT(c.http_threads, 256);
  } else if (key == "rtmp-threads") {
    ONAIR_TRY_COUNT(c.rtmp_threads, 256u);
  } else if (key == "max-transcodes") {
    ONAIR_TRY_COUNT(c.max_transcodes, 1024);
  } else if (key == "max-archives") {
    ONAIR_TRY_COUNT(c.max_archives, 64);
  } else if (key == "x264-preset" || key == "vod-preset") {
    static constexpr std::string_view presets[] = {"ultrafast", "superfast", "veryfast", "faster", "fast", "medium"};
    if (std::find(std::begin(presets), std::end(presets), value) == std::end(presets))
      return make_error(error_code::invalid_parameter,
                        origin + ": " + key + " must be ultrafast, superfast, veryfast, faster, fast or medium", key);
    (key == "x264-preset" ? c.x264_preset : c.vod_preset) = value;
  } else if (key == "web-dir") {
    c.web_dir = value;
  } else if (key == "public-host") {
    c.public_host = value;
  } else if (key == "kafka") {
    if (value.empty())
      return make_error(error_code::invalid_parameter, origin + ": kafka must be embedded, off or HOST:PORT,...", key);
    if (value != "embedded" && value != "off") {
      std::size_t start = 0;
      while (start <= value.size()) {
        const auto end = value.find(',', start);
        const auto broker = value.substr(start, end == std::string::npos ? std::string::npos : end - start);
        const auto colon = broker.rfind(':');
        if (broker.empty() || colon == std::string::npos || colon == 0 || colon + 1 == broker.size() ||
            broker.find_first_not_of("0123456789", colon + 1) != std::string::npos)
          return make_error(error_code::invalid_parameter,
                            origin + ": kafka: '" + broker + "' is not HOST:PORT (or use embedded / off)", key);
        if (end == std::string::npos)
          break;
        start = end + 1;
      }
    }
    c.kafka = value;
  } else if (key == "kafka-topic" || key == "kafka-telemetry-topic") {
    if (value.empty() || value.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
                             std::string::npos)
      return make_error(error_code::invalid_parameter, origin + ": " + key + " must be letters, digits, . _ -", key);
    (key == "kafka-topic" ? c.kafka_topic : c.kafka_telemetry_topic) = value;
  } else if (key == "kafka-config") {
    c.kafka_config = value;
  } else if (key == "kafka-max-lag") {
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (value.empty() || end != value.c_str() + value.size() || !(v > 0))
      return make_error(error_code::invalid_parameter, origin + ": kafka-max-lag must be a number of seconds > 0", key);
    c.kafka_max_lag_seconds = v;
  } else if (key == "log-level") {
    if (value != "trace" && value != "debug" && value != "info" && value != "warn" && value != "error")
      return make_error(error_code::invalid_parameter, origin + ": log-level must be trace|debug|info|warn|error", key);
    c.log_level = value;
  } else {
    return make_error(error_code::invalid_parameter, origin + ": unknown setting '" + key + "'", key);
  }
  return domain::ok_status();
}

} // namespace

domain::result<server_config> load_server_config(const std::vector<std::string>& args,
                                                 const std::map<std::string, std::string>& env) {
  // Flags first into a map (so the config file they may name is known), then layer up.
  std::vector<std::pair<std::string, std::string>> flags;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a.rfind("--", 0) != 0)
      return make_error(error_code::invalid_parameter, "unexpected argument '" + a + "'");
    std::string key = a.substr(2), value;
    if (auto eq = key.find('='); eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
    } else {
      if (i + 1 >= args.size())
        return make_error(error_code::invalid_parameter, "flag --" + key + " needs a value", key);
      value = args[++i];
    }
    bool known = false;
    for (const auto& s : settings())
      known = known || key == s.key;
    if (!known)
      return make_error(error_code::invalid_parameter, "unknown flag --" + key, key);
    flags.emplace_back(key, value);
  }

  server_config c;
  std::string file;
  if (auto it = env.find("ONAIR_CONFIG"); it != env.end())
    file = it->second;
  for (const auto& [k, v] : flags)
    if (k == "config")
      file = v;
  if (!file.empty()) {
    std::ifstream in{file};
    if (!in)
      return make_error(error_code::invalid_parameter, "cannot read config file " + file, "config");
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      line = trim(line);
      if (line.empty() || line[0] == '#')
        continue;
      const auto eq = line.find('=');
      if (eq == std::string::npos)
        return make_error(error_code::invalid_parameter,
                          file + ":" + std::to_string(n) + ": expected `key = value`", "config");
      if (auto st = apply(c, trim(line.substr(0, eq)), trim(line.substr(eq + 1)), file + ":" + std::to_string(n)); !st)
        return st.error();
    }
    c.config_file = file;
  }
  for (const auto& s : settings()) {
    if (std::string{s.key} == "config")
      continue;
    if (auto it = env.find(s.env); it != env.end())
      if (auto st = apply(c, s.key, it->second, s.env); !st)
        return st.error();
  }
  for (const auto& [k, v] : flags)
    if (k != "config")
      if (auto st = apply(c, k, v, "--" + k); !st)
        return st.error();
  if (c.web_dir.empty())
    c.web_dir = default_web_dir();
  return c;
}

} // namespace onair::api
