#pragma once
// HTTP/1.1 on libevent's evhttp (keep-alive, body and header size limits, timeouts), on one or
// more event loops. Route handlers (plain and stream routes, middlewares, the fallback) run on a
// pool of handler threads when options::handler_threads > 0, where they may read storage, or else
// on the thread of the loop that owns the connection, where they must not block. Either way they
// run on several threads at once; they hand work to actors and answer through the responder,
// which may be called from any thread and hops back to that loop. Raw routes run on the loop.
// Each request's head (and a chunked body's framing) is read and checked before evhttp sees it:
// what the HTTP layer refuses (a body or head too large, a target too long, a malformed request,
// a method or transfer coding not implemented) is answered with the API's JSON error and
// Connection: close, and the connection then lingers, reading and dropping what the client still
// sends for a bounded time and size, so that the client reads the answer rather than a reset.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "media/net/event_loop.hpp"
#include "media/net/http_reply.hpp"
#include "api/http_metrics.hpp"
#include "domain/result.hpp"

struct evhttp;
struct evhttp_request;

namespace onair::api {

struct http_request {
  std::string method;
  std::string path;
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers; // lower-case names
  std::map<std::string, std::string> params;  // path parameters of the matched route ({name})
  std::string route;                          // the matched route's pattern (metrics labels); "" if none
  std::string body;
  std::string peer;  // remote address
  bool peer_is_loopback = false;
  // The client's X-Request-Id when well-formed (domain::valid_request_id), else one made here;
  // echoed on the answer as X-Request-Id and stored with the events the request causes.
  std::string request_id;

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

// A reply sent in chunks (Server-Sent Events). Every call may come from any thread and hops to the
// loop; after the client went away they do nothing. Either respond() once, or start() then any
// number of send() and at most one end().
class http_stream {
public:
  virtual ~http_stream() = default;
  // A plain, complete reply instead of a stream (errors found before streaming).
  virtual void respond(http_response resp) = 0;
  // Sends the status line and headers; the connection's read timeout is lifted for the stream.
  virtual void start(int status, std::vector<std::pair<std::string, std::string>> headers) = 0;
  virtual void send(std::string chunk) = 0;
  virtual void end() = 0;
  // fn runs once, on the loop thread, when the client goes away or the server stops (not after end()).
  virtual void on_close(std::function<void()> fn) = 0;
  // Bytes written but not yet taken by the socket (loop thread only): lets a producer hold back.
  [[nodiscard]] virtual std::size_t buffered() const = 0;
  // The loop that owns this request's connection: a producer's timers and posts belong there.
  [[nodiscard]] virtual net::event_loop& loop() const = 0;
};

using stream_handler = std::function<void(const http_request&, std::shared_ptr<http_stream>)>;

// How a raw route hears that its client's connection went away. evhttp has one close callback per
// connection, and it is the server's: it keeps the open-connection count (max_connections, the
// gauge) and must run for every connection, so a raw route never sets its own. It hands fn here
// instead: fn runs once, after that bookkeeping, on the loop thread, or on the thread calling
// stop() once the loops have stopped. An empty fn takes it back (the route ended its reply first).
// Call on the loop thread, while the connection is open.
using close_watch = std::function<void(std::function<void()> fn)>;

// A route that takes the libevent request over (media playback, e.g. HTTP-FLV): runs on the thread
// of `loop`, the loop that owns the request's connection, and must answer `raw` itself, now or
// later on that same loop.
using raw_handler =
    std::function<void(const http_request&, evhttp_request* raw, net::event_loop& loop, close_watch on_close)>;

// A media request, read off the connection by the server itself (see http_server::media_route).
// Views valid for the handler's call only.
struct media_request {
  std::string_view method; // GET or HEAD
  std::string_view path;   // as sent (undecoded)
  std::string_view query;  // as sent, "" if none
  std::string_view host;
  std::string_view user_agent;
  std::string_view peer; // remote address
  // The pattern's `{name}` segments, percent-decoded, in the pattern's order.
  std::span<const std::string_view> params;
};

// Answers a media request through `reply`, now or later, on `loop`'s thread (the loop that owns
// the connection; it must not block).
using media_handler =
    std::function<void(const media_request&, std::shared_ptr<net::media_reply> reply, net::event_loop& loop)>;

// Runs around every matched (non-stream) route: may answer itself or call next, at most once.
using middleware = std::function<void(const http_request&, responder, const http_handler& next)>;

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
    std::size_t max_body_bytes = 1 << 20;   // longer: 413
    std::size_t max_header_bytes = 16 << 10; // request line and fields, line ends included: 431
    std::size_t max_target_bytes = 8 << 10;  // the request target (path and query): 414
    int timeout_seconds = 30;
    // After a refused request, how long and how much the connection goes on reading (and dropping)
    // what the client sends, before it closes.
    std::chrono::milliseconds linger_time{5000};
    std::size_t linger_bytes = 4 << 20;
    // Open connections at most; a new connection past it gets 503 and is closed.
    std::size_t max_connections = 10'000;
    // Event loops, each on its own thread with its own listening socket on the same port
    // (SO_REUSEPORT when more than one, so the kernel spreads connections among them). A
    // connection stays on the loop that accepted it.
    std::size_t threads = 1;
    // Threads the route handlers run on, off the loops (see the top of this file); 0: on the loops.
    std::size_t handler_threads = 0;
  };

  explicit http_server(options opts);
  ~http_server();

  // A route: exact segments, or `{name}` segments captured into http_request::params
  // (e.g. "/v2/apps/me/members/{appUserId}"). Method "*" matches any. A path that matches only
  // under other methods answers 405.
  void route(std::string method, std::string path, http_handler h);
  // A route answered by a stream (same patterns as route()).
  void stream_route(std::string method, std::string path, stream_handler h);
  // A route answered by a raw_handler (same patterns as route()).
  void raw_route(std::string method, std::string path, raw_handler h);
  // A route for what many players poll, many times a second each (CMAF playlists and parts):
  // GET and HEAD without a body are read and answered by the server itself, off evhttp, its
  // router and the middlewares (no request object, no header lists, no request id): the head is
  // written at once, the body by reference, in one write. Same patterns as route(); the path
  // answers 405 and CORS preflights as a route does.
  void media_route(std::string path, media_handler h);
  // Paths (same patterns as route()) whose answers any web page may read, e.g. media playback.
  // The server's own answers there, 405 and 503, carry Access-Control-Allow-Origin: *, and a CORS
  // preflight (OPTIONS, not routed there) is answered 204 with the methods routed on the path.
  // The routes' own replies carry the header themselves.
  void cross_origin(std::string path);
  // Everything not routed.
  void fallback(http_handler h);
  // Wraps the matched routes (first added runs outermost).
  void use(middleware m);
  // The routes, as (method, pattern) in the order added (stream routes included).
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> routes() const;

  [[nodiscard]] const http_metrics& metrics() const;

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
