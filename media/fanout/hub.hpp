#pragma once
// The fan-out of one live stream: one publisher in, any number of viewers (RTMP or HTTP-FLV, on
// any event loop) out. Each message is serialised once per output format into a buffer shared by
// every viewer; viewers read through a cursor into one shared log (no per-viewer queue copies).
// The log doubles as the GOP cache: a new viewer starts at the latest key frame. A viewer that
// falls more than max_lag_bytes behind skips whole GOPs to the latest key frame (counted); the
// publisher never waits for anyone.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "media/fanout/counters.hpp"
#include "media/frame.hpp"

namespace onair::net {
class event_loop;
}

namespace onair::media::fanout {

// Output framing shared by every RTMP viewer (the session announces this chunk size and always
// answers createStream with stream id 1).
inline constexpr std::uint32_t rtmp_out_chunk_size = 4096;
inline constexpr std::uint32_t rtmp_media_stream_id = 1;

class message {
public:
  message(frame_kind kind, std::uint32_t timestamp, std::shared_ptr<const std::vector<std::uint8_t>> payload,
          bool keyframe, bool sequence_header);
  const frame_kind kind;
  const std::uint32_t timestamp;
  const bool keyframe;
  const bool sequence_header;
  const std::shared_ptr<const std::vector<std::uint8_t>> payload;
  [[nodiscard]] std::size_t size() const { return payload ? payload->size() : 0; }
  // Made on first use (from whichever viewer's thread), then shared.
  [[nodiscard]] const std::vector<std::uint8_t>& rtmp() const;
  [[nodiscard]] const std::vector<std::uint8_t>& flv() const;
  // The FLV tag framed as one HTTP/1.1 chunk ("size CRLF tag CRLF").
  [[nodiscard]] const std::vector<std::uint8_t>& flv_chunk() const;

private:
  mutable std::once_flag rtmp_once_, flv_once_, flv_chunk_once_;
  mutable std::vector<std::uint8_t> rtmp_, flv_, flv_chunk_;
};
using message_ptr = std::shared_ptr<const message>;

struct hub_options {
  // A viewer that is behind the latest key frame by more than max_lag_ms skips to it (whole
  // GOPs dropped). Measured in media time so it holds for any bitrate and GOP length.
  std::uint32_t max_lag_ms = 3000;
  std::size_t max_lag_bytes = 16 * 1024 * 1024; // hard cap, even within one long GOP
  std::size_t max_log_bytes = 32 * 1024 * 1024; // cap on the cache (two GOPs at most)
  std::uint32_t reconnect_gap_ms = 40;          // timestamp step across a publisher reconnect
  // Merged writes: a video frame wakes the viewers at once; other messages (audio, metadata,
  // sequence headers) wait for it, or at most this long, so a viewer gets one write per frame
  // instead of one per message, and a loop is not woken to pass over its viewers for each audio
  // frame. 0: every message wakes them.
  std::uint32_t merge_window_ms = 40;
};

// A consumer living on one event loop. on_data runs on that loop's thread.
class viewer {
public:
  virtual ~viewer() = default;
  virtual void on_data() = 0;
  // A loop's pass over its viewers prefetches this many bytes from each next viewer's address
  // while it serves the one before: after a pass of socket writes, a thousand viewers' state is
  // cold in the cache. A viewer class keeps what on_data() touches first within that reach.
  static constexpr std::size_t prefetched_bytes = 256;
};

// The list a viewer reads its messages into (hub::read) and sends from, emptied after each send:
// one per thread, so it stays in the cache across a loop's pass over a thousand viewers, where
// one per viewer would be a cold line written each time. Not held across calls that may serve
// another viewer.
std::vector<message_ptr>& loop_scratch();

// A viewer's position in the hub; owned by the viewer, only touched through hub::read.
struct cursor {
  std::uint64_t next = 0;
  bool started = false;
  bool wait_key = false; // skip video until a key frame
  std::uint64_t keys_before_next = 0; // key frames published before `next`: counts skipped GOPs
};

struct read_result {
  std::uint64_t dropped_frames = 0;
  std::uint64_t dropped_gops = 0;
  bool more = false;   // stopped at the budget; messages remain
  bool closed = false; // the hub was closed: end the viewer
};

class hub {
public:
  explicit hub(std::string name, hub_options opts = {}, counters* c = nullptr);
  [[nodiscard]] const std::string& name() const { return name_; }

  // Publisher side (any thread). A new publish session continues the viewers' timeline.
  std::uint64_t begin_publish();
  void end_publish(std::uint64_t session);
  [[nodiscard]] bool publishing() const;
  // Timestamp in the publisher's timeline; the hub rebases it. Returns the message as stored,
  // or null when `session` (from begin_publish; 0: whichever is current) has been superseded.
  message_ptr publish(const frame& f, std::uint64_t session = 0);
  // Ends every viewer (broadcast over); the hub accepts no more media.
  void close();

