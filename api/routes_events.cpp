// The audit trail of api.md ("Events (beyond)"): the app's events as CloudEvents, paged
// (GET /v2/apps/me/events) and live (GET /v2/apps/me/events/stream, Server-Sent Events), both
// filtered by the query of api/event_filter.hpp; the operator's page of every app's events
// (GET /v2/admin/events, for `onair audit export`); and the Prometheus /metrics of the process.
//
// The handlers run on the HTTP server's handler threads (they scan the log and ask for the actor
// count, a blocking request); the SSE streams poll from a loop timer, and each tick's bounded read
// of the log runs on the events thread.
#include <event2/event.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <limits>
#include <memory>

#include "api/event_filter.hpp"
#include "api/rest.hpp"
#include "api/routes.hpp"
#include "api/work_pool.hpp"

namespace onair::api {

using domain::error_code;
using domain::make_error;

namespace {

constexpr std::size_t default_limit = 100;
constexpr std::size_t max_limit = 1000;
constexpr std::size_t scan_chunk = 512;
// Records one page request looks at, at most: a filter that matches little answers with the
// position it reached instead of reading the whole log.
constexpr std::size_t max_scanned_per_page = 16 * scan_chunk;
constexpr int max_streams = 256;
constexpr auto poll_interval = std::chrono::milliseconds{200};
constexpr auto keep_alive_interval = std::chrono::seconds{15};
constexpr std::size_t max_events_per_tick = 2048;
constexpr std::size_t max_buffered_bytes = 1 << 20; // a slow reader is not fed more until it drains

struct events_api {
  rest_context& ctx;
  http_server& http;
  std::atomic<int> streams{0};
  // The SSE streams' reads of the log, one thread: last, so it is joined before the rest goes.
  work_pool work{1, "onair-events"};

  events_api(rest_context& c, http_server& h) : ctx(c), http(h) {}
};

domain::result<std::uint64_t> parse_position(const std::string& text, const std::string& field) {
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || p != text.data() + text.size())
    return make_error(error_code::invalid_parameter, field + " must be an event position (a non-negative integer)",
                      field);
  return v;
}

domain::result<std::uint64_t> after_of(const http_request& req) {
  auto it = req.query.find("after");
  return it == req.query.end() ? domain::result<std::uint64_t>{std::uint64_t{0}} : parse_position(it->second, "after");
}

// type, aggregate, principal, from, to: the same query on the page, the stream and the admin page.
domain::result<event_filter> filter_of(const http_request& req) {
  event_filter_params p;
  const auto take = [&req](const char* name, std::optional<std::string>& out) {
    if (auto it = req.query.find(name); it != req.query.end())
      out = it->second;
  };
  take("type", p.type);
  take("aggregate", p.aggregate);
  take("principal", p.principal);
  take("from", p.from);
  take("to", p.to);
  return parse_event_filter(p);
}

domain::result<std::size_t> limit_of(const http_request& req) {
  auto it = req.query.find("limit");
  if (it == req.query.end())
    return default_limit;
  std::size_t v = 0;
  const auto& s = it->second;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || p != s.data() + s.size() || v < 1 || v > max_limit)
    return make_error(error_code::invalid_parameter, "limit must be an integer from 1 to " + std::to_string(max_limit),
                      "limit");
  return v;
}

// What a page of the feed asks for (the app's feed and the operator's): after, limit and the filter.
struct page_query {
  std::uint64_t after = 0;
  std::size_t limit = default_limit;
  event_filter filter;
};

domain::result<page_query> page_query_of(const http_request& req) {
  auto after = after_of(req);
  if (!after)
    return after.error();
  auto limit = limit_of(req);
  if (!limit)
    return limit.error();
  auto filter = filter_of(req);
  if (!filter)
    return filter.error();
  return page_query{*after, *limit, std::move(*filter)};
}

// One SSE client. Its timer, its sends and its close run on the connection's loop; the log is read
// on the events thread, one read at a time per client (reading_), so a loop never waits for
// RocksDB. The client was counted in api.streams before it was made; finish() uncounts it.
class sse_session : public std::enable_shared_from_this<sse_session> {
public:
  sse_session(events_api& api, domain::app_id app, event_filter filter, std::uint64_t after,
              std::shared_ptr<http_stream> out)
      : api_(api), app_(app), filter_(std::move(filter)), after_(after), loop_(out->loop()), out_(std::move(out)),
        last_id_sent_(after) {}
  ~sse_session() { stop_timer(); }
  sse_session(const sse_session&) = delete;
  sse_session& operator=(const sse_session&) = delete;

