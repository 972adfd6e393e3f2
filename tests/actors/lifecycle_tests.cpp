// The broadcast lifecycle through the actors: flows across stream key, room and broadcast, with
// every reply given only after the events are durable.
#include "runtime_fixture.hpp"

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
  auto v = rt->key_command_sync(app, m.stream_key_id, mark_viewable{"s1"});
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
  BOOST_REQUIRE(rt->ask_sync<video_room_aggregate>({app, std::to_string(room_id)}, cancel_room{}).ok());
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
  auto ok = rt->ask_sync<video_room_aggregate>(a, first);
  BOOST_REQUIRE(ok.ok());
  BOOST_TEST(ok->version == 2);
  // A writer that read version 1 lost the race: refused, nothing written.
  patch_room stale;
  stale.title = "Stale";
  stale.if_version = 1;
  auto refused = rt->ask_sync<video_room_aggregate>(a, stale);
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
  BOOST_REQUIRE(rt->key_command_sync(app, m.stream_key_id, mark_viewable{"s2"}).ok());
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
  auto f = wait_for<result<flow>>([&](auto done) { rt->force_terminate_key(app, m.stream_key_id, done); });
  BOOST_REQUIRE_MESSAGE(f.ok(), (f.ok() ? "" : f.error().message));
  BOOST_TEST(key(m.stream_key_id).value == before.value);
}

BOOST_AUTO_TEST_CASE(deleting_a_live_member_ends_its_broadcast_and_revokes_its_key) {
  const auto m = register_member("alice");
  const auto room_id = new_room(m);
  publish_viewable(m.stream_key_id, "s1");
  BOOST_REQUIRE(start_live(room_id).ok());
  auto f = wait_for<result<flow>>([&](auto done) { rt->delete_member(app, "alice", done); });
  BOOST_REQUIRE_MESSAGE(f.ok(), (f.ok() ? "" : f.error().message));
  BOOST_TEST(!state_of<member_aggregate>("alice").present());
  const auto k = key(m.stream_key_id);
  BOOST_TEST(k.revoked);
  BOOST_TEST((k.state == key_state::inactive));
  BOOST_TEST((room(room_id).state == room_state::ended));
  auto refused = publish(m.stream_key_id, "s2");
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST((refused.error().code == error_code::stream_key_not_publishable));
  auto again = wait_for<result<flow>>([&](auto done) { rt->delete_member(app, "alice", done); });
  BOOST_REQUIRE(!again.ok());
  BOOST_TEST((again.error().code == error_code::member_not_found));
}

BOOST_AUTO_TEST_SUITE_END()
