#pragma once
// One live CMAF stream as players fetch it: per rendition (each video size, the audio) an init
// segment and fMP4 media segments on the stream's segment grid, each made of chunks that are the
// LL-HLS parts, in memory in a sliding window. HLS, LL-HLS and DASH all reference these objects;
// a segment is its parts back to back, so nothing is stored twice.
//
// Writers (a transcoder's encoder threads, one per rendition) push samples; readers (HTTP loops)
// take snapshots and wait for parts. One lock per stream, held briefly; the byte buffers are
// immutable and shared, so a reply holds them without the lock.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "media/cmaf/audience.hpp"
#include "media/cmaf/fmp4.hpp"

namespace onair::media::cmaf {

using bytes_ptr = std::shared_ptr<const std::vector<std::uint8_t>>;

// The wall clock the packager's times are on (Unix ms): program date times, the MPD's
// availability, the server's /time.
[[nodiscard]] std::int64_t wall_clock_ms();

struct part {
  bytes_ptr bytes;
  std::int64_t start = 0;    // decode time, in the track's timescale
  std::int64_t duration = 0; // in the track's timescale
  bool independent = false;  // starts with a key frame (every audio part does)
};

struct segment {
  std::int64_t msn = 0;       // media sequence number (the DASH $Number$ too)
  std::int64_t start = 0;     // decode time of its first sample
  std::int64_t duration = 0;  // so far, while open
  std::int64_t program_date_ms = 0; // wall clock (Unix ms) of its start
  std::uint32_t period = 0;        // DASH period: a publisher's return, or the wall clock drifting from the media's
  std::uint32_t discontinuity = 0; // publisher returns before it (HLS discontinuity sequence)
  // Its period's beginning, which DASH's template counts from even once it left the window: the
  // first segment number, this rendition's decode time there, and the wall clock then.
  std::int64_t period_msn = 0;
  std::int64_t period_start = 0;
  std::int64_t period_wall_ms = 0;
  bool complete = false;
  std::vector<part> parts;
  [[nodiscard]] std::size_t size() const;
};

struct stream_options {
  std::int64_t segment_ms = 2000;  // the segment grid (video segments start on key frames on it)
  std::int64_t part_target_ms = 334; // no part is longer
  std::size_t window_segments = 10;  // complete segments kept
  // A segment that starts this far from where the wall clock of its period says it should (a
  // publisher slower or faster than real time) starts a new DASH period, re-anchored: players
  // that find segments by the clock would otherwise ask for ones that do not exist. 0: never
  // (a VOD, made faster than real time).
  std::int64_t max_drift_ms = 1000;
  // Folder of the init segments, segments and parts, before the rendition's: unique to this
  // stream ("k3x9q2/"), so a playback id that goes live again never serves a cached object of
  // an earlier stream under the same URL (they are cached as immutable).
  std::string uri_prefix{};
  // Told of each segment once complete, in order per rendition, from the thread that pushed its
  // end and outside the stream's lock (a VOD writes its segments to disk from here, before the
  // window lets them go). Segments of different renditions may be told concurrently.
  std::function<void(std::size_t rendition, const segment&)> on_segment{};
};

struct rendition_desc {
  std::string id;            // "v0", "v1", "a" (in URLs)
  track_kind kind = track_kind::video;
  int bandwidth = 0;         // bits per second, as advertised (peak)
  double frame_rate = 0;
};

// What a playlist needs of one rendition, copied out under the lock.
struct rendition_view {
  rendition_desc desc;
  std::optional<track_config> config;
  std::deque<std::shared_ptr<const segment>> segments; // oldest first; the last may be open
  // The part that comes next: (msn, index).
  std::int64_t next_msn = 0;
  int next_part = 0;
};

struct stream_view {
  stream_options opts;
  std::int64_t origin_ms = 0;              // the grid's zero on the stream's timeline
  std::int64_t availability_start_ms = 0;  // wall clock of the grid's zero (DASH)
  bool ended = false;
  std::vector<rendition_view> renditions;
};

class stream {
public:
  stream(stream_options opts, std::vector<rendition_desc> renditions);
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;

  // The grid's zero: the first sample's time on the stream's timeline (ms) and the wall clock then.
  // Set once, before any push.
  void set_origin(std::int64_t origin_ms, std::int64_t wall_ms);
  // A rendition's track, once known (the encoder's first output); before its first push.
  void set_config(std::size_t rendition, track_config config);

  struct input {
    std::int64_t dts = 0; // track timescale
    std::int32_t cto = 0;
    bool key = false;
    bytes_ptr data;       // video: length-prefixed NAL units; audio: raw AAC
  };
  // A sample of one rendition, in decode order. The last one is held until the next gives its
  // duration; a part is cut when the next sample would not fit in it, or when the grid starts a
  // segment (at a key frame for video).
  void push(std::size_t rendition, input in, std::int64_t wall_ms);
  // The publisher returned: the next segment (the first of its number in any rendition) starts a
  // new period and an HLS discontinuity.
  void new_period();
  // No more samples: what is held is written, the last segments complete, playlists end.
  void end();

