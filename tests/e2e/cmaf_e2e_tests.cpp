// CMAF live against real peers: ffmpeg (and GStreamer) publish in mode CMAF or RTMP_CMAF, onair
// transcodes the ladder in process, and ffprobe reads it back over HLS (master and media
// playlists) and DASH: the profile's renditions and bandwidths, key frames at the same times in
// every rendition, LL-HLS blocking reloads, a publisher's return within a broadcast continuing the
// same playlists, the bound on concurrent transcodes, and the audio: copied, transcoded from MP3,
// or the key's error when there is none to make or it cannot be decoded.
#include <fstream>
#include <regex>
#include <sstream>
#include <set>

#include "e2e.hpp"
#include "file_probe.hpp"

using onair::testing::shell_output;

namespace {

// The ladder is what is tested, not the preset: the fastest keeps a 2-core CI in real time.
const std::vector<std::string> cmaf_args{"--x264-preset", "ultrafast"};

// "http://127.0.0.1:PORT/play/ID/index.m3u8" -> "/play/ID"
std::string folder_of(const std::string& url) {
  const auto play = url.find("/play/");
  return url.substr(play, url.rfind('/') - play);
}

http_reply get(live_server& s, const std::string& path) {
  return http_call(s.srv.http().host, s.srv.http().port, "GET", path);
}

// The URIs of a media playlist's complete segments, oldest first.
std::vector<std::string> segment_uris(const std::string& playlist) {
  std::vector<std::string> out;
  std::istringstream in{playlist};
  std::string line;
  bool next = false;
  while (std::getline(in, line)) {
    if (next && !line.empty() && line[0] != '#')
      out.push_back(line);
    next = line.rfind("#EXTINF:", 0) == 0;
  }
  return out;
}

std::string map_uri(const std::string& playlist) {
  std::smatch m;
  BOOST_REQUIRE(std::regex_search(playlist, m, std::regex{"#EXT-X-MAP:URI=\"([^\"]+)\""}));
  return m[1];
}

// The presentation times (s) of the key frames in a rendition's segment, read by ffprobe from
// its init segment and the segment back to back.
std::vector<double> key_frames(live_server& s, const std::string& folder, const std::string& playlist_name,
                               const std::string& segment) {
  const auto playlist = get(s, folder + "/" + playlist_name).body;
  const auto init = get(s, folder + "/" + map_uri(playlist));
  const auto seg = get(s, folder + "/" + segment);
  BOOST_REQUIRE_MESSAGE(init.status == 200 && seg.status == 200, folder << "/" << segment << ": " << seg.status);
  const auto file = s.dir.path() / (playlist_name + ".mp4");
  {
    std::ofstream out{file, std::ios::binary};
    out << init.body << seg.body;
  }
  const auto csv = shell_output("ffprobe -v error -select_streams v -show_entries packet=pts_time,flags -of csv=p=0 '" +
                                file.string() + "'");
  std::vector<double> keys;
  std::istringstream in{csv};
  std::string line;
  while (std::getline(in, line)) {
    const auto comma = line.find(',');
    if (comma != std::string::npos && line.find('K', comma) != std::string::npos)
      keys.push_back(std::stod(line.substr(0, comma)));
  }
  return keys;
}

std::vector<json> streams_of(const probe_result& p, const std::string& type) {
  std::vector<json> out;
  if (p.out.is_object() && p.out.contains("streams"))
    for (const auto& st : p.out["streams"])
      if (st.value("codec_type", "") == type)
        out.push_back(st);
  return out;
}

std::set<std::pair<int, int>> sizes(const std::vector<json>& video) {
  std::set<std::pair<int, int>> out;
  for (const auto& v : video)
    out.emplace(v.value("width", 0), v.value("height", 0));
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(cmaf_e2e)

BOOST_AUTO_TEST_CASE(a_landscape_stream_is_transcoded_into_the_ladder_and_read_over_hls_and_dash) {
  live_server s{cmaf_args};
  const auto k = s.key_of("carol");
  const auto key_id = k["id"].get<std::int64_t>();
  background pub{publish_sized(ingest_url(k) + "?mode=CMAF", 1280, 720, 60), s.dir.path() / "pub.log"};
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(key_id, "ACTIVE"); }, 30s),
                     "key never ACTIVE: " << s.key(key_id).dump() << pub.output());
  const auto active = s.key(key_id);
  BOOST_TEST_REQUIRE(active["cmafHlsPlayUrl"].is_string(), active.dump());
  BOOST_TEST_REQUIRE(active["cmafDashPlayUrl"].is_string(), active.dump());
  BOOST_TEST(active["error"].is_null(), active.dump());
  // The API says which renditions the stream has.
  BOOST_TEST(active["cmafRenditions"] == json::parse(R"([{"width":1280,"height":720,"bitrateKbps":2800},
                                                         {"width":640,"height":360,"bitrateKbps":800}])"),
             active.dump());
  const auto hls = active["cmafHlsPlayUrl"].get<std::string>();
  const auto folder = folder_of(hls);

  // The master: exactly the profile's renditions, with what a player chooses by.
  const auto master = get(s, folder + "/index.m3u8");
  BOOST_TEST(master.status == 200);
  BOOST_TEST(contains(master.head, "Content-Type: application/vnd.apple.mpegurl"));
  BOOST_TEST(contains(master.head, "Access-Control-Allow-Origin: *"));
  BOOST_TEST(contains(master.head, "Cache-Control: no-cache"));
  BOOST_TEST(contains(master.body, "RESOLUTION=1280x720"), master.body);
  BOOST_TEST(contains(master.body, "RESOLUTION=640x360"), master.body);
  BOOST_TEST(contains(master.body, "BANDWIDTH=2928000"), master.body); // 2800 kbps video + 128 kbps audio
  BOOST_TEST(contains(master.body, "BANDWIDTH=928000"), master.body);
  BOOST_TEST(contains(master.body, "FRAME-RATE=30.000"), master.body);

  const auto over_hls = probe(s.dir.path(), hls);
  BOOST_TEST_REQUIRE(over_hls.rc == 0, over_hls.text);
  BOOST_TEST((sizes(streams_of(over_hls, "video")) == std::set<std::pair<int, int>>{{1280, 720}, {640, 360}}),
             over_hls.text);
  for (const auto& v : streams_of(over_hls, "video"))
    BOOST_TEST(v.value("codec_name", "") == "h264");
  BOOST_TEST(streams_of(over_hls, "audio").size() >= 1u);
  BOOST_TEST(streams_of(over_hls, "audio")[0].value("codec_name", "") == "aac");

  const auto over_dash = probe(s.dir.path(), active["cmafDashPlayUrl"].get<std::string>());
  BOOST_TEST_REQUIRE(over_dash.rc == 0, over_dash.text);
  BOOST_TEST((sizes(streams_of(over_dash, "video")) == std::set<std::pair<int, int>>{{1280, 720}, {640, 360}}),
             over_dash.text);
  const auto mpd = get(s, folder + "/manifest.mpd");
  BOOST_TEST(contains(mpd.head, "Content-Type: application/dash+xml"));
  BOOST_TEST(contains(mpd.body, "bandwidth=\"2800000\" width=\"1280\" height=\"720\""), mpd.body);
  BOOST_TEST(contains(mpd.body, "bandwidth=\"800000\" width=\"640\" height=\"360\""), mpd.body);
  BOOST_TEST(contains(mpd.body, "availabilityTimeComplete=\"false\""), mpd.body);
  const auto clock = get(s, "/time");
  BOOST_TEST(clock.status == 200);
  BOOST_TEST(contains(mpd.body, "/time\"/>"), mpd.body);

  // Both renditions have their key frames at the same times: a segment starts on one, and one
  // comes every second.
  BOOST_TEST_REQUIRE(eventually([&] { return segment_uris(get(s, folder + "/v0.m3u8").body).size() >= 2; }));
  const auto v0 = get(s, folder + "/v0.m3u8").body;
  const auto uris = segment_uris(v0);
  const auto last = uris.back();
  auto other = last;
  other.replace(other.find("/v0/"), 4, "/v1/");
  const auto k0 = key_frames(s, folder, "v0.m3u8", last);
  const auto k1 = key_frames(s, folder, "v1.m3u8", other);
  BOOST_TEST_REQUIRE(k0.size() == 2u, "key frames in a 2 s segment: " << k0.size());
  BOOST_TEST(k0 == k1, boost::test_tools::per_element());
  BOOST_TEST(std::abs(k0[1] - k0[0] - 1.0) < 0.05);

  // Segments and parts: immutable, typed, readable from any page.
  const auto seg = get(s, folder + "/" + last);
  BOOST_TEST(contains(seg.head, "Content-Type: video/mp4"));
  BOOST_TEST(contains(seg.head, "Cache-Control: public, max-age=31536000, immutable"));
  BOOST_TEST(contains(seg.head, "Access-Control-Allow-Origin: *"));

  // LL-HLS: a blocking reload answers once the asked part exists; one too far ahead is refused.
  std::smatch hint;
  BOOST_TEST_REQUIRE(std::regex_search(v0, hint, std::regex{"PRELOAD-HINT:TYPE=PART,URI=\"[^\"]*/(\\d+)\\.(\\d+)\\.m4s\""}), v0);
  const auto msn = std::stoll(hint[1]);
  const auto part = std::stoi(hint[2]);
  const auto blocked = get(s, folder + "/v0.m3u8?_HLS_msn=" + std::to_string(msn) + "&_HLS_part=" + std::to_string(part));
  BOOST_TEST(blocked.status == 200);
  BOOST_TEST(contains(blocked.body, "/v0/" + std::to_string(msn) + "." + std::to_string(part) + ".m4s\""), blocked.body);
  BOOST_TEST(get(s, folder + "/v0.m3u8?_HLS_msn=" + std::to_string(msn + 10)).status == 400);
  BOOST_TEST(get(s, folder + "/v0.m3u8?_HLS_part=1").status == 400);
  const auto unknown = get(s, "/play/no-such-stream/index.m3u8");
  BOOST_TEST(unknown.status == 404);
  BOOST_TEST(contains(unknown.head, "Access-Control-Allow-Origin: *"));

  const auto metrics = get(s, "/metrics").body;
  BOOST_TEST(contains(metrics, "onair_cmaf_streams_active 1\n"), metrics);
  BOOST_TEST(!contains(metrics, "onair_cmaf_frames_encoded_total 0\n"), metrics);

  // Its HLS and DASH players, told apart by address and User-Agent, are counted by the manifest
  // they play, on /metrics and in the stream's health on onair.telemetry (with the transcoder's lag).
  const auto play_as = [&](const std::string& agent, const std::string& manifest) {
    const auto r = http_call(s.srv.http().host, s.srv.http().port, "GET", folder + "/" + manifest, {{"User-Agent", agent}});
    BOOST_TEST(r.status == 200, agent << " " << manifest << ": " << r.status);
    // a media object says nothing of the protocol: the player stays one of the manifest's
    BOOST_TEST(http_call(s.srv.http().host, s.srv.http().port, "GET", folder + "/" + last, {{"User-Agent", agent}}).status ==
               200);
  };
  const auto hls_and_dash_players = [&] {
    play_as("hls-player-1", "v0.m3u8");
    play_as("hls-player-2", "index.m3u8");
    play_as("dash-player-1", "manifest.mpd");
  };
  // onair_cmaf_viewers{app="…",stream_key="ID",protocol="P"} N: N, or -1 if there is no such line.
  const auto gauge = [&](const std::string& text, const std::string& protocol) {
    const auto labels = "stream_key=\"" + std::to_string(key_id) + "\",protocol=\"" + protocol + "\"} ";
    const auto at = text.find(labels);
    return at == std::string::npos ? -1 : std::atoi(text.c_str() + at + labels.size());
  };
  hls_and_dash_players();
  const auto counted = get(s, "/metrics").body;
  BOOST_TEST(gauge(counted, "hls") >= 2, counted);
  BOOST_TEST(gauge(counted, "dash") >= 1, counted);
  std::vector<json> samples;
  BOOST_TEST(eventually([&] {
               hls_and_dash_players();
               samples = s.telemetry_samples(key_id);
               return !samples.empty() && samples.back()["viewers"].value("hls", 0) >= 2 &&
                      samples.back()["viewers"].value("dash", 0) >= 1;
             }, 20s),
             json(samples).dump());
  BOOST_TEST(samples.back().contains("transcodeLagMs"), samples.back().dump());

  // The publisher leaves: the preview is over, its playlists end, the transcoder goes.
  pub.kill_now();
  BOOST_TEST(eventually([&] { return s.key_in(key_id, "INACTIVE"); }), s.key(key_id).dump());
  BOOST_TEST(s.key(key_id)["cmafHlsPlayUrl"].is_null());
  BOOST_TEST(eventually([&] { return contains(get(s, folder + "/v1.m3u8").body, "#EXT-X-ENDLIST"); }));
  BOOST_TEST(eventually([&] { return contains(get(s, "/metrics").body, "onair_cmaf_streams_active 0\n"); }));
}

