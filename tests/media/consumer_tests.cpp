// In-process consumers of a hub: lifecycle and samples in order, the lossless bound (a stalled
// consumer fails alone, memory bounded, viewers and the publisher unaffected), the droppable
// policy, a mid-stream attach, configuration changes.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "eventually.hpp"
#include "media/fanout/hub.hpp"

using namespace onair::media;
using onair::testing::eventually;

namespace {
constexpr std::chrono::seconds wait_limit{5};

frame video(std::uint32_t ts, bool key, std::size_t size = 100) {
  // A legacy AVC tag: frame type/codec, packet type 1, composition offset 40, then the NAL units.
  std::vector<std::uint8_t> b(size, 0x55);
  b[0] = key ? 0x17 : 0x27;
  b[1] = 1;
  b[2] = 0, b[3] = 0, b[4] = 40;
  auto f = make_frame(frame_kind::video, ts, b, key);
  f.codec = codec::h264;
  f.composition_offset_ms = 40;
  f.set_data(f.bytes().subspan(5));
  return f;
}
frame audio(std::uint32_t ts) {
  auto f = make_frame(frame_kind::audio, ts, std::vector<std::uint8_t>{0xAF, 1, 9, 9, 9});
  f.codec = codec::aac;
  f.set_data(f.bytes().subspan(2));
  return f;
}
frame mp3(std::uint32_t ts) {
  // SoundFormat 2 (MP3), 44 kHz, 16-bit, stereo; then an MPEG-1 Layer III frame header: no
  // sequence header comes before it.
  auto f = make_frame(frame_kind::audio, ts, std::vector<std::uint8_t>{0x2F, 0xFF, 0xFB, 0x90, 0x64, 0, 0});
  f.codec = codec::mp3;
  f.set_data(f.bytes().subspan(1));
  return f;
}
frame pcm(std::uint32_t ts, std::uint8_t flags) {
  // Legacy FLV audio: the flags byte (here PCM, with its rate, sample size and channels), then samples.
  auto f = make_frame(frame_kind::audio, ts, std::vector<std::uint8_t>{flags, 0, 0, 0, 0});
  f.codec = codec::pcm;
  f.set_data(f.bytes().subspan(1));
  return f;
}
frame video_header(std::uint8_t version) {
  auto f = make_frame(frame_kind::video, 0, std::vector<std::uint8_t>{0x17, 0, 0, 0, 0, 1, version, 3, 4}, false, true);
  f.codec = codec::h264;
  f.set_data(f.bytes().subspan(5));
  return f;
}
frame audio_header() {
  auto f = make_frame(frame_kind::audio, 0, std::vector<std::uint8_t>{0xAF, 0, 0x12, 0x10}, false, true);
  f.codec = codec::aac;
  f.set_data(f.bytes().subspan(2));
  return f;
}

// Records every call as a line; on_sample can be held (a stalled consumer).
struct recording_consumer : fanout::consumer {
  std::mutex mu;
  std::condition_variable cv;
  bool hold = false;
  std::vector<std::string> calls;
  std::vector<fanout::message_ptr> samples;
  std::atomic<bool> ended{false};
  std::vector<codec> audio_configs; // the audio codec of each configuration change that has one

  void add(std::string s) {
    std::lock_guard lock{mu};
    calls.push_back(std::move(s));
  }
  void on_opened(const fanout::stream_info& i) override {
    add(std::string{"opened"} + (i.video_config ? " video" : "") + (i.audio_config ? " audio" : ""));
  }
  void on_config_changed(const fanout::stream_info& i) override {
    if (i.audio_config) {
      std::lock_guard lock{mu};
      if (audio_configs.empty() || audio_configs.back() != i.audio_config->codec)
        audio_configs.push_back(i.audio_config->codec);
    }
    add("config v" + (i.video_config ? std::to_string(i.video_config->data()[1]) : std::string{"-"}) +
        (i.audio_config ? " audio" : ""));
  }
  void on_sample(const fanout::message_ptr& m) override {
    std::unique_lock lock{mu};
    cv.wait(lock, [this] { return !hold; });
    samples.push_back(m);
    calls.push_back(std::string{m->kind == frame_kind::video ? "v" : "a"} + std::to_string(m->dts_ms));
  }
  void on_publisher_gone() override { add("gone"); }
  void on_publisher_back() override { add("back"); }
  void on_closed() override {
    add("closed");
    ended = true;
  }
  void on_failed(std::string_view why) override {
    add("failed");
    BOOST_TEST(!why.empty());
    ended = true;
  }
  void release() {
    {
      std::lock_guard lock{mu};
      hold = false;
    }
    cv.notify_all();
  }
  std::vector<std::string> snapshot() {
    std::lock_guard lock{mu};
    return calls;
  }
};

std::vector<std::string> lines(std::initializer_list<const char*> l) { return {l.begin(), l.end()}; }
} // namespace

