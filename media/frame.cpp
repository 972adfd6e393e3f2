#include "media/frame.hpp"

namespace onair::media {

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
