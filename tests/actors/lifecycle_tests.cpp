// The broadcast lifecycle through the actors: flows across stream key, room and broadcast, with
// every reply given only after the events are durable.
#include "runtime_fixture.hpp"

#include <atomic>
#include <mutex>

#include "actors/process_manager.hpp"

using namespace onair::testing;

BOOST_FIXTURE_TEST_SUITE(lifecycle, runtime_fixture)

BOOST_AUTO_TEST_CASE(registering_a_member_creates_its_stream_key) {
  const auto m = register_member("alice");
  BOOST_TEST(m.present());
  const auto k = key(m.stream_key_id);
  BOOST_TEST(k.exists);
  BOOST_TEST(k.app_user_id == "alice");
  BOOST_TEST((k.state == key_state::inactive));
  BOOST_TEST(k.value.size() >= 22U); // >= 128 random bits, base64url
  BOOST_TEST(k.preview_id != k.value);
  // The read models follow, in the same commit.
  auto found = storage::find_by(rt->views(), "key_value", k.value);
  BOOST_REQUIRE(found.has_value());
  BOOST_TEST(found->id == std::to_string(k.id));
}

BOOST_AUTO_TEST_CASE(registering_again_updates_and_keeps_the_key) {
  const auto first = register_member("alice");
  const auto again = register_member("alice");
  BOOST_TEST(again.id == first.id);
  BOOST_TEST(again.stream_key_id == first.stream_key_id);
}

BOOST_AUTO_TEST_CASE(a_publisher_makes_the_key_active_prep_then_active) {
  const auto m = register_member("alice");
  auto c = publish(m.stream_key_id, "s1");
  BOOST_REQUIRE(c.ok());
  BOOST_TEST((c->state.state == key_state::active_prep));
  auto v = rt->key_command_sync(app, m.stream_key_id, mark_viewable{"s1"}, tester);
  BOOST_REQUIRE(v.ok());
  BOOST_TEST((v->state.state == key_state::active));
  publisher_gone(m.stream_key_id, "s1");
  BOOST_TEST((key(m.stream_key_id).state == key_state::inactive));
}

BOOST_AUTO_TEST_CASE(a_wrong_key_or_a_second_publisher_is_refused_and_the_first_keeps_going) {
  const auto m = register_member("alice");
  auto wrong = publish(m.stream_key_id, "s0", std::string{"not-the-key"});
  BOOST_REQUIRE(!wrong.ok());
  BOOST_TEST((wrong.error().code == error_code::stream_key_not_publishable));
  publish_viewable(m.stream_key_id, "s1");
  auto second = publish(m.stream_key_id, "s2");
  BOOST_REQUIRE(!second.ok());
  BOOST_TEST((second.error().code == error_code::stream_key_in_use));
  const auto k = key(m.stream_key_id);
  BOOST_TEST((k.state == key_state::active));
  BOOST_TEST(k.session_id == "s1");
}

BOOST_AUTO_TEST_CASE(start_live_moves_key_room_and_broadcast_together) {
  const auto m = register_member("alice");
  const auto room_id = new_room(m);
  publish_viewable(m.stream_key_id, "s1");
  auto f = start_live(room_id);
  BOOST_REQUIRE_MESSAGE(f.ok(), (f.ok() ? "" : f.error().message));
  BOOST_TEST((f->status == flow_status::completed));
  const auto r = room(room_id);
  BOOST_TEST((r.state == room_state::live));
  BOOST_TEST(r.stream_key_id.value_or(0) == m.stream_key_id);
  const auto k = key(m.stream_key_id);
  BOOST_TEST((k.state == key_state::active_live));
  BOOST_TEST(k.live_room_id.value_or(0) == room_id);
  const auto b = state_of<broadcast_aggregate>(std::to_string(r.broadcast_id.value_or(0)));
  BOOST_TEST((b.state == broadcast_state::live));
  BOOST_TEST(b.room_id == room_id);
  // No open flow is left behind.
  BOOST_TEST(storage::members_of(rt->views(), "open_flow").empty());
}

BOOST_AUTO_TEST_CASE(start_live_needs_an_active_key) {
  const auto m = register_member("alice");
  const auto room_id = new_room(m);
  auto f = start_live(room_id);
  BOOST_REQUIRE(!f.ok());
  BOOST_TEST((f.error().code == error_code::stream_key_state_not_active));
  BOOST_TEST((room(room_id).state == room_state::scheduled));
  BOOST_TEST((key(m.stream_key_id).state == key_state::inactive));
  BOOST_TEST(storage::members_of(rt->views(), "open_flow").empty());
}

