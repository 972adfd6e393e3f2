#pragma once
// Audio made AAC, shared by the live transcoder and the recorder (through audio_to_aac.hpp): an
// AAC encoder that resamples whatever decoded audio it is given to its own rate and channels.
// Internal to media/ffmpeg (FFmpeg types).
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "media/ffmpeg/av.hpp"

namespace onair::media::ffmpeg {

// An audio track's clock, in samples at `rate`: it follows the source's clock while the two are
// within 0.1 s, so rounding to the source's milliseconds never shows; across a jump or a gap it
// starts again from the source's time.
struct sample_clock {
  int rate = 0;
  std::int64_t next = INT64_MIN; // the next sample's time; INT64_MIN before the first

  // The time of `samples` samples that begin at the source's pts_ms; the clock moves past them.
  std::int64_t take(std::int64_t pts_ms, std::int64_t samples);
  // The time of the next `samples` samples, wherever the source's clock is (0 before the first).
  std::int64_t step(std::int64_t samples);
};

// The AAC output for a source of this rate and channels: the same rate where AAC has it (48 kHz
// for 8 kHz, 5.5 kHz, …), at most 2 channels (48 kHz stereo when unknown).
struct aac_format {
  int sample_rate = 0, channels = 0;
};
[[nodiscard]] aac_format aac_format_for(int source_rate, int source_channels) noexcept;

class aac_encoder {
public:
  // An encoder at `format`, or null with `why`.
  [[nodiscard]] static std::unique_ptr<aac_encoder> open(aac_format format, int bitrate_kbps, std::string& why);
  ~aac_encoder();
  aac_encoder(const aac_encoder&) = delete;
  aac_encoder& operator=(const aac_encoder&) = delete;

  [[nodiscard]] aac_format format() const noexcept { return format_; }
  // Its AudioSpecificConfig.
  [[nodiscard]] const std::vector<std::uint8_t>& asc() const noexcept { return asc_; }

  // A decoded frame (any rate, layout and sample format; each may change from one frame to the
  // next), resampled into the encoder's queue. The first samples after an empty queue anchor
  // `clock` at pts_ms. False with `why` when it cannot be resampled.
  bool add(const AVFrame& decoded, std::int64_t pts_ms, sample_clock& clock, std::string& why);
  // Encodes each whole AAC frame of the queue (with `flush`, what is left, then the encoder's
  // tail) and hands over every packet with its time in samples (decode order is presentation
  // order; every frame is a sync sample). The span is valid during the call only.
  void encode(bool flush, sample_clock& clock,
              const std::function<void(std::span<const std::uint8_t> data, std::int64_t pts)>& out);

private:
  struct impl;
  explicit aac_encoder(std::unique_ptr<impl> p, aac_format f, std::vector<std::uint8_t> asc);
  std::unique_ptr<impl> impl_;
  aac_format format_;
  std::vector<std::uint8_t> asc_;
};

} // namespace onair::media::ffmpeg
