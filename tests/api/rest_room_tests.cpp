// The video-room API of api.md (/v2/apps/me/video-rooms…). The rest_rooms suite drives the real
// `onair` binary over HTTP, one server per case with several checks each. Transitions that need a
// publisher (key ACTIVE) cannot be driven over HTTP until RTMP ingest exists, so rest_rooms_live
// runs the server in-process and plays the publisher through the runtime, as the ingest will.
#include <future>

#include "api/server.hpp"
#include "harness.hpp"

using namespace onair::test_harness;

namespace {

using client = api_client;
using reply = api_reply;

std::string room_path(const json& room) {
  return "/v2/apps/me/video-rooms/" + std::to_string(room["id"].get<std::int64_t>());
}

const std::vector<std::string> room_fields{
    "id",          "uuid",          "type",          "protocol",      "videoRoomState", "vodState",
    "vodUrl",      "accessLevel",   "member",        "title",         "description",    "customType",
    "customData",  "scheduledAt",   "cancelledAt",   "liveStartedAt", "liveEndedAt",    "vodArchivedAt",
    "streamKey",   "playUrl",       "rtmpPlayUrl",   "httpFlvPlayUrl", "cmafHlsPlayUrl", "cmafDashPlayUrl",
    "videoPost",   "version",       "createdAt",     "lastModifiedAt"};

void check_every_field(const json& room) {
  for (const auto& f : room_fields)
    BOOST_TEST(room.contains(f), "the room has no " << f << ": " << room.dump());
}

// A running server with one app (and its API client).
struct served_app {
  temp_dir dir;
  fs::path data = dir.path() / "data";
  server_process srv{data};
  std::optional<client> api;

  served_app() {
    srv.wait_ready();
    auto app = create_app(data, "rooms");
    api.emplace(srv.http(), app["apiKey"].get<std::string>(), app["apiSecret"].get<std::string>());
  }
  client second_app(const std::string& name) {
    auto app = create_app(data, name);
    return client{srv.http(), app["apiKey"].get<std::string>(), app["apiSecret"].get<std::string>()};
  }
};

constexpr const char* rooms = "/v2/apps/me/video-rooms";

} // namespace

BOOST_AUTO_TEST_SUITE(rest_rooms)

