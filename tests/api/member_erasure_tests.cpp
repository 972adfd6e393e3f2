// Erasing a member's personal data through the API (crypto-shredding): its key is destroyed, so
// every stored copy — the member's events, its rooms' copies of its name, the views, a rebuild —
// reads as erased; onair.member.erased tells the feed's readers (and Kafka's) to drop theirs; the
// audit chain still verifies, from inside and from outside; nothing personal is left in the data
// folder's files.
#include <fstream>
#include <iterator>
#include <sstream>

#include "feed_client.hpp"

using namespace onair::test_harness;

namespace {

constexpr const char* email = "eve.private@example.com";

struct served : one_app_server {
  served() : one_app_server("erasing") {}

  // Eve registers with her personal data and schedules a room of her own; returns the room's id.
  std::int64_t eve_and_her_room() {
    const auto login = call("POST", "/v2/apps/me/members/login", auth,
                            json{{"appUserId", "eve"},
                                 {"appUserName", "Eve Moneypenny"},
                                 {"appUserProfileImgUrl", "https://img.example/eve.png"},
                                 {"email", email},
                                 {"customType", "vip"},
                                 {"customData", {{"phone", "+44 20 7946 0999"}}}});
    BOOST_REQUIRE_MESSAGE(login.status == 200 || login.status == 201, login.body);
    const auto token = json::parse(login.body)["accessToken"].get<std::string>();
    const auto room = call("POST", "/v2/members/me/video-rooms", "Bearer " + token,
                           json{{"type", "BROADCAST_RTMP"}, {"title", "Eve live"}, {"scheduledAt", "2026-11-24T09:30:00.000Z"}});
    BOOST_REQUIRE_MESSAGE(room.status == 201, room.body);
    return json::parse(room.body)["id"].get<std::int64_t>();
  }
};

// Every file under dir whose bytes hold text.
std::vector<std::string> files_holding(const fs::path& dir, const std::string& text) {
  std::vector<std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file())
      continue;
    std::ifstream in{entry.path(), std::ios::binary};
    const std::string bytes{std::istreambuf_iterator<char>{in}, {}};
    if (bytes.find(text) != std::string::npos)
      out.push_back(entry.path().string());
  }
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(member_erasure)

