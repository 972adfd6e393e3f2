#include "actors/reconnect_windows.hpp"

#include <charconv>
#include <tuple>

#include <pthread.h>
#include <spdlog/spdlog.h>

#include "actors/stream_names.hpp"
#include "storage/views.hpp"

namespace onair::actors {

struct reconnect_windows::state {
  std::mutex mu;
  std::condition_variable cv;
  std::set<std::tuple<std::int64_t, domain::app_id, std::int64_t>> due; // (deadline ms, app, room)
  bool stopping = false;
  reconnect_windows* self = nullptr; // guarded by mu; null once stopping
};

reconnect_windows::reconnect_windows(runtime& rt, std::function<std::int64_t(domain::app_id)> window_s)
    : rt_{rt}, window_s_{std::move(window_s)}, state_{std::make_shared<state>()} {
  state_->self = this;
  rt_.observe([st = std::weak_ptr<state>{state_}, &rt](std::string_view stream, std::string_view type) {
    const bool paused = type == domain::live_paused::type;
    if (!paused && type != domain::app_settings_changed::type)
      return;
    auto s = st.lock();
    if (!s)
      return;
    const auto room = paused ? parse_stream(stream, domain::video_room_aggregate::category) : std::nullopt;
    // Off the actor's thread: the views are read there.
    rt.post([st, room] {
      auto s = st.lock();
      if (!s)
        return;
      std::lock_guard lock{s->mu};
      if (!s->self)
        return;
      if (room)
        s->self->watch(room->first, room->second);
      else
        s->self->watch_app(0); // a window changed: every room on air is looked at again
    });
  });
}

reconnect_windows::~reconnect_windows() {
  {
    std::lock_guard lock{state_->mu};
    state_->stopping = true;
    state_->self = nullptr;
  }
  state_->cv.notify_all();
  if (timer_.joinable())
    timer_.join();
}

std::int64_t reconnect_windows::window_of(const storage::kv_reader& views, domain::app_id app) {
  const auto where = storage::find_by(views, "app_id", std::to_string(app));
  if (!where)
    return 0;
  const auto a = storage::get_view<domain::app_aggregate>(views, where->app, where->id);
  return a ? a->state.reconnect_window_s : 0;
}

void reconnect_windows::start() {
  {
    std::lock_guard lock{state_->mu};
    watch_app(0);
  }
  timer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "reconnect-win");
    run();
  });
}

// Under state_->mu.
void reconnect_windows::watch(domain::app_id app, std::int64_t room_id) {
  const auto room = storage::get_view<domain::video_room_aggregate>(rt_.views(), app, std::to_string(room_id));
  if (!room)
    return;
  if (const auto deadline = domain::reconnect_deadline(room->state, window_s_(app))) {
    state_->due.emplace(deadline->ms, app, room_id);
    state_->cv.notify_one();
  }
}

// Under state_->mu. Every room on air (app 0: of every app).
void reconnect_windows::watch_app(domain::app_id app) {
  for (const auto& e : storage::members_of(rt_.views(), "live_room")) {
    if (app != 0 && e.where.app != app)
      continue;
    std::int64_t id = 0;
    if (std::from_chars(e.where.id.data(), e.where.id.data() + e.where.id.size(), id).ec == std::errc{})
      watch(e.where.app, id);
  }
}

void reconnect_windows::run() {
  std::unique_lock lock{state_->mu};
  for (;;) {
    if (state_->stopping)
      return;
    if (state_->due.empty()) {
      state_->cv.wait(lock);
      continue;
    }
    const auto [deadline, app, room_id] = *state_->due.begin();
    const auto now = rt_.svc().time->now().ms;
    if (deadline > now) {
      state_->cv.wait_for(lock, std::chrono::milliseconds{deadline - now});
      continue;
    }
    state_->due.erase(state_->due.begin());
    // Read again: the publisher may be back, the room ended, the window changed.
    const auto room = storage::get_view<domain::video_room_aggregate>(rt_.views(), app, std::to_string(room_id));
    const auto window = window_s_(app);
    const auto still = room ? domain::reconnect_deadline(room->state, window) : std::nullopt;
    if (!still)
      continue;
    if (still->ms > now) {
      state_->due.emplace(still->ms, app, room_id);
      continue;
    }
    spdlog::info("room ends: LIVE_INACTIVE past its app's reconnect window app={} room={} window_s={}", app, room_id,
                 window);
    lock.unlock();
    // Init-captures: clang 14 cannot capture a structured binding by name.
    rt_.end_live(app, room_id, false,
                 domain::provenance::system("reconnect-window", "video_room/" + std::to_string(app) + "/" +
                                                                    std::to_string(room_id)),
                 [a = app, id = room_id](domain::result<domain::flow> r) {
      if (!r)
        spdlog::warn("room not ended by its reconnect window app={} room={} error=\"{}\"", a, id, r.error().message);
    });
    lock.lock();
  }
}

} // namespace onair::actors
