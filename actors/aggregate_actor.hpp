#pragma once
// One actor per aggregate instance (stream key, video room, broadcast, member, app, …), spawned on
// demand by its registry, hydrated from snapshot + events, and passivated when idle. It is the only
// writer of its stream: commands queue in it and run one at a time through the decider; the reply
// goes out only once the events are durable (the store's group commit acknowledged them).
#include <chrono>
#include <deque>
#include <future>
#include <variant>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/errors.hpp"
#include "actors/log_context.hpp"
#include "actors/services.hpp"
#include "domain/aggregate.hpp"
#include "domain/provenance.hpp"
#include "storage/codec.hpp"
#include "storage/personal_data.hpp"

namespace onair::actors {
struct address;
template <class A>
struct outcome;
} // namespace onair::actors

// Messages stay inside one process for now; scale-out will give them inspect() from fields().
namespace caf {
template <>
struct allowed_unsafe_message_type<onair::actors::address> : std::true_type {};
template <>
struct allowed_unsafe_message_type<onair::storage::append_result> : std::true_type {};
template <>
struct allowed_unsafe_message_type<onair::domain::provenance> : std::true_type {};
template <class A>
struct allowed_unsafe_message_type<onair::actors::outcome<A>> : std::true_type {};
template <class... Ts>
struct allowed_unsafe_message_type<std::variant<Ts...>> : std::true_type {}; // aggregate commands
} // namespace caf