BOOST_AUTO_TEST_CASE(a_portrait_key_gets_the_portrait_ladder_and_a_landscape_source_is_fitted_into_it) {
  live_server s{cmaf_args};
  const auto k = s.key_of("dora");
  const auto key_id = k["id"].get<std::int64_t>();
  const auto patched = s.api->patch("/v2/apps/me/stream-keys/" + std::to_string(key_id), json{{"profileId", 2}});
  BOOST_TEST_REQUIRE(patched.status == 200, patched);
  background pub{publish_sized(ingest_url(k) + "?mode=CMAF", 1280, 720, 40), s.dir.path() / "pub.log"};
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(key_id, "ACTIVE"); }, 30s),
                     s.key(key_id).dump() << pub.output());
  const auto hls = s.key(key_id)["cmafHlsPlayUrl"].get<std::string>();
  const auto probed = probe(s.dir.path(), hls);
  BOOST_TEST_REQUIRE(probed.rc == 0, probed.text);
  const auto video = streams_of(probed, "video");
  BOOST_TEST((sizes(video) == std::set<std::pair<int, int>>{{720, 1280}, {360, 640}}), probed.text);
  for (const auto& v : video) // square pixels: the picture is fitted and padded, never stretched
    BOOST_TEST(v.value("sample_aspect_ratio", "1:1") == "1:1", v.dump());
}

