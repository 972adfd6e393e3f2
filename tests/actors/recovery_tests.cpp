// After a crash or a restart: no publisher survives, half-done flows are completed, members get
// the stream key a crash kept from them; and actors passivate and come back intact.
#include "runtime_fixture.hpp"

using namespace onair::testing;

BOOST_FIXTURE_TEST_SUITE(recovery, runtime_fixture)

BOOST_AUTO_TEST_CASE(after_a_restart_active_keys_move_as_if_the_publisher_had_gone) {
  const auto idle = register_member("idle");
  const auto preview = register_member("preview");
  const auto live = register_member("live");
  const auto room_id = new_room(live);
  publish_viewable(preview.stream_key_id, "p1");
  publish_viewable(live.stream_key_id, "l1");
  BOOST_REQUIRE(start_live(room_id).ok());

  restart();

  BOOST_TEST((key(idle.stream_key_id).state == key_state::inactive));
  BOOST_TEST((key(preview.stream_key_id).state == key_state::inactive));
  BOOST_TEST((key(live.stream_key_id).state == key_state::inactive_live));
  BOOST_TEST((room(room_id).state == room_state::live_inactive));
  BOOST_TEST(storage::members_of(rt->views(), "active_key").size() == 1U); // INACTIVE_LIVE still holds its room
  // The broadcast goes on: the publisher may come back.
  publish_viewable(live.stream_key_id, "l2");
  BOOST_TEST((room(room_id).state == room_state::live));
}

BOOST_AUTO_TEST_CASE(a_flow_cut_short_by_a_crash_is_completed_on_restart) {
  const auto m = register_member("alice");
  const auto room_id = new_room(m);
  publish_viewable(m.stream_key_id, "s1");
  // What a crash after the first step leaves: the intent and one step recorded, nothing more.
  auto flow_id = rt->next_id();
  auto broadcast_id = rt->next_id();
  BOOST_REQUIRE(flow_id.ok() && broadcast_id.ok());
  flow_params p;
  p.room_id = room_id;
  p.stream_key_id = m.stream_key_id;
  p.broadcast_id = *broadcast_id;
  p.member_id = m.id;
  p.app_user_id = "alice";
  const address fa{app, std::to_string(*flow_id)};
  BOOST_REQUIRE(rt->ask_sync<flow_aggregate>(fa, begin_flow{flow_kind::start_live, p}, tester).ok());
  BOOST_REQUIRE(rt->ask_sync<stream_key_aggregate>({app, std::to_string(m.stream_key_id)}, attach_live{room_id}, tester).ok());
  BOOST_REQUIRE(rt->ask_sync<flow_aggregate>(fa, complete_step{flow_step::attach_key}, tester).ok());
  BOOST_TEST(storage::members_of(rt->views(), "open_flow").size() == 1U);

  restart();

  BOOST_TEST(storage::members_of(rt->views(), "open_flow").empty());
  BOOST_TEST((state_of<flow_aggregate>(std::to_string(*flow_id)).status == flow_status::completed));
  const auto r = room(room_id);
  BOOST_TEST((r.state == room_state::live_inactive)); // live, and its publisher went with the restart
  BOOST_TEST(r.broadcast_id.value_or(0) == *broadcast_id);
  BOOST_TEST((state_of<broadcast_aggregate>(std::to_string(*broadcast_id)).state == broadcast_state::live));
  BOOST_TEST((key(m.stream_key_id).state == key_state::inactive_live));
}

BOOST_AUTO_TEST_CASE(a_member_registered_without_its_key_gets_it_on_restart) {
  // Registrations used to be two writes (the member, then its key); a crash between them left
  // the member alone, as this store holds it now.
  member_registered reg;
  reg.id = 9001;
  reg.app_user_id = "bob";
  reg.stream_key_id = 9002;
  BOOST_REQUIRE(rt->store()
                    .append(domain::stream_id{member_aggregate::category, app, "bob"}.str(), 0,
                            {storage::encode_event(member_aggregate::event{reg})})
                    .ok());
  BOOST_TEST(!key(9002).exists);
  BOOST_TEST(storage::members_of(rt->views(), "pending_key").size() == 1U);

  restart();

  const auto k = key(9002);
  BOOST_TEST(k.exists);
  BOOST_TEST(k.app_user_id == "bob");
  BOOST_TEST(k.member_id == 9001);
  BOOST_TEST(storage::members_of(rt->views(), "pending_key").empty());
}

