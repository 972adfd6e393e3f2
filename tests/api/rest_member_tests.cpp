// The server REST API for members, stream keys, transcoding profiles and video posts (api.md),
// driven over HTTP against the real binary. One server per test case, many checks each; nothing
// here needs RTMP, so keys stay INACTIVE and no video post can exist.
#include <regex>

#include "harness.hpp"

using namespace onair::test_harness;

namespace {


// One app's view of a running server.
struct client {
  const server_process& srv;
  std::string authorization; // empty: no header

  http_reply call(const std::string& method, const std::string& path, const std::string& body = {},
                  headers_t extra = {}) const {
    if (!authorization.empty())
      extra.emplace_back("Authorization", authorization);
    if (!body.empty())
      extra.emplace_back("Content-Type", "application/json");
    return http_call(srv.http().host, srv.http().port, method, "/v2/apps/me" + path, extra, body);
  }
  http_reply get(const std::string& path) const { return call("GET", path); }
  http_reply post(const std::string& path, const json& body) const { return call("POST", path, body.dump()); }
  http_reply patch(const std::string& path, const json& body) const { return call("PATCH", path, body.dump()); }
  http_reply del(const std::string& path) const { return call("DELETE", path); }
};

client client_for(const server_process& srv, const std::string& key, const std::string& secret) {
  return client{srv, basic_auth(key, secret)};
}

json body_of(const http_reply& r) {
  auto j = json::parse(r.body, nullptr, false);
  BOOST_REQUIRE_MESSAGE(!j.is_discarded(), "not JSON (" << r.status << "): '" << r.body << "'");
  return j;
}

// The error body of api.md with the expected status, code and (where given) field.
void check_error(const http_reply& r, int status, const std::string& code, const std::string& field = {}) {
  BOOST_TEST(r.status == status, "expected " << status << " " << code << ", got " << r.status << ": " << r.body);
  auto j = json::parse(r.body, nullptr, false);
  BOOST_REQUIRE_MESSAGE(!j.is_discarded() && j.is_object(), "error body is not JSON: '" << r.body << "'");
  BOOST_TEST(j.value("errorCode", "") == code, r.body);
  BOOST_TEST(j.value("status", 0) == status, r.body);
  BOOST_TEST(j.contains("errorMessage"), r.body);
  if (!field.empty())
    BOOST_TEST(j.value("field", "") == field, r.body);
}

// The first app, printed by `serve` on a fresh data folder.
client first_app(const server_process& srv) {
  const auto out = srv.stdout_text();
  const auto key = printed_value(out, "apiKey:");
  const auto secret = printed_value(out, "apiSecret:");
  BOOST_REQUIRE_MESSAGE(!key.empty() && !secret.empty(), out);
  return client_for(srv, key, secret);
}

void check_envelope(const json& page, std::int64_t total, int number, int size, std::size_t elements) {
  BOOST_TEST(page["totalElements"] == total, page.dump());
  BOOST_TEST(page["totalPages"] == (total + size - 1) / size, page.dump());
  BOOST_TEST(page["number"] == number, page.dump());
  BOOST_TEST(page["size"] == size, page.dump());
  BOOST_TEST(page["numberOfElements"] == elements, page.dump());
  BOOST_TEST(page["content"].size() == elements, page.dump());
  BOOST_TEST(page["first"] == (number == 0), page.dump());
  BOOST_TEST(page["last"] == (number + 1 >= (total + size - 1) / size), page.dump());
  BOOST_TEST(page["empty"] == (elements == 0), page.dump());
}

std::vector<std::string> app_user_ids(const json& page) {
  std::vector<std::string> ids;
  for (const auto& m : page["content"])
    ids.push_back(m["appUserId"].get<std::string>());
  return ids;
}

} // namespace

BOOST_AUTO_TEST_SUITE(rest_members)

