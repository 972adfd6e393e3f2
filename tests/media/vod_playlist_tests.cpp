// The texts a VOD is played from: the HLS master and media playlists and the static DASH MPD over
// a layout of segments (bandwidths, target duration, periods as discontinuities and DASH periods,
// SegmentTimeline runs), then a real tree of fMP4 files that ffprobe reads through both.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "file_probe.hpp"
#include "media/cmaf/fmp4.hpp"
#include "media/cmaf/vod_playlist.hpp"
#include "media/flv/tag.hpp"
#include "temp_dir.hpp"
#include "track_configs.hpp"
#include "text_find.hpp"

using namespace onair::media;
using namespace onair::media::cmaf;
using onair::testing::shell_output;
namespace fs = std::filesystem;

namespace {

using onair::testing::audio_config;
using onair::testing::video_config;

// Segments of the given seconds, back to back from 0, `bytes_per_s` of them each; the ones from
// index `second_period` on are in period 1.
std::vector<vod_segment> segments(const std::vector<double>& secs, std::uint32_t timescale, double bytes_per_s,
                                  std::size_t second_period = 99) {
  std::vector<vod_segment> out;
  std::int64_t at = 0;
  for (std::size_t i = 0; i < secs.size(); ++i) {
    const auto d = static_cast<std::int64_t>(secs[i] * timescale + 0.5);
    out.push_back({.number = static_cast<std::int64_t>(i) + 1,
                   .start = at,
                   .duration = d,
                   .period = i >= second_period ? 1u : 0u,
                   .bytes = static_cast<std::uint64_t>(std::llround(secs[i] * bytes_per_s))});
    at += d;
  }
  return out;
}

// 9.8 s in five segments: 2, 2, 1.5 | 2, 2.3 (the last two after a period change). v0 measured at
// a 3 Mb/s peak and 2.8 Mb/s on average; v1 not measured (its configured 800 kb/s); audio 128 kb/s.
vod_layout two_renditions_and_audio(std::size_t second_period = 3) {
  const std::vector<double> secs{2, 2, 1.5, 2, 2.3};
  vod_layout v;
  v.duration_ms = 9'800;
  v.renditions.push_back(
      {"v0", video_config(1280, 720, 2'800), 30, 3'000'000, segments(secs, 90'000, 350'000, second_period)});
  v.renditions.push_back({"v1", video_config(640, 360, 800), 30, 0, segments(secs, 90'000, 100'000, second_period)});
  v.renditions.push_back({"a", audio_config(), 0, 0, segments(secs, 48'000, 16'000, second_period)});
  return v;
}

using onair::testing::contains;
using onair::testing::count;

// The text from the n-th (0-based) `open` to the `close` after it.
std::string element(const std::string& text, const std::string& open, const std::string& close, int n = 0) {
  auto at = text.find(open);
  for (int i = 0; i < n && at != std::string::npos; ++i)
    at = text.find(open, at + 1);
  BOOST_REQUIRE(at != std::string::npos);
  const auto end = text.find(close, at);
  BOOST_REQUIRE(end != std::string::npos);
  return text.substr(at, end + close.size() - at);
}

using onair::testing::temp_dir;

void write_file(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream{file, std::ios::binary} << text;
}

void write_file(const fs::path& file, const std::vector<std::uint8_t>& bytes) {
  fs::create_directories(file.parent_path());
  std::ofstream{file, std::ios::binary}.write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
}

// A clip the ffmpeg CLI encodes as FLV (25 fps, a key frame every second, AAC), as samples.
struct clip {
  std::vector<flv::tag> tags; // own the bytes the samples point into
  track_config video, audio;
  std::vector<sample> video_samples, audio_samples;
};

clip encode(const fs::path& dir, int seconds) {
  const auto file = dir / "clip.flv";
  const auto cmd = "ffmpeg -v error -y -f lavfi -i testsrc2=size=320x180:rate=25 "
                   "-f lavfi -i sine=frequency=440:sample_rate=48000 -t " + std::to_string(seconds) +
                   " -c:v libx264 -preset ultrafast -g 25 -c:a aac -b:a 64k -f flv " + file.string() + " 2>&1";
  BOOST_REQUIRE_MESSAGE(shell_output(cmd).empty(), "ffmpeg encodes the clip");
  std::ifstream in{file, std::ios::binary};
  const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>{in}, {}};
  flv::reader r;
  auto res = r.consume(bytes);
  BOOST_REQUIRE(res.error.empty());
  clip c;
  c.tags = std::move(res.tags);
  c.video.kind = track_kind::video;
  c.video.timescale = 90'000;
  c.video.width = 320;
  c.video.height = 180;
  c.video.bitrate_kbps = 200;
  c.audio.kind = track_kind::audio;
  c.audio.bitrate_kbps = 64;
  std::int64_t audio_frames = 0;
  for (const auto& t : c.tags) {
    if (t.type == flv::tag_type::video) {
      const auto v = flv::parse_video(*t.payload);
      BOOST_REQUIRE(v);
      if (v->sequence_header)
        c.video.avcc.assign(v->data.begin(), v->data.end());
      else if (!v->end_of_sequence)
        c.video_samples.push_back({.dts = std::int64_t{t.timestamp} * 90, .cto = v->composition_offset * 90,
                                   .key = v->keyframe, .data = v->data});
    } else if (t.type == flv::tag_type::audio) {
      const auto a = flv::parse_audio(*t.payload);
      BOOST_REQUIRE(a);
      if (a->sequence_header) {
        c.audio.asc.assign(a->data.begin(), a->data.end());
        c.audio.sample_rate = a->sample_rate;
        c.audio.channels = a->channels;
        c.audio.timescale = static_cast<std::uint32_t>(a->sample_rate);
      } else {
        c.audio_samples.push_back({.dts = audio_frames++ * 1024, .duration = 1024, .key = true, .data = a->data});
      }
    }
  }
  BOOST_REQUIRE(!c.video.avcc.empty() && !c.audio.asc.empty() && !c.video_samples.empty());
  for (std::size_t i = 0; i + 1 < c.video_samples.size(); ++i)
    c.video_samples[i].duration = static_cast<std::uint32_t>(c.video_samples[i + 1].dts - c.video_samples[i].dts);
  c.video_samples.back().duration = 3'600;
  return c;
}

// Writes the rendition's init segment and one segment per run of samples starting at a cut (in
// seconds), returning the rendition that describes them.
vod_rendition write_rendition(const fs::path& dir, const std::string& id, const track_config& config,
                              const std::vector<sample>& samples, const std::vector<double>& cuts, double frame_rate) {
  vod_rendition r{id, config, frame_rate, 0, {}};
  write_file(dir / vod_init_uri(id), init_segment(config));
  std::size_t from = 0;
  for (std::size_t c = 0; c < cuts.size() && from < samples.size(); ++c) {
    const double next = c + 1 < cuts.size() ? cuts[c + 1] : 1e9;
    std::size_t to = from;
    std::int64_t duration = 0;
    while (to < samples.size() && static_cast<double>(samples[to].dts) / config.timescale < next - 1e-9)
      duration += samples[to++].duration;
    BOOST_REQUIRE(to > from);
    const auto number = static_cast<std::int64_t>(r.segments.size()) + 1;
    const auto bytes = chunk(config, static_cast<std::uint32_t>(number), std::span{samples}.subspan(from, to - from));
    write_file(dir / vod_segment_uri(id, number), bytes);
    r.segments.push_back({.number = number, .start = samples[from].dts, .duration = duration, .bytes = bytes.size()});
    const auto bits_per_s = static_cast<std::int64_t>(bytes.size()) * 8 * config.timescale / duration;
    r.peak_bandwidth = std::max(r.peak_bandwidth, static_cast<int>(bits_per_s));
    from = to;
  }
  return r;
}

// What ffprobe reads through a playlist or manifest: its errors while it decodes every frame, the
// codecs of its streams, the video frames decoded, its duration.
struct probe {
  std::string errors, codecs;
  long frames = 0;
  double duration = 0;
};
probe probe_index(const fs::path& file) {
  const auto f = "'" + file.string() + "'";
  const auto q = [&](const std::string& args) {
    return shell_output("ffprobe -v error " + args + " -of csv=p=0 " + f + " 2>/dev/null");
  };
  return {.errors = shell_output("ffprobe -v error -count_frames -show_entries stream=index -of csv=p=0 " + f +
                                 " 2>&1 >/dev/null"),
          .codecs = q("-show_entries stream=codec_name"),
          .frames = std::atol(q("-count_frames -select_streams v:0 -show_entries stream=nb_read_frames").c_str()),
          .duration = std::atof(q("-show_entries format=duration").c_str())};
}

} // namespace

BOOST_AUTO_TEST_SUITE(vod_playlist)

BOOST_AUTO_TEST_CASE(segment_and_init_uris_are_in_the_renditions_folder_numbered_to_five_digits) {
  BOOST_TEST(vod_init_uri("v0") == "v0/init.mp4");
  BOOST_TEST(vod_segment_uri("v0", 1) == "v0/00001.m4s");
  BOOST_TEST(vod_segment_uri("a", 12345) == "a/12345.m4s");
}

BOOST_AUTO_TEST_CASE(the_master_lists_each_video_rendition_with_the_audio_group_and_both_bandwidths) {
  // Given two video renditions and the audio
  const auto v = two_renditions_and_audio();
  // When the master playlist is written
  const auto m = vod_master_playlist(v);
  // Then it lists each video rendition with the audio's codec and rate added, the audio as a group
  BOOST_TEST(m.starts_with("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n"));
  BOOST_TEST(contains(m, "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"audio\",DEFAULT=YES,AUTOSELECT=YES,"
                         "URI=\"a.m3u8\"\n"));
  BOOST_TEST(contains(m, "#EXT-X-STREAM-INF:BANDWIDTH=3128000,AVERAGE-BANDWIDTH=2928000,"
                         "CODECS=\"avc1.64001e,mp4a.40.2\",RESOLUTION=1280x720,FRAME-RATE=30.000,AUDIO=\"audio\"\n"
                         "v0.m3u8\n"));
  // (v1 is not measured: its configured rate stands in for the peak)
  BOOST_TEST(contains(m, "#EXT-X-STREAM-INF:BANDWIDTH=928000,AVERAGE-BANDWIDTH=928000,"
                         "CODECS=\"avc1.64001e,mp4a.40.2\",RESOLUTION=640x360,FRAME-RATE=30.000,AUDIO=\"audio\"\n"
                         "v1.m3u8\n"));
  BOOST_TEST(count(m, "#EXT-X-STREAM-INF") == 2);
  BOOST_TEST(m.find("v0.m3u8") < m.find("v1.m3u8"));
}

BOOST_AUTO_TEST_CASE(a_media_playlist_is_a_vod_with_a_target_the_ceiling_of_its_longest_segment) {
  // Given segments of 2, 2, 1.5, 2 and 2.3 s in one period
  const auto v = two_renditions_and_audio(99);
  // When its media playlists are written
  const auto p = vod_media_playlist(v, 0);
  // Then the target is 3 (2.3 s rounded up), every segment is listed with its duration, and it ends
  BOOST_TEST(p.starts_with("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:3\n#EXT-X-MEDIA-SEQUENCE:1\n"
                           "#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI=\"v0/init.mp4\"\n"));
  BOOST_TEST(contains(p, "#EXTINF:2.00000,\nv0/00001.m4s\n#EXTINF:2.00000,\nv0/00002.m4s\n#EXTINF:1.50000,\n"
                         "v0/00003.m4s\n#EXTINF:2.00000,\nv0/00004.m4s\n#EXTINF:2.30000,\nv0/00005.m4s\n"));
  BOOST_TEST(p.ends_with("v0/00005.m4s\n#EXT-X-ENDLIST\n"));
  BOOST_TEST(!contains(p, "DISCONTINUITY"));
  const auto a = vod_media_playlist(v, 2);
  BOOST_TEST(contains(a, "#EXT-X-MAP:URI=\"a/init.mp4\"\n"));
  BOOST_TEST(contains(a, "#EXTINF:2.30000,\na/00005.m4s\n"));
}

BOOST_AUTO_TEST_CASE(a_target_duration_of_whole_seconds_is_not_rounded_up) {
  // Given a segment of exactly 2 s and one a tick longer than 2 s
  auto v = two_renditions_and_audio(99);
  auto& segs = v.renditions[0].segments;
  segs.resize(2);
  // When each is the longest
  const auto whole = vod_media_playlist(v, 0);
  segs[1].duration = 180'001;
  const auto over = vod_media_playlist(v, 0);
  // Then the first target is 2 and the second 3
  BOOST_TEST(contains(whole, "#EXT-X-TARGETDURATION:2\n"));
  BOOST_TEST(contains(over, "#EXT-X-TARGETDURATION:3\n"));
}

BOOST_AUTO_TEST_CASE(a_period_change_is_a_discontinuity_in_hls_and_a_second_period_in_dash) {
  // Given segments 4 and 5 in a second period
  const auto v = two_renditions_and_audio(3);
  // When the playlist and the MPD are written
  const auto p = vod_media_playlist(v, 0);
  const auto mpd = vod_manifest(v);
  // Then the playlist has one discontinuity, before segment 4
  BOOST_TEST(count(p, "#EXT-X-DISCONTINUITY") == 1);
  BOOST_TEST(contains(p, "v0/00003.m4s\n#EXT-X-DISCONTINUITY\n#EXTINF:2.00000,\nv0/00004.m4s\n"));
  // And the MPD has two periods: the second from 5.5 s, its templates numbered from 4 with its
  // own first decode times as offsets
  BOOST_TEST(contains(mpd, "type=\"static\""));
  BOOST_TEST(contains(mpd, "profiles=\"urn:mpeg:dash:profile:isoff-live:2011\""));
  BOOST_TEST(contains(mpd, "mediaPresentationDuration=\"PT9.800S\" minBufferTime=\"PT2S\""));
  BOOST_TEST(count(mpd, "<Period ") == 2);
  const auto first = element(mpd, "<Period ", "</Period>", 0);
  const auto second = element(mpd, "<Period ", "</Period>", 1);
  BOOST_TEST(first.starts_with("<Period id=\"0\" start=\"PT0.000S\" duration=\"PT5.500S\">"));
  BOOST_TEST(second.starts_with("<Period id=\"1\" start=\"PT5.500S\" duration=\"PT4.300S\">"));
  BOOST_TEST(contains(first, "<SegmentTemplate timescale=\"90000\" initialization=\"v0/init.mp4\" "
                             "media=\"v0/$Number%05d$.m4s\" startNumber=\"1\" presentationTimeOffset=\"0\">"));
  BOOST_TEST(contains(second, "<SegmentTemplate timescale=\"90000\" initialization=\"v0/init.mp4\" "
                              "media=\"v0/$Number%05d$.m4s\" startNumber=\"4\" presentationTimeOffset=\"495000\">"));
  BOOST_TEST(contains(second, "<SegmentTemplate timescale=\"48000\" initialization=\"a/init.mp4\" "
                              "media=\"a/$Number%05d$.m4s\" startNumber=\"4\" presentationTimeOffset=\"264000\">"));
  BOOST_TEST(!contains(second, "d=\"180000\" r=\"1\""));
}

BOOST_AUTO_TEST_CASE(each_period_has_a_video_set_and_an_audio_set_with_every_representation) {
  // Given two video renditions and the audio
  const auto mpd = vod_manifest(two_renditions_and_audio(99));
  // Then the period holds the video (largest first) and the audio with their attributes
  BOOST_TEST(count(mpd, "<Period ") == 1);
  BOOST_TEST(contains(mpd, "<AdaptationSet id=\"0\" contentType=\"video\" mimeType=\"video/mp4\" "
                           "segmentAlignment=\"true\" startWithSAP=\"1\">"));
  BOOST_TEST(contains(mpd, "<AdaptationSet id=\"1\" contentType=\"audio\" mimeType=\"audio/mp4\""));
  BOOST_TEST(contains(mpd, "<Representation id=\"v0\" codecs=\"avc1.64001e\" width=\"1280\" height=\"720\" "
                           "frameRate=\"30\" bandwidth=\"3000000\" sar=\"1:1\">"));
  BOOST_TEST(contains(mpd, "<Representation id=\"v1\" codecs=\"avc1.64001e\" width=\"640\" height=\"360\" "
                           "frameRate=\"30\" bandwidth=\"800000\" sar=\"1:1\">"));
  BOOST_TEST(contains(mpd, "<Representation id=\"a\" codecs=\"mp4a.40.2\" audioSamplingRate=\"48000\" "
                           "bandwidth=\"128000\">\n        <AudioChannelConfiguration "
                           "schemeIdUri=\"urn:mpeg:dash:23003:3:audio_channel_configuration:2011\" value=\"2\"/>"));
  BOOST_TEST(mpd.find("id=\"v0\"") < mpd.find("id=\"v1\""));
  BOOST_TEST(mpd.find("id=\"v1\"") < mpd.find("id=\"a\""));
  BOOST_TEST(mpd.ends_with("</Period>\n</MPD>\n"));
}

BOOST_AUTO_TEST_CASE(a_segment_timeline_runs_equal_contiguous_durations_together) {
  // Given segments of 2, 2, 1.5, 2, 2.3 s, then the same with a gap before the fourth
  auto v = two_renditions_and_audio(99);
  const auto runs = element(vod_manifest(v), "<SegmentTimeline>", "</SegmentTimeline>");
  for (auto& r : v.renditions)
    for (auto& s : r.segments)
      if (s.number >= 4)
        s.start += r.config.timescale; // a second later
  const auto gap = element(vod_manifest(v), "<SegmentTimeline>", "</SegmentTimeline>");
  // Then the first two are one run; a segment that continues the timeline has no t; a gap has one
  BOOST_TEST(runs == "<SegmentTimeline>\n"
                     "            <S t=\"0\" d=\"180000\" r=\"1\"/>\n"
                     "            <S d=\"135000\"/>\n"
                     "            <S d=\"180000\"/>\n"
                     "            <S d=\"207000\"/>\n"
                     "          </SegmentTimeline>");
  BOOST_TEST(contains(gap, "<S d=\"135000\"/>\n"
                           "            <S t=\"585000\" d=\"180000\"/>\n"
                           "            <S d=\"207000\"/>"));
}

BOOST_AUTO_TEST_CASE(a_rate_that_is_not_whole_is_a_ratio_in_dash) {
  // Given video at 29.97 and at 12.5 fps
  auto v = two_renditions_and_audio(99);
  v.renditions[0].frame_rate = 30'000.0 / 1'001;
  v.renditions[1].frame_rate = 12.5;
  const auto mpd = vod_manifest(v);
  // Then DASH writes ratios (its frameRate has no decimals), HLS decimals
  BOOST_TEST(contains(mpd, "frameRate=\"30000/1001\""));
  BOOST_TEST(contains(mpd, "frameRate=\"12500/1000\""));
  BOOST_TEST(contains(vod_master_playlist(v), "FRAME-RATE=29.970,"));
}

BOOST_AUTO_TEST_CASE(an_audio_only_vod_has_one_variant_the_audio_playlist_and_one_adaptation_set) {
  // Given only the audio
  auto v = two_renditions_and_audio(99);
  v.renditions.erase(v.renditions.begin(), v.renditions.begin() + 2);
  // When the texts are written
  const auto m = vod_master_playlist(v);
  const auto mpd = vod_manifest(v);
  // Then the master's one variant is the audio playlist, with no group
  BOOST_TEST(m == "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n"
                  "#EXT-X-STREAM-INF:BANDWIDTH=128000,AVERAGE-BANDWIDTH=128000,CODECS=\"mp4a.40.2\"\na.m3u8\n");
  BOOST_TEST(contains(vod_media_playlist(v, 0), "#EXT-X-TARGETDURATION:3\n"));
  // And the MPD has the audio set alone, its period placed by the audio's segments
  BOOST_TEST(!contains(mpd, "video"));
  BOOST_TEST(count(mpd, "<AdaptationSet ") == 1);
  BOOST_TEST(contains(mpd, "<Period id=\"0\" start=\"PT0.000S\" duration=\"PT9.800S\">"));
  BOOST_TEST(contains(mpd, "contentType=\"audio\""));
}

BOOST_AUTO_TEST_CASE(ffprobe_reads_a_real_tree_through_the_playlists_and_the_manifest) {
  BOOST_REQUIRE_MESSAGE(shell_output("ffprobe -version >/dev/null 2>&1 && echo ok") == "ok\n",
                        "ffmpeg/ffprobe not installed (ops/deps installs them)");
  temp_dir dir;
  // Given a 4 s clip written as a VOD: init segments and 1 s segments for the video and the audio
  const auto c = encode(dir.path, 4);
  const std::vector<double> cuts{0, 1, 2, 3};
  vod_layout v;
  v.renditions.push_back(write_rendition(dir.path, "v0", c.video, c.video_samples, cuts, 25));
  v.renditions.push_back(write_rendition(dir.path, "a", c.audio, c.audio_samples, cuts, 0));
  BOOST_REQUIRE_EQUAL(v.renditions[0].segments.size(), 4u);
  std::int64_t ticks = 0;
  for (const auto& s : v.renditions[0].segments)
    ticks += s.duration;
  v.duration_ms = ticks / 90;
  // When its playlists and manifest are written next to them
  const auto write_texts = [&](const vod_layout& l, const std::string& index, const std::string& manifest) {
    write_file(dir.path / index, vod_master_playlist(l));
    write_file(dir.path / "v0.m3u8", vod_media_playlist(l, 0));
    write_file(dir.path / "a.m3u8", vod_media_playlist(l, 1));
    write_file(dir.path / manifest, vod_manifest(l));
  };
  write_texts(v, "index.m3u8", "manifest.mpd");
  // Then ffprobe decodes every frame through both without an error, 4 s long
  for (const auto* index : {"index.m3u8", "manifest.mpd"}) {
    const auto p = probe_index(dir.path / index);
    BOOST_TEST_MESSAGE(index << ": " << p.frames << " frames, " << p.duration << " s");
    BOOST_TEST(p.errors == "", index);
    BOOST_TEST(contains(p.codecs, "h264"), index);
    BOOST_TEST(contains(p.codecs, "aac"), index);
    BOOST_TEST(p.frames == static_cast<long>(c.video_samples.size()), index);
    BOOST_TEST(std::abs(p.duration - 4.0) <= 0.1, index << " lasts " << p.duration << " s");
  }

  // And with the last two segments in a second period (an HLS discontinuity, a second DASH period)
  for (auto& r : v.renditions)
    for (auto& s : r.segments)
      s.period = s.number >= 3 ? 1 : 0;
  write_texts(v, "index2.m3u8", "manifest2.mpd");
  const auto hls = probe_index(dir.path / "index2.m3u8");
  BOOST_TEST(hls.errors == "");
  BOOST_TEST(hls.frames == static_cast<long>(c.video_samples.size()));
  BOOST_TEST(std::abs(hls.duration - 4.0) <= 0.1, "HLS lasts " << hls.duration << " s");
  BOOST_TEST(probe_index(dir.path / "manifest2.mpd").errors == "");
}

BOOST_AUTO_TEST_SUITE_END()