BOOST_AUTO_TEST_CASE(create_answers_201_with_every_field_and_get_shows_the_same_room) {
  served_app s;
  const auto& api = *s.api;
  const auto owner = api.member("alice");
  auto body = client::room_body("alice", "Launch day");
  body["description"] = "the first one";
  body["accessLevel"] = "PUBLIC";
  body["customType"] = "launch";
  body["customData"] = json{{"k", "v"}};
  auto r = api.post(rooms, body);
  BOOST_REQUIRE_MESSAGE(r.status == 201, r);
  const auto& room = r.body;
  check_every_field(room);
  BOOST_TEST(room["id"].get<std::int64_t>() > 0);
  BOOST_TEST(room["uuid"].get<std::string>().size() == 36u, room.dump());
  BOOST_TEST(room["type"] == "BROADCAST_RTMP");
  BOOST_TEST(room["protocol"] == "RTMP");
  BOOST_TEST(room["videoRoomState"] == "SCHEDULED");
  BOOST_TEST(room["vodState"] == "NOT_ARCHIVED");
  BOOST_TEST(room["vodUrl"].is_null());
  BOOST_TEST(room["accessLevel"] == "PUBLIC");
  BOOST_TEST(room["member"] == json({{"id", owner["id"]}, {"appUserId", "alice"}, {"appUserName", "Name of alice"}}),
             room.dump());
  BOOST_TEST(room["title"] == "Launch day");
  BOOST_TEST(room["description"] == "the first one");
  BOOST_TEST(room["customType"] == "launch");
  BOOST_TEST(room["customData"] == json({{"k", "v"}}));
  BOOST_TEST(room["scheduledAt"] == "2026-11-24T09:30:00.000Z");
  for (const char* f : {"cancelledAt", "liveStartedAt", "liveEndedAt", "vodArchivedAt", "streamKey", "playUrl",
                        "rtmpPlayUrl", "httpFlvPlayUrl", "cmafHlsPlayUrl", "cmafDashPlayUrl", "videoPost"})
    BOOST_TEST(room[f].is_null(), f << " of a scheduled room: " << room.dump());
  BOOST_TEST(room["version"] == 1);
  BOOST_TEST(is_iso_ms(room["createdAt"]), room.dump());
  BOOST_TEST(is_iso_ms(room["lastModifiedAt"]), room.dump());
  BOOST_TEST(r.header("ETag") == "\"1\"", r.head);
  BOOST_TEST(r.header("Location") == room_path(room), r.head);

  auto got = api.get(room_path(room));
  BOOST_TEST(got.status == 200, got);
  BOOST_TEST(got.body == room, got);
  BOOST_TEST(got.header("ETag") == "\"1\"", got.head);

  // Optional fields left out: defaults, not errors.
  auto plain = api.post(rooms, client::room_body("alice"));
  BOOST_TEST(plain.status == 201, plain);
  BOOST_TEST(plain.body["accessLevel"] == "PUBLIC");
  BOOST_TEST(plain.body["customData"] == json::object());
  BOOST_TEST(plain.body["id"] != room["id"]);
  BOOST_TEST(plain.body["uuid"] != room["uuid"]);

  check_error(api.get("/v2/apps/me/video-rooms/999999999"), 404, "VIDEO_ROOM_NOT_FOUND");
  check_error(api.get("/v2/apps/me/video-rooms/abc"), 400, "INVALID_PARAMETER", "id");
  check_error(api.get("/v2/apps/me/video-rooms/0"), 400, "INVALID_PARAMETER", "id");
  check_error(api.get("/v2/apps/me/video-rooms/-3"), 400, "INVALID_PARAMETER", "id");
  check_error(api.get("/v2/apps/me/video-rooms/99999999999999999999999"), 400, "INVALID_PARAMETER", "id");
}

