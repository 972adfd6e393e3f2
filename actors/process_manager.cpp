#include "actors/process_manager.hpp"

#include <spdlog/spdlog.h>

#include "actors/log_context.hpp"
#include "actors/runtime.hpp"
#include "storage/personal_data.hpp"

namespace onair::actors {

using namespace onair::domain;

process_manager::process_manager(runtime& rt, std::size_t threads) : rt_(rt) {
  for (std::size_t i = 0; i < threads; ++i)
    threads_.emplace_back([this] {
      for (;;) {
        job j;
        {
          std::unique_lock lock{mu_};
          cv_.wait(lock, [this] { return stopping_ || !ready_.empty(); });
          if (ready_.empty())
            return;
          j = std::move(ready_.front());
          ready_.pop_front();
          ++running_;
        }
        j.run();
        std::lock_guard lock{mu_};
        --running_;
        if (!j.lane.empty()) {
          // The lane's next job, if any, may start now.
          auto it = lanes_.find(j.lane);
          if (it->second.empty()) {
            lanes_.erase(it);
          } else {
            ready_.push_back(job{std::move(j.lane), std::move(it->second.front())});
            it->second.pop_front();
            cv_.notify_one();
          }
        }
        if (ready_.empty() && running_ == 0)
          idle_cv_.notify_all();
      }
    });
}

process_manager::~process_manager() {
  {
    std::lock_guard lock{mu_};
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    t.join();
}

void process_manager::wait_idle() {
  std::unique_lock lock{mu_};
  idle_cv_.wait(lock, [this] { return ready_.empty() && running_ == 0; });
}

void process_manager::post(std::function<void()> run) {
  {
    std::lock_guard lock{mu_};
    ready_.push_back(job{{}, std::move(run)});
  }
  cv_.notify_one();
}

void process_manager::post(std::string lane, std::function<void()> run) {
  {
    std::lock_guard lock{mu_};
    auto [it, idle] = lanes_.try_emplace(lane);
    if (!idle) {
      it->second.push_back(std::move(run)); // behind the lane's job in ready_ or running
      return;
    }
    ready_.push_back(job{std::move(lane), std::move(run)});
  }
  cv_.notify_one();
}

namespace {

// Refusals are final; anything else (storage, timeouts) leaves the flow open for a later resume.
bool is_refusal(const error& e) {
  return e.code != error_code::storage_failure && e.code != error_code::timeout && e.code != error_code::internal;
}

template <class R>
status to_status(const R& r) {
  if (r)
    return ok_status();
  return r.error();
}

} // namespace

result<flow> process_manager::run(app_id app, flow_kind kind, const flow_params& params, const provenance& who) {
  auto id = rt_.next_id();
  if (!id)
    return id.error();
  log_context::scope logged{who.request_id};
  auto begun = rt_.ask_sync<flow_aggregate>({app, std::to_string(*id)}, begin_flow{kind, params}, who);
  if (!begun)
    return begun.error();
  spdlog::info("flow started app={} flow={} kind={} room={} key={}", app, *id, to_string(kind), params.room_id,
               params.stream_key_id);
  return drive(app, *id, begun->state, who);
}

result<flow> process_manager::resume(app_id app, std::int64_t flow_id) {
  const address self{app, std::to_string(flow_id)};
  auto current = rt_.get_sync<flow_aggregate>(self);
  if (!current)
    return current.error();
  // Whoever began it, as its first event recorded.
  auto who = provenance::system("recovery", stream_of<flow_aggregate>(self));
  if (auto first = rt_.store().read_stream(stream_of<flow_aggregate>(self), 1); first && !first->empty()) {
    if (auto began = storage::decode_json<provenance>(first->front().meta.empty() ? "{}" : first->front().meta,
                                                      "flow provenance"))
      who = std::move(began).value();
  }
  log_context::scope logged{who.request_id};
  spdlog::info("flow resumed app={} flow={} kind={} steps_done={}", app, flow_id, to_string(current->state.kind),
               current->state.steps_done);
  return drive(app, flow_id, current->state, who);
}

result<flow> process_manager::drive(app_id app, std::int64_t flow_id, flow f, const provenance& starter) {
  const address self{app, std::to_string(flow_id)};
  // The flow's own events and its steps' are caused by the flow.
  const auto who = starter.caused_by(stream_of<flow_aggregate>(self));
  while (auto step = f.next_step()) {
    auto done = execute(app, f, *step, who);
    if (!done) {
      const auto& err = done.error();
      if (!is_refusal(err)) {
        spdlog::warn("flow app={} flow={} step={} stopped, will resume: {}", app, flow_id, to_string(*step),
                     err.message);
        return err;
      }
      if (f.steps_done > 0)
        spdlog::error("flow app={} flow={} step={} refused after {} steps had effect: {} {}", app, flow_id,
                      to_string(*step), f.steps_done, to_string(err.code), err.message);
      auto failed =
          rt_.ask_sync<flow_aggregate>(self, fail_flow{std::string{to_string(err.code)}, err.message}, who);
      if (!failed)
        return failed.error();
      return err;
    }
    auto recorded = rt_.ask_sync<flow_aggregate>(self, complete_step{*step}, who);
    if (!recorded)
      return recorded.error();
    f = recorded->state;
  }
  if (f.status == flow_status::failed) {
    error_code code = error_code::internal;
    if (!from_string(f.error_code, code))
      code = error_code::internal;
    return make_error(code, f.error_message);
  }
  spdlog::info("flow completed app={} flow={} kind={}", app, flow_id, to_string(f.kind));
  return f;
}

status process_manager::execute(app_id app, const flow& f, flow_step step, const provenance& who) {
  const auto& p = f.params;
  const address key{app, std::to_string(p.stream_key_id)};
  const address room{app, std::to_string(p.room_id)};
  const address bcast{app, std::to_string(p.broadcast_id)};
  const bool forced = f.kind != flow_kind::end_live;
  switch (step) {
  case flow_step::attach_key:
    return to_status(rt_.ask_sync<stream_key_aggregate>(key, attach_live{p.room_id}, who));
  case flow_step::start_broadcast: {
    auto started = rt_.ask_sync<broadcast_aggregate>(
        bcast, start_broadcast{p.broadcast_id, p.room_id, p.stream_key_id, p.member_id, p.mode}, who);
    if (!started)
      return started.error();
    // The publisher already on air is the broadcast's first ingest session.
    auto k = rt_.get_sync<stream_key_aggregate>(key);
    if (!k)
      return k.error();
    if (k->state.session_id.empty() || !has_publisher(k->state.state))
      return ok_status();
    return to_status(rt_.ask_sync<broadcast_aggregate>(bcast, ingest_session_started{k->state.session_id}, who));
  }
  case flow_step::start_room:
    return to_status(rt_.ask_sync<video_room_aggregate>(room, start_live{p.stream_key_id, p.broadcast_id, p.mode}, who));
  case flow_step::detach_key:
    return to_status(rt_.ask_sync<stream_key_aggregate>(key, detach_live{p.room_id}, who));
  case flow_step::force_end_key:
    return to_status(rt_.ask_sync<stream_key_aggregate>(key, force_end{p.reason}, who));
  case flow_step::end_broadcast:
    return to_status(rt_.ask_sync<broadcast_aggregate>(bcast, end_broadcast{forced}, who));
  case flow_step::create_post: {
    auto r = rt_.get_sync<video_room_aggregate>(room);
    if (!r)
      return r.error();
    const auto& rs = r->state;
    create_post cmd;
    cmd.id = p.video_post_id;
    cmd.room_id = rs.id;
    cmd.room_title = rs.title;
    cmd.member_id = rs.member_id;
    cmd.app_user_id = rs.app_user_id;
    cmd.app_user_name = rs.app_user_name;
    cmd.title = rs.title;
    cmd.broadcast_id = p.broadcast_id;
    return to_status(rt_.ask_sync<video_post_aggregate>({app, std::to_string(p.video_post_id)}, cmd, who));
  }
  case flow_step::end_room:
    return to_status(rt_.ask_sync<video_room_aggregate>(room, end_live{forced, p.video_post_id}, who));
  case flow_step::revoke_key:
    return to_status(rt_.ask_sync<stream_key_aggregate>(key, revoke_key{}, who));
  case flow_step::delete_member:
    return to_status(rt_.ask_sync<member_aggregate>({app, p.app_user_id}, domain::delete_member{}, who));
  case flow_step::destroy_personal_keys: {
    auto destroyed = rt_.store().personal_keys().destroy(app, p.app_user_id);
    if (!destroyed)
      return destroyed.error();
    spdlog::info("personal data keys destroyed app={} member={} keys={}", app, p.member_id, *destroyed);
    rt_.reload_personal_data(app);
    return ok_status();
  }
  case flow_step::erase_member:
    return to_status(rt_.ask_sync<member_aggregate>({app, p.app_user_id}, domain::erase_member{}, who));
  }
  return make_error(error_code::internal, "unknown flow step");
}

} // namespace onair::actors
