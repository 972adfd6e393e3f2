// The user console (/console) walked through in Debian's Chromium, as someone new would: sign in,
// create a member and a room, publish with ffmpeg to the ingest values the room's page shows,
// watch the StreamKey State badge move with the event feed, Start Live, watch, End Live, watch the
// archiving progress, play the VOD; axe-core on every screen (tests/browser/console.mjs). Then the
// API is asked whether what the page showed is what happened. Screenshots of each step are kept
// under build/tests/test-artifacts/player/console.
#include "e2e/e2e.hpp"

namespace {

fs::path console_artifacts() {
  const auto dir = fs::current_path() / "test-artifacts" / "player" / "console";
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// console.mjs's verdict: the JSON line it printed last.
json console_verdict(const std::string& output) {
  json found = json{{"ok", false}, {"reason", "no verdict in: " + output}};
  std::istringstream in{output};
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && line[0] == '{')
      if (auto j = json::parse(line, nullptr, false); !j.is_discarded())
        found = std::move(j);
  return found;
}

} // namespace

BOOST_AUTO_TEST_SUITE(console)

BOOST_AUTO_TEST_CASE(someone_new_broadcasts_and_watches_in_the_console) {
  const fs::path built = fs::path{ONAIR_SOURCE_DIR} / "api" / "web" / "console" / "index.html";
  BOOST_TEST_REQUIRE(fs::exists(built), "the console is not built: run ops/deps (" << built.string() << ")");

  live_server s{{"--x264-preset", "ultrafast", "--vod-preset", "ultrafast"}};
  const auto page = s.srv.get("/console/rooms/1");
  BOOST_TEST_REQUIRE(page.status == 200, page.head);
  BOOST_TEST(contains(page.body, "/console/assets/"), page.body);

  // The credentials go to the script in a file, not on a command line.
  const auto out = s.srv.stdout_text();
  const auto creds = s.dir.path() / "credentials.json";
  {
    std::ofstream f{creds};
    f << json{{"apiKey", printed_value(out, "apiKey:")}, {"apiSecret", printed_value(out, "apiSecret:")}}.dump();
  }
  fs::permissions(creds, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);

  const auto dir = console_artifacts();
  BOOST_TEST_MESSAGE("console screenshots: " << dir.string());
  const auto& http = s.srv.http();
  background run{"exec node '" + std::string{ONAIR_SOURCE_DIR} + "/tests/browser/console.mjs' --base 'http://" +
                     http.host + ":" + std::to_string(http.port) + "' --credentials '" + creds.string() +
                     "' --artifacts '" + dir.string() + "' --seconds 15 --timeout 150",
                 dir / "console.out"};
  BOOST_REQUIRE(eventually([&] { return !run.running(); }, 200s));
  const auto v = console_verdict(run.output());
  BOOST_TEST_MESSAGE("console: " << v.dump());
  BOOST_TEST_REQUIRE(v.value("ok", false),
                     v.value("reason", std::string{"?"}) << " (screens in " << dir.string() << ")");

  // Every step left its screenshot.
  std::vector<std::string> steps;
  for (const auto& st : v["steps"]) {
    steps.push_back(st["step"].get<std::string>());
    BOOST_TEST(fs::exists(dir / st["screenshot"].get<std::string>()), st.dump());
  }
  for (const char* want : {"sign-in", "member-created", "room-scheduled", "key-active", "live-playing",
                           "publisher-stopped", "archiving", "room-archived", "vod-playing", "events", "room-phone"})
    BOOST_TEST((std::find(steps.begin(), steps.end(), want) != steps.end()), "no step " << want << ": " << v.dump());
  BOOST_TEST(v["played"]["live"].get<double>() >= 2.0, v.dump());
  BOOST_TEST(v["played"]["vod"].get<double>() >= 2.0, v.dump());
  BOOST_TEST(v["progressSeen"].back().get<int>() == 100, v.dump());

  // What the page showed is what the API says happened: one room, ended and archived, its post playable.
  const auto rooms = s.api->get("/v2/apps/me/video-rooms").body;
  BOOST_TEST_REQUIRE(rooms["content"].size() == 1u, rooms.dump());
  const auto& room = rooms["content"][0];
  BOOST_TEST(room["title"] == "Console launch", room.dump());
  BOOST_TEST(room["videoRoomState"] == "ENDED", room.dump());
  BOOST_TEST(room["vodState"] == "ARCHIVED", room.dump());
  const auto post_id = room["videoPost"]["id"].get<std::int64_t>();
  const auto post = s.api->get("/v2/apps/me/video-posts/" + std::to_string(post_id)).body;
  BOOST_TEST(post["videoPostState"] == "ARCHIVED", post.dump());
  BOOST_TEST(post.value("durationMs", 0) >= 3000, post.dump());
  const auto owner = room["member"]["appUserId"].get<std::string>();
  const auto key = s.api->get("/v2/apps/me/members/" + owner + "/stream-key").body;
  BOOST_TEST(key["streamKeyState"] == "INACTIVE", key.dump());
}

BOOST_AUTO_TEST_CASE(an_unbuilt_console_answers_503_in_words) {
  // A web folder without the console (the swagger-ui of /docs is beside it, as installed).
  temp_dir web;
  live_server s{{"--web-dir", web.str()}};
  for (const char* path : {"/console", "/console/", "/console/rooms/7"}) {
    const auto r = s.srv.get(path);
    BOOST_TEST(r.status == 503, path << ": " << r.head);
    BOOST_TEST(contains(r.body, "CONSOLE_UNAVAILABLE"), r.body);
  }
}

BOOST_AUTO_TEST_CASE(console_files_are_cached_by_name_and_its_routes_get_the_page) {
  BOOST_TEST_REQUIRE(fs::exists(fs::path{ONAIR_SOURCE_DIR} / "api/web/console/index.html"), "run ops/deps");
  live_server s;
  const auto index = s.srv.get("/console/posts/12");
  BOOST_TEST_REQUIRE(index.status == 200);
  BOOST_TEST(header_of(index, "cache-control") == "no-cache");
  BOOST_TEST(contains(header_of(index, "content-security-policy"), "script-src 'self'"));
  // The hashed script the page names: cached for good.
  const auto at = index.body.find("/console/assets/");
  BOOST_TEST_REQUIRE(at != std::string::npos, index.body);
  const auto script = index.body.substr(at, index.body.find('"', at) - at);
  const auto js = s.srv.get(script);
  BOOST_TEST(js.status == 200, script);
  BOOST_TEST(contains(header_of(js, "cache-control"), "immutable"));
  BOOST_TEST(contains(header_of(js, "content-type"), "javascript"));
  // A file that is not there is a 404, not the page.
  BOOST_TEST(s.srv.get("/console/assets/missing-0000.js").status == 404);
  BOOST_TEST(s.srv.get("/console/robots.txt").status == 404);
}

BOOST_AUTO_TEST_SUITE_END()
