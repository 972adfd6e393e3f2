// Where the HTTP server runs its handlers: with handler threads, plain and stream routes, their
// middlewares and the fallback run off the event loop (they may read storage there); raw routes
// stay on the loop. A handler that waits holds up no other request.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <thread>

#include "api/http_server.hpp"
#include "eventually.hpp"
#include "harness.hpp"
#include "media/flv/http_flv.hpp"

using namespace onair;
using namespace onair::test_harness;
using onair::testing::eventually;

namespace {

// The threads each kind of handler ran on, as the handlers saw them.
struct seen_threads {
  std::mutex mu;
  std::thread::id raw, plain, middleware, stream, fallback;

  void note(std::thread::id& slot) {
    std::lock_guard lock{mu};
    slot = std::this_thread::get_id();
  }
  std::thread::id get(const std::thread::id& slot) {
    std::lock_guard lock{mu};
    return slot;
  }
};

// One loop; `handler_threads` as given. /raw answers 404 from the loop, /plain and /stream 200,
// anything else goes to the fallback (418); every one notes its thread.
struct where_server {
  seen_threads seen;
  api::http_server srv;
  std::uint16_t port = 0;

  explicit where_server(std::size_t handler_threads) : srv{options(handler_threads)} {
    srv.use([this](const api::http_request& req, api::responder respond, const api::http_handler& next) {
      seen.note(seen.middleware);
      next(req, std::move(respond));
    });
    srv.raw_route("GET", "/raw", [this](const api::http_request&, evhttp_request* raw, net::event_loop& loop,
                                        api::close_watch on_close) {
      seen.note(seen.raw);
      media::flv::serve_http_flv(loop, raw, nullptr, std::move(on_close)); // 404
    });
    srv.route("GET", "/plain", [this](const api::http_request&, api::responder respond) {
      seen.note(seen.plain);
      respond(api::json_response(200, "{}"));
    });
    srv.stream_route("GET", "/stream", [this](const api::http_request&, std::shared_ptr<api::http_stream> out) {
      seen.note(seen.stream);
      out->respond(api::json_response(200, "{}"));
    });
    srv.fallback([this](const api::http_request&, api::responder respond) {
      seen.note(seen.fallback);
      respond(api::json_response(418, "{}"));
    });
    auto p = srv.start();
    BOOST_REQUIRE_MESSAGE(p.ok(), (p.ok() ? "" : p.error().message));
    port = *p;
  }

  static api::http_server::options options(std::size_t handler_threads) {
    api::http_server::options o;
    o.handler_threads = handler_threads;
    return o;
  }

  int get(const std::string& path) { return http_call("127.0.0.1", port, "GET", path).status; }
};

} // namespace

BOOST_AUTO_TEST_SUITE(http_server_handlers)

BOOST_AUTO_TEST_CASE(with_handler_threads_the_routes_run_off_the_loop_and_raw_routes_on_it) {
  // Given a server with one handler thread
  where_server s{1};
  // When each kind of route is asked for
  BOOST_TEST(s.get("/raw") == 404);
  BOOST_TEST(s.get("/plain") == 200);
  BOOST_TEST(s.get("/stream") == 200);
  BOOST_TEST(s.get("/nothing-here") == 418);
  // Then the raw route ran on the loop, and the others all on the one handler thread, not the loop
  const auto loop = s.seen.get(s.seen.raw);
  const auto handler = s.seen.get(s.seen.plain);
  BOOST_TEST((loop != std::thread::id{} && handler != std::thread::id{}));
  BOOST_TEST((handler != loop));
  BOOST_TEST((s.seen.get(s.seen.middleware) == handler));
  BOOST_TEST((s.seen.get(s.seen.stream) == handler));
  BOOST_TEST((s.seen.get(s.seen.fallback) == handler));
}

BOOST_AUTO_TEST_CASE(without_handler_threads_the_routes_run_on_the_loop) {
  where_server s{0};
  BOOST_TEST(s.get("/raw") == 404);
  BOOST_TEST(s.get("/plain") == 200);
  BOOST_TEST(s.get("/stream") == 200);
  const auto loop = s.seen.get(s.seen.raw);
  BOOST_TEST((s.seen.get(s.seen.plain) == loop));
  BOOST_TEST((s.seen.get(s.seen.stream) == loop));
}

BOOST_AUTO_TEST_CASE(a_handler_that_waits_holds_up_no_other_request_on_its_loop) {
  // Given one loop, two handler threads, and a route whose handler waits until the test lets it go
  // (declared before the server, so they outlive its handler threads)
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> waiting{false};
  api::http_server::options o;
  o.handler_threads = 2;
  api::http_server srv{o};
  srv.route("GET", "/slow", [&](const api::http_request&, api::responder respond) {
    waiting = true;
    released.wait();
    respond(api::json_response(200, R"({"slow":true})"));
  });
  srv.route("GET", "/fast", [](const api::http_request&, api::responder respond) {
    respond(api::json_response(200, R"({"fast":true})"));
  });
  auto p = srv.start();
  BOOST_REQUIRE(p.ok());
  const int port = *p;
  std::once_flag let_go;
  const auto let_slow_go = [&] { std::call_once(let_go, [&] { release.set_value(); }); };
  struct on_exit {
    std::function<void()> fn;
    ~on_exit() { fn(); }
  } always_release{let_slow_go};

  // When one client's request is held in its handler
  auto slow = std::async(std::launch::async, [port] { return http_call("127.0.0.1", port, "GET", "/slow"); });
  BOOST_REQUIRE(eventually([&] { return waiting.load(); }));
  // Then another client is answered meanwhile (a handler on the loop would leave it unanswered
  // until /slow is let go: its 10 s read timeout ends the call first)
  const auto fast = http_call("127.0.0.1", port, "GET", "/fast");
  BOOST_TEST(fast.status == 200);
  BOOST_TEST(fast.body == R"({"fast":true})");
  BOOST_TEST(waiting.load());
  // And the held one is answered once let go
  let_slow_go();
  const auto held = slow.get();
  BOOST_TEST(held.status == 200);
  BOOST_TEST(held.body == R"({"slow":true})");
}

BOOST_AUTO_TEST_SUITE_END()
