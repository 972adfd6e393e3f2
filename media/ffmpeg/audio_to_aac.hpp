#pragma once
// A stream's audio as AAC, for a consumer that cannot take it as it came: the recorder, whose
// MP4 takes none of FLV's legacy codecs (PCM, G.711, Nellymoser, Speex, ADPCM). Decoded,
// resampled to a rate AAC has (48 kHz for 8 kHz), encoded, on the caller's thread.
#include <memory>
#include <vector>

#include "domain/result.hpp"
#include "media/fanout/hub.hpp"
#include "media/ffmpeg/fmp4_writer.hpp"

namespace onair::media::ffmpeg {

class audio_to_aac {
public:
  // For the source whose configuration is `config` (a sequence header, or the frame standing for
  // it). Its rate and channels must be known without a sample: from its configuration, or its
  // tag's flags. The AAC's bit rate is `kbps_per_channel` for each of its channels. An error names
  // the codec and why.
  [[nodiscard]] static domain::result<std::unique_ptr<audio_to_aac>> open(const fanout::message& config,
                                                                          int kbps_per_channel);
  ~audio_to_aac();
  audio_to_aac(const audio_to_aac&) = delete;
  audio_to_aac& operator=(const audio_to_aac&) = delete;

  // The AAC track: codec, AudioSpecificConfig, rate and channels.
  [[nodiscard]] const track_params& output() const noexcept;
  // The AAC frames that this source sample completes, as samples of codec aac (raw frames) timed
  // in ms on the source's clock. A sample that does not decode gives none; an error is audio that
  // cannot be resampled to the output's format.
  [[nodiscard]] domain::result<std::vector<fanout::message_ptr>> push(const fanout::message& sample);
  // The frames still in the encoder, at the end of the track.
  [[nodiscard]] std::vector<fanout::message_ptr> flush();

private:
  struct impl;
  explicit audio_to_aac(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace onair::media::ffmpeg
