// Member login, member tokens and the member API (/v2/members/me, Bearer), against the real
// binary; the token code itself is checked directly first. Also the slow-down of repeated failed
// authentication from one address.
#include "api/tokens.hpp"
#include "harness.hpp"

using namespace onair::test_harness;
namespace api = onair::api;

namespace {


http_reply call(const server_process& srv, const std::string& method, const std::string& path,
                const std::string& authorization, const json& body = nullptr) {
  headers_t h;
  if (!authorization.empty())
    h.emplace_back("Authorization", authorization);
  std::string text;
  if (!body.is_null()) {
    text = body.dump();
    h.emplace_back("Content-Type", "application/json");
  }
  return http_call(srv.http().host, srv.http().port, method, path, h, text);
}

json body_of(const http_reply& r) {
  auto j = json::parse(r.body, nullptr, false);
  BOOST_REQUIRE_MESSAGE(!j.is_discarded(), "not JSON (" << r.status << "): '" << r.body << "'");
  return j;
}

void check_status(const http_reply& r, int status, const std::string& code = {}) {
  BOOST_TEST(r.status == status, "expected " << status << ", got " << r.status << ": " << r.body);
  if (!code.empty())
    BOOST_TEST(body_of(r).value("errorCode", "") == code, r.body);
}

struct app_creds {
  std::string key, secret;
  [[nodiscard]] std::string auth() const { return basic_auth(key, secret); }
};

app_creds first_app(const server_process& srv) {
  const auto out = srv.stdout_text();
  app_creds a{printed_value(out, "apiKey:"), printed_value(out, "apiSecret:")};
  BOOST_REQUIRE_MESSAGE(!a.key.empty() && !a.secret.empty(), out);
  return a;
}

std::string bearer(const json& tokens) { return "Bearer " + tokens["accessToken"].get<std::string>(); }

const json new_room{{"type", "BROADCAST_RTMP"}, {"title", "My show"}, {"scheduledAt", "2030-01-01T10:00:00.000Z"}};

api::token_claims sample_claims(std::int64_t now) {
  return api::token_claims{.api_key = "ak_x",
                           .app_id = 7,
                           .app_user_id = "alice",
                           .member_id = 42,
                           .issued_at = now,
                           .expires_at = now + 60,
                           .kind = api::token_kind::access};
}

// The token with its payload replaced by `payload` (signature kept).
std::string with_payload(const std::string& token, const json& payload) {
  const auto a = token.find('.');
  const auto b = token.find('.', a + 1);
  return token.substr(0, a + 1) + api::base64url_encode(payload.dump()) + token.substr(b);
}

json payload_of(const std::string& token) {
  const auto a = token.find('.');
  const auto b = token.find('.', a + 1);
  auto text = api::base64url_decode(token.substr(a + 1, b - a - 1));
  BOOST_REQUIRE(text.has_value());
  return json::parse(*text);
}

} // namespace

BOOST_AUTO_TEST_SUITE(rest_member_api)