BOOST_AUTO_TEST_CASE(an_rtmp_cmaf_broadcast_plays_both_families_and_a_returning_publisher_continues_its_playlists) {
  live_server s{cmaf_args};
  auto b = go_live(s, "erin", "RTMP_CMAF", 90);
  const auto& k = b.key;
  const auto key_id = b.key_id;
  const auto& live = b.live;
  auto& pub = b.pub;
  // Both families; the room's playUrl is HLS.
  BOOST_TEST_REQUIRE(live["cmafHlsPlayUrl"].is_string(), live.dump());
  BOOST_TEST(live["playUrl"] == live["cmafHlsPlayUrl"]);
  BOOST_TEST(live["cmafDashPlayUrl"].is_string());
  BOOST_TEST(live["httpFlvPlayUrl"].is_string());
  // A 640x360 source is not upscaled: one rendition.
  BOOST_TEST(live["cmafRenditions"] == json::parse(R"([{"width":640,"height":360,"bitrateKbps":800}])"),
             live.dump());
  check_media(probe(s.dir.path(), live["httpFlvPlayUrl"].get<std::string>()), "HTTP-FLV of an RTMP_CMAF room");
  const auto folder = folder_of(live["cmafHlsPlayUrl"].get<std::string>());
  const auto before = get(s, folder + "/v0.m3u8");
  BOOST_TEST_REQUIRE(before.status == 200, before.body);
  const auto first_uris = segment_uris(before.body);
  BOOST_TEST_REQUIRE(!first_uris.empty(), before.body);

  pub->kill_now();
  BOOST_TEST(eventually([&] { return s.key_in(key_id, "INACTIVE_LIVE"); }), s.key(key_id).dump());
  // It returns at another resolution: the output goes on in the same renditions.
  pub = std::make_unique<background>(publish_sized(ingest_url(k) + "?mode=RTMP_CMAF", 1280, 720, 90),
                                     s.dir.path() / "pub2.log");
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(key_id, "ACTIVE_LIVE"); }, 30s),
                     s.key(key_id).dump() << pub->output());
  // The same playlists go on: the segments of before are still listed, numbers continue, and a
  // discontinuity marks the return.
  BOOST_TEST(eventually([&] { return segment_uris(get(s, folder + "/v0.m3u8").body).size() >= first_uris.size() + 3; },
                        30s));
  const auto after = get(s, folder + "/v0.m3u8").body;
  BOOST_TEST(contains(after, first_uris.front() + "\n"), after);
  BOOST_TEST(contains(after, "#EXT-X-DISCONTINUITY\n"), after);
  const auto uris = segment_uris(after);
  for (std::size_t i = 1; i < uris.size(); ++i) {
    const auto n = [](const std::string& u) { return std::stoll(u.substr(u.rfind('/') + 1)); };
    BOOST_TEST(n(uris[i]) == n(uris[i - 1]) + 1, uris[i - 1] << " then " << uris[i]);
  }
  const auto mpd = get(s, folder + "/manifest.mpd").body;
  BOOST_TEST(contains(mpd, "<Period id=\"p1\""), mpd);
  const auto probed = probe(s.dir.path(), live["cmafHlsPlayUrl"].get<std::string>());
  BOOST_TEST(probed.rc == 0, probed.text);
  BOOST_TEST((sizes(streams_of(probed, "video")) == std::set<std::pair<int, int>>{{640, 360}}), probed.text);
  // The newest segment comes from the 1280x720 source, scaled into the same rendition.
  const auto keys = key_frames(s, folder, "v0.m3u8", uris.back());
  BOOST_TEST(keys.size() == 2u, "key frames in the newest segment: " << keys.size());
}