BOOST_AUTO_TEST_CASE(start_live_needs_a_scheduled_room) {
  const auto m = register_member("alice");
  const auto room_id = new_room(m);
  BOOST_REQUIRE(rt->ask_sync<video_room_aggregate>({app, std::to_string(room_id)}, cancel_room{}, tester).ok());
  publish_viewable(m.stream_key_id, "s1");
  auto f = start_live(room_id);
  BOOST_REQUIRE(!f.ok());
  BOOST_TEST((f.error().code == error_code::video_room_state_not_scheduled));
  BOOST_TEST((key(m.stream_key_id).state == key_state::active));
}

BOOST_AUTO_TEST_CASE(a_patch_with_if_version_is_decided_only_at_that_version) {
  const auto m = register_member("alice");
  const auto room_id = new_room(m);
  const address a{app, std::to_string(room_id)};
  patch_room first;
  first.title = "First";
  first.if_version = 1;
  auto ok = rt->ask_sync<video_room_aggregate>(a, first, tester);
  BOOST_REQUIRE(ok.ok());
  BOOST_TEST(ok->version == 2);
  // A writer that read version 1 lost the race: refused, nothing written.
  patch_room stale;
  stale.title = "Stale";
  stale.if_version = 1;
  auto refused = rt->ask_sync<video_room_aggregate>(a, stale, tester);
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST((refused.error().code == error_code::version_conflict));
  BOOST_TEST(room(room_id).title == "First");
}

BOOST_AUTO_TEST_CASE(a_member_has_one_live_room_at_a_time) {
  const auto m = register_member("alice");
  const auto first = new_room(m, "first");
  const auto second = new_room(m, "second");
  publish_viewable(m.stream_key_id, "s1");
  BOOST_REQUIRE(start_live(first).ok());
  publisher_gone(m.stream_key_id, "s1"); // paused, but still the member's live broadcast
  publish_viewable(m.stream_key_id, "s2");
  auto f = start_live(second);
  BOOST_REQUIRE(!f.ok());
  BOOST_TEST((f.error().code == error_code::member_already_broadcasting));
  BOOST_TEST((room(second).state == room_state::scheduled));
}

BOOST_AUTO_TEST_CASE(a_publisher_that_drops_pauses_the_room_and_its_return_resumes_it) {
  const auto m = register_member("alice");
  const auto room_id = new_room(m);
  publish_viewable(m.stream_key_id, "s1");
  BOOST_REQUIRE(start_live(room_id).ok());
  publisher_gone(m.stream_key_id, "s1");
  BOOST_TEST((key(m.stream_key_id).state == key_state::inactive_live));
  BOOST_TEST((room(room_id).state == room_state::live_inactive));
  auto back = publish(m.stream_key_id, "s2");
  BOOST_REQUIRE(back.ok());
  BOOST_TEST((back->state.state == key_state::active_live_prep));
  BOOST_TEST((room(room_id).state == room_state::live_inactive));
  BOOST_REQUIRE(rt->key_command_sync(app, m.stream_key_id, mark_viewable{"s2"}, tester).ok());
  BOOST_TEST((key(m.stream_key_id).state == key_state::active_live));
  const auto r = room(room_id);
  BOOST_TEST((r.state == room_state::live));
  const auto b = state_of<broadcast_aggregate>(std::to_string(r.broadcast_id.value_or(0)));
  BOOST_REQUIRE(b.sessions.size() == 2U);
  BOOST_TEST(b.sessions[0].ended_at.has_value());
  BOOST_TEST(!b.sessions[1].ended_at.has_value());
}

BOOST_AUTO_TEST_CASE(end_live_needs_the_publisher_gone_then_records_a_vod) {
  const auto m = register_member("alice");
  const auto room_id = new_room(m);
  publish_viewable(m.stream_key_id, "s1");
  BOOST_REQUIRE(start_live(room_id).ok());
  auto early = end_live(room_id, false);
  BOOST_REQUIRE(!early.ok());
  BOOST_TEST((early.error().code == error_code::stream_key_state_not_inactive_live));
  BOOST_TEST((room(room_id).state == room_state::live));

  publisher_gone(m.stream_key_id, "s1");
  auto ended = end_live(room_id, false);
  BOOST_REQUIRE_MESSAGE(ended.ok(), (ended.ok() ? "" : ended.error().message));
  const auto r = room(room_id);
  BOOST_TEST((r.state == room_state::ended));
  BOOST_TEST((r.vod_state == vod_state::archiving));
  BOOST_REQUIRE(r.video_post_id.has_value());
  const auto post = state_of<video_post_aggregate>(std::to_string(*r.video_post_id));
  BOOST_TEST((post.state == post_state::archiving));
  BOOST_TEST(post.room_id == room_id);
  const auto k = key(m.stream_key_id);
  BOOST_TEST((k.state == key_state::inactive));
  BOOST_TEST(!k.live_room_id.has_value());
  // Ending twice is harmless; an ended room is never live again.
  BOOST_TEST(end_live(room_id, false).ok());
  publish_viewable(m.stream_key_id, "s2");
  auto again = start_live(room_id);
  BOOST_REQUIRE(!again.ok());
  BOOST_TEST((again.error().code == error_code::video_room_state_not_scheduled));
}