BOOST_AUTO_TEST_CASE(members_upsert_read_patch_list_delete_validate_and_authenticate) {
  temp_dir dir;
  server_process srv{dir.path() / "data"};
  srv.wait_ready();
  const auto a = first_app(srv);

  // ---- authentication: 401 without, with a wrong secret, an unknown key, a malformed header
  {
    const auto app = create_app(dir.path() / "data", "second");
    const auto key = app["apiKey"].get<std::string>();
    const auto secret = app["apiSecret"].get<std::string>();
    BOOST_TEST(client_for(srv, key, secret).get("/members").status == 200);
    check_error(client{srv, ""}.get("/members"), 401, "UNAUTHORIZED");
    check_error(client_for(srv, key, secret + "x").get("/members"), 401, "UNAUTHORIZED");
    check_error(client_for(srv, key + "x", secret).get("/members"), 401, "UNAUTHORIZED");
    check_error(client{srv, "Basic !!notbase64"}.get("/members"), 401, "UNAUTHORIZED");
    check_error(client{srv, "Bearer " + secret}.get("/stream-keys"), 401, "UNAUTHORIZED");
    check_error(client{srv, ""}.post("/members", json{{"appUserId", "x"}}), 401, "UNAUTHORIZED");
    check_error(client{srv, ""}.get("/transcoding-profiles"), 401, "UNAUTHORIZED");
    check_error(client{srv, ""}.get("/video-posts"), 401, "UNAUTHORIZED");
  }

  // ---- upsert: 201 created, 200 updated, every field of Member
  auto created = a.post("/members", json{{"appUserId", "alice"},
                                         {"appUserName", "Alice"},
                                         {"appUserProfileImgUrl", "https://img.example/alice.png"},
                                         {"email", "alice@example.com"},
                                         {"customType", "vip"},
                                         {"customData", {{"tier", "gold"}}}});
  BOOST_TEST_REQUIRE(created.status == 201, created.body);
  const auto alice = body_of(created);
  BOOST_TEST(alice["id"].is_number_integer());
  BOOST_TEST(alice["state"] == "ACTIVE");
  BOOST_TEST(alice["appUserId"] == "alice");
  BOOST_TEST(alice["appUserName"] == "Alice");
  BOOST_TEST(alice["appUserProfileImgUrl"] == "https://img.example/alice.png");
  BOOST_TEST(alice["email"] == "alice@example.com");
  BOOST_TEST(alice["customType"] == "vip");
  BOOST_TEST(alice["customData"] == json({{"tier", "gold"}}));
  BOOST_TEST(is_iso_ms(alice["createdAt"]), alice.dump());
  BOOST_TEST(is_iso_ms(alice["lastModifiedAt"]), alice.dump());

  auto updated = a.post("/members", json{{"appUserId", "alice"}, {"appUserName", "Alice B."}});
  BOOST_TEST(updated.status == 200, updated.body);
  BOOST_TEST(body_of(updated)["appUserName"] == "Alice B.");
  BOOST_TEST(body_of(updated)["id"] == alice["id"]);
  BOOST_TEST(body_of(updated)["email"] == "alice@example.com"); // absent = unchanged
  BOOST_TEST(a.post("/members", json{{"appUserId", "alice"}}).status == 200); // nothing to change

  // ---- read one
  auto got = a.get("/members/alice");
  BOOST_TEST(got.status == 200, got.body);
  BOOST_TEST(body_of(got)["appUserName"] == "Alice B.");
  check_error(a.get("/members/nobody"), 404, "MEMBER_NOT_FOUND");
  check_error(a.get("/members/bad%20id"), 404, "MEMBER_NOT_FOUND");

  // ---- patch
  auto patched = a.patch("/members/alice", json{{"email", "a@example.org"}, {"customData", {{"k", "v"}}}});
  BOOST_TEST(patched.status == 200, patched.body);
  BOOST_TEST(body_of(patched)["email"] == "a@example.org");
  BOOST_TEST(body_of(patched)["customData"] == json({{"k", "v"}}));
  BOOST_TEST(body_of(patched)["appUserName"] == "Alice B.");
  BOOST_TEST(body_of(a.get("/members/alice"))["email"] == "a@example.org");
  BOOST_TEST(a.patch("/members/alice", json{{"appUserId", "alice"}, {"customType", "x"}}).status == 200);
  check_error(a.patch("/members/alice", json{{"appUserId", "bob"}}), 400, "INVALID_PARAMETER", "appUserId");
  check_error(a.patch("/members/nobody", json{{"email", "x@y"}}), 404, "MEMBER_NOT_FOUND");

  // ---- validation: the domain's codes with the field; malformed input is INVALID_PARAMETER
  const std::string s51(51, 'x');
  check_error(a.post("/members", json{{"appUserName", "no id"}}), 400, "INVALID_APP_USER_ID", "appUserId");
  check_error(a.post("/members", json{{"appUserId", ""}}), 400, "INVALID_APP_USER_ID", "appUserId");
  check_error(a.post("/members", json{{"appUserId", "has space"}}), 400, "INVALID_APP_USER_ID", "appUserId");
  check_error(a.post("/members", json{{"appUserId", std::string(65, 'a')}}), 400, "INVALID_APP_USER_ID", "appUserId");
  BOOST_TEST(a.post("/members", json{{"appUserId", std::string(64, 'a')}}).status == 201);
  check_error(a.post("/members", json{{"appUserId", "v1"}, {"customType", s51}}), 400,
              "CUSTOM_TYPE_SIZE_UPPER_LIMIT_EXCEEDED", "customType");
  json eleven = json::object();
  for (int i = 0; i < 11; ++i)
    eleven["k" + std::to_string(i)] = "v";
  check_error(a.post("/members", json{{"appUserId", "v1"}, {"customData", eleven}}), 400,
              "CUSTOM_DATA_ITEM_COUNT_UPPER_LIMIT_EXCEEDED", "customData");
  check_error(a.post("/members", json{{"appUserId", "v1"}, {"customData", {{s51, "v"}}}}), 400,
              "CUSTOM_DATA_ITEM_NAME_SIZE_UPPER_LIMIT_EXCEEDED", "customData");
  check_error(a.post("/members", json{{"appUserId", "v1"}, {"customData", {{"k", s51}}}}), 400,
              "CUSTOM_DATA_ITEM_VALUE_SIZE_UPPER_LIMIT_EXCEEDED", "customData");
  check_error(a.patch("/members/alice", json{{"customType", s51}}), 400, "CUSTOM_TYPE_SIZE_UPPER_LIMIT_EXCEEDED",
              "customType");
  check_error(a.patch("/members/alice", json{{"customData", eleven}}), 400,
              "CUSTOM_DATA_ITEM_COUNT_UPPER_LIMIT_EXCEEDED", "customData");
  check_error(a.call("POST", "/members", "{\"appUserId\": \"v1\""), 400, "INVALID_PARAMETER");
  check_error(a.call("POST", "/members", "[1, 2]"), 400, "INVALID_PARAMETER");
  check_error(a.call("POST", "/members", ""), 400, "INVALID_PARAMETER");
  check_error(a.call("PATCH", "/members/alice", "{not json"), 400, "INVALID_PARAMETER");
  check_error(a.post("/members", json{{"appUserId", 42}}), 400, "INVALID_PARAMETER", "appUserId");
  check_error(a.post("/members", json{{"appUserId", "v1"}, {"appUserName", 5}}), 400, "INVALID_PARAMETER",
              "appUserName");
  check_error(a.post("/members", json{{"appUserId", "v1"}, {"customData", {{"k", 1}}}}), 400, "INVALID_PARAMETER",
              "customData");
  check_error(a.post("/members", json{{"appUserId", "v1"}, {"customData", "text"}}), 400, "INVALID_PARAMETER",
              "customData");
  check_error(a.post("/members", json{{"appUserId", "v1"}, {"nickname", "typo"}}), 400, "INVALID_PARAMETER",
              "nickname");
  check_error(a.patch("/members/alice", json{{"email", true}}), 400, "INVALID_PARAMETER", "email");
  check_error(a.get("/members/v1"), 404, "MEMBER_NOT_FOUND"); // nothing refused was stored

  // ---- list: envelope, paging edges, order, prefix filter, bad parameters
  for (const char* id : {"team-1", "team-2", "team-3"})
    BOOST_TEST_REQUIRE(a.post("/members", json{{"appUserId", id}}).status == 201);
  // alice, aaa…(64), team-1, team-2, team-3 in creation order
  auto all = body_of(a.get("/members"));
  check_envelope(all, 5, 0, 20, 5);
  BOOST_TEST(app_user_ids(all).front() == "team-3"); // CREATED_AT_DESC by default
  BOOST_TEST(app_user_ids(all).back() == "alice");
  auto asc = body_of(a.get("/members?sortBy=CREATED_AT_ASC"));
  BOOST_TEST(app_user_ids(asc).front() == "alice");
  BOOST_TEST(app_user_ids(asc).back() == "team-3");
  auto modified = body_of(a.get("/members?sortBy=LAST_MODIFIED_AT_DESC&pageSize=1"));
  BOOST_TEST(app_user_ids(modified).size() == 1u);
  BOOST_TEST(a.get("/members?sortBy=LAST_MODIFIED_AT_ASC").status == 200);

  auto p0 = body_of(a.get("/members?pageSize=2"));
  check_envelope(p0, 5, 0, 2, 2);
  auto p2 = body_of(a.get("/members?pageSize=2&page=2"));
  check_envelope(p2, 5, 2, 2, 1);
  BOOST_TEST(p2["last"] == true);
  auto beyond = body_of(a.get("/members?pageSize=2&page=7"));
  check_envelope(beyond, 5, 7, 2, 0);
  auto exact = body_of(a.get("/members?pageSize=5"));
  check_envelope(exact, 5, 0, 5, 5);
  BOOST_TEST(exact["last"] == true);
  BOOST_TEST(body_of(a.get("/members?pageSize=100"))["size"] == 100);

  auto teams = body_of(a.get("/members?appUserId=team-&sortBy=CREATED_AT_ASC"));
  check_envelope(teams, 3, 0, 20, 3);
  BOOST_TEST((app_user_ids(teams) == std::vector<std::string>{"team-1", "team-2", "team-3"}), teams.dump());
  check_envelope(body_of(a.get("/members?appUserId=zzz")), 0, 0, 20, 0);

  check_error(a.get("/members?pageSize=0"), 400, "INVALID_PARAMETER", "pageSize");
  check_error(a.get("/members?pageSize=101"), 400, "INVALID_PARAMETER", "pageSize");
  check_error(a.get("/members?pageSize=ten"), 400, "INVALID_PARAMETER", "pageSize");
  check_error(a.get("/members?page=-1"), 400, "INVALID_PARAMETER", "page");
  check_error(a.get("/members?sortBy=NAME_ASC"), 400, "INVALID_PARAMETER", "sortBy");

  // ---- delete: 204, gone from reads and lists, its key revoked (gone), twice is 404
  auto key = a.get("/members/team-2/stream-key");
  BOOST_TEST_REQUIRE(key.status == 200, key.body);
  const auto key_id = body_of(key)["id"].get<std::int64_t>();
  const auto key_path = "/stream-keys/" + std::to_string(key_id);
  BOOST_TEST(a.get(key_path).status == 200);

  auto deleted = a.del("/members/team-2");
  BOOST_TEST(deleted.status == 204, deleted.body);
  BOOST_TEST(deleted.body.empty());
  check_error(a.get("/members/team-2"), 404, "MEMBER_NOT_FOUND");
  check_error(a.get("/members/team-2/stream-key"), 404, "MEMBER_NOT_FOUND");
  check_error(a.get(key_path), 404, "STREAM_KEY_NOT_FOUND");
  check_error(a.call("POST", key_path + "/reissue"), 404, "STREAM_KEY_NOT_FOUND");
  check_error(a.patch(key_path, json{{"defaultMode", "CMAF"}}), 404, "STREAM_KEY_NOT_FOUND");
  check_error(a.del("/members/team-2"), 404, "MEMBER_NOT_FOUND");
  check_error(a.patch("/members/team-2", json{{"email", "x@y"}}), 404, "MEMBER_NOT_FOUND");
  check_envelope(body_of(a.get("/members?appUserId=team-")), 2, 0, 20, 2);
  const auto listed_keys = body_of(a.get("/stream-keys?pageSize=100"));
  for (const auto& k : listed_keys["content"])
    BOOST_TEST(k["id"] != key_id, "the revoked key is still listed");
  check_error(a.del("/members/nobody"), 404, "MEMBER_NOT_FOUND");

  // Registering the same appUserId again makes a new member with a new key.
  auto again = a.post("/members", json{{"appUserId", "team-2"}});
  BOOST_TEST(again.status == 201, again.body);
  auto new_key = a.get("/members/team-2/stream-key");
  BOOST_TEST_REQUIRE(new_key.status == 200, new_key.body);
  BOOST_TEST(body_of(new_key)["id"] != key_id);

  BOOST_TEST(srv.stop() == 0, srv.stderr_text());
}

