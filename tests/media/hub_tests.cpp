// The fan-out hub: GOP cache start, whole-GOP drops for a slow viewer, timestamp continuity
// across a publisher reconnect, wake-ups on the viewer's loop.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "eventually.hpp"
#include "media/fanout/hub.hpp"
#include "media/net/event_loop.hpp"
#include "media/rtmp/output.hpp"

using namespace onair::media;

namespace {
frame video(std::uint32_t ts, bool key, std::size_t size = 100) {
  return make_frame(frame_kind::video, ts, std::vector<std::uint8_t>(size, key ? 0x17 : 0x27), key);
}
frame audio(std::uint32_t ts) { return make_frame(frame_kind::audio, ts, std::vector<std::uint8_t>(10, 0xAF)); }
frame header(frame_kind k) { return make_frame(k, 0, std::vector<std::uint8_t>(20, 1), false, true); }

using onair::testing::eventually;
constexpr std::chrono::seconds wait_limit{5};

// Reads everything it is woken for, on the loop's thread; counts the wake-ups (passes).
struct test_viewer : fanout::viewer {
  fanout::hub* h = nullptr;
  fanout::cursor c;
  std::vector<fanout::message_ptr> got;
  std::atomic<int> received{0};
  std::atomic<int> passes{0};
  std::atomic<bool> closed{false};
  std::thread::id thread;
  void on_data() override {
    thread = std::this_thread::get_id();
    auto r = h->read(c, got, 1 << 20);
    received = static_cast<int>(got.size());
    closed = r.closed;
    ++passes;
  }
};

// A started loop with v subscribed to h on it.
struct subscribed {
  onair::net::event_loop loop;
  std::shared_ptr<fanout::hub> h;
  test_viewer v;
  explicit subscribed(fanout::hub_options o = {}) : h{std::make_shared<fanout::hub>("k", o)} {
    v.h = h.get();
    loop.start();
    loop.post([this] { h->subscribe(loop, &v); });
    BOOST_REQUIRE(eventually([&] { return h->viewer_count() == 1; }, wait_limit));
  }
  // Returns once the loop has run everything posted to it before this call.
  void barrier() {
    std::atomic<bool> ran{false};
    loop.post([&] { ran = true; });
    BOOST_REQUIRE(eventually([&] { return ran.load(); }, wait_limit));
  }
  // Unsubscribes v on the loop's thread; true once done.
  bool unsubscribe() {
    std::atomic<bool> gone{false};
    loop.post([&] {
      h->unsubscribe(loop, &v);
      gone = true;
    });
    return eventually([&] { return gone.load(); }, wait_limit);
  }
  ~subscribed() {
    (void)unsubscribe(); // a second unsubscribe finds nothing to remove
    loop.stop();
  }
};
} // namespace

BOOST_AUTO_TEST_SUITE(hub)

BOOST_AUTO_TEST_CASE(new_viewer_starts_with_headers_at_the_latest_key_frame) {
  fanout::hub h{"k"};
  h.begin_publish();
  h.publish(header(frame_kind::video));
  h.publish(header(frame_kind::audio));
  h.publish(video(0, true));
  h.publish(video(40, false));
  h.publish(video(80, true));
  h.publish(audio(90));
  h.publish(video(120, false));
  fanout::cursor c;
  std::vector<fanout::message_ptr> out;
  h.read(c, out, 1 << 20);
  BOOST_REQUIRE(out.size() == 5u);
  BOOST_TEST(out[0]->sequence_header);
  BOOST_TEST(out[1]->sequence_header);
  BOOST_TEST(out[2]->keyframe);
  BOOST_TEST(out[2]->timestamp == 80u);
  BOOST_TEST(out[4]->timestamp == 120u);
  // Shared, not copied: the hub and every viewer hold the same serialisation.
  fanout::cursor c2;
  std::vector<fanout::message_ptr> out2;
  h.read(c2, out2, 1 << 20);
  BOOST_TEST(out2[2].get() == out[2].get());
  BOOST_TEST(&rtmp::chunks_of(*out2[2]) == &rtmp::chunks_of(*out[2]));
}

