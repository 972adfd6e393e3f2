// Where the HTTP server runs its handlers: with handler threads, plain and stream routes, their
// middlewares and the fallback run off the event loop (they may read storage there); raw routes
// stay on the loop. A handler that waits holds up no other request.
// What the HTTP layer refuses (a body or head too large, a target too long, a malformed request, a
// method not implemented) is answered with the API's JSON error, and the connection lingers so
// that a client still sending reads it; the lingering ends within its time and byte bounds.
// Raw sockets on 127.0.0.1.
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

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

namespace {

// A client on a raw socket: sends what a test says, in pieces, and reads what comes back. Blocking,
// with 10 s timeouts: a server that neither reads nor closes fails the send that waits on it.
class raw_client {
public:
  // A small send buffer: what the server does not read cannot hide in this side's buffer.
  explicit raw_client(std::uint16_t port) : fd_{connect_tcp("127.0.0.1", port, 16 << 10)} {}
  ~raw_client() { ::close(fd_); }
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  // Sends all of bytes; 0, or the errno that stopped it (EPIPE, ECONNRESET, EAGAIN: timed out).
  int send(const std::string& bytes) {
    for (std::size_t done = 0; done < bytes.size();) {
      const auto n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return errno;
      done += static_cast<std::size_t>(n);
      sent_ += static_cast<std::size_t>(n);
    }
    return 0;
  }
  // The same, piece by piece.
  int send_in_pieces(const std::string& bytes, std::size_t piece) {
    for (std::size_t at = 0; at < bytes.size(); at += piece)
      if (const int err = send(bytes.substr(at, piece)); err != 0)
        return err;
    return 0;
  }
  // Reads until the server closes: 0 when it ended cleanly, else the errno (ECONNRESET, EAGAIN).
  int read_to_end() {
    char buf[16384];
    for (;;) {
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n == 0)
        return 0;
      if (n < 0)
        return errno;
      got_.append(buf, static_cast<std::size_t>(n));
    }
  }
  // Reads until text has come; false if the server closed or 10 s passed first.
  bool read_until(const std::string& text) {
    char buf[16384];
    while (got_.find(text) == std::string::npos) {
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0)
        return false;
      got_.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }
  [[nodiscard]] const std::string& got() const { return got_; }
  [[nodiscard]] std::size_t sent() const { return sent_; }

private:
  int fd_;
  std::string got_;
  std::size_t sent_ = 0;
};

// One HTTP answer as it came on the wire.
struct answer {
  int status = 0;
  std::map<std::string, std::string> headers; // lower-case names
  std::string body;
  bool whole = false; // the head ended and the body has Content-Length bytes
};