  // Loop: the poll timer, and a first read at once (what is already there, without waiting a tick).
  void begin() {
    timer_ = event_new(loop_.base(), -1, EV_PERSIST, &sse_session::on_timer, this);
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(poll_interval).count();
    const timeval tv{static_cast<time_t>(us / 1'000'000), static_cast<suseconds_t>(us % 1'000'000)};
    event_add(timer_, &tv);
    // The first bytes at once, even when nothing happens: a proxy (nginx over HTTP/2) holds the
    // answer's headers until its body begins. EventSource reconnects after 3 s.
    out_->send("retry: 3000\n\n");
    tick();
  }

  // Loop: the client went (or the server stops).
  void finish() {
    stop_timer();
    if (std::exchange(counted_, false))
      --api_.streams;
    out_.reset();
  }

  // Loop: asks for what is new, unless a read is out or the client has not taken the last ones.
  void tick() {
    if (!out_ || reading_ || out_->buffered() > max_buffered_bytes)
      return;
    reading_ = true;
    api_.work.post([self = shared_from_this()] { self->read(); });
  }

private:
  static void on_timer(evutil_socket_t, short, void* self) { static_cast<sse_session*>(self)->tick(); }

  // Events thread: at most max_events_per_tick events after after_, as one chunk for the loop.
  void read() {
    auto& store = api_.ctx.rt.store();
    std::string chunk;
    std::size_t budget = max_events_per_tick;
    while (budget > 0 && store.last_position() > after_) {
      auto batch = store.read_all(after_, std::min(budget, scan_chunk));
      if (!batch) {
        spdlog::warn("event stream read failed app_id={} after={} error={}", app_, after_, batch.error().message);
        break;
      }
      if (batch->empty())
        break;
      budget -= std::min(budget, batch->size());
      for (const auto& rec : *batch) {
        after_ = rec.position;
        if (auto ev = filtered_cloud_event(filter_, rec, app_, &store.personal_keys())) {
          chunk += "id: " + std::to_string(rec.position) + "\nevent: " + (*ev)["type"].get<std::string>() +
                   "\ndata: " + ev->dump() + "\n\n";
        }
      }
    }
    loop_.post([self = shared_from_this(), chunk = std::move(chunk), reached = after_]() mutable {
      self->deliver(std::move(chunk), reached);
    });
  }

  // Loop: sends what read() found, or a keep-alive when the stream has been quiet a while. The
  // keep-alive carries the position read up to as a bare `id:` (no data: EventSource dispatches
  // nothing but keeps it as its Last-Event-ID), so a filtered stream that reconnects resumes there
  // rather than rescanning what matched nothing.
  void deliver(std::string chunk, std::uint64_t reached) {
    reading_ = false;
    if (!out_)
      return;
    const auto now = std::chrono::steady_clock::now();
    if (!chunk.empty()) {
      out_->send(std::move(chunk));
      last_sent_ = now;
      last_id_sent_ = reached;
    } else if (now - last_sent_ >= keep_alive_interval) {
      out_->send(reached > last_id_sent_ ? "id: " + std::to_string(reached) + "\n: keep-alive\n\n"
                                         : std::string{": keep-alive\n\n"});
      last_sent_ = now;
      last_id_sent_ = reached;
    }
  }

  void stop_timer() {
    if (timer_ != nullptr) {
      event_del(timer_);
      event_free(timer_);
      timer_ = nullptr;
    }
  }

  events_api& api_;
  domain::app_id app_;
  const event_filter filter_;
  std::uint64_t after_; // read() only
  net::event_loop& loop_;
  // The rest on the loop only.
  std::shared_ptr<http_stream> out_;
  event* timer_ = nullptr;
  bool counted_ = true;
  bool reading_ = false;
  std::uint64_t last_id_sent_; // the client's Last-Event-ID as far as this stream told it
  std::chrono::steady_clock::time_point last_sent_ = std::chrono::steady_clock::now();
};

json event_page_json(event_page&& page) {
  json events = json::array();
  for (auto& e : page.events)
    events.push_back(std::move(e));
  return json{{"events", std::move(events)}, {"next", page.next}, {"more", page.more}};
}

// The page of the app's events after `after` that the filter takes: {"events": [...], "next": the
// position reached, "more": whether it stopped short of the end of the log}.
void list_events(events_api& api, domain::app_id app, const event_filter& filter, std::uint64_t after,
                 std::size_t limit, const responder& respond) {
  auto page = scan_events(api.ctx.rt.store(), after, filter, app, limit, max_scanned_per_page);
  if (!page) {
    spdlog::error("events read failed app_id={} after={} error={}", app, after, page.error().message);
    return respond(error_of(page.error()));
  }
  respond(json_response(200, event_page_json(std::move(*page)).dump()));
}