BOOST_AUTO_TEST_CASE(a_late_viewer_gets_codec_side_data_with_the_headers_and_a_new_config_drops_the_old) {
  auto side_data = [](frame_kind k) {
    auto f = make_frame(k, 0, std::vector<std::uint8_t>(8, 2));
    f.codec_metadata = true; // e.g. HEVC colorInfo, or an audio MultichannelConfig
    return f;
  };
  fanout::hub h{"k"};
  h.begin_publish();
  h.publish(header(frame_kind::video));
  h.publish(side_data(frame_kind::video));
  h.publish(header(frame_kind::audio));
  h.publish(side_data(frame_kind::audio));
  h.publish(video(0, true));
  h.publish(video(40, false));
  fanout::cursor c;
  std::vector<fanout::message_ptr> out;
  h.read(c, out, 1 << 20);
  BOOST_REQUIRE(out.size() == 6u);
  BOOST_TEST(out[0]->sequence_header);
  BOOST_TEST(out[1]->size() == 8u); // the video's side data right after its header
  BOOST_TEST(out[2]->sequence_header);
  BOOST_TEST(out[3]->size() == 8u);
  BOOST_TEST(out[4]->keyframe);
  // A new video config (no side data of its own yet): a viewer joining now gets no stale one
  h.publish(header(frame_kind::video));
  h.publish(video(80, true));
  fanout::cursor late;
  std::vector<fanout::message_ptr> late_out;
  h.read(late, late_out, 1 << 20);
  BOOST_REQUIRE(late_out.size() == 4u);
  BOOST_TEST((late_out[1]->kind == frame_kind::audio)); // the audio header follows the video's directly
  BOOST_TEST(late_out[1]->sequence_header);
}

BOOST_AUTO_TEST_CASE(slow_viewer_drops_whole_gops_and_others_are_unaffected) {
  fanout::hub_options o;
  o.max_lag_bytes = 5000;
  fanout::hub h{"k", o};
  h.begin_publish();
  fanout::cursor slow, fast;
  std::vector<fanout::message_ptr> s_out, f_out;
  h.publish(header(frame_kind::video));
  h.publish(video(0, true));
  h.read(slow, s_out, 1 << 20);
  h.read(fast, f_out, 1 << 20);
  std::size_t fast_frames = 0;
  std::uint32_t ts = 0;
  for (int gop = 0; gop < 6; ++gop)
    for (int i = 0; i < 10; ++i) {
      ts += 40;
      h.publish(video(ts, i == 0, 200));
      f_out.clear();
      h.read(fast, f_out, 1 << 20); // keeps up
      fast_frames += f_out.size();
    }
  BOOST_TEST(fast_frames == 60u);
  s_out.clear();
  const auto r = h.read(slow, s_out, 1 << 20);
  BOOST_TEST(r.dropped_gops >= 1u);
  BOOST_TEST(r.dropped_frames >= 10u);
  BOOST_REQUIRE(!s_out.empty());
  BOOST_TEST(s_out[0]->sequence_header); // headers again, then a key frame
  BOOST_TEST(s_out[1]->keyframe);
  BOOST_TEST(s_out[1]->timestamp == ts - 9 * 40);
}

