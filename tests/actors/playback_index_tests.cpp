// The playback index (actors/playback_index): what a playback id plays, given a key's and a
// room's events, and kept in step with a runtime's durable events and reloaded from its views.
#include "runtime_fixture.hpp"

#include "actors/playback_index.hpp"

using namespace onair::testing;

namespace {

using sk = stream_key_aggregate;
using vr = video_room_aggregate;
using stream = playback_index::stream;
constexpr std::int64_t key_id = 7;
constexpr std::int64_t room_id = 50;
constexpr app_id app_1 = 1;

template <class A>
typename A::state fold(const std::vector<typename A::event>& events) {
  auto s = A::initial_state();
  for (const auto& e : events)
    s = A::evolve(std::move(s), e);
  return s;
}

sk::event created() {
  key_created e;
  e.id = key_id;
  e.member_id = 3;
  e.app_user_id = "alice";
  e.value = "secret-0";
  e.preview_id = "preview-0";
  return e;
}
sk::event connected(std::string session, std::optional<std::int64_t> room = std::nullopt) {
  publisher_connected e;
  e.session_id = std::move(session);
  e.room_id = room;
  return e;
}
sk::event viewable(std::string session) {
  stream_viewable e;
  e.session_id = std::move(session);
  return e;
}
sk::event disconnected(std::string session, std::optional<std::int64_t> room = std::nullopt) {
  publisher_disconnected e;
  e.session_id = std::move(session);
  e.room_id = room;
  return e;
}
sk::event attached() {
  live_attached e;
  e.room_id = room_id;
  return e;
}
sk::event detached() {
  live_detached e;
  e.room_id = room_id;
  return e;
}
sk::event forced_end(std::string session, std::string new_preview_id) {
  force_ended e;
  e.new_value = "secret-1";
  e.new_preview_id = std::move(new_preview_id);
  e.had_publisher = true;
  e.session_id = std::move(session);
  return e;
}
vr::event room_made() {
  room_created e;
  e.id = room_id;
  e.public_id = "room-0";
  e.member_id = 3;
  e.app_user_id = "alice";
  return e;
}
vr::event started() {
  live_started e;
  e.stream_key_id = key_id;
  e.broadcast_id = 9;
  return e;
}
vr::event ended() {
  live_ended e;
  e.video_post_id = 11;
  return e;
}

// The index told of a key's and a room's histories, as its observer tells it of each state.
struct given_histories {
  playback_index index;
  std::vector<sk::event> key;
  std::vector<vr::event> room;

  given_histories& key_events(std::vector<sk::event> events) {
    key.insert(key.end(), events.begin(), events.end());
    index.put(app_1, fold<sk>(key));
    return *this;
  }
  given_histories& room_events(std::vector<vr::event> events) {
    room.insert(room.end(), events.begin(), events.end());
    index.put(app_1, fold<vr>(room));
    return *this;
  }
  [[nodiscard]] std::optional<stream> plays(const std::string& playback_id) const { return index.find(playback_id); }
};

const std::optional<stream> the_key = stream{app_1, key_id};
const std::optional<stream> nothing;

} // namespace

BOOST_AUTO_TEST_SUITE(playback_index_from_events)

BOOST_AUTO_TEST_CASE(a_key_plays_by_its_preview_id_only_while_viewable) {
  given_histories g;
  BOOST_TEST((g.key_events({created()}).plays("preview-0") == nothing));
  BOOST_TEST((g.key_events({connected("s1")}).plays("preview-0") == nothing)); // ACTIVE_PREP
  BOOST_TEST((g.key_events({viewable("s1")}).plays("preview-0") == the_key));  // ACTIVE
  BOOST_TEST((g.key_events({disconnected("s1")}).plays("preview-0") == nothing));
  BOOST_TEST(g.index.size() == 0U);
  BOOST_TEST((g.plays("no-such-id") == nothing));
}

BOOST_AUTO_TEST_CASE(a_room_on_air_plays_its_key_by_the_rooms_playback_id_as_the_preview_goes_on) {
  given_histories g;
  g.key_events({created(), connected("s1"), viewable("s1"), attached()});
  BOOST_TEST((g.room_events({room_made()}).plays("room-0") == nothing)); // SCHEDULED
  g.room_events({started()});
  BOOST_TEST((g.plays("room-0") == the_key));
  BOOST_TEST((g.plays("preview-0") == the_key)); // ACTIVE_LIVE is viewable
  BOOST_TEST((g.index.key_state(app_1, key_id) == std::optional{key_state::active_live}));
}

BOOST_AUTO_TEST_CASE(a_paused_room_plays_its_key_for_the_publisher_to_come_back_to_and_the_preview_does_not) {
  given_histories g;
  g.key_events({created(), connected("s1"), viewable("s1"), attached()});
  g.room_events({room_made(), started()});
  g.key_events({disconnected("s1", room_id)}); // INACTIVE_LIVE
  g.room_events({live_paused{}});
  BOOST_TEST((g.plays("room-0") == the_key));
  BOOST_TEST((g.plays("preview-0") == nothing));
  BOOST_TEST((g.index.key_state(app_1, key_id) == std::optional{key_state::inactive_live}));
}

