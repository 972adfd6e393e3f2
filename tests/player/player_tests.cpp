// Live streams and VODs played in a real browser: Debian's Chromium, driven by playwright-core, with the
// npm players a viewer's page uses (hls.js for LL-HLS and HLS, dashjs for DASH, mpegts.js for
// HTTP-FLV), through tests/browser/play.mjs, against the onair binary fed by ffmpeg. Each must play
// with currentTime advancing and no error, switch rendition, and ride through a publisher's
// return without a reload. Screenshots and logs of each run are kept under build/test-artifacts.
// Run in the Release pass only (ops/test): the browsers are the point, not the sanitizers.
#include "e2e/e2e.hpp"

namespace {

const std::vector<std::string> cmaf_args{"--x264-preset", "ultrafast"};

fs::path artifacts(const std::string& name) {
  const auto dir = fs::current_path() / "test-artifacts" / "player" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string player_command(const std::string& player, const std::string& url, int seconds, bool with_switch,
                           const fs::path& dir) {
  return "exec node '" + std::string{ONAIR_SOURCE_DIR} + "/tests/browser/play.mjs' --player " + player + " --url '" +
         url + "' --seconds " + std::to_string(seconds) + (with_switch ? " --switch" : "") +
         " --latency --timeout " + std::to_string(seconds + 40) + " --artifacts '" + dir.string() + "'";
}

// play.mjs's verdict: the JSON line it printed.
json verdict(const std::string& output) {
  std::istringstream in{output};
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && line[0] == '{') {
      auto j = json::parse(line, nullptr, false);
      if (!j.is_discarded())
        return j;
    }
  return json{{"ok", false}, {"reason", "no verdict in: " + output}};
}

json play(live_server& s, const std::string& player, const std::string& url, int seconds, bool with_switch) {
  const auto dir = artifacts(player + (with_switch ? "-switch" : ""));
  background p{player_command(player, url, seconds, with_switch, dir), dir / "play.out"};
  BOOST_REQUIRE(eventually([&] { return !p.running(); }, std::chrono::seconds{seconds + 60}));
  auto v = verdict(p.output());
  BOOST_TEST_MESSAGE(player << ": " << v.dump());
  (void)s;
  return v;
}

// hls.js outside its low-latency mode still reloads a live playlist with blocking directives, for
// the last part of the segment being written: up to TARGETDURATION - PART-TARGET away (1.67 s
// here). Yet it gives such a request only max(3 x PART-TARGET, 0.8 x TARGETDURATION) = 1.6 s
// (hls.js src/loader/playlist-loader.ts) and then asks again: a non-fatal levelLoadTimeOut of its
// own making, or audioTrackLoadTimeOut when the request was for the audio playlist (the same loader,
// the same limit), which plain HLS playback may show. Any other error, and any fatal one, fails.
bool hls_js_own_retry(const json& e) {
  if (e.value("fatal", true))
    return false;
  const auto message = e.value("message", "");
  return message.starts_with("hls.js networkError/levelLoadTimeOut") ||
         message.starts_with("hls.js networkError/audioTrackLoadTimeOut");
}

void check_played(const json& v, const std::string& what, bool switched, bool plain_live_hls = false) {
  BOOST_TEST(v.value("ok", false), what << ": " << v.dump());
  BOOST_TEST(v["errors"].is_array(), what << ": " << v.dump());
  for (const auto& e : v["errors"])
    if (!(plain_live_hls && hls_js_own_retry(e)))
      BOOST_TEST(false, what << " error " << e.dump() << " in " << v.dump());
  if (switched)
    BOOST_TEST(v.value("switched", false), what << " did not switch: " << v.dump());
}

} // namespace

BOOST_AUTO_TEST_SUITE(player)

BOOST_AUTO_TEST_CASE(an_rtmp_cmaf_stream_plays_in_chromium_over_ll_hls_hls_dash_and_http_flv) {
  live_server s{cmaf_args};
  const auto k = s.key_of("pia");
  const auto key_id = k["id"].get<std::int64_t>();
  background pub{publish_sized(ingest_url(k) + "?mode=RTMP_CMAF", 1280, 720, 300), s.dir.path() / "pub.log"};
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(key_id, "ACTIVE"); }, 30s), s.key(key_id).dump() << pub.output());
  const auto key = s.key(key_id);
  const auto hls = key["cmafHlsPlayUrl"].get<std::string>();
  const auto dash = key["cmafDashPlayUrl"].get<std::string>();

  const auto ll = play(s, "llhls", hls, 12, true);
  check_played(ll, "LL-HLS", true);
  BOOST_TEST(ll.value("lowLatency", false), "hls.js did not use the parts: " << ll.dump());
  BOOST_TEST(ll["levels"].size() == 2u, ll.dump());
  check_played(play(s, "hls", hls, 10, false), "HLS", false, /*plain_live_hls=*/true);
  const auto d = play(s, "dash", dash, 12, true);
  check_played(d, "DASH", true);
  BOOST_TEST(d.value("lowLatency", false), d.dump());
  check_played(play(s, "flv", key["httpFlvPlayUrl"].get<std::string>(), 10, false), "HTTP-FLV", false);
  BOOST_TEST(pub.running(), pub.output());
}

