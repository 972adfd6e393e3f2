// (beyond) The reconnect window over a real runtime: a room left LIVE_INACTIVE past its app's
// window ends itself and its video post is made; a publisher back in time keeps it live; a window
// that is off ends nothing; a restart keeps the deadline.
#include "actors/reconnect_windows.hpp"
#include "runtime_fixture.hpp"

using namespace onair::testing;

namespace {

struct windows_fixture : runtime_fixture {
  std::int64_t window_s = 1;
  std::unique_ptr<reconnect_windows> windows;

  void start_windows() {
    windows = std::make_unique<reconnect_windows>(*rt, [this](app_id) { return window_s; });
    windows->start();
  }
  // A member's room LIVE, its publisher then gone (LIVE_INACTIVE).
  std::pair<member, std::int64_t> paused_room(const std::string& name) {
    const auto m = register_member(name);
    const auto room_id = new_room(m);
    publish_viewable(m.stream_key_id, "s1");
    BOOST_REQUIRE(start_live(room_id).ok());
    publisher_gone(m.stream_key_id, "s1");
    BOOST_REQUIRE((room(room_id).state == room_state::live_inactive));
    return {m, room_id};
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(reconnect_window, windows_fixture)

BOOST_AUTO_TEST_CASE(a_room_left_live_inactive_past_the_window_ends_itself_and_is_archived) {
  // Given a window of 1 s, and a room whose publisher left
  start_windows();
  const auto [m, paused_room_id] = paused_room("alice");
  const auto room_id = paused_room_id; // a variable, not a binding: lambdas capture it (clang 14)
  const auto paused = std::chrono::steady_clock::now();
  // When nobody comes back, then the room ends (not forced) about a second later, its post made
  BOOST_TEST_REQUIRE(eventually([&] { return room(room_id).state == room_state::ended; }, std::chrono::seconds{10}));
  BOOST_TEST((std::chrono::steady_clock::now() - paused >= std::chrono::milliseconds{900}));
  const auto r = room(room_id);
  BOOST_TEST((r.vod_state == vod_state::archiving));
  BOOST_TEST(r.video_post_id.has_value());
  BOOST_TEST((key(m.stream_key_id).state == key_state::inactive));
}

BOOST_AUTO_TEST_CASE(a_publisher_back_within_the_window_keeps_the_room_live) {
  // Given a window of 1 s, and a room whose publisher left and came back at once
  start_windows();
  const auto [m, paused_room_id] = paused_room("bob");
  const auto room_id = paused_room_id; // a variable, not a binding: lambdas capture it (clang 14)
  publish_viewable(m.stream_key_id, "s2");
  BOOST_REQUIRE((room(room_id).state == room_state::live));
  // Then, past the window, the room is still LIVE
  BOOST_TEST(!eventually([&] { return room(room_id).state != room_state::live; }, std::chrono::milliseconds{1500}));
}

BOOST_AUTO_TEST_CASE(with_the_window_off_a_paused_room_waits_for_end_live) {
  window_s = 0;
  start_windows();
  const auto [m, paused_room_id] = paused_room("carol");
  const auto room_id = paused_room_id; // a variable, not a binding: lambdas capture it (clang 14)
  BOOST_TEST(!eventually([&] { return room(room_id).state != room_state::live_inactive; }, std::chrono::milliseconds{1500}));
}

BOOST_AUTO_TEST_CASE(a_room_paused_before_a_restart_still_ends_after_it) {
  // Given a room paused while no window was watched (onair went down)
  const auto [m, paused_room_id] = paused_room("dave");
  const auto room_id = paused_room_id; // a variable, not a binding: lambdas capture it (clang 14)
  restart();
  // When onair starts again with its windows
  start_windows();
  // Then the room ends, its deadline taken from its pause
  BOOST_TEST(eventually([&] { return room(room_id).state == room_state::ended; }, std::chrono::seconds{10}));
}

BOOST_AUTO_TEST_SUITE_END()
