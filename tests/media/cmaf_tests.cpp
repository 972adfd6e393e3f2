// The CMAF packager and what players read of it: boxes (init segment, chunks), parts and
// segments cut on the stream's grid, the sliding window, waits for parts, the HLS/LL-HLS
// playlists and the DASH MPD, request paths, and the ladder a source gets.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "media/cmaf/fmp4.hpp"
#include "media/cmaf/http.hpp"
#include "media/cmaf/packager.hpp"
#include "media/cmaf/playlist.hpp"
#include "media/ffmpeg/transcoder.hpp"
#include "track_configs.hpp"
#include "text_find.hpp"

using namespace onair::media;
using namespace onair::media::cmaf;

namespace {

using onair::testing::audio_config;
using onair::testing::video_config;

constexpr std::int64_t t0_wall = 1'800'000'000'000; // a wall clock for program date times

// Two video renditions and the audio, fed at 30 fps (a key frame every second) and 48 kHz AAC.
struct fixture {
  std::shared_ptr<stream> s;
  std::int64_t video_frames = 0, audio_frames = 0;
  double wall_rate = 1.0; // wall clock per media second: a publisher slower (>1) than real time

  explicit fixture(stream_options o = {}) {
    o.uri_prefix = "f0lder/";
    s = std::make_shared<stream>(o, std::vector<rendition_desc>{{"v0", track_kind::video, 2'800'000, 30},
                                                                {"v1", track_kind::video, 800'000, 30},
                                                                {"a", track_kind::audio, 128'000, 0}});
    s->set_origin(0, t0_wall);
    s->set_config(0, video_config(1280, 720));
    s->set_config(1, video_config());
    s->set_config(2, audio_config());
  }

  static stream::input sample(std::int64_t dts, bool key, std::size_t size) {
    return stream::input{dts, 0, key, std::make_shared<const std::vector<std::uint8_t>>(size, 0xab)};
  }

  // Everything up to `ms`, in time order across tracks.
  void feed_until(std::int64_t ms) {
    for (;;) {
      const std::int64_t v_ms = video_frames * 1000 / 30;
      const std::int64_t a_ms = audio_frames * 1024 * 1000 / 48'000;
      if (std::min(v_ms, a_ms) >= ms)
        return;
      if (v_ms <= a_ms) {
        const bool key = video_frames % 30 == 0;
        const auto wall = t0_wall + static_cast<std::int64_t>(static_cast<double>(v_ms) * wall_rate);
        s->push(0, sample(video_frames * 3000, key, 400), wall);
        s->push(1, sample(video_frames * 3000, key, 100), wall);
        ++video_frames;
      } else {
        s->push(2, sample(audio_frames * 1024, true, 20),
                t0_wall + static_cast<std::int64_t>(static_cast<double>(a_ms) * wall_rate));
        ++audio_frames;
      }
    }
  }
};

double seconds(std::int64_t ticks, std::uint32_t timescale) { return static_cast<double>(ticks) / timescale; }

std::uint32_t be32(const std::vector<std::uint8_t>& b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) | (std::uint32_t{b[at + 2]} << 8) | b[at + 3];
}

// Top-level boxes: (type, offset, size).
std::vector<std::tuple<std::string, std::size_t, std::size_t>> boxes(const std::vector<std::uint8_t>& b) {
  std::vector<std::tuple<std::string, std::size_t, std::size_t>> out;
  for (std::size_t at = 0; at + 8 <= b.size();) {
    const auto size = be32(b, at);
    BOOST_REQUIRE(size >= 8 && at + size <= b.size());
    out.emplace_back(std::string(reinterpret_cast<const char*>(&b[at + 4]), 4), at, size);
    at += size;
  }
  return out;
}

std::size_t find(const std::vector<std::uint8_t>& b, std::string_view what) {
  auto it = std::search(b.begin(), b.end(), what.begin(), what.end());
  return it == b.end() ? std::string::npos : static_cast<std::size_t>(it - b.begin());
}

using onair::testing::contains;
using onair::testing::count;

} // namespace

BOOST_AUTO_TEST_SUITE(cmaf_boxes)

BOOST_AUTO_TEST_CASE(an_init_segment_is_ftyp_then_moov_with_the_codec_records) {
  const auto video = init_segment(video_config());
  const auto top = boxes(video);
  BOOST_REQUIRE_EQUAL(top.size(), 2u);
  BOOST_TEST(std::get<0>(top[0]) == "ftyp");
  BOOST_TEST(std::get<0>(top[1]) == "moov");
  const auto at = find(video, "avcC");
  BOOST_REQUIRE(at != std::string::npos);
  BOOST_TEST(std::equal(onair::testing::test_avcc.begin(), onair::testing::test_avcc.end(), video.begin() + static_cast<std::ptrdiff_t>(at + 4)));
  BOOST_TEST(find(video, "mvex") != std::string::npos);

  const auto audio = init_segment(audio_config());
  BOOST_TEST(find(audio, "mp4a") != std::string::npos);
  const auto esds = find(audio, "esds");
  BOOST_REQUIRE(esds != std::string::npos);
  // The DecoderSpecificInfo (tag 5, 4-byte size) carries the AudioSpecificConfig.
  const std::vector<std::uint8_t> dsi{5, 0x80, 0x80, 0x80, 2, onair::testing::test_asc[0], onair::testing::test_asc[1]};
  BOOST_TEST((std::search(audio.begin(), audio.end(), dsi.begin(), dsi.end()) != audio.end()));
}

BOOST_AUTO_TEST_CASE(a_chunk_is_moof_then_mdat_and_its_data_offset_points_at_the_first_sample) {
  const std::vector<std::uint8_t> a{1, 2, 3}, b{4, 5, 6, 7};
  const std::vector<sample> samples{{9000, 0, 3000, true, a}, {12000, 0, 3000, false, b}};
  const auto bytes = chunk(video_config(), 7, samples);
  const auto top = boxes(bytes);
  BOOST_REQUIRE_EQUAL(top.size(), 2u);
  BOOST_TEST(std::get<0>(top[0]) == "moof");
  BOOST_TEST(std::get<0>(top[1]) == "mdat");
  BOOST_TEST(be32(bytes, find(bytes, "mfhd") + 8) == 7u); // sequence number
  const auto tfdt = find(bytes, "tfdt");
  BOOST_TEST(bytes[tfdt + 4] == 1); // version 1: 64-bit decode time
  BOOST_TEST(be32(bytes, tfdt + 12) == 9000u);
  const auto trun = find(bytes, "trun");
  BOOST_TEST(be32(bytes, trun + 8) == 2u); // sample count
  const auto data_offset = be32(bytes, trun + 12);
  BOOST_TEST(data_offset == std::get<2>(top[0]) + 8); // right past the mdat header
  BOOST_TEST(bytes[data_offset] == 1);
  BOOST_TEST(bytes[data_offset + 3] == 4);
  BOOST_CHECK_THROW((void)chunk(video_config(), 1, {}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(annex_b_becomes_length_prefixed_nal_units_and_the_avcc_comes_from_its_sps_and_pps) {
  // AUD (3-byte start code), SPS and PPS (4-byte), an IDR slice.
  const std::vector<std::uint8_t> annexb{0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x67, 0x64, 0, 0x1f, 0xac,
                                         0, 0, 0, 1, 0x68, 0xeb, 0, 0, 1, 0x65, 0x88, 0x84};
  const auto out = annexb_to_avcc(annexb);
  const std::vector<std::uint8_t> expected{0, 0, 0, 5, 0x67, 0x64, 0, 0x1f, 0xac, 0, 0, 0, 2,
                                           0x68, 0xeb, 0, 0, 0, 3, 0x65, 0x88, 0x84};
  BOOST_TEST(out == expected, boost::test_tools::per_element());
  const auto record = avcc_from_annexb(annexb);
  BOOST_REQUIRE(record.has_value());
  BOOST_TEST((*record)[1] == 0x64); // profile
  BOOST_TEST((*record)[3] == 0x1f); // level
  track_config t;
  t.avcc = *record;
  BOOST_TEST(codecs_of(t) == "avc1.64001f");
  BOOST_TEST(!avcc_from_annexb(std::vector<std::uint8_t>{0, 0, 1, 0x67, 0x64, 0, 0x1f}).has_value()); // no PPS
  BOOST_TEST(codecs_of(audio_config()) == "mp4a.40.2");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cmaf_packager)

BOOST_AUTO_TEST_CASE(parts_are_at_most_the_part_target_and_at_least_85_percent_of_it_but_the_last_of_a_segment) {
  fixture f;
  f.feed_until(12'000);
  const auto v = f.s->view();
  for (const auto& r : v.renditions) {
    const auto ts = r.config->timescale;
    for (const auto& seg : r.segments) {
      if (!seg->complete)
        continue;
      for (std::size_t i = 0; i < seg->parts.size(); ++i) {
        const double d = seconds(seg->parts[i].duration, ts);
        BOOST_TEST(d <= 0.334 + 1e-9);
        if (i + 1 < seg->parts.size() && !seg->parts[i].independent)
          BOOST_TEST(d >= 0.85 * 0.334, r.desc.id << " segment " << seg->msn << " part " << i << ": " << d);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(segments_start_on_the_grid_at_key_frames_and_every_rendition_lines_up) {
  fixture f;
  f.feed_until(12'000);
  const auto v = f.s->view();
  const auto& v0 = v.renditions[0];
  const auto& v1 = v.renditions[1];
  const auto& a = v.renditions[2];
  BOOST_REQUIRE_GE(v0.segments.size(), 5u);
  for (std::size_t i = 0; i < v0.segments.size(); ++i) {
    const auto& s = *v0.segments[i];
    BOOST_TEST(s.msn == static_cast<std::int64_t>(i));
    BOOST_TEST(s.start == s.msn * 180'000); // 2 s on the 90 kHz clock
    BOOST_TEST(s.parts.front().independent);
    BOOST_TEST(v1.segments[i]->start == s.start);
    // Audio's segment begins with the first AAC frame at or after the same time.
    const double audio_start = seconds(a.segments[i]->start, 48'000);
    BOOST_TEST(audio_start >= seconds(s.start, 90'000));
    BOOST_TEST(audio_start < seconds(s.start, 90'000) + 1024.0 / 48'000);
    if (s.complete)
      BOOST_TEST(std::abs(seconds(s.duration, 90'000) - 2.0) < 1e-6);
  }
}

BOOST_AUTO_TEST_CASE(the_window_keeps_the_last_segments_and_numbers_go_on) {
  stream_options o;
  o.window_segments = 4;
  fixture f{o};
  f.feed_until(30'000);
  const auto v = f.s->view();
  for (const auto& r : v.renditions) {
    std::size_t complete = 0;
    for (std::size_t i = 0; i < r.segments.size(); ++i) {
      complete += r.segments[i]->complete ? 1 : 0;
      if (i > 0)
        BOOST_TEST(r.segments[i]->msn == r.segments[i - 1]->msn + 1);
    }
    BOOST_TEST(complete == 4u);
  }
  BOOST_TEST(!f.s->find_segment(0, 0));
  BOOST_TEST(f.s->find_segment(0, 13) != nullptr);
  BOOST_TEST(f.s->held_bytes() < 6u * 60 * 600); // the window, not the stream
  // DASH counts from the period's beginning, which has left the window.
  const auto mpd = dash_manifest(v, "http://h/time", t0_wall + 30'000);
  BOOST_TEST(contains(mpd, "<Period id=\"p0\" start=\"PT0.000S\">"), mpd);
  BOOST_TEST(contains(mpd, "timescale=\"90000\" duration=\"180000\" startNumber=\"0\" presentationTimeOffset=\"0\""),
             mpd);
}

BOOST_AUTO_TEST_CASE(the_stream_is_ready_once_every_rendition_has_a_complete_segment) {
  fixture f;
  std::atomic<int> ready{0};
  f.s->on_ready([&ready] { ++ready; });
  f.feed_until(1'500);
  BOOST_TEST(ready == 0);
  BOOST_TEST(!f.s->ready());
  f.feed_until(2'100);
  BOOST_TEST(ready == 1);
  BOOST_TEST(f.s->ready());
  f.feed_until(6'100);
  BOOST_TEST(ready == 1);
  int later = 0;
  f.s->on_ready([&later] { ++later; }); // already ready: at once
  BOOST_TEST(later == 1);
}

BOOST_AUTO_TEST_CASE(a_wait_for_the_next_part_fires_when_it_is_cut_and_not_before_and_a_cancelled_one_never) {
  fixture f;
  f.feed_until(3'000);
  auto v = f.s->view();
  const auto msn = v.renditions[0].next_msn;
  const auto part = v.renditions[0].next_part;
  int fired = 0, cancelled = 0, segment_done = 0;
  f.s->when(0, msn, part, [&fired] { ++fired; });
  auto w = f.s->when(0, msn, part, [&cancelled] { ++cancelled; });
  stream::cancel(w);
  f.s->when(0, msn, -1, [&segment_done] { ++segment_done; });
  BOOST_TEST(fired == 0);
  f.feed_until(3'000 + 400);
  BOOST_TEST(fired == 1);
  BOOST_TEST(f.s->find_part(0, msn, part).has_value());
  BOOST_TEST(cancelled == 0);
  BOOST_TEST(segment_done == 0);
  f.feed_until(4'100);
  BOOST_TEST(segment_done == 1);
  // Something already there fires at once.
  int now = 0;
  f.s->when(0, msn, 0, [&now] { ++now; });
  BOOST_TEST(now == 1);
}

BOOST_AUTO_TEST_CASE(a_playlist_is_made_once_per_change_and_shared) {
  fixture f;
  f.feed_until(3'000);
  int made = 0;
  const auto make = [&made](const stream_view& v) {
    ++made;
    return media_playlist(v, 0, false);
  };
  const auto a = f.s->memo(0, make);
  const auto b = f.s->memo(0, make);
  BOOST_TEST(made == 1);
  BOOST_TEST(a == b); // the same text, shared
  BOOST_TEST(*a == media_playlist(f.s->view(), 0, false));
  f.feed_until(3'400); // a part more
  const auto c = f.s->memo(0, make);
  BOOST_TEST(made == 2);
  BOOST_TEST(*c == media_playlist(f.s->view(), 0, false));
  BOOST_TEST(*c != *a);
}

BOOST_AUTO_TEST_CASE(a_wait_for_a_part_its_segment_ends_before_is_answered_by_the_next_segments_first_part) {
  fixture f;
  f.feed_until(1'500);
  // Audio: 15 AAC frames (320 ms) a part, so a 2 s segment ends with a short 7th part or none.
  const auto v = f.s->view();
  const auto& a = v.renditions[2];
  const auto msn = a.next_msn;
  int fired = 0;
  f.s->when(2, msn, 9, [&fired] { ++fired; }); // a part the segment will not have
  f.feed_until(2'000);
  BOOST_TEST(fired == 0);
  BOOST_TEST_REQUIRE(f.s->find_segment(2, msn)->parts.size() < 9u);
  f.feed_until(2'400); // segment msn ended at 2 s; the next one's first part is cut by now
  BOOST_TEST(fired == 1);
  BOOST_TEST(f.s->find_part(2, msn + 1, 0).has_value());
}

BOOST_AUTO_TEST_CASE(the_end_completes_the_last_segments_and_releases_every_waiter) {
  fixture f;
  f.feed_until(3'000);
  int released = 0;
  f.s->when(0, 40, 0, [&released] { ++released; });
  f.s->end();
  BOOST_TEST(released == 1);
  BOOST_TEST(f.s->ended());
  const auto v = f.s->view();
  for (const auto& r : v.renditions)
    BOOST_TEST(r.segments.back()->complete);
  f.feed_until(4'000); // ignored
  BOOST_TEST(f.s->view().renditions[0].segments.size() == v.renditions[0].segments.size());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cmaf_playlists)

BOOST_AUTO_TEST_CASE(the_master_lists_each_video_rendition_with_codecs_resolution_bandwidth_and_the_audio_group) {
  fixture f;
  f.feed_until(2'500);
  const auto m = master_playlist(f.s->view());
  BOOST_TEST(contains(m, "#EXT-X-INDEPENDENT-SEGMENTS"));
  BOOST_TEST(contains(m, "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\""));
  BOOST_TEST(contains(m, "URI=\"a.m3u8\""));
  BOOST_TEST(contains(m, "BANDWIDTH=2928000,CODECS=\"avc1.64001e,mp4a.40.2\",RESOLUTION=1280x720,FRAME-RATE=30.000,"
                         "AUDIO=\"audio\"\nv0.m3u8\n"));
  BOOST_TEST(contains(m, "BANDWIDTH=928000,CODECS=\"avc1.64001e,mp4a.40.2\",RESOLUTION=640x360"));
  BOOST_TEST(count(m, "#EXT-X-STREAM-INF") == 2);
}

BOOST_AUTO_TEST_CASE(a_media_playlist_carries_every_ll_hls_tag_with_the_spec_multiples) {
  fixture f;
  f.feed_until(9'100);
  const auto v = f.s->view();
  const auto p = media_playlist(v, 0, false);
  BOOST_TEST(contains(p, "#EXT-X-TARGETDURATION:2\n"));
  BOOST_TEST(contains(p, "#EXT-X-PART-INF:PART-TARGET=0.334\n"));
  // PART-HOLD-BACK >= 3 x PART-TARGET, HOLD-BACK >= 3 x TARGETDURATION, CAN-SKIP-UNTIL >= 6 x TARGETDURATION.
  BOOST_TEST(contains(p, "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12.0,PART-HOLD-BACK=1.002,"
                         "HOLD-BACK=6.0\n"));
  BOOST_TEST(contains(p, "#EXT-X-MEDIA-SEQUENCE:0\n"));
  BOOST_TEST(contains(p, "#EXT-X-MAP:URI=\"f0lder/v0/init.mp4\"\n"));
  BOOST_TEST(contains(p, "#EXT-X-PROGRAM-DATE-TIME:2027-01-15T08:00:00.000Z\n")); // t0_wall
  BOOST_TEST(contains(p, "#EXT-X-PROGRAM-DATE-TIME:2027-01-15T08:00:02.000Z\n"));
  BOOST_TEST(contains(p, "#EXTINF:2.00000,\nf0lder/v0/0.m4s\n"));
  BOOST_TEST(contains(p, "#EXT-X-PART:DURATION=0.33333,URI=\"f0lder/v0/4.0.m4s\",INDEPENDENT=YES\n"));
  BOOST_TEST(contains(p, "#EXT-X-PART:DURATION=0.33333,URI=\"f0lder/v0/4.1.m4s\"\n"));
  BOOST_TEST(contains(p, "#EXT-X-PART:DURATION=0.33333,URI=\"f0lder/v0/3.3.m4s\",INDEPENDENT=YES\n")); // the 1 s key frame
  const auto& r = v.renditions[0];
  BOOST_TEST(contains(p, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"f0lder/v0/" + std::to_string(r.next_msn) + "." +
                             std::to_string(r.next_part) + ".m4s\"\n"));
  const auto other = last_published(v.renditions[1]);
  BOOST_REQUIRE(other.has_value());
  BOOST_TEST(contains(p, "#EXT-X-RENDITION-REPORT:URI=\"v1.m3u8\",LAST-MSN=" + std::to_string(other->msn) +
                             ",LAST-PART=" + std::to_string(other->part) + "\n"));
  BOOST_TEST(!contains(p, "ENDLIST"));
  // Parts are listed for the last three target durations only.
  BOOST_TEST(!contains(p, "f0lder/v0/0.0.m4s"));
  // The audio playlist reports no video rendition.
  BOOST_TEST(!contains(media_playlist(v, 2, false), "RENDITION-REPORT"));
}

BOOST_AUTO_TEST_CASE(a_delta_update_skips_the_segments_older_than_can_skip_until) {
  fixture f;
  f.feed_until(19'100); // segments 0..8 complete, 9 open
  const auto full = media_playlist(f.s->view(), 0, false);
  const auto delta = media_playlist(f.s->view(), 0, true);
  // 19.1 s of playlist: the segments starting more than 12 s before its end go.
  BOOST_TEST(contains(delta, "#EXT-X-SKIP:SKIPPED-SEGMENTS=4\n"));
  BOOST_TEST(!contains(delta, "f0lder/v0/3.m4s\n"));
  BOOST_TEST(contains(delta, "f0lder/v0/4.m4s\n"));
  BOOST_TEST(contains(full, "f0lder/v0/0.m4s\n"));
  BOOST_TEST(contains(delta, "#EXT-X-MEDIA-SEQUENCE:0\n")); // a delta keeps the sequence of the full one
}

BOOST_AUTO_TEST_CASE(an_ended_stream_ends_its_playlists_and_hints_nothing) {
  fixture f;
  f.feed_until(4'100);
  f.s->end();
  const auto p = media_playlist(f.s->view(), 1, false);
  BOOST_TEST(contains(p, "#EXT-X-ENDLIST\n"));
  BOOST_TEST(!contains(p, "PRELOAD-HINT"));
  const auto mpd = dash_manifest(f.s->view(), "http://h/time", t0_wall + 5'000);
  BOOST_TEST(contains(mpd, "mediaPresentationDuration="));
  BOOST_TEST(!contains(mpd, "minimumUpdatePeriod"));
}

BOOST_AUTO_TEST_CASE(a_returning_publisher_starts_a_discontinuity_and_a_new_dash_period_with_numbers_going_on) {
  fixture f;
  f.feed_until(4'500);
  f.s->new_period();
  f.feed_until(8'100);
  const auto v = f.s->view();
  const auto p = media_playlist(v, 0, false);
  BOOST_TEST(count(p, "#EXT-X-DISCONTINUITY\n") == 1);
  // The discontinuity comes before the first segment opened after the return (msn 3).
  BOOST_TEST(p.find("#EXT-X-DISCONTINUITY\n") < p.find("f0lder/v0/3.0.m4s"));
  BOOST_TEST(p.find("#EXT-X-DISCONTINUITY\n") > p.find("f0lder/v0/2.m4s\n"));
  BOOST_TEST(contains(p, "#EXT-X-DISCONTINUITY-SEQUENCE:0\n"));
  const auto mpd = dash_manifest(v, "http://h/time", t0_wall + 9'000);
  BOOST_TEST(contains(mpd, "<Period id=\"p0\" start=\"PT0.000S\">"));
  BOOST_TEST(contains(mpd, "<Period id=\"p1\" start=\"PT6.000S\">"));
  BOOST_TEST(contains(mpd, "startNumber=\"3\" presentationTimeOffset=\"540000\""));
}

BOOST_AUTO_TEST_CASE(a_publisher_slower_than_real_time_gets_a_new_dash_period_but_no_hls_discontinuity) {
  fixture f;
  f.wall_rate = 1.2; // 6 s of media take 7.2 s: 1.2 s behind the clock at segment 3
  f.feed_until(10'100);
  const auto v = f.s->view();
  for (const auto& r : v.renditions) {
    BOOST_TEST(r.segments[2]->period == 0u);
    BOOST_TEST(r.segments[3]->period == 1u, r.desc.id);
    BOOST_TEST(r.segments[3]->discontinuity == 0u);
  }
  // The new period is anchored where its first segment began, on the wall clock.
  BOOST_TEST(v.renditions[0].segments[3]->program_date_ms == t0_wall + 7'200);
  BOOST_TEST(v.renditions[0].segments[4]->program_date_ms == t0_wall + 9'200);
  const auto mpd = dash_manifest(v, "http://h/time", t0_wall + 10'000);
  BOOST_TEST(contains(mpd, "<Period id=\"p1\" start=\"PT7.200S\">"), mpd);
  BOOST_TEST(!contains(media_playlist(v, 0, false), "#EXT-X-DISCONTINUITY\n"));
}

BOOST_AUTO_TEST_CASE(the_mpd_is_low_latency_dash_over_the_same_segments) {
  fixture f;
  f.feed_until(4'100);
  const auto mpd = dash_manifest(f.s->view(), "http://127.0.0.1:8080/time", t0_wall + 4'100);
  BOOST_TEST(contains(mpd, "type=\"dynamic\""));
  BOOST_TEST(contains(mpd, "availabilityStartTime=\"2027-01-15T08:00:00.000Z\""));
  BOOST_TEST(contains(mpd, "availabilityTimeOffset=\"1.666\" availabilityTimeComplete=\"false\""));
  BOOST_TEST(contains(mpd, "<UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:http-iso:2014\" "
                           "value=\"http://127.0.0.1:8080/time\"/>"));
  BOOST_TEST(contains(mpd, "<ServiceDescription id=\"0\">"));
  BOOST_TEST(contains(mpd, "<Latency referenceId=\"0\" target=\"1500\""));
  BOOST_TEST(contains(mpd, "initialization=\"f0lder/$RepresentationID$/init.mp4\" "
                           "media=\"f0lder/$RepresentationID$/$Number$.m4s\""));
  BOOST_TEST(contains(mpd, "<Representation id=\"v0\" codecs=\"avc1.64001e\" bandwidth=\"2800000\" width=\"1280\" "
                           "height=\"720\" frameRate=\"30\""));
  BOOST_TEST(contains(mpd, "timescale=\"48000\" duration=\"96000\" startNumber=\"0\""));
  BOOST_TEST(count(mpd, "<AdaptationSet") == 2);
}

BOOST_AUTO_TEST_CASE(request_paths_name_playlists_and_the_streams_own_objects_only) {
  fixture f;
  using k = request_target::kind;
  BOOST_TEST((parse_target(*f.s, "index.m3u8").what == k::master));
  BOOST_TEST((parse_target(*f.s, "manifest.mpd").what == k::mpd));
  const auto pl = parse_target(*f.s, "v1.m3u8");
  BOOST_TEST((pl.what == k::media_playlist));
  BOOST_TEST(pl.rendition == 1u);
  BOOST_TEST((parse_target(*f.s, "f0lder/a/init.mp4").what == k::init));
  const auto seg = parse_target(*f.s, "f0lder/v0/12.m4s");
  BOOST_TEST((seg.what == k::segment));
  BOOST_TEST(seg.msn == 12);
  const auto part = parse_target(*f.s, "f0lder/v1/12.3.m4s");
  BOOST_TEST((part.what == k::part));
  BOOST_TEST(part.part == 3);
  for (const char* bad : {"v9.m3u8", "other/v0/1.m4s", "f0lder/v0/x.m4s", "f0lder/v0/-1.m4s", "f0lder/v0/1.2.3.m4s",
                          "f0lder/v0/1.m4s.m4s", "f0lder/v0/01.m4s", "f0lder/v0/1.00.m4s", "f0lder/zz/init.mp4", "f0lder/v0/init.mp5", ""})
    BOOST_TEST((parse_target(*f.s, bad).what == k::bad), bad);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cmaf_ladder)

BOOST_AUTO_TEST_CASE(no_rendition_is_upscaled_past_the_sources_larger_side_but_the_smallest_stays) {
  using onair::media::ffmpeg::renditions_for;
  using onair::media::ffmpeg::rung;
  const std::vector<rung> landscape{{1280, 720, 2800}, {640, 360, 800}};
  const std::vector<rung> portrait{{720, 1280, 2800}, {360, 640, 800}};
  BOOST_TEST(renditions_for(landscape, 1920, 1080).size() == 2u);
  BOOST_TEST(renditions_for(landscape, 1280, 720).size() == 2u);
  const auto small = renditions_for(landscape, 854, 480);
  BOOST_REQUIRE_EQUAL(small.size(), 1u);
  BOOST_TEST(small[0].height == 360);
  const auto tiny = renditions_for(landscape, 320, 180);
  BOOST_REQUIRE_EQUAL(tiny.size(), 1u);
  BOOST_TEST(tiny[0].width == 640);
  BOOST_TEST(renditions_for(portrait, 720, 1280).size() == 2u);
  BOOST_TEST(renditions_for(portrait, 1280, 720).size() == 2u); // fitted (padded) into the portrait frame
}

BOOST_AUTO_TEST_SUITE_END()