// The answers in bytes, in order (interim 100 Continue ones included).
std::vector<answer> answers_in(std::string bytes) {
  std::vector<answer> out;
  while (!bytes.empty()) {
    answer a;
    const auto head_end = bytes.find("\r\n\r\n");
    if (bytes.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos) {
      out.push_back(a);
      break;
    }
    a.status = std::atoi(bytes.c_str() + 9);
    std::size_t at = bytes.find("\r\n") + 2;
    while (at < head_end) {
      const auto eol = bytes.find("\r\n", at);
      const auto line = bytes.substr(at, eol - at);
      const auto colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (auto& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      a.headers[name] = colon == std::string::npos ? "" : line.substr(line.find_first_not_of(' ', colon + 1));
      at = eol + 2;
    }
    bytes.erase(0, head_end + 4);
    std::size_t length = 0;
    if (auto it = a.headers.find("content-length"); it != a.headers.end())
      length = std::stoul(it->second);
    a.whole = bytes.size() >= length;
    a.body = bytes.substr(0, length);
    bytes.erase(0, std::min(length, bytes.size()));
    out.push_back(std::move(a));
  }
  return out;
}

// The last answer in bytes, past any 100 Continue.
answer final_answer(const std::string& bytes) {
  const auto all = answers_in(bytes);
  return all.empty() ? answer{} : all.back();
}

// Whether a is the API's error: JSON with errorCode `code` and the status it came with, ending the connection.
void check_json_error(const answer& a, int status, const std::string& code) {
  BOOST_TEST(a.status == status);
  BOOST_TEST(a.whole);
  const auto header = [&a](const std::string& name) {
    const auto it = a.headers.find(name);
    return it == a.headers.end() ? std::string{} : it->second;
  };
  BOOST_TEST(header("content-type") == "application/json");
  BOOST_TEST(header("connection") == "close");
  const auto j = nlohmann::json::parse(a.body, nullptr, false);
  BOOST_TEST_REQUIRE(j.is_object(), "not JSON: " << a.body);
  BOOST_TEST(j.value("errorCode", "") == code);
  BOOST_TEST(j.value("status", 0) == status);
  BOOST_TEST(!j.value("errorMessage", "").empty());
  BOOST_TEST(j.value("title", "") == code);
  BOOST_TEST(j.contains("detail"));
}

// A server whose POST /echo answers the body's length, and GET /plain "{}".
struct refusing_server {
  api::http_server srv;
  std::uint16_t port = 0;

  explicit refusing_server(api::http_server::options o = {}) : srv{std::move(o)} {
    srv.route("POST", "/echo", [](const api::http_request& req, api::responder respond) {
      respond(api::json_response(200, R"({"bytes":)" + std::to_string(req.body.size()) + "}"));
    });
    srv.route("GET", "/plain", [](const api::http_request&, api::responder respond) {
      respond(api::json_response(200, "{}"));
    });
    auto p = srv.start();
    BOOST_REQUIRE_MESSAGE(p.ok(), (p.ok() ? "" : p.error().message));
    port = *p;
  }
};

std::string chunked_body(std::size_t total, std::size_t chunk) {
  std::string out;
  char size[32];
  for (std::size_t done = 0; done < total; done += chunk) {
    const auto n = std::min(chunk, total - done);
    std::snprintf(size, sizeof size, "%zx\r\n", n);
    out += size;
    out.append(n, 'x');
    out += "\r\n";
  }
  return out + "0\r\n\r\n";
}

} // namespace

BOOST_AUTO_TEST_SUITE(http_server_refusals)

