#include "actors/runtime.hpp"

#include "storage/audit_chain.hpp"

#include <filesystem>
#include <thread>

#include <spdlog/spdlog.h>

#include "actors/process_manager.hpp"
#include "media/net/cores.hpp"
#include "storage/views.hpp"

namespace onair::actors {

using namespace onair::domain;

// Members register with fresh ids (member and stream key); updates burn none.
template <>
struct id_policy<member_aggregate> {
  static int ids_needed(const member_aggregate::command& c, const member_aggregate::state& s) {
    return std::holds_alternative<upsert_member>(c) && !s.present() ? 2 : 0;
  }
};
// A member's registration creates its stream key in the same atomic write: one commit for both,
// and no crash can leave a member without its key.
template <>
struct companion_policy<member_aggregate> {
  static result<std::vector<companion_append>> of(const address& a, const std::vector<member_aggregate::event>& events,
                                                  const services& svc) {
    std::vector<companion_append> out;
    for (const auto& ev : events) {
      const auto* reg = std::get_if<member_registered>(&ev);
      if (reg == nullptr)
        continue;
      auto ctx = svc.make_context(0);
      if (!ctx)
        return ctx.error();
      const create_key cmd{reg->stream_key_id, reg->id, reg->app_user_id, default_live_profile_id};
      auto key_events = stream_key_aggregate::decide(cmd, stream_key_aggregate::initial_state(), *ctx);
      if (!key_events)
        return key_events.error();
      companion_append c{stream_of<stream_key_aggregate>({a.app, std::to_string(reg->stream_key_id)}), {}};
      for (const auto& kev : *key_events)
        c.events.push_back(storage::encode_event(kev));
      out.push_back(std::move(c));
    }
    return out;
  }
};

template <>
struct id_policy<app_aggregate> {
  static int ids_needed(const app_aggregate::command& c, const app_aggregate::state& s) {
    return std::holds_alternative<create_app>(c) && !s.exists ? 1 : 0;
  }
};

template <>
registry_actor<app_aggregate> runtime::registry<app_aggregate>() { return apps_; }
template <>
registry_actor<member_aggregate> runtime::registry<member_aggregate>() { return members_; }
template <>
registry_actor<stream_key_aggregate> runtime::registry<stream_key_aggregate>() { return keys_; }
template <>
registry_actor<video_room_aggregate> runtime::registry<video_room_aggregate>() { return rooms_; }
template <>
registry_actor<broadcast_aggregate> runtime::registry<broadcast_aggregate>() { return broadcasts_; }
template <>
registry_actor<video_post_aggregate> runtime::registry<video_post_aggregate>() { return posts_; }
template <>
registry_actor<flow_aggregate> runtime::registry<flow_aggregate>() { return flows_; }

runtime::runtime(const options& opts) : opts_(opts) {}

namespace {

template <class A>
registry_actor<A> spawn_registry(caf::actor_system& sys, std::shared_ptr<const services> svc) {
  auto reg = sys.spawn(registry_behavior<A>, std::move(svc));
  return reg;
}

template <class A>
void stop_registry(registry_actor<A>& reg) {
  if (reg)
    caf::anon_send_exit(reg, caf::exit_reason::user_shutdown);
}

} // namespace

result<std::unique_ptr<runtime>> runtime::open(const options& opts) {
  std::unique_ptr<runtime> rt{new runtime(opts)};
  std::error_code ec;
  std::filesystem::create_directories(opts.data_dir, ec);
  if (ec)
    return make_error(error_code::storage_failure, "cannot create data folder " + opts.data_dir + ": " + ec.message());
  storage::event_store::options so;
  so.path = (std::filesystem::path{opts.data_dir} / "events").string();
  so.sync = opts.sync;
  so.signing_key_path = storage::audit::signing_key_path(opts.data_dir).string();
  auto store = storage::event_store::open(so);
  if (!store)
    return store.error();
  rt->store_ = std::move(store).value();
  rt->store_->set_projector(storage::make_projector());

  auto svc = std::make_shared<services>();
  svc->store = rt->store_.get();
  svc->time = opts.time ? opts.time : std::make_shared<system_clock>();
  svc->ids = std::make_shared<id_source>(*rt->store_);
  svc->idle_after = opts.idle_after;
  rt->svc_ = svc;

  rt->cfg_ = std::make_unique<caf::actor_system_config>();
  const auto threads = opts.worker_threads ? opts.worker_threads : std::max(2u, net::usable_cores().usable);
  rt->cfg_->set("scheduler.max-threads", threads);
  // An idle worker re-checks for work to steal every relaxed-sleep-duration (CAF's default 10 ms:
  // 100 wake-ups a second per worker, about 1% of a core on an idle server). Work enqueued from
  // outside (the HTTP and RTMP loops, the committer's completions) wakes a sleeping worker at once,
  // so a longer interval only delays stealing from a busy worker.
  rt->cfg_->set("work-stealing.relaxed-sleep-duration", caf::timespan{std::chrono::milliseconds{100}});
  rt->cfg_->add_error_category(error_category, render_error);
  rt->system_ = std::make_unique<caf::actor_system>(*rt->cfg_);
  auto& sys = *rt->system_;
  rt->apps_ = spawn_registry<app_aggregate>(sys, svc);
  rt->members_ = spawn_registry<member_aggregate>(sys, svc);
  rt->keys_ = spawn_registry<stream_key_aggregate>(sys, svc);
  rt->rooms_ = spawn_registry<video_room_aggregate>(sys, svc);
  rt->broadcasts_ = spawn_registry<broadcast_aggregate>(sys, svc);
  rt->posts_ = spawn_registry<video_post_aggregate>(sys, svc);
  rt->flows_ = spawn_registry<flow_aggregate>(sys, svc);
  rt->pm_ = std::make_unique<process_manager>(*rt, 2);
  return rt;
}

runtime::~runtime() {
  pm_.reset();
  stop_registry(apps_);
  stop_registry(members_);
  stop_registry(keys_);
  stop_registry(rooms_);
  stop_registry(broadcasts_);
  stop_registry(posts_);
  stop_registry(flows_);
  system_.reset(); // waits for every actor to finish
  store_.reset();  // drains the committer
}

std::size_t runtime::actors_alive() {
  caf::scoped_actor self{system()};
  std::size_t total = 0;
  auto add = [&](auto reg) {
    self->request(reg, std::chrono::seconds(5), count_atom::value)
        .receive([&](std::size_t n) { total += n; }, [](caf::error&) {});
  };
  add(apps_);
  add(members_);
  add(keys_);
  add(rooms_);
  add(broadcasts_);
  add(posts_);
  add(flows_);
  return total;
}

// ---- members: registration creates the member's stream key in the same write (see
// companion_policy<member_aggregate>). Members registered before that was so, and left without a
// key by a crash, are in the `pending_key` set; recover() creates their keys.
void runtime::upsert_member(app_id app, domain::upsert_member cmd, provenance who, callback<member_aggregate> done) {
  auto id = cmd.app_user_id;
  ask<member_aggregate>({app, std::move(id)}, std::move(cmd), std::move(who), std::move(done));
}

void runtime::post(std::function<void()> work) { pm_->post(std::move(work)); }

void runtime::drain() { pm_->wait_idle(); }

// ---- lanes
namespace {
std::string key_lane(app_id app, std::int64_t key_id) { return std::to_string(app) + "/key/" + std::to_string(key_id); }
} // namespace

void runtime::in_key_lane(app_id app, std::int64_t key_id, std::function<void()> work) {
  pm_->post(key_lane(app, key_id), std::move(work));
}

void runtime::in_room_lane(app_id app, std::int64_t room_id, std::function<void()> work) {
  pm_->post([this, app, room_id, work = std::move(work)]() mutable {
    // No owner to be found (no such room, a read failed): a lane of the room's own, where the
    // work finds and reports the same.
    std::string lane = std::to_string(app) + "/room/" + std::to_string(room_id);
    if (auto room = get_sync<video_room_aggregate>({app, std::to_string(room_id)}); room && room->state.exists) {
      if (room->state.stream_key_id)
        lane = key_lane(app, *room->state.stream_key_id);
      else if (auto m = get_sync<member_aggregate>({app, room->state.app_user_id}); m && m->state.stream_key_id)
        lane = key_lane(app, m->state.stream_key_id);
    }
    pm_->post(std::move(lane), std::move(work));
  });
}

void runtime::in_member_lane(app_id app, std::string app_user_id, std::function<void()> work) {
  pm_->post([this, app, app_user_id = std::move(app_user_id), work = std::move(work)]() mutable {
    std::string lane = std::to_string(app) + "/member/" + app_user_id;
    if (auto m = get_sync<member_aggregate>({app, app_user_id}); m && m->state.stream_key_id)
      lane = key_lane(app, m->state.stream_key_id);
    pm_->post(std::move(lane), std::move(work));
  });
}

// ---- flows
void runtime::start_live(app_id app, std::int64_t room_id, provenance who, flow_callback done) {
  in_room_lane(app, room_id, [this, app, room_id, who = std::move(who), done = std::move(done)] {
    auto room = get_sync<video_room_aggregate>({app, std::to_string(room_id)});
    if (!room)
      return done(room.error());
    const auto& rs = room->state;
    if (!rs.exists)
      return done(make_error(error_code::video_room_not_found, "video room " + std::to_string(room_id) + " not found"));
    if (rs.state != room_state::scheduled)
      return done(make_error(error_code::video_room_state_not_scheduled,
                             "video room " + std::to_string(room_id) + " is " + std::string{to_string(rs.state)}));
    auto member = get_sync<member_aggregate>({app, rs.app_user_id});
    if (!member)
      return done(member.error());
    if (!member->state.present())
      return done(make_error(error_code::member_not_found, "owner " + rs.app_user_id + " of the room is gone"));
    auto key = get_sync<stream_key_aggregate>({app, std::to_string(member->state.stream_key_id)});
    if (!key)
      return done(key.error());
    auto broadcast_id = next_id();
    if (!broadcast_id)
      return done(broadcast_id.error());
    flow_params p;
    p.room_id = room_id;
    p.stream_key_id = member->state.stream_key_id;
    p.broadcast_id = *broadcast_id;
    p.member_id = member->state.id;
    p.app_user_id = rs.app_user_id;
    p.mode = key->state.mode;
    done(pm_->run(app, flow_kind::start_live, p, who));
  });
}

void runtime::end_live(app_id app, std::int64_t room_id, bool force, provenance who, flow_callback done) {
  in_room_lane(app, room_id, [this, app, room_id, force, who = std::move(who), done = std::move(done)] {
    auto room = get_sync<video_room_aggregate>({app, std::to_string(room_id)});
    if (!room)
      return done(room.error());
    const auto& rs = room->state;
    if (!rs.exists)
      return done(make_error(error_code::video_room_not_found, "video room " + std::to_string(room_id) + " not found"));
    if (rs.state == room_state::ended) { // already ended: nothing to do
      flow f;
      f.status = flow_status::completed;
      return done(f);
    }
    if (rs.state != room_state::live && rs.state != room_state::live_inactive)
      return done(make_error(error_code::video_room_state_not_live,
                             "video room " + std::to_string(room_id) + " is " + std::string{to_string(rs.state)}));
    auto post_id = next_id();
    if (!post_id)
      return done(post_id.error());
    flow_params p;
    p.room_id = room_id;
    p.stream_key_id = rs.stream_key_id.value_or(0);
    p.broadcast_id = rs.broadcast_id.value_or(0);
    p.video_post_id = *post_id;
    p.member_id = rs.member_id;
    p.app_user_id = rs.app_user_id;
    p.mode = rs.mode.value_or(output_mode::rtmp);
    p.reason = force ? "room force-ended" : "";
    done(pm_->run(app, force ? flow_kind::force_end : flow_kind::end_live, p, who));
  });
}

namespace {
// The live room a key is attached to, with what a flow needs to end it.
result<flow_params> live_params_of(runtime& rt, app_id app, const stream_key& key) {
  flow_params p;
  p.stream_key_id = key.id;
  p.member_id = key.member_id;
  p.app_user_id = key.app_user_id;
  p.mode = key.mode;
  if (!key.live_room_id)
    return p;
  auto room = rt.get_sync<video_room_aggregate>({app, std::to_string(*key.live_room_id)});
  if (!room)
    return room.error();
  if (room->state.state != room_state::live && room->state.state != room_state::live_inactive)
    return p;
  auto post_id = rt.next_id();
  if (!post_id)
    return post_id.error();
  p.room_id = room->state.id;
  p.broadcast_id = room->state.broadcast_id.value_or(0);
  p.video_post_id = *post_id;
  return p;
}
} // namespace

void runtime::force_terminate_key(app_id app, std::int64_t key_id, provenance who, flow_callback done) {
  in_key_lane(app, key_id, [this, app, key_id, who = std::move(who), done = std::move(done)] {
    auto key = get_sync<stream_key_aggregate>({app, std::to_string(key_id)});
    if (!key)
      return done(key.error());
    if (!key->state.exists)
      return done(make_error(error_code::stream_key_not_found, "stream key " + std::to_string(key_id) + " not found"));
    auto p = live_params_of(*this, app, key->state);
    if (!p)
      return done(p.error());
    p->reason = "stream key force-terminated";
    done(pm_->run(app, flow_kind::force_end, *p, who));
  });
}

namespace {
// The flow parameters of a member's deletion: its stream key, and the live room it may be on.
result<flow_params> deletion_params(runtime& rt, app_id app, const member& m, std::string reason) {
  auto key = rt.get_sync<stream_key_aggregate>({app, std::to_string(m.stream_key_id)});
  if (!key)
    return key.error();
  auto p = live_params_of(rt, app, key->state);
  if (!p)
    return p.error();
  p->stream_key_id = m.stream_key_id;
  p->member_id = m.id;
  p->app_user_id = m.app_user_id;
  p->reason = std::move(reason);
  return p;
}
} // namespace

void runtime::delete_member(app_id app, std::string app_user_id, provenance who, flow_callback done) {
  auto user = app_user_id;
  in_member_lane(app, std::move(user), [this, app, app_user_id = std::move(app_user_id), who = std::move(who),
                                        done = std::move(done)] {
    auto member = get_sync<member_aggregate>({app, app_user_id});
    if (!member)
      return done(member.error());
    if (!member->state.present())
      return done(make_error(error_code::member_not_found, "member " + app_user_id + " not found", "appUserId"));
    auto p = deletion_params(*this, app, member->state, "member deleted");
    if (!p)
      return done(p.error());
    done(pm_->run(app, flow_kind::delete_member, *p, who));
  });
}

void runtime::erase_member(app_id app, std::string app_user_id, provenance who, flow_callback done) {
  auto user = app_user_id;
  in_member_lane(app, std::move(user), [this, app, app_user_id = std::move(app_user_id), who = std::move(who),
                                        done = std::move(done)] {
    auto member = get_sync<member_aggregate>({app, app_user_id});
    if (!member)
      return done(member.error());
    if (!member->state.exists)
      return done(make_error(error_code::member_not_found, "member " + app_user_id + " not found", "appUserId"));
    // A present member is deleted first, as delete_member does it; a deleted one has nothing live.
    flow_params p;
    if (member->state.present()) {
      auto deletion = deletion_params(*this, app, member->state, "member erased");
      if (!deletion)
        return done(deletion.error());
      p = std::move(*deletion);
    }
    p.member_id = member->state.id;
    p.app_user_id = app_user_id;
    p.reason = "member erased";
    done(pm_->run(app, flow_kind::erase_member, p, who));
  });
}

void runtime::reload_personal_data(app_id app) {
  // The categories of storage::personal::fields_of.
  caf::anon_send(members_, reload_atom::value, app);
  caf::anon_send(rooms_, reload_atom::value, app);
  caf::anon_send(posts_, reload_atom::value, app);
}

void runtime::cancel_room(app_id app, std::int64_t room_id, provenance who, callback<video_room_aggregate> done) {
  in_room_lane(app, room_id, [this, app, room_id, who = std::move(who), done = std::move(done)] {
    done(ask_sync<video_room_aggregate>({app, std::to_string(room_id)}, domain::cancel_room{}, who));
  });
}

void runtime::key_command(app_id app, std::int64_t key_id, stream_key_aggregate::command cmd, provenance who,
                          callback<stream_key_aggregate> done) {
  // In the lane: a publisher's connect, viewable and disconnect reach the key, and their
  // reactions the room, in the order they happened, and a forced end never overtakes a connect
  // still being accepted (the ingest knows the session by the time the cut is decided).
  in_key_lane(app, key_id, [this, app, key_id, cmd = std::move(cmd), who = std::move(who), done = std::move(done)] {
    done(key_command_sync(app, key_id, cmd, who));
  });
}

result<outcome<stream_key_aggregate>> runtime::key_command_sync(app_id app, std::int64_t key_id,
                                                                stream_key_aggregate::command cmd, provenance who) {
  const auto key_stream = stream_of<stream_key_aggregate>({app, std::to_string(key_id)});
  auto key = ask_sync<stream_key_aggregate>({app, std::to_string(key_id)}, std::move(cmd), who);
  if (!key)
    return key;
  for (const auto& ev : key->events) {
    // The room and broadcast a key event concerns, if it happened during a live broadcast.
    std::optional<std::int64_t> room_id;
    std::visit([&](const auto& e) {
      if constexpr (requires { e.room_id; }) {
        if constexpr (std::is_same_v<std::decay_t<decltype(e.room_id)>, std::optional<std::int64_t>>)
          room_id = e.room_id;
      }
    }, ev);
    if (!room_id)
      continue;
    const address room{app, std::to_string(*room_id)};
    auto rs = get_sync<video_room_aggregate>(room);
    if (!rs)
      return rs.error();
    const address bcast{app, std::to_string(rs->state.broadcast_id.value_or(0))};
    // The reactions were caused by the key's event.
    const auto because = who.caused_by(key_stream + "@" + std::to_string(key->version));
    status reacted = ok_status();
    if (const auto* c = std::get_if<publisher_connected>(&ev)) {
      if (auto r = ask_sync<broadcast_aggregate>(bcast, ingest_session_started{c->session_id}, because); !r)
        reacted = r.error();
    } else if (std::holds_alternative<stream_viewable>(ev)) {
      if (auto r = ask_sync<video_room_aggregate>(room, publisher_back{}, because); !r)
        reacted = r.error();
    } else if (const auto* d = std::get_if<publisher_disconnected>(&ev)) {
      if (auto r = ask_sync<video_room_aggregate>(room, publisher_lost{}, because); !r)
        reacted = r.error();
      else if (auto b = ask_sync<broadcast_aggregate>(bcast, ingest_session_ended{d->session_id}, because); !b)
        reacted = b.error();
    }
    if (!reacted) {
      spdlog::error("reaction to {} of key {} on room {} failed: {}", std::visit([](const auto& e) { return std::string{e.type}; }, ev),
                    key_id, *room_id, reacted.error().message);
      return reacted.error();
    }
  }
  return key;
}

void runtime::create_app(domain::create_app cmd, provenance who, callback<app_aggregate> done) {
  auto key = cmd.api_key;
  ask<app_aggregate>({0, key}, std::move(cmd), std::move(who), std::move(done));
}

// ---- recovery
status runtime::recover() {
  const auto& v = views();
  std::size_t flows = 0, keys_created = 0, keys_reset = 0, rooms_paused = 0;

  for (const auto& e : storage::members_of(v, "open_flow")) {
    auto r = pm_->resume(e.where.app, std::stoll(e.where.id));
    if (!r && (r.error().code == error_code::storage_failure || r.error().code == error_code::timeout))
      return r.error();
    ++flows;
  }

  for (const auto& e : storage::members_of(v, "pending_key")) {
    auto m = get_sync<member_aggregate>({e.where.app, e.value});
    if (!m)
      return m.error();
    if (!m->state.present() || std::to_string(m->state.stream_key_id) != e.where.id)
      continue;
    auto k = ask_sync<stream_key_aggregate>(
        {e.where.app, e.where.id},
        create_key{m->state.stream_key_id, m->state.id, m->state.app_user_id, default_live_profile_id},
        provenance::system("recovery", "member/" + std::to_string(e.where.app) + "/" + e.value));
    if (!k)
      return k.error();
    ++keys_created;
  }

  // No publisher survives a restart: keys in an ACTIVE* state move as if their publisher had gone.
  for (const auto& e : storage::members_of(v, "active_key")) {
    auto k = key_command_sync(e.where.app, std::stoll(e.where.id), disconnect_publisher{"", "server restarted"},
                              provenance::system("recovery"));
    if (!k)
      return k.error();
    if (!k->events.empty())
      ++keys_reset;
  }

  // A room on air whose key has no publisher is paused (the reaction a crash may have cut short).
  for (const auto& e : storage::members_of(v, "live_room")) {
    auto room = get_sync<video_room_aggregate>({e.where.app, e.where.id});
    if (!room)
      return room.error();
    if (room->state.state != room_state::live)
      continue;
    auto key = get_sync<stream_key_aggregate>({e.where.app, std::to_string(room->state.stream_key_id.value_or(0))});
    if (!key)
      return key.error();
    if (key->state.state == key_state::inactive_live || key->state.state == key_state::active_live_prep) {
      auto paused = ask_sync<video_room_aggregate>({e.where.app, e.where.id}, publisher_lost{},
                                                   provenance::system("recovery"));
      if (!paused)
        return paused.error();
      ++rooms_paused;
    }
  }
  spdlog::info("recovery done flows_resumed={} keys_created={} keys_reset={} rooms_paused={}", flows, keys_created,
               keys_reset, rooms_paused);
  return ok_status();
}

} // namespace onair::actors
