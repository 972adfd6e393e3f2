#include "media/cmaf/packager.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <stdexcept>

namespace onair::media::cmaf {

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::size_t segment::size() const {
  std::size_t n = 0;
  for (const auto& p : parts)
    n += p.bytes ? p.bytes->size() : 0;
  return n;
}

stream::stream(stream_options opts, std::vector<rendition_desc> renditions) : opts_(opts) {
  tracks_.resize(renditions.size());
  for (std::size_t i = 0; i < renditions.size(); ++i)
    tracks_[i].desc = std::move(renditions[i]);
}

void stream::set_origin(std::int64_t origin_ms, std::int64_t wall_ms) {
  std::lock_guard lock{mu_};
  origin_ms_ = origin_ms;
  wall_origin_ms_ = wall_ms;
}

void stream::set_config(std::size_t r, track_config config) {
  auto init = std::make_shared<const std::vector<std::uint8_t>>(init_segment(config));
  std::lock_guard lock{mu_};
  auto& t = tracks_.at(r);
  t.config = std::move(config);
  t.init = std::move(init);
  ++version_;
}

std::int64_t stream::grid_index(const track& t, std::int64_t time) const {
  const std::int64_t ms = time * 1000 / static_cast<std::int64_t>(t.config ? t.config->timescale : 1000);
  const std::int64_t rel = ms - origin_ms_;
  // Floor division: a sample a little before the origin (audio ahead of the first video frame)
  // belongs to the grid's first segment all the same.
  return rel < 0 ? 0 : rel / opts_.segment_ms;
}

void stream::push(std::size_t r, input in, std::int64_t wall_ms) {
  fired out;
  {
    std::lock_guard lock{mu_};
    if (ended_)
      return;
    auto& t = tracks_.at(r);
    if (!t.config)
      throw std::logic_error("cmaf: a sample before the rendition's track is known");
    if (t.held) {
      const std::int64_t d = in.dts - t.held->dts;
      // Decode times only increase out of an encoder; a step back is made a tick long.
      const auto duration = static_cast<std::uint32_t>(std::clamp<std::int64_t>(d, 1, 0x7fffffff));
      auto held = std::move(*t.held);
      t.held.reset();
      accept_locked(t, r, held, duration, t.held_wall_ms, out);
    }
    // What the new sample tells of the part and segment being gathered: cut them now rather
    // than when it is itself written, a frame later.
    if (!t.open_part.empty() && !t.segments.empty() && !t.segments.back()->complete) {
      const bool starts_segment = (t.desc.kind == track_kind::audio || in.key) &&
                                  grid_index(t, in.dts) > grid_index(t, t.segments.back()->start);
      const std::int64_t target = opts_.part_target_ms * t.config->timescale / 1000;
      if (starts_segment) {
        close_part_locked(t, r, out);
        complete_segment_locked(t, r, out);
      } else if (t.open_part_duration + t.last_duration > target) {
        close_part_locked(t, r, out);
      }
    }
    t.held = std::move(in);
    t.held_wall_ms = wall_ms;
  }
  for (auto& f : out)
    f();
}

void stream::accept_locked(track& t, std::size_t r, const input& s, std::uint32_t duration, std::int64_t wall_ms,
                           fired& out) {
  const std::int64_t target = opts_.part_target_ms * t.config->timescale / 1000;
  if (t.segments.empty() || t.segments.back()->complete) {
    open_segment_locked(t, s.dts, wall_ms);
  } else if (!t.open_part.empty() && t.open_part_duration + duration > target) {
    close_part_locked(t, r, out);
  }
  t.open_part.push_back(s);
  t.open_durations.push_back(duration);
  t.open_part_duration += duration;
  t.last_duration = duration;
}

void stream::open_segment_locked(track& t, std::int64_t start, std::int64_t wall_ms) {
  auto seg = std::make_shared<segment>();
  seg->msn = t.next_msn++;
  seg->start = start;
  const std::int64_t start_ms = start * 1000 / static_cast<std::int64_t>(t.config->timescale);
  // Periods change at a segment number no rendition has begun, so segment n is in the same period
  // everywhere.
  if (seg->msn > highest_opened_) {
    highest_opened_ = seg->msn;
    if (period_pending_) {
      period_pending_ = false;
      ++period_;
      ++discontinuity_;
      period_msn_ = seg->msn;
    } else if (opts_.max_drift_ms > 0 && anchored_period_ == period_ &&
               std::llabs(wall_ms - (anchor_wall_ms_ + (start_ms - anchor_media_ms_))) > opts_.max_drift_ms) {
      ++period_;
      period_msn_ = seg->msn;
    }
  }
  if (anchored_period_ != period_) {
    anchored_period_ = period_;
    // The first period starts at the grid's zero; a later one where its first segment began.
    anchor_wall_ms_ = period_ == 0 ? wall_origin_ms_ : wall_ms;
    anchor_media_ms_ = period_ == 0 ? origin_ms_ : start_ms;
  }
  seg->program_date_ms = anchor_wall_ms_ + (start_ms - anchor_media_ms_);
  seg->period = period_;
  seg->discontinuity = discontinuity_;
  if (t.period != period_) {
    t.period = period_;
    t.period_start = start;
  }
  seg->period_msn = period_msn_;
  seg->period_start = t.period_start;
  seg->period_wall_ms = anchor_wall_ms_;
  t.segments.push_back(std::move(seg));
  ++version_;
}

void stream::close_part_locked(track& t, std::size_t r, fired& out) {
  if (t.open_part.empty() || t.segments.empty())
    return;
  std::vector<sample> samples;
  samples.reserve(t.open_part.size());
  for (std::size_t i = 0; i < t.open_part.size(); ++i) {
    const auto& in = t.open_part[i];
    samples.push_back(sample{in.dts, in.cto, t.open_durations[i], in.key,
                             in.data ? std::span<const std::uint8_t>{*in.data} : std::span<const std::uint8_t>{}});
  }
  part p;
  p.bytes = std::make_shared<const std::vector<std::uint8_t>>(chunk(*t.config, t.chunk_sequence++, samples));
  p.start = t.open_part.front().dts;
  p.duration = t.open_part_duration;
  p.independent = t.desc.kind == track_kind::audio || t.open_part.front().key;
  t.open_part.clear();
  t.open_durations.clear();
  t.open_part_duration = 0;
  // Readers hold earlier copies of the open segment: it is replaced, never changed in place.
  auto next = std::make_shared<segment>(*t.segments.back());
  next->parts.push_back(std::move(p));
  next->duration += next->parts.back().duration;
  t.segments.back() = std::move(next);
  ++version_;
  collect_locked(r, out);
}

void stream::complete_segment_locked(track& t, std::size_t r, fired& out) {
  if (t.segments.empty() || t.segments.back()->complete)
    return;
  if (t.segments.back()->parts.empty()) { // nothing was written into it
    t.segments.pop_back();
    --t.next_msn;
    return;
  }
  auto done = std::make_shared<segment>(*t.segments.back());
  done->complete = true;
  ++version_;
  t.segments.back() = std::move(done);
  if (opts_.on_segment)
    out.push_back([f = opts_.on_segment, r, seg = std::shared_ptr<const segment>{t.segments.back()}] { f(r, *seg); });
  std::size_t complete = 0;
  for (const auto& s : t.segments)
    complete += s->complete ? 1 : 0;
  while (complete > opts_.window_segments) {
    t.segments.pop_front();
    --complete;
  }
  collect_locked(r, out);
  check_ready_locked(out);
}

void stream::check_ready_locked(fired& out) {
  if (ready_)
    return;
  for (const auto& t : tracks_)
    if (std::none_of(t.segments.begin(), t.segments.end(), [](const auto& s) { return s->complete; }))
      return;
  ready_ = true;
  if (on_ready_)
    out.push_back(std::move(on_ready_));
}

void stream::new_period() {
  std::lock_guard lock{mu_};
  period_pending_ = true;
}

void stream::end() {
  fired out;
  {
    std::lock_guard lock{mu_};
    if (ended_)
      return;
    for (std::size_t r = 0; r < tracks_.size(); ++r) {
      auto& t = tracks_[r];
      if (t.held) {
        auto held = std::move(*t.held);
        t.held.reset();
        accept_locked(t, r, held, static_cast<std::uint32_t>(std::max<std::int64_t>(t.last_duration, 1)),
                      t.held_wall_ms, out);
      }
      close_part_locked(t, r, out);
      complete_segment_locked(t, r, out);
    }
    ended_ = true;
    ++version_;
    for (auto& w : waiters_)
      if (!w->done.exchange(true))
        out.push_back(std::move(w->fire));
    waiters_.clear();
  }
  for (auto& f : out)
    f();
}

bool stream::satisfied_locked(std::size_t r, std::int64_t msn, int index) const {
  const auto& t = tracks_[r];
  if (t.segments.empty())
    return false;
  if (msn < t.segments.front()->msn)
    return true; // long past
  for (std::size_t i = 0; i < t.segments.size(); ++i) {
    const auto& s = *t.segments[i];
    if (s.msn != msn)
      continue;
    if (index >= 0 && static_cast<std::size_t>(index) < s.parts.size())
      return true;
    if (!s.complete)
      return false;
    if (index < 0)
      return true; // the whole segment
    // The part asked for will never come (the segment ended before it, as a preload hint may
    // name one too many): the next segment's first part stands in for it, as LL-HLS asks.
    return i + 1 < t.segments.size() && !t.segments[i + 1]->parts.empty();
  }
  return false;
}

void stream::collect_locked(std::size_t r, fired& out) {
  auto keep = waiters_.begin();
  for (auto it = waiters_.begin(); it != waiters_.end(); ++it) {
    auto& w = *it;
    if (w->done.load()) // cancelled
      continue;
    if (w->rendition == r && satisfied_locked(r, w->msn, w->index)) {
      if (!w->done.exchange(true))
        out.push_back(std::move(w->fire));
      continue;
    }
    *keep++ = std::move(w);
  }
  waiters_.erase(keep, waiters_.end());
}

stream::waiter_ptr stream::when(std::size_t r, std::int64_t msn, int index, std::function<void()> fire) {
  auto w = std::make_shared<waiter>();
  w->rendition = r;
  w->msn = msn;
  w->index = index;
  {
    std::lock_guard lock{mu_};
    if (!ended_ && !satisfied_locked(r, msn, index)) {
      w->fire = std::move(fire);
      waiters_.push_back(w);
      return w;
    }
    w->done = true;
  }
  fire();
  return w;
}

void stream::cancel(const waiter_ptr& w) {
  if (w)
    w->done = true; // dropped from the list at the next collection
}

void stream::on_ready(std::function<void()> fn) {
  bool now = false;
  {
    std::lock_guard lock{mu_};
    if (ready_)
      now = true;
    else
      on_ready_ = std::move(fn);
  }
  if (now)
    fn();
}

stream_view stream::view() const {
  stream_view v;
  v.opts = opts_;
  std::lock_guard lock{mu_};
  v.origin_ms = origin_ms_;
  v.availability_start_ms = wall_origin_ms_;
  v.ended = ended_;
  v.renditions.reserve(tracks_.size());
  for (std::size_t r = 0; r < tracks_.size(); ++r) {
    const auto& t = tracks_[r];
    rendition_view rv;
    rv.desc = t.desc;
    rv.config = t.config;
    for (const auto& s : t.segments)
      rv.segments.push_back(s);
    const auto e = edge_locked(r);
    rv.next_msn = e.next_msn;
    rv.next_part = e.next_part;
    v.renditions.push_back(std::move(rv));
  }
  return v;
}

stream::edge stream::edge_locked(std::size_t r) const {
  const auto& t = tracks_[r];
  if (!t.segments.empty() && !t.segments.back()->complete)
    return {t.segments.back()->msn, static_cast<int>(t.segments.back()->parts.size()), ended_};
  return {t.next_msn, 0, ended_};
}

stream::edge stream::live_edge(std::size_t r) const {
  std::lock_guard lock{mu_};
  return r < tracks_.size() ? edge_locked(r) : edge{0, 0, ended_};
}

bytes_ptr stream::init(std::size_t r) const {
  std::lock_guard lock{mu_};
  return r < tracks_.size() ? tracks_[r].init : nullptr;
}

std::optional<part> stream::find_part(std::size_t r, std::int64_t msn, int index) const {
  std::lock_guard lock{mu_};
  if (r >= tracks_.size() || index < 0)
    return std::nullopt;
  for (const auto& s : tracks_[r].segments)
    if (s->msn == msn)
      return static_cast<std::size_t>(index) < s->parts.size() ? std::optional<part>{s->parts[index]} : std::nullopt;
  return std::nullopt;
}

std::shared_ptr<const segment> stream::find_segment(std::size_t r, std::int64_t msn) const {
  std::lock_guard lock{mu_};
  if (r >= tracks_.size())
    return nullptr;
  for (const auto& s : tracks_[r].segments)
    if (s->msn == msn)
      return s;
  return nullptr;
}

bool stream::ready() const {
  std::lock_guard lock{mu_};
  return ready_;
}

bool stream::ended() const {
  std::lock_guard lock{mu_};
  return ended_;
}

std::shared_ptr<const std::string> stream::memo(std::size_t key,
                                                const std::function<std::string(const stream_view&)>& make) {
  std::uint64_t at = 0;
  {
    std::lock_guard lock{mu_};
    if (auto it = memos_.find(key); it != memos_.end() && it->second.first == version_)
      return it->second.second;
    at = version_;
  }
  auto text = std::make_shared<const std::string>(make(view()));
  std::lock_guard lock{mu_};
  // Kept only if nothing changed meanwhile (the view it was made from is still the stream's).
  if (version_ == at)
    memos_[key] = {at, text};
  return text;
}

std::size_t stream::held_bytes() const {
  std::lock_guard lock{mu_};
  std::size_t n = 0;
  for (const auto& t : tracks_) {
    for (const auto& s : t.segments)
      n += s->size();
    n += t.init ? t.init->size() : 0;
  }
  return n;
}

} // namespace onair::media::cmaf