BOOST_AUTO_TEST_CASE(a_cmaf_publish_past_the_transcode_bound_is_refused_and_the_key_says_why) {
  live_server s{{"--x264-preset", "ultrafast", "--max-transcodes", "1"}};
  const auto first = s.key_of("finn");
  const auto second = s.key_of("gail");
  background a{publish_sized(ingest_url(first) + "?mode=CMAF", 640, 360, 40), s.dir.path() / "a.log"};
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(first["id"].get<std::int64_t>(), "ACTIVE"); }, 30s), a.output());
  background b{publish_sized(ingest_url(second) + "?mode=CMAF", 640, 360, 10), s.dir.path() / "b.log"};
  BOOST_TEST(eventually([&] { return !b.running(); }));
  BOOST_TEST(b.code().value_or(0) != 0);
  BOOST_TEST(contains(b.output(), "transcoding capacity reached"), b.output());
  const auto refused = s.key(second["id"].get<std::int64_t>());
  BOOST_TEST(refused["streamKeyState"] == "INACTIVE");
  BOOST_TEST(refused["error"]["code"] == "PUBLISH_REFUSED", refused.dump());
  BOOST_TEST(contains(refused["error"]["message"].get<std::string>(), "at most 1"), refused.dump());
  // RTMP needs no transcoder: it is let in.
  background c{publish_sized(ingest_url(second) + "?mode=RTMP", 640, 360, 20), s.dir.path() / "c.log"};
  BOOST_TEST(eventually([&] { return s.key_in(second["id"].get<std::int64_t>(), "ACTIVE"); }), c.output());
}