BOOST_AUTO_TEST_CASE(players_ride_through_a_publisher_return_without_a_reload) {
  live_server s{cmaf_args};
  auto b = go_live(s, "quin", "CMAF", 300);
  const auto& k = b.key;
  const auto key_id = b.key_id;
  auto& pub = b.pub;
  const auto hls = b.live["cmafHlsPlayUrl"].get<std::string>();
  const auto dash = b.live["cmafDashPlayUrl"].get<std::string>();

  int cycle = 0;
  for (const auto& [player, url] : {std::pair{std::string{"llhls"}, hls}, std::pair{std::string{"dash"}, dash}}) {
    const auto dir = artifacts(player + "-return");
    background p{player_command(player, url, 20, false, dir), dir / "play.out"};
    // Playing (play.mjs says so), then the publisher drops and returns.
    BOOST_TEST_REQUIRE(eventually([&] { return fs::exists(dir / "playing"); }, 40s), p.output());
    pub->kill_now();
    BOOST_TEST(eventually([&] { return s.key_in(key_id, "INACTIVE_LIVE"); }), s.key(key_id).dump());
    pub = std::make_unique<background>(publish_sized(ingest_url(k) + "?mode=CMAF", 640, 360, 300),
                                       s.dir.path() / ("pub-" + std::to_string(++cycle) + ".log"));
    BOOST_TEST(eventually([&] { return s.key_in(key_id, "ACTIVE_LIVE"); }, 30s), s.key(key_id).dump());
    BOOST_REQUIRE(eventually([&] { return !p.running(); }, 90s));
    const auto v = verdict(p.output());
    BOOST_TEST_MESSAGE(player << " across a return: " << v.dump());
    BOOST_TEST(v.value("ok", false), player << ": " << v.dump());
  }
}

BOOST_AUTO_TEST_CASE(a_vod_plays_in_chromium_over_hls_and_dash) {
  // Given a broadcast of a 1280x720 source, ended and archived
  live_server s{{"--vod-preset", "ultrafast"}};
  const auto k = s.key_of("rita");
  const auto key_id = k["id"].get<std::int64_t>();
  const auto room_id = s.api->room("rita")["id"].get<std::int64_t>();
  const auto room_path = "/v2/apps/me/video-rooms/" + std::to_string(room_id);
  background pub{publish_sized(ingest_url(k), 1280, 720, 18), s.dir.path() / "pub.log"};
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(key_id, "ACTIVE"); }, 30s), pub.output());
  BOOST_TEST_REQUIRE(s.api->post(room_path + "/rtmp-broadcast/state/live", nullptr).status == 200);
  BOOST_TEST_REQUIRE(eventually([&] { return !pub.running(); }, 40s), pub.output());
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(key_id, "INACTIVE_LIVE"); }), s.key(key_id).dump());
  BOOST_TEST_REQUIRE(s.api->post(room_path + "/rtmp-broadcast/state/ended", nullptr).status == 200);
  const auto post_path = "/v2/apps/me/video-posts/" + std::to_string(s.room(room_id)["videoPost"]["id"].get<std::int64_t>());
  json post;
  BOOST_TEST_REQUIRE(eventually([&] {
    post = s.api->get(post_path).body;
    return post.value("videoPostState", "") == "ARCHIVED";
  }, 120s), post.dump());
  // When hls.js plays it, then it plays from the start, both renditions offered, and switches
  const auto h = play(s, "hls", post["playUrl"].get<std::string>(), 9, true);
  check_played(h, "VOD over HLS", true);
  BOOST_TEST(h["levels"].size() == 2u, h.dump());
  // and so does dashjs (which buffers a VOD far ahead: a switch shows only after that, not checked)
  const auto d = play(s, "dash", post["dashPlayUrl"].get<std::string>(), 6, false);
  check_played(d, "VOD over DASH", false);
  BOOST_TEST(d["levels"].size() == 2u, d.dump());
}

BOOST_AUTO_TEST_SUITE_END()