BOOST_AUTO_TEST_CASE(lag_is_measured_in_media_time) {
  // From a clock at 0, and from one 1 s short of the 32-bit wrap, so the lag spans it.
  for (const std::uint32_t start : {0u, 0xFFFFFFFFu - 999u}) {
    BOOST_TEST_CONTEXT("clock starting at " << start) {
      fanout::hub_options o;
      o.max_lag_ms = 1000;
      fanout::hub h{"k", o};
      h.begin_publish();
      fanout::cursor c;
      std::vector<fanout::message_ptr> out;
      h.publish(video(start, true));
      h.read(c, out, 1 << 20);
      // 0.8 s behind with a newer GOP: kept (it will catch up)
      for (std::uint32_t t = 40; t <= 800; t += 40)
        h.publish(video(start + t, t == 400));
      out.clear();
      auto r = h.read(c, out, 1);
      BOOST_TEST(r.dropped_frames == 0u);
      // 2.4 s behind: skips to the latest key frame
      for (std::uint32_t t = 840; t <= 2400; t += 40)
        h.publish(video(start + t, t % 400 == 0));
      out.clear();
      r = h.read(c, out, 1 << 20);
      BOOST_TEST(r.dropped_gops >= 3u);
      BOOST_REQUIRE(!out.empty());
      BOOST_TEST(out[0]->keyframe);
      BOOST_TEST(out[0]->timestamp == start + 2400u); // modular
    }
  }
}

BOOST_AUTO_TEST_CASE(budget_limits_one_read) {
  fanout::hub h{"k"};
  h.begin_publish();
  for (int i = 0; i < 10; ++i)
    h.publish(video(static_cast<std::uint32_t>(i * 40), i == 0, 1000));
  fanout::cursor c;
  std::vector<fanout::message_ptr> out;
  auto r = h.read(c, out, 2500);
  BOOST_TEST(r.more);
  BOOST_TEST(out.size() == 3u);
  out.clear();
  r = h.read(c, out, 1 << 20);
  BOOST_TEST(!r.more);
  BOOST_TEST(out.size() == 7u);
}

BOOST_AUTO_TEST_CASE(timestamps_stay_monotonic_across_a_publisher_reconnect) {
  fanout::hub h{"k"};
  fanout::cursor c;
  std::vector<fanout::message_ptr> out;
  auto s1 = h.begin_publish();
  h.publish(header(frame_kind::video));
  for (std::uint32_t t = 5000; t <= 6000; t += 40)
    h.publish(video(t, t == 5000));
  h.read(c, out, 1 << 20);
  h.end_publish(s1);
  h.begin_publish(); // the encoder restarts its clock at 0
  h.publish(header(frame_kind::video));
  for (std::uint32_t t = 0; t <= 400; t += 40)
    h.publish(video(t, t == 0));
  h.read(c, out, 1 << 20);
  std::uint32_t last = 0;
  for (const auto& m : out) {
    if (m->sequence_header)
      continue;
    BOOST_TEST(m->timestamp >= last);
    last = m->timestamp;
  }
  BOOST_TEST(last > 6000u);
  // A viewer joining now starts at the new session's key frame.
  fanout::cursor late;
  std::vector<fanout::message_ptr> late_out;
  h.read(late, late_out, 1 << 20);
  BOOST_REQUIRE(late_out.size() >= 2u);
  BOOST_TEST(late_out[1]->keyframe);
  BOOST_TEST(late_out[1]->timestamp > 6000u);
}

BOOST_AUTO_TEST_CASE(timestamps_run_on_across_the_32_bit_wrap_and_a_reconnect_after_it) {
  // Given a publisher whose clock is 200 ms short of 2^32 ms (49.7 days live, or an encoder
  // that starts high)
  fanout::hub h{"k"};
  fanout::cursor c;
  std::vector<fanout::message_ptr> out;
  auto s1 = h.begin_publish();
  const std::uint32_t start = 0xFFFFFFFFu - 199u;
  // When its clock wraps to 0 mid-GOP
  for (std::uint32_t t = 0; t <= 400; t += 40)
    h.publish(video(start + t, t == 0));
  h.read(c, out, 1 << 20);
  // and, after the wrap, it reconnects with its clock back at 0
  h.end_publish(s1);
  h.begin_publish();
  for (std::uint32_t t = 0; t <= 80; t += 40)
    h.publish(video(t, t == 0));
  h.read(c, out, 1 << 20);
  // Then viewers see one 40 ms step per frame across the wrap (modulo 2^32, as on the wire),
  // and the reconnect gap after it
  BOOST_REQUIRE(out.size() == 14u);
  BOOST_TEST(out[0]->timestamp == start);
  for (std::size_t i = 1; i < out.size(); ++i) {
    const std::uint32_t step = out[i]->timestamp - out[i - 1]->timestamp;
    BOOST_TEST(step == (i == 11 ? fanout::hub_options{}.reconnect_gap_ms : 40u), "frame " << i);
  }
}