BOOST_AUTO_TEST_SUITE(consumers)

BOOST_AUTO_TEST_CASE(a_lossless_consumer_hears_the_lifecycle_and_every_sample_in_order_on_one_timeline) {
  // Given a hub with a consumer attached before anything was published
  counters stats;
  fanout::hub h{"k", {}, &stats};
  auto c = std::make_shared<recording_consumer>();
  auto t = h.attach(c, {.name = "test"});
  BOOST_TEST(stats.consumers_active.load() == 1);
  // When a publisher sends headers and media, leaves, comes back with the same headers, and the
  // stream closes
  auto s1 = h.begin_publish();
  h.publish(video_header(1), s1);
  h.publish(audio_header(), s1);
  h.publish(video(1000, true), s1);
  h.publish(audio(1010), s1);
  h.publish(video(1033, false), s1);
  h.end_publish(s1);
  auto s2 = h.begin_publish();
  h.publish(video_header(1), s2);
  h.publish(audio_header(), s2);
  h.publish(video(0, true), s2);
  h.close();
  BOOST_REQUIRE(eventually([&] { return c->ended.load(); }, wait_limit));
  // Then it heard all of it, in order, the second session continuing the first's timeline just
  // after its last sample, with no header repeated as a change
  BOOST_TEST(c->snapshot() == lines({"opened", "config v1", "config v1 audio", "v1000", "a1010", "v1033", "gone",
                                     "back", "v1073", "closed"}),
             boost::test_tools::per_element());
  // And the samples are the ingest's parse: codec, key frame, timestamps and the codec's bytes
  const auto& k = c->samples.front();
  BOOST_TEST((k->codec == codec::h264));
  BOOST_TEST(k->keyframe);
  BOOST_TEST(k->pts_ms() == 1040);
  BOOST_TEST(k->data().size() == 95u);
  BOOST_TEST(k->data().data() == k->payload->data() + 5); // by reference, not copied
  t->stop();
  BOOST_TEST(stats.consumers_active.load() == 0);
}

