// Idempotency-Key on POST (api.md conventions), through the real binary and, for the timing-bound
// cases (a duplicate while the first still runs, a failure retried), on the middleware itself.
// Also the bound on open HTTP connections.
#include "api/idempotency.hpp"
#include "harness.hpp"

using namespace onair::test_harness;
namespace api = onair::api;

namespace {

struct served {
  temp_dir dir;
  fs::path data = dir.path() / "data";
  server_process srv;
  std::optional<api_client> a, b;

  explicit served(std::vector<std::string> args = {}) : srv(data, std::move(args)) {
    srv.wait_ready();
    auto app_a = create_app(data, "a");
    auto app_b = create_app(data, "b");
    a.emplace(srv.http(), app_a["apiKey"].get<std::string>(), app_a["apiSecret"].get<std::string>());
    b.emplace(srv.http(), app_b["apiKey"].get<std::string>(), app_b["apiSecret"].get<std::string>());
  }
};

const std::string rooms = "/v2/apps/me/video-rooms";

headers_t key(const std::string& k) { return {{"Idempotency-Key", k}}; }

api::http_request post_with_key(const std::string& k, const std::string& body = "{}") {
  api::http_request r;
  r.method = "POST";
  r.path = "/v2/apps/me/video-rooms";
  r.headers = {{"idempotency-key", k}, {"authorization", "Basic x"}};
  r.body = body;
  return r;
}

} // namespace

BOOST_AUTO_TEST_SUITE(rest_idempotency)

BOOST_AUTO_TEST_CASE(a_replayed_post_returns_the_first_answer_and_creates_nothing_more) {
  served s;
  s.a->member("alice");
  auto first = s.a->post(rooms, api_client::room_body("alice"), key("create-launch-1"));
  BOOST_TEST_REQUIRE(first.status == 201, first);
  BOOST_TEST(first.header("idempotent-replayed").empty());

  auto replay = s.a->post(rooms, api_client::room_body("alice"), key("create-launch-1"));
  BOOST_TEST(replay.status == 201, replay);
  BOOST_TEST(replay.header("idempotent-replayed") == "true");
  BOOST_TEST(replay.body == first.body, "the replay is the first answer, byte for byte");
  BOOST_TEST(s.a->get(rooms).body["totalElements"] == 1, "one room, not two");

  // Another key is another request.
  auto other = s.a->post(rooms, api_client::room_body("alice"), key("create-launch-2"));
  BOOST_TEST(other.status == 201, other);
  BOOST_TEST(other.body["id"] != first.body["id"]);
  BOOST_TEST(s.a->get(rooms).body["totalElements"] == 2);

  // Member upsert: the replay says 201 (what the first said), not the 200 of a second upsert.
  auto m1 = s.a->post("/v2/apps/me/members", json{{"appUserId", "bob"}}, key("member-bob"));
  auto m2 = s.a->post("/v2/apps/me/members", json{{"appUserId", "bob"}}, key("member-bob"));
  BOOST_TEST(m1.status == 201, m1);
  BOOST_TEST(m2.status == 201, m2);
  BOOST_TEST(m2.header("idempotent-replayed") == "true");
}

BOOST_AUTO_TEST_CASE(errors_are_replayed_too_but_the_key_is_scoped_to_the_caller_and_the_body) {
  served s;
  // A refusal is an answer: the replay gets the same refusal even after the cause is gone.
  auto refused = s.a->post(rooms, api_client::room_body("carol"), key("k1"));
  check_error(refused, 404, "MEMBER_NOT_FOUND");
  s.a->member("carol");
  auto replay = s.a->post(rooms, api_client::room_body("carol"), key("k1"));
  check_error(replay, 404, "MEMBER_NOT_FOUND");
  BOOST_TEST(replay.header("idempotent-replayed") == "true");

  // The same key with another body is a client bug, said so.
  check_error(s.a->post(rooms, api_client::room_body("carol", "Other"), key("k1")), 422, "IDEMPOTENCY_KEY_REUSED",
              "Idempotency-Key");

  // Another app's identical key and body is its own request.
  s.b->member("carol");
  auto theirs = s.b->post(rooms, api_client::room_body("carol"), key("k1"));
  BOOST_TEST(theirs.status == 201, theirs);
  BOOST_TEST(theirs.header("idempotent-replayed").empty());

  // A failed authentication is not remembered: the right credentials then run the request.
  api_client wrong{s.srv.http(), basic_auth("nobody", "nothing")};
  check_error(wrong.post(rooms, api_client::room_body("carol"), key("k2")), 401, "UNAUTHORIZED");

  // Keys: 1-255 visible ASCII.
  check_error(s.a->post(rooms, api_client::room_body("carol"), key(std::string(256, 'x'))), 400,
              "INVALID_PARAMETER", "Idempotency-Key");
  check_error(s.a->post(rooms, api_client::room_body("carol"), key("has space")), 400, "INVALID_PARAMETER",
              "Idempotency-Key");

  // GET and PATCH ignore the header.
  BOOST_TEST(s.a->get(rooms, key("k1")).status == 200);
}

