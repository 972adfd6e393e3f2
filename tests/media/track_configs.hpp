#pragma once
// CMAF track configurations for tests: a plausible avcC (High profile, level 3.0) and an AAC-LC
// 48 kHz stereo AudioSpecificConfig.
#include <cstdint>
#include <vector>

#include "media/cmaf/fmp4.hpp"

namespace onair::testing {

inline const std::vector<std::uint8_t> test_avcc{1, 0x64, 0, 0x1e, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1e, 1, 0, 2, 0x68, 0xee};
inline const std::vector<std::uint8_t> test_asc{0x11, 0x90};

inline media::cmaf::track_config video_config(int w = 640, int h = 360, int kbps = 800) {
  media::cmaf::track_config t;
  t.kind = media::cmaf::track_kind::video;
  t.timescale = 90'000;
  t.width = w;
  t.height = h;
  t.avcc = test_avcc;
  t.bitrate_kbps = kbps;
  return t;
}

inline media::cmaf::track_config audio_config() {
  media::cmaf::track_config t;
  t.kind = media::cmaf::track_kind::audio;
  t.timescale = 48'000;
  t.sample_rate = 48'000;
  t.channels = 2;
  t.asc = test_asc;
  t.bitrate_kbps = 128;
  return t;
}

} // namespace onair::testing