BOOST_AUTO_TEST_CASE(create_refuses_bad_input_naming_the_field) {
  served_app s;
  const auto& api = *s.api;
  api.member("alice");
  auto without = [](const char* field) {
    auto b = client::room_body("alice");
    b.erase(field);
    return b;
  };
  auto with = [](const char* field, json v) {
    auto b = client::room_body("alice");
    b[field] = std::move(v);
    return b;
  };
  check_error(api.post(rooms, without("type")), 400, "EMPTY_VIDEO_ROOM_TYPE", "type");
  check_error(api.post(rooms, with("type", "")), 400, "EMPTY_VIDEO_ROOM_TYPE", "type");
  check_error(api.post(rooms, with("type", "BROADCAST_WEBRTC")), 400, "INVALID_PARAMETER", "type");
  check_error(api.post(rooms, with("type", 7)), 400, "INVALID_PARAMETER", "type");
  check_error(api.post(rooms, without("title")), 400, "EMPTY_VIDEO_ROOM_TITLE", "title");
  check_error(api.post(rooms, with("title", "   ")), 400, "EMPTY_VIDEO_ROOM_TITLE", "title");
  check_error(api.post(rooms, with("title", nullptr)), 400, "EMPTY_VIDEO_ROOM_TITLE", "title");
  check_error(api.post(rooms, with("scheduledAt", nullptr)), 400, "EMPTY_VIDEO_ROOM_SCHEDULED_AT", "scheduledAt");
  check_error(api.post(rooms, with("title", json::array())), 400, "INVALID_PARAMETER", "title");
  check_error(api.post(rooms, with("title", std::string(5000, 'x'))), 400, "INVALID_PARAMETER", "title");
  check_error(api.post(rooms, with("description", std::string(100000, 'x'))), 400, "INVALID_PARAMETER",
              "description");
  check_error(api.post(rooms, without("scheduledAt")), 400, "EMPTY_VIDEO_ROOM_SCHEDULED_AT", "scheduledAt");
  check_error(api.post(rooms, with("scheduledAt", "tomorrow")), 400, "INVALID_PARAMETER", "scheduledAt");
  check_error(api.post(rooms, with("scheduledAt", 12345)), 400, "INVALID_PARAMETER", "scheduledAt");
  check_error(api.post(rooms, with("accessLevel", "PRIVATE")), 400, "INVALID_PARAMETER", "accessLevel");
  check_error(api.post(rooms, without("appUserId")), 400, "INVALID_APP_USER_ID", "appUserId");
  check_error(api.post(rooms, with("appUserId", "no spaces allowed")), 400, "INVALID_APP_USER_ID", "appUserId");
  check_error(api.post(rooms, with("appUserId", "bob")), 404, "MEMBER_NOT_FOUND", "appUserId");
  check_error(api.post(rooms, with("customType", std::string(51, 'c'))), 400, "CUSTOM_TYPE_SIZE_UPPER_LIMIT_EXCEEDED",
              "customType");
  json many = json::object();
  for (int i = 0; i < 11; ++i)
    many["k" + std::to_string(i)] = "v";
  check_error(api.post(rooms, with("customData", many)), 400, "CUSTOM_DATA_ITEM_COUNT_UPPER_LIMIT_EXCEEDED",
              "customData");
  check_error(api.post(rooms, with("customData", json{{"k", 1}})), 400, "INVALID_PARAMETER", "customData");
  check_error(api.post(rooms, with("customData", "x")), 400, "INVALID_PARAMETER", "customData");
  check_error(api.post(rooms, with("titel", "typo")), 400, "INVALID_PARAMETER", "titel");
  check_error(api.call("POST", rooms, "{not json"), 400, "INVALID_PARAMETER");
  check_error(api.call("POST", rooms, "[1,2]"), 400, "INVALID_PARAMETER");
  check_error(api.call("POST", rooms, ""), 400, "INVALID_PARAMETER");

  // A deleted member owns no new rooms.
  api.member("gone");
  auto del = api.call("DELETE", "/v2/apps/me/members/gone");
  BOOST_TEST(del.status == 204, del);
  check_error(api.post(rooms, client::room_body("gone")), 404, "MEMBER_NOT_FOUND", "appUserId");

  // Nothing was created by any of these.
  auto list = api.get(rooms);
  BOOST_TEST(list.status == 200, list);
  BOOST_TEST(list.body["totalElements"] == 0, list);
}

