#pragma once
// A media message as it travels from an ingest session to every consumer (viewers, packagers,
// the recorder): its payload is serialised once into an immutable, ref-counted buffer that all
// consumers share; no consumer copies it.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace onair::media {

enum class frame_kind : std::uint8_t { audio, video, script };

struct frame {
  frame_kind kind = frame_kind::video;
  std::uint32_t timestamp_ms = 0; // decode timestamp on the broadcast's timeline
  std::int32_t composition_offset_ms = 0;
  bool keyframe = false;
  bool sequence_header = false; // codec configuration (AVC/HEVC/AAC sequence headers)
  // Codec side data that belongs with the sequence header (enhanced RTMP: video Metadata such as
  // HDR colorInfo, audio MultichannelConfig): a viewer starting later needs it too.
  bool codec_metadata = false;
  std::shared_ptr<const std::vector<std::uint8_t>> payload;

  [[nodiscard]] std::span<const std::uint8_t> bytes() const {
    return payload ? std::span<const std::uint8_t>{*payload} : std::span<const std::uint8_t>{};
  }
};

// The one copy of the payload: from the parser's buffer into the shared one.
[[nodiscard]] frame make_frame(frame_kind kind, std::uint32_t timestamp_ms, std::span<const std::uint8_t> data,
                               bool keyframe = false, bool sequence_header = false);

} // namespace onair::media