BOOST_AUTO_TEST_CASE(given_a_new_member_when_registered_then_member_and_key_are_one_write) {
  const auto before = rt->store().last_position();

  const auto m = register_member("carol");

  // Both streams' events are adjacent in the log and nothing is left pending.
  const auto log = rt->store().read_all(before, 10);
  BOOST_REQUIRE(log.ok());
  BOOST_REQUIRE(log->size() == 2U);
  BOOST_TEST((*log)[0].type == "member.registered");
  const auto key_stream = domain::stream_id{stream_key_aggregate::category, app, std::to_string(m.stream_key_id)}.str();
  BOOST_TEST((*log)[1].stream == key_stream);
  BOOST_TEST(storage::members_of(rt->views(), "pending_key").empty());
  const auto k = key(m.stream_key_id);
  BOOST_TEST(k.exists);
  BOOST_TEST(k.member_id == m.id);
  BOOST_TEST(k.value.size() >= 22U); // >= 128 random bits
}

BOOST_AUTO_TEST_CASE(given_an_actor_loaded_before_its_key_existed_when_the_key_is_created_then_it_sees_it) {
  const auto alice = register_member("alice");
  // Ids come in order from one reserved block: bob's key will be alice's + 2. Asking for it now
  // spawns its actor on an empty stream, as a client guessing ids could.
  const auto bob_key = alice.stream_key_id + 2;
  BOOST_TEST(!key(bob_key).exists);

  const auto bob = register_member("bob");

  BOOST_REQUIRE(bob.stream_key_id == bob_key);
  const auto k = key(bob_key);
  BOOST_TEST(k.exists);
  BOOST_TEST(k.app_user_id == "bob");
  // And the actor writes on from the companion's version.
  auto reissued = rt->key_command_sync(app, bob_key, reissue_key{}, tester);
  BOOST_REQUIRE_MESSAGE(reissued.ok(), (reissued.ok() ? "" : reissued.error().message));
  BOOST_TEST(reissued->version == 2);
  BOOST_TEST(reissued->state.value != k.value);
}

BOOST_AUTO_TEST_CASE(idle_actors_passivate_and_come_back_with_their_state) {
  idle_after = std::chrono::milliseconds(50);
  rt.reset();
  open();
  const auto m = register_member("alice");
  publish_viewable(m.stream_key_id, "s1");
  const auto before = key(m.stream_key_id);
  BOOST_TEST(eventually([&] { return rt->actors_alive() == 0; }));
  const auto after = key(m.stream_key_id); // a fresh actor, hydrated from the store
  BOOST_TEST((after == before));
}

BOOST_AUTO_TEST_CASE(snapshots_are_taken_and_used) {
  idle_after = std::chrono::milliseconds(50);
  rt.reset();
  open();
  const auto m = register_member("alice");
  for (int i = 0; i < 130; ++i) {
    patch_member p;
    p.app_user_name = "name " + std::to_string(i);
    BOOST_REQUIRE(rt->ask_sync<member_aggregate>({app, "alice"}, p, tester).ok());
  }
  auto snap = rt->store().load_snapshot(domain::stream_id{member_aggregate::category, app, "alice"}.str());
  BOOST_REQUIRE(snap.ok());
  BOOST_REQUIRE(snap->has_value());
  BOOST_TEST((*snap)->version >= 100);
  BOOST_TEST(eventually([&] { return rt->actors_alive() == 0; }));
  const auto again = state_of<member_aggregate>("alice");
  BOOST_TEST(again.app_user_name == "name 129");
  BOOST_TEST(again.id == m.id);
}

BOOST_AUTO_TEST_CASE(many_concurrent_registrations_all_land) {
  constexpr int n = 300;
  std::vector<std::future<result<outcome<member_aggregate>>>> futures;
  for (int i = 0; i < n; ++i) {
    auto p = std::make_shared<std::promise<result<outcome<member_aggregate>>>>();
    futures.push_back(p->get_future());
    upsert_member cmd;
    cmd.app_user_id = "user-" + std::to_string(i);
    rt->upsert_member(app, cmd, tester, [p](auto r) { p->set_value(std::move(r)); });
  }
  std::set<std::int64_t> ids;
  for (auto& f : futures) {
    auto r = f.get();
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    ids.insert(r->state.id);
  }
  BOOST_TEST(ids.size() == static_cast<std::size_t>(n));
  storage::page_request req;
  req.page_size = 100;
  const auto page = storage::list_views<member_aggregate>(rt->views(), app, req);
  BOOST_TEST(page.total_elements == n);
  const auto keys = storage::list_views<stream_key_aggregate>(rt->views(), app, req);
  BOOST_TEST(keys.total_elements == n);
}

BOOST_AUTO_TEST_SUITE_END()