BOOST_AUTO_TEST_CASE(a_forced_end_cuts_the_publisher_and_reissues_the_key) {
  const auto m = register_member("alice");
  const auto room_id = new_room(m);
  publish_viewable(m.stream_key_id, "s1");
  BOOST_REQUIRE(start_live(room_id).ok());
  const auto before = key(m.stream_key_id);
  auto f = end_live(room_id, true);
  BOOST_REQUIRE_MESSAGE(f.ok(), (f.ok() ? "" : f.error().message));
  const auto after = key(m.stream_key_id);
  BOOST_TEST((after.state == key_state::inactive));
  BOOST_TEST(after.value != before.value);
  BOOST_TEST(after.preview_id != before.preview_id);
  BOOST_TEST((room(room_id).state == room_state::ended));
  BOOST_TEST(!storage::find_by(rt->views(), "key_value", before.value).has_value());
  BOOST_TEST(storage::find_by(rt->views(), "key_value", after.value).has_value());
  // The old value no longer publishes.
  auto stale = publish(m.stream_key_id, "s2", before.value);
  BOOST_REQUIRE(!stale.ok());
  BOOST_TEST((stale.error().code == error_code::stream_key_not_publishable));
}

BOOST_AUTO_TEST_CASE(force_terminate_of_an_idle_key_changes_nothing) {
  const auto m = register_member("alice");
  const auto before = key(m.stream_key_id);
  auto f = wait_for<result<flow>>([&](auto done) { rt->force_terminate_key(app, m.stream_key_id, tester, done); });
  BOOST_REQUIRE_MESSAGE(f.ok(), (f.ok() ? "" : f.error().message));
  BOOST_TEST(key(m.stream_key_id).value == before.value);
}

BOOST_AUTO_TEST_CASE(deleting_a_live_member_ends_its_broadcast_and_revokes_its_key) {
  const auto m = register_member("alice");
  const auto room_id = new_room(m);
  publish_viewable(m.stream_key_id, "s1");
  BOOST_REQUIRE(start_live(room_id).ok());
  auto f = wait_for<result<flow>>([&](auto done) { rt->delete_member(app, "alice", tester, done); });
  BOOST_REQUIRE_MESSAGE(f.ok(), (f.ok() ? "" : f.error().message));
  BOOST_TEST(!state_of<member_aggregate>("alice").present());
  const auto k = key(m.stream_key_id);
  BOOST_TEST(k.revoked);
  BOOST_TEST((k.state == key_state::inactive));
  BOOST_TEST((room(room_id).state == room_state::ended));
  auto refused = publish(m.stream_key_id, "s2");
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST((refused.error().code == error_code::stream_key_not_publishable));
  auto again = wait_for<result<flow>>([&](auto done) { rt->delete_member(app, "alice", tester, done); });
  BOOST_REQUIRE(!again.ok());
  BOOST_TEST((again.error().code == error_code::member_not_found));
}

// ---- one member's work in order (process_manager lanes)

BOOST_AUTO_TEST_CASE(a_lane_runs_its_jobs_one_at_a_time_in_order_beside_other_lanes) {
  process_manager pm{*rt, 4};
  std::mutex mu;
  std::vector<int> order;
  std::atomic<int> inside{0}, overlaps{0}, finished{0};
  // Lane "b"'s job waits for one of lane "a"'s to be running: lanes run side by side.
  std::atomic<bool> a_running{false}, b_saw_a{false};
  pm.post("b", [&] {
    b_saw_a = eventually([&] { return a_running.load(); }, std::chrono::seconds(5));
    ++finished;
  });
  constexpr int jobs = 200;
  for (int i = 0; i < jobs; ++i)
    pm.post("a", [&, i] {
      if (inside.fetch_add(1) != 0)
        ++overlaps;
      a_running = true;
      {
        std::lock_guard lock{mu};
        order.push_back(i);
      }
      std::this_thread::yield();
      inside.fetch_sub(1);
      ++finished;
    });
  BOOST_REQUIRE(eventually([&] { return finished.load() == jobs + 1; }, std::chrono::seconds(10)));
  BOOST_TEST(overlaps.load() == 0);
  BOOST_TEST(b_saw_a.load());
  std::lock_guard lock{mu};
  BOOST_REQUIRE(order.size() == std::size_t{jobs});
  for (int i = 0; i < jobs; ++i)
    BOOST_TEST(order[static_cast<std::size_t>(i)] == i);
}

