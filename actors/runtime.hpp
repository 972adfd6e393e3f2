#pragma once
// The running system: the actor system, the event store, one registry per aggregate type, and
// the process manager. The API and the CLI talk to aggregates only through here.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <caf/all.hpp>

#include "actors/aggregate_actor.hpp"
#include "actors/services.hpp"
#include "domain/app.hpp"
#include "domain/broadcast.hpp"
#include "domain/flow.hpp"
#include "domain/member.hpp"
#include "domain/stream_key.hpp"
#include "domain/video_post.hpp"
#include "domain/video_room.hpp"
#include "storage/event_store.hpp"

namespace onair::actors {

class process_manager;

class runtime {
public:
  struct options {
    std::string data_dir;
    bool sync = true;
    std::chrono::milliseconds idle_after{std::chrono::seconds(60)};
    std::chrono::milliseconds ask_timeout{std::chrono::seconds(10)};
    std::size_t worker_threads = 0; // 0: one per usable core (net::usable_cores), at least 2
    std::shared_ptr<clock> time;    // null: the system clock
  };

  // Opens the store (the data folder is created if missing) and starts the actors.
  static domain::result<std::unique_ptr<runtime>> open(const options& opts);
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  // After a start: finishes what a crash left half done (open flows, keys without a publisher
  // still ACTIVE*, members whose key was not created). Blocks until done.
  domain::status recover();

  template <class A>
  using callback = std::function<void(domain::result<outcome<A>>)>;

  // One command to one aggregate; done() runs on an actor thread once the events are durable.
  // `who` is stored with every event the command decides (the audit trail's provenance); every
  // command below takes one.
  template <class A>
  void ask(address a, typename A::command cmd, domain::provenance who, callback<A> done) {
    actors::ask<A>(system(), registry<A>(), std::move(a), std::move(cmd), std::move(who), std::move(done),
                   opts_.ask_timeout);
  }
  template <class A>
  domain::result<outcome<A>> ask_sync(address a, typename A::command cmd, domain::provenance who) {
    return actors::ask_sync<A>(system(), registry<A>(), std::move(a), std::move(cmd), std::move(who),
                               opts_.ask_timeout);
  }
  // The authoritative state of one aggregate (from its actor, not a view).
  template <class A>
  void get(address a, callback<A> done);
  template <class A>
  domain::result<outcome<A>> get_sync(address a) {
    auto p = std::make_shared<std::promise<domain::result<outcome<A>>>>();
    auto fut = p->get_future();
    get<A>(std::move(a), [p](domain::result<outcome<A>> r) { p->set_value(std::move(r)); });
    return fut.get();
  }

  // ---- flows across aggregates (process manager)
  using flow_callback = std::function<void(domain::result<domain::flow>)>;
  // Registers or updates a member and makes sure its stream key exists.
  // A flow's steps carry its starter's provenance, caused by the flow.
  void upsert_member(domain::app_id app, domain::upsert_member cmd, domain::provenance who,
                     callback<domain::member_aggregate> done);
  void start_live(domain::app_id app, std::int64_t room_id, domain::provenance who, flow_callback done);
  void end_live(domain::app_id app, std::int64_t room_id, bool force, domain::provenance who, flow_callback done);
  void force_terminate_key(domain::app_id app, std::int64_t key_id, domain::provenance who, flow_callback done);
  void delete_member(domain::app_id app, std::string app_user_id, domain::provenance who, flow_callback done);
  // Erases a member's personal data (deleting it first if present): its data keys are destroyed and
  // member.erased recorded. MEMBER_NOT_FOUND for an appUserId never registered.
  void erase_member(domain::app_id app, std::string app_user_id, domain::provenance who, flow_callback done);
  // Every live actor of the app whose state can hold members' personal data reads its state again
  // from the store (after an erasure, so that no copy of the erased fields outlives the key).
  void reload_personal_data(domain::app_id app);
  // SCHEDULED -> CANCELLED, in order with the owner's Start Live (never half-way through one).
  void cancel_room(domain::app_id app, std::int64_t room_id, domain::provenance who,
                   callback<domain::video_room_aggregate> done);

  // A publisher-driven command to a stream key (connect, viewable, disconnect, stats), followed by
  // what it means for the key's live room and broadcast (paused, resumed, session opened/closed).
  // done() gets the key's outcome once the reactions are durable too.
  void key_command(domain::app_id app, std::int64_t key_id, domain::stream_key_aggregate::command cmd,
                   domain::provenance who, callback<domain::stream_key_aggregate> done);
  domain::result<outcome<domain::stream_key_aggregate>> key_command_sync(domain::app_id app, std::int64_t key_id,
                                                                         domain::stream_key_aggregate::command cmd,
                                                                         domain::provenance who);

  // Runs work off the event loops, on the process manager's threads, in no order with other work:
  // what a loop thread must not wait for, such as reading the views to answer a player.
  void post(std::function<void()> work);

  // Returns once every job queued for the process manager (flows, publisher commands and their
  // callbacks) has run: at shutdown, before what their callbacks refer to goes.
  void drain();

  // Tells f of every event once it is durable (see durable_observers in services.hpp).
  void observe(durable_observers::observer f) { svc_->observers->add(std::move(f)); }

  // ---- apps (partition 0, keyed by API key)
  void create_app(domain::create_app cmd, domain::provenance who, callback<domain::app_aggregate> done);

  [[nodiscard]] storage::event_store& store() { return *store_; }
  [[nodiscard]] const storage::kv_reader& views() const { return store_->views(); }
  [[nodiscard]] caf::actor_system& system() { return *system_; }
  [[nodiscard]] const services& svc() const { return *svc_; }
  [[nodiscard]] domain::result<std::int64_t> next_id() { return svc_->ids->next(); }
  // Aggregate actors alive now (all types).
  [[nodiscard]] std::size_t actors_alive();

  template <class A>
  registry_actor<A> registry();

private:
  explicit runtime(const options& opts);

  // Every job above runs in the lane of the member it concerns (process_manager): a member owns
  // one stream key for good, whose id names the lane. A room or a member is first resolved to it.
  void in_key_lane(domain::app_id app, std::int64_t key_id, std::function<void()> work);
  void in_room_lane(domain::app_id app, std::int64_t room_id, std::function<void()> work);
  void in_member_lane(domain::app_id app, std::string app_user_id, std::function<void()> work);

  options opts_;
  std::unique_ptr<storage::event_store> store_;
  std::shared_ptr<services> svc_;
  std::unique_ptr<caf::actor_system_config> cfg_;
  std::unique_ptr<caf::actor_system> system_;
  registry_actor<domain::app_aggregate> apps_;
  registry_actor<domain::member_aggregate> members_;
  registry_actor<domain::stream_key_aggregate> keys_;
  registry_actor<domain::video_room_aggregate> rooms_;
  registry_actor<domain::broadcast_aggregate> broadcasts_;
  registry_actor<domain::video_post_aggregate> posts_;
  registry_actor<domain::flow_aggregate> flows_;
  std::unique_ptr<process_manager> pm_;
  friend class process_manager;
};

template <class A>
void runtime::get(address a, callback<A> done) {
  auto reg = registry<A>();
  auto timeout = opts_.ask_timeout;
  spawn_requester(system(), [=](caf::event_based_actor* self) {
    self->request(reg, timeout, get_atom::value, a)
        .then([=](outcome<A>& o) { done(std::move(o)); }, [=](caf::error& e) { done(from_caf(e)); });
  });
}

} // namespace onair::actors