// An RTMP_CMAF key or room viewable over RTMP alone offers no CMAF URL: it would answer 404.
void check_rtmp_only(const json& key_or_room) {
  BOOST_TEST(key_or_room["cmafHlsPlayUrl"].is_null(), key_or_room.dump());
  BOOST_TEST(key_or_room["cmafDashPlayUrl"].is_null(), key_or_room.dump());
  BOOST_TEST(key_or_room["cmafRenditions"].is_null(), key_or_room.dump());
  BOOST_TEST(key_or_room["httpFlvPlayUrl"].is_string(), key_or_room.dump());
  if (key_or_room.contains("playUrl"))
    BOOST_TEST(key_or_room["playUrl"] == key_or_room["httpFlvPlayUrl"], key_or_room.dump());
}

BOOST_AUTO_TEST_CASE(input_the_transcoder_cannot_decode_is_the_keys_error_and_rtmp_playback_goes_on) {
  live_server s{cmaf_args};
  const auto k = s.key_of("hugo");
  const auto key_id = k["id"].get<std::int64_t>();
  // Sorenson H.263: FLV carries it, onair relays it, libavcodec is not asked to decode it.
  auto pub = std::make_unique<background>(
      "exec ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi "
      "-i sine=sample_rate=44100 -c:v flv1 -c:a aac -t 40 -f flv '" + ingest_url(k) + "?mode=RTMP_CMAF'",
      s.dir.path() / "pub.log");
  BOOST_TEST_REQUIRE(eventually([&] { return s.key(key_id)["error"].is_object(); }, 20s),
                     s.key(key_id).dump() << pub->output());
  const auto key = s.key(key_id);
  BOOST_TEST(key["error"]["code"] == "TRANSCODE_UNSUPPORTED_INPUT", key.dump());
  BOOST_TEST(contains(key["error"]["message"].get<std::string>(), "cannot be decoded"), key.dump());
  BOOST_TEST(pub->running(), "the publisher is not cut: " << pub->output());
  // RTMP_CMAF: the RTMP family plays without waiting for CMAF segments that will not come.
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(key_id, "ACTIVE"); }), s.key(key_id).dump());
  const auto rtmp = probe(s.dir.path(), s.key(key_id)["rtmpPlayUrl"].get<std::string>());
  BOOST_TEST(rtmp.rc == 0, rtmp.text);
  BOOST_TEST(stream_of(rtmp.out, "video").value("codec_name", "") == "flv1", rtmp.text);
  check_rtmp_only(s.key(key_id));
  const auto room_path = "/v2/apps/me/video-rooms/" + std::to_string(s.api->room("hugo")["id"].get<std::int64_t>());
  const auto live = s.api->post(room_path + "/rtmp-broadcast/state/live", nullptr);
  BOOST_TEST_REQUIRE(live.status == 200, live);
  check_rtmp_only(live.body);

  // The publisher returns with H.264: the ladder is made after all, and both families are offered.
  pub->kill_now();
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(key_id, "INACTIVE_LIVE"); }), s.key(key_id).dump());
  pub = std::make_unique<background>(publish_sized(ingest_url(k) + "?mode=RTMP_CMAF", 640, 360, 40),
                                     s.dir.path() / "pub2.log");
  BOOST_TEST_REQUIRE(eventually([&] { return s.key(key_id)["cmafHlsPlayUrl"].is_string(); }, 30s),
                     s.key(key_id).dump() << pub->output());
  const auto both = s.api->get(room_path);
  BOOST_TEST_REQUIRE(both.status == 200, both);
  BOOST_TEST(both.body["playUrl"] == both.body["cmafHlsPlayUrl"], both.body.dump());
  BOOST_TEST(both.body["cmafRenditions"] == json::parse(R"([{"width":640,"height":360,"bitrateKbps":800}])"),
             both.body.dump());
  const auto master = get(s, folder_of(both.body["cmafHlsPlayUrl"].get<std::string>()) + "/index.m3u8");
  BOOST_TEST(master.status == 200, master.body);
}