BOOST_AUTO_TEST_CASE(a_room_whose_key_end_live_detached_plays_nothing_before_the_room_itself_ends) {
  given_histories g;
  g.key_events({created(), connected("s1"), viewable("s1"), attached()});
  g.room_events({room_made(), started()});
  g.key_events({disconnected("s1", room_id)});
  g.room_events({live_paused{}});
  // End Live detaches the key first (its hub is closed then), and ends the room last.
  g.key_events({detached()});
  BOOST_TEST((g.plays("room-0") == nothing));
  BOOST_TEST((g.index.key_state(app_1, key_id) == std::nullopt));
  g.room_events({ended()});
  BOOST_TEST((g.plays("room-0") == nothing));
  BOOST_TEST(g.index.size() == 0U);
}

BOOST_AUTO_TEST_CASE(a_forced_end_retires_the_preview_id_and_the_new_one_plays_once_viewable) {
  given_histories g;
  g.key_events({created(), connected("s1"), viewable("s1")});
  g.key_events({forced_end("s1", "preview-1")});
  BOOST_TEST((g.plays("preview-0") == nothing));
  BOOST_TEST((g.plays("preview-1") == nothing));
  g.key_events({connected("s2"), viewable("s2")});
  BOOST_TEST((g.plays("preview-1") == the_key));
  BOOST_TEST((g.plays("preview-0") == nothing));
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

// An index following a runtime, as the ingest's does.
struct following : runtime_fixture {
  std::shared_ptr<playback_index> index = follow_now();

  std::shared_ptr<playback_index> follow_now() {
    auto i = std::make_shared<playback_index>();
    playback_index::follow(*rt, i);
    i->load(rt->views());
    return i;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(playback_index_following_a_runtime, following)

BOOST_AUTO_TEST_CASE(a_key_plays_as_soon_as_the_command_that_made_it_viewable_is_answered) {
  // Given a member's key with a publisher on
  const auto m = register_member("alice");
  const auto k = key(m.stream_key_id);
  BOOST_REQUIRE(publish(m.stream_key_id, "s1").ok());
  BOOST_TEST(!index->find(k.preview_id));
  // When its first key frame is recorded, then its publisher goes
  BOOST_REQUIRE(rt->key_command_sync(app, m.stream_key_id, mark_viewable{"s1"}, tester).ok());
  // Then the key plays by the time either command is answered: no wait
  BOOST_TEST((index->find(k.preview_id) == std::optional{stream{app, m.stream_key_id}}));
  publisher_gone(m.stream_key_id, "s1");
  BOOST_TEST(!index->find(k.preview_id));
}

BOOST_AUTO_TEST_CASE(a_room_plays_from_start_live_to_end_live) {
  // Given a viewable key and a scheduled room
  const auto m = register_member("alice");
  publish_viewable(m.stream_key_id, "s1");
  const auto r = new_room(m);
  const auto playback_id = room(r).public_id;
  BOOST_TEST(!index->find(playback_id));
  // When the room goes live, its publisher drops, and End Live ends it
  BOOST_REQUIRE(start_live(r).ok());
  const auto live = index->find(playback_id);
  publisher_gone(m.stream_key_id, "s1");
  const auto paused = index->find(playback_id);
  BOOST_REQUIRE(end_live(r, false).ok());
  // Then it played its key while on air, paused included, and plays nothing once ended
  BOOST_TEST((live == std::optional{stream{app, m.stream_key_id}}));
  BOOST_TEST((paused == std::optional{stream{app, m.stream_key_id}}));
  BOOST_TEST(!index->find(playback_id));
  BOOST_TEST(index->size() == 0U);
}

BOOST_AUTO_TEST_CASE(after_a_restart_it_is_loaded_from_the_views) {
  // Given a live room whose publisher dropped
  const auto m = register_member("alice");
  publish_viewable(m.stream_key_id, "s1");
  const auto r = new_room(m);
  BOOST_REQUIRE(start_live(r).ok());
  publisher_gone(m.stream_key_id, "s1");
  const auto playback_id = room(r).public_id;
  // When the server restarts and a new index is loaded
  index.reset();
  restart();
  index = follow_now();
  // Then the paused room plays its key again (its publisher may come back), and nothing else is held
  BOOST_TEST((index->find(playback_id) == std::optional{stream{app, m.stream_key_id}}));
  BOOST_TEST((index->key_state(app, m.stream_key_id) == std::optional{key_state::inactive_live}));
  BOOST_TEST(!index->find(key(m.stream_key_id).preview_id));
  BOOST_TEST(index->size() == 2U);
}

BOOST_AUTO_TEST_SUITE_END()
