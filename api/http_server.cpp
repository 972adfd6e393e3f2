#include "api/http_server.hpp"
#include "api/work_pool.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <unordered_map>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace onair::api {

using domain::error_code;
using domain::make_error;

domain::result<listen_address> parse_listen_address(const std::string& text) {
  listen_address out;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return make_error(error_code::invalid_parameter, "'" + text + "' is not [IPV6]:PORT");
    out.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0)
      return make_error(error_code::invalid_parameter, "'" + text + "' is not ADDRESS:PORT (e.g. 127.0.0.1:8080)");
    out.host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  const auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc{} || p != port.data() + port.size() || value > 65535)
    return make_error(error_code::invalid_parameter, "bad port '" + port + "' in '" + text + "' (0-65535)");
  out.port = static_cast<std::uint16_t>(value);
  unsigned char buf[sizeof(in6_addr)];
  if (inet_pton(AF_INET, out.host.c_str(), buf) != 1 && inet_pton(AF_INET6, out.host.c_str(), buf) != 1)
    return make_error(error_code::invalid_parameter, "'" + out.host + "' is not an IP address");
  return out;
}

http_response json_response(int status, std::string body) {
  http_response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

http_response error_response(int status, const std::string& code, const std::string& message,
                             const std::string& field) {
  nlohmann::json j{{"errorCode", code}, {"errorMessage", message}, {"status", status}, {"title", code},
                   {"detail", message}};
  if (!field.empty())
    j["field"] = field;
  // Messages may quote request bytes (a path, an id) that are not UTF-8: replaced, never thrown on.
  return json_response(status, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

namespace {

using steady = std::chrono::steady_clock;

double seconds_since(steady::time_point t0) {
  return std::chrono::duration<double>(steady::now() - t0).count();
}

// Sends resp as the complete reply to req (evhttp takes the request back).
void send_response(evhttp_request* req, const http_response& resp) {
  evkeyvalq* out = evhttp_request_get_output_headers(req);
  if (!resp.content_type.empty())
    evhttp_add_header(out, "Content-Type", resp.content_type.c_str());
  for (const auto& [k, v] : resp.headers)
    evhttp_add_header(out, k.c_str(), v.c_str());
  evbuffer* body = evbuffer_new();
  evbuffer_add(body, resp.body.data(), resp.body.size());
  evhttp_send_reply(req, resp.status, nullptr, body);
  evbuffer_free(body);
}

// One chunked reply. State is touched on the loop thread only; the public calls post there.
class stream_impl final : public http_stream, public std::enable_shared_from_this<stream_impl> {
public:
  stream_impl(net::event_loop& loop, http_metrics& metrics, evhttp_request* req, http_request meta, int timeout_seconds)
      : loop_(loop), metrics_(metrics), req_(req), route_(std::move(meta.route)), method_(std::move(meta.method)),
        timeout_seconds_(timeout_seconds) {}

  void respond(http_response resp) override {
    loop_.post([self = shared_from_this(), resp = std::move(resp)] {
      if (self->req_ == nullptr || self->started_ || self->done_)
        return;
      self->metrics_.observe(self->route_, self->method_, resp.status, seconds_since(self->t0_));
      self->done_ = true;
      send_response(std::exchange(self->req_, nullptr), resp);
    });
  }

  void start(int status, std::vector<std::pair<std::string, std::string>> headers) override {
    loop_.post([self = shared_from_this(), status, headers = std::move(headers)] {
      if (self->req_ == nullptr || self->started_ || self->done_)
        return;
      evkeyvalq* out = evhttp_request_get_output_headers(self->req_);
      for (const auto& [k, v] : headers)
        evhttp_add_header(out, k.c_str(), v.c_str());
      self->started_ = true;
      self->metrics_.observe(self->route_, self->method_, status, seconds_since(self->t0_));
      evhttp_send_reply_start(self->req_, status, nullptr);
      // The client sends nothing more: only writes may time out.
      if (evhttp_connection* con = evhttp_request_get_connection(self->req_)) {
        const timeval write_tv{self->timeout_seconds_, 0};
        bufferevent_set_timeouts(evhttp_connection_get_bufferevent(con), nullptr, &write_tv);
      }
    });
  }

  void send(std::string chunk) override {
    loop_.post([self = shared_from_this(), chunk = std::move(chunk)] {
      if (self->req_ == nullptr || !self->started_ || self->done_ || chunk.empty())
        return;
      evbuffer* buf = evbuffer_new();
      evbuffer_add(buf, chunk.data(), chunk.size());
      evhttp_send_reply_chunk(self->req_, buf);
      evbuffer_free(buf);
    });
  }

  void end() override {
    loop_.post([self = shared_from_this()] {
      if (self->req_ == nullptr || !self->started_ || self->done_)
        return;
      self->done_ = true;
      self->close_fn_ = nullptr;
      evhttp_send_reply_end(std::exchange(self->req_, nullptr));
    });
  }

  void on_close(std::function<void()> fn) override {
    loop_.post([self = shared_from_this(), fn = std::move(fn)]() mutable {
      if (self->closed_) {
        if (fn)
          fn();
        return;
      }
      if (!self->done_)
        self->close_fn_ = std::move(fn);
    });
  }

  [[nodiscard]] std::size_t buffered() const override {
    if (req_ == nullptr)
      return 0;
    evhttp_connection* con = evhttp_request_get_connection(req_);
    return con ? evbuffer_get_length(bufferevent_get_output(evhttp_connection_get_bufferevent(con))) : 0;
  }

  [[nodiscard]] net::event_loop& loop() const override { return loop_; }

  [[nodiscard]] bool finished() const { return done_ || closed_; }

  // The connection is going away (loop thread, or the stopping thread once the loop is gone).
  void closed() {
    if (closed_)
      return;
    closed_ = true;
    // A reply still in progress was detached from its connection by evhttp and is ours to free;
    // one still attached is freed with the connection.
    if (req_ != nullptr && evhttp_request_get_connection(req_) == nullptr && !done_)
      evhttp_request_free(req_);
    req_ = nullptr;
    if (auto fn = std::exchange(close_fn_, nullptr))
      fn();
  }

private:
  net::event_loop& loop_;
  http_metrics& metrics_;
  evhttp_request* req_;
  std::string route_;
  std::string method_;
  int timeout_seconds_;
  steady::time_point t0_ = steady::now();
  bool started_ = false;
  bool done_ = false;
  bool closed_ = false;
  std::function<void()> close_fn_;
};

} // namespace

struct http_server::impl {
  // One event loop with its evhttp and the connections it accepted (touched on its thread only).
  struct worker {
    impl* server = nullptr;
    net::event_loop loop;
    evhttp* http = nullptr;
    // What is told when a connection goes: its stream, or what its raw route gave its close_watch.
    struct tracked {
      std::shared_ptr<stream_impl> stream;
      std::function<void()> on_close;
    };
    // Connections seen (for the gauge and to tell streams and raw routes their client left).
    std::unordered_map<evhttp_connection*, tracked> connections;
  };

  options opts;
  std::vector<std::unique_ptr<worker>> workers;
  bool started = false;
  struct pattern_route {
    std::string method;
    std::vector<std::string> segments; // "{x}" captures
    http_handler handler;
    std::string pattern;
    stream_handler stream; // set for stream routes (handler empty)
    raw_handler raw;       // set for raw routes
  };
  std::vector<pattern_route> routes;
  std::vector<std::vector<std::string>> cross_origin; // path patterns, split
  std::vector<middleware> middlewares;
  http_handler fallback;
  http_metrics metrics;
  // Connections open on all loops (the max_connections bound).
  std::atomic<std::size_t> open_connections{0};
  // Where handlers run when options::handler_threads > 0 (made by start(), joined by stop()).
  std::unique_ptr<work_pool> handlers;

  static void on_connection_close(evhttp_connection* con, void* arg) {
    auto* w = static_cast<worker*>(arg);
    auto it = w->connections.find(con);
    if (it == w->connections.end())
      return;
    auto t = std::move(it->second);
    w->connections.erase(it);
    w->server->open_connections.fetch_sub(1, std::memory_order_relaxed);
    w->server->metrics.connection_closed();
    if (t.stream)
      t.stream->closed();
    if (t.on_close)
      t.on_close();
  }

  void track(worker& w, evhttp_connection* con, std::shared_ptr<stream_impl> stream) {
    auto [it, fresh] = w.connections.try_emplace(con);
    if (fresh) {
      open_connections.fetch_add(1, std::memory_order_relaxed);
      metrics.connection_opened();
      evhttp_connection_set_closecb(con, &impl::on_connection_close, &w);
    }
    auto& held = it->second.stream;
    if (stream || (held && held->finished()))
      held = std::move(stream);
  }

  static std::vector<std::string> split(const std::string& path) {
    std::vector<std::string> out;
    std::size_t start = 1;
    while (start <= path.size()) {
      const auto end = path.find('/', start);
      out.push_back(path.substr(start, end == std::string::npos ? std::string::npos : end - start));
      if (end == std::string::npos)
        break;
      start = end + 1;
    }
    return out;
  }

  static std::string decode(const std::string& s) {
    char* d = evhttp_uridecode(s.c_str(), 0, nullptr);
    std::string out = d ? d : s;
    free(d);
    return out;
  }

  // Whether a path's segments fit a pattern's, capturing the `{name}` ones into params.
  static bool fits(const std::vector<std::string>& pattern, const std::vector<std::string>& parts,
                   std::map<std::string, std::string>* params) {
    if (pattern.size() != parts.size())
      return false;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const auto& seg = pattern[i];
      if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
        if (parts[i].empty())
          return false;
        if (params)
          (*params)[seg.substr(1, seg.size() - 2)] = decode(parts[i]);
      } else if (seg != parts[i]) {
        return false;
      }
    }
    return true;
  }

  // The handler for a request, filling its path parameters; nullptr with `other_methods` filled
  // when the path exists under other methods only.
  const pattern_route* match(http_request& r, std::vector<std::string>& other_methods) const {
    const auto parts = split(r.path);
    for (const auto& route : routes) {
      std::map<std::string, std::string> params;
      if (!fits(route.segments, parts, &params))
        continue;
      if (route.method != "*" && route.method != r.method) {
        if (std::find(other_methods.begin(), other_methods.end(), route.method) == other_methods.end())
          other_methods.push_back(route.method);
        continue;
      }
      r.params = std::move(params);
      r.route = route.pattern;
      return &route;
    }
    return nullptr;
  }

  [[nodiscard]] bool is_cross_origin(const std::string& path) const {
    const auto parts = split(path);
    return std::any_of(cross_origin.begin(), cross_origin.end(),
                       [&parts](const auto& pattern) { return fits(pattern, parts, nullptr); });
  }

  // The answer on a path routed under other methods only: a CORS preflight's where the path is
  // cross-origin, else 405 with the methods there are.
  [[nodiscard]] http_response other_method(const http_request& r, std::vector<std::string> methods) const {
    const bool cors = is_cross_origin(r.path);
    if (cors)
      methods.push_back("OPTIONS");
    std::string allow;
    for (const auto& m : methods)
      allow += (allow.empty() ? "" : ", ") + m;
    if (cors && r.method == "OPTIONS") {
      http_response resp;
      resp.status = 204;
      resp.content_type.clear();
      resp.headers = {{"Access-Control-Allow-Origin", "*"},
                      {"Access-Control-Allow-Methods", allow},
                      {"Access-Control-Max-Age", "86400"}};
      // Whatever request headers the page wants to send (Range, say) are fine: nothing here reads them.
      if (const auto asked = r.header("access-control-request-headers"); !asked.empty())
        resp.headers.emplace_back("Access-Control-Allow-Headers", asked);
      return resp;
    }
    auto resp = error_response(405, "METHOD_NOT_ALLOWED", r.method + " is not allowed on " + r.path);
    resp.headers.emplace_back("Allow", allow);
    if (cors)
      resp.headers.emplace_back("Access-Control-Allow-Origin", "*");
    return resp;
  }

  // The middlewares from index i on, then the handler.
  void run(std::size_t i, const http_request& r, responder respond, const http_handler& handler) const {
    if (i == middlewares.size())
      return handler(r, std::move(respond));
    middlewares[i](r, std::move(respond), [this, i, &handler](const http_request& req, responder next_respond) {
      run(i + 1, req, std::move(next_respond), handler);
    });
  }

  static void on_request(evhttp_request* req, void* arg) {
    auto* w = static_cast<worker*>(arg);
    w->server->handle(*w, req);
  }

  void handle(worker& w, evhttp_request* req) {
    auto& loop = w.loop;
    http_request r;
    switch (evhttp_request_get_command(req)) {
    case EVHTTP_REQ_GET: r.method = "GET"; break;
    case EVHTTP_REQ_POST: r.method = "POST"; break;
    case EVHTTP_REQ_PUT: r.method = "PUT"; break;
    case EVHTTP_REQ_PATCH: r.method = "PATCH"; break;
    case EVHTTP_REQ_DELETE: r.method = "DELETE"; break;
    case EVHTTP_REQ_HEAD: r.method = "HEAD"; break;
    case EVHTTP_REQ_OPTIONS: r.method = "OPTIONS"; break;
    default: r.method = "OTHER"; break;
    }
    const evhttp_uri* uri = evhttp_request_get_evhttp_uri(req);
    const char* path = uri ? evhttp_uri_get_path(uri) : nullptr;
    r.path = path && *path ? path : "/";
    if (const char* q = uri ? evhttp_uri_get_query(uri) : nullptr) {
      evkeyvalq params{};
      if (evhttp_parse_query_str(q, &params) == 0) {
        for (evkeyval* kv = params.tqh_first; kv; kv = kv->next.tqe_next)
          r.query.emplace(kv->key, kv->value);
      }
      evhttp_clear_headers(&params);
    }
    for (evkeyval* h = evhttp_request_get_input_headers(req)->tqh_first; h; h = h->next.tqe_next) {
      std::string name = h->key;
      for (auto& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = h->value;
    }
    evbuffer* in = evhttp_request_get_input_buffer(req);
    r.body.resize(evbuffer_get_length(in));
    if (!r.body.empty())
      evbuffer_copyout(in, r.body.data(), r.body.size());
    evhttp_connection* connection = evhttp_request_get_connection(req);
    if (evhttp_connection* con = connection) {
      char* addr = nullptr;
      ev_uint16_t port = 0;
      evhttp_connection_get_peer(con, &addr, &port);
      r.peer = addr ? addr : "";
      r.peer_is_loopback = r.peer.rfind("127.", 0) == 0 || r.peer == "::1" || r.peer == "::ffff:127.0.0.1";
    }

    std::vector<std::string> other_methods;
    const pattern_route* route = match(r, other_methods);
    if (route && route->stream) {
      auto stream = std::make_shared<stream_impl>(loop, metrics, req, r, opts.timeout_seconds);
      if (connection)
        track(w, connection, stream);
      dispatch([route, r = std::move(r), stream = std::move(stream)] {
        try {
          route->stream(r, stream);
        } catch (const std::exception& e) {
          spdlog::error("http stream handler failed method={} path={} error={}", r.method, r.path, e.what());
          stream->respond(error_response(500, "INTERNAL_ERROR", "internal error"));
        }
      });
      return;
    }
    if (connection && !w.connections.contains(connection) &&
        open_connections.load(std::memory_order_relaxed) >= opts.max_connections) {
      // Past the bound: tell this client to come back later and let it go (evhttp closes the
      // connection after a reply that says Connection: close).
      spdlog::warn("http connection refused peer={} reason=max_connections limit={}", r.peer, opts.max_connections);
      auto resp = error_response(503, "SERVICE_UNAVAILABLE", "too many open connections");
      resp.headers.emplace_back("Retry-After", "1");
      resp.headers.emplace_back("Connection", "close");
      if (is_cross_origin(r.path))
        resp.headers.emplace_back("Access-Control-Allow-Origin", "*");
      metrics.observe("", r.method, 503, 0.0);
      send_response(req, resp);
      return;
    }
    if (connection)
      track(w, connection, nullptr);
    if (route && route->raw) {
      close_watch on_close = [&w, connection](std::function<void()> fn) {
        if (auto it = w.connections.find(connection); it != w.connections.end())
          it->second.on_close = std::move(fn);
      };
      try {
        route->raw(r, req, loop, std::move(on_close));
        metrics.observe(r.route, r.method, 200, 0.0); // taken over: its own status is the route's
      } catch (const std::exception& e) {
        spdlog::error("http raw handler failed method={} path={} error={}", r.method, r.path, e.what());
        metrics.observe(r.route, r.method, 500, 0.0);
        auto resp = error_response(500, "INTERNAL_ERROR", "internal error");
        if (is_cross_origin(r.path))
          resp.headers.emplace_back("Access-Control-Allow-Origin", "*");
        send_response(req, resp);
      }
      return;
    }

    // The responder may run on any thread; the reply goes out on the loop (at once when already
    // there). If the client went away meanwhile, evhttp keeps the request for us and frees it on reply.
    responder respond = [this, &loop, req, t0 = steady::now(), route_label = r.route, method = r.method](http_response resp) {
      auto send = [this, req, t0](const std::string& route_label, const std::string& method, http_response& resp) {
        metrics.observe(route_label, method, resp.status, seconds_since(t0));
        send_response(req, resp);
      };
      if (loop.in_loop_thread())
        return send(route_label, method, resp);
      loop.post([send, route_label, method, resp = std::move(resp)]() mutable { send(route_label, method, resp); });
    };

    dispatch([this, route, r = std::move(r), respond = std::move(respond),
              other_methods = std::move(other_methods)]() mutable {
      try {
        if (route)
          run(0, r, respond, route->handler);
        else if (!other_methods.empty())
          respond(other_method(r, std::move(other_methods)));
        else if (fallback)
          fallback(r, respond);
        else
          respond(error_response(404, "NOT_FOUND", "no route for " + r.method + " " + r.path));
      } catch (const std::exception& e) {
        spdlog::error("http handler failed method={} path={} error={}", r.method, r.path, e.what());
        respond(error_response(500, "INTERNAL_ERROR", "internal error"));
      }
    });
  }

  // Runs a handler where options::handler_threads says: on the pool, or here on the loop.
  void dispatch(std::function<void()> task) {
    if (handlers)
      handlers->post(std::move(task));
    else
      task();
  }
};

http_server::http_server(options opts) : impl_(std::make_unique<impl>()) { impl_->opts = std::move(opts); }

http_server::~http_server() { stop(); }

void http_server::route(std::string method, std::string path, http_handler h) {
  auto segments = impl::split(path);
  impl_->routes.push_back({std::move(method), std::move(segments), std::move(h), std::move(path), nullptr, nullptr});
}

void http_server::stream_route(std::string method, std::string path, stream_handler h) {
  auto segments = impl::split(path);
  impl_->routes.push_back({std::move(method), std::move(segments), nullptr, std::move(path), std::move(h), nullptr});
}

void http_server::raw_route(std::string method, std::string path, raw_handler h) {
  auto segments = impl::split(path);
  impl_->routes.push_back({std::move(method), std::move(segments), nullptr, std::move(path), nullptr, std::move(h)});
}

const http_metrics& http_server::metrics() const { return impl_->metrics; }

void http_server::cross_origin(std::string path) { impl_->cross_origin.push_back(impl::split(path)); }

void http_server::fallback(http_handler h) { impl_->fallback = std::move(h); }

void http_server::use(middleware m) { impl_->middlewares.push_back(std::move(m)); }

std::vector<std::pair<std::string, std::string>> http_server::routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : impl_->routes)
    out.emplace_back(r.method, r.pattern);
  return out;
}