BOOST_AUTO_TEST_CASE(the_app_reads_and_changes_its_settings_as_events) {
  temp_dir dir;
  server_process srv{dir.path() / "data"};
  srv.wait_ready();
  const auto a = first_app(srv);

  // GET /v2/apps/me: the app, its defaults, no secret
  const auto me = body_of(a.get(""));
  BOOST_TEST(me["id"].is_number_integer());
  BOOST_TEST(!me["name"].get<std::string>().empty());
  BOOST_TEST(me["settings"] == json({{"defaultMode", "RTMP"}, {"defaultProfileId", 1}, {"reconnectWindowSeconds", 0}}));
  BOOST_TEST(!me.contains("apiSecret"));
  BOOST_TEST(!me.contains("secretHash"));
  check_error(client{srv, ""}.get(""), 401, "UNAUTHORIZED");

  // PATCH: what is given changes, the rest stays; the answer and a later GET agree
  auto changed = a.patch("", json{{"settings", {{"defaultMode", "CMAF"}, {"reconnectWindowSeconds", 90}}}});
  BOOST_TEST_REQUIRE(changed.status == 200, changed.body);
  BOOST_TEST(body_of(changed)["settings"] ==
             json({{"defaultMode", "CMAF"}, {"defaultProfileId", 1}, {"reconnectWindowSeconds", 90}}));
  BOOST_TEST(body_of(a.get(""))["settings"]["reconnectWindowSeconds"] == 90);
  // and a key made from now on defaults to the app's mode
  BOOST_TEST_REQUIRE(a.post("/members", json{{"appUserId", "newcomer"}}).status / 100 == 2);
  BOOST_TEST(body_of(a.get("/members/newcomer/stream-key"))["defaultMode"] == "CMAF");

  // refusals name the field
  check_error(a.patch("", json{{"settings", {{"reconnectWindowSeconds", -5}}}}), 400, "INVALID_PARAMETER",
              "reconnectWindowSeconds");
  check_error(a.patch("", json{{"settings", {{"defaultMode", "HLS"}}}}), 400, "INVALID_PARAMETER", "defaultMode");
  check_error(a.patch("", json{{"settings", {{"defaultProfileId", 99}}}}), 404, "TRANSCODING_PROFILE_NOT_FOUND",
              "defaultProfileId");
  check_error(a.patch("", json{{"settings", {{"colour", "blue"}}}}), 400, "INVALID_PARAMETER", "colour");
  check_error(a.patch("", json{{"name", "x"}}), 400, "INVALID_PARAMETER", "name");
  check_error(a.patch("", json{{"settings", 3}}), 400, "INVALID_PARAMETER", "settings");
}