namespace onair::actors {

using get_atom = caf::atom_constant<caf::atom("get")>;
using appended_atom = caf::atom_constant<caf::atom("appended")>;
using idle_atom = caf::atom_constant<caf::atom("idle")>;
using passivate_atom = caf::atom_constant<caf::atom("passivate")>;
using count_atom = caf::atom_constant<caf::atom("count")>;
using reload_atom = caf::atom_constant<caf::atom("reload")>;

// Which instance of an aggregate: the app (partition key) and the id within it.
struct address {
  domain::app_id app = 0;
  std::string id;
};

template <class A>
[[nodiscard]] std::string stream_of(const address& a) {
  return domain::stream_id{A::category, a.app, a.id}.str();
}

// The answer to a command: the state after it and what it appended (empty: already satisfied).
template <class A>
struct outcome {
  std::int64_t version = 0;
  typename A::state state = A::initial_state();
  std::vector<typename A::event> events;
};

// How many fresh ids (0-2) decide() may need for this command; ids are reserved only then.
template <class A>
struct id_policy {
  static int ids_needed(const typename A::command&, const typename A::state&) { return 0; }
};

// A new aggregate that a command of A brings into being in the same atomic write as A's own events
// (a member's registration creates the member's stream key). Its first events come from its own
// decider, against its initial state, and are appended at expected version 0, so nobody can have
// written that stream before; from then on the companion's actor is its only writer.
struct companion_append {
  std::string stream;
  std::vector<storage::new_event> events;
};

template <class A>
struct companion_policy {
  static domain::result<std::vector<companion_append>> of(const address&, const std::vector<typename A::event>&,
                                                          const services&) {
    return std::vector<companion_append>{};
  }
};

// Every command travels with its provenance (who asked, from where, in which request, because of
// what), which is stored beside each event it decides.
template <class A>
using aggregate_actor =
    caf::typed_actor<typename caf::replies_to<typename A::command, domain::provenance>::template with<outcome<A>>,
                     typename caf::replies_to<get_atom>::template with<outcome<A>>,
                     caf::reacts_to<appended_atom, storage::append_result>,
                     caf::reacts_to<appended_atom, caf::error>, caf::reacts_to<idle_atom>,
                     caf::reacts_to<reload_atom>>;

template <class A>
using registry_actor =
    caf::typed_actor<typename caf::replies_to<address, typename A::command, domain::provenance>::template with<outcome<A>>,
                     typename caf::replies_to<get_atom, address>::template with<outcome<A>>,
                     caf::reacts_to<passivate_atom, std::string, aggregate_actor<A>>,
                     caf::replies_to<count_atom>::with<std::size_t>,
                     caf::reacts_to<reload_atom, domain::app_id>>;

// Loads state from the latest snapshot and the events after it, personal data opened (an erased
// member's fields come back empty).
template <class A>
domain::result<std::pair<typename A::state, std::int64_t>> hydrate(storage::event_store& store,
                                                                    const std::string& stream,
                                                                    std::int64_t* snapshot_version = nullptr) {
  typename A::state state = A::initial_state();
  std::int64_t version = 0;
  auto snap = store.load_snapshot(stream);
  if (!snap)
    return snap.error();
  if (*snap) {
    auto j = storage::json::parse((*snap)->data, nullptr, false);
    storage::personal::open(&store.personal_keys(), j);
    auto decoded = storage::decode_value<typename A::state>(j, stream + " snapshot");
    if (decoded) { // an unreadable snapshot is ignored: the events alone rebuild the state
      state = std::move(decoded).value();
      version = (*snap)->version;
    } else {
      spdlog::warn("ignoring unreadable snapshot of {}: {}", stream, decoded.error().message);
    }
  }
  if (snapshot_version)
    *snapshot_version = version;
  auto events = store.read_stream(stream, version + 1);
  if (!events)
    return events.error();
  for (const auto& rec : *events) {
    auto data = storage::json::parse(rec.data, nullptr, false);
    storage::personal::open(&store.personal_keys(), data);
    auto ev = storage::decode_event_value<typename A::event>(rec.type, data);
    if (!ev)
      return domain::make_error(ev.error().code, stream + " v" + std::to_string(rec.version) + ": " + ev.error().message);
    state = A::evolve(std::move(state), *ev);
    version = rec.version;
  }
  return std::pair{std::move(state), version};
}

template <class A>
struct aggregate_state {
  struct pending {
    typename A::command cmd;
    domain::provenance who;
    caf::typed_response_promise<outcome<A>> rp;
    int conflicts = 0;
  };
  address addr;
  std::string stream;
  typename A::state state = A::initial_state();
  std::int64_t version = 0;
  std::int64_t snapshot_version = 0;
  std::optional<domain::error> broken; // hydration failed: every command gets this error
  bool loaded_just_now = false;        // hydrated for the message that spawned this actor
  bool reload_after_append = false;    // told to reload while an append was in flight
  std::deque<pending> queue;
  std::optional<pending> in_flight;
  std::vector<typename A::event> in_flight_events;
  std::vector<std::pair<std::string, std::vector<std::string>>> in_flight_companions; // stream, event types
  std::chrono::steady_clock::time_point last_active = std::chrono::steady_clock::now();
  static inline const char* name = "aggregate";
};

template <class A>
using aggregate_pointer = typename aggregate_actor<A>::template stateful_pointer<aggregate_state<A>>;

// A command alternative with an `if_version` member (If-Match) is decided only when the stream is
// at that version.
template <class A>
[[nodiscard]] std::optional<std::int64_t> required_version(const typename A::command& cmd) {
  return std::visit(
      [](const auto& c) -> std::optional<std::int64_t> {
        if constexpr (requires { c.if_version; })
          return c.if_version;
        else
          return std::nullopt;
      },
      cmd);
}

namespace detail {

template <class A>
bool rehydrate(aggregate_pointer<A> self, const services& svc) {
  auto& st = self->state;
  auto loaded = hydrate<A>(*svc.store, st.stream, &st.snapshot_version);
  if (!loaded) {
    spdlog::error("cannot load {}: {}", st.stream, loaded.error().message);
    st.broken = loaded.error();
    return false;
  }
  st.broken.reset();
  st.state = std::move(loaded->first);
  st.version = loaded->second;
  return true;
}

// An aggregate that did not exist when this actor loaded may have been created since as another's
// companion: while its stream is empty, each later message looks again (one cheap read).
template <class A>
void refresh_if_empty(aggregate_pointer<A> self, const services& svc) {
  auto& st = self->state;
  if (st.version == 0 && !st.broken && !st.loaded_just_now)
    rehydrate<A>(self, svc);
  st.loaded_just_now = false;
}

template <class A>
void process_next(aggregate_pointer<A> self, const std::shared_ptr<const services>& svc) {
  auto& st = self->state;
  st.last_active = std::chrono::steady_clock::now();
  while (!st.in_flight && !st.queue.empty()) {
    auto p = std::move(st.queue.front());
    st.queue.pop_front();
    log_context::scope logged{p.who.request_id};
    refresh_if_empty<A>(self, *svc);
    if (st.broken) {
      p.rp.deliver(to_caf(*st.broken));
      continue;
    }
    if (auto want = required_version<A>(p.cmd); want && *want != st.version) {
      p.rp.deliver(to_caf(domain::make_error(domain::error_code::version_conflict,
                                             st.stream + " is at version " + std::to_string(st.version) +
                                                 ", the command required " + std::to_string(*want))));
      continue;
    }
    auto ctx = svc->make_context(id_policy<A>::ids_needed(p.cmd, st.state));
    if (!ctx) {
      p.rp.deliver(to_caf(ctx.error()));
      continue;
    }
    auto decided = A::decide(p.cmd, st.state, *ctx);
    if (!decided) {
      p.rp.deliver(to_caf(decided.error()));
      continue;
    }
    if (decided->empty()) {
      p.rp.deliver(outcome<A>{st.version, st.state, {}});
      continue;
    }
    auto companions = companion_policy<A>::of(st.addr, *decided, *svc);
    if (!companions) {
      p.rp.deliver(to_caf(companions.error()));
      continue;
    }
    const auto meta = storage::encode_provenance(p.who);
    std::vector<storage::new_event> encoded;
    encoded.reserve(decided->size());
    std::optional<domain::error> unsealed;
    for (const auto& ev : *decided) {
      auto e = storage::personal::encode_sealed_event(svc->store->personal_keys(), A::category, st.addr.app,
                                                      st.addr.id, ev);
      if (!e) {
        unsealed = e.error();
        break;
      }
      e->meta = meta;
      encoded.push_back(std::move(e).value());
    }
    if (unsealed) {
      p.rp.deliver(to_caf(*unsealed));
      continue;
    }
    st.in_flight = std::move(p);
    st.in_flight_events = std::move(decided).value();
    auto me = caf::actor_cast<aggregate_actor<A>>(self);
    auto answer = [me](domain::result<storage::append_result> r) {
      if (r)
        caf::anon_send(me, appended_atom::value, *r);
      else
        caf::anon_send(me, appended_atom::value, to_caf(r.error()));
    };
    if (companions->empty()) {
      svc->store->append_async(st.stream, st.version, std::move(encoded), std::move(answer));
      continue;
    }
    std::vector<storage::stream_append> parts;
    parts.push_back({st.stream, st.version, std::move(encoded)});
    st.in_flight_companions.clear();
    for (auto& c : *companions) {
      std::vector<std::string> types;
      for (auto& ev : c.events) {
        types.push_back(ev.type);
        ev.meta = meta;
      }
      st.in_flight_companions.emplace_back(c.stream, std::move(types));
      parts.push_back({std::move(c.stream), 0, std::move(c.events)});
    }
    svc->store->append_all_async(std::move(parts),
                                 [answer = std::move(answer)](domain::result<std::vector<storage::append_result>> r) {
                                   if (r)
                                     answer(r->front());
                                   else
                                     answer(std::move(r).error());
                                 });
  }
}

} // namespace detail

template <class A>
typename aggregate_actor<A>::behavior_type aggregate_behavior(aggregate_pointer<A> self, address addr,
                                                              std::shared_ptr<const services> svc,
                                                              registry_actor<A> registry) {
  self->state.addr = addr;
  self->state.stream = stream_of<A>(addr);
  self->state.loaded_just_now = detail::rehydrate<A>(self, *svc);
  self->delayed_send(self, svc->idle_after, idle_atom::value);
  return {
      [=](typename A::command& cmd, domain::provenance& who) {
        auto rp = self->template make_response_promise<outcome<A>>();
        self->state.queue.push_back({std::move(cmd), std::move(who), rp, 0});
        detail::process_next<A>(self, svc);
        return rp;
      },
      [=](get_atom) -> caf::result<outcome<A>> {
        detail::refresh_if_empty<A>(self, *svc);
        if (self->state.broken)
          return to_caf(*self->state.broken);
        return outcome<A>{self->state.version, self->state.state, {}};
      },
      [=](appended_atom, storage::append_result& r) {
        auto& st = self->state;
        for (const auto& ev : st.in_flight_events)
          st.state = A::evolve(std::move(st.state), ev);
        st.version = r.version;
        for (const auto& ev : st.in_flight_events)
          std::visit([&](const auto& e) { svc->observers->notify(st.stream, std::decay_t<decltype(e)>::type); }, ev);
        for (const auto& [stream, types] : st.in_flight_companions)
          for (const auto& type : types)
            svc->observers->notify(stream, type);
        st.in_flight_companions.clear();
        st.in_flight->rp.deliver(outcome<A>{st.version, st.state, std::move(st.in_flight_events)});
        st.in_flight.reset();
        st.in_flight_events.clear();
        if (st.reload_after_append) {
          st.reload_after_append = false;
          detail::rehydrate<A>(self, *svc);
        }
        if (svc->snapshot_every > 0 && st.version - st.snapshot_version >= svc->snapshot_every) {
          auto snap = storage::to_json_value(st.state);
          auto saved = storage::personal::seal(svc->store->personal_keys(), A::category, st.addr.app, st.addr.id,
                                               snap, storage::personal::key_ring::lookup::create);
          if (saved)
            saved = svc->store->save_snapshot(st.stream, {st.version, snap.dump()});
          if (saved)
            st.snapshot_version = st.version;
          else
            spdlog::warn("snapshot of {} at v{} failed: {}", st.stream, st.version, saved.error().message);
        }
        detail::process_next<A>(self, svc);
      },
      [=](appended_atom, caf::error& e) {
        auto& st = self->state;
        auto p = std::move(*st.in_flight);
        st.in_flight.reset();
        st.in_flight_events.clear();
        st.in_flight_companions.clear();
        log_context::scope logged{p.who.request_id};
        if (st.reload_after_append) {
          st.reload_after_append = false;
          detail::rehydrate<A>(self, *svc);
        }
        const auto err = from_caf(e);
        // Another writer got there first (only possible around a passivation): reload and decide
        // again against the new state, a bounded number of times.
        if (err.code == domain::error_code::version_conflict && p.conflicts < 3 &&
            detail::rehydrate<A>(self, *svc)) {
          ++p.conflicts;
          st.queue.push_front(std::move(p));
        } else {
          spdlog::error("append to {} failed: {}", st.stream, err.message);
          p.rp.deliver(e);
        }
        detail::process_next<A>(self, svc);
      },
      // Reads its state again from the store (after an erasure, so that no personal data it held
      // in memory outlives the key); after the append in flight, if there is one.
      [=](reload_atom) {
        if (self->state.in_flight)
          self->state.reload_after_append = true;
        else
          detail::rehydrate<A>(self, *svc);
      },
      [=](idle_atom) {
        auto& st = self->state;
        const auto idle = std::chrono::steady_clock::now() - st.last_active;
        if (!st.in_flight && st.queue.empty() && idle >= svc->idle_after) {
          self->send(registry, passivate_atom::value, st.stream, caf::actor_cast<aggregate_actor<A>>(self));
          self->quit();
          return;
        }
        self->delayed_send(self, svc->idle_after, idle_atom::value);
      },
  };
}

template <class A>
struct registry_state {
  std::unordered_map<std::string, aggregate_actor<A>> live;
  std::unordered_map<caf::actor_addr, std::string> streams;
  static inline const char* name = "registry";
};

template <class A>
using registry_pointer = typename registry_actor<A>::template stateful_pointer<registry_state<A>>;

template <class A>
typename registry_actor<A>::behavior_type registry_behavior(registry_pointer<A> self,
                                                            std::shared_ptr<const services> svc) {
  auto lookup = [=](const address& a) {
    auto stream = stream_of<A>(a);
    auto& st = self->state;
    if (auto it = st.live.find(stream); it != st.live.end())
      return it->second;
    auto handle = self->system().spawn(aggregate_behavior<A>, a, svc, caf::actor_cast<registry_actor<A>>(self));
    self->monitor(handle);
    st.streams.emplace(handle.address(), stream);
    st.live.emplace(stream, handle);
    return handle;
  };
  // Shutting the registry down shuts down every aggregate actor it spawned.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    for (auto& [stream, handle] : self->state.live)
      self->send_exit(handle, msg.reason);
    self->quit(msg.reason);
  });
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    if (auto it = st.streams.find(dm.source); it != st.streams.end()) {
      if (auto lit = st.live.find(it->second); lit != st.live.end() && lit->second.address() == dm.source)
        st.live.erase(lit);
      st.streams.erase(it);
    }
  });
  return {
      [=](address& a, typename A::command& cmd, domain::provenance& who) -> caf::delegated<outcome<A>> {
        return self->delegate(lookup(a), std::move(cmd), std::move(who));
      },
      [=](get_atom g, address& a) -> caf::delegated<outcome<A>> { return self->delegate(lookup(a), g); },
      [=](passivate_atom, std::string& stream, aggregate_actor<A>& who) {
        auto& st = self->state;
        if (auto it = st.live.find(stream); it != st.live.end() && it->second == who)
          st.live.erase(it);
      },
      [=](count_atom) -> std::size_t { return self->state.live.size(); },
      [=](reload_atom r, domain::app_id app) {
        const auto prefix = stream_of<A>(address{app, ""});
        for (auto& [stream, handle] : self->state.live)
          if (stream.starts_with(prefix))
            self->send(handle, r);
      },
  };
}