BOOST_AUTO_TEST_CASE(an_mp3_source_is_heard_as_aac_over_hls_and_dash) {
  live_server s{cmaf_args};
  const auto k = s.key_of("ines");
  const auto key_id = k["id"].get<std::int64_t>();
  // MP3, what ffmpeg's FLV muxer picks when no audio codec is named: FLV gives it no sequence
  // header, so its frames are its configuration.
  background pub{"exec ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc2=size=640x360:rate=30 -f lavfi "
                 "-i sine=frequency=440:sample_rate=44100 -ac 2 -c:v libx264 -preset ultrafast -tune zerolatency "
                 "-g 30 -c:a libmp3lame -b:a 128k -t 40 -f flv '" + ingest_url(k) + "?mode=CMAF'",
                 s.dir.path() / "pub.log"};
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(key_id, "ACTIVE"); }, 30s),
                     "key never ACTIVE: " << s.key(key_id).dump() << pub.output());
  const auto key = s.key(key_id);
  BOOST_TEST(key["error"].is_null(), key.dump());
  for (const auto& url : {key["cmafHlsPlayUrl"].get<std::string>(), key["cmafDashPlayUrl"].get<std::string>()}) {
    const auto p = probe(s.dir.path(), url);
    BOOST_TEST_REQUIRE(p.rc == 0, url << ": " << p.text);
    const auto a = stream_of(p.out, "audio");
    BOOST_TEST_REQUIRE(a.is_object(), url << ": no audio: " << p.text);
    BOOST_TEST(a.value("codec_name", "") == "aac", url << ": " << p.text);
    BOOST_TEST(a.value("sample_rate", "") == "44100", url << ": " << p.text); // the source's rate and channels
    BOOST_TEST(a.value("channels", 0) == 2, url << ": " << p.text);
  }
  // And it is the tone, after MP3 and AAC
  onair::testing::check_tone(key["cmafHlsPlayUrl"].get<std::string>(), 3);
}

