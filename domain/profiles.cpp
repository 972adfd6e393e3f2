#include "domain/profiles.hpp"

#include <algorithm>

namespace onair::domain {
namespace {

audio_stream default_audio() { return audio_stream{.codec = "aac", .bitrate_kbps = 128, .sample_rate = 48000, .channels = 2}; }

video_stream h264(int width, int height, int bitrate_kbps) {
  return video_stream{.width = width, .height = height, .bitrate_kbps = bitrate_kbps, .fps = 30, .codec = "h264"};
}

const std::vector<transcoding_profile>& profiles() {
  static const std::vector<transcoding_profile> all{
      transcoding_profile{.id = cmaf_landscape_profile_id,
                          .name = "cmaf-landscape",
                          .type = profile_type::live,
                          .orientation = orientation::horizontal,
                          .segment_duration_ms = 2000,
                          .part_duration_ms = 334,
                          .keep_original = false,
                          .video_streams = {h264(1280, 720, 2800), h264(640, 360, 800)},
                          .audio = default_audio()},
      transcoding_profile{.id = cmaf_portrait_profile_id,
                          .name = "cmaf-portrait",
                          .type = profile_type::live,
                          .orientation = orientation::vertical,
                          .segment_duration_ms = 2000,
                          .part_duration_ms = 334,
                          .keep_original = false,
                          .video_streams = {h264(720, 1280, 2800), h264(360, 640, 800)},
                          .audio = default_audio()},
      transcoding_profile{.id = vod_default_profile_id,
                          .name = "vod-default",
                          .type = profile_type::vod,
                          .orientation = orientation::source,
                          .segment_duration_ms = 4000,
                          .part_duration_ms = 0,
                          .keep_original = true,
                          .video_streams = {h264(1280, 720, 2800), h264(640, 360, 800)},
                          .audio = default_audio()},
  };
  return all;
}

} // namespace

std::span<const transcoding_profile> builtin_profiles() { return profiles(); }

const transcoding_profile* find_profile(std::int64_t id) {
  for (const auto& p : profiles())
    if (p.id == id)
      return &p;
  return nullptr;
}

std::vector<video_stream> streams_for_source(const transcoding_profile& p, int width, int height) {
  auto out = p.video_streams;
  if (p.orientation != orientation::source || height <= width)
    return out;
  for (auto& v : out) {
    const int longer = std::max(v.width, v.height), shorter = std::min(v.width, v.height);
    v.width = shorter;
    v.height = longer;
  }
  return out;
}

} // namespace onair::domain
