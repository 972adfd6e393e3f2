// Every ended broadcast becomes a VOD, through the real binary and the REST API only: ffmpeg
// publishes (with a gap), End Live, and the video post reaches ARCHIVED with a VOD that ffprobe
// plays over HLS, DASH and MP4; while ARCHIVING it plays the recording as it is; a forced end
// archives what was recorded; onair killed mid-broadcast or mid-archive still ends ARCHIVED; a
// deleted post's files go.
#include "e2e.hpp"
#include "file_probe.hpp"
#include "media/record/checkpoint.hpp"

using onair::testing::probe_file;
using onair::testing::shell_output;

namespace {

std::string posts_path(std::int64_t id) { return "/v2/apps/me/video-posts/" + std::to_string(id); }

// The room's video post id, once End Live made it.
std::int64_t post_of(live_server& s, std::int64_t room_id) {
  const auto r = s.room(room_id);
  BOOST_REQUIRE_MESSAGE(r["videoPost"].is_object(), r.dump());
  return r["videoPost"]["id"].get<std::int64_t>();
}

// Waits for the post to leave ARCHIVING; returns it, with the highest progress seen on the way.
json archived_post(const api_client& api, std::int64_t post_id, int* max_progress = nullptr,
                   std::chrono::milliseconds limit = 120s) {
  json post;
  eventually(
      [&] {
        post = api.get(posts_path(post_id)).body;
        if (max_progress)
          *max_progress = std::max(*max_progress, post.value("progress", 0));
        return post.value("videoPostState", "") != "ARCHIVING";
      },
      limit);
  return post;
}

std::vector<std::string> event_types(const api_client& api) {
  std::vector<std::string> types;
  const auto events = api.get("/v2/apps/me/events?limit=1000");
  BOOST_REQUIRE(events.status == 200);
  for (const auto& e : events.body["events"])
    types.push_back(e["type"].get<std::string>());
  return types;
}

// How many events of a type ("video_post.archived") the trail has.
long count_of(const std::vector<std::string>& v, const std::string& type) {
  return std::count(v.begin(), v.end(), "onair." + type);
}

// Waits until the broadcast's recording has synced at least `ms` (its part's last checkpoint says so).
bool recorded_at_least(const fs::path& data, std::int64_t broadcast_id, std::int64_t ms) {
  const auto part = data / "recordings" / "1" / std::to_string(broadcast_id) / "part-0001.mp4";
  return eventually([&] {
    const auto c = onair::media::record::last_checkpoint(part);
    return c && c->end_ms >= ms;
  }, 30s);
}

// The top-level boxes at the start of an MP4, from its first bytes.
std::vector<std::string> leading_boxes(const std::string& bytes) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at + 8 <= bytes.size() && out.size() < 4) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + at);
    const std::size_t size = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) | (std::size_t{p[2]} << 8) | p[3];
    out.push_back(bytes.substr(at + 4, 4));
    if (size < 8)
      break;
    at += size;
  }
  return out;
}

// Path and query of an absolute URL of the server.
std::string path_of(const std::string& url) {
  const auto scheme = url.find("://");
  return url.substr(url.find('/', scheme + 3));
}

// Given a room LIVE from a publisher whose audio FLV gives no sequence header (ffmpeg's `audio`
// arguments), when it is ended, its recording has the audio as `recorded` (codec,rate,channels)
// and its VOD has it as `archived`, and both are the tone, not silence.
void broadcast_is_heard_in_its_recording_and_vod(const std::string& name, const std::string& audio,
                                                const std::string& recorded, const std::string& archived) {
  live_server s;
  const auto key = s.key_of(name);
  const auto key_id = key["id"].get<std::int64_t>();
  const auto room_path = "/v2/apps/me/video-rooms/" + std::to_string(s.api->room(name)["id"].get<std::int64_t>());
  background pub{"exec ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc2=size=640x360:rate=25 -f lavfi "
                 "-i sine=frequency=440:sample_rate=44100 -c:v libx264 -preset ultrafast -tune zerolatency "
                 "-g 25 " + audio + " -t 20 -f flv '" + ingest_url(key) + "?mode=RTMP'",
                 s.dir.path() / "pub.log"};
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(key_id, "ACTIVE"); }, 30s), pub.output());
  const auto live = s.api->post(room_path + "/rtmp-broadcast/state/live", nullptr);
  BOOST_TEST_REQUIRE(live.status == 200, live);
  const auto room_id = live.body["id"].get<std::int64_t>();
  const auto broadcast_id = s.room(room_id)["broadcast"]["id"].get<std::int64_t>();
  BOOST_TEST_REQUIRE(recorded_at_least(s.data, broadcast_id, 4000));
  // Then the recording has the audio as `recorded`
  const auto part = s.data / "recordings" / "1" / std::to_string(broadcast_id) / "part-0001.mp4";
  const auto probe_audio = [](const std::string& url) {
    return shell_output("ffprobe -v error -select_streams a -show_entries stream=codec_name,sample_rate,channels "
                        "-of csv=p=0 '" + url + "'");
  };
  const auto in_recording = probe_audio(part.string());
  BOOST_TEST(contains(in_recording, recorded), in_recording);
  onair::testing::check_tone(part.string(), 3);
  // When it is ended
  const auto ended = s.api->post(room_path + "/rtmp-broadcast/state/ended?force=true", nullptr);
  BOOST_TEST_REQUIRE(ended.status == 200, ended);
  // Then its VOD has the sound as `archived`, and it is the tone
  const auto post = archived_post(*s.api, post_of(s, room_id));
  BOOST_TEST_REQUIRE(post["videoPostState"] == "ARCHIVED", post.dump());
  const auto hls = post["playUrl"].get<std::string>();
  const auto in_vod = probe_audio(hls);
  BOOST_TEST(contains(in_vod, archived), in_vod);
  onair::testing::check_tone(hls, 10);
}

} // namespace

