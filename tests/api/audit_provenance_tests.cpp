// Who did what, from where, in which request, because of what: every event the API causes carries
// its principal (the app by API key, a member by Bearer token, the operator), the client's address
// and User-Agent, and the request id (the client's X-Request-Id when well-formed, echoed on the
// answer), and the events of one request's flow share its correlation. The feed shows each as
// CloudEvents extension attributes, beside the event's link of its app's audit chain.
#include "feed_client.hpp"

using namespace onair::test_harness;

namespace {

struct served : one_app_server {
  served() : one_app_server("audited") {}
};

} // namespace

BOOST_AUTO_TEST_SUITE(audit_provenance)

BOOST_AUTO_TEST_CASE(given_a_request_id_when_an_app_creates_a_member_then_its_events_say_who_from_where_and_which_request) {
  served s;
  const auto created = s.call("POST", "/v2/apps/me/members", s.auth, json{{"appUserId", "alice"}, {"appUserName", "Alice"}},
                              {{"X-Request-Id", "req-alice-1"}, {"User-Agent", "audit-test/1.0"}});
  BOOST_REQUIRE_MESSAGE(created.status == 201, created.body);
  BOOST_TEST(header_of(created.head, "X-Request-Id") == "req-alice-1");

  // The member and the stream key made with it, in one write: both are the app's request's.
  std::size_t seen = 0;
  for (const auto& e : s.feed()) {
    if (e.value("onairrequestid", "") != "req-alice-1")
      continue;
    ++seen;
    BOOST_TEST(e.value("onairprincipal", "") == "app:" + s.app["apiKey"].get<std::string>(), e.dump());
    BOOST_TEST(e.value("onairclientip", "") == "127.0.0.1", e.dump());
    BOOST_TEST(e.value("onairuseragent", "") == "audit-test/1.0", e.dump());
    BOOST_TEST(e.value("onaircorrelationid", "") == "req-alice-1", e.dump());
    // and its link of the app's chain
    BOOST_TEST(e.value("onairchain", 0) == s.app["id"].get<int>(), e.dump());
    BOOST_TEST(e.value("onairhash", "").size() == 64u, e.dump());
    BOOST_TEST(e.value("onairdatahash", "").size() == 64u, e.dump());
  }
  BOOST_TEST(seen == 2u); // member.registered, stream_key.created
  // The secret is never the principal.
  for (const auto& e : s.feed())
    BOOST_TEST(e.dump().find(s.app["apiSecret"].get<std::string>()) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(given_no_or_a_malformed_request_id_when_asked_then_the_server_makes_one_and_echoes_it) {
  served s;
  const auto none = s.call("GET", "/v2/apps/me/members", s.auth, nullptr);
  const auto made = header_of(none.head, "X-Request-Id");
  BOOST_TEST(made.size() == 32u, none.head);
  const auto bad = s.call("GET", "/v2/apps/me/members", s.auth, nullptr, {{"X-Request-Id", "has spaces and; more"}});
  BOOST_TEST(header_of(bad.head, "X-Request-Id").size() == 32u, bad.head);
  BOOST_TEST(header_of(bad.head, "X-Request-Id") != made);
  const auto long_id = std::string(129, 'a');
  const auto too_long = s.call("GET", "/v2/apps/me/members", s.auth, nullptr, {{"X-Request-Id", long_id}});
  BOOST_TEST(header_of(too_long.head, "X-Request-Id") != long_id);
  // Errors carry it too.
  const auto refused = s.call("GET", "/v2/apps/me/members", "Basic bm9wZTpub3Bl", nullptr, {{"X-Request-Id", "req-401"}});
  BOOST_TEST(refused.status == 401);
  BOOST_TEST(header_of(refused.head, "X-Request-Id") == "req-401");
}

BOOST_AUTO_TEST_CASE(given_a_member_token_when_the_member_creates_a_room_then_the_member_is_the_principal) {
  served s;
  const auto login = s.call("POST", "/v2/apps/me/members/login", s.auth, json{{"appUserId", "bob"}, {"appUserName", "Bob"}});
  BOOST_REQUIRE_MESSAGE(login.status == 200 || login.status == 201, login.body);
  const auto token = json::parse(login.body)["accessToken"].get<std::string>();
  const auto room = s.call("POST", "/v2/members/me/video-rooms", "Bearer " + token,
                           json{{"type", "BROADCAST_RTMP"}, {"title", "Bob live"}, {"scheduledAt", "2026-11-24T09:30:00.000Z"}},
                           {{"X-Request-Id", "req-bob-room"}});
  BOOST_REQUIRE_MESSAGE(room.status == 201, room.body);
  bool found = false;
  for (const auto& e : s.feed())
    if (e.value("type", "") == "onair.video_room.created") {
      found = true;
      BOOST_TEST(e.value("onairprincipal", "") == "member:bob", e.dump());
      BOOST_TEST(e.value("onairrequestid", "") == "req-bob-room", e.dump());
    }
  BOOST_TEST(found);
}

BOOST_AUTO_TEST_CASE(given_a_flow_when_a_member_is_deleted_then_its_events_share_the_requests_correlation_caused_by_the_flow) {
  served s;
  BOOST_REQUIRE(s.call("POST", "/v2/apps/me/members", s.auth, json{{"appUserId", "carol"}, {"appUserName", "Carol"}}).status == 201);
  const auto gone = s.call("DELETE", "/v2/apps/me/members/carol", s.auth, nullptr, {{"X-Request-Id", "req-carol-gone"}});
  BOOST_REQUIRE_MESSAGE(gone.status == 200 || gone.status == 204, gone.body);
  std::set<std::string> types;
  for (const auto& e : s.feed()) {
    if (e.value("onaircorrelationid", "") != "req-carol-gone")
      continue;
    types.insert(e.value("type", ""));
    BOOST_TEST(e.value("onairprincipal", "").rfind("app:", 0) == 0u, e.dump());
    BOOST_TEST(e.value("onaircausationid", "").rfind("flow/", 0) == 0u, e.dump()); // the delete flow caused it
  }
  BOOST_TEST(types.count("onair.stream_key.revoked") == 1u, json(types).dump());
  BOOST_TEST(types.count("onair.member.deleted") == 1u, json(types).dump());
}

BOOST_AUTO_TEST_CASE(given_events_in_the_store_when_the_operator_verifies_then_the_trail_holds_and_the_key_is_printed) {
  served s;
  BOOST_REQUIRE(s.call("POST", "/v2/apps/me/members", s.auth, json{{"appUserId", "dan"}, {"appUserName", "Dan"}}).status == 201);
  // From outside, with the app's credentials: its feed verifies against the served key.
  const auto from_outside =
      run_onair({"audit", "verify", "--json", "--feed",
                 "http://" + s.srv.http().host + ":" + std::to_string(s.srv.http().port)},
                spawn_options{{{"ONAIR_API_KEY", s.app["apiKey"].get<std::string>()},
                               {"ONAIR_API_SECRET", s.app["apiSecret"].get<std::string>()}}});
  BOOST_REQUIRE_MESSAGE(from_outside.code == 0, from_outside);
  const auto outside = json::parse(from_outside.out);
  BOOST_TEST(outside.value("ok", false), outside.dump());
  BOOST_TEST(outside.value("events", 0) >= 2, outside.dump()); // the member and its key
  BOOST_TEST(outside.value("signaturesChecked", false), outside.dump());
  const auto wrong = run_onair({"audit", "verify", "--feed", "http://" + s.srv.http().host + ":" + std::to_string(s.srv.http().port)},
                               spawn_options{{{"ONAIR_API_KEY", s.app["apiKey"].get<std::string>()}, {"ONAIR_API_SECRET", "nope"}}});
  BOOST_TEST(wrong.code == 1, wrong);
  // The key is served too, the same as the data folder holds.
  const auto served_key = http_call(s.srv.http().host, s.srv.http().port, "GET", "/audit/public-key");
  BOOST_TEST(served_key.status == 200);
  // Over the store beside the running server (read only, as the store was when it started).
  const auto beside = run_onair({"audit", "verify", "--json", "--data-dir", s.data.string()});
  BOOST_REQUIRE_MESSAGE(beside.code == 0, beside);
  BOOST_TEST(json::parse(beside.out).value("ok", false), beside.out);
  BOOST_TEST(json::parse(beside.out).value("events", 0) >= 3, beside.out);
  s.srv.stop();
  const auto verified = run_onair({"audit", "verify", "--json", "--data-dir", s.data.string()});
  BOOST_REQUIRE_MESSAGE(verified.code == 0, verified);
  const auto report = json::parse(verified.out);
  BOOST_TEST(report.value("ok", false));
  BOOST_TEST(report.value("signaturesChecked", false));
  BOOST_TEST(report.value("events", 0) >= 3);
  const auto key = run_onair({"audit", "public-key", "--data-dir", s.data.string()});
  BOOST_REQUIRE_MESSAGE(key.code == 0, key);
  BOOST_TEST(key.out.find("-----BEGIN PUBLIC KEY-----") == 0u, key.out);
  BOOST_TEST(served_key.body == key.out);
}

BOOST_AUTO_TEST_SUITE_END()
