#pragma once
// A media file as ffprobe reads it: what a test of a recording checks against a real reader.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace onair::testing {

// A shell command's standard output.
inline std::string shell_output(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  BOOST_REQUIRE(p);
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p))
    out += buf;
  ::pclose(p);
  return out;
}

struct file_probe {
  std::string errors; // what ffprobe says is wrong while it decodes every frame (empty: nothing)
  long frames = 0;    // video frames, counted by decoding
  double duration = 0, video_start = 0, audio_start = 0;
  std::string size; // "WxH"
};

// The audio of a file or URL, its first `seconds`: the tests' sine (about -21 dB mean) is heard,
// not silence and not noise.
inline void check_tone(const std::string& url, int seconds) {
  const auto level = shell_output("timeout 60 ffmpeg -hide_banner -nostats -i '" + url + "' -map 0:a:0 -t " +
                                  std::to_string(seconds) +
                                  " -af volumedetect -f null - 2>&1 | grep -o 'mean_volume: [-0-9.]*'");
  BOOST_TEST_REQUIRE(level.find("mean_volume: ") != std::string::npos, url << ": no level: " << level);
  const double mean_db = std::stod(level.substr(level.find(':') + 1));
  BOOST_TEST(mean_db > -30.0, url << ": " << level);
  BOOST_TEST(mean_db < -10.0, url << ": " << level);
}

inline file_probe probe_file(const std::filesystem::path& file) {
  file_probe p;
  const std::string f = "'" + file.string() + "'";
  p.errors = shell_output("ffprobe -v error -count_frames -show_entries stream=index -of csv=p=0 " + f + " 2>&1 >/dev/null");
  const auto q = [&](const std::string& args) {
    return shell_output("ffprobe -v error " + args + " -of default=nw=1:nk=1 " + f + " 2>/dev/null");
  };
  p.frames = std::atol(q("-count_frames -select_streams v:0 -show_entries stream=nb_read_frames").c_str());
  p.duration = std::atof(q("-show_entries format=duration").c_str());
  p.video_start = std::atof(q("-select_streams v:0 -show_entries stream=start_time").c_str());
  p.audio_start = std::atof(q("-select_streams a:0 -show_entries stream=start_time").c_str());
  auto s = q("-select_streams v:0 -show_entries stream=width,height");
  std::replace(s.begin(), s.end(), '\n', 'x');
  p.size = s.substr(0, s.empty() ? 0 : s.size() - 1);
  return p;
}

} // namespace onair::testing
