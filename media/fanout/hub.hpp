#pragma once
// The fan-out of one live stream: one publisher in, any number of viewers (RTMP or HTTP-FLV, on
// any event loop) and in-process consumers (consumer.hpp) out. Each message is serialised once per
// output format into a buffer shared by every viewer of that format (wire_format: the outputs
// define them, the hub knows no protocol); viewers read through a cursor into one shared log (no
// per-viewer queue copies).
// The log doubles as the GOP cache: a new viewer starts at the latest key frame. A viewer that
// falls more than max_lag_bytes behind skips whole GOPs to the latest key frame (counted); the
// publisher never waits for anyone.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "media/fanout/consumer.hpp"
#include "media/fanout/counters.hpp"
#include "media/frame.hpp"

namespace onair::net {
class event_loop;
}

namespace onair::media::fanout {

class message;

// One output format (RTMP chunks, FLV tags, …): how a message is serialised for it. The output
// that defines it owns it; the hub knows none of them. Each takes one of a message's cache slots,
// so a message is serialised once per format, on first use, for every viewer of that format.
class wire_format {
public:
  using make_fn = void (*)(const message&, std::vector<std::uint8_t>& out);
  static constexpr std::size_t max_formats = 4;
  // Takes the next free slot; throws std::logic_error past max_formats. Define one per format,
  // at namespace scope in the output's own file.
  explicit wire_format(make_fn make);
  wire_format(const wire_format&) = delete;
  wire_format& operator=(const wire_format&) = delete;
  [[nodiscard]] std::size_t slot() const noexcept { return slot_; }
  [[nodiscard]] make_fn make() const noexcept { return make_; }

private:
  std::size_t slot_;
  make_fn make_;
};

// A sample as the hub stores and shares it: the ingest's parse, on the hub's timeline.
class message {
public:
  message(const frame& f, std::uint32_t timestamp, std::int64_t dts_ms);
  const frame_kind kind;
  const std::uint32_t timestamp; // the hub's timeline in ms, wrapped to 32 bits as RTMP and FLV carry it
  const std::int64_t dts_ms;     // the same, unwrapped: what in-process consumers go by
  const std::int32_t composition_offset_ms;
  const bool keyframe;
  const bool sequence_header;
  const bool codec_metadata;
  const bool end_of_sequence;
  const std::uint8_t track;
  const media::codec codec;
  const std::shared_ptr<const std::vector<std::uint8_t>> payload;
  [[nodiscard]] std::size_t size() const { return payload ? payload->size() : 0; }
  [[nodiscard]] std::int64_t pts_ms() const { return dts_ms + composition_offset_ms; }
  // The codec's own bytes (configuration record or coded frame), within payload.
  [[nodiscard]] std::span<const std::uint8_t> data() const;
  // This message in `format`: made on first use (from whichever viewer's thread), then shared.
  [[nodiscard]] const std::vector<std::uint8_t>& encoded(const wire_format& format) const;

private:
  const std::uint32_t data_offset_, data_size_;
  struct cache {
    std::once_flag once;
    std::vector<std::uint8_t> bytes;
  };
  mutable std::array<cache, wire_format::max_formats> caches_;
};
using message_ptr = std::shared_ptr<const message>;

// Two frames of a codec configured by its frames, as configurations: the codec, and the first
// byte, which for FLV's legacy audio is the flags (rate, sample size, channels) its decoder is
// opened with. The hub starts a new configuration at a frame that differs so.
[[nodiscard]] bool same_frame_format(const message& a, const message& b);

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
// How a viewer receives the stream (for the per-stream counts of telemetry).
enum class viewer_protocol { rtmp, http_flv };

class viewer {
public:
  virtual ~viewer() = default;
  virtual void on_data() = 0;
  // Read once, when the viewer subscribes and unsubscribes.
  [[nodiscard]] virtual viewer_protocol protocol() const { return viewer_protocol::rtmp; }
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

  // In-process consumer (recorder, transcoder), delivered to on a thread of its own: first the
  // configuration in force, then the cached GOP (from the latest key frame), then the stream as it
  // comes. Attached until the returned tap is stopped (detach) or the hub closes. A closed hub
  // tells it on_closed at once.
  std::shared_ptr<tap> attach(std::shared_ptr<consumer> c, consumer_options opts = {});
  // Detaches and stops the tap (joins its thread unless called from it); drain: after it has
  // delivered what was queued.
  void detach(const std::shared_ptr<tap>& t, bool drain = false);
  [[nodiscard]] std::size_t consumer_count() const;

  [[nodiscard]] std::size_t viewer_count() const;
  // The health of this stream's fan-out, for telemetry: viewers by protocol, GOPs skipped for
  // slow viewers since the hub began.
  struct health {
    std::size_t rtmp_viewers = 0, http_flv_viewers = 0;
    std::uint64_t dropped_gops = 0;
  };
  [[nodiscard]] health health_now() const;
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
  [[nodiscard]] stream_info_ptr info_locked() const;
  // A sequence header or side data replaces the one in force; consumers hear of a real change.
  void configure_locked(const frame& f, const message_ptr& m);
  // An audio codec configured by its frames (MP3): its first frame, or the first after a codec
  // change, stands for the configuration consumers hear of.
  void configure_by_frame_locked(const message_ptr& m);
  void tell_config_locked(); // the configuration in force, to every consumer
  void trim_locked();
  std::int64_t rebase_locked(std::uint32_t ts); // unwrapped
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
  message_ptr audio_by_frames_; // see configure_by_frame_locked; viewers are not sent it
  // What consumers last heard of as the configuration (a repeated header is no change).
  message_ptr heard_video_header_, heard_audio_header_, heard_video_side_data_, heard_audio_side_data_;
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
  std::size_t http_flv_viewers_ = 0; // of viewers_
  std::uint64_t dropped_gops_ = 0;
  std::vector<std::shared_ptr<tap>> taps_;
  bool publisher_gone_ = false; // a publish ended and none has begun since
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