BOOST_AUTO_TEST_SUITE(vod_e2e)

BOOST_AUTO_TEST_CASE(a_broadcast_with_a_gap_becomes_a_vod_playable_over_hls_dash_and_mp4) {
  // Given a room live with a 1280x720 publisher, and a viewer
  live_server s;
  const auto k = s.key_of("vera");
  const auto key_id = k["id"].get<std::int64_t>();
  const auto room_id = s.api->room("vera")["id"].get<std::int64_t>();
  const auto room_path = "/v2/apps/me/video-rooms/" + std::to_string(room_id);
  auto pub = std::make_unique<background>(publish_sized(ingest_url(k), 1280, 720, 7), s.dir.path() / "pub1.log");
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(key_id, "ACTIVE"); }, 30s), pub->output());
  const auto live = s.api->post(room_path + "/rtmp-broadcast/state/live", nullptr);
  BOOST_TEST_REQUIRE(live.status == 200, live);
  const auto viewer = probe(s.dir.path(), live.body["httpFlvPlayUrl"].get<std::string>());
  BOOST_TEST(stream_of(viewer.out, "video").value("width", 0) == 1280, viewer.text);
  // When the publisher stops, returns for 6 s more, and the broadcast ends
  BOOST_TEST_REQUIRE(eventually([&] { return !pub->running(); }, 30s), pub->output());
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(key_id, "INACTIVE_LIVE"); }), s.key(key_id).dump());
  pub = std::make_unique<background>(publish_sized(ingest_url(k), 1280, 720, 6), s.dir.path() / "pub2.log");
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(key_id, "ACTIVE_LIVE"); }, 30s), pub->output());
  BOOST_TEST_REQUIRE(eventually([&] { return !pub->running(); }, 30s), pub->output());
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(key_id, "INACTIVE_LIVE"); }), s.key(key_id).dump());
  const auto ended = s.api->post(room_path + "/rtmp-broadcast/state/ended", nullptr);
  BOOST_TEST_REQUIRE(ended.status == 200, ended);

  // Then the post reaches ARCHIVED, its progress shown on the way
  const auto post_id = post_of(s, room_id);
  int progress = 0;
  const auto post = archived_post(*s.api, post_id, &progress);
  BOOST_TEST_REQUIRE(post["videoPostState"] == "ARCHIVED", post.dump());
  BOOST_TEST(post["progress"] == 100);
  BOOST_TEST(post["error"].is_null());
  BOOST_TEST(!post["archivedAt"].is_null());
  // with the duration of the two publishing periods as recorded, gap removed
  const auto rec = s.room(room_id)["broadcast"]["recording"];
  BOOST_TEST_REQUIRE(rec.value("state", "") == "COMPLETE", rec.dump());
  const auto duration_ms = post["durationMs"].get<std::int64_t>();
  BOOST_TEST(std::abs(duration_ms - rec["durationMs"].get<std::int64_t>()) <= 500, post.dump() << rec.dump());
  BOOST_TEST(duration_ms >= 8'000, post.dump());
  BOOST_TEST(duration_ms <= 13'500, post.dump());
  // the original and the 720p and 360p renditions
  BOOST_TEST(post["original"]["width"] == 1280);
  BOOST_TEST(post["original"]["height"] == 720);
  BOOST_TEST_REQUIRE(post["renditions"].size() == 2u, post.dump());
  BOOST_TEST(post["renditions"][0]["height"] == 720);
  BOOST_TEST(post["renditions"][1]["height"] == 360);
  // and the room says so
  const auto room = s.room(room_id);
  BOOST_TEST(room["vodState"] == "ARCHIVED");
  BOOST_TEST(room["vodUrl"] == post["playUrl"]);
  BOOST_TEST(!room["vodArchivedAt"].is_null());

  // The VOD plays over HLS and DASH: every frame decodes, the duration is the post's
  const double seconds = static_cast<double>(duration_ms) / 1000;
  for (const auto* url : {"playUrl", "dashPlayUrl"}) {
    const auto p = probe_file(post[url].get<std::string>());
    BOOST_TEST(p.errors == "", url);
    BOOST_TEST(std::abs(p.duration - seconds) <= 0.5, url << ": " << p.duration << " s vs " << seconds);
    BOOST_TEST(std::abs(p.frames - seconds * 30) <= 15, url << ": " << p.frames << " frames");
  }
  // and as MP4, its index first (faststart), by range
  const auto mp4 = path_of(post["original"]["url"].get<std::string>());
  const auto& http = s.srv.http();
  const auto head = http_call(http.host, http.port, "GET", mp4, {{"Range", "bytes=0-65535"}});
  BOOST_TEST_REQUIRE(head.status == 206, head.head);
  const auto boxes = leading_boxes(head.body);
  BOOST_TEST_REQUIRE(boxes.size() >= 2u);
  BOOST_TEST(boxes[0] == "ftyp");
  BOOST_TEST(boxes[1] == "moov");
  const auto size = post["original"]["sizeBytes"].get<std::int64_t>();
  BOOST_TEST(header_of(head.head, "Content-Range") == "bytes 0-65535/" + std::to_string(size));
  const auto tail = http_call(http.host, http.port, "GET", mp4, {{"Range", "bytes=" + std::to_string(size - 100) + "-"}});
  BOOST_TEST(tail.status == 206);
  BOOST_TEST(tail.body.size() == 100u);
  const auto original = probe_file(post["original"]["url"].get<std::string>());
  BOOST_TEST(original.errors == "");
  BOOST_TEST(std::abs(original.duration - seconds) <= 0.5, original.duration);
  // and its thumbnail is a JPEG of the source's size, or of the width asked for
  const auto thumb = probe_file(post["thumbnailUrl"].get<std::string>());
  BOOST_TEST(thumb.size == "1280x720");
  const auto small = probe_file(post["thumbnailUrl"].get<std::string>() + "?time=3&width=320");
  BOOST_TEST(small.size == "320x180");

  // The trail: an attempt, a few progress steps, the post and the room archived
  const auto types = event_types(*s.api);
  BOOST_TEST(count_of(types, "video_post.archive_started") == 1);
  BOOST_TEST(count_of(types, "video_post.progress_reported") >= 1);
  BOOST_TEST(count_of(types, "video_post.progress_reported") <= 4);
  BOOST_TEST(count_of(types, "video_post.archived") == 1);
  BOOST_TEST(count_of(types, "video_room.vod_archived") == 1);

  // A deleted post's VOD is gone
  BOOST_TEST(s.api->post(posts_path(post_id) + "/retry", nullptr).status == 409);
  BOOST_TEST_REQUIRE(s.api->del(posts_path(post_id)).status == 204);
  const auto vod_dir = s.data / "vod" / "1" / std::to_string(post_id);
  BOOST_TEST(eventually([&] { return !fs::exists(vod_dir); }), vod_dir);
  BOOST_TEST(http_call(http.host, http.port, "GET", path_of(post["playUrl"].get<std::string>())).status == 404);
}

BOOST_AUTO_TEST_CASE(a_forced_end_archives_what_was_recorded) {
  // Given a room LIVE, recording
  live_server s;
  auto b = go_live(s, "wade", "RTMP", 20);
  const auto room_id = b.live["id"].get<std::int64_t>();
  BOOST_TEST_REQUIRE(recorded_at_least(s.data, s.room(room_id)["broadcast"]["id"].get<std::int64_t>(), 3000));
  // When it is ended by force with its publisher still on air
  const auto ended = s.api->post(b.room_path + "/rtmp-broadcast/state/ended?force=true", nullptr);
  BOOST_TEST_REQUIRE(ended.status == 200, ended);
  // Then the post is ARCHIVED with what was recorded up to the end
  const auto post = archived_post(*s.api, post_of(s, room_id));
  BOOST_TEST_REQUIRE(post["videoPostState"] == "ARCHIVED", post.dump());
  BOOST_TEST(post["durationMs"].get<std::int64_t>() >= 3000, post.dump());
  BOOST_TEST(probe_file(post["playUrl"].get<std::string>()).errors == "");
}

BOOST_AUTO_TEST_CASE(an_mp3_broadcast_is_recorded_with_its_sound_and_its_vod_is_heard_as_aac) {
  // MP3 is ffmpeg's FLV default; the recording keeps it as it came, the VOD has it as AAC at its rate
  broadcast_is_heard_in_its_recording_and_vod("xena", "-ac 2 -c:a libmp3lame -b:a 128k", "mp3,44100,2", "aac,44100,2");
}

BOOST_AUTO_TEST_CASE(an_ip_cameras_g711_broadcast_is_recorded_and_its_vod_heard_as_aac) {
  // G.711 at 8 kHz, which MP4 cannot hold: the recording has it as AAC at 48 kHz, a rate AAC has
  broadcast_is_heard_in_its_recording_and_vod("ines", "-c:a pcm_mulaw -ar 8000 -ac 1", "aac,48000,1", "aac,48000,1");
}

BOOST_AUTO_TEST_CASE(a_kill_mid_broadcast_and_a_kill_mid_archive_still_end_archived) {
  // Given a room live, its recording a few seconds long; slow VOD encoding, so the archive runs a while
  live_server s{{"--vod-preset", "medium"}};
  auto b = go_live(s, "xena", "RTMP", 30);
  const auto room_id = b.live["id"].get<std::int64_t>();
  BOOST_TEST_REQUIRE(recorded_at_least(s.data, s.room(room_id)["broadcast"]["id"].get<std::int64_t>(), 3000));
  // When onair is killed outright mid-broadcast, and comes back
  s.srv.kill_hard();
  b.pub.reset();
  auto again = std::make_unique<server_process>(s.data, std::vector<std::string>{"--vod-preset", "medium"});
  again->wait_ready();
  const auto out = s.srv.stdout_text();
  const auto key = printed_value(out, "apiKey:"), secret = printed_value(out, "apiSecret:");
  auto api = std::make_unique<api_client>(again->http(), key, secret);
  BOOST_TEST_REQUIRE(api->get(b.room_path).body["videoRoomState"] == "LIVE_INACTIVE");
  // and the publisher returns for 24 s before the broadcast ends
  const auto k = api->get("/v2/apps/me/stream-keys/" + std::to_string(b.key_id)).body;
  // (long enough that its archive, at the slowest preset the server takes, is still running once
  // the early playUrl has been probed below: the kill must come mid-archive)
  auto pub = std::make_unique<background>(publish_sized(ingest_url(k), 640, 360, 24), s.dir.path() / "pub2.log");
  BOOST_TEST_REQUIRE(eventually([&] { return !pub->running(); }, 60s), pub->output());
  BOOST_TEST_REQUIRE(eventually([&] {
    return api->get("/v2/apps/me/stream-keys/" + std::to_string(b.key_id)).body.value("streamKeyState", "") ==
           "INACTIVE_LIVE";
  }));
  BOOST_TEST_REQUIRE(api->post(b.room_path + "/rtmp-broadcast/state/ended", nullptr).status == 200);
  const auto post_id = api->get(b.room_path).body["videoPost"]["id"].get<std::int64_t>();
  // While its archive is being made, the post already plays the recording as it is
  const auto archiving = api->get(posts_path(post_id)).body;
  BOOST_TEST_REQUIRE(archiving["videoPostState"] == "ARCHIVING", archiving.dump());
  BOOST_TEST_REQUIRE(archiving["playUrl"].is_string(), archiving.dump());
  BOOST_TEST(archiving["dashPlayUrl"].is_null());
  const auto early = probe_file(archiving["playUrl"].get<std::string>());
  BOOST_TEST(early.errors == "", early.errors);
  BOOST_TEST(early.duration >= 3.0 + 24.0 - 1.5, early.duration);
  // and killed again while the archive is being made
  const auto partial = s.data / "vod" / "1" / (std::to_string(post_id) + ".partial");
  BOOST_TEST_REQUIRE(eventually([&] { return fs::exists(partial / "original.mp4"); }, 60s));
  again->kill_hard();
  // Then, started once more, it makes the archive again from the start and ends ARCHIVED
  server_process third{s.data};
  third.wait_ready();
  api_client api3{third.http(), key, secret};
  const auto post = archived_post(api3, post_id);
  BOOST_TEST_REQUIRE(post["videoPostState"] == "ARCHIVED", post.dump());
  BOOST_TEST(post["durationMs"].get<std::int64_t>() >= 3000 + 24000 - 1500, post.dump());
  BOOST_TEST(probe_file(post["playUrl"].get<std::string>()).errors == "");
  BOOST_TEST(!fs::exists(partial));
  const auto types = event_types(api3);
  BOOST_TEST(count_of(types, "video_post.archive_started") == 2);
  BOOST_TEST(count_of(types, "video_post.archived") == 1);
  BOOST_TEST(api3.get(b.room_path).body["vodState"] == "ARCHIVED");
}

BOOST_AUTO_TEST_SUITE_END()