BOOST_AUTO_TEST_CASE(given_a_member_with_a_room_when_erased_then_every_copy_of_its_data_reads_erased_and_the_trail_verifies) {
  served s;
  const auto room_id = s.eve_and_her_room();
  const auto room_path = "/v2/apps/me/video-rooms/" + std::to_string(room_id);
  {
    const auto room = s.call("GET", room_path, s.auth);
    BOOST_REQUIRE_EQUAL(room.status, 200);
    BOOST_TEST(json::parse(room.body)["member"]["appUserName"] == "Eve Moneypenny");
  }
  BOOST_TEST(s.feed().dump().find(email) != std::string::npos); // shown while the key lives

  const auto erased = s.call("POST", "/v2/apps/me/members/eve/erase", s.auth, nullptr, {{"X-Request-Id", "req-erase-eve"}});
  BOOST_REQUIRE_MESSAGE(erased.status == 200, erased.body);
  const auto answer = json::parse(erased.body);
  BOOST_TEST(answer["appUserId"] == "eve");
  BOOST_TEST(answer["erased"] == true);
  BOOST_TEST(answer["erasedAt"].is_string());

  // Every log line of the request's work says which request it was, and none says who Eve is.
  const auto log = s.srv.stdout_text() + s.srv.stderr_text();
  int lines = 0;
  std::istringstream in{log};
  for (std::string line; std::getline(in, line);)
    if (line.find("kind=ERASE_MEMBER") != std::string::npos || line.find("personal data keys destroyed") != std::string::npos) {
      ++lines;
      BOOST_TEST(line.find("request_id=req-erase-eve") != std::string::npos, line);
    }
  BOOST_TEST(lines >= 3, log); // the flow started, the keys destroyed, the flow completed
  BOOST_TEST(log.find(email) == std::string::npos);
  BOOST_TEST(log.find("Eve Moneypenny") == std::string::npos);

  // The member is gone, as after a deletion; its room stays, without its name.
  BOOST_TEST(s.call("GET", "/v2/apps/me/members/eve", s.auth).status == 404);
  const auto room = s.call("GET", room_path, s.auth);
  BOOST_REQUIRE_EQUAL(room.status, 200);
  BOOST_TEST(json::parse(room.body)["member"]["appUserName"] == "", room.body);
  BOOST_TEST(json::parse(room.body)["title"] == "Eve live");

  // The feed: nothing personal left, the fields marked erased, the erasure itself in the request's
  // correlation, after the member's deletion.
  const auto feed = s.feed();
  for (const auto* text : {"Eve Moneypenny", email, "eve.png", "+44 20"})
    BOOST_TEST(feed.dump().find(text) == std::string::npos, text << " is still in the feed");
  std::vector<std::string> flow_types;
  for (const auto& e : feed) {
    const auto type = e.value("type", "");
    if (type == "onair.member.registered" || type == "onair.video_room.created") {
      BOOST_TEST(e["data"]["personalData"]["erased"] == true, e.dump());
      BOOST_TEST(!e["data"].contains("appUserName"), e.dump());
    }
    if (e.value("onaircorrelationid", "") == "req-erase-eve")
      flow_types.push_back(type);
  }
  BOOST_TEST(std::count(flow_types.begin(), flow_types.end(), "onair.member.deleted") == 1);
  BOOST_TEST(std::count(flow_types.begin(), flow_types.end(), "onair.stream_key.revoked") == 1);
  BOOST_REQUIRE(!flow_types.empty());
  BOOST_TEST(flow_types.back() == "onair.member.erased", json(flow_types).dump());

  // Erasing again changes nothing and answers the same; an appUserId never registered is not found.
  const auto again = s.call("POST", "/v2/apps/me/members/eve/erase", s.auth);
  BOOST_TEST(again.status == 200, again.body);
  int erasures = 0;
  for (const auto& e : s.feed())
    erasures += e.value("type", "") == "onair.member.erased";
  BOOST_TEST(erasures == 1);
  const auto unknown = s.call("POST", "/v2/apps/me/members/nobody/erase", s.auth);
  BOOST_TEST(unknown.status == 404);
  BOOST_TEST(json::parse(unknown.body)["errorCode"] == "MEMBER_NOT_FOUND");
  BOOST_TEST(s.call("POST", "/v2/apps/me/members/bad%20id/erase", s.auth).status == 400);

  // From outside, with the app's credentials, the trail still verifies.
  const auto from_outside = run_onair({"audit", "verify", "--json", "--feed",
                                       "http://" + s.srv.http().host + ":" + std::to_string(s.srv.http().port)},
                                      spawn_options{{{"ONAIR_API_KEY", s.app["apiKey"].get<std::string>()},
                                                     {"ONAIR_API_SECRET", s.app["apiSecret"].get<std::string>()}}});
  BOOST_REQUIRE_MESSAGE(from_outside.code == 0, from_outside);
  BOOST_TEST(json::parse(from_outside.out).value("ok", false), from_outside.out);

  // Inside: the store verifies, a rebuild of the views still shows the name erased, and no file of
  // the data folder holds any of the personal values.
  s.srv.stop();
  const auto verified = run_onair({"audit", "verify", "--json", "--data-dir", s.data.string()});
  BOOST_REQUIRE_MESSAGE(verified.code == 0, verified);
  BOOST_TEST(json::parse(verified.out).value("ok", false), verified.out);
  const auto rebuilt = run_onair({"rebuild-views", "--data-dir", s.data.string()});
  BOOST_REQUIRE_MESSAGE(rebuilt.code == 0, rebuilt);
  for (const auto* text : {"Eve Moneypenny", email, "eve.png", "+44 20 7946"})
    BOOST_TEST(files_holding(s.data, text).empty(), text << " is in " << json(files_holding(s.data, text)).dump());
  server_process restarted{s.data};
  restarted.wait_ready();
  const auto after_rebuild =
      http_call(restarted.http().host, restarted.http().port, "GET", room_path, {{"Authorization", s.auth}});
  BOOST_REQUIRE_EQUAL(after_rebuild.status, 200);
  BOOST_TEST(json::parse(after_rebuild.body)["member"]["appUserName"] == "");
}

BOOST_AUTO_TEST_CASE(given_an_erased_member_when_the_same_app_user_registers_again_then_its_new_data_is_kept_and_shown) {
  served s;
  BOOST_REQUIRE(s.call("POST", "/v2/apps/me/members", s.auth, json{{"appUserId", "finn"}, {"appUserName", "Finn One"}}).status == 201);
  BOOST_REQUIRE(s.call("DELETE", "/v2/apps/me/members/finn", s.auth).status == 204);
  const auto erased = s.call("POST", "/v2/apps/me/members/finn/erase", s.auth); // deleted members erase too
  BOOST_REQUIRE_MESSAGE(erased.status == 200, erased.body);
  const auto back = s.call("POST", "/v2/apps/me/members", s.auth, json{{"appUserId", "finn"}, {"appUserName", "Finn Two"}});
  BOOST_REQUIRE_MESSAGE(back.status == 201, back.body);
  const auto member = s.call("GET", "/v2/apps/me/members/finn", s.auth);
  BOOST_REQUIRE_EQUAL(member.status, 200);
  BOOST_TEST(json::parse(member.body)["appUserName"] == "Finn Two");
  const auto feed = s.feed().dump();
  BOOST_TEST(feed.find("Finn One") == std::string::npos);
  BOOST_TEST(feed.find("Finn Two") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
