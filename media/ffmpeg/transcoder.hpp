#pragma once
// The live CMAF ladder of one stream, as an in-process consumer of its hub: the source decoded once
// (libavcodec), each rendition's picture made once on the decoding thread (libswscale, fitted
// without distortion into the rendition's frame, padded; a smaller rendition scaled from the larger
// one's picture, a rendition of the source's own size taking the decoded picture as it is) and
// encoded with libx264 on a thread of its own, the audio copied when it is AAC and transcoded to
// AAC otherwise, and everything handed to a cmaf::stream (the packager).
//
// Key frames are forced from the source clock every key_interval_ms, at the same timestamps in
// every rendition, so the renditions' segments and parts line up. Low delay: no B-frames, no
// lookahead, no scene-cut key frames, a VBV-capped bitrate. A rendition that falls behind sheds
// frames (never a forced key frame) rather than growing a queue; the lag and the frames shed are
// counted.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "media/cmaf/packager.hpp"
#include "media/fanout/consumer.hpp"

namespace onair::media::ffmpeg {

struct rung {
  int width = 0, height = 0; // the rendition's frame
  int bitrate_kbps = 0;
};

struct transcoder_options {
  std::vector<rung> ladder;        // as the profile gives it, largest first
  int key_interval_ms = 1000;
  int audio_bitrate_kbps = 128;
  std::string preset = "veryfast"; // x264
  std::size_t max_queued_frames = 8; // per rendition, before frames are shed
  // A VOD: no frame is ever shed; the source waits for the encoders instead (the queue bound
  // holds).
  bool lossless = false;
  int nice = 0; // the encoder threads' niceness (a VOD's work yields to live transcodes)
  cmaf::stream_options packaging{};
};

// Live figures of one transcoder (read from any thread).
struct transcoder_stats {
  std::atomic<std::uint64_t> frames_in{0};      // source frames decoded
  std::atomic<std::uint64_t> frames_out{0};     // frames encoded, all renditions
  std::atomic<std::uint64_t> frames_dropped{0}; // shed because a rendition fell behind
  std::atomic<std::int64_t> lag_ms{0};          // the latest frame's age when its encoding ended
};

// The renditions a source of width x height gets from a ladder: none is upscaled past the
// source's larger side, except that the smallest is always kept.
[[nodiscard]] std::vector<rung> renditions_for(const std::vector<rung>& ladder, int width, int height);

struct transcode_error {
  std::string code; // TRANSCODE_…, the key's error code
  std::string message;
  // The video's: the ladder cannot be made (or goes no further). An audio error leaves a ladder
  // without sound.
  bool video = false;
};

class transcoder final : public fanout::consumer {
public:
  struct callbacks {
    // The packager, once the source's first key frame has told the renditions; from the
    // transcoder's thread.
    std::function<void(std::shared_ptr<cmaf::stream>)> on_stream;
    // Input that cannot be transcoded (no decoder, undecodable frames): once per kind of error
    // and track.
    std::function<void(const transcode_error&)> on_error;
  };
  transcoder(transcoder_options opts, callbacks cb, std::string name);
  ~transcoder() override;

  void on_opened(const fanout::stream_info& info) override;
  void on_config_changed(const fanout::stream_info& info) override;
  void on_sample(const fanout::message_ptr& sample) override;
  void on_publisher_back() override;
  void on_closed() override;
  void on_failed(std::string_view why) override;

  [[nodiscard]] const transcoder_stats& stats() const;
  [[nodiscard]] std::shared_ptr<cmaf::stream> output() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace onair::media::ffmpeg
