#include "actors/recordings.hpp"

#include <charconv>

#include <spdlog/spdlog.h>

#include "actors/stream_names.hpp"
#include "media/record/recorder.hpp"
#include "storage/views.hpp"

namespace onair::actors {

using domain::broadcast_aggregate;

namespace {

std::vector<domain::recording_part> parts_of(const media::record::progress& p) {
  std::vector<domain::recording_part> out;
  for (const auto& part : p.parts)
    out.push_back(domain::recording_part{.index = part.index,
                                         .file = part.file,
                                         .video_codec = part.video_codec,
                                         .audio_codec = part.audio_codec,
                                         .width = part.width,
                                         .height = part.height,
                                         .bytes = static_cast<std::int64_t>(part.bytes),
                                         .start_ms = part.start_ms,
                                         .end_ms = part.end_ms});
  return out;
}

} // namespace

// The runtime's observer and the recorders' listeners outlive this object; they reach it here.
struct recordings_guard {
  std::mutex mu;
  recordings* self = nullptr;
};

namespace {

// A recorder's reports, as commands to its broadcast's actor (from the recorder's thread, in order).
class broadcast_listener final : public media::record::listener {
public:
  broadcast_listener(runtime& rt, domain::app_id app, std::int64_t id, std::shared_ptr<recordings_guard> guard,
                     std::function<void()> done, media::counters* stats)
      : rt_{rt}, app_{app}, id_{id}, guard_{std::move(guard)}, done_{std::move(done)}, stats_{stats} {}

  void on_part_started(const media::record::progress& p) override { tell(domain::record_progress{parts_of(p)}); }
  void on_paused(const media::record::progress& p) override { tell(domain::record_progress{parts_of(p)}); }
  void on_finished(const media::record::progress& p) override {
    tell(domain::complete_recording{parts_of(p)});
    finished();
  }
  void on_failed(const media::record::progress& p, std::string_view error) override {
    spdlog::error("recording of broadcast failed app={} broadcast={} error=\"{}\"", app_, id_, error);
    if (stats_)
      media::counters::add(stats_->recordings_failed);
    tell(domain::fail_recording{parts_of(p), std::string{error}});
    finished();
  }

private:
  [[nodiscard]] std::string broadcast_stream() const {
    return "broadcast/" + std::to_string(app_) + "/" + std::to_string(id_);
  }
  void tell(broadcast_aggregate::command cmd) {
    {
      std::lock_guard lock{guard_->mu};
      if (!guard_->self)
        return; // onair is stopping: the next start takes the recording up from its journal
    }
    if (auto r = rt_.ask_sync<broadcast_aggregate>({app_, std::to_string(id_)}, std::move(cmd),
                                                   domain::provenance::system("recorder", broadcast_stream()));
        !r)
      spdlog::warn("recording progress not recorded app={} broadcast={} error=\"{}\"", app_, id_, r.error().message);
  }
  void finished() {
    if (done_)
      done_();
  }