BOOST_AUTO_TEST_CASE(g711_audio_from_an_ip_camera_is_heard_as_aac_over_hls_and_dash) {
  live_server s{cmaf_args};
  const auto k = s.key_of("kofi");
  const auto key_id = k["id"].get<std::int64_t>();
  // G.711 A-law at 8 kHz, mono, as IP cameras send it: FLV gives it no configuration, its tags'
  // flags say the format.
  background pub{"exec ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc2=size=640x360:rate=30 -f lavfi "
                 "-i sine=frequency=440:sample_rate=8000 -c:v libx264 -preset ultrafast -tune zerolatency -g 30 "
                 "-c:a pcm_alaw -ar 8000 -ac 1 -t 40 -f flv '" + ingest_url(k) + "?mode=CMAF'",
                 s.dir.path() / "pub.log"};
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(key_id, "ACTIVE"); }, 30s),
                     "key never ACTIVE: " << s.key(key_id).dump() << pub.output());
  const auto key = s.key(key_id);
  BOOST_TEST(key["error"].is_null(), key.dump());
  BOOST_TEST(eventually([&] { return s.key(key_id)["ingest"]["audioCodec"] == "g711a"; }), s.key(key_id).dump());
  for (const auto& url : {key["cmafHlsPlayUrl"].get<std::string>(), key["cmafDashPlayUrl"].get<std::string>()}) {
    const auto p = probe(s.dir.path(), url);
    BOOST_TEST_REQUIRE(p.rc == 0, url << ": " << p.text);
    BOOST_TEST(streams_of(p, "video").size() == 1u, p.text); // a 360p source: the 360p rendition only
    const auto a = stream_of(p.out, "audio");
    BOOST_TEST_REQUIRE(a.is_object(), url << ": no audio: " << p.text);
    BOOST_TEST(a.value("codec_name", "") == "aac", url << ": " << p.text);
    BOOST_TEST(a.value("sample_rate", "") == "48000", url << ": " << p.text); // 8 kHz is resampled
    BOOST_TEST(a.value("channels", 0) == 1, url << ": " << p.text);
  }
  onair::testing::check_tone(key["cmafHlsPlayUrl"].get<std::string>(), 3);
}

BOOST_AUTO_TEST_CASE(a_gstreamer_publisher_with_mp3_sent_after_its_first_video_is_heard_in_both_families) {
  live_server s{cmaf_args};
  const auto k = s.key_of("gus");
  const auto key_id = k["id"].get<std::int64_t>();
  // GStreamer's own RTMP client (rtmp2sink) and FLV muxer, which sends the first MP3 frame after
  // the first video.
  background pub{"exec gst-launch-1.0 -q videotestsrc is-live=true ! video/x-raw,width=640,height=360,framerate=30/1 ! "
                 "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! h264parse ! flvmux name=m "
                 "streamable=true ! rtmp2sink location='" + ingest_url(k) + "?mode=RTMP_CMAF' audiotestsrc "
                 "is-live=true wave=sine freq=440 volume=0.125 ! audioconvert ! audio/x-raw,channels=2 ! lamemp3enc ! "
                 "mpegaudioparse ! m.",
                 s.dir.path() / "pub.log"};
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(key_id, "ACTIVE"); }, 30s),
                     "key never ACTIVE: " << s.key(key_id).dump() << pub.output());
  const auto key = s.key(key_id);
  BOOST_TEST(key["error"].is_null(), key.dump());
  // The RTMP family relays the MP3 as it came; the CMAF family has it as AAC.
  const auto rtmp = probe(s.dir.path(), key["rtmpPlayUrl"].get<std::string>());
  BOOST_TEST_REQUIRE(rtmp.rc == 0, rtmp.text);
  BOOST_TEST(stream_of(rtmp.out, "audio").value("codec_name", "") == "mp3", rtmp.text);
  BOOST_TEST(stream_of(rtmp.out, "video").value("codec_name", "") == "h264", rtmp.text);
  const auto hls = probe(s.dir.path(), key["cmafHlsPlayUrl"].get<std::string>());
  BOOST_TEST_REQUIRE(hls.rc == 0, hls.text);
  BOOST_TEST(stream_of(hls.out, "audio").value("codec_name", "") == "aac", hls.text);
  BOOST_TEST(stream_of(hls.out, "audio").value("channels", 0) == 2, hls.text);
  onair::testing::check_tone(key["cmafHlsPlayUrl"].get<std::string>(), 3);
}