BOOST_AUTO_TEST_CASE(timestamps_run_on_across_the_31_bit_wrap_of_an_ffmpeg_publisher) {
  // Given a publisher that writes 31-bit timestamps (ffmpeg's FLV muxer), 200 ms short of 2^31 ms
  fanout::hub h{"k"};
  fanout::cursor c;
  std::vector<fanout::message_ptr> out;
  h.begin_publish();
  const std::uint32_t start = 0x7FFFFFFFu - 199u;
  // When its clock wraps to 0 mid-GOP, audio and video interleaved
  for (std::uint32_t t = 0; t <= 400; t += 40) {
    h.publish(video((start + t) & 0x7FFFFFFFu, t == 0));
    h.publish(audio((start + t + 20) & 0x7FFFFFFFu));
  }
  h.read(c, out, 1 << 20);
  // Then viewers see 20 ms steps on across it, not a jump back by 24.8 days
  BOOST_REQUIRE(out.size() == 22u);
  BOOST_TEST(out[0]->timestamp == start);
  for (std::size_t i = 1; i < out.size(); ++i)
    BOOST_TEST(out[i]->timestamp - out[i - 1]->timestamp == 20u, "message " << i);
  BOOST_TEST(out.back()->timestamp == start + 420u); // past 2^31: the 32-bit wire clock runs on
}

BOOST_AUTO_TEST_CASE(a_clock_that_steps_back_a_little_is_not_taken_for_a_wrap) {
  // Given a publisher far into its 31-bit clock
  fanout::hub h{"k"};
  fanout::cursor c;
  std::vector<fanout::message_ptr> out;
  h.begin_publish();
  const std::uint32_t t0 = 0x70000000u;
  h.publish(video(t0, true));
  h.publish(video(t0 + 2000u, false));
  // When one frame steps back by a second (an encoder's glitch) and then a frame follows
  h.publish(video(t0 + 1000u, false));
  h.publish(video(t0 + 2040u, false));
  h.read(c, out, 1 << 20);
  // Then the step back is passed on as it is, not read as 24.8 days forward
  BOOST_REQUIRE(out.size() == 4u);
  BOOST_TEST(out[2]->timestamp == t0 + 1000u);
  BOOST_TEST(out[3]->timestamp == t0 + 2040u);
}

BOOST_AUTO_TEST_CASE(a_superseded_publisher_is_ignored) {
  fanout::hub h{"k"};
  const auto old_session = h.begin_publish();
  const auto new_session = h.begin_publish();
  BOOST_TEST(!h.publish(video(0, true), old_session));
  BOOST_TEST(h.publish(video(0, true), new_session));
  h.end_publish(old_session); // late end of the old one leaves the new one publishing
  BOOST_TEST(h.publishing());
}

BOOST_AUTO_TEST_CASE(viewer_joining_mid_session_without_cache_waits_for_a_key_frame) {
  fanout::hub h{"k"};
  h.begin_publish();
  fanout::cursor c;
  std::vector<fanout::message_ptr> out;
  h.read(c, out, 1 << 20);
  h.publish(video(0, false));
  h.publish(audio(10));
  h.publish(video(40, true));
  h.read(c, out, 1 << 20);
  BOOST_REQUIRE(out.size() == 2u);
  BOOST_TEST((out[0]->kind == frame_kind::audio));
  BOOST_TEST(out[1]->keyframe);
}