BOOST_AUTO_TEST_CASE(tokens_sign_verify_and_refuse_tampering_expiry_and_the_wrong_kind) {
  for (const std::string& s : std::initializer_list<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\xff\xfe\x00\x01", 4)})
    BOOST_TEST(api::base64url_decode(api::base64url_encode(s)).value_or("?") == s);
  BOOST_TEST(!api::base64url_decode("Zm9v=").has_value()); // no padding, one spelling
  BOOST_TEST(!api::base64url_decode("Zm+v").has_value());  // not the url alphabet
  BOOST_TEST(!api::base64url_decode("Zh").has_value());    // non-zero unused bits

  const std::int64_t now = 1'900'000'000;
  const auto c = sample_claims(now);
  const auto token = api::sign_token(c, "secret-key");
  BOOST_TEST(std::count(token.begin(), token.end(), '.') == 2);

  auto ok = api::verify_token(token, "secret-key", api::token_kind::access, now);
  BOOST_TEST_REQUIRE(static_cast<bool>(ok));
  BOOST_TEST(ok->app_id == 7);
  BOOST_TEST(ok->app_user_id == "alice");
  BOOST_TEST(ok->member_id == 42);
  BOOST_TEST(ok->api_key == "ak_x");
  BOOST_TEST(ok->expires_at == now + 60);
  BOOST_TEST(api::peek_token(token)->api_key == "ak_x");

  BOOST_TEST(!static_cast<bool>(api::verify_token(token, "other-key", api::token_kind::access, now)));
  BOOST_TEST(!static_cast<bool>(api::verify_token(token, "secret-key", api::token_kind::access, now + 60))); // expired
  BOOST_TEST(!static_cast<bool>(api::verify_token(token, "secret-key", api::token_kind::refresh, now)));
  auto payload = payload_of(token);
  payload["mid"] = 43;
  BOOST_TEST(!static_cast<bool>(api::verify_token(with_payload(token, payload), "secret-key", api::token_kind::access, now)));
  payload = payload_of(token);
  payload["exp"] = now + 1'000'000;
  BOOST_TEST(!static_cast<bool>(api::verify_token(with_payload(token, payload), "secret-key", api::token_kind::access, now + 100)));
  BOOST_TEST(!static_cast<bool>(api::verify_token(token + "x", "secret-key", api::token_kind::access, now)));
  BOOST_TEST(!static_cast<bool>(api::verify_token(token.substr(0, token.rfind('.')), "secret-key", api::token_kind::access, now)));
  BOOST_TEST(!static_cast<bool>(api::verify_token("", "secret-key", api::token_kind::access, now)));

  auto r = c;
  r.kind = api::token_kind::refresh;
  const auto refresh = api::sign_token(r, "secret-key");
  BOOST_TEST(payload_of(refresh)["typ"] == "refresh");
  BOOST_TEST(static_cast<bool>(api::verify_token(refresh, "secret-key", api::token_kind::refresh, now)));
  BOOST_TEST(!static_cast<bool>(api::verify_token(refresh, "secret-key", api::token_kind::access, now)));
}

BOOST_AUTO_TEST_CASE(login_tokens_member_api_own_rooms_refresh_and_deleted_members) {
  temp_dir dir;
  server_process srv{dir.path() / "data"};
  srv.wait_ready();
  const auto app = first_app(srv);

  // ---- login registers an unknown member and hands out tokens
  auto login = call(srv, "POST", "/v2/apps/me/members/login", app.auth(), json{{"appUserId", "alice"}, {"appUserName", "Alice"}});
  BOOST_TEST_REQUIRE(login.status == 200, login.body);
  const auto tokens = body_of(login);
  BOOST_TEST(tokens["member"]["appUserId"] == "alice");
  BOOST_TEST(tokens["member"]["appUserName"] == "Alice");
  const auto access = tokens["accessToken"].get<std::string>();
  const auto claims = payload_of(access);
  BOOST_TEST(claims["sub"] == "alice");
  BOOST_TEST(claims["mid"] == tokens["member"]["id"]);
  BOOST_TEST(claims["exp"].get<std::int64_t>() - claims["iat"].get<std::int64_t>() == 24 * 3600);
  BOOST_TEST(payload_of(tokens["refreshToken"].get<std::string>())["typ"] == "refresh");
  auto by_server = call(srv, "GET", "/v2/apps/me/members/alice/stream-key", app.auth());
  BOOST_TEST_REQUIRE(by_server.status == 200, by_server.body);
  BOOST_TEST(tokens["streamingToken"] == body_of(by_server)["streamKey"]);
  check_status(call(srv, "POST", "/v2/apps/me/members/login", app.auth(), json{{"appUserId", "bad id!"}}), 400);
  check_status(call(srv, "POST", "/v2/apps/me/members/login", "", json{{"appUserId", "alice"}}), 401, "UNAUTHORIZED");

  // ---- the token works on the member API
  auto me = call(srv, "GET", "/v2/members/me", bearer(tokens));
  BOOST_TEST_REQUIRE(me.status == 200, me.body);
  BOOST_TEST(body_of(me)["appUserId"] == "alice");
  auto key = call(srv, "GET", "/v2/members/me/stream-key", bearer(tokens));
  BOOST_TEST_REQUIRE(key.status == 200, key.body);
  BOOST_TEST(body_of(key)["streamKey"] == tokens["streamingToken"]);

  // ---- forged, tampered, expired-by-edit, wrong kind, missing: 401
  auto tampered = payload_of(access);
  tampered["sub"] = "bob";
  check_status(call(srv, "GET", "/v2/members/me", "Bearer " + with_payload(access, tampered)), 401, "UNAUTHORIZED");
  tampered = payload_of(access);
  tampered["exp"] = tampered["exp"].get<std::int64_t>() + 3600;
  check_status(call(srv, "GET", "/v2/members/me", "Bearer " + with_payload(access, tampered)), 401, "UNAUTHORIZED");
  auto forged_claims = sample_claims(claims["iat"].get<std::int64_t>());
  forged_claims.api_key = app.key;
  forged_claims.app_id = claims["app"].get<std::int64_t>();
  forged_claims.member_id = claims["mid"].get<std::int64_t>();
  check_status(call(srv, "GET", "/v2/members/me", "Bearer " + api::sign_token(forged_claims, app.secret)), 401);
  check_status(call(srv, "GET", "/v2/members/me", "Bearer " + tokens["refreshToken"].get<std::string>()), 401);
  check_status(call(srv, "GET", "/v2/members/me", ""), 401, "UNAUTHORIZED");
  check_status(call(srv, "GET", "/v2/members/me", app.auth()), 401, "UNAUTHORIZED");
  BOOST_TEST(header_of(call(srv, "GET", "/v2/members/me", "Bearer x.y.z"), "www-authenticate").rfind("Bearer", 0) == 0);

  // ---- own rooms: created for the token's member whatever appUserId says
  auto bob_login = call(srv, "POST", "/v2/apps/me/members/login", app.auth(), json{{"appUserId", "bob"}});
  BOOST_TEST_REQUIRE(bob_login.status == 200, bob_login.body);
  const auto bob = body_of(bob_login);
  auto body = new_room;
  body["appUserId"] = "bob";
  auto created = call(srv, "POST", "/v2/members/me/video-rooms", bearer(tokens), body);
  BOOST_TEST_REQUIRE(created.status == 201, created.body);
  const auto room = body_of(created);
  BOOST_TEST(room["member"]["appUserId"] == "alice");
  BOOST_TEST(room["videoRoomState"] == "SCHEDULED");
  const auto room_path = "/v2/members/me/video-rooms/" + std::to_string(room["id"].get<std::int64_t>());
  BOOST_TEST(header_of(created, "location") == room_path);
  auto bob_room = call(srv, "POST", "/v2/members/me/video-rooms", bearer(bob), new_room);
  BOOST_TEST_REQUIRE(bob_room.status == 201, bob_room.body);
  const auto bob_room_path = "/v2/members/me/video-rooms/" + std::to_string(body_of(bob_room)["id"].get<std::int64_t>());
  check_status(call(srv, "POST", "/v2/members/me/video-rooms", bearer(tokens), json{{"title", "x"}}), 400);

  auto list = call(srv, "GET", "/v2/members/me/video-rooms", bearer(tokens));
  BOOST_TEST_REQUIRE(list.status == 200, list.body);
  BOOST_TEST(body_of(list)["totalElements"] == 1);
  BOOST_TEST(body_of(list)["content"][0]["id"] == room["id"]);
  BOOST_TEST(body_of(call(srv, "GET", "/v2/members/me/video-rooms?appUserId=bob", bearer(tokens)))["totalElements"] == 1);
  BOOST_TEST(call(srv, "GET", room_path, bearer(tokens)).status == 200);

  // ---- another member's room is not found, for reads and state changes alike
  check_status(call(srv, "GET", bob_room_path, bearer(tokens)), 404, "VIDEO_ROOM_NOT_FOUND");
  check_status(call(srv, "POST", bob_room_path + "/rtmp-broadcast/state/cancelled", bearer(tokens)), 404,
               "VIDEO_ROOM_NOT_FOUND");
  check_status(call(srv, "POST", bob_room_path + "/rtmp-broadcast/state/live", bearer(tokens)), 404);
  check_status(call(srv, "POST", bob_room_path + "/rtmp-broadcast/state/ended", bearer(tokens)), 404);
  check_status(call(srv, "GET", room_path, bearer(bob)), 404, "VIDEO_ROOM_NOT_FOUND");

  // ---- state changes on one's own room: live needs a publisher's key, cancel works
  check_status(call(srv, "POST", room_path + "/rtmp-broadcast/state/live", bearer(tokens)), 409,
               "STREAM_KEY_STATE_NOT_ACTIVE");
  check_status(call(srv, "POST", room_path + "/rtmp-broadcast/state/ended", bearer(tokens)), 409);
  auto cancelled = call(srv, "POST", room_path + "/rtmp-broadcast/state/cancelled", bearer(tokens));
  BOOST_TEST_REQUIRE(cancelled.status == 200, cancelled.body);
  BOOST_TEST(body_of(cancelled)["videoRoomState"] == "CANCELLED");

  // ---- refresh: a new pair that works; an access token or garbage is refused
  auto refreshed = call(srv, "POST", "/v2/members/me/token/refresh", "", json{{"refreshToken", tokens["refreshToken"]}});
  BOOST_TEST_REQUIRE(refreshed.status == 200, refreshed.body);
  const auto renewed = body_of(refreshed);
  BOOST_TEST(renewed["member"]["appUserId"] == "alice");
  BOOST_TEST(call(srv, "GET", "/v2/members/me", bearer(renewed)).status == 200);
}

// A fresh server: each refused token counts toward the address's failure limit.
BOOST_AUTO_TEST_CASE(refused_refresh_tokens_and_deleted_members) {
  temp_dir dir;
  server_process srv{dir.path() / "data"};
  srv.wait_ready();
  const auto app = first_app(srv);
  auto login = call(srv, "POST", "/v2/apps/me/members/login", app.auth(), json{{"appUserId", "alice"}});
  BOOST_TEST_REQUIRE(login.status == 200, login.body);
  const auto tokens = body_of(login);
  const auto access = tokens["accessToken"].get<std::string>();
  auto bob_login = call(srv, "POST", "/v2/apps/me/members/login", app.auth(), json{{"appUserId", "bob"}});
  BOOST_TEST_REQUIRE(bob_login.status == 200, bob_login.body);
  const auto bob = body_of(bob_login);

  check_status(call(srv, "POST", "/v2/members/me/token/refresh", "", json{{"refreshToken", access}}), 401, "UNAUTHORIZED");
  check_status(call(srv, "POST", "/v2/members/me/token/refresh", "", json{{"refreshToken", "a.b.c"}}), 401);
  check_status(call(srv, "POST", "/v2/members/me/token/refresh", "", json::object()), 400);

  // ---- a deleted member's tokens stop working, even once the appUserId is registered again
  BOOST_TEST_REQUIRE(call(srv, "DELETE", "/v2/apps/me/members/bob", app.auth()).status == 204);
  check_status(call(srv, "GET", "/v2/members/me", bearer(bob)), 401, "UNAUTHORIZED");
  check_status(call(srv, "POST", "/v2/members/me/token/refresh", "", json{{"refreshToken", bob["refreshToken"]}}), 401);
  BOOST_TEST_REQUIRE(call(srv, "POST", "/v2/apps/me/members", app.auth(), json{{"appUserId", "bob"}}).status == 201);
  check_status(call(srv, "GET", "/v2/members/me", bearer(bob)), 401, "UNAUTHORIZED");
  BOOST_TEST(call(srv, "GET", "/v2/members/me", bearer(tokens)).status == 200); // others unaffected
}

BOOST_AUTO_TEST_CASE(repeated_failed_authentication_from_one_address_is_slowed_down) {
  temp_dir dir;
  server_process srv{dir.path() / "data"};
  srv.wait_ready();
  const auto app = first_app(srv);

  // Successes do not count.
  for (int i = 0; i < 15; ++i)
    BOOST_TEST_REQUIRE(call(srv, "GET", "/v2/apps/me/members", app.auth()).status == 200);
  // Failures do, on the Basic and the Bearer path alike.
  for (int i = 0; i < 5; ++i)
    check_status(call(srv, "GET", "/v2/apps/me/members", basic_auth(app.key, app.secret + "x")), 401);
  for (int i = 0; i < 5; ++i)
    check_status(call(srv, "GET", "/v2/members/me", "Bearer not.a.token"), 401);
  // The limit is reached: even the right secret is answered 429 for now, on every path.
  auto slowed = call(srv, "GET", "/v2/apps/me/members", app.auth());
  check_status(slowed, 429, "TOO_MANY_REQUESTS");
  const auto retry_after = header_of(slowed, "retry-after");
  BOOST_TEST_REQUIRE(!retry_after.empty(), slowed.head);
  BOOST_TEST(std::stoi(retry_after) > 0);
  BOOST_TEST(std::stoi(retry_after) <= 60);
  check_status(call(srv, "POST", "/v2/apps/me/video-rooms", app.auth(), new_room), 429);
  check_status(call(srv, "GET", "/v2/members/me", "Bearer not.a.token"), 429);
  check_status(call(srv, "POST", "/v2/members/me/token/refresh", "", json{{"refreshToken", "a.b.c"}}), 429);
  BOOST_TEST(contains(srv.stdout_text() + srv.stderr_text(), "authentication failing repeatedly"));
  // Unauthenticated endpoints are not affected.
  BOOST_TEST(call(srv, "GET", "/healthz", "").status == 200);
}

BOOST_AUTO_TEST_SUITE_END()
