// Every broadcast recorded, through the real binary: ffmpeg publishes, drops and comes back, or
// onair itself is killed mid-broadcast and restarted; after End Live the room's broadcast lists a
// complete recording that ffprobe reads cleanly, with every frame published (or all but the last
// second before a kill).
#include "e2e.hpp"
#include "file_probe.hpp"
#include "media/record/checkpoint.hpp"

using onair::testing::probe_file;

namespace {

constexpr int fps = 25;

// `seconds` of H.264/AAC in real time, one GOP for the whole clip (so a recording that starts at
// the key frame before Start Live holds every frame), no B-frames.
std::string publish_clip(const std::string& url, int seconds) {
  const auto t = std::to_string(seconds);
  return "exec ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc2=size=640x360:rate=" + std::to_string(fps) +
         ":duration=" + t + " -f lavfi -i sine=frequency=440:sample_rate=44100:duration=" + t +
         " -c:v libx264 -preset ultrafast -tune zerolatency -g " + std::to_string(fps * seconds) +
         " -c:a aac -f flv '" + url + "'";
}

json recording_of(live_server& s, std::int64_t room_id) {
  const auto r = s.room(room_id);
  return r["broadcast"].is_object() ? r["broadcast"]["recording"] : json{};
}

} // namespace

BOOST_AUTO_TEST_SUITE(recording_e2e)