BOOST_AUTO_TEST_CASE(a_publisher_flapping_in_a_live_room_leaves_the_room_in_step_with_its_key) {
  // Given a live room
  const auto m = register_member("alice");
  const auto room_id = new_room(m);
  publish_viewable(m.stream_key_id, "s0");
  BOOST_REQUIRE(start_live(room_id).ok());
  // When its publisher drops and returns many times, as fast as the RTMP side reports it
  std::atomic<int> done{0};
  int sent = 0;
  auto command = [&](stream_key_aggregate::command c) {
    ++sent;
    rt->key_command(app, m.stream_key_id, std::move(c), tester, [&](result<outcome<stream_key_aggregate>>) { ++done; });
  };
  for (int i = 1; i <= 30; ++i) {
    command(disconnect_publisher{"s" + std::to_string(i - 1), "publisher closed"});
    command(connect_publisher{key(m.stream_key_id).value, std::nullopt, output_mode::rtmp, "127.0.0.1:50000",
                              "s" + std::to_string(i)});
    command(mark_viewable{"s" + std::to_string(i)});
  }
  command(disconnect_publisher{"s30", "publisher closed"});
  BOOST_REQUIRE(eventually([&] { return done.load() == sent; }, std::chrono::seconds(30)));
  // Then the room followed the key in order: paused with it, and a plain End Live ends both
  BOOST_TEST((key(m.stream_key_id).state == key_state::inactive_live));
  BOOST_TEST((room(room_id).state == room_state::live_inactive));
  auto end = end_live(room_id, false);
  BOOST_REQUIRE_MESSAGE(end.ok(), (end.ok() ? "" : end.error().message));
  BOOST_TEST((room(room_id).state == room_state::ended));
  BOOST_TEST((key(m.stream_key_id).state == key_state::inactive));
}

namespace {
// Broadcasts LIVE among the ids handed out after `from`.
int live_broadcasts_since(runtime_fixture& f, std::int64_t from) {
  auto to = f.rt->next_id();
  BOOST_REQUIRE(to.ok());
  int live = 0;
  for (auto id = from + 1; id < *to; ++id)
    if (const auto b = f.state_of<broadcast_aggregate>(std::to_string(id)); b.exists && b.state == broadcast_state::live)
      ++live;
  return live;
}
} // namespace

BOOST_AUTO_TEST_CASE(start_live_called_three_times_at_once_starts_one_broadcast) {
  const auto m = register_member("alice");
  const auto room_id = new_room(m);
  publish_viewable(m.stream_key_id, "s1");
  std::vector<std::future<result<flow>>> calls;
  for (int i = 0; i < 3; ++i) {
    auto p = std::make_shared<std::promise<result<flow>>>();
    calls.push_back(p->get_future());
    rt->start_live(app, room_id, tester, [p](result<flow> r) { p->set_value(std::move(r)); });
  }
  int started = 0;
  for (auto& c : calls) {
    auto r = c.get();
    if (r.ok())
      ++started;
    else
      BOOST_TEST((r.error().code == error_code::video_room_state_not_scheduled), r.error().message);
  }
  BOOST_TEST(started == 1);
  BOOST_TEST(live_broadcasts_since(*this, room_id) == 1);
  BOOST_TEST(storage::members_of(rt->views(), "open_flow").empty());
}

BOOST_AUTO_TEST_CASE(a_cancel_racing_start_live_wins_whole_or_loses_whole) {
  const auto m = register_member("alice");
  publish_viewable(m.stream_key_id, "s1");
  for (int round = 0; round < 10; ++round) {
    BOOST_TEST_CONTEXT("round " << round) {
      const auto room_id = new_room(m);
      auto started = std::make_shared<std::promise<result<flow>>>();
      auto cancelled = std::make_shared<std::promise<result<outcome<video_room_aggregate>>>>();
      rt->start_live(app, room_id, tester, [started](result<flow> r) { started->set_value(std::move(r)); });
      rt->cancel_room(app, room_id, tester, [cancelled](auto r) { cancelled->set_value(std::move(r)); });
      const auto s = started->get_future().get();
      const auto c = cancelled->get_future().get();
      BOOST_TEST(s.ok() != c.ok()); // exactly one of them
      const auto k = key(m.stream_key_id);
      if (c.ok()) {
        // Cancelled first: nothing of the Start Live happened
        BOOST_TEST((room(room_id).state == room_state::cancelled));
        BOOST_TEST((k.state == key_state::active));
        BOOST_TEST(live_broadcasts_since(*this, room_id) == 0);
      } else {
        // Started first: the cancel was refused, and the broadcast ends as usual
        BOOST_TEST((room(room_id).state == room_state::live));
        BOOST_TEST(k.live_room_id.value_or(0) == room_id);
        BOOST_REQUIRE(end_live(room_id, true).ok());
        publish_viewable(m.stream_key_id, "s-round-" + std::to_string(round));
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