  [[nodiscard]] stream_view view() const;
  // A rendition's live edge, as view() gives it, without copying the view: the segment being
  // written (or the next one) and its next part.
  struct edge {
    std::int64_t next_msn = 0;
    int next_part = 0;
    bool ended = false;
  };
  [[nodiscard]] edge live_edge(std::size_t rendition) const;
  [[nodiscard]] const stream_options& options() const { return opts_; }
  [[nodiscard]] std::size_t rendition_count() const { return tracks_.size(); }
  [[nodiscard]] const rendition_desc& desc(std::size_t r) const { return tracks_[r].desc; }
  [[nodiscard]] bytes_ptr init(std::size_t rendition) const;
  // A part, or a whole complete segment (its parts in order); null if not (or no longer) held.
  [[nodiscard]] std::optional<part> find_part(std::size_t rendition, std::int64_t msn, int index) const;
  [[nodiscard]] std::shared_ptr<const segment> find_segment(std::size_t rendition, std::int64_t msn) const;
  // Every rendition has a complete segment: the stream is viewable.
  [[nodiscard]] bool ready() const;
  [[nodiscard]] bool ended() const;

  // Calls fire once, from a writer's thread (or this one if already so), when the rendition has
  // part `index` of segment msn (index < 0: the segment complete), or when the stream ends.
  // Returns a handle that cancels it (a reply that timed out).
  class waiter;
  using waiter_ptr = std::shared_ptr<waiter>;
  waiter_ptr when(std::size_t rendition, std::int64_t msn, int index, std::function<void()> fire);
  static void cancel(const waiter_ptr& w);
  // Called once, from a writer's thread, when the stream becomes ready.
  void on_ready(std::function<void()> fn);

  [[nodiscard]] std::size_t held_bytes() const;
  // Who plays it over HTTP lately (the HTTP layer tells it of each request): telemetry.
  [[nodiscard]] audience& players() const { return players_; }

  // A text made from the view (a playlist), kept until the stream next changes: every player asks
  // for the same one after each part. `key` names the text (master_memo, or one per rendition and
  // variant); make runs without the lock.
  static constexpr std::size_t master_memo = 1024;
  [[nodiscard]] std::shared_ptr<const std::string> memo(std::size_t key,
                                                        const std::function<std::string(const stream_view&)>& make);

private:
  struct track {
    rendition_desc desc;
    std::optional<track_config> config;
    bytes_ptr init;
    std::deque<std::shared_ptr<segment>> segments;
    std::vector<input> open_part; // samples of the part being gathered (durations below)
    std::vector<std::uint32_t> open_durations;
    std::int64_t open_part_duration = 0;
    std::optional<input> held;         // the last sample, waiting for its duration
    std::int64_t held_wall_ms = 0;
    std::int64_t last_duration = 0;
    std::int64_t next_msn = 0;
    std::uint32_t chunk_sequence = 1;
    std::optional<std::uint32_t> period; // of its latest segment
    std::int64_t period_start = 0;       // decode time of its first segment in that period
  };
  using fired = std::vector<std::function<void()>>;
  void accept_locked(track& t, std::size_t r, const input& s, std::uint32_t duration, std::int64_t wall_ms, fired& out);
  void close_part_locked(track& t, std::size_t r, fired& out);
  void open_segment_locked(track& t, std::int64_t start, std::int64_t wall_ms);
  void complete_segment_locked(track& t, std::size_t r, fired& out);
  void collect_locked(std::size_t r, fired& out);
  [[nodiscard]] bool satisfied_locked(std::size_t r, std::int64_t msn, int index) const;
  [[nodiscard]] edge edge_locked(std::size_t r) const;
  [[nodiscard]] std::int64_t grid_index(const track& t, std::int64_t time) const;
  void check_ready_locked(fired& out);

  const stream_options opts_;
  mutable std::mutex mu_;
  std::vector<track> tracks_;
  std::int64_t origin_ms_ = 0;
  std::int64_t wall_origin_ms_ = 0;
  bool ended_ = false;
  bool ready_ = false;
  std::uint32_t period_ = 0;
  std::uint32_t discontinuity_ = 0;
  bool period_pending_ = false;     // a publisher's return, applied at the next segment number
  std::int64_t highest_opened_ = -1; // segment numbers change period only when first opened
  std::int64_t period_msn_ = 0;      // the current period's first segment number
  // Program date times follow the media clock within a period, from the wall clock at its start.
  std::optional<std::uint32_t> anchored_period_;
  std::int64_t anchor_wall_ms_ = 0, anchor_media_ms_ = 0;
  std::vector<waiter_ptr> waiters_;
  std::uint64_t version_ = 0; // changes with every part, segment, config and the end
  std::map<std::size_t, std::pair<std::uint64_t, std::shared_ptr<const std::string>>> memos_;
  std::function<void()> on_ready_;
  mutable audience players_;
};

class stream::waiter {
public:
  std::size_t rendition = 0;
  std::int64_t msn = 0;
  int index = 0;
  std::function<void()> fire;
  std::atomic<bool> done{false};
};

} // namespace onair::media::cmaf