BOOST_AUTO_TEST_CASE(a_broadcast_with_a_gap_is_one_recording_of_every_frame_with_the_gap_removed) {
  // Given a room live with a publisher
  live_server s;
  const auto k = s.key_of("erin");
  const auto key_id = k["id"].get<std::int64_t>();
  const auto room_id = s.api->room("erin")["id"].get<std::int64_t>();
  const auto room_path = "/v2/apps/me/video-rooms/" + std::to_string(room_id);
  auto pub = std::make_unique<background>(publish_clip(ingest_url(k), 10), s.dir.path() / "pub1.log");
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(key_id, "ACTIVE"); }), pub->output());
  const auto live = s.api->post(room_path + "/rtmp-broadcast/state/live", nullptr);
  BOOST_TEST_REQUIRE(live.status == 200, live);
  BOOST_TEST(eventually([&] { return recording_of(s, room_id).value("state", "") == "RECORDING"; }),
             s.room(room_id).dump());
  // When it publishes 10 s, drops, and publishes 10 s more
  BOOST_TEST_REQUIRE(eventually([&] { return !pub->running(); }, 30s), pub->output());
  BOOST_TEST(eventually([&] { return s.key_in(key_id, "INACTIVE_LIVE"); }), s.key(key_id).dump());
  pub = std::make_unique<background>(publish_clip(ingest_url(k), 10), s.dir.path() / "pub2.log");
  BOOST_TEST_REQUIRE(eventually([&] { return !pub->running(); }, 30s), pub->output());
  BOOST_TEST(pub->code().value_or(-1) == 0, pub->output());
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(key_id, "INACTIVE_LIVE"); }), s.key(key_id).dump());
  // and the broadcast ends
  const auto ended = s.api->post(room_path + "/rtmp-broadcast/state/ended", nullptr);
  BOOST_TEST_REQUIRE(ended.status == 200, ended);
  // Then the broadcast lists one complete recording of 20 s with every frame
  BOOST_TEST_REQUIRE(eventually([&] { return recording_of(s, room_id).value("state", "") == "COMPLETE"; }),
                     s.room(room_id).dump());
  const auto rec = recording_of(s, room_id);
  BOOST_TEST_REQUIRE(rec["parts"].size() == 1u, rec.dump());
  const auto& part = rec["parts"][0];
  BOOST_TEST(part["videoCodec"] == "h264");
  BOOST_TEST(part["audioCodec"] == "aac");
  BOOST_TEST(part["width"] == 640);
  BOOST_TEST(std::abs(rec["durationMs"].get<std::int64_t>() - 20'000) <= 300, rec.dump());
  const auto broadcast_id = s.room(room_id)["broadcast"]["id"].get<std::int64_t>();
  const auto file = s.data / "recordings" / "1" / std::to_string(broadcast_id) / part["file"].get<std::string>();
  BOOST_TEST_REQUIRE(fs::exists(file), file);
  BOOST_TEST(rec["bytes"].get<std::uintmax_t>() == fs::file_size(file));
  const auto p = probe_file(file);
  BOOST_TEST(p.errors == "");
  BOOST_TEST(p.frames == 2 * 10 * fps);
  BOOST_TEST(p.duration == 20.0, boost::test_tools::tolerance(0.3 / 20));
  BOOST_TEST(std::abs(p.video_start - p.audio_start) <= 0.040, p.video_start << " vs " << p.audio_start);
  // and the broadcast's events tell of it
  const auto events = s.api->get("/v2/apps/me/events?limit=1000");
  BOOST_REQUIRE(events.status == 200);
  std::vector<std::string> types;
  for (const auto& e : events.body["events"])
    if (e["type"].get<std::string>().starts_with("onair.broadcast.recording"))
      types.push_back(e["type"]);
  BOOST_TEST_REQUIRE(!types.empty());
  BOOST_TEST(types.front() == "onair.broadcast.recording_started");
  BOOST_TEST(types.back() == "onair.broadcast.recording_completed");
  const auto metrics = http_call(s.srv.http().host, s.srv.http().port, "GET", "/metrics").body;
  BOOST_TEST(contains(metrics, "onair_recordings_active 0"), metrics);
}

BOOST_AUTO_TEST_CASE(a_recording_survives_a_kill_of_onair_and_goes_on_when_the_publisher_returns) {
  // Given a room live, recorded for a few seconds
  live_server s;
  const auto k = s.key_of("frank");
  const auto key_id = k["id"].get<std::int64_t>();
  const auto room_id = s.api->room("frank")["id"].get<std::int64_t>();
  const auto room_path = "/v2/apps/me/video-rooms/" + std::to_string(room_id);
  const auto started = std::chrono::steady_clock::now();
  auto pub = std::make_unique<background>(publish_clip(ingest_url(k), 20), s.dir.path() / "pub1.log");
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(key_id, "ACTIVE"); }), pub->output());
  const auto active = std::chrono::steady_clock::now();
  BOOST_TEST_REQUIRE(s.api->post(room_path + "/rtmp-broadcast/state/live", nullptr).status == 200);
  const auto broadcast_id = s.room(room_id)["broadcast"]["id"].get<std::int64_t>();
  const auto folder = s.data / "recordings" / "1" / std::to_string(broadcast_id);
  // (five seconds synced: the part's last checkpoint says so)
  BOOST_TEST_REQUIRE(eventually([&] {
    const auto c = onair::media::record::last_checkpoint(folder / "part-0001.mp4");
    return c && c->end_ms >= 5000;
  }, 30s));
  // When onair is killed outright
  s.srv.kill_hard();
  const auto killed = std::chrono::steady_clock::now();
  BOOST_TEST(eventually([&] { return !pub->running(); }));
  // and comes back; the publisher returns and publishes 10 s; the broadcast ends
  server_process again{s.data};
  again.wait_ready();
  const auto out = s.srv.stdout_text();
  api_client api{again.http(), printed_value(out, "apiKey:"), printed_value(out, "apiSecret:")};
  const auto room = [&] { return api.get(room_path).body; };
  BOOST_TEST_REQUIRE(room()["videoRoomState"] == "LIVE_INACTIVE", room().dump());
  const auto key = api.get("/v2/apps/me/stream-keys/" + std::to_string(key_id)).body;
  pub = std::make_unique<background>(publish_clip(ingest_url(key), 10), s.dir.path() / "pub2.log");
  BOOST_TEST_REQUIRE(eventually([&] { return !pub->running(); }, 30s), pub->output());
  BOOST_TEST(pub->code().value_or(-1) == 0, pub->output());
  BOOST_TEST_REQUIRE(eventually([&] {
    return api.get("/v2/apps/me/stream-keys/" + std::to_string(key_id)).body.value("streamKeyState", "") == "INACTIVE_LIVE";
  }));
  BOOST_TEST_REQUIRE(api.post(room_path + "/rtmp-broadcast/state/ended", nullptr).status == 200);
  // Then the recording is complete, one part, readable, holding all but at most the last second
  // before the kill, then the 10 s after
  BOOST_TEST_REQUIRE(eventually([&] { return room()["broadcast"]["recording"].value("state", "") == "COMPLETE"; }),
                     room().dump());
  const auto rec = room()["broadcast"]["recording"];
  BOOST_TEST_REQUIRE(rec["parts"].size() == 1u, rec.dump());
  const auto p = probe_file(folder / rec["parts"][0]["file"].get<std::string>());
  BOOST_TEST(p.errors == "");
  const auto secs = [](auto d) { return std::chrono::duration<double>(d).count(); };
  // The publisher sent at most (killed - started) s of frames before the kill, and at least
  // (killed - active) s; the recording may miss the last second of them.
  const double sent_at_most = secs(killed - started), sent_at_least = secs(killed - active);
  BOOST_TEST(p.frames <= std::lround((sent_at_most + 10) * fps) + 5, p.frames << " frames");
  BOOST_TEST(p.frames >= std::lround((sent_at_least - 1.0 + 10) * fps) - 5, p.frames << " frames");
  BOOST_TEST(p.duration >= sent_at_least - 1.0 + 10 - 0.3, p.duration);
  BOOST_TEST(std::abs(p.video_start - p.audio_start) <= 0.040);
}

BOOST_AUTO_TEST_SUITE_END()
