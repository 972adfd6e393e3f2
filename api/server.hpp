#pragma once
// `onair serve`: the runtime (store + actors) behind the HTTP listener, plus the files a CLI on
// the same machine uses to reach it (server.json with the address, admin.token, mode 0600).
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "actors/runtime.hpp"
#include "api/config.hpp"
#include "api/http_server.hpp"

namespace onair::api {

class kafka_service;

// An app as the admin endpoint and the CLI show it (never its secret or hash).
[[nodiscard]] nlohmann::json app_summary(const domain::app& a);

} // namespace onair::api

namespace onair::media {
struct counters;
namespace fanout {
class registry;
}
namespace rtmp {
class server;
}
} // namespace onair::media

namespace onair::actors {
class ingest;
class recordings;
class archiver;
class reconnect_windows;
class cmaf_streams;
}

namespace onair::api {

class server {
public:
  explicit server(server_config cfg);
  ~server();

  // Opens the store, finishes crash leftovers, starts listening. Returns the HTTP port.
  domain::result<std::uint16_t> start();
  void stop();

  [[nodiscard]] actors::runtime& runtime() { return *rt_; }
  [[nodiscard]] const server_config& config() const { return cfg_; }
  [[nodiscard]] std::string base_url() const;
  [[nodiscard]] std::string rtmp_base_url() const; // ingest: rtmp_base_url() + "/live"
  [[nodiscard]] std::uint16_t rtmp_port() const { return rtmp_port_; }
  // (method, path pattern) of every route served, once started.
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> routes() const;
  [[nodiscard]] const kafka_service& kafka() const { return *kafka_; }

private:
  void install_routes();
  [[nodiscard]] std::string media_metrics() const;

  server_config cfg_;
  std::unique_ptr<actors::runtime> rt_;
  std::unique_ptr<kafka_service> kafka_; // publishes rt_'s log; stopped before rt_ goes
  std::unique_ptr<http_server> http_;
  std::unique_ptr<struct rest_context> rest_;
  // RTMP ingest and playback: counters, hubs and hooks outlive the server that uses them.
  std::unique_ptr<media::counters> media_stats_;
  std::unique_ptr<media::fanout::registry> hubs_;
  std::unique_ptr<actors::ingest> ingest_;
  std::unique_ptr<actors::recordings> recordings_;
  std::unique_ptr<actors::cmaf_streams> cmaf_;
  std::unique_ptr<actors::archiver> archiver_;
  std::unique_ptr<actors::reconnect_windows> reconnect_;
  std::unique_ptr<media::rtmp::server> rtmp_;
  std::uint16_t rtmp_port_ = 0;
  std::string admin_token_;
  std::uint16_t port_ = 0;
};

// Creates an app on a runtime and waits; returns its summary plus the secret (shown once).
[[nodiscard]] domain::result<nlohmann::json> create_app_sync(actors::runtime& rt, const std::string& name);
[[nodiscard]] nlohmann::json list_apps(const actors::runtime& rt);
// Gives the app of api_key a new secret and waits until it is durable; returns its summary plus
// the new secret (shown once). From then on the old secret is refused.
[[nodiscard]] domain::result<nlohmann::json> rotate_secret_sync(actors::runtime& rt, const std::string& api_key);

} // namespace onair::api
