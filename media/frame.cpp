#include "media/frame.hpp"

#include <array>
#include <utility>

namespace onair::media {

namespace {
constexpr std::array codec_names{
    std::pair{codec::h264, std::string_view{"h264"}}, std::pair{codec::hevc, std::string_view{"hevc"}},
    std::pair{codec::av1, std::string_view{"av1"}},   std::pair{codec::vp9, std::string_view{"vp9"}},
    std::pair{codec::vp8, std::string_view{"vp8"}},   std::pair{codec::aac, std::string_view{"aac"}},
    std::pair{codec::opus, std::string_view{"opus"}}, std::pair{codec::mp3, std::string_view{"mp3"}},
    std::pair{codec::flac, std::string_view{"flac"}}, std::pair{codec::ac3, std::string_view{"ac3"}},
    std::pair{codec::eac3, std::string_view{"eac3"}}, std::pair{codec::pcm, std::string_view{"pcm"}},
    std::pair{codec::adpcm, std::string_view{"adpcm"}}, std::pair{codec::nellymoser, std::string_view{"nellymoser"}},
    std::pair{codec::g711a, std::string_view{"g711a"}}, std::pair{codec::g711u, std::string_view{"g711u"}},
    std::pair{codec::speex, std::string_view{"speex"}},
};
} // namespace

codec codec_from_name(std::string_view name) noexcept {
  if (name.empty())
    return codec::none;
  for (const auto& [c, n] : codec_names)
    if (n == name)
      return c;
  return codec::other;
}

std::string_view to_string(codec c) noexcept {
  if (c == codec::none)
    return "none";
  for (const auto& [k, n] : codec_names)
    if (k == c)
      return n;
  return "other";
}

bool configured_by_frames(codec c) noexcept { return c == codec::mp3 || flv_legacy_audio(c); }

bool flv_legacy_audio(codec c) noexcept {
  switch (c) {
  case codec::pcm:
  case codec::adpcm:
  case codec::nellymoser:
  case codec::g711a:
  case codec::g711u:
  case codec::speex:
    return true;
  default:
    return false;
  }
}

void frame::set_data(std::span<const std::uint8_t> within) {
  const auto all = bytes();
  if (within.empty() || all.empty() || within.data() < all.data() || within.data() + within.size() > all.data() + all.size()) {
    data_offset = data_size = 0;
    return;
  }
  data_offset = static_cast<std::uint32_t>(within.data() - all.data());
  data_size = static_cast<std::uint32_t>(within.size());
}

frame make_frame(frame_kind kind, std::uint32_t timestamp_ms, std::span<const std::uint8_t> data, bool keyframe,
                 bool sequence_header) {
  frame f;
  f.kind = kind;
  f.timestamp_ms = timestamp_ms;
  f.keyframe = keyframe;
  f.sequence_header = sequence_header;
  f.payload = std::make_shared<const std::vector<std::uint8_t>>(data.begin(), data.end());
  return f;
}

} // namespace onair::media