BOOST_AUTO_TEST_CASE(publishes_wake_viewers_on_their_loop_and_close_ends_them) {
  subscribed s;
  s.h->begin_publish();
  for (int i = 0; i < 50; ++i)
    s.h->publish(video(static_cast<std::uint32_t>(i * 40), i == 0));
  BOOST_TEST(eventually([&] { return s.v.received.load() == 50; }, wait_limit));
  BOOST_TEST((s.v.thread != std::this_thread::get_id()));
  s.h->close();
  BOOST_TEST(eventually([&] { return s.v.closed.load(); }, wait_limit));
  BOOST_TEST(s.unsubscribe());
  BOOST_TEST(s.h->viewer_count() == 0u);
}

BOOST_AUTO_TEST_CASE(audio_waits_for_the_next_video_frame_and_leaves_with_it) {
  // Given a viewer on its loop, and a merge window far longer than the test
  fanout::hub_options o;
  o.merge_window_ms = 60'000;
  subscribed s{o};
  s.h->begin_publish();
  s.h->publish(video(0, true));
  BOOST_REQUIRE(eventually([&] { return s.v.received.load() == 1; }, wait_limit));
  BOOST_TEST(s.v.passes.load() == 1);
  // When audio comes
  for (std::uint32_t i = 0; i < 5; ++i)
    s.h->publish(audio(5 + i));
  // Then it waits: a pass it had woken would have run before this, posted after it
  s.barrier();
  BOOST_TEST(s.v.received.load() == 1);
  // When a video frame follows
  s.h->publish(video(33, false));
  // Then the audio went out with the video frame, in the one pass that frame woke
  BOOST_TEST(eventually([&] { return s.v.received.load() == 7; }, wait_limit));
  BOOST_TEST(s.v.passes.load() == 2);
}

BOOST_AUTO_TEST_CASE(audio_with_no_video_after_it_leaves_when_the_merge_window_ends) {
  // Given a viewer on its loop and a 20 ms merge window
  fanout::hub_options o;
  o.merge_window_ms = 20;
  subscribed s{o};
  s.h->begin_publish();
  s.h->publish(video(0, true));
  BOOST_REQUIRE(eventually([&] { return s.v.received.load() == 1; }, wait_limit));
  // When only audio follows
  s.h->publish(audio(5));
  s.h->publish(audio(28));
  // Then the merge timer sends it anyway, and again for audio after that pass
  BOOST_TEST(eventually([&] { return s.v.received.load() == 3; }, wait_limit));
  s.h->publish(audio(51));
  BOOST_TEST(eventually([&] { return s.v.received.load() == 4; }, wait_limit));
}

BOOST_AUTO_TEST_CASE(without_a_merge_window_every_message_wakes_the_viewer) {
  fanout::hub_options o;
  o.merge_window_ms = 0;
  subscribed s{o};
  s.h->begin_publish();
  s.h->publish(video(0, true));
  BOOST_REQUIRE(eventually([&] { return s.v.received.load() == 1; }, wait_limit));
  s.h->publish(audio(5));
  BOOST_TEST(eventually([&] { return s.v.received.load() == 2; }, wait_limit));
}

BOOST_AUTO_TEST_CASE(a_merge_timer_still_set_when_the_loop_stops_is_freed_with_it) {
  // Given audio waiting on a merge timer that cannot fire during the test
  fanout::hub_options o;
  o.merge_window_ms = 60'000;
  auto s = std::make_unique<subscribed>(o);
  s->h->begin_publish();
  s->h->publish(audio(0));
  // When the loop stops and goes, then nothing runs late and nothing leaks (ASan in ops/test --sanitize)
  s.reset();
}

BOOST_AUTO_TEST_CASE(registry_finds_creates_and_erases) {
  fanout::registry r;
  BOOST_TEST(!r.find("a"));
  auto a = r.find_or_create("a");
  BOOST_TEST(r.find_or_create("a") == a);
  BOOST_TEST(r.size() == 1u);
  r.erase("a");
  BOOST_TEST(!r.find("a"));
  fanout::cursor c;
  std::vector<fanout::message_ptr> out;
  BOOST_TEST(a->read(c, out, 100).closed);
}

BOOST_AUTO_TEST_SUITE_END()
