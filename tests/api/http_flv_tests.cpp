// HTTP-FLV behind the HTTP server: what a viewer's connection leaves behind in the server's
// bookkeeping, the reply's framing, what a viewer may send while it plays, shutdown. The hub is
// fed by the test (no RTMP, no ffmpeg); the clients are raw sockets.
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "api/http_server.hpp"
#include "eventually.hpp"
#include "harness.hpp"
#include "media/fanout/hub.hpp"
#include "media/flv/http_flv.hpp"
#include "media/frame.hpp"

using namespace onair;
using namespace onair::test_harness;
using onair::testing::eventually;

namespace {

// A request for the stream whose lookup the test answers (flv_server::pending).
const std::string later_request{"GET /play/later.flv HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"};

// The FLV file header (audio and video) and PreviousTagSize0: the first bytes of every stream.
const std::string flv_start{"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00", 13};

// An http_server on 127.0.0.1, port 0, whose /play/live.flv plays hub "live" (with a key frame in
// it), to pages of any origin. /play/later.flv is answered when the test says: its lookup is held
// in `pending`. /play/broken.flv throws.
struct flv_server {
  media::fanout::registry hubs;
  std::shared_ptr<media::fanout::hub> hub = hubs.find_or_create("live");
  api::http_server srv;
  std::uint16_t port = 0;
  std::mutex mu;
  std::function<void(std::shared_ptr<media::fanout::hub>)> pending;

  std::function<void(std::shared_ptr<media::fanout::hub>)> take_pending() {
    std::function<void(std::shared_ptr<media::fanout::hub>)> out;
    BOOST_REQUIRE(eventually([&] {
      std::lock_guard lock{mu};
      return static_cast<bool>(pending);
    }));
    std::lock_guard lock{mu};
    std::swap(out, pending);
    return out;
  }

  explicit flv_server(api::http_server::options o = {}) : srv{std::move(o)} {
    hub->begin_publish();
    const std::vector<std::uint8_t> key(100, 0x17);
    hub->publish(media::make_frame(media::frame_kind::video, 0, key, true));
    srv.raw_route("GET", "/play/{file}",
                  [this](const api::http_request& req, evhttp_request* raw, net::event_loop& loop,
                         api::close_watch on_close) {
                    if (req.params.at("file") == "broken.flv")
                      throw std::runtime_error("lookup failed");
                    if (req.params.at("file") == "later.flv") {
                      std::lock_guard lock{mu};
                      pending = media::flv::serve_http_flv_later(loop, raw, std::move(on_close));
                      return;
                    }
                    auto h = req.params.at("file") == "live.flv" ? hubs.find("live") : nullptr;
                    media::flv::serve_http_flv(loop, raw, std::move(h), std::move(on_close));
                  });
    srv.cross_origin("/play/{file}");
    srv.route("GET", "/healthz", [](const api::http_request&, api::responder respond) {
      respond(api::json_response(200, R"({"status":"UP"})"));
    });
    auto p = srv.start();
    BOOST_REQUIRE_MESSAGE(p.ok(), (p.ok() ? "" : p.error().message));
    port = *p;
  }
};

// A raw client connection (10 s timeouts), closed when it goes.
class client {
public:
  explicit client(std::uint16_t port) : fd_{connect_tcp("127.0.0.1", port)} {}
  ~client() { ::close(fd_); }
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  void send_all(const std::string& bytes) {
    BOOST_REQUIRE(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
  }
  // Reads until `text` has come (or the peer closed, or 10 s passed); true if it did.
  bool read_until(const std::string& text) {
    while (got_.find(text) == std::string::npos)
      if (read_some() <= 0)
        return false;
    return true;
  }
  // Reads until the body holds at least n bytes (or the peer closed, or 10 s passed); true if it did.
  bool read_body(std::size_t n) {
    while (body().size() < n)
      if (read_some() <= 0)
        return false;
    return true;
  }
  // True once the server closed the connection (end of stream or reset), reading what comes first.
  bool closed_by_server() {
    for (;;) {
      const auto n = read_some();
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
        return true;
      if (n < 0)
        return false; // the receive timeout passed with the connection still open
    }
  }
  [[nodiscard]] std::string head() const { return got_.substr(0, got_.find("\r\n\r\n")); }
  [[nodiscard]] std::string body() const {
    const auto end = got_.find("\r\n\r\n");
    return end == std::string::npos ? std::string{} : got_.substr(end + 4);
  }
  [[nodiscard]] int fd() const { return fd_; }

private:
  ssize_t read_some() {
    char buf[16384];
    const auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0)
      got_.append(buf, static_cast<std::size_t>(n));
    return n;
  }