namespace {

// A listening socket with SO_REUSEPORT, so each loop can have its own on the same port.
evconnlistener* listen_reuseport(event_base* base, const listen_address& at, std::uint16_t port) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (auto* v4 = reinterpret_cast<sockaddr_in*>(&ss); inet_pton(AF_INET, at.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof(sockaddr_in);
  } else if (auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss); inet_pton(AF_INET6, at.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
  } else {
    errno = EINVAL;
    return nullptr;
  }
  constexpr unsigned flags =
      LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC;
  return evconnlistener_new_bind(base, nullptr, nullptr, flags, -1, reinterpret_cast<sockaddr*>(&ss),
                                 static_cast<int>(len));
}

} // namespace

domain::result<std::uint16_t> http_server::start() {
  auto& i = *impl_;
  if (i.started)
    return make_error(error_code::internal, "http server already started");
  const auto cannot_listen = [&i](std::uint16_t port) {
    return make_error(error_code::internal, "cannot listen on " + i.opts.listen.host + ":" + std::to_string(port) +
                                                ": " + std::strerror(errno));
  };
  const std::size_t n = std::max<std::size_t>(1, i.opts.threads);
  std::uint16_t port = i.opts.listen.port;
  for (std::size_t k = 0; k < n; ++k) {
    auto w = std::make_unique<impl::worker>();
    w->server = &i;
    w->http = evhttp_new(w->loop.base());
    if (!w->http)
      return make_error(error_code::internal, "evhttp_new failed");
    i.workers.push_back(std::move(w));
    evhttp* http = i.workers.back()->http;
    evhttp_set_max_body_size(http, static_cast<ev_ssize_t>(i.opts.max_body_bytes));
    evhttp_set_max_headers_size(http, static_cast<ev_ssize_t>(i.opts.max_header_bytes));
    evhttp_set_timeout(http, i.opts.timeout_seconds);
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_PATCH |
                                         EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS);
    evhttp_set_gencb(http, &impl::on_request, i.workers.back().get());
    evhttp_bound_socket* bound = nullptr;
    if (n == 1) {
      bound = evhttp_bind_socket_with_handle(http, i.opts.listen.host.c_str(), port);
    } else if (evconnlistener* l = listen_reuseport(i.workers.back()->loop.base(), i.opts.listen, port)) {
      bound = evhttp_bind_listener(http, l);
      if (!bound)
        evconnlistener_free(l);
    }
    if (!bound)
      return cannot_listen(port);
    if (k == 0) { // port 0: the others bind the port the first one got
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      if (getsockname(evhttp_bound_socket_get_fd(bound), reinterpret_cast<sockaddr*>(&ss), &len) == 0)
        port = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                              : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    }
  }
  if (i.opts.handler_threads > 0)
    i.handlers = std::make_unique<work_pool>(i.opts.handler_threads, "onair-http");
  for (auto& w : i.workers)
    w->loop.start();
  i.started = true;
  return port;
}

void http_server::stop() {
  if (!impl_)
    return;
  for (auto& w : impl_->workers)
    w->loop.stop();
  for (auto& w : impl_->workers) {
    if (w->http)
      evhttp_free(w->http); // closes every connection, telling their streams
    w->http = nullptr;
    for (auto& [con, t] : std::exchange(w->connections, {}))
      if (t.stream)
        t.stream->closed();
  }
  // Handlers still running or queued finish; their answers go nowhere now (posts to stopped loops
  // are dropped), and the requests they name were freed with the evhttps, unread.
  if (impl_->handlers)
    impl_->handlers->stop();
  // The loops stay until the server goes: streams still held elsewhere refer to theirs.
}

} // namespace onair::api
