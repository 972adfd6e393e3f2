// Thumbnails of an MP4 the ffmpeg CLI encodes (3 s of 640x360 at 30 fps, a key frame every
// second, B-frames): the JPEG's size as its SOF marker and ffprobe read it, the picture chosen for
// a time (the same picture, byte for byte, for every time up to its own), width scaling, a time
// past the end, and the errors.
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "file_probe.hpp"
#include "media/ffmpeg/thumbnail.hpp"
#include "temp_dir.hpp"

using onair::domain::error_code;
using onair::media::ffmpeg::thumbnail;
using onair::media::ffmpeg::thumbnail_options;
using onair::testing::shell_output;
namespace fs = std::filesystem;

namespace {

using onair::testing::temp_dir;

// The source, encoded once for every test here.
const fs::path& source_mp4() {
  static temp_dir dir;
  static const fs::path file = [] {
    const auto f = dir.path / "source.mp4";
    const auto cmd = "ffmpeg -v error -y -f lavfi -i testsrc2=size=640x360:rate=30 -t 3 -c:v libx264 -preset ultrafast "
                     "-g 30 -keyint_min 30 -sc_threshold 0 -bf 2 -pix_fmt yuv420p -movflags +faststart " +
                     f.string() + " 2>&1";
    BOOST_REQUIRE_MESSAGE(shell_output(cmd).empty(), "ffmpeg encodes the source");
    return f;
  }();
  return file;
}

std::vector<std::uint8_t> jpeg_of(std::int64_t time_ms, int width = 0, int quality = 4) {
  thumbnail_options o;
  o.time_ms = time_ms;
  o.width = width;
  o.quality = quality;
  auto r = thumbnail(source_mp4(), o);
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return std::move(r).value();
}

// Width and height from the frame header (SOF0..SOF3) of a JPEG that starts and ends as one must.
std::optional<std::pair<int, int>> jpeg_size(const std::vector<std::uint8_t>& j) {
  if (j.size() < 4 || j[0] != 0xFF || j[1] != 0xD8 || j[j.size() - 2] != 0xFF || j[j.size() - 1] != 0xD9)
    return std::nullopt;
  std::size_t i = 2;
  while (i + 4 <= j.size() && j[i] == 0xFF) {
    const auto marker = j[i + 1];
    const std::size_t length = (j[i + 2] << 8) | j[i + 3];
    if (marker >= 0xC0 && marker <= 0xC3 && i + 9 <= j.size())
      return std::pair{(j[i + 7] << 8) | j[i + 8], (j[i + 5] << 8) | j[i + 6]};
    i += 2 + length;
  }
  return std::nullopt;
}

} // namespace

BOOST_AUTO_TEST_SUITE(thumbnails)

BOOST_AUTO_TEST_CASE(a_jpeg_of_the_source_size_that_ffprobe_decodes) {
  const auto j = jpeg_of(-1);
  const auto size = jpeg_size(j);
  BOOST_REQUIRE_MESSAGE(size.has_value(), "not a JPEG with a frame header");
  BOOST_TEST(size->first == 640);
  BOOST_TEST(size->second == 360);

  temp_dir dir;
  const auto file = dir.path / "t.jpg";
  std::ofstream{file, std::ios::binary}.write(reinterpret_cast<const char*>(j.data()),
                                              static_cast<std::streamsize>(j.size()));
  const auto probed = shell_output("ffprobe -v error -show_entries stream=codec_name,width,height -of csv=p=0 " +
                                   file.string() + " 2>&1");
  BOOST_TEST(probed == "mjpeg,640,360\n");
}

BOOST_AUTO_TEST_CASE(the_picture_shown_at_the_time) {
  // Pictures every 33.3 ms: 1000 ms is picture 30, a key frame; 990 ms is shown by the same one.
  BOOST_TEST((jpeg_of(990) == jpeg_of(1000)));
  BOOST_TEST((jpeg_of(1000) != jpeg_of(1001)));
  // Mid-GOP: decoded forward from the key frame at 1 s to picture 45 at 1500 ms.
  BOOST_TEST((jpeg_of(1480) == jpeg_of(1500)));
  BOOST_TEST((jpeg_of(1500) != jpeg_of(1000)));
  // The default: 10 % into the 3 s video.
  BOOST_TEST((jpeg_of(-1) == jpeg_of(300)));
  BOOST_TEST((jpeg_of(0) != jpeg_of(300)));
}

BOOST_AUTO_TEST_CASE(a_time_past_the_end_gives_the_last_picture) {
  // The last picture is shown from 2966.7 ms on.
  const auto last = jpeg_of(2950);
  BOOST_TEST((jpeg_of(10'000) == last));
  BOOST_TEST((jpeg_of(3'600'000) == last));
  BOOST_TEST((jpeg_of(2900) != last));
}

BOOST_AUTO_TEST_CASE(scaled_to_a_width_keeping_the_aspect_ratio) {
  const std::vector<std::pair<int, std::pair<int, int>>> rows{
      {320, {320, 180}}, {321, {320, 180}}, {100, {100, 56}}, {1, {2, 2}}, {639, {638, 358}},
      {5000, {640, 360}}, // never upscaled
  };
  for (const auto& [width, expected] : rows) {
    const auto size = jpeg_size(jpeg_of(1000, width));
    BOOST_REQUIRE(size.has_value());
    BOOST_TEST((*size == expected), "width " << width << ": " << size->first << "x" << size->second);
  }
}

BOOST_AUTO_TEST_CASE(quality_trades_size) {
  BOOST_TEST(jpeg_of(1000, 0, 2).size() > jpeg_of(1000, 0, 31).size());
}

BOOST_AUTO_TEST_CASE(errors_name_the_file_and_the_cause) {
  temp_dir dir;
  const auto missing = dir.path / "missing.mp4";
  auto r = thumbnail(missing, {});
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST((r.error().code == error_code::video_post_not_found));
  BOOST_TEST(r.error().message.find(missing.string()) != std::string::npos, r.error().message);

  const auto text = dir.path / "notes.mp4";
  std::ofstream{text} << "not a video at all\n";
  r = thumbnail(text, {});
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST((r.error().code == error_code::invalid_parameter), r.error().message);
  BOOST_TEST(r.error().message.find(text.string()) != std::string::npos, r.error().message);

  const auto audio = dir.path / "audio.mp4";
  BOOST_REQUIRE(shell_output("ffmpeg -v error -y -f lavfi -i sine=frequency=440 -t 1 -c:a aac " + audio.string() +
                             " 2>&1")
                    .empty());
  r = thumbnail(audio, {});
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST((r.error().code == error_code::invalid_parameter), r.error().message);
  BOOST_TEST(r.error().message.find("no video") != std::string::npos, r.error().message);

  const std::vector<std::pair<thumbnail_options, std::string>> bad{
      {{-2, 0, 4}, "time"}, {{0, -1, 4}, "width"}, {{0, 0, 1}, "quality"}, {{0, 0, 32}, "quality"}};
  for (const auto& [o, field] : bad) {
    r = thumbnail(source_mp4(), o);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST((r.error().code == error_code::invalid_parameter));
    BOOST_TEST(r.error().field == field);
  }
}

BOOST_AUTO_TEST_SUITE_END()