  int fd_;
  std::string got_;
};

} // namespace

BOOST_AUTO_TEST_SUITE(http_flv)

BOOST_AUTO_TEST_CASE(viewers_that_leave_give_their_connections_back) {
  // Given a server that keeps two connections at most
  api::http_server::options o;
  o.max_connections = 2;
  flv_server s{o};
  // When three viewers play for a moment one after another
  for (int i = 0; i < 3; ++i) {
    {
      client c{s.port};
      c.send_all("GET /play/live.flv HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      BOOST_TEST_REQUIRE(c.read_until(flv_start), "viewer " << i << ": " << c.head());
    }
    // Then each one's connection leaves the count once it is gone
    BOOST_TEST_REQUIRE(eventually([&] { return s.srv.metrics().open_connections() == 0; }),
                       "viewer " << i << " still counted: " << s.srv.metrics().open_connections());
  }
  BOOST_TEST(eventually([&] { return s.hub->viewer_count() == 0; }));
  // And the server still answers
  BOOST_TEST(http_call("127.0.0.1", s.port, "GET", "/healthz").status == 200);
  BOOST_TEST(eventually([&] { return s.srv.metrics().open_connections() == 0; }));
}

BOOST_AUTO_TEST_CASE(a_viewer_whose_stream_is_found_later_plays_from_then) {
  // Given a viewer whose lookup is still running off the loop
  flv_server s;
  client viewer{s.port};
  viewer.send_all(later_request);
  auto answer = s.take_pending();
  // When it finds the hub, from another thread
  std::thread{[&] { answer(s.hub); }}.join();
  // Then the viewer plays it, and ends with it
  BOOST_TEST_REQUIRE(viewer.read_until(flv_start), viewer.head());
  BOOST_TEST(viewer.head().find("200 OK") != std::string::npos);
  s.hubs.erase("live");
  BOOST_TEST(viewer.closed_by_server());
  BOOST_TEST(eventually([&] { return s.srv.metrics().open_connections() == 0; }));
}

BOOST_AUTO_TEST_CASE(a_viewer_that_leaves_before_its_stream_is_found_is_let_go) {
  // Given a viewer that leaves while its lookup is still running (evhttp reads nothing more from
  // a connection whose request awaits its reply, so nobody notices yet)
  flv_server s;
  {
    client gone{s.port};
    gone.send_all(later_request);
  }
  auto late = s.take_pending();
  // When its lookup finds the hub
  late(s.hub);
  // Then the first write finds the client gone: its viewer and connection are freed (the
  // sanitizer build checks the request is too)
  BOOST_TEST(eventually([&] { return s.srv.metrics().open_connections() == 0; }),
             "still open: " << s.srv.metrics().open_connections());
  BOOST_TEST(eventually([&] { return s.hub->viewer_count() == 0; }));
  // And a viewer whose lookup finds nothing is told so
  client stays{s.port};
  stays.send_all(later_request);
  s.take_pending()(nullptr);
  BOOST_TEST_REQUIRE(stays.read_until("no such stream"), stays.head());
  BOOST_TEST(stays.head().find("404") != std::string::npos);
  BOOST_TEST(http_call("127.0.0.1", s.port, "GET", "/healthz").status == 200);
}

BOOST_AUTO_TEST_CASE(a_gop_cache_larger_than_one_read_arrives_without_waiting_for_a_frame) {
  // Given a 3 MB GOP in the cache (reads of 1 MiB) and no publisher sending any more
  flv_server s;
  std::size_t gop = 0;
  for (int i = 1; i <= 5; ++i) {
    const std::vector<std::uint8_t> inter(600 * 1000, 0x27);
    s.hub->publish(media::make_frame(media::frame_kind::video, static_cast<std::uint32_t>(i * 33), inter));
    gop += inter.size();
  }
  // When a viewer starts, then it gets all of it
  client viewer{s.port};
  viewer.send_all("GET /play/live.flv HTTP/1.0\r\n\r\n");
  BOOST_TEST(viewer.read_body(gop), "got " << viewer.body().size() << " bytes of a " << gop << "-byte GOP");
}

BOOST_AUTO_TEST_CASE(http_1_0_gets_a_stream_ended_by_the_close_even_with_keep_alive_and_http_1_1_gets_chunks) {
  // Given an HTTP/1.0 viewer that asks for keep-alive, and an HTTP/1.1 one
  flv_server s;
  client old{s.port}, chunked{s.port};
  old.send_all("GET /play/live.flv HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  chunked.send_all("GET /play/live.flv HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  BOOST_TEST_REQUIRE(old.read_until(flv_start), old.head());
  BOOST_TEST_REQUIRE(chunked.read_until(flv_start), chunked.head());
  // Then HTTP/1.0 reads the bare stream: no length to end it (not even 0), no promise to keep the
  // connection, the FLV header first
  const auto head = old.head();
  BOOST_TEST(head.rfind("HTTP/1.0 200", 0) == 0u, head);
  BOOST_TEST(header_of(head, "content-length").empty(), head);
  BOOST_TEST(header_of(head, "transfer-encoding").empty(), head);
  BOOST_TEST(header_of(head, "connection") == "close", head);
  BOOST_TEST(!contains(head, "keep-alive"), head);
  BOOST_TEST(old.body().rfind(flv_start, 0) == 0u);
  // and HTTP/1.1 reads it in chunks
  BOOST_TEST(chunked.head().rfind("HTTP/1.1 200", 0) == 0u, chunked.head());
  BOOST_TEST(header_of(chunked.head(), "transfer-encoding") == "chunked", chunked.head());
  BOOST_TEST(chunked.body().rfind("d\r\n" + flv_start + "\r\n", 0) == 0u);
  // When the broadcast ends, the server closes both: the close is the end of the HTTP/1.0 body,
  // the last chunk the end of the HTTP/1.1 one
  s.hubs.erase("live");
  BOOST_TEST(old.closed_by_server());
  BOOST_TEST(chunked.closed_by_server());
  BOOST_TEST(chunked.body().ends_with("\r\n0\r\n\r\n"));
}

BOOST_AUTO_TEST_CASE(a_viewer_that_keeps_sending_after_its_request_is_closed_not_buffered) {
  // Given a viewer playing
  flv_server s;
  client c{s.port};
  c.send_all("GET /play/live.flv HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  BOOST_TEST_REQUIRE(c.read_until(flv_start), c.head());
  // When it sends far more than a request after it (evhttp would read all of it into memory)
  const std::string junk(64 * 1024, 'x');
  std::size_t sent = 0;
  while (sent < (32u << 20)) {
    const auto n = ::send(c.fd(), junk.data(), junk.size(), MSG_NOSIGNAL);
    if (n <= 0)
      break; // reset by the server
    sent += static_cast<std::size_t>(n);
  }
  // Then the server closes its connection, and the viewer and the connection are gone
  BOOST_TEST(c.closed_by_server(), "after " << sent << " bytes sent");
  BOOST_TEST(eventually([&] { return s.hub->viewer_count() == 0; }));
  BOOST_TEST(eventually([&] { return s.srv.metrics().open_connections() == 0; }));
}

BOOST_AUTO_TEST_CASE(a_viewer_still_playing_when_the_server_stops_is_freed) {
  std::weak_ptr<media::fanout::hub> hub;
  {
    // Given a viewer playing
    flv_server s;
    hub = s.hub;
    client c{s.port};
    c.send_all("GET /play/live.flv HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    BOOST_TEST_REQUIRE(c.read_until(flv_start), c.head());
    BOOST_REQUIRE(eventually([&] { return s.hub->viewer_count() == 1; }));
    // When the server stops under it
    s.srv.stop();
    BOOST_TEST(s.hub->viewer_count() == 0u);
  }
  // Then the viewer is gone with it, and so is its hold on the hub
  BOOST_TEST(hub.expired());
}

BOOST_AUTO_TEST_CASE(a_playback_route_that_fails_answers_500_that_pages_of_any_origin_can_read) {
  // Given a playback route whose handler throws
  flv_server s;
  // When a page asks for it
  const auto r = http_call("127.0.0.1", s.port, "GET", "/play/broken.flv", {{"Origin", "https://player.example"}});
  // Then it reads a 500 with the API's error body, and the server goes on
  BOOST_TEST(r.status == 500);
  BOOST_TEST(header_of(r, "access-control-allow-origin") == "*", r.head);
  BOOST_TEST(r.body.find("INTERNAL_ERROR") != std::string::npos, r.body);
  BOOST_TEST(http_call("127.0.0.1", s.port, "GET", "/healthz").status == 200);
}

BOOST_AUTO_TEST_CASE(pages_of_any_origin_can_read_playback_errors_and_get_their_preflight_answered) {
  // Given the onair server
  temp_dir dir;
  server_process srv{dir.path() / "data"};
  srv.wait_ready();
  const auto& at = srv.http();
  const std::vector<std::pair<std::string, std::string>> page{{"Origin", "https://player.example"}};
  // Then a page may read that a playback id is unknown
  const auto missing = http_call(at.host, at.port, "GET", "/play/nope.flv", page);
  BOOST_TEST(missing.status == 404);
  BOOST_TEST(header_of(missing, "access-control-allow-origin") == "*", missing.head);
  // and that another method is not allowed there
  const auto post = http_call(at.host, at.port, "POST", "/play/nope.flv", page);
  BOOST_TEST(post.status == 405);
  BOOST_TEST(header_of(post, "access-control-allow-origin") == "*", post.head);
  BOOST_TEST(header_of(post, "allow") == "GET, OPTIONS", post.head);
  // and its preflight for a GET with a header of its own is answered
  auto preflight_headers = page;
  preflight_headers.emplace_back("Access-Control-Request-Method", "GET");
  preflight_headers.emplace_back("Access-Control-Request-Headers", "range");
  const auto preflight = http_call(at.host, at.port, "OPTIONS", "/play/nope.flv", preflight_headers);
  BOOST_TEST(preflight.status == 204);
  BOOST_TEST(header_of(preflight, "access-control-allow-origin") == "*", preflight.head);
  BOOST_TEST(header_of(preflight, "access-control-allow-methods") == "GET, OPTIONS", preflight.head);
  BOOST_TEST(header_of(preflight, "access-control-allow-headers") == "range", preflight.head);
  // And the rest of the API stays same-origin: its 405 names the methods, and no origin
  const auto rest = http_call(at.host, at.port, "DELETE", "/healthz", page);
  BOOST_TEST(rest.status == 405);
  BOOST_TEST(header_of(rest, "allow") == "GET", rest.head);
  BOOST_TEST(header_of(rest, "access-control-allow-origin").empty(), rest.head);
}

BOOST_AUTO_TEST_SUITE_END()
