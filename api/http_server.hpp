#pragma once
// HTTP/1.1 on libevent's evhttp (keep-alive, body and header size limits, timeouts). Handlers run
// on the loop thread and must not block: they hand work to actors and answer through the
// responder, which may be called from any thread and hops back to the loop.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "api/event_loop.hpp"
#include "domain/result.hpp"

struct evhttp;

namespace onair::api {

struct http_request {
  std::string method;
  std::string path;
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers; // lower-case names
  std::map<std::string, std::string> params;  // path parameters of the matched route ({name})
  std::string body;
  std::string peer;  // remote address
  bool peer_is_loopback = false;

  [[nodiscard]] std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string{} : it->second;
  }
};

struct http_response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using responder = std::function<void(http_response)>;
using http_handler = std::function<void(const http_request&, responder)>;

struct listen_address {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
};
// "HOST:PORT" or "[V6]:PORT".
[[nodiscard]] domain::result<listen_address> parse_listen_address(const std::string& text);

class http_server {
public:
  struct options {
    listen_address listen;
    std::size_t max_body_bytes = 1 << 20;
    std::size_t max_header_bytes = 16 << 10;
    int timeout_seconds = 30;
  };

  explicit http_server(options opts);
  ~http_server();

  // A route: exact segments, or `{name}` segments captured into http_request::params
  // (e.g. "/v2/apps/me/members/{appUserId}"). Method "*" matches any. A path that matches only
  // under other methods answers 405.
  void route(std::string method, std::string path, http_handler h);
  // Everything not routed.
  void fallback(http_handler h);

  // Binds and starts the loop; returns the bound port (useful with port 0).
  domain::result<std::uint16_t> start();
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

[[nodiscard]] http_response json_response(int status, std::string body);
[[nodiscard]] http_response error_response(int status, const std::string& code, const std::string& message,
                                           const std::string& field = {});

} // namespace onair::api