  runtime& rt_;
  domain::app_id app_;
  std::int64_t id_;
  std::shared_ptr<recordings_guard> guard_;
  std::function<void()> done_;
  media::counters* stats_;
};

} // namespace

recordings::recordings(runtime& rt, ingest& in, std::filesystem::path data_dir, media::counters* stats)
    : rt_{rt}, ingest_{in}, data_dir_{std::move(data_dir)}, stats_{stats}, guard_{std::make_shared<recordings_guard>()} {
  guard_->self = this;
  rt_.observe([guard = guard_](std::string_view stream, std::string_view type) {
    std::lock_guard lock{guard->mu};
    if (guard->self)
      guard->self->on_durable(stream, type);
  });
}

recordings::~recordings() {
  {
    std::lock_guard lock{guard_->mu};
    guard_->self = nullptr;
  }
  std::map<key, entry> all;
  {
    std::lock_guard lock{mu_};
    stopping_ = true;
    all.swap(active_);
  }
  for (auto& [k, e] : all) {
    e.hub->detach(e.tap, true); // what the recorder was given is written (and synced when its publisher left)
    if (stats_)
      media::counters::add(stats_->recordings_active, -1);
  }
}

std::string recordings::folder(domain::app_id app, std::int64_t broadcast_id) {
  return "recordings/" + std::to_string(app) + "/" + std::to_string(broadcast_id);
}

std::size_t recordings::active() const {
  std::lock_guard lock{mu_};
  return active_.size();
}

void recordings::on_durable(std::string_view stream, std::string_view type) {
  // A broadcast that starts is recorded; one that ends with its recording still open and no
  // recorder on it (its key was not live when the recorder was to be attached) is finished.
  if (type != domain::broadcast_started::type && type != domain::broadcast_ended::type)
    return;
  if (auto b = parse_stream(stream, broadcast_aggregate::category))
    rt_.post([guard = guard_, app = b->first, id = b->second] {
      // Not held across start(): its commands' observers take the same lock. The server drains
      // the runtime's jobs before it destroys this object.
      recordings* self = nullptr;
      {
        std::lock_guard lock{guard->mu};
        self = guard->self;
      }
      if (self)
        self->start(app, id);
    });
}

void recordings::resume() {
  std::size_t taken_up = 0;
  for (const auto& e : storage::members_of(rt_.views(), "open_recording")) {
    std::int64_t id = 0;
    if (std::from_chars(e.where.id.data(), e.where.id.data() + e.where.id.size(), id).ec != std::errc{})
      continue;
    start(e.where.app, id);
    ++taken_up;
  }
  if (taken_up > 0)
    spdlog::info("recordings taken up after a restart count={}", taken_up);
}

void recordings::start(domain::app_id app, std::int64_t id) {
  const key k{app, id};
  {
    std::lock_guard lock{mu_};
    if (stopping_ || active_.contains(k) || starting_.contains(k))
      return;
    starting_.insert(k); // one recorder per folder, even when its start and end race
  }
  struct unmark {
    recordings& self;
    key k;
    ~unmark() {
      std::lock_guard lock{self.mu_};
      self.starting_.erase(k);
    }
  } starting{*this, k};
  auto b = rt_.get_sync<broadcast_aggregate>({app, std::to_string(id)});
  if (!b || !b->state.exists) {
    spdlog::warn("recording not started: broadcast not found app={} broadcast={}", app, id);
    return;
  }
  const auto& bs = b->state;
  if (bs.recording.state == domain::recording_state::complete || bs.recording.state == domain::recording_state::failed)
    return;
  if (bs.recording.state == domain::recording_state::not_started && bs.state == domain::broadcast_state::ended)
    return; // ended before anything could be recorded
  const auto rel = folder(app, id);
  if (auto r = rt_.ask_sync<broadcast_aggregate>(
          {app, std::to_string(id)}, domain::start_recording{rel},
          domain::provenance::system("recorder", "broadcast/" + std::to_string(app) + "/" + std::to_string(id)));
      !r) {
    spdlog::warn("recording not started app={} broadcast={} error=\"{}\"", app, id, r.error().message);
    return;
  }
  media::record::recorder_options o;
  o.dir = data_dir_ / rel;
  auto done = [guard = guard_, app, id, &rt = rt_] {
    rt.post([guard, app, id] {
      recordings* self = nullptr;
      {
        std::lock_guard lock{guard->mu};
        self = guard->self;
      }
      if (self)
        self->forget(app, id);
    });
  };
  auto listener = std::make_shared<broadcast_listener>(rt_, app, id, guard_, done, stats_);
  auto rec = std::make_shared<media::record::recorder>(o, listener);

  std::shared_ptr<media::fanout::hub> hub;
  if (bs.state == domain::broadcast_state::live)
    hub = ingest_.open_live_hub(app, bs.stream_key_id);
  if (!hub) {
    auto now = rt_.get_sync<broadcast_aggregate>({app, std::to_string(id)});
    if (!now || now->state.state != domain::broadcast_state::ended) {
      // Its key is not on air: the recording waits for the broadcast's end to be finished.
      spdlog::warn("recording waits: the key of the broadcast is not on air app={} broadcast={} key={}", app, id,
                   bs.stream_key_id);
      return;
    }
    // The broadcast is over (it ended while onair was down, or just now): what was synced is the
    // recording; it is finished here.
    spdlog::info("recording finished from what was synced app={} broadcast={}", app, id);
    rec->on_closed();
    return;
  }
  const std::string name = "recorder app=" + std::to_string(app) + " broadcast=" + std::to_string(id);
  auto tap = hub->attach(rec, {.name = name, .policy = media::fanout::delivery::lossless});
  {
    std::lock_guard lock{mu_};
    active_[k] = entry{hub, tap};
  }
  if (stats_)
    media::counters::add(stats_->recordings_active);
  spdlog::info("recording started app={} broadcast={} key={} folder={}", app, id, bs.stream_key_id, rel);
}

void recordings::forget(domain::app_id app, std::int64_t id) {
  entry e;
  {
    std::lock_guard lock{mu_};
    const auto it = active_.find({app, id});
    if (it == active_.end())
      return;
    e = std::move(it->second);
    active_.erase(it);
  }
  e.hub->detach(e.tap);
  if (stats_)
    media::counters::add(stats_->recordings_active, -1);
}

} // namespace onair::actors
