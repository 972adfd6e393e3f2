// The lists of api.md with their filters, over read models the real flows produced.
#include "runtime_fixture.hpp"
#include "storage/queries.hpp"

using namespace onair::testing;

BOOST_FIXTURE_TEST_SUITE(queries, runtime_fixture)

BOOST_AUTO_TEST_CASE(members_filter_by_app_user_id_prefix_and_hide_the_deleted) {
  register_member("alice");
  register_member("alfred");
  register_member("bob");
  BOOST_REQUIRE(wait_for<result<flow>>([&](auto done) { rt->delete_member(app, "alfred", tester, done); }).ok());
  const auto all = storage::list_members(rt->views(), app, {});
  BOOST_TEST(all.total_elements == 2);
  const auto al = storage::list_members(rt->views(), app, {}, {.app_user_id_prefix = "al"});
  BOOST_REQUIRE(al.total_elements == 1);
  BOOST_TEST(al.content[0].state.app_user_id == "alice");
}

BOOST_AUTO_TEST_CASE(rooms_filter_by_state_type_and_owner) {
  const auto alice = register_member("alice");
  const auto bob = register_member("bob");
  const auto live = new_room(alice, "live");
  new_room(alice, "later");
  new_room(bob, "bob's");
  publish_viewable(alice.stream_key_id, "s1");
  BOOST_REQUIRE(start_live(live).ok());
  const auto& v = rt->views();
  BOOST_TEST(storage::list_rooms(v, app, {}).total_elements == 3);
  const auto on_air = storage::list_rooms(v, app, {}, {.state = room_state::live});
  BOOST_REQUIRE(on_air.total_elements == 1);
  BOOST_TEST(on_air.content[0].state.id == live);
  BOOST_TEST(storage::list_rooms(v, app, {}, {.app_user_id = "alice"}).total_elements == 2);
  BOOST_TEST(storage::list_rooms(v, app, {}, {.type = room_type::broadcast_rtmp}).total_elements == 3);
  BOOST_TEST(storage::list_rooms(v, app + 1, {}).total_elements == 0);
}

BOOST_AUTO_TEST_CASE(keys_filter_by_state_and_posts_by_room_and_owner) {
  const auto alice = register_member("alice");
  register_member("bob");
  const auto room_id = new_room(alice);
  publish_viewable(alice.stream_key_id, "s1");
  BOOST_REQUIRE(start_live(room_id).ok());
  const auto& v = rt->views();
  const auto live_keys = storage::list_keys(v, app, {}, {.state = key_state::active_live});
  BOOST_REQUIRE(live_keys.total_elements == 1);
  BOOST_TEST(live_keys.content[0].state.id == alice.stream_key_id);
  BOOST_TEST(storage::list_keys(v, app, {}, {.state = key_state::inactive}).total_elements == 1);

  BOOST_REQUIRE(end_live(room_id, true).ok());
  BOOST_TEST(storage::list_posts(v, app, {}).total_elements == 1);
  BOOST_TEST(storage::list_posts(v, app, {}, {.video_room_id = room_id}).total_elements == 1);
  BOOST_TEST(storage::list_posts(v, app, {}, {.video_room_id = room_id + 1000}).total_elements == 0);
  BOOST_TEST(storage::list_posts(v, app, {}, {.app_user_id = "bob"}).total_elements == 0);
}

BOOST_AUTO_TEST_SUITE_END()
