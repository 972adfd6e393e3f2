#pragma once
// The recorder: a lossless hub consumer that writes a broadcast's source as received (no
// re-encode) into fragmented MP4 parts under the broadcast's folder. The one exception is audio
// MP4 cannot hold, FLV's legacy codecs (PCM, G.711, …): it is encoded as AAC, on this thread.
//
//   part-0001.mp4     init segment, then a fragment at each key frame or at most every second,
//                     each followed by a checkpoint (checkpoint.hpp) and synced with it
//   part-0001.tracks  the part's codecs and configuration, written once (to continue the part)
//
// Interruptions of the publisher land in the same part: the hub's timeline removes the gap. A
// codec configuration change starts a new part, up to max_parts; past them the recording fails.
// After a crash the recorder finds the part's last checkpoint, cuts the part back to it, and goes
// on from there (a continuation with no second init segment), so the file never holds a torn tail
// for long and nothing synced is lost. Memory does not grow with the recording (one sample per
// track is held, for its duration).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "media/fanout/consumer.hpp"
#include "media/fanout/hub.hpp"

namespace onair::media::record {

struct part {
  std::uint32_t index = 0;
  std::string file; // in the recording's folder
  std::string video_codec, audio_codec; // empty: no such track
  int width = 0, height = 0;
  std::uint64_t bytes = 0;                  // synced
  std::int64_t start_ms = 0, end_ms = 0;    // on the recording's timeline
  friend bool operator==(const part&, const part&) = default;
};

struct progress {
  std::vector<part> parts;
  [[nodiscard]] std::uint64_t bytes() const;
  [[nodiscard]] std::int64_t duration_ms() const;
};

// What the recorder reports, from its own thread.
class listener {
public:
  virtual ~listener() = default;
  virtual void on_part_started(const progress&) {}
  virtual void on_paused(const progress&) {} // the publisher left: what is on disk so far
  virtual void on_finished(const progress&) = 0;
  virtual void on_failed(const progress&, std::string_view error) = 0; // nothing more is written
};

struct recorder_options {
  std::filesystem::path dir;       // the broadcast's folder, made if missing
  std::int64_t fragment_ms = 1000; // at most this long between fragments (and syncs)
  std::int64_t resume_gap_ms = 40; // after a crash, the timeline resumes this long after its end
  std::int64_t jump_ms = 5000;     // a timestamp step forward past this is a jump, repaired
  std::uint32_t renew_fragments = 600; // a fresh muxer every so many fragments (its index grows)
  std::size_t max_parts = 1000;        // a codec change past this many parts fails the recording
  int aac_kbps_per_channel = 64;       // audio recorded as AAC (FLV's legacy codecs): G.711's own rate for mono
  // Fault injection for tests: an errno to fail a file write of this many bytes with (0: none).
  std::function<int(std::size_t)> write_fault;
};

class recorder final : public fanout::consumer {
public:
  recorder(recorder_options opts, std::shared_ptr<listener> l);
  ~recorder() override;
  recorder(const recorder&) = delete;
  recorder& operator=(const recorder&) = delete;

  void on_opened(const fanout::stream_info& info) override;
  void on_config_changed(const fanout::stream_info& info) override;
  void on_sample(const fanout::message_ptr& m) override;
  void on_publisher_gone() override;
  void on_closed() override;
  void on_failed(std::string_view why) override;

  // On the recorder's thread, or once it is done.
  [[nodiscard]] const progress& state() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace onair::media::record