// Spawns a short-lived actor that makes requests. CAF 0.17 binds a reference to a null tuple
// when a function-based actor takes no arguments (UBSan: "reference binding to null pointer" in
// init_fun_factory.hpp), so the function gets one unused argument.
template <class F>
void spawn_requester(caf::actor_system& sys, F f) {
  sys.spawn([f = std::move(f)](caf::event_based_actor* self, int) { f(self); }, 0);
}

// Sends a command from outside any actor; done() runs on a CAF worker thread. A request that
// reached an actor just as it passivated is retried with a fresh one.
template <class A>
void ask(caf::actor_system& sys, registry_actor<A> registry, address a, typename A::command cmd,
         domain::provenance who, std::function<void(domain::result<outcome<A>>)> done,
         std::chrono::milliseconds timeout = std::chrono::seconds(10), int attempts = 3) {
  spawn_requester(sys, [=](caf::event_based_actor* self) {
    self->request(registry, timeout, a, cmd, who)
        .then([=](outcome<A>& o) { done(std::move(o)); },
              [=](caf::error& e) {
                if (e == caf::sec::request_receiver_down && attempts > 1)
                  ask<A>(self->system(), registry, a, cmd, who, done, timeout, attempts - 1);
                else
                  done(from_caf(e));
              });
  });
}

template <class A>
domain::result<outcome<A>> ask_sync(caf::actor_system& sys, registry_actor<A> registry, address a,
                                    typename A::command cmd, domain::provenance who,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto promise = std::make_shared<std::promise<domain::result<outcome<A>>>>();
  auto future = promise->get_future();
  ask<A>(sys, registry, std::move(a), std::move(cmd), std::move(who),
         [promise](domain::result<outcome<A>> r) { promise->set_value(std::move(r)); }, timeout);
  return future.get();
}

} // namespace onair::actors