BOOST_AUTO_TEST_CASE(list_filters_pages_and_sorts) {
  served_app s;
  const auto& api = *s.api;
  api.member("alice");
  api.member("bob");
  std::vector<json> made;
  for (int i = 0; i < 3; ++i)
    made.push_back(api.room("alice", "a" + std::to_string(i)));
  for (int i = 0; i < 2; ++i)
    made.push_back(api.room("bob", "b" + std::to_string(i)));
  auto cancelled = api.post(room_path(made[1]) + "/rtmp-broadcast/state/cancelled", json::object());
  BOOST_REQUIRE_MESSAGE(cancelled.status == 200, cancelled);

  auto all = api.get(rooms);
  BOOST_REQUIRE_MESSAGE(all.status == 200, all);
  BOOST_TEST(all.body["totalElements"] == 5);
  BOOST_TEST(all.body["totalPages"] == 1);
  BOOST_TEST(all.body["number"] == 0);
  BOOST_TEST(all.body["size"] == 20);
  BOOST_TEST(all.body["numberOfElements"] == 5);
  BOOST_TEST(all.body["first"] == true);
  BOOST_TEST(all.body["last"] == true);
  BOOST_TEST(all.body["empty"] == false);
  BOOST_REQUIRE(all.body["content"].size() == 5u);
  BOOST_TEST(all.body["content"][0]["id"] == made[4]["id"], "newest first by default");
  check_every_field(all.body["content"][0]);

  auto page1 = api.get(std::string{rooms} + "?pageSize=2&page=1&sortBy=CREATED_AT_ASC");
  BOOST_REQUIRE_MESSAGE(page1.status == 200, page1);
  BOOST_TEST(page1.body["totalElements"] == 5);
  BOOST_TEST(page1.body["totalPages"] == 3);
  BOOST_TEST(page1.body["number"] == 1);
  BOOST_TEST(page1.body["size"] == 2);
  BOOST_TEST(page1.body["first"] == false);
  BOOST_TEST(page1.body["last"] == false);
  BOOST_REQUIRE(page1.body["content"].size() == 2u);
  BOOST_TEST(page1.body["content"][0]["id"] == made[2]["id"]);
  BOOST_TEST(page1.body["content"][1]["id"] == made[3]["id"]);
  auto beyond = api.get(std::string{rooms} + "?pageSize=2&page=7");
  BOOST_TEST(beyond.body["empty"] == true, beyond);
  BOOST_TEST(beyond.body["content"].empty(), beyond);

  auto bobs = api.get(std::string{rooms} + "?appUserId=bob");
  BOOST_TEST(bobs.body["totalElements"] == 2, bobs);
  for (const auto& r : bobs.body["content"])
    BOOST_TEST(r["member"]["appUserId"] == "bob");
  auto gone = api.get(std::string{rooms} + "?videoRoomState=CANCELLED");
  BOOST_REQUIRE_MESSAGE(gone.body["totalElements"] == 1, gone);
  BOOST_TEST(gone.body["content"][0]["id"] == made[1]["id"]);
  auto scheduled_alice = api.get(std::string{rooms} + "?videoRoomState=SCHEDULED&appUserId=alice&type=BROADCAST_RTMP");
  BOOST_TEST(scheduled_alice.body["totalElements"] == 2, scheduled_alice);
  BOOST_TEST(api.get(std::string{rooms} + "?videoRoomState=LIVE").body["totalElements"] == 0);
  BOOST_TEST(api.get(std::string{rooms} + "?appUserId=nobody").body["totalElements"] == 0);

  check_error(api.get(std::string{rooms} + "?videoRoomState=OPEN"), 400, "INVALID_PARAMETER", "videoRoomState");
  check_error(api.get(std::string{rooms} + "?type=WEBRTC"), 400, "INVALID_PARAMETER", "type");
  check_error(api.get(std::string{rooms} + "?pageSize=101"), 400, "INVALID_PARAMETER", "pageSize");
  check_error(api.get(std::string{rooms} + "?page=-1"), 400, "INVALID_PARAMETER", "page");
  check_error(api.get(std::string{rooms} + "?sortBy=TITLE"), 400, "INVALID_PARAMETER", "sortBy");
}