  // Viewer side (on the viewer's loop thread).
  void subscribe(net::event_loop& loop, viewer* v);
  void unsubscribe(net::event_loop& loop, viewer* v);
  // Appends to `out` what the viewer should send next: on start (or after a skip) the metadata
  // and sequence headers, then the log from the cursor, until about budget_bytes.
  read_result read(cursor& c, std::vector<message_ptr>& out, std::size_t budget_bytes);

  [[nodiscard]] std::size_t viewer_count() const;
  [[nodiscard]] std::size_t cached_messages() const;

private:
  struct entry {
    message_ptr msg;
    std::uint64_t bytes_before; // running byte count: lag in O(1)
    std::uint64_t keys_before;  // running key-frame count: GOPs skipped in O(1)
  };
  struct loop_group {
    net::event_loop* loop = nullptr;
    std::atomic<bool> pending{false}; // a pass is posted and has not started
    std::atomic<bool> armed{false};   // the merge timer is set
    // When the oldest message no pass has served yet was published (steady clock, ns; 0: none).
    std::atomic<std::int64_t> waiting_since{0};
    // Loop thread only. A viewer that leaves while the group is being served leaves a null slot
    // (removed after the pass), so serving n viewers stays O(n).
    std::vector<viewer*> viewers;
    std::size_t live = 0;
    bool serving = false;
  };

  void start_locked(cursor& c, std::vector<message_ptr>& out);
  void trim_locked();
  std::uint32_t rebase_locked(std::uint32_t ts);
  // urgent: serve the viewers now; otherwise within the merge window.
  void notify(bool urgent);
  static void serve(loop_group& g);
  // On the group's loop; holds the group, not the hub, which may be gone by then.
  static void merge_timer(const std::shared_ptr<loop_group>& g, std::chrono::nanoseconds window);
  // Sets g's merge timer to fire after delay, unless it is set already.
  static void arm_merge_timer(const std::shared_ptr<loop_group>& g, std::chrono::nanoseconds delay,
                              std::chrono::nanoseconds window);

  const std::string name_;
  const hub_options opts_;
  counters* counters_;
  // One plain mutex. A shared_mutex for viewers' reads measured no better (1,000 viewers, three
  // A/B pairs), and with glibc's reader preference the other loop's pass of reads could hold
  // the publisher back for the whole pass.
  mutable std::mutex mu_;
  std::deque<entry> log_;
  std::uint64_t base_ = 0; // sequence number of log_.front()
  std::uint64_t total_bytes_ = 0;
  std::uint64_t total_keys_ = 0;
  static constexpr std::uint64_t none = ~std::uint64_t{0};
  std::uint64_t gop_start_ = none;      // latest key frame
  std::uint64_t prev_gop_start_ = none; // the one before: the cache keeps at most two GOPs
  message_ptr metadata_, video_header_, audio_header_;
  message_ptr video_side_data_, audio_side_data_; // codec_metadata after each header
  // Timeline. RTMP and FLV timestamps are 32-bit milliseconds and wrap after 49.7 days (or
  // sooner, for an encoder whose clock starts high; at 2^31, 24.8 days, for one that writes 31
  // bits, as ffmpeg does): input is unwrapped onto 64 bits by the signed step from the previous
  // frame, and output wraps the same way on the wire.
  std::uint64_t session_ = 0;
  bool publishing_ = false;
  bool session_fresh_ = false;
  bool have_output_ = false;
  std::uint32_t last_in_ = 0;  // the session's previous input timestamp, as sent
  std::int64_t in_ = 0;        // the same, unwrapped
  std::int64_t in_base_ = 0, out_base_ = 0;
  std::int64_t last_out_ = 0;  // the latest output timestamp, unwrapped
  bool closed_ = false;
  std::vector<std::shared_ptr<loop_group>> groups_;
  std::size_t viewers_ = 0;
};

// Hubs by name (the key id or preview id the decision names), shared by the RTMP server,
// HTTP-FLV and the lead's packagers. Thread-safe.
class registry {
public:
  explicit registry(hub_options opts = {}, counters* c = nullptr) : opts_{opts}, counters_{c} {}
  [[nodiscard]] std::shared_ptr<hub> find(const std::string& name) const;
  std::shared_ptr<hub> find_or_create(const std::string& name);
  // Broadcast over: closes the hub (its viewers end) and forgets it.
  void erase(const std::string& name);
  [[nodiscard]] std::size_t size() const;

private:
  hub_options opts_;
  counters* counters_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<hub>, std::less<>> hubs_;
};

} // namespace onair::media::fanout
