// The media server's hooks answered by the aggregates (actors/ingest): decisions taken off the
// event loop that asks, and hubs opened in step with the broadcasts that close them.
#include "runtime_fixture.hpp"

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include "actors/ingest.hpp"
#include "media/fanout/hub.hpp"
#include "eventually.hpp"

using namespace onair::testing;
namespace rtmp = onair::media::rtmp;
namespace fanout = onair::media::fanout;

namespace {

struct ingest_fixture : runtime_fixture {
  onair::media::counters stats;
  fanout::registry hubs{{}, &stats};
  std::unique_ptr<ingest> in = std::make_unique<ingest>(*rt, hubs);

  ~ingest_fixture() {
    rt->drain(); // jobs still holding `in`
    in.reset();
  }

  // What the RTMP server's loop is told, and on which thread.
  template <class D>
  struct answered {
    D decision;
    std::thread::id thread;
  };

  answered<rtmp::publish_decision> authorize(const std::string& stream_key, std::uint64_t session,
                                             unsigned publish_number = 1) {
    rtmp::publish_request req{session, "live", stream_key, "", "rtmp://127.0.0.1/live", "127.0.0.1:50000",
                              publish_number};
    return wait_for<answered<rtmp::publish_decision>>([&](auto done) {
      in->authorize_publish(req, [done](rtmp::publish_decision d) { done({std::move(d), std::this_thread::get_id()}); });
    });
  }
  answered<rtmp::play_decision> play(const std::string& playback_id, std::uint64_t session) {
    rtmp::play_request req{session, "play", playback_id, "127.0.0.1:50001"};
    return wait_for<answered<rtmp::play_decision>>([&](auto done) {
      in->resolve_play(req, [done](rtmp::play_decision d) { done({std::move(d), std::this_thread::get_id()}); });
    });
  }
};

// Whether a hub has been closed, as a player reading it learns.
bool closed(fanout::hub& h) {
  fanout::cursor c;
  std::vector<fanout::message_ptr> out;
  return h.read(c, out, 1 << 20).closed;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(ingest_hooks, ingest_fixture)

BOOST_AUTO_TEST_CASE(the_loop_that_asks_never_reads_the_views_itself) {
  // Given a member's key
  const auto m = register_member("alice");
  const auto k = key(m.stream_key_id);
  const auto loop = std::this_thread::get_id();
  // When a loop asks about an unknown key and a known one
  const auto unknown = authorize("not-a-key", 1);
  const auto known = authorize(k.value, 2);
  // Then every answer comes from another thread: the lookups ran there
  BOOST_TEST(!unknown.decision.hub);
  BOOST_TEST(unknown.decision.reason == "unknown stream key");
  BOOST_TEST((unknown.thread != loop));
  BOOST_TEST(known.decision.hub != nullptr);
  BOOST_TEST((known.thread != loop));
}

BOOST_AUTO_TEST_CASE(players_are_answered_at_once_from_memory_while_flows_hold_every_runtime_thread) {
  // Given a viewable key, and both of the runtime's threads held, as flows waiting on actors hold them
  const auto m = register_member("alice");
  const auto k = key(m.stream_key_id);
  publish_viewable(m.stream_key_id, "s1");
  std::promise<void> release;
  const auto released = release.get_future().share();
  std::atomic<int> held{0};
  struct let_go {
    std::promise<void>& p;
    ~let_go() { p.set_value(); }
  } at_exit{release};
  for (int i = 0; i < 2; ++i)
    rt->post([released, &held] {
      ++held;
      released.wait();
    });
  BOOST_REQUIRE(eventually([&] { return held == 2; }));
  const auto loop = std::this_thread::get_id();
  // When players ask for the key's preview and for nothing, and an encoder presents a wrong key
  std::optional<answered<rtmp::play_decision>> player, nowhere;
  in->resolve_play({1, "play", k.preview_id, "127.0.0.1:50001"},
                   [&](rtmp::play_decision d) { player = answered<rtmp::play_decision>{std::move(d), std::this_thread::get_id()}; });
  in->resolve_play({2, "play", "no-such-playback-id", "127.0.0.1:50001"},
                   [&](rtmp::play_decision d) { nowhere = answered<rtmp::play_decision>{std::move(d), std::this_thread::get_id()}; });
  std::promise<rtmp::publish_decision> refused;
  in->authorize_publish({3, "live", "not-a-key", "", "rtmp://127.0.0.1/live", "127.0.0.1:50000", 1},
                        [&](rtmp::publish_decision d) { refused.set_value(std::move(d)); });
  // Then the players were answered before resolve_play returned, on the asking thread, and the
  // wrong key is refused without a runtime thread
  BOOST_REQUIRE(player.has_value());
  BOOST_TEST(player->decision.hub == hubs.find(ingest::hub_name(app, m.stream_key_id)));
  BOOST_TEST(player->decision.hub != nullptr);
  BOOST_TEST((player->thread == loop));
  BOOST_REQUIRE(nowhere.has_value());
  BOOST_TEST(!nowhere->decision.hub);
  auto answer = refused.get_future();
  BOOST_REQUIRE((answer.wait_for(std::chrono::seconds(10)) == std::future_status::ready));
  BOOST_TEST(answer.get().reason == "unknown stream key");
  BOOST_TEST(held == 2);
}

BOOST_AUTO_TEST_CASE(a_watcher_hears_of_each_accepted_publish_with_its_mode_and_hub_before_the_publisher) {
  // Given a watcher of streams (as the CMAF transcoder's factory is)
  std::mutex mu;
  std::vector<ingest::stream_started> heard;
  in->watch_streams([&](const ingest::stream_started& s) {
    std::lock_guard lock{mu};
    heard.push_back(s);
  });
  const auto m = register_member("alice");
  const auto k = key(m.stream_key_id);
  // When a publish in CMAF mode is accepted, and a wrong key refused
  rtmp::publish_request req{1, "live", k.value, "CMAF", "rtmp://127.0.0.1/live", "127.0.0.1:50000", 1};
  const auto d = wait_for<rtmp::publish_decision>([&](auto done) { in->authorize_publish(req, done); });
  const auto refused = authorize("not-a-key", 2);
  // Then the watcher heard of the accepted one only, before its answer, with its mode and hub
  std::lock_guard lock{mu};
  BOOST_REQUIRE(heard.size() == 1U);
  BOOST_TEST((heard[0].mode == onair::domain::output_mode::cmaf));
  BOOST_TEST(heard[0].key_id == m.stream_key_id);
  BOOST_TEST((heard[0].hub == d.hub));
  BOOST_TEST(!refused.decision.hub);
}

BOOST_AUTO_TEST_CASE(a_player_answered_just_before_the_preview_ends_gets_the_closed_hub_not_a_new_one) {
  // Given a publisher on its key, viewable (ACTIVE), and a player resolved by the preview id
  const auto m = register_member("alice");
  const auto k = key(m.stream_key_id);
  const auto pub = authorize(k.value, 1);
  BOOST_REQUIRE(pub.decision.hub != nullptr);
  in->on_first_keyframe(1);
  BOOST_REQUIRE(eventually([&] { return key(m.stream_key_id).state == key_state::active; }));
  const auto player = play(k.preview_id, 2);
  BOOST_REQUIRE(player.decision.hub != nullptr);
  BOOST_TEST((player.decision.hub == pub.decision.hub));
  // When the publisher goes (the preview is over) before the player's answer reaches its loop
  in->on_publish_end(1, "publisher closed");
  BOOST_REQUIRE(eventually([&] { return hubs.find(ingest::hub_name(app, m.stream_key_id)) == nullptr; }));
  // Then the answer holds the hub that was closed, which ends the player, and nothing reopened it
  BOOST_TEST(closed(*player.decision.hub));
  BOOST_TEST(hubs.size() == 0U);
  // and a player asking now is told there is no such stream
  BOOST_TEST(!play(k.preview_id, 3).decision.hub);
  BOOST_TEST(hubs.size() == 0U);
}

BOOST_AUTO_TEST_CASE(a_paused_room_is_played_from_the_hub_its_publisher_comes_back_to) {
  // Given a live room whose publisher dropped, and no hub left for it (as after a restart)
  const auto m = register_member("alice");
  const auto k = key(m.stream_key_id);
  const auto room_id = new_room(m);
  publish_viewable(m.stream_key_id, "s1");
  BOOST_REQUIRE(start_live(room_id).ok());
  publisher_gone(m.stream_key_id, "s1");
  BOOST_REQUIRE((room(room_id).state == room_state::live_inactive));
  BOOST_REQUIRE(hubs.size() == 0U);
  // When a player asks by the room's playback id, then the publisher returns
  const auto player = play(room(room_id).public_id, 1);
  const auto back = authorize(k.value, 2);
  // Then the player waits on the very hub the returning publisher feeds
  BOOST_REQUIRE(player.decision.hub != nullptr);
  BOOST_TEST((back.decision.hub == player.decision.hub));
  BOOST_TEST(!closed(*player.decision.hub));
  // And once the broadcast ends, the hub is closed and a new player is refused
  in->on_publish_end(2, "publisher closed");
  BOOST_REQUIRE(eventually([&] { return key(m.stream_key_id).state == key_state::inactive_live; }));
  BOOST_REQUIRE(end_live(room_id, false).ok());
  BOOST_REQUIRE(eventually([&] { return hubs.size() == 0U; }));
  BOOST_TEST(closed(*player.decision.hub));
  BOOST_TEST(!play(room(room_id).public_id, 3).decision.hub);
}

BOOST_AUTO_TEST_CASE(a_connection_that_publishes_again_opens_a_session_of_its_own) {
  // Given a publish on connection 7 that ended
  const auto m = register_member("alice");
  const auto k = key(m.stream_key_id);
  BOOST_REQUIRE(authorize(k.value, 7).decision.hub != nullptr);
  const auto first = key(m.stream_key_id).session_id;
  in->on_publish_end(7, "unpublished");
  BOOST_REQUIRE(eventually([&] { return key(m.stream_key_id).state == key_state::inactive; }));
  // When the same connection publishes again
  const auto again = authorize(k.value, 7, 2);
  // Then it is accepted under a session id of its own, and its end is recorded against it
  BOOST_REQUIRE(again.decision.hub != nullptr);
  const auto second = key(m.stream_key_id).session_id;
  BOOST_TEST(second != first);
  BOOST_TEST(second == first + "-2");
  in->on_publish_end(7, "unpublished");
  BOOST_TEST(eventually([&] { return key(m.stream_key_id).state == key_state::inactive; }));
}

BOOST_AUTO_TEST_SUITE_END()
