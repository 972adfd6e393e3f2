#pragma once
// CMAF boxes for one track: the init segment (ftyp + moov) and chunks (moof + mdat), written by
// hand because the packager cuts them itself (LL-HLS parts, the segments players fetch whole are
// their chunks back to back) and must know every byte it serves. Also the H.264 conversions an
// encoder's Annex B output needs (length-prefixed NAL units, the avcC record).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace onair::media::cmaf {

enum class track_kind : std::uint8_t { video, audio };

struct track_config {
  track_kind kind = track_kind::video;
  std::uint32_t timescale = 90'000; // video: 90 kHz; audio: its sample rate
  // video (H.264)
  int width = 0, height = 0;
  std::vector<std::uint8_t> avcc; // AVCDecoderConfigurationRecord
  // audio (AAC)
  int sample_rate = 0, channels = 0;
  std::vector<std::uint8_t> asc; // AudioSpecificConfig
  int bitrate_kbps = 0;          // for the esds descriptor and the playlists
  friend bool operator==(const track_config&, const track_config&) = default;
};

// RFC 6381 codec string: "avc1.64001f", "mp4a.40.2".
[[nodiscard]] std::string codecs_of(const track_config& t);

struct sample {
  std::int64_t dts = 0;          // in the track's timescale
  std::int32_t cto = 0;          // PTS - DTS
  std::uint32_t duration = 0;
  bool key = false;
  std::span<const std::uint8_t> data; // video: length-prefixed (4 bytes) NAL units; audio: raw AAC
};

[[nodiscard]] std::vector<std::uint8_t> init_segment(const track_config& t);
// One chunk: moof (mfhd sequence, tfdt = first sample's dts) + mdat.
[[nodiscard]] std::vector<std::uint8_t> chunk(const track_config& t, std::uint32_t sequence, std::span<const sample> samples);

// Annex B (start codes) to 4-byte length-prefixed NAL units, access unit delimiters left out.
[[nodiscard]] std::vector<std::uint8_t> annexb_to_avcc(std::span<const std::uint8_t> annexb);
// The avcC record from the SPS and PPS found in Annex B bytes (an encoder's extradata or its
// first key frame); nullopt if either is missing.
[[nodiscard]] std::optional<std::vector<std::uint8_t>> avcc_from_annexb(std::span<const std::uint8_t> annexb);

} // namespace onair::media::cmaf