BOOST_AUTO_TEST_CASE(a_body_twice_over_the_limit_gets_413_in_json_and_the_client_sends_it_all_then_reads_it) {
  // Given the default limit (1 MiB), and a client that says it sends twice that
  refusing_server s;
  raw_client c{s.port};
  const std::size_t size = 2 << 20;
  BOOST_TEST_REQUIRE(c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                            std::to_string(size) + "\r\n\r\n") == 0);
  // When it sends the body in pieces, as clients do, before reading anything
  const int sending = c.send_in_pieces(std::string(size, 'x'), 64 << 10);
  // Then all of it went (the server kept reading: no EPIPE or reset) and the whole 413 is read after
  BOOST_TEST(sending == 0, "sending stopped after " << c.sent() << " bytes: " << std::strerror(sending));
  BOOST_TEST(c.read_to_end() == 0, "read: " << c.got());
  check_json_error(final_answer(c.got()), 413, "CONTENT_TOO_LARGE");
  BOOST_TEST(answers_in(c.got()).size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_chunked_body_twice_over_the_limit_gets_413_in_json_and_is_read_whole) {
  refusing_server s;
  raw_client c{s.port};
  BOOST_TEST_REQUIRE(c.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n") == 0);
  const int sending = c.send_in_pieces(chunked_body(2 << 20, 16 << 10), 48 << 10);
  BOOST_TEST(sending == 0, "sending stopped after " << c.sent() << " bytes: " << std::strerror(sending));
  BOOST_TEST(c.read_to_end() == 0, "read: " << c.got());
  check_json_error(final_answer(c.got()), 413, "CONTENT_TOO_LARGE");
}

BOOST_AUTO_TEST_CASE(a_chunked_body_over_the_limit_after_100_continue_still_gets_the_json_413) {
  // evhttp answers the Expect itself, then reads on with its own callbacks: the limit is still ours
  refusing_server s;
  raw_client c{s.port};
  BOOST_TEST_REQUIRE(c.send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n") == 0);
  BOOST_TEST_REQUIRE(c.read_until("\r\n\r\n"), c.got());
  BOOST_TEST(c.got().rfind("HTTP/1.1 100 Continue\r\n", 0) == 0, c.got());
  const int sending = c.send_in_pieces(chunked_body(2 << 20, 16 << 10), 48 << 10);
  BOOST_TEST(sending == 0, "sending stopped after " << c.sent() << " bytes: " << std::strerror(sending));
  BOOST_TEST(c.read_to_end() == 0, "read: " << c.got());
  check_json_error(final_answer(c.got()), 413, "CONTENT_TOO_LARGE");
}

BOOST_AUTO_TEST_CASE(what_the_http_layer_refuses_is_the_apis_json_error) {
  refusing_server s;
  struct row {
    std::string what;
    std::string bytes;
    int status;
    std::string code;
  };
  std::string big_fields;
  for (int i = 0; i < 40; ++i)
    big_fields += "X-Filler-" + std::to_string(i) + ": " + std::string(500, 'f') + "\r\n";
  const std::vector<row> rows{
      {"a target over 8 KiB", "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", 414, "URI_TOO_LONG"},
      {"a target over 8 KiB, its line not ended yet", "GET /" + std::string(9000, 'a'), 414, "URI_TOO_LONG"},
      {"fields over 16 KiB", "GET /plain HTTP/1.1\r\nHost: x\r\n" + big_fields + "\r\n", 431,
       "REQUEST_HEADER_FIELDS_TOO_LARGE"},
      {"garbage for a request line", "HELLO\r\n\r\n", 400, "BAD_REQUEST"},
      {"binary bytes (a TLS hello)", std::string{"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11}, 400, "BAD_REQUEST"},
      {"an empty line for a request line", "\r\nGET /plain HTTP/1.1\r\n\r\n", 400, "BAD_REQUEST"},
      {"a space in the target", "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", 400, "BAD_REQUEST"},
      {"a field without a colon", "GET /plain HTTP/1.1\r\nHost x\r\n\r\n", 400, "BAD_REQUEST"},
      {"a folded field", "GET /plain HTTP/1.1\r\nHost: x\r\n y\r\n\r\n", 400, "BAD_REQUEST"},
      {"a Content-Length not a number", "POST /echo HTTP/1.1\r\nContent-Length: 5x\r\n\r\nhello", 400, "BAD_REQUEST"},
      {"two Content-Lengths", "POST /echo HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", 400,
       "BAD_REQUEST"},
      {"Content-Length and chunked", "POST /echo HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
       400, "BAD_REQUEST"},
      {"a chunk size with an extension", "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\n\r\n",
       400, "BAD_REQUEST"},
      {"chunk data longer than its size", "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n",
       400, "BAD_REQUEST"},
      {"a method nobody implements", "BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n", 501, "NOT_IMPLEMENTED"},
      {"TRACE", "TRACE /plain HTTP/1.1\r\nHost: x\r\n\r\n", 501, "NOT_IMPLEMENTED"},
      {"a transfer coding other than chunked", "POST /echo HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501,
       "NOT_IMPLEMENTED"},
      {"HTTP/2.0 in a request line", "GET /plain HTTP/2.0\r\n\r\n", 505, "HTTP_VERSION_NOT_SUPPORTED"},
      {"an expectation other than 100-continue", "POST /echo HTTP/1.1\r\nExpect: magic\r\nContent-Length: 2\r\n\r\n{}",
       417, "EXPECTATION_FAILED"},
      {"a Content-Length over the limit", "POST /echo HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413,
       "CONTENT_TOO_LARGE"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.what) {
      raw_client c{s.port};
      BOOST_TEST_REQUIRE(c.send(r.bytes) == 0);
      BOOST_TEST(c.read_to_end() == 0);
      check_json_error(final_answer(c.got()), r.status, r.code);
    }
  }
  // And the server answers on
  BOOST_TEST(http_call("127.0.0.1", s.port, "GET", "/plain").status == 200);
}

BOOST_AUTO_TEST_CASE(a_refused_head_request_gets_the_error_without_a_body) {
  refusing_server s;
  const std::vector<std::pair<std::string, std::string>> rows{
      {"HEAD /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 414 "},
      // evhttp reads no body after HEAD: it would take this one for the next request
      {"HEAD /plain HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", "HTTP/1.1 400 "},
  };
  for (const auto& [bytes, status_line] : rows) {
    raw_client c{s.port};
    BOOST_TEST_REQUIRE(c.send(bytes) == 0);
    BOOST_TEST(c.read_to_end() == 0);
    BOOST_TEST(c.got().rfind(status_line, 0) == 0, c.got());
    BOOST_TEST(c.got().ends_with("\r\n\r\n"), c.got());
    BOOST_TEST(c.got().find("Content-Type: application/json\r\n") != std::string::npos, c.got());
  }
}

BOOST_AUTO_TEST_CASE(requests_within_the_limits_pass_in_any_pieces_and_on_one_connection) {
  refusing_server s;
  // A chunked body within the limit reaches the route whole
  {
    raw_client c{s.port};
    BOOST_TEST_REQUIRE(c.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
                              chunked_body(100'000, 7'000)) == 0);
    BOOST_TEST(c.read_to_end() == 0);
    const auto a = final_answer(c.got());
    BOOST_TEST(a.status == 200);
    BOOST_TEST(a.body == R"({"bytes":100000})");
  }
  // One byte at a time, head and body, with a 100 Continue on the way
  {
    raw_client c{s.port};
    const std::string head = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n";
    BOOST_TEST_REQUIRE(c.send_in_pieces(head, 1) == 0);
    BOOST_TEST_REQUIRE(c.read_until("100 Continue\r\n\r\n"), c.got());
    BOOST_TEST_REQUIRE(c.send_in_pieces("hello", 1) == 0);
    BOOST_TEST_REQUIRE(c.read_until(R"({"bytes":5})"), c.got());
    // Then, on the same connection, requests sent together: each is answered, the refused one last
    BOOST_TEST_REQUIRE(c.send("GET /plain HTTP/1.1\r\nHost: x\r\n\r\n"
                              "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                              "BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n"
                              "GET /plain HTTP/1.1\r\nHost: x\r\n\r\n") == 0);
    BOOST_TEST(c.read_to_end() == 0);
    const auto all = answers_in(c.got());
    BOOST_TEST_REQUIRE(all.size() == 5u, c.got());
    BOOST_TEST(all[0].status == 100);
    BOOST_TEST(all[1].body == R"({"bytes":5})");
    BOOST_TEST(all[2].status == 200);
    BOOST_TEST(all[3].body == R"({"bytes":3})");
    check_json_error(all[4], 501, "NOT_IMPLEMENTED");
  }
}

BOOST_AUTO_TEST_CASE(a_client_that_never_stops_sending_is_closed_after_the_linger_time) {
  // Given a server that lingers 300 ms, however much comes
  api::http_server::options o;
  o.linger_time = std::chrono::milliseconds{300};
  o.linger_bytes = std::size_t{1} << 40;
  refusing_server s{o};
  raw_client c{s.port};
  const auto t0 = std::chrono::steady_clock::now();
  BOOST_TEST_REQUIRE(c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\n") == 0);
  // When the client sends on and on without reading
  const std::string piece(64 << 10, 'x');
  int err = 0;
  while (err == 0 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds{20})
    err = c.send(piece);
  // Then the server closed it once the time was up: not before (but for libevent's coarse clock,
  // a few milliseconds), and not much after
  const auto took = std::chrono::steady_clock::now() - t0;
  BOOST_TEST((err == EPIPE || err == ECONNRESET), "send: " << std::strerror(err));
  BOOST_TEST((took >= std::chrono::milliseconds{280}), std::chrono::duration<double>(took).count() << " s");
  BOOST_TEST((took < std::chrono::seconds{10}), std::chrono::duration<double>(took).count() << " s");
  BOOST_TEST(eventually([&] { return s.srv.metrics().open_connections() == 0; }));
}

BOOST_AUTO_TEST_CASE(a_client_that_never_stops_sending_is_closed_after_the_linger_bytes) {
  // Given a server that lingers a minute, but reads 1 MiB at most
  api::http_server::options o;
  o.linger_time = std::chrono::seconds{60};
  o.linger_bytes = 1 << 20;
  refusing_server s{o};
  raw_client c{s.port};
  const auto t0 = std::chrono::steady_clock::now();
  BOOST_TEST_REQUIRE(c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\n") == 0);
  const std::string piece(64 << 10, 'x');
  int err = 0;
  while (err == 0 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds{20})
    err = c.send(piece);
  BOOST_TEST((err == EPIPE || err == ECONNRESET), "send: " << std::strerror(err));
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < std::chrono::seconds{10}));
  BOOST_TEST(c.sent() > std::size_t{1} << 20);
  BOOST_TEST(eventually([&] { return s.srv.metrics().open_connections() == 0; }));
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

// A server with media routes under /m/{id}/{file}: "now" answers at once with the id and the query
// (the body in two pieces), "later" is held until the test answers it, "chunks" answers in chunks;
// and a plain route, GET /plain.
struct media_server {
  api::http_server srv;
  std::uint16_t port = 0;
  std::mutex mu;
  std::shared_ptr<net::media_reply> held; // a "later" request, until answered
  net::event_loop* held_loop = nullptr;

  explicit media_server(api::http_server::options o = {}) : srv{std::move(o)} {
    srv.cross_origin("/m/{id}/{file}");
    srv.media_route("/m/{id}/{file}", [this](const api::media_request& req, std::shared_ptr<net::media_reply> reply,
                                             net::event_loop& loop) {
      const std::string file{req.params[1]};
      if (file == "later") {
        std::lock_guard lock{mu};
        held = std::move(reply);
        held_loop = &loop;
        return;
      }
      if (file == "big") // more than the socket takes at once: the rest leaves as the client reads
        return reply->send(200, "video/mp4", "no-cache", {piece(std::string(8 << 20, 'b'))});
      if (file == "chunks") {
        reply->start(200, "video/mp4", "public, max-age=60");
        reply->chunk({piece("abc")});
        reply->chunk({piece("de"), piece("f")});
        return reply->end();
      }
      reply->send(200, "text/plain", "no-cache",
                  {piece("id=" + std::string{req.params[0]}), piece(";q=" + std::string{req.query})});
    });
    srv.route("GET", "/plain", [](const api::http_request&, api::responder respond) {
      respond(api::json_response(200, "{}"));
    });
    srv.route("POST", "/echo", [](const api::http_request& req, api::responder respond) {
      respond(api::json_response(200, R"({"bytes":)" + std::to_string(req.body.size()) + "}"));
    });
    auto p = srv.start();
    BOOST_REQUIRE_MESSAGE(p.ok(), (p.ok() ? "" : p.error().message));
    port = *p;
  }

  static net::body_piece piece(std::string text) { return net::piece_of(std::make_shared<const std::string>(std::move(text))); }

  bool holds() {
    std::lock_guard lock{mu};
    return held != nullptr;
  }
  // Answers the held request on its loop.
  void answer_held(std::string body) {
    std::lock_guard lock{mu};
    held_loop->post([reply = std::exchange(held, nullptr), body = std::move(body)] {
      reply->send(200, "text/plain", "no-cache", {piece(body)});
    });
  }
  // Whether the held request's client is gone, as its reply sees it on the loop.
  bool held_gone() {
    std::promise<bool> seen;
    {
      std::lock_guard lock{mu};
      held_loop->post([reply = held, &seen] { seen.set_value(reply->gone()); });
    }
    return seen.get_future().get();
  }
};

std::string header_of(const answer& a, const std::string& name) {
  const auto it = a.headers.find(name);
  return it == a.headers.end() ? std::string{} : it->second;
}

} // namespace

BOOST_AUTO_TEST_SUITE(http_server_media_routes)

BOOST_AUTO_TEST_CASE(given_media_and_api_requests_sent_together_when_read_then_each_is_answered_in_order_and_close_is_kept) {
  // Given a server with a media route and a plain one
  media_server s;
  raw_client c{s.port};
  // When media and API requests come in one write, the last asking to close
  BOOST_TEST_REQUIRE(c.send("GET /m/a%20b/now?x=1&y=%41 HTTP/1.1\r\nHost: h\r\nUser-Agent: t\r\n\r\n"
                            "GET /plain HTTP/1.1\r\nHost: h\r\n\r\n"
                            "GET /m/c/now HTTP/1.1\r\nHost: h\r\n\r\n"
                            "GET /m/d/now HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n") == 0);
  // Then all four are answered, in order, and the server closes after the last
  BOOST_TEST(c.read_to_end() == 0);
  const auto all = answers_in(c.got());
  BOOST_TEST_REQUIRE(all.size() == 4u, c.got());
  BOOST_TEST(all[0].status == 200);
  BOOST_TEST(all[0].body == "id=a b;q=x=1&y=%41"); // the path parameter decoded, the query as sent
  BOOST_TEST(header_of(all[0], "content-type") == "text/plain");
  BOOST_TEST(header_of(all[0], "cache-control") == "no-cache");
  BOOST_TEST(header_of(all[0], "access-control-allow-origin") == "*");
  BOOST_TEST(!header_of(all[0], "date").empty());
  BOOST_TEST(header_of(all[0], "connection").empty());
  BOOST_TEST(all[1].body == "{}");
  BOOST_TEST(all[2].body == "id=c;q=");
  BOOST_TEST(all[3].body == "id=d;q=");
  BOOST_TEST(header_of(all[3], "connection") == "close");
  BOOST_TEST(eventually([&] { return s.srv.metrics().open_connections() == 0; }));
}

BOOST_AUTO_TEST_CASE(given_a_100_continue_then_a_media_answer_too_big_to_leave_at_once_then_every_answer_comes_whole) {
  // Given a request that evhttp answers after its 100 Continue, then a media answer larger than
  // the socket takes at once, then an API request
  media_server s;
  raw_client c{s.port};
  BOOST_TEST_REQUIRE(c.send("POST /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n") == 0);
  BOOST_TEST_REQUIRE(c.read_until("100 Continue\r\n\r\n"), c.got());
  BOOST_TEST_REQUIRE(c.send("hello"
                            "GET /m/x/big HTTP/1.1\r\nHost: h\r\n\r\n"
                            "GET /plain HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n") == 0);
  // Then each comes in order and whole, and the connection closes after the last
  BOOST_TEST(c.read_to_end() == 0);
  const auto all = answers_in(c.got());
  BOOST_TEST_REQUIRE(all.size() == 4u);
  BOOST_TEST(all[0].status == 100);
  BOOST_TEST(all[1].body == R"({"bytes":5})");
  BOOST_TEST(all[2].status == 200);
  BOOST_TEST(all[2].body.size() == std::size_t{8} << 20);
  BOOST_TEST(all[2].whole);
  BOOST_TEST(all[3].body == "{}");
}

BOOST_AUTO_TEST_CASE(given_a_media_route_when_asked_with_head_then_the_head_comes_without_the_body) {
  media_server s;
  raw_client c{s.port};
  BOOST_TEST_REQUIRE(c.send("HEAD /m/abc/now HTTP/1.1\r\nHost: h\r\n\r\nGET /m/abc/now HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n") == 0);
  BOOST_TEST(c.read_to_end() == 0);
  // The HEAD answer says the GET's length and sends none of it: the GET's answer follows at once
  const auto head_end = c.got().find("\r\n\r\n");
  BOOST_TEST_REQUIRE(head_end != std::string::npos);
  BOOST_TEST(c.got().find("Content-Length: 9\r\n") < head_end, c.got());
  BOOST_TEST(c.got().compare(head_end + 4, 17, "HTTP/1.1 200 OK\r\n") == 0, c.got());
  BOOST_TEST(c.got().ends_with("\r\n\r\nid=abc;q="), c.got());
}

BOOST_AUTO_TEST_CASE(given_a_held_media_request_when_more_requests_follow_then_they_wait_for_its_answer) {
  // Given a media request the route holds, and a plain request sent right behind it
  media_server s;
  raw_client c{s.port};
  BOOST_TEST_REQUIRE(c.send("GET /m/x/later HTTP/1.1\r\nHost: h\r\n\r\nGET /plain HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n") == 0);
  BOOST_TEST_REQUIRE(eventually([&] { return s.holds(); }));
  // When the held one is answered
  s.answer_held("at last");
  // Then both come, the held one first
  BOOST_TEST(c.read_to_end() == 0);
  const auto all = answers_in(c.got());
  BOOST_TEST_REQUIRE(all.size() == 2u, c.got());
  BOOST_TEST(all[0].body == "at last");
  BOOST_TEST(all[1].body == "{}");
}

BOOST_AUTO_TEST_CASE(given_a_held_media_request_when_its_client_leaves_then_the_reply_knows_and_the_connection_goes) {
  media_server s;
  {
    raw_client c{s.port};
    BOOST_TEST_REQUIRE(c.send("GET /m/x/later HTTP/1.1\r\nHost: h\r\n\r\n") == 0);
    BOOST_TEST_REQUIRE(eventually([&] { return s.holds(); }));
  } // closed
  BOOST_TEST(eventually([&] { return s.held_gone(); }));
  BOOST_TEST(eventually([&] { return s.srv.metrics().open_connections() == 0; }));
  // An answer after the client left goes nowhere, and harms nothing
  s.answer_held("too late");
  const auto after = http_call("127.0.0.1", s.port, "GET", "/m/y/now");
  BOOST_TEST(after.status == 200);
  BOOST_TEST(after.body == "id=y;q=");
}

BOOST_AUTO_TEST_CASE(given_a_chunked_media_answer_then_http_1_1_gets_chunks_and_http_1_0_the_body_until_close) {
  media_server s;
  {
    raw_client c{s.port};
    BOOST_TEST_REQUIRE(c.send("GET /m/x/chunks HTTP/1.1\r\nHost: h\r\n\r\nGET /m/x/now HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n") == 0);
    BOOST_TEST(c.read_to_end() == 0);
    const auto& got = c.got();
    BOOST_TEST(got.find("Transfer-Encoding: chunked\r\n") != std::string::npos, got);
    BOOST_TEST(got.find("\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n") != std::string::npos, got);
    BOOST_TEST(got.ends_with("id=x;q="), got);
  }
  {
    raw_client c{s.port};
    BOOST_TEST_REQUIRE(c.send("GET /m/x/chunks HTTP/1.0\r\nHost: h\r\n\r\n") == 0);
    BOOST_TEST(c.read_to_end() == 0);
    BOOST_TEST(c.got().find("Transfer-Encoding") == std::string::npos, c.got());
    BOOST_TEST(c.got().find("Connection: close\r\n") != std::string::npos, c.got());
    BOOST_TEST(c.got().ends_with("\r\n\r\nabcdef"), c.got());
  }
}

BOOST_AUTO_TEST_CASE(given_a_media_route_then_the_absolute_form_is_served_and_a_get_with_a_body_refused) {
  media_server s;
  raw_client c{s.port};
  BOOST_TEST_REQUIRE(c.send("GET http://h:1/m/abs/now?z HTTP/1.1\r\nHost: h\r\n\r\n"
                            "GET /m/x/now HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab") == 0);
  BOOST_TEST(c.read_to_end() == 0);
  const auto all = answers_in(c.got());
  BOOST_TEST_REQUIRE(all.size() == 2u, c.got());
  BOOST_TEST(all[0].body == "id=abs;q=z");
  BOOST_TEST(all[1].status == 400);
  BOOST_TEST(header_of(all[1], "access-control-allow-origin") == "*");
}

BOOST_AUTO_TEST_CASE(given_a_media_route_then_other_methods_get_405_and_preflights_204_with_cors) {
  media_server s;
  const auto post = http_call("127.0.0.1", s.port, "POST", "/m/x/now", {}, "{}");
  BOOST_TEST(post.status == 405);
  raw_client c{s.port};
  BOOST_TEST_REQUIRE(c.send("OPTIONS /m/x/now HTTP/1.1\r\nHost: h\r\nOrigin: http://a\r\nAccess-Control-Request-Method: GET\r\nConnection: close\r\n\r\n") == 0);
  BOOST_TEST(c.read_to_end() == 0);
  const auto a = final_answer(c.got());
  BOOST_TEST(a.status == 204);
  BOOST_TEST(header_of(a, "access-control-allow-origin") == "*");
  BOOST_TEST(header_of(a, "access-control-allow-methods").find("GET") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
