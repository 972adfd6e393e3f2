// net::event_loop: what runs, and where, when a loop stops with work still queued.
#include <boost/test/unit_test.hpp>

#include <atomic>

#include <event2/event.h>

#include "eventually.hpp"
#include "media/net/event_loop.hpp"

using namespace onair;
using onair::testing::eventually;

BOOST_AUTO_TEST_SUITE(event_loop)

BOOST_AUTO_TEST_CASE(a_release_posted_just_before_the_loop_stops_still_runs_and_a_plain_post_does_not) {
  // Given a running loop
  net::event_loop loop;
  loop.start();
  std::atomic<bool> released{false}, plain{false}, queued{false};
  // When, from a callback on it, the loop is told to stop and then both kinds of task are posted
  // (a viewer freed by its connection's close, right as the server stops)
  loop.post([&] {
    event_base_loopbreak(loop.base());
    loop.post_release([&] { released = true; });
    loop.post([&] { plain = true; });
    queued = true;
  });
  loop.stop();
  // Then the release runs (in stop()), the plain task is dropped
  BOOST_TEST(queued.load());
  BOOST_TEST(released.load());
  BOOST_TEST(!plain.load());
}

BOOST_AUTO_TEST_CASE(a_release_posted_to_a_loop_never_started_runs_when_it_goes) {
  std::atomic<bool> released{false}, plain{false};
  {
    net::event_loop loop;
    loop.post_release([&] { released = true; });
    loop.post([&] { plain = true; });
  }
  BOOST_TEST(released.load());
  BOOST_TEST(!plain.load());
}

BOOST_AUTO_TEST_CASE(on_a_running_loop_both_kinds_run_on_its_thread_in_order) {
  net::event_loop loop;
  loop.start();
  std::atomic<int> step{0};
  std::atomic<bool> in_loop{true};
  loop.post([&] { in_loop = in_loop && loop.in_loop_thread(); step = step == 0 ? 1 : -1; });
  loop.post_release([&] { in_loop = in_loop && loop.in_loop_thread(); step = step == 1 ? 2 : -1; });
  loop.post([&] { step = step == 2 ? 3 : -1; });
  BOOST_TEST(eventually([&] { return step.load() == 3; }), "step " << step.load());
  BOOST_TEST(in_loop.load());
  loop.stop();
}

BOOST_AUTO_TEST_SUITE_END()
