#pragma once
// FLV: the tag stream (HTTP-FLV output, FLV input), and the audio/video tag bodies that RTMP
// carries unchanged (legacy codec ids and enhanced-RTMP FourCC headers).
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace onair::media::flv {

namespace tag_type {
inline constexpr std::uint8_t audio = 8, video = 9, script = 18;
}

struct tag {
  std::uint8_t type = 0;
  std::uint32_t timestamp = 0;
  std::shared_ptr<std::vector<std::uint8_t>> payload;
};

// Sans-IO FLV stream reader: the 9-byte header, then PreviousTagSize + tag pairs.
class reader {
public:
  struct result {
    std::size_t used = 0; // 0 with no error: need more
    std::vector<tag> tags;
    std::string error;
  };
  explicit reader(std::uint32_t max_tag_size = 16 * 1024 * 1024) : max_tag_size_{max_tag_size} {}
  [[nodiscard]] result consume(std::span<const std::uint8_t> bytes);

private:
  std::uint32_t max_tag_size_;
  bool header_done_ = false;
};

// Enhanced RTMP (v2) headers are read as its specification's pseudo-code reads them: ModEx
// prefixes skipped, a Multitrack packet unwrapped to its first track (its FourCC, track id and
// packet type). Tracks other than 0 are relayed as they come but are not the stream's headers.
struct video_info {
  bool enhanced = false;        // enhanced-RTMP ex-header (FourCC)
  bool keyframe = false;        // frame type 1 (and not a sequence header)
  bool sequence_header = false; // AVCDecoderConfigurationRecord / SequenceStart / MPEG2TSSequenceStart
  bool codec_metadata = false;  // enhanced Metadata packet (colorInfo): belongs with the sequence header
  bool end_of_sequence = false;
  bool command_frame = false; // frame type 5: not media
  std::uint8_t track = 0;     // enhanced Multitrack: the (first) track's id
  std::string codec;          // "h264", "hevc", "av1", "vp9", "vp6", "flv1", …
  std::int32_t composition_offset = 0;
  std::span<const std::uint8_t> config; // the codec configuration record when sequence_header
  // The codec's own bytes: the configuration record, or the coded frame (NAL units, OBUs).
  std::span<const std::uint8_t> data;
};
struct audio_info {
  bool enhanced = false; // sound format 9: ex-header (FourCC)
  std::string codec;     // "aac", "mp3", "pcm", "g711a", "speex", "opus", "flac", "ac3", "eac3", …
  bool sequence_header = false;
  bool codec_metadata = false; // enhanced MultichannelConfig: belongs with the sequence header
  std::uint8_t track = 0;
  int sample_rate = 0; // legacy header or AAC config; 0: not in the header
  int channels = 0;
  int bits = 0; // legacy header: 8 or 16 bits per sample (what PCM is made of)
  std::span<const std::uint8_t> data; // the codec's own bytes (AudioSpecificConfig, raw AAC, Opus packet, …)
};

[[nodiscard]] std::optional<video_info> parse_video(std::span<const std::uint8_t> body);
[[nodiscard]] std::optional<audio_info> parse_audio(std::span<const std::uint8_t> body);

struct dimensions {
  int width = 0;
  int height = 0;
};
// Width and height from an AVCDecoderConfigurationRecord's first SPS (for ingest stats).
[[nodiscard]] std::optional<dimensions> avc_dimensions(std::span<const std::uint8_t> avcc);

void write_file_header(std::vector<std::uint8_t>& out, bool audio, bool video); // includes PreviousTagSize0
// One tag plus its trailing PreviousTagSize.
void write_tag(std::vector<std::uint8_t>& out, std::uint8_t type, std::uint32_t timestamp,
               std::span<const std::uint8_t> payload);
inline constexpr std::size_t tag_overhead = 11 + 4;

} // namespace onair::media::flv