BOOST_AUTO_TEST_CASE(a_duplicate_while_the_first_runs_is_locked_and_failures_are_retried) {
  api::idempotency_cache cache;
  api::responder held;
  int runs = 0;
  const api::http_handler slow = [&](const api::http_request&, api::responder respond) {
    ++runs;
    held = std::move(respond); // answered later, as an actor reply would be
  };
  std::vector<api::http_response> answers;
  const auto collect = [&](api::http_response r) { answers.push_back(std::move(r)); };

  cache.handle(post_with_key("dup"), collect, slow);
  BOOST_TEST(runs == 1);
  BOOST_TEST(answers.empty());
  cache.handle(post_with_key("dup"), collect, slow);
  BOOST_TEST_REQUIRE(answers.size() == 1u);
  BOOST_TEST(answers[0].status == 409);
  BOOST_TEST(json::parse(answers[0].body)["errorCode"] == "REQUEST_LOCKED");
  BOOST_TEST(runs == 1, "the duplicate did not run");

  held(api::json_response(201, R"({"id":7})"));
  BOOST_TEST_REQUIRE(answers.size() == 2u);
  cache.handle(post_with_key("dup"), collect, slow);
  BOOST_TEST_REQUIRE(answers.size() == 3u);
  BOOST_TEST(answers[2].status == 201);
  BOOST_TEST(answers[2].body == R"({"id":7})");
  BOOST_TEST(runs == 1);

  // A server failure is not an answer to keep: the retry runs.
  const api::http_handler failing = [&](const api::http_request&, api::responder respond) {
    ++runs;
    respond(api::error_response(500, "INTERNAL_ERROR", "boom"));
  };
  cache.handle(post_with_key("fails"), collect, failing);
  cache.handle(post_with_key("fails"), collect, failing);
  BOOST_TEST(runs == 3);
}

BOOST_AUTO_TEST_CASE(entries_expire_after_the_ttl_and_the_cache_is_bounded) {
  auto now = std::chrono::steady_clock::time_point{} + 1h;
  api::idempotency_cache cache{{.ttl = 60s, .max_entries = 3, .max_key_chars = 255, .now = [&] { return now; }}};
  int runs = 0;
  const api::http_handler ok = [&](const api::http_request&, api::responder respond) {
    ++runs;
    respond(api::json_response(201, "{}"));
  };
  const auto ignore = [](api::http_response) {};
  cache.handle(post_with_key("a"), ignore, ok);
  cache.handle(post_with_key("a"), ignore, ok);
  BOOST_TEST(runs == 1);
  now += 61s;
  cache.handle(post_with_key("a"), ignore, ok);
  BOOST_TEST(runs == 2, "expired: runs again");
  for (const auto* k : {"b", "c", "d", "e"})
    cache.handle(post_with_key(k), ignore, ok);
  BOOST_TEST(cache.size() <= 4u, "bounded (3, plus the one being added)");
}

BOOST_AUTO_TEST_CASE(connections_past_the_bound_get_503_and_are_closed) {
  temp_dir dir;
  // Several loops: the bound counts connections on all of them.
  server_process srv{dir.path() / "data", {"--http-max-connections", "2", "--http-threads", "4"}};
  srv.wait_ready();
  const auto ep = srv.http();
  // Two keep-alive connections hold both places.
  auto open_keepalive = [&] {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(ep.port));
    ::inet_pton(AF_INET, ep.host.c_str(), &addr.sin_addr);
    BOOST_REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    const std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    BOOST_REQUIRE(::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
    std::string got;
    char buf[1024];
    while (got.find("\r\n\r\n") == std::string::npos || got.find("UP") == std::string::npos) {
      const auto n = ::recv(fd, buf, sizeof buf, 0);
      BOOST_REQUIRE(n > 0);
      got.append(buf, static_cast<std::size_t>(n));
    }
    BOOST_TEST(got.rfind("HTTP/1.1 200", 0) == 0, got);
    return fd;
  };
  const int c1 = open_keepalive();
  const int c2 = open_keepalive();
  auto third = http_call(ep.host, ep.port, "GET", "/healthz");
  BOOST_TEST(third.status == 503, third.body);
  BOOST_TEST(header_of(third, "retry-after") == "1");
  ::close(c1);
  // One place is free again once the server has seen the close.
  const auto until = std::chrono::steady_clock::now() + 10s;
  int status = 0;
  while ((status = http_call(ep.host, ep.port, "GET", "/healthz").status) != 200 &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(10ms);
  BOOST_TEST(status == 200);
  ::close(c2);
}

BOOST_AUTO_TEST_SUITE_END()
