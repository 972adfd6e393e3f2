// A VOD made from a recording's parts (media/vod/archive.hpp), checked with ffprobe: the HLS and
// DASH renditions and original.mp4 play through with the recording's duration, a change of source
// size between parts makes no gap, and bad input fails with a code that says why.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "file_probe.hpp"
#include "media/vod/archive.hpp"
#include "media/vod/recording_playlist.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using onair::media::vod::archive_spec;
using onair::media::vod::make_archive;
using onair::testing::probe_file;
using onair::testing::shell_output;
using onair::testing::temp_dir;

namespace {

// A recording part: MP4 of H.264 (1 s GOP) and AAC, its timeline starting `offset_s` in (the
// recorder writes fragmented MP4; the reader takes either, and the CLI shifts only a plain one).
fs::path make_part(const fs::path& dir, const std::string& name, int width, int height, double seconds,
                   double offset_s, bool video = true, bool fragmented = false) {
  const auto file = dir / name;
  const std::string size = std::to_string(width) + "x" + std::to_string(height);
  const std::string t = std::to_string(seconds);
  std::string cmd = "ffmpeg -hide_banner -loglevel error -y ";
  if (video)
    cmd += "-f lavfi -i testsrc2=size=" + size + ":rate=30:duration=" + t + " ";
  cmd += "-f lavfi -i sine=frequency=440:sample_rate=48000:duration=" + t + " ";
  if (video)
    cmd += "-c:v libx264 -preset ultrafast -g 30 -bf 0 ";
  cmd += "-c:a aac -output_ts_offset " + std::to_string(offset_s) +
         (fragmented ? " -movflags +frag_keyframe+empty_moov+default_base_moof" : "") + " -f mp4 '" + file.string() +
         "' 2>&1";
  const auto out = shell_output(cmd);
  BOOST_REQUIRE_MESSAGE(fs::exists(file), cmd << "\n" << out);
  return file;
}

archive_spec spec_for(const temp_dir& d, std::vector<fs::path> parts, std::int64_t expected_ms) {
  archive_spec s;
  s.parts = std::move(parts);
  s.out = d.path / "vod";
  s.ladder = {{1280, 720, 2800}, {640, 360, 800}};
  s.preset = "ultrafast";
  s.nice = 0;
  s.expected_ms = expected_ms;
  s.name = "test";
  return s;
}

std::string read_text(const fs::path& f) {
  std::ifstream in{f};
  return {std::istreambuf_iterator<char>{in}, {}};
}

} // namespace

BOOST_AUTO_TEST_SUITE(vod_archive)

BOOST_AUTO_TEST_CASE(two_parts_of_different_sizes_make_one_vod_without_a_gap) {
  // Given a recording of 4 s at 1280x720, then 3 s at 640x360 (the publisher changed its size)
  temp_dir d{"onair-vod"};
  const auto p1 = make_part(d.path, "part-0001.mp4", 1280, 720, 4, 0);
  const auto p2 = make_part(d.path, "part-0002.mp4", 640, 360, 3, 4);
  // When it is archived
  std::vector<int> progress;
  auto spec = spec_for(d, {p1, p2}, 7000);
  spec.progress = [&](int p) {
    progress.push_back(p);
    return true;
  };
  const auto out = make_archive(spec);
  // Then the VOD is 7 s in both renditions, fitted to the first part's size
  BOOST_TEST_REQUIRE(out.result.has_value(), out.failure.code << ": " << out.failure.message);
  const auto& r = *out.result;
  BOOST_TEST(std::abs(r.duration_ms - 7000) <= 100, r.duration_ms);
  BOOST_TEST(r.width == 1280);
  BOOST_TEST(r.height == 720);
  BOOST_TEST_REQUIRE(r.renditions.size() == 2u);
  BOOST_TEST(r.renditions[0].width == 1280);
  BOOST_TEST(r.renditions[1].height == 360);
  BOOST_TEST(r.thumbnail);
  // and HLS, DASH and the original play every frame, with no gap
  for (const auto* file : {"index.m3u8", "manifest.mpd", "original.mp4"}) {
    const auto p = probe_file(spec.out / file);
    BOOST_TEST(p.errors == "", file << ": " << p.errors);
    BOOST_TEST(std::abs(p.duration - 7.0) <= 0.15, file << ": " << p.duration);
    BOOST_TEST(std::abs(p.frames - 210) <= 3, file << ": " << p.frames << " frames");
  }
  BOOST_TEST(probe_file(spec.out / "v0.m3u8").size.starts_with("1280x720"));
  BOOST_TEST(probe_file(spec.out / "v1.m3u8").size.starts_with("640x360"));
  // and the playlists are VOD playlists
  const auto media = read_text(spec.out / "v0.m3u8");
  BOOST_TEST(media.find("#EXT-X-PLAYLIST-TYPE:VOD") != std::string::npos);
  BOOST_TEST(media.find("#EXT-X-ENDLIST") != std::string::npos);
  BOOST_TEST(read_text(spec.out / "manifest.mpd").find("type=\"static\"") != std::string::npos);
  // and progress only rose, ending at 99 (100 is the post's archived event)
  BOOST_TEST_REQUIRE(!progress.empty());
  BOOST_TEST(std::is_sorted(progress.begin(), progress.end()));
  BOOST_TEST(progress.back() == 99);
}