BOOST_AUTO_TEST_CASE(stream_keys_profiles_video_posts_and_app_isolation) {
  temp_dir dir;
  server_process srv{dir.path() / "data"};
  srv.wait_ready();
  const auto a = first_app(srv);
  const auto other = create_app(dir.path() / "data", "other");
  const auto b = client_for(srv, other["apiKey"].get<std::string>(), other["apiSecret"].get<std::string>());

  BOOST_TEST_REQUIRE(a.post("/members", json{{"appUserId", "carol"}, {"appUserName", "Carol"}}).status == 201);
  BOOST_TEST_REQUIRE(a.post("/members", json{{"appUserId", "dave"}}).status == 201);
  const auto carol = body_of(a.get("/members/carol"));

  // ---- the member's key: every field of StreamKey while INACTIVE
  auto via_member = a.get("/members/carol/stream-key");
  BOOST_TEST_REQUIRE(via_member.status == 200, via_member.body);
  const auto key = body_of(via_member);
  const auto id = key["id"].get<std::int64_t>();
  const auto path = "/stream-keys/" + std::to_string(id);
  BOOST_TEST(key["streamKeyState"] == "INACTIVE");
  BOOST_TEST(key["member"] == json({{"id", carol["id"]}, {"appUserId", "carol"}, {"appUserName", "Carol"}}));
  BOOST_TEST(key["videoRoom"].is_null());
  const auto ingest_url = key["ingestUrl"].get<std::string>();
  BOOST_TEST(ingest_url.rfind("rtmp://", 0) == 0, ingest_url);
  BOOST_TEST(ingest_url.size() > 5u);
  BOOST_TEST(ingest_url.substr(ingest_url.size() - 5) == "/live", ingest_url);
  const auto value = key["streamKey"].get<std::string>();
  BOOST_TEST(value.size() >= 22u, value); // >= 128 bits in URL-safe base64
  BOOST_TEST(std::regex_match(value, std::regex{"[A-Za-z0-9_-]+"}), value);
  BOOST_TEST(key["mode"] == "RTMP");
  BOOST_TEST(key["defaultMode"] == "RTMP");
  BOOST_TEST(key["profile"] == json({{"id", 1}, {"name", "cmaf-landscape"}, {"orientation", "HORIZONTAL"}}));
  for (const char* url : {"rtmpPlayUrl", "httpFlvPlayUrl", "cmafHlsPlayUrl", "cmafDashPlayUrl"})
    BOOST_TEST(key[url].is_null(), url << " filled while INACTIVE: " << key.dump());
  BOOST_TEST(key["ingest"].is_null());
  BOOST_TEST(key["error"].is_null());
  BOOST_TEST(key["version"].is_number_integer());
  BOOST_TEST(is_iso_ms(key["createdAt"]));
  BOOST_TEST(is_iso_ms(key["lastModifiedAt"]));
  BOOST_TEST(header_of(via_member, "etag") == "\"" + std::to_string(key["version"].get<std::int64_t>()) + "\"");

  auto by_id = a.get(path);
  BOOST_TEST_REQUIRE(by_id.status == 200, by_id.body);
  BOOST_TEST(body_of(by_id) == key);
  BOOST_TEST(header_of(by_id, "etag") == "\"" + std::to_string(key["version"].get<std::int64_t>()) + "\"");
  check_error(a.get("/stream-keys/999999"), 404, "STREAM_KEY_NOT_FOUND");
  check_error(a.get("/stream-keys/abc"), 400, "INVALID_PARAMETER", "id");

  // ---- list and its state filter
  auto keys = body_of(a.get("/stream-keys"));
  check_envelope(keys, 2, 0, 20, 2);
  check_envelope(body_of(a.get("/stream-keys?streamKeyState=INACTIVE&pageSize=1")), 2, 0, 1, 1);
  check_envelope(body_of(a.get("/stream-keys?streamKeyState=ACTIVE")), 0, 0, 20, 0);
  check_error(a.get("/stream-keys?streamKeyState=ON"), 400, "INVALID_PARAMETER", "streamKeyState");
  check_error(a.get("/stream-keys?sortBy=x"), 400, "INVALID_PARAMETER", "sortBy");

  // ---- patch: profile and default mode; the domain's refusals with the field
  auto patched = a.patch(path, json{{"profileId", 2}, {"defaultMode", "CMAF"}});
  BOOST_TEST_REQUIRE(patched.status == 200, patched.body);
  const auto after = body_of(patched);
  BOOST_TEST(after["profile"] == json({{"id", 2}, {"name", "cmaf-portrait"}, {"orientation", "VERTICAL"}}));
  BOOST_TEST(after["defaultMode"] == "CMAF");
  BOOST_TEST(after["version"].get<std::int64_t>() > key["version"].get<std::int64_t>());
  BOOST_TEST(body_of(a.get(path)) == after);
  check_error(a.patch(path, json{{"profileId", 99}}), 404, "TRANSCODING_PROFILE_NOT_FOUND", "profileId");
  check_error(a.patch(path, json{{"profileId", 3}}), 400, "INVALID_PARAMETER", "profileId"); // a VOD profile
  check_error(a.patch(path, json{{"profileId", "2"}}), 400, "INVALID_PARAMETER", "profileId");
  check_error(a.patch(path, json{{"defaultMode", "HLS"}}), 400, "INVALID_PARAMETER", "defaultMode");
  check_error(a.patch(path, json{{"defaultMode", 1}}), 400, "INVALID_PARAMETER", "defaultMode");
  check_error(a.patch(path, json{{"streamKey", "mine"}}), 400, "INVALID_PARAMETER", "streamKey");
  check_error(a.call("PATCH", path, "{\"profileId\":"), 400, "INVALID_PARAMETER");
  check_error(a.call("PATCH", path, R"({"defaultMode": "RTMP"})", {{"If-Match", "\"1\""}}), 412, "VERSION_CONFLICT");
  const auto current = "\"" + std::to_string(after["version"].get<std::int64_t>()) + "\"";
  BOOST_TEST(a.call("PATCH", path, R"({"defaultMode": "RTMP"})", {{"If-Match", current}}).status == 200);
  check_error(a.patch("/stream-keys/999999", json{{"defaultMode", "RTMP"}}), 404, "STREAM_KEY_NOT_FOUND");

  // ---- reissue: a new value while INACTIVE
  auto reissued = a.call("POST", path + "/reissue");
  BOOST_TEST_REQUIRE(reissued.status == 200, reissued.body);
  const auto fresh = body_of(reissued);
  BOOST_TEST(fresh["id"] == id);
  BOOST_TEST(fresh["streamKey"] != value);
  BOOST_TEST(fresh["streamKeyState"] == "INACTIVE");
  BOOST_TEST(body_of(a.get(path))["streamKey"] == fresh["streamKey"]);
  check_error(a.call("POST", "/stream-keys/999999/reissue"), 404, "STREAM_KEY_NOT_FOUND");

  // ---- force-terminate: 204, a no-op on an idle key
  auto terminated = a.call("POST", path + "/force-terminate");
  BOOST_TEST(terminated.status == 204, terminated.body);
  BOOST_TEST(body_of(a.get(path))["streamKey"] == fresh["streamKey"]);
  BOOST_TEST(body_of(a.get(path))["streamKeyState"] == "INACTIVE");
  check_error(a.call("POST", "/stream-keys/999999/force-terminate"), 404, "STREAM_KEY_NOT_FOUND");

  // ---- transcoding profiles
  auto profiles = body_of(a.get("/transcoding-profiles"));
  BOOST_TEST(profiles["totalElements"].get<int>() >= 3, profiles.dump());
  BOOST_TEST(profiles["first"] == true);
  BOOST_TEST(profiles["content"][0]["id"] == 1);
  auto second = body_of(a.get("/transcoding-profiles?pageSize=1&page=1"));
  BOOST_TEST(second["content"].size() == 1u);
  BOOST_TEST(second["content"][0]["id"] == 2);
  BOOST_TEST(second["number"] == 1);
  check_envelope(body_of(a.get("/transcoding-profiles?page=50")), profiles["totalElements"].get<std::int64_t>(), 50,
                 20, 0);
  check_error(a.get("/transcoding-profiles?pageSize=0"), 400, "INVALID_PARAMETER", "pageSize");
  auto landscape = body_of(a.get("/transcoding-profiles/1"));
  BOOST_TEST(landscape["name"] == "cmaf-landscape");
  BOOST_TEST(landscape["type"] == "LIVE");
  BOOST_TEST(landscape["orientation"] == "HORIZONTAL");
  BOOST_TEST(landscape["segmentDurationMs"].is_number_integer());
  BOOST_TEST(landscape["partDurationMs"].is_number_integer());
  BOOST_TEST_REQUIRE(landscape["videoStreams"].size() >= 2u, landscape.dump());
  BOOST_TEST(landscape["videoStreams"][0]["width"] == 1280);
  BOOST_TEST(landscape["videoStreams"][0]["height"] == 720);
  for (const char* f : {"bitrateKbps", "fps", "codec"})
    BOOST_TEST(landscape["videoStreams"][0].contains(f), f);
  for (const char* f : {"codec", "bitrateKbps", "sampleRate", "channels"})
    BOOST_TEST(landscape["audioStream"].contains(f), f);
  BOOST_TEST(body_of(a.get("/transcoding-profiles/2"))["orientation"] == "VERTICAL");
  BOOST_TEST(body_of(a.get("/transcoding-profiles/3"))["type"] == "VOD");
  check_error(a.get("/transcoding-profiles/999"), 404, "TRANSCODING_PROFILE_NOT_FOUND");
  check_error(a.get("/transcoding-profiles/x"), 400, "INVALID_PARAMETER", "id");
  check_error(a.get("/transcoding-profiles/99"), 404, "TRANSCODING_PROFILE_NOT_FOUND");

  // ---- video posts: none without a broadcast
  check_envelope(body_of(a.get("/video-posts")), 0, 0, 20, 0);
  check_envelope(body_of(a.get("/video-posts?videoRoomId=5&appUserId=carol")), 0, 0, 20, 0);
  check_error(a.get("/video-posts?videoRoomId=abc"), 400, "INVALID_PARAMETER", "videoRoomId");
  check_error(a.get("/video-posts?pageSize=500"), 400, "INVALID_PARAMETER", "pageSize");
  check_error(a.get("/video-posts/1"), 404, "VIDEO_POST_NOT_FOUND");
  check_error(a.del("/video-posts/1"), 404, "VIDEO_POST_NOT_FOUND");
  check_error(a.del("/video-posts/x"), 400, "INVALID_PARAMETER", "id");

  // ---- isolation: app b sees none of app a's resources, and has its own namespace of appUserIds
  check_error(b.get("/members/carol"), 404, "MEMBER_NOT_FOUND");
  check_error(b.get("/members/carol/stream-key"), 404, "MEMBER_NOT_FOUND");
  check_error(b.patch("/members/carol", json{{"email", "x@y"}}), 404, "MEMBER_NOT_FOUND");
  check_error(b.del("/members/carol"), 404, "MEMBER_NOT_FOUND");
  check_error(b.get(path), 404, "STREAM_KEY_NOT_FOUND");
  check_error(b.patch(path, json{{"defaultMode", "RTMP"}}), 404, "STREAM_KEY_NOT_FOUND");
  check_error(b.call("POST", path + "/reissue"), 404, "STREAM_KEY_NOT_FOUND");
  check_error(b.call("POST", path + "/force-terminate"), 404, "STREAM_KEY_NOT_FOUND");
  check_envelope(body_of(b.get("/members")), 0, 0, 20, 0);
  check_envelope(body_of(b.get("/stream-keys")), 0, 0, 20, 0);
  auto b_carol = b.post("/members", json{{"appUserId", "carol"}, {"appUserName", "Other Carol"}});
  BOOST_TEST(b_carol.status == 201, b_carol.body);
  BOOST_TEST(body_of(a.get("/members/carol"))["appUserName"] == "Carol");
  BOOST_TEST(body_of(b.get("/members/carol/stream-key"))["id"] != id);
  check_envelope(body_of(a.get("/members")), 2, 0, 20, 2);

  BOOST_TEST(srv.stop() == 0, srv.stderr_text());
}

BOOST_AUTO_TEST_SUITE_END()