BOOST_AUTO_TEST_CASE(a_slideshow_slower_than_the_part_target_has_parts_of_one_frame_within_its_part_target) {
  live_server s{cmaf_args};
  const auto k = s.key_of("lena");
  const auto key_id = k["id"].get<std::int64_t>();
  // 2 frames a second: each frame (0.5 s) is longer than the profile's part target (0.334 s).
  background pub{"exec ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc2=size=640x360:rate=2 -f lavfi "
                 "-i sine=sample_rate=48000 -c:v libx264 -preset ultrafast -g 2 -c:a aac -t 40 -f flv '" +
                 ingest_url(k) + "?mode=CMAF'",
                 s.dir.path() / "pub.log"};
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(key_id, "ACTIVE"); }, 30s),
                     "key never ACTIVE: " << s.key(key_id).dump() << pub.output());
  const auto folder = folder_of(s.key(key_id)["cmafHlsPlayUrl"].get<std::string>());
  BOOST_TEST_REQUIRE(eventually([&] { return segment_uris(get(s, folder + "/v0.m3u8").body).size() >= 2; }));
  for (const auto* name : {"/v0.m3u8", "/a.m3u8"}) {
    const auto playlist = get(s, folder + name).body;
    std::smatch m;
    BOOST_TEST_REQUIRE(std::regex_search(playlist, m, std::regex{"PART-TARGET=([0-9.]+)"}), playlist);
    const double target = std::stod(m[1]);
    BOOST_TEST(target >= 0.5, playlist); // a frame fits
    const std::regex part{"EXT-X-PART:DURATION=([0-9.]+)"};
    int parts = 0;
    for (auto it = std::sregex_iterator(playlist.begin(), playlist.end(), part); it != std::sregex_iterator(); ++it, ++parts)
      BOOST_TEST(std::stod((*it)[1]) <= target + 1e-6, name << ": " << playlist);
    BOOST_TEST(parts > 0, playlist);
  }
}

BOOST_AUTO_TEST_CASE(a_stream_without_video_is_the_keys_error_and_rtmp_playback_goes_on) {
  live_server s{cmaf_args};
  const auto k = s.key_of("jules");
  const auto key_id = k["id"].get<std::int64_t>();
  background pub{publish_audio_only(ingest_url(k) + "?mode=RTMP_CMAF", 40), s.dir.path() / "pub.log"};
  BOOST_TEST_REQUIRE(eventually([&] { return s.key(key_id)["error"].is_object(); }, 20s),
                     s.key(key_id).dump() << pub.output());
  const auto key = s.key(key_id);
  BOOST_TEST(key["error"]["code"] == "TRANSCODE_NO_VIDEO", key.dump());
  BOOST_TEST(contains(key["error"]["message"].get<std::string>(), "no video"), key.dump());
  BOOST_TEST(pub.running(), "the publisher is not cut: " << pub.output());
  // RTMP_CMAF: the RTMP family plays the audio.
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(key_id, "ACTIVE"); }), s.key(key_id).dump());
  const auto rtmp = probe(s.dir.path(), s.key(key_id)["rtmpPlayUrl"].get<std::string>());
  BOOST_TEST(rtmp.rc == 0, rtmp.text);
  BOOST_TEST(stream_of(rtmp.out, "audio").value("codec_name", "") == "aac", rtmp.text);
  check_rtmp_only(s.key(key_id));
}

BOOST_AUTO_TEST_SUITE_END()