BOOST_AUTO_TEST_CASE(a_small_source_is_not_upscaled) {
  // Given a 640x360 recording
  temp_dir d{"onair-vod"};
  auto spec = spec_for(d, {make_part(d.path, "part-0001.mp4", 640, 360, 2, 0)}, 2000);
  // When it is archived, then it has the 360p rendition only
  const auto out = make_archive(spec);
  BOOST_TEST_REQUIRE(out.result.has_value(), out.failure.message);
  BOOST_TEST_REQUIRE(out.result->renditions.size() == 1u);
  BOOST_TEST(out.result->renditions[0].height == 360);
  BOOST_TEST(read_text(spec.out / "index.m3u8").find("RESOLUTION=1280x720") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_source_of_another_shape_is_fitted_into_every_rendition_between_black_bars) {
  // Given a 4:3 recording (1440x1080), white all over
  temp_dir d{"onair-vod"};
  const auto part = d.path / "part-0001.mp4";
  const auto made = shell_output("ffmpeg -hide_banner -loglevel error -y -f lavfi -i color=c=white:size=1440x1080:rate=30:"
                                 "duration=2 -f lavfi -i sine=frequency=440:sample_rate=48000:duration=2 -c:v libx264 "
                                 "-preset ultrafast -g 30 -bf 0 -c:a aac '" + part.string() + "' 2>&1");
  BOOST_REQUIRE_MESSAGE(fs::exists(part), made);
  // When it is archived
  auto spec = spec_for(d, {part}, 2000);
  const auto out = make_archive(spec);
  BOOST_TEST_REQUIRE(out.result.has_value(), out.failure.message);
  // Then each rendition has the picture undistorted in the middle, white, between black bars of a
  // quarter of the picture's width on each side (the 360p is scaled from the 720p picture, and the
  // two agree)
  struct want {
    const char* playlist;
    int width, height, bar;
  };
  for (const auto& w : {want{"v0.m3u8", 1280, 720, 160}, want{"v1.m3u8", 640, 360, 80}}) {
    const auto raw = d.path / (std::string{w.playlist} + ".gray");
    const auto err = shell_output("ffmpeg -hide_banner -loglevel error -y -i '" + (spec.out / w.playlist).string() +
                                  "' -frames:v 1 -f rawvideo -pix_fmt gray '" + raw.string() + "' 2>&1");
    const auto luma = read_text(raw);
    BOOST_TEST_REQUIRE(luma.size() == static_cast<std::size_t>(w.width * w.height), w.playlist << ": " << err);
    for (const int y : {4, w.height / 2, w.height - 5}) {
      const auto at = [&](int x) { return static_cast<int>(static_cast<unsigned char>(luma[y * w.width + x])); };
      for (const int x : {0, w.bar - 4, w.width - w.bar + 4, w.width - 1})
        BOOST_TEST(at(x) < 40, w.playlist << " at " << x << "," << y << ": " << at(x) << " is not black");
      for (const int x : {w.bar + 4, w.width / 2, w.width - w.bar - 5})
        BOOST_TEST(at(x) > 200, w.playlist << " at " << x << "," << y << ": " << at(x) << " is not white");
    }
  }
}

BOOST_AUTO_TEST_CASE(a_missing_part_fails_as_unreadable) {
  temp_dir d{"onair-vod"};
  const auto out = make_archive(spec_for(d, {d.path / "part-0001.mp4"}, 1000));
  BOOST_TEST_REQUIRE(!out.result.has_value());
  BOOST_TEST(out.failure.code == "ARCHIVE_READ_FAILED");
  BOOST_TEST(out.failure.message.find("part-0001.mp4") != std::string::npos, out.failure.message);
}

BOOST_AUTO_TEST_CASE(a_recording_without_video_fails_as_such) {
  temp_dir d{"onair-vod"};
  const auto out = make_archive(spec_for(d, {make_part(d.path, "part-0001.mp4", 0, 0, 2, 0, false)}, 2000));
  BOOST_TEST_REQUIRE(!out.result.has_value());
  BOOST_TEST(out.failure.code == "ARCHIVE_NO_VIDEO", out.failure.message);
}

BOOST_AUTO_TEST_CASE(an_archive_told_to_stop_stops) {
  temp_dir d{"onair-vod"};
  auto spec = spec_for(d, {make_part(d.path, "part-0001.mp4", 640, 360, 3, 0)}, 3000);
  spec.progress = [](int p) { return p < 30; };
  const auto out = make_archive(spec);
  BOOST_TEST_REQUIRE(!out.result.has_value());
  BOOST_TEST(out.failure.code == "ARCHIVE_STOPPED");
}

BOOST_AUTO_TEST_SUITE_END()

// A recording played as it lies on disk while its VOD is made (media/vod/recording_playlist.hpp;
// over real recorder parts in recorder_tests.cpp).
BOOST_AUTO_TEST_SUITE(recording_playlist)

BOOST_AUTO_TEST_CASE(a_part_without_a_whole_fragment_gives_no_playlist) {
  // Given a part cut short inside its first fragment
  temp_dir d{"onair-recpl"};
  const auto part = make_part(d.path, "part-0001.mp4", 640, 360, 2, 0, true, true);
  const auto idx = onair::media::vod::index_part(
      [&](std::uint64_t offset, std::span<std::uint8_t> out) {
        std::ifstream in{part, std::ios::binary};
        in.seekg(static_cast<std::streamoff>(offset));
        in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size()));
        return static_cast<std::size_t>(in.gcount()) == out.size();
      },
      fs::file_size(part));
  BOOST_TEST_REQUIRE(idx.has_value());
  BOOST_TEST_REQUIRE(idx->fragments.size() >= 2u);
  fs::resize_file(part, idx->fragments[0].offset + idx->fragments[0].size / 2);
  // Then there is nothing to play yet
  BOOST_TEST(!onair::media::vod::recording_playlist({{part, "part-0001.mp4", 2.0}}).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
