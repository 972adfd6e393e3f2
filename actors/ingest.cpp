#include "actors/ingest.hpp"

#include <charconv>
#include <condition_variable>
#include <deque>
#include <random>
#include <thread>

#include <pthread.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "actors/stream_names.hpp"
#include "domain/app.hpp"
#include "domain/stream_key.hpp"
#include "domain/video_room.hpp"
#include "media/rtmp/server.hpp"
#include "storage/views.hpp"

namespace onair::actors {

using domain::key_state;
using domain::stream_key_aggregate;

namespace {

std::string random_boot_id() {
  std::random_device rd;
  static constexpr char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string out;
  for (int i = 0; i < 8; ++i)
    out += digits[rd() % 36];
  return out;
}

} // namespace

// The observer registered with the runtime outlives this object; it reaches it through here.
struct ingest_guard {
  std::mutex mu;
  ingest* self = nullptr;
};

// One thread for the publishes' key lookups (RocksDB reads), in the order asked: not the
// runtime's, which flows hold while they wait on actors.
class ingest_lookups {
public:
  ingest_lookups()
      : thread_([this] {
          pthread_setname_np(pthread_self(), "ingest-lookup");
          run();
        }) {}
  ~ingest_lookups() {
    {
      std::lock_guard lock{mu_};
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void post(std::function<void()> task) {
    {
      std::lock_guard lock{mu_};
      queue_.push_back(std::move(task));
    }
    cv_.notify_all();
  }
  // Returns once every task posted before it has run.
  void wait_idle() {
    std::unique_lock lock{mu_};
    idle_.wait(lock, [this] { return queue_.empty() && !running_; });
  }

private:
  void run() {
    std::unique_lock lock{mu_};
    for (;;) {
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty())
        return;
      auto task = std::move(queue_.front());
      queue_.pop_front();
      running_ = true;
      lock.unlock();
      task();
      task = nullptr; // what it holds goes before the next task runs
      lock.lock();
      running_ = false;
      if (queue_.empty())
        idle_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_, idle_;
  std::deque<std::function<void()>> queue_;
  bool running_ = false;
  bool stopping_ = false; // what is queued still runs
  std::thread thread_;    // last: started once the rest is built
};

ingest::ingest(runtime& rt, media::fanout::registry& hubs)
    : rt_(rt), hubs_(hubs), boot_(random_boot_id()), index_(std::make_shared<playback_index>()),
      lookups_(std::make_unique<ingest_lookups>()), guard_(std::make_shared<ingest_guard>()) {
  guard_->self = this;
  // The index's observer first: a key that stops playing is refused before on_durable closes its
  // hub. Followed before it loads, so that nothing committed in between is missed.
  playback_index::follow(rt_, index_);
  index_->load(rt_.views());
  rt_.observe([guard = guard_](std::string_view stream, std::string_view type) {
    std::lock_guard lock{guard->mu};
    if (guard->self)
      guard->self->on_durable(stream, type);
  });
}

ingest::~ingest() {
  // The lookups in hand are put to their keys, and what that queued on the runtime is done,
  // before what their callbacks use goes.
  lookups_.reset();
  rt_.drain();
  std::lock_guard lock{guard_->mu};
  guard_->self = nullptr;
}

void ingest::attach(media::rtmp::server* server) {
  {
    std::lock_guard lock{mu_};
    server_ = server;
  }
  if (!server)
    lookups_->wait_idle();
}

void ingest::watch_streams(std::function<void(const stream_started&)> watcher) {
  watchers_.push_back(std::move(watcher));
}

void ingest::admit_streams(admission admit) { admit_ = std::move(admit); }

std::string ingest::hub_name(domain::app_id app, std::int64_t key_id) {
  return "key/" + std::to_string(app) + "/" + std::to_string(key_id);
}

std::optional<ingest::publishing> ingest::find(std::uint64_t session_id) const {
  std::lock_guard lock{mu_};
  auto it = sessions_.find(session_id);
  if (it == sessions_.end())
    return std::nullopt;
  return it->second;
}

void ingest::authorize_publish(const media::rtmp::publish_request& req,
                               std::function<void(media::rtmp::publish_decision)> answer) {
  lookups_->post([this, req, answer = std::move(answer)]() mutable { decide_publish(req, std::move(answer)); });
}

// On the lookup thread: the key is looked up in the views, and its actor decides.
void ingest::decide_publish(const media::rtmp::publish_request& req,
                            std::function<void(media::rtmp::publish_decision)> answer) {
  const auto refuse = [&answer, &req](const std::string& why) {
    spdlog::info("rtmp publish refused session={} peer={} reason=\"{}\"", req.session_id, req.peer_address, why);
    answer({nullptr, why});
  };
  if (req.app != "live")
    return refuse("publish under /live/{streamKey}");
  const auto where = storage::find_by(rt_.views(), "key_value", req.stream_key);
  if (!where)
    return refuse("unknown stream key");
  std::int64_t key_id = 0;
  if (std::from_chars(where->id.data(), where->id.data() + where->id.size(), key_id).ec != std::errc{})
    return refuse("unknown stream key");
  domain::connect_publisher cmd;
  cmd.presented_value = req.stream_key;
  if (!req.mode.empty()) {
    domain::output_mode m{};
    if (!domain::from_string(req.mode, m))
      return refuse("mode must be RTMP, CMAF or RTMP_CMAF");
    cmd.requested_mode = m;
  }
  if (auto app_key = storage::find_by(rt_.views(), "app_id", std::to_string(where->app)))
    if (auto app = storage::get_view<domain::app_aggregate>(rt_.views(), 0, app_key->id))
      cmd.app_default_mode = app->state.default_mode;
  if (admit_) {
    if (auto key = storage::get_view<stream_key_aggregate>(rt_.views(), where->app, where->id)) {
      const auto mode = domain::publish_mode(key->state, cmd.requested_mode, cmd.app_default_mode);
      if (auto why = admit_(where->app, key_id, mode)) {
        // Kept as the key's error, so its owner sees why the encoder was turned away.
        rt_.key_command(where->app, key_id, domain::report_key_error{{}, "PUBLISH_REFUSED", *why},
                        provenance_of({}, req.peer_address), [](domain::result<outcome<stream_key_aggregate>>) {});
        return refuse(*why);
      }
    }
  }
  cmd.remote_addr = req.peer_address;
  cmd.session_id = "rtmp-" + boot_ + "-" + std::to_string(req.session_id);
  if (req.publish_number > 1) // the same connection publishing again: a session of its own
    cmd.session_id += "-" + std::to_string(req.publish_number);
  const auto app = where->app;
  const auto sid = req.session_id;
  const auto session = cmd.session_id;
  // The answer comes within the key's lane, before any later job of its member (a forced end,
  // End Live) can close the hub opened here or look for this session to cut.
  rt_.key_command(app, key_id, std::move(cmd), provenance_of(session, req.peer_address),
                  [this, app, key_id, sid, session, answer = std::move(answer),
                   peer = req.peer_address](domain::result<outcome<stream_key_aggregate>> r) {
                    if (!r) {
                      spdlog::info("rtmp publish refused session={} peer={} key={} reason=\"{}\"", sid, peer, key_id,
                                   r.error().message);
                      // The encoder is told no more than that: a revoked key reads as an unknown
                      // one (lifecycle.md), and nothing names the key or the other session.
                      const auto code = r.error().code;
                      return answer({nullptr,
                                     code == domain::error_code::stream_key_not_publishable ? "unknown stream key"
                                     : code == domain::error_code::stream_key_in_use ? "stream key already publishing"
                                                                                     : "publish refused"});
                    }
                    {
                      std::lock_guard lock{mu_};
                      sessions_[sid] = publishing{app, key_id, session, r->state.mode, peer};
                      by_key_[{app, key_id}] = sid;
                    }
                    spdlog::info("rtmp publish accepted session={} peer={} app={} key={} state={}", sid, peer, app,
                                 key_id, domain::to_string(r->state.state));
                    hub_ptr hub;
                    {
                      std::lock_guard lock{hubs_mu_};
                      hub = hubs_.find_or_create(hub_name(app, key_id));
                    }
                    for (const auto& w : watchers_)
                      w(stream_started{app, key_id, r->state.mode, session, hub});
                    answer({std::move(hub), {}});
                  });
}

void ingest::on_first_keyframe(std::uint64_t session_id) {
  auto p = find(session_id);
  // Viewable "in its mode" (lifecycle.md): RTMP at the first key frame relayed; CMAF and RTMP_CMAF
  // once the CMAF packager has written a segment of every rendition, which it will report.
  if (!p || p->mode != domain::output_mode::rtmp)
    return;
  rt_.key_command(p->app, p->key_id, domain::mark_viewable{p->session}, p->who(),
                  [session_id](domain::result<outcome<stream_key_aggregate>> r) {
                    if (!r)
                      spdlog::warn("rtmp first key frame not recorded session={} error=\"{}\"", session_id,
                                   r.error().message);
                  });
}

void ingest::on_stats(std::uint64_t session_id, const media::rtmp::ingest_stats& s) {
  const auto p = find(session_id);
  if (!p)
    return;
  live_sample sample;
  sample.app = p->app;
  sample.key_id = p->key_id;
  sample.session = p->session;
  sample.at = rt_.svc().time->now();
  sample.ingest.video_codec = s.video_codec;
  sample.ingest.audio_codec = s.audio_codec;
  sample.ingest.width = s.width;
  sample.ingest.height = s.height;
  sample.ingest.fps = s.fps;
  sample.ingest.bitrate_kbps = s.bitrate_kbps;
  if (auto hub = hubs_.find(hub_name(p->app, p->key_id)))
    sample.fanout = hub->health_now();
  bool record = false;
  {
    std::lock_guard lock{mu_};
    auto it = sessions_.find(session_id);
    if (it == sessions_.end())
      return;
    record = it->second.audit.record(sample.ingest, sample.at);
    it->second.live = sample;
  }
  for (const auto& w : sample_watchers_)
    w(sample);
  if (!record)
    return;
  domain::update_ingest_stats cmd;
  cmd.session_id = p->session;
  cmd.ingest = sample.ingest;
  rt_.key_command(p->app, p->key_id, std::move(cmd), p->who(), [](domain::result<outcome<stream_key_aggregate>>) {});
}

std::optional<ingest::live_sample> ingest::live_stats(domain::app_id app, std::int64_t key_id) const {
  std::lock_guard lock{mu_};
  const auto k = by_key_.find({app, key_id});
  if (k == by_key_.end())
    return std::nullopt;
  const auto it = sessions_.find(k->second);
  return it == sessions_.end() ? std::nullopt : it->second.live;
}

std::string ingest::prometheus_text() const {
  std::vector<live_sample> live;
  {
    std::lock_guard lock{mu_};
    for (const auto& [id, p] : sessions_)
      if (p.live)
        live.push_back(*p.live);
  }
  std::string out;
  const auto gauge = [&](const char* name, const char* help, auto value_of) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", name, help, name);
    for (const auto& s : live)
      out += fmt::format("{}{{app=\"{}\",stream_key=\"{}\"}} {}\n", name, s.app, s.key_id, value_of(s));
  };
  gauge("onair_ingest_bitrate_kbps", "a publisher's bitrate as last measured",
        [](const live_sample& s) { return s.ingest.bitrate_kbps; });
  gauge("onair_ingest_fps", "a publisher's frame rate as last measured", [](const live_sample& s) { return s.ingest.fps; });
  gauge("onair_ingest_rtmp_viewers", "RTMP players of a publisher's stream",
        [](const live_sample& s) { return s.fanout.rtmp_viewers; });
  gauge("onair_ingest_http_flv_viewers", "HTTP-FLV players of a publisher's stream",
        [](const live_sample& s) { return s.fanout.http_flv_viewers; });
  return out;
}

void ingest::watch_samples(std::function<void(const live_sample&)> sink) { sample_watchers_.push_back(std::move(sink)); }

void ingest::on_publish_end(std::uint64_t session_id, std::string_view reason) {
  std::optional<publishing> p;
  {
    std::lock_guard lock{mu_};
    auto it = sessions_.find(session_id);
    if (it == sessions_.end())
      return;
    p = it->second;
    sessions_.erase(it);
    auto k = by_key_.find({p->app, p->key_id});
    if (k != by_key_.end() && k->second == session_id)
      by_key_.erase(k);
  }
  const auto app = p->app;
  const auto key_id = p->key_id;
  rt_.key_command(app, key_id, domain::disconnect_publisher{p->session, std::string{reason}}, p->who(),
                  [this, app, key_id, session_id](domain::result<outcome<stream_key_aggregate>> r) {
                    if (!r) {
                      spdlog::warn("rtmp publisher gone, not recorded session={} error=\"{}\"", session_id,
                                   r.error().message);
                      return;
                    }
                    // Not in a live room: the preview is over. In one (INACTIVE_LIVE) the hub stays for
                    // the publisher to come back to.
                    if (r->state.state == key_state::inactive)
                      close_hub(app, key_id);
                  });
}

std::optional<std::pair<domain::app_id, std::int64_t>> ingest::playback_key(const std::string& playback_id) {
  if (auto s = index_->find(playback_id))
    return std::pair{s->app, s->key_id};
  return std::nullopt;
}

ingest::hub_ptr ingest::open_playback_now(const std::string& playback_id) {
  std::lock_guard lock{hubs_mu_};
  if (auto key = playback_key(playback_id))
    return hubs_.find_or_create(hub_name(key->first, key->second));
  return nullptr;
}

ingest::hub_ptr ingest::open_live_hub(domain::app_id app, std::int64_t key_id) {
  std::lock_guard lock{hubs_mu_};
  const auto state = index_->key_state(app, key_id);
  if (!state || !domain::is_live(*state))
    return nullptr;
  return hubs_.find_or_create(hub_name(app, key_id));
}

void ingest::open_playback(std::string playback_id, std::function<void(hub_ptr)> answer) {
  answer(open_playback_now(playback_id));
}

void ingest::resolve_play(const media::rtmp::play_request& req, std::function<void(media::rtmp::play_decision)> answer) {
  if (req.app != "play") {
    spdlog::info("rtmp play refused session={} peer={} app={}", req.session_id, req.peer_address, req.app);
    return answer({nullptr});
  }
  open_playback(req.playback_id,
                [answer = std::move(answer), sid = req.session_id, peer = req.peer_address, id = req.playback_id](hub_ptr hub) {
                  if (!hub)
                    spdlog::info("rtmp play refused session={} peer={} playback_id={}", sid, peer, id);
                  answer({std::move(hub)});
                });
}

void ingest::close_hub(domain::app_id app, std::int64_t key_id) {
  std::lock_guard lock{hubs_mu_};
  hubs_.erase(hub_name(app, key_id));
}

void ingest::on_durable(std::string_view stream, std::string_view type) {
  const bool ends_publisher = type == domain::force_ended::type || type == domain::key_revoked::type ||
                              type == domain::key_reissued::type;
  const bool ends_hub = ends_publisher || type == domain::live_detached::type;
  if (!ends_hub)
    return;
  auto key = parse_stream(stream, domain::stream_key_aggregate::category);
  if (!key)
    return;
  std::optional<std::uint64_t> cut;
  media::rtmp::server* server = nullptr;
  {
    std::lock_guard lock{mu_};
    if (ends_publisher) {
      if (auto it = by_key_.find(*key); it != by_key_.end())
        cut = it->second;
    }
    server = server_;
  }
  if (cut && server) {
    spdlog::info("rtmp publisher cut session={} app={} key={} because={}", *cut, key->first, key->second, type);
    server->disconnect_publisher(*cut); // thread-safe; the session ends through on_publish_end
  }
  // Viewers of a broadcast that is over (or cut) end with it.
  close_hub(key->first, key->second);
}

} // namespace onair::actors