std::string process_metrics(events_api& api) {
  const auto alive = api.ctx.rt.actors_alive();
  std::string out = api.http.metrics().prometheus_text();
  out += "# HELP onair_events_appended_total Events committed to the log.\n";
  out += "# TYPE onair_events_appended_total counter\n";
  out += "onair_events_appended_total " + std::to_string(api.ctx.rt.store().last_position()) + "\n";
  out += "# HELP onair_store_wal_syncs_total Syncs of the event store's write-ahead log to disk.\n";
  out += "# TYPE onair_store_wal_syncs_total counter\n";
  out += "onair_store_wal_syncs_total " + std::to_string(api.ctx.rt.store().wal_syncs()) + "\n";
  out += "# HELP onair_actors_alive Aggregate actors alive now.\n";
  out += "# TYPE onair_actors_alive gauge\n";
  out += "onair_actors_alive " + std::to_string(alive) + "\n";
  out += "# HELP onair_event_streams_open Server-Sent Events streams open now.\n";
  out += "# TYPE onair_event_streams_open gauge\n";
  out += "onair_event_streams_open " + std::to_string(api.streams.load()) + "\n";
  if (api.ctx.extra_metrics)
    out += api.ctx.extra_metrics();
  return out;
}

} // namespace

void install_event_routes(http_server& http, rest_context& ctx) {
  auto api = std::make_shared<events_api>(ctx, http);

  http.route("GET", "/v2/apps/me/events", [api](const http_request& req, responder respond) {
    auto app = authenticate_app(req, api->ctx.rt.views(), *api->ctx.auth_failures, respond,
                                api->ctx.checked_credentials.get());
    if (!app)
      return;
    auto q = page_query_of(req);
    if (!q)
      return respond(error_of(q.error()));
    list_events(*api, app->id, q->filter, q->after, q->limit, respond);
  });

  http.stream_route("GET", "/v2/apps/me/events/stream", [api](const http_request& req, std::shared_ptr<http_stream> out) {
    auto app = authenticate_app(req, api->ctx.rt.views(), *api->ctx.auth_failures,
                                [out](http_response r) { out->respond(std::move(r)); }, api->ctx.checked_credentials.get());
    if (!app)
      return;
    const auto last_event_id = req.header("last-event-id");
    auto after = last_event_id.empty() ? after_of(req) : parse_position(last_event_id, "Last-Event-ID");
    if (!after)
      return out->respond(error_of(after.error()));
    auto filter = filter_of(req);
    if (!filter)
      return out->respond(error_of(filter.error()));
    if (api->streams.fetch_add(1) >= max_streams) {
      --api->streams;
      return out->respond(error_response(503, "TOO_MANY_STREAMS",
                                         "too many event streams are open; retry later"));
    }
    auto session = std::make_shared<sse_session>(*api, app->id, std::move(*filter), *after, out);
    // Posted in this order, so they run on the loop in it: a client gone already is finished after begin.
    out->start(200, {{"Content-Type", "text/event-stream"}, {"Cache-Control", "no-cache"}, {"X-Accel-Buffering", "no"}});
    out->loop().post([session] { session->begin(); });
    out->on_close([session] { session->finish(); });
  });

  http.route("GET", "/metrics", [api](const http_request&, responder respond) {
    http_response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = process_metrics(*api);
    respond(std::move(r));
  });
}

http_handler admin_events_handler(actors::runtime& rt) {
  return [&rt](const http_request& req, responder respond) {
    auto q = page_query_of(req);
    if (!q)
      return respond(error_of(q.error()));
    std::optional<domain::app_id> app;
    if (auto it = req.query.find("app"); it != req.query.end()) {
      auto id = parse_position(it->second, "app");
      if (!id || *id == 0 || *id > static_cast<std::uint64_t>(std::numeric_limits<domain::app_id>::max()))
        return respond(error_of(make_error(error_code::invalid_parameter, "app must be an app id", "app")));
      app = static_cast<domain::app_id>(*id);
    }
    auto page = scan_events(rt.store(), q->after, q->filter, app, q->limit, max_scanned_per_page);
    if (!page)
      return respond(error_of(page.error()));
    auto body = event_page_json(std::move(*page));
    body["lastPosition"] = rt.store().last_position();
    respond(json_response(200, body.dump()));
  };
}

} // namespace onair::api
