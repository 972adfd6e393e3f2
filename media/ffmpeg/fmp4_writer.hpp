#pragma once
// Fragmented MP4 through libavformat's mp4 muxer, to a byte sink of the caller's: an init segment
// (ftyp + moov), then a fragment (moof + mdat) at each video key frame or at most every
// fragment_ms. After each write() the sink has received whole fragments only, so what it has
// synced is a playable file. A continuation writes no init segment and numbers and times its
// fragments after an earlier writer's, so a file cut back to a fragment boundary (after a crash)
// goes on as one recording. Samples are written as they come (no re-encode).
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "domain/result.hpp"
#include "media/fanout/hub.hpp"
#include "media/frame.hpp"

namespace onair::media::ffmpeg {

// Where the muxer's bytes go, in order.
class byte_sink {
public:
  virtual ~byte_sink() = default;
  virtual domain::status write(std::span<const std::uint8_t> bytes) = 0;
};

// A track's codec and what the container needs of it.
struct track_params {
  media::codec codec = media::codec::none;
  std::vector<std::uint8_t> config; // the codec's configuration record (avcC, hvcC, av1C, ASC, OpusHead)
  int width = 0, height = 0;        // video
  int sample_rate = 0, channels = 0; // audio
  friend bool operator==(const track_params&, const track_params&) = default;
};

// Video parameters from a sequence header and a key frame coded with it (dimensions read by
// libavcodec's parser); audio parameters from a sequence header. An error names what is missing.
[[nodiscard]] domain::result<track_params> describe_video(const fanout::message& header, const fanout::message& key);
[[nodiscard]] domain::result<track_params> describe_audio(const fanout::message& header);
// The codecs the fMP4 muxer takes from onair as they come.
[[nodiscard]] bool recordable(media::codec c) noexcept;

struct fmp4_options {
  std::int64_t fragment_ms = 1000;
  bool continuation = false;        // no init segment: the file has it already
  std::uint32_t first_fragment = 1; // moof sequence number of the first fragment written
};

class fmp4_writer {
public:
  // video or audio may be absent, not both.
  [[nodiscard]] static domain::result<std::unique_ptr<fmp4_writer>> open(byte_sink& out, std::optional<track_params> video,
                                                                         std::optional<track_params> audio, fmp4_options opts);
  ~fmp4_writer();
  fmp4_writer(const fmp4_writer&) = delete;
  fmp4_writer& operator=(const fmp4_writer&) = delete;

  // A sample of the video or audio track, times in ms on the file's timeline (DTS increasing
  // per track, starting at or after 0). Errors are the muxer's or the sink's, with context.
  domain::status write(frame_kind track, const fanout::message& m, std::int64_t dts_ms, std::int64_t pts_ms,
                       std::int64_t duration_ms);
  // Ends the fragment being gathered now (the sink gets it whole); the next sample starts another.
  domain::status flush();
  // The last fragment. Nothing may be written after.
  domain::status finish();
  // The moof sequence number the fragment being gathered will get (the next after those the sink has).
  [[nodiscard]] std::uint32_t next_fragment() const;

private:
  struct impl;
  explicit fmp4_writer(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace onair::media::ffmpeg
