// The archiver as a projection of the log (actors/archiver.hpp), over a real runtime: it waits for
// a broadcast's recording, fails a post with nothing recorded (post and room, with a code), takes a
// retried post up again, and after a restart does not redo what its checkpoint has passed.
#include "actors/archiver.hpp"
#include "runtime_fixture.hpp"

using namespace onair::testing;

namespace {

struct archiver_fixture : runtime_fixture {
  std::unique_ptr<archiver> arch;

  void start_archiver() {
    archiver::options o;
    o.data_dir = dir;
    o.worker = "test/1";
    arch = std::make_unique<archiver>(*rt, o);
    arch->start();
  }

  // A broadcast that went live and ended; its recording as `record` leaves it. Returns the room.
  std::int64_t ended_broadcast(const std::string& member, const std::function<void(std::int64_t broadcast)>& record) {
    const auto m = register_member(member);
    const auto room_id = new_room(m);
    publish_viewable(m.stream_key_id, "s1");
    BOOST_REQUIRE(start_live(room_id).ok());
    if (record)
      record(*room(room_id).broadcast_id);
    publisher_gone(m.stream_key_id, "s1");
    BOOST_REQUIRE(end_live(room_id, false).ok());
    return room_id;
  }

  video_post post_of(std::int64_t room_id) { return state_of<video_post_aggregate>(std::to_string(*room(room_id).video_post_id)); }

  void tell_broadcast(std::int64_t broadcast_id, broadcast_aggregate::command cmd) {
    auto r = rt->ask_sync<broadcast_aggregate>({app, std::to_string(broadcast_id)}, std::move(cmd), tester);
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(archiver_projection, archiver_fixture)

BOOST_AUTO_TEST_CASE(a_broadcast_with_nothing_recorded_fails_its_post_and_room_with_a_code) {
  // Given a broadcast that ended with nothing recorded
  start_archiver();
  const auto room_id = ended_broadcast("alice", {});
  // When the archiver takes its post up
  BOOST_TEST_REQUIRE(eventually([&] { return post_of(room_id).state == post_state::failed_archiving; }));
  // Then the post and the room say why
  const auto post = post_of(room_id);
  BOOST_TEST(post.error_code == "NOTHING_RECORDED");
  BOOST_TEST(post.error.find("recorded nothing") != std::string::npos, post.error);
  BOOST_TEST(post.attempts == 1);
  BOOST_TEST_REQUIRE(eventually([&] { return room(room_id).vod_state == vod_state::failed_archiving; }));
  BOOST_TEST(room(room_id).vod_error_code == "NOTHING_RECORDED");
}

BOOST_AUTO_TEST_CASE(a_retried_post_is_archived_again_and_its_room_follows) {
  // Given a post that failed
  start_archiver();
  const auto room_id = ended_broadcast("bob", {});
  BOOST_TEST_REQUIRE(eventually([&] { return room(room_id).vod_state == vod_state::failed_archiving; }));
  const auto post_id = std::to_string(*room(room_id).video_post_id);
  // When it is retried
  auto r = rt->ask_sync<video_post_aggregate>({app, post_id}, retry_archive{}, tester);
  BOOST_REQUIRE(r.ok());
  // Then the archiver makes a second attempt, which fails the same way, and the room follows
  BOOST_TEST_REQUIRE(eventually([&] {
    const auto p = post_of(room_id);
    return p.attempts == 2 && p.state == post_state::failed_archiving;
  }));
  BOOST_TEST_REQUIRE(eventually([&] { return room(room_id).vod_state == vod_state::failed_archiving; }));
  const auto events = rt->store().read_stream("video_room/1/" + std::to_string(room_id));
  BOOST_REQUIRE(events.ok());
  long again = 0;
  for (const auto& e : *events)
    again += e.type == vod_archiving_again::type ? 1 : 0;
  BOOST_TEST(again == 1);
}

BOOST_AUTO_TEST_CASE(an_archive_waits_for_its_recording_to_be_complete) {
  // Given a broadcast ended while its recording is still being written
  start_archiver();
  std::int64_t broadcast_id = 0;
  const auto room_id = ended_broadcast("carol", [&](std::int64_t b) {
    broadcast_id = b;
    tell_broadcast(b, start_recording{"recordings/1/" + std::to_string(b)});
  });
  // Then the archiver does not start (the post has no attempt) while the recording is open
  const auto post_id = *room(room_id).video_post_id;
  BOOST_TEST(!eventually([&] { return post_of(room_id).attempts > 0; }, std::chrono::milliseconds{300}));
  BOOST_TEST((post_of(room_id).state == post_state::archiving));
  // When the recorder finishes (with nothing in it), then the archiver takes the post up at once
  tell_broadcast(broadcast_id, complete_recording{});
  BOOST_TEST_REQUIRE(eventually([&] { return post_of(room_id).state == post_state::failed_archiving; }));
  BOOST_TEST(post_of(room_id).attempts == 1);
  BOOST_TEST(post_id > 0);
}

BOOST_AUTO_TEST_CASE(after_a_restart_what_the_checkpoint_passed_is_not_redone) {
  // Given a post the archiver is done with, its checkpoint saved
  start_archiver();
  const auto room_id = ended_broadcast("dave", {});
  BOOST_TEST_REQUIRE(eventually([&] { return room(room_id).vod_state == vod_state::failed_archiving; }));
  BOOST_TEST_REQUIRE(eventually([&] { return arch->figures().checkpoint >= rt->store().last_position() - 1; }));
  // When onair restarts
  arch.reset();
  restart();
  start_archiver();
  const auto second = ended_broadcast("erin", {});
  // Then the new post is archived, and the old one is not touched again
  BOOST_TEST_REQUIRE(eventually([&] { return post_of(second).state == post_state::failed_archiving; }));
  BOOST_TEST(post_of(room_id).attempts == 1);
}

BOOST_AUTO_TEST_CASE(a_post_left_archiving_by_a_crash_is_taken_up_after_the_restart) {
  // Given a post ARCHIVING whose archiver never ran (the process died first)
  const auto room_id = ended_broadcast("fred", {});
  BOOST_TEST((post_of(room_id).state == post_state::archiving));
  // When onair restarts with its archiver
  restart();
  start_archiver();
  // Then the post is taken up and finished
  BOOST_TEST_REQUIRE(eventually([&] { return post_of(room_id).state == post_state::failed_archiving; }));
  BOOST_TEST(post_of(room_id).attempts == 1);
}

BOOST_AUTO_TEST_SUITE_END()