BOOST_AUTO_TEST_CASE(patch_changes_fields_and_honours_if_match) {
  served_app s;
  const auto& api = *s.api;
  api.member("alice");
  const auto room = api.room("alice");
  const auto path = room_path(room);

  auto r = api.call("PATCH", path,
                    json{{"title", "Renamed"}, {"description", "d"}, {"customType", "t"},
                         {"customData", json{{"a", "b"}}}, {"scheduledAt", "2027-01-02T03:04:05.678Z"}}
                        .dump(),
                    {{"If-Match", "\"1\""}});
  BOOST_REQUIRE_MESSAGE(r.status == 200, r);
  BOOST_TEST(r.body["title"] == "Renamed");
  BOOST_TEST(r.body["description"] == "d");
  BOOST_TEST(r.body["customType"] == "t");
  BOOST_TEST(r.body["customData"] == json({{"a", "b"}}));
  BOOST_TEST(r.body["scheduledAt"] == "2027-01-02T03:04:05.678Z");
  BOOST_TEST(r.body["version"] == 2);
  BOOST_TEST(r.header("ETag") == "\"2\"", r.head);
  check_every_field(r.body);

  auto stale = api.call("PATCH", path, json{{"title", "Lost"}}.dump(), {{"If-Match", "\"1\""}});
  check_error(stale, 412, "VERSION_CONFLICT");
  auto got = api.get(path);
  BOOST_TEST(got.body["title"] == "Renamed", got);
  BOOST_TEST(got.header("ETag") == "\"2\"", got.head);

  // Without If-Match, or with `*`, there is no condition; an unchanged field makes no new version.
  auto star = api.call("PATCH", path, json{{"title", "Renamed"}}.dump(), {{"If-Match", "*"}});
  BOOST_TEST(star.status == 200, star);
  BOOST_TEST(star.body["version"] == 2, star);
  auto free = api.call("PATCH", path, json{{"description", "e"}}.dump());
  BOOST_TEST(free.status == 200, free);
  BOOST_TEST(free.body["version"] == 3, free);
  BOOST_TEST(free.body["title"] == "Renamed", free);

  check_error(api.call("PATCH", path, json{{"title", " "}}.dump()), 400, "EMPTY_VIDEO_ROOM_TITLE", "title");
  check_error(api.call("PATCH", path, json{{"title", 3}}.dump()), 400, "INVALID_PARAMETER", "title");
  check_error(api.call("PATCH", path, json{{"scheduledAt", "soon"}}.dump()), 400, "INVALID_PARAMETER", "scheduledAt");
  check_error(api.call("PATCH", path, json{{"type", "BROADCAST_RTMP"}}.dump()), 400, "INVALID_PARAMETER", "type");
  check_error(api.call("PATCH", path, json{{"customType", std::string(60, 'x')}}.dump()), 400,
              "CUSTOM_TYPE_SIZE_UPPER_LIMIT_EXCEEDED", "customType");
  check_error(api.call("PATCH", path, "{"), 400, "INVALID_PARAMETER");
  check_error(api.call("PATCH", "/v2/apps/me/video-rooms/999999999", json{{"title", "x"}}.dump()), 404,
              "VIDEO_ROOM_NOT_FOUND");
  BOOST_TEST(api.get(path).body["version"] == 3);
}

BOOST_AUTO_TEST_CASE(cancel_and_the_refusals_of_live_and_ended) {
  served_app s;
  const auto& api = *s.api;
  api.member("alice");
  const auto room = api.room("alice");
  const auto path = room_path(room);

  // The owner's key is INACTIVE: no publisher, so no Start Live.
  check_error(api.post(path + "/rtmp-broadcast/state/live", json::object()), 409, "STREAM_KEY_STATE_NOT_ACTIVE");
  check_error(api.post(path + "/rtmp-broadcast/state/ended", json::object()), 409, "VIDEO_ROOM_STATE_NOT_LIVE");
  check_error(api.call("POST", path + "/rtmp-broadcast/state/ended?force=true"), 409, "VIDEO_ROOM_STATE_NOT_LIVE");
  check_error(api.call("POST", path + "/rtmp-broadcast/state/ended?force=maybe"), 400, "INVALID_PARAMETER", "force");
  auto still = api.get(path);
  BOOST_TEST(still.body["videoRoomState"] == "SCHEDULED", still);
  BOOST_TEST(still.body["version"] == 1, still);

  auto cancelled = api.call("POST", path + "/rtmp-broadcast/state/cancelled");
  BOOST_REQUIRE_MESSAGE(cancelled.status == 200, cancelled);
  check_every_field(cancelled.body);
  BOOST_TEST(cancelled.body["videoRoomState"] == "CANCELLED");
  BOOST_TEST(is_iso_ms(cancelled.body["cancelledAt"]), cancelled);
  BOOST_TEST(cancelled.body["version"] == 2);
  BOOST_TEST(cancelled.body["playUrl"].is_null());
  // Cancelling again is already satisfied.
  auto again = api.call("POST", path + "/rtmp-broadcast/state/cancelled");
  BOOST_TEST(again.status == 200, again);
  BOOST_TEST(again.body["version"] == 2, again);

  check_error(api.call("POST", path + "/rtmp-broadcast/state/live"), 409, "VIDEO_ROOM_STATE_NOT_SCHEDULED");
  check_error(api.call("POST", path + "/rtmp-broadcast/state/ended"), 409, "VIDEO_ROOM_STATE_NOT_LIVE");
  BOOST_TEST(api.get(path).body["videoRoomState"] == "CANCELLED");

  for (const char* what : {"live", "ended", "cancelled"})
    check_error(api.call("POST", std::string{"/v2/apps/me/video-rooms/999999999/rtmp-broadcast/state/"} + what), 404,
                "VIDEO_ROOM_NOT_FOUND");
}

