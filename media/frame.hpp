#pragma once
// A media sample as it travels from an ingest session to every consumer (viewers, packagers,
// the recorder, a transcoder): parsed once at ingest (codec, track, key frame, timestamps, where
// the codec's own bytes lie) and serialised once into an immutable, ref-counted buffer that all
// consumers share; no consumer copies it or parses it again.
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace onair::media {

enum class frame_kind : std::uint8_t { audio, video, script };

// The codecs onair tells apart. `other` is one it relays but cannot name (or record). The legacy
// FLV audio codecs (pcm … speex) have their format in each tag's flags (flv::parse_audio).
enum class codec : std::uint8_t {
  none, h264, hevc, av1, vp9, vp8, aac, opus, mp3, flac, ac3, eac3,
  pcm, adpcm, nellymoser, g711a, g711u, speex,
  other
};

[[nodiscard]] codec codec_from_name(std::string_view name) noexcept; // "h264", "aac", … (flv::parse_*)
[[nodiscard]] std::string_view to_string(codec c) noexcept;
// A codec FLV carries without a sequence header (MP3, the legacy ones): each frame describes
// itself, so a stream's first frame stands for its configuration.
[[nodiscard]] bool configured_by_frames(codec c) noexcept;
// FLV's legacy audio (pcm … speex): the tag's flags give the format its bytes do not.
[[nodiscard]] bool flv_legacy_audio(codec c) noexcept;

struct frame {
  frame_kind kind = frame_kind::video;
  std::uint32_t timestamp_ms = 0; // decode timestamp on the broadcast's timeline
  std::int32_t composition_offset_ms = 0; // PTS - DTS
  bool keyframe = false;
  bool sequence_header = false; // codec configuration (AVC/HEVC/AV1 records, AAC AudioSpecificConfig, …)
  // Codec side data that belongs with the sequence header (enhanced RTMP: video Metadata such as
  // HDR colorInfo, audio MultichannelConfig): a viewer starting later needs it too.
  bool codec_metadata = false;
  bool end_of_sequence = false;
  std::uint8_t track = 0; // enhanced-RTMP multitrack id; 0 is the stream's main track
  media::codec codec = codec::none;
  // The codec's own bytes within payload, past the FLV audio/video header: the configuration
  // record of a sequence header, else the coded frame (length-prefixed NAL units, OBUs, raw AAC).
  std::uint32_t data_offset = 0;
  std::uint32_t data_size = 0;
  std::shared_ptr<const std::vector<std::uint8_t>> payload;

  [[nodiscard]] std::span<const std::uint8_t> bytes() const {
    return payload ? std::span<const std::uint8_t>{*payload} : std::span<const std::uint8_t>{};
  }
  [[nodiscard]] std::span<const std::uint8_t> data() const { return bytes().subspan(data_offset, data_size); }
  // Sets data_offset/data_size from a span that lies within payload.
  void set_data(std::span<const std::uint8_t> within_payload);
};

// The one copy of the payload: from the parser's buffer into the shared one.
[[nodiscard]] frame make_frame(frame_kind kind, std::uint32_t timestamp_ms, std::span<const std::uint8_t> data,
                               bool keyframe = false, bool sequence_header = false);

} // namespace onair::media