BOOST_AUTO_TEST_CASE(a_stalled_lossless_consumer_fails_alone_with_its_memory_bounded) {
  // Given a consumer bounded at 10 KB that stops taking samples
  counters stats;
  fanout::hub h{"k", {}, &stats};
  auto stalled = std::make_shared<recording_consumer>();
  stalled->hold = true;
  auto healthy = std::make_shared<recording_consumer>();
  auto t = h.attach(stalled, {.name = "stalled", .max_queued_bytes = 10'000});
  auto u = h.attach(healthy, {.name = "healthy"});
  // When the publisher sends 100 KB
  auto s = h.begin_publish();
  h.publish(video_header(1), s);
  const auto started = std::chrono::steady_clock::now();
  for (std::uint32_t i = 0; i < 100; ++i)
    BOOST_REQUIRE(h.publish(video(i * 33, i % 30 == 0, 1000), s));
  // Then the publisher never waited for it
  BOOST_TEST((std::chrono::steady_clock::now() - started < std::chrono::seconds{1}));
  // And it failed, counted, what it had queued let go
  BOOST_TEST(t->failed());
  BOOST_TEST(stats.consumer_failures.load() == 1u);
  BOOST_TEST(t->queued_bytes() == 0u);
  // And the other consumer got every sample
  BOOST_REQUIRE(eventually([&] { return healthy->snapshot().size() == 102; }, wait_limit));
  // And once it runs again it hears that it failed, and nothing more
  stalled->release();
  BOOST_REQUIRE(eventually([&] { return stalled->ended.load(); }, wait_limit));
  h.publish(video(4000, true), s);
  h.close();
  BOOST_REQUIRE(eventually([&] { return healthy->ended.load(); }, wait_limit));
  const auto calls = stalled->snapshot();
  BOOST_TEST(calls.back() == "failed");
  BOOST_TEST(calls.size() < 15u); // opened, config, the one it was held in, then failed
  h.detach(t);
  h.detach(u);
}

BOOST_AUTO_TEST_CASE(a_droppable_consumer_skips_to_the_next_key_frame_and_goes_on) {
  // Given a droppable consumer bounded at 3 KB, stalled
  counters stats;
  fanout::hub h{"k", {}, &stats};
  auto c = std::make_shared<recording_consumer>();
  c->hold = true;
  auto t = h.attach(c, {.name = "droppable", .policy = fanout::delivery::droppable, .max_queued_bytes = 3'000});
  auto s = h.begin_publish();
  h.publish(video_header(1), s);
  // When more than its bound arrives, then a key frame after it is released
  for (std::uint32_t i = 0; i < 10; ++i)
    h.publish(video(i * 33, i == 0, 1000), s);
  c->release();
  h.publish(video(330, false, 1000), s); // still skipped: waits for a key frame
  h.publish(video(363, true, 1000), s);
  h.close();
  BOOST_REQUIRE(eventually([&] { return c->ended.load(); }, wait_limit));
  // Then it did not fail; it skipped up to the key frame and counted what it skipped
  BOOST_TEST(!t->failed());
  BOOST_TEST(t->dropped() > 0u);
  BOOST_TEST(stats.consumer_dropped_samples.load() == t->dropped());
  const auto calls = c->snapshot();
  BOOST_TEST(calls[calls.size() - 2] == "v363");
  BOOST_TEST(std::count(calls.begin(), calls.end(), "v330") == 0);
  h.detach(t);
}

BOOST_AUTO_TEST_CASE(a_consumer_attached_mid_stream_starts_with_the_config_in_force_and_the_cached_gop) {
  // Given a stream two GOPs in
  fanout::hub h{"k"};
  auto s = h.begin_publish();
  h.publish(video_header(1), s);
  h.publish(audio_header(), s);
  h.publish(video(0, true), s);
  h.publish(video(33, false), s);
  h.publish(video(66, true), s);
  h.publish(audio(70), s);
  // When a consumer attaches
  auto c = std::make_shared<recording_consumer>();
  auto t = h.attach(c);
  h.publish(video(99, false), s);
  h.close();
  BOOST_REQUIRE(eventually([&] { return c->ended.load(); }, wait_limit));
  // Then it starts with the configuration and the latest GOP, then goes on live
  BOOST_TEST(c->snapshot() == lines({"opened video audio", "v66", "a70", "v99", "closed"}), boost::test_tools::per_element());
  h.detach(t);
}

BOOST_AUTO_TEST_CASE(a_new_sequence_header_is_a_configuration_change_and_a_repeated_one_is_not) {
  fanout::hub h{"k"};
  auto c = std::make_shared<recording_consumer>();
  auto t = h.attach(c);
  auto s = h.begin_publish();
  h.publish(video_header(1), s);
  h.publish(video(0, true), s);
  h.publish(video_header(1), s); // the same bytes again
  h.publish(video(33, true), s);
  h.publish(video_header(2), s); // a new resolution
  h.publish(video(66, true), s);
  h.close();
  BOOST_REQUIRE(eventually([&] { return c->ended.load(); }, wait_limit));
  BOOST_TEST(c->snapshot() == lines({"opened", "config v1", "v0", "v33", "config v2", "v66", "closed"}),
             boost::test_tools::per_element());
  h.detach(t);
}

BOOST_AUTO_TEST_CASE(an_mp3_streams_first_frame_is_its_audio_configuration_and_a_header_after_it_replaces_it) {
  // Given a consumer on a stream whose audio is MP3 (no sequence header)
  fanout::hub h{"k"};
  auto c = std::make_shared<recording_consumer>();
  auto t = h.attach(c);
  auto s = h.begin_publish();
  h.publish(video_header(1), s);
  h.publish(mp3(0), s);
  h.publish(video(0, true), s);
  h.publish(mp3(26), s); // the same codec: no change
  // When a consumer attaches later
  auto late = std::make_shared<recording_consumer>();
  auto lt = h.attach(late);
  // And the publisher turns to AAC
  h.publish(audio_header(), s);
  h.publish(audio(52), s);
  h.close();
  BOOST_REQUIRE(eventually([&] { return c->ended.load() && late->ended.load(); }, wait_limit));
  // Then the first MP3 frame was heard of as the configuration before it came as a sample
  BOOST_TEST(c->snapshot() == lines({"opened", "config v1", "config v1 audio", "a0", "v0", "a26", "config v1 audio", "a52",
                                     "closed"}),
             boost::test_tools::per_element());
  BOOST_TEST_REQUIRE(c->samples.size() == 4u);
  // and the late consumer opened with it in force
  BOOST_TEST(late->snapshot() == lines({"opened video audio", "v0", "a26", "config v1 audio", "a52", "closed"}),
             boost::test_tools::per_element());
  // and the AAC header after it is the configuration in force
  BOOST_TEST((c->audio_configs == std::vector<codec>{codec::mp3, codec::aac}), boost::test_tools::per_element());
  h.detach(t);
  h.detach(lt);
}

BOOST_AUTO_TEST_CASE(legacy_flv_audio_is_configured_by_its_flags_and_other_flags_are_a_change) {
  // Given a consumer on a stream of 16-bit stereo PCM at 44 kHz
  fanout::hub h{"k"};
  auto c = std::make_shared<recording_consumer>();
  auto t = h.attach(c);
  auto s = h.begin_publish();
  h.publish(video_header(1), s);
  h.publish(pcm(0, 0x3F), s);
  h.publish(video(0, true), s);
  h.publish(pcm(23, 0x3F), s); // the same flags: no change
  // When the publisher turns to 8-bit mono PCM at 22 kHz
  h.publish(pcm(46, 0x38), s);
  h.publish(pcm(69, 0x38), s);
  h.close();
  BOOST_REQUIRE(eventually([&] { return c->ended.load(); }, wait_limit));
  // Then the first frame, and the first with other flags, are each a configuration
  BOOST_TEST(c->snapshot() == lines({"opened", "config v1", "config v1 audio", "a0", "v0", "a23", "config v1 audio", "a46",
                                     "a69", "closed"}),
             boost::test_tools::per_element());
  BOOST_TEST((c->audio_configs == std::vector<codec>{codec::pcm}), boost::test_tools::per_element());
  h.detach(t);
}

BOOST_AUTO_TEST_CASE(a_consumer_attached_to_a_closed_hub_is_told_at_once) {
  fanout::hub h{"k"};
  h.close();
  auto c = std::make_shared<recording_consumer>();
  auto t = h.attach(c);
  BOOST_REQUIRE(eventually([&] { return c->ended.load(); }, wait_limit));
  BOOST_TEST(c->snapshot() == lines({"opened", "closed"}), boost::test_tools::per_element());
  BOOST_TEST(h.consumer_count() == 0u);
  h.detach(t);
}

BOOST_AUTO_TEST_CASE(a_consumer_detached_with_drain_gets_what_was_queued_first) {
  // Given a consumer that has samples waiting
  fanout::hub h{"k"};
  auto c = std::make_shared<recording_consumer>();
  c->hold = true;
  auto t = h.attach(c);
  auto s = h.begin_publish();
  for (std::uint32_t i = 0; i < 5; ++i)
    h.publish(video(i * 33, i == 0), s);
  h.end_publish(s);
  // When it is detached with drain (at shutdown) while it works
  std::thread release{[&] {
    std::this_thread::sleep_for(std::chrono::milliseconds{50}); // detach must wait for it, not skip
    c->release();
  }};
  h.detach(t, true);
  release.join();
  // Then everything queued reached it, the publisher's leaving included
  BOOST_TEST(c->snapshot() == lines({"opened", "v0", "v33", "v66", "v99", "v132", "gone"}), boost::test_tools::per_element());
  // And nothing after the detach does
  h.publish(video(165, false), s);
  BOOST_TEST(c->snapshot().size() == 7u);
}

BOOST_AUTO_TEST_CASE(a_consumer_that_throws_fails_alone) {
  struct throwing : recording_consumer {
    void on_sample(const fanout::message_ptr&) override { throw std::runtime_error("disk on fire"); }
  };
  counters stats;
  fanout::hub h{"k", {}, &stats};
  auto c = std::make_shared<throwing>();
  auto t = h.attach(c);
  auto s = h.begin_publish();
  h.publish(video(0, true), s);
  BOOST_REQUIRE(eventually([&] { return c->ended.load(); }, wait_limit));
  BOOST_TEST(t->failed());
  BOOST_TEST(stats.consumer_failures.load() == 1u);
  BOOST_TEST(h.publish(video(33, false), s) != nullptr); // the stream goes on
  h.detach(t);
}

BOOST_AUTO_TEST_SUITE_END()