BOOST_AUTO_TEST_CASE(auth_is_required_and_another_apps_rooms_are_not_found) {
  served_app s;
  const auto& api = *s.api;
  api.member("alice");
  const auto room = api.room("alice");
  const auto path = room_path(room);

  const std::vector<std::pair<std::string, std::string>> calls{
      {"POST", rooms},
      {"GET", rooms},
      {"GET", path},
      {"PATCH", path},
      {"POST", path + "/rtmp-broadcast/state/live"},
      {"POST", path + "/rtmp-broadcast/state/ended"},
      {"POST", path + "/rtmp-broadcast/state/cancelled"}};
  const auto body = client::room_body("alice").dump();
  for (const auto& [method, p] : calls) {
    check_error(api.call(method, p, body, {}, false), 401, "UNAUTHORIZED");
    client wrong{s.srv.http(), "nokey", "nosecret"};
    check_error(wrong.call(method, p, body), 401, "UNAUTHORIZED");
  }
  auto bad_secret = api;
  bad_secret.authorization = "Basic " + base64("x:y");
  check_error(bad_secret.get(rooms), 401, "UNAUTHORIZED");

  const auto other = s.second_app("other");
  check_error(other.get(path), 404, "VIDEO_ROOM_NOT_FOUND");
  check_error(other.call("PATCH", path, json{{"title", "mine"}}.dump()), 404, "VIDEO_ROOM_NOT_FOUND");
  for (const char* what : {"live", "ended", "cancelled"})
    check_error(other.call("POST", path + "/rtmp-broadcast/state/" + what), 404, "VIDEO_ROOM_NOT_FOUND");
  auto theirs = other.get(rooms);
  BOOST_TEST(theirs.status == 200, theirs);
  BOOST_TEST(theirs.body["totalElements"] == 0, theirs);
  // Members are per app too: the other app cannot give alice a room.
  check_error(other.post(rooms, client::room_body("alice")), 404, "MEMBER_NOT_FOUND");

  auto mine = api.get(path);
  BOOST_TEST(mine.status == 200, mine);
  BOOST_TEST(mine.body["videoRoomState"] == "SCHEDULED");
  BOOST_TEST(mine.body["title"] == "Launch");
}

BOOST_AUTO_TEST_SUITE_END()

// ---- the publisher-driven success paths, with the server in this process
namespace {

namespace domain = onair::domain;

template <class R>
R wait_for(const std::function<void(std::function<void(R)>)>& start) {
  auto p = std::make_shared<std::promise<R>>();
  auto f = p->get_future();
  start([p](R r) { p->set_value(std::move(r)); });
  return f.get();
}

struct in_process_app {
  temp_dir dir;
  std::unique_ptr<onair::api::server> srv;
  std::optional<client> api;
  domain::app_id app_id = 0;

  in_process_app() {
    onair::api::server_config cfg;
    cfg.data_dir = (dir.path() / "data").string();
    cfg.http_listen = "127.0.0.1:0";
    cfg.rtmp_listen = "127.0.0.1:0";
    cfg.kafka = "off";
    srv = std::make_unique<onair::api::server>(cfg);
    auto port = srv->start();
    BOOST_REQUIRE_MESSAGE(port.ok(), (port.ok() ? "" : port.error().message));
    auto app = onair::api::create_app_sync(srv->runtime(), "live");
    BOOST_REQUIRE(app.ok());
    app_id = (*app)["id"].get<domain::app_id>();
    api.emplace(endpoint{"127.0.0.1", *port}, (*app)["apiKey"].get<std::string>(),
                (*app)["apiSecret"].get<std::string>());
  }

