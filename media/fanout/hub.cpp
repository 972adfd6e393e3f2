#include "media/fanout/hub.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include <stdexcept>

#include "media/net/event_loop.hpp"

namespace onair::media::fanout {

namespace {
std::atomic<std::size_t> formats_taken{0};
} // namespace

bool same_frame_format(const message& a, const message& b) {
  return a.codec == b.codec && a.size() > 0 && b.size() > 0 && a.payload->front() == b.payload->front();
}

wire_format::wire_format(make_fn make) : slot_{formats_taken.fetch_add(1)}, make_{make} {
  if (slot_ >= max_formats)
    throw std::logic_error("fanout::wire_format: more than " + std::to_string(max_formats) + " output formats");
}

message::message(const frame& f, std::uint32_t ts, std::int64_t dts)
    : kind{f.kind}, timestamp{ts}, dts_ms{dts}, composition_offset_ms{f.composition_offset_ms},
      keyframe{f.keyframe && f.kind == frame_kind::video}, sequence_header{f.sequence_header},
      codec_metadata{f.codec_metadata}, end_of_sequence{f.end_of_sequence}, track{f.track}, codec{f.codec},
      payload{f.payload}, data_offset_{f.data_offset}, data_size_{f.data_size} {}

std::span<const std::uint8_t> message::data() const {
  if (!payload || std::size_t{data_offset_} + data_size_ > payload->size())
    return {};
  return std::span<const std::uint8_t>{*payload}.subspan(data_offset_, data_size_);
}

const std::vector<std::uint8_t>& message::encoded(const wire_format& format) const {
  cache& c = caches_[format.slot()];
  std::call_once(c.once, [&] { format.make()(*this, c.bytes); });
  return c.bytes;
}

hub::hub(std::string name, hub_options opts, counters* c) : name_{std::move(name)}, opts_{opts}, counters_{c} {}

std::uint64_t hub::begin_publish() {
  std::lock_guard lock{mu_};
  ++session_;
  publishing_ = true;
  session_fresh_ = true;
  if (publisher_gone_ && !closed_)
    for (const auto& t : taps_)
      t->publisher_back();
  publisher_gone_ = false;
  // Frames of the previous session must not start a new viewer against new sequence headers.
  gop_start_ = prev_gop_start_ = none;
  return session_;
}

void hub::end_publish(std::uint64_t session) {
  std::lock_guard lock{mu_};
  if (session != session_)
    return; // a newer publisher took over already
  publishing_ = false;
  if (!closed_ && !publisher_gone_)
    for (const auto& t : taps_)
      t->publisher_gone();
  publisher_gone_ = true;
  if (viewers_ == 0) {
    // Nobody to serve until the next publisher: drop the cache, keep the timeline.
    base_ += log_.size();
    log_.clear();
    gop_start_ = prev_gop_start_ = none;
  }
}

bool hub::publishing() const {
  std::lock_guard lock{mu_};
  return publishing_;
}

std::int64_t hub::rebase_locked(std::uint32_t ts) {
  if (session_fresh_) {
    session_fresh_ = false;
    in_ = in_base_ = ts;
    // First session keeps the publisher's clock; a reconnect continues just after the last output.
    out_base_ = have_output_ ? last_out_ + opts_.reconnect_gap_ms : ts;
  } else {
    std::int64_t step = static_cast<std::int32_t>(ts - last_in_); // modular step: crosses 2^32 forwards
    // An encoder that writes 31-bit timestamps wraps at 2^31 ms (24.8 days): ffmpeg's FLV muxer,
    // behind its RTMP output too, masks the extended byte to 7 bits. Its step from just under 2^31
    // to just over 0 reads as a step back by almost 2^31; taken as the 31-bit step forward it is.
    // Only a clock on both sides under 2^31 and a step back of over 2^30 ms (12 days) are taken so.
    constexpr std::int64_t wrap31 = std::int64_t{1} << 31;
    if (step < -(wrap31 / 2) && ts < wrap31 && last_in_ < wrap31)
      step += wrap31;
    in_ += step;
  }
  last_in_ = ts;
  std::int64_t out = out_base_ + (in_ - in_base_);
  if (out < out_base_)
    out = out_base_; // a stream's first audio may precede its first video slightly
  if (!have_output_ || out > last_out_)
    last_out_ = out;
  have_output_ = true;
  return out;
}

message_ptr hub::publish(const frame& f, std::uint64_t session) {
  message_ptr m;
  {
    std::lock_guard lock{mu_};
    if (closed_ || (session != 0 && (session != session_ || !publishing_)))
      return nullptr; // a publisher that was taken over must not interleave with the new one
    const std::int64_t dts = rebase_locked(f.timestamp_ms);
    m = std::make_shared<const message>(f, static_cast<std::uint32_t>(dts), dts); // wraps as the wire formats do
    if (f.kind == frame_kind::script || f.sequence_header || f.codec_metadata) {
      configure_locked(f, m);
    } else if (!f.end_of_sequence && f.track == 0) {
      if (f.kind == frame_kind::audio && configured_by_frames(f.codec) &&
          (!audio_by_frames_ || !same_frame_format(*audio_by_frames_, *m)))
        configure_by_frame_locked(m);
      for (const auto& t : taps_)
        t->sample(m);
    }
    const std::uint64_t seq = base_ + log_.size();
    if (m->keyframe) {
      prev_gop_start_ = gop_start_;
      gop_start_ = seq;
    }
    log_.push_back(entry{m, total_bytes_, total_keys_});
    total_bytes_ += m->size();
    if (m->keyframe)
      ++total_keys_;
    trim_locked();
  }
  notify(opts_.merge_window_ms == 0 || (f.kind == frame_kind::video && !f.sequence_header && !f.codec_metadata));
  return m;
}

void hub::trim_locked() {
  // Keep from the GOP before the latest (viewers a little behind still read in order), within
  // the byte cap, but never past the latest key frame.
  const std::uint64_t keep_from = prev_gop_start_ != none ? prev_gop_start_ : base_;
  const std::uint64_t hard_floor = gop_start_ != none ? gop_start_ : base_ + log_.size();
  while (!log_.empty()) {
    const bool before_keep = base_ < keep_from;
    const bool over_cap = total_bytes_ - log_.front().bytes_before > opts_.max_log_bytes && base_ < hard_floor;
    if (!before_keep && !over_cap)
      break;
    log_.pop_front();
    ++base_;
  }
}

void hub::configure_locked(const frame& f, const message_ptr& m) {
  if (f.kind == frame_kind::script) {
    metadata_ = m;
    return;
  }
  const bool video = f.kind == frame_kind::video;
  const bool after_frames = !video && f.sequence_header && audio_by_frames_ != nullptr;
  if (f.sequence_header) {
    (video ? video_header_ : audio_header_) = m;
    if (!video)
      audio_by_frames_ = nullptr; // the header is the newer configuration
    (video ? video_side_data_ : audio_side_data_) = nullptr; // a new config's own follows
  } else {
    (video ? video_side_data_ : audio_side_data_) = m;
  }
  // Consumers hear of a change only: a reconnecting publisher repeats its headers.
  auto& heard = f.sequence_header ? (video ? heard_video_header_ : heard_audio_header_)
                                  : (video ? heard_video_side_data_ : heard_audio_side_data_);
  const auto a = heard ? heard->data() : std::span<const std::uint8_t>{};
  const auto b = m->data();
  if (!after_frames && heard && heard->codec == m->codec && std::equal(a.begin(), a.end(), b.begin(), b.end()))
    return;
  heard = m;
  tell_config_locked();
}

void hub::configure_by_frame_locked(const message_ptr& m) {
  audio_by_frames_ = m;
  tell_config_locked();
}

void hub::tell_config_locked() {
  if (!taps_.empty()) {
    const auto info = info_locked();
    for (const auto& t : taps_)
      t->config_changed(info);
  }
}

stream_info_ptr hub::info_locked() const {
  return std::make_shared<const stream_info>(stream_info{
      video_header_, audio_by_frames_ ? audio_by_frames_ : audio_header_, video_side_data_, audio_side_data_, metadata_});
}

std::shared_ptr<tap> hub::attach(std::shared_ptr<consumer> c, consumer_options opts) {
  auto t = std::make_shared<tap>(std::move(c), std::move(opts), counters_);
  {
    std::lock_guard lock{mu_};
    t->opened(info_locked());
    if (closed_) {
      t->closed();
    } else {
      if (gop_start_ != none)
        for (std::uint64_t i = gop_start_; i < base_ + log_.size(); ++i) {
          const auto& m = log_[i - base_].msg;
          if (m->kind != frame_kind::script && !m->sequence_header && !m->codec_metadata && !m->end_of_sequence &&
              m->track == 0)
            t->sample(m);
        }
      if (publisher_gone_)
        t->publisher_gone();
      taps_.push_back(t);
    }
  }
  t->start();
  return t;
}

void hub::detach(const std::shared_ptr<tap>& t, bool drain) {
  if (!t)
    return;
  {
    std::lock_guard lock{mu_};
    std::erase(taps_, t);
  }
  t->stop(drain);
}

std::size_t hub::consumer_count() const {
  std::lock_guard lock{mu_};
  return taps_.size();
}

void hub::close() {
  std::vector<std::shared_ptr<tap>> taps;
  {
    std::lock_guard lock{mu_};
    if (!closed_)
      for (const auto& t : taps_)
        t->closed();
    closed_ = true;
    taps.swap(taps_);
  }
  notify(true);
}

namespace {
std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
} // namespace

void hub::notify(bool urgent) {
  std::vector<std::shared_ptr<loop_group>> groups;
  {
    std::lock_guard lock{mu_};
    groups = groups_;
  }
  const std::int64_t now = urgent ? 0 : now_ns();
  const std::chrono::nanoseconds window = std::chrono::milliseconds{opts_.merge_window_ms};
  for (auto& g : groups) {
    if (urgent) {
      // One wake per loop however many viewers it serves; coalesced until the loop has run it.
      if (g->pending.exchange(true, std::memory_order_acq_rel))
        continue;
      g->loop->post([g] {
        g->pending.store(false, std::memory_order_release);
        serve(*g);
      });
      continue;
    }
    // Waits for the next urgent pass, or for the merge timer. The message was appended before
    // this: a pass that takes waiting_since back to 0 after this line reads it.
    std::int64_t none_waiting = 0;
    g->waiting_since.compare_exchange_strong(none_waiting, now, std::memory_order_seq_cst);
    arm_merge_timer(g, window, window);
  }
}

void hub::arm_merge_timer(const std::shared_ptr<loop_group>& g, std::chrono::nanoseconds delay,
                          std::chrono::nanoseconds window) {
  if (!g->armed.exchange(true, std::memory_order_seq_cst))
    g->loop->post_after(delay, [g, window] { merge_timer(g, window); });
}

void hub::merge_timer(const std::shared_ptr<loop_group>& g, std::chrono::nanoseconds window) {
  // Disarmed before looking: a message published from here on arms a new timer, or is seen here.
  g->armed.store(false, std::memory_order_seq_cst);
  const std::int64_t since = g->waiting_since.load(std::memory_order_seq_cst);
  if (since == 0)
    return; // a pass served it already
  const std::int64_t due = since + window.count();
  const std::int64_t now = now_ns();
  if (now >= due) {
    serve(*g);
    return;
  }
  // A pass came and went, and a newer message waits: its own window.
  arm_merge_timer(g, std::chrono::nanoseconds{due - now}, window);
}

std::vector<message_ptr>& loop_scratch() {
  thread_local std::vector<message_ptr> scratch;
  return scratch;
}

void hub::serve(loop_group& g) {
  // Everything published before this exchange is read by the passes below.
  g.waiting_since.exchange(0, std::memory_order_acq_rel);
  g.serving = true;
  // By index: viewers that subscribe meanwhile are served too; those that leave are nulled.
  for (std::size_t i = 0; i < g.viewers.size(); ++i) {
    if (i + 1 < g.viewers.size())
      if (const auto* next = reinterpret_cast<const char*>(g.viewers[i + 1]))
        for (std::size_t at = 0; at <= viewer::prefetched_bytes; at += 64) // the lines it spans, unaligned
          __builtin_prefetch(next + at);
    if (viewer* v = g.viewers[i])
      v->on_data();
  }
  g.serving = false;
  if (g.live != g.viewers.size())
    std::erase(g.viewers, nullptr);
}

void hub::subscribe(net::event_loop& loop, viewer* v) {
  std::shared_ptr<loop_group> group;
  {
    std::lock_guard lock{mu_};
    for (auto& g : groups_)
      if (g->loop == &loop)
        group = g;
    if (!group) {
      group = std::make_shared<loop_group>();
      group->loop = &loop;
      groups_.push_back(group);
    }
    ++viewers_;
    if (v->protocol() == viewer_protocol::http_flv)
      ++http_flv_viewers_;
  }
  group->viewers.push_back(v);
  ++group->live;
  if (counters_) {
    counters::add(counters_->viewers_total);
    counters::add(counters_->viewers_active);
  }
}

void hub::unsubscribe(net::event_loop& loop, viewer* v) {
  std::lock_guard lock{mu_};
  for (auto it = groups_.begin(); it != groups_.end(); ++it) {
    auto& g = *it;
    if (g->loop != &loop)
      continue;
    const auto pos = std::find(g->viewers.begin(), g->viewers.end(), v);
    if (pos == g->viewers.end())
      return;
    if (g->serving)
      *pos = nullptr;
    else
      g->viewers.erase(pos);
    --g->live;
    --viewers_;
    if (v->protocol() == viewer_protocol::http_flv)
      --http_flv_viewers_;
    if (counters_)
      counters::add(counters_->viewers_active, -1);
    if (g->live == 0)
      groups_.erase(it);
    return;
  }
}

void hub::start_locked(cursor& c, std::vector<message_ptr>& out) {
  c.started = true;
  for (const auto& h : {metadata_, video_header_, video_side_data_, audio_header_, audio_side_data_})
    if (h)
      out.push_back(h);
  if (gop_start_ != none) {
    c.next = gop_start_;
    c.wait_key = false;
  } else {
    c.next = base_ + log_.size();
    c.wait_key = true; // mid-GOP or before the first key frame of this session
  }
}

read_result hub::read(cursor& c, std::vector<message_ptr>& out, std::size_t budget_bytes) {
  read_result r;
  std::lock_guard lock{mu_};
  if (closed_) {
    r.closed = true;
    return r;
  }
  const std::uint64_t head = base_ + log_.size();
  if (!c.started) {
    start_locked(c, out);
  } else if (c.next < head) {
    const bool evicted = c.next < base_;
    const std::uint64_t lag_bytes = evicted ? total_bytes_ : total_bytes_ - log_[c.next - base_].bytes_before;
    // Modular, as the timestamps wrap.
    const std::int64_t lag_ms =
        evicted ? 0 : static_cast<std::int32_t>(log_.back().msg->timestamp - log_[c.next - base_].msg->timestamp);
    const bool newer_gop = gop_start_ != none && gop_start_ > c.next;
    if (evicted || lag_bytes > opts_.max_lag_bytes || (newer_gop && lag_ms > std::int64_t{opts_.max_lag_ms})) {
      // Too far behind: skip whole GOPs to the latest key frame (or to the live edge when the
      // cache has none), then resend the headers so the decoder restarts cleanly.
      const std::uint64_t target = gop_start_ != none && gop_start_ > c.next ? gop_start_ : head;
      r.dropped_frames = target - c.next;
      const std::uint64_t keys_at_target = target < head ? log_[target - base_].keys_before : total_keys_;
      r.dropped_gops = std::max<std::uint64_t>(keys_at_target - std::min(keys_at_target, c.keys_before_next), 1);
      c.started = false;
      start_locked(c, out);
      dropped_gops_ += r.dropped_gops;
      if (counters_) {
        counters::add(counters_->dropped_frames, r.dropped_frames);
        counters::add(counters_->dropped_gops, r.dropped_gops);
      }
    }
  }
  std::size_t bytes = 0;
  while (c.next < head) {
    if (bytes >= budget_bytes) {
      r.more = true;
      break;
    }
    const message_ptr& m = log_[c.next - base_].msg;
    ++c.next;
    if (c.wait_key && m->kind == frame_kind::video && !m->sequence_header) {
      if (!m->keyframe)
        continue;
      c.wait_key = false;
    }
    out.push_back(m);
    bytes += m->size();
  }
  c.keys_before_next = c.next < head ? log_[c.next - base_].keys_before : total_keys_;
  return r;
}

std::size_t hub::viewer_count() const {
  std::lock_guard lock{mu_};
  return viewers_;
}

hub::health hub::health_now() const {
  std::lock_guard lock{mu_};
  return health{viewers_ - http_flv_viewers_, http_flv_viewers_, dropped_gops_};
}

std::size_t hub::cached_messages() const {
  std::lock_guard lock{mu_};
  return log_.size();
}

std::shared_ptr<hub> registry::find(const std::string& name) const {
  std::lock_guard lock{mu_};
  const auto it = hubs_.find(name);
  return it == hubs_.end() ? nullptr : it->second;
}

std::shared_ptr<hub> registry::find_or_create(const std::string& name) {
  std::lock_guard lock{mu_};
  auto& h = hubs_[name];
  if (!h)
    h = std::make_shared<hub>(name, opts_, counters_);
  return h;
}

void registry::erase(const std::string& name) {
  std::shared_ptr<hub> h;
  {
    std::lock_guard lock{mu_};
    const auto it = hubs_.find(name);
    if (it == hubs_.end())
      return;
    h = std::move(it->second);
    hubs_.erase(it);
  }
  h->close();
}

std::size_t registry::size() const {
  std::lock_guard lock{mu_};
  return hubs_.size();
}

} // namespace onair::media::fanout