  domain::member member(const std::string& app_user_id) {
    domain::upsert_member cmd;
    cmd.app_user_id = app_user_id;
    cmd.app_user_name = "Name of " + app_user_id;
    auto r = wait_for<domain::result<onair::actors::outcome<domain::member_aggregate>>>(
        [&](auto done) { srv->runtime().upsert_member(app_id, cmd, onair::domain::provenance::system("test"), done); });
    BOOST_REQUIRE(r.ok());
    return r->state;
  }

  // What the ingest will do: a publisher connects with the key, then its stream becomes viewable.
  void publish(std::int64_t key_id, const std::string& session, domain::output_mode mode) {
    auto& rt = srv->runtime();
    auto key = rt.get_sync<domain::stream_key_aggregate>({app_id, std::to_string(key_id)});
    BOOST_REQUIRE(key.ok());
    auto c = rt.key_command_sync(app_id, key_id,
                                 domain::connect_publisher{key->state.value, mode, domain::output_mode::rtmp,
                                                           "127.0.0.1:50000", session}, onair::domain::provenance::system("test"));
    BOOST_REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
    auto v = rt.key_command_sync(app_id, key_id, domain::mark_viewable{session}, onair::domain::provenance::system("test"));
    BOOST_REQUIRE_MESSAGE(v.ok(), (v.ok() ? "" : v.error().message));
  }
  void unpublish(std::int64_t key_id, const std::string& session) {
    auto d = srv->runtime().key_command_sync(app_id, key_id, domain::disconnect_publisher{session, "closed"}, onair::domain::provenance::system("test"));
    BOOST_REQUIRE_MESSAGE(d.ok(), (d.ok() ? "" : d.error().message));
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(rest_rooms_live)

BOOST_AUTO_TEST_CASE(start_live_pause_and_end_live_over_http) {
  in_process_app s;
  const auto& api = *s.api;
  const auto alice = s.member("alice");
  const auto room = api.room("alice");
  const auto second = api.room("alice", "second");
  const auto path = room_path(room);
  s.publish(alice.stream_key_id, "s1", domain::output_mode::rtmp_cmaf);

  auto live = api.call("POST", path + "/rtmp-broadcast/state/live");
  BOOST_REQUIRE_MESSAGE(live.status == 200, live);
  check_every_field(live.body);
  const auto& r = live.body;
  BOOST_TEST(r["videoRoomState"] == "LIVE");
  BOOST_TEST(is_iso_ms(r["liveStartedAt"]), r.dump());
  BOOST_TEST(r["streamKey"] == json({{"id", alice.stream_key_id}, {"streamKeyState", "ACTIVE_LIVE"}}), r.dump());
  const auto rtmp_play = r["rtmpPlayUrl"].get<std::string>();
  BOOST_TEST(rtmp_play.rfind(s.srv->rtmp_base_url() + "/play/", 0) == 0, rtmp_play);
  const auto public_id = rtmp_play.substr(rtmp_play.rfind('/') + 1);
  BOOST_TEST(!public_id.empty());
  const auto http_base = s.srv->base_url();
  BOOST_TEST(r["httpFlvPlayUrl"] == http_base + "/play/" + public_id + ".flv");
  BOOST_TEST(r["cmafHlsPlayUrl"] == http_base + "/play/" + public_id + "/index.m3u8");
  BOOST_TEST(r["cmafDashPlayUrl"] == http_base + "/play/" + public_id + "/manifest.mpd");
  BOOST_TEST(r["playUrl"] == r["cmafHlsPlayUrl"]);
  BOOST_TEST(r["videoPost"].is_null());

  // Again on the same room: it is not SCHEDULED any more. Another room of the owner: one at a time.
  check_error(api.call("POST", path + "/rtmp-broadcast/state/live"), 409, "VIDEO_ROOM_STATE_NOT_SCHEDULED");
  auto other = api.call("POST", room_path(second) + "/rtmp-broadcast/state/live");
  BOOST_TEST(other.status == 409, other);
  // The publisher is still on: End Live without force is refused.
  check_error(api.call("POST", path + "/rtmp-broadcast/state/ended"), 409, "STREAM_KEY_STATE_NOT_INACTIVE_LIVE");
  check_error(api.call("POST", path + "/rtmp-broadcast/state/cancelled"), 409, "VIDEO_ROOM_STATE_NOT_SCHEDULED");

  s.unpublish(alice.stream_key_id, "s1");
  auto paused = api.get(path);
  BOOST_TEST(paused.body["videoRoomState"] == "LIVE_INACTIVE", paused);
  BOOST_TEST(paused.body["streamKey"]["streamKeyState"] == "INACTIVE_LIVE", paused);
  BOOST_TEST(paused.body["playUrl"] == r["playUrl"], paused);
  auto listed = api.get(std::string{rooms} + "?videoRoomState=LIVE_INACTIVE");
  BOOST_TEST(listed.body["totalElements"] == 1, listed);

  auto ended = api.call("POST", path + "/rtmp-broadcast/state/ended");
  BOOST_REQUIRE_MESSAGE(ended.status == 200, ended);
  const auto& e = ended.body;
  BOOST_TEST(e["videoRoomState"] == "ENDED");
  BOOST_TEST(e["vodState"] != "NOT_ARCHIVED", e.dump());
  BOOST_TEST(is_iso_ms(e["liveEndedAt"]), e.dump());
  BOOST_TEST(e["streamKey"]["streamKeyState"] == "INACTIVE", e.dump());
  BOOST_REQUIRE_MESSAGE(e["videoPost"].is_object(), e.dump());
  BOOST_TEST(e["videoPost"]["id"].get<std::int64_t>() > 0);
  BOOST_TEST(e["videoPost"]["videoPostState"].is_string());
  for (const char* f : {"playUrl", "rtmpPlayUrl", "httpFlvPlayUrl", "cmafHlsPlayUrl", "cmafDashPlayUrl"})
    BOOST_TEST(e[f].is_null(), f << " of an ended room: " << e.dump());
  // Ending an ended room is already satisfied.
  auto twice = api.call("POST", path + "/rtmp-broadcast/state/ended");
  BOOST_TEST(twice.status == 200, twice);
  BOOST_TEST(twice.body["videoRoomState"] == "ENDED");
}

BOOST_AUTO_TEST_CASE(forced_end_while_the_publisher_is_on_and_rtmp_only_urls) {
  in_process_app s;
  const auto& api = *s.api;
  const auto bob = s.member("bob");
  const auto room = api.room("bob");
  const auto path = room_path(room);
  s.publish(bob.stream_key_id, "s1", domain::output_mode::rtmp);

  auto live = api.call("POST", path + "/rtmp-broadcast/state/live");
  BOOST_REQUIRE_MESSAGE(live.status == 200, live);
  BOOST_TEST(live.body["rtmpPlayUrl"].is_string(), live);
  BOOST_TEST(live.body["httpFlvPlayUrl"].is_string(), live);
  BOOST_TEST(live.body["cmafHlsPlayUrl"].is_null(), live);
  BOOST_TEST(live.body["cmafDashPlayUrl"].is_null(), live);
  BOOST_TEST(live.body["playUrl"] == live.body["httpFlvPlayUrl"], live);

  auto forced = api.call("POST", path + "/rtmp-broadcast/state/ended?force=true");
  BOOST_REQUIRE_MESSAGE(forced.status == 200, forced);
  BOOST_TEST(forced.body["videoRoomState"] == "ENDED", forced);
  BOOST_TEST(forced.body["streamKey"]["streamKeyState"] == "INACTIVE", forced);
  BOOST_TEST(forced.body["videoPost"].is_object(), forced);
  BOOST_TEST(forced.body["version"].get<std::int64_t>() > live.body["version"].get<std::int64_t>());
  // An ended room is never live again.
  s.publish(bob.stream_key_id, "s2", domain::output_mode::rtmp);
  check_error(api.call("POST", path + "/rtmp-broadcast/state/live"), 409, "VIDEO_ROOM_STATE_NOT_SCHEDULED");
}

BOOST_AUTO_TEST_SUITE_END()
