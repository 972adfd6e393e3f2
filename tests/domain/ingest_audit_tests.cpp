// Which ingest samples become durable events (domain/ingest_audit.hpp): the first, a codec or
// resolution change, and a rate away by over 25 % for a minute; not the 5-second jitter.
#include "domain/ingest_audit.hpp"

#include "given_when_then.hpp"

using namespace onair::domain;
using namespace onair::domain::testing;

namespace {

ingest_info sample(int kbps = 3000, double fps = 30, int width = 1280, int height = 720, std::string video = "avc1.64001f") {
  ingest_info i;
  i.video_codec = std::move(video);
  i.audio_codec = "mp4a.40.2";
  i.width = width;
  i.height = height;
  i.fps = fps;
  i.bitrate_kbps = kbps;
  return i;
}

// Feeds one sample every 5 s from `from_s`; returns how many were recorded.
int feed(ingest_audit& audit, const ingest_info& s, int from_s, int to_s) {
  int recorded = 0;
  for (int t = from_s; t < to_s; t += 5)
    recorded += audit.record(s, at(t)) ? 1 : 0;
  return recorded;
}

} // namespace

BOOST_AUTO_TEST_SUITE(ingest_audit_policy)

BOOST_AUTO_TEST_CASE(given_a_new_session_when_the_first_sample_comes_then_it_is_recorded) {
  ingest_audit audit;
  BOOST_TEST(audit.record(sample(), at(0)));
}

BOOST_AUTO_TEST_CASE(given_a_steady_stream_when_two_hours_of_samples_come_then_only_the_first_is_recorded) {
  ingest_audit audit;
  BOOST_TEST(audit.record(sample(3000, 30), at(0)));
  int recorded = 0;
  for (int t = 5; t < 7200; t += 5) // jitter within 25 %: 2,400..3,600 kbps, 29..31 fps
    recorded += audit.record(sample(t % 10 == 0 ? 2400 : 3600, t % 15 == 0 ? 29 : 31), at(t)) ? 1 : 0;
  BOOST_TEST(recorded == 0);
}

BOOST_AUTO_TEST_CASE(given_a_recorded_sample_when_the_codec_or_resolution_changes_then_it_is_recorded_at_once) {
  ingest_audit audit;
  BOOST_REQUIRE(audit.record(sample(), at(0)));
  BOOST_TEST(audit.record(sample(3000, 30, 1920, 1080), at(5)));
  BOOST_TEST(!audit.record(sample(3000, 30, 1920, 1080), at(10)));
  BOOST_TEST(audit.record(sample(3000, 30, 1920, 1080, "hvc1.1.6.L93.B0"), at(15)));
  auto no_audio = sample(3000, 30, 1920, 1080, "hvc1.1.6.L93.B0");
  no_audio.audio_codec.clear();
  BOOST_TEST(audit.record(no_audio, at(20)));
}

BOOST_AUTO_TEST_CASE(given_a_recorded_bitrate_when_it_stays_away_by_over_a_quarter_for_a_minute_then_it_is_recorded) {
  ingest_audit audit;
  BOOST_REQUIRE(audit.record(sample(3000), at(0)));
  // 55 s away (12 samples, 5..60): not yet; the sample a full minute after the first away one is.
  BOOST_TEST(feed(audit, sample(1500), 5, 65) == 0);
  BOOST_TEST(audit.record(sample(1500), at(65)));
  // The new figure is the reference now.
  BOOST_TEST(feed(audit, sample(1500), 70, 300) == 0);
}

BOOST_AUTO_TEST_CASE(given_a_rate_away_when_it_comes_back_within_the_minute_then_nothing_is_recorded) {
  ingest_audit audit;
  BOOST_REQUIRE(audit.record(sample(3000, 30), at(0)));
  BOOST_TEST(feed(audit, sample(3000, 15), 5, 50) == 0); // fps halved for 45 s
  BOOST_TEST(!audit.record(sample(3000, 30), at(50)));   // back: the minute starts again
  BOOST_TEST(feed(audit, sample(3000, 15), 55, 110) == 0);
  BOOST_TEST(audit.record(sample(3000, 15), at(115)));
}

BOOST_AUTO_TEST_CASE(given_a_recorded_zero_rate_when_media_starts_flowing_for_a_minute_then_it_is_recorded) {
  ingest_audit audit;
  BOOST_REQUIRE(audit.record(sample(0, 0), at(0)));
  BOOST_TEST(feed(audit, sample(2500, 30), 5, 65) == 0);
  BOOST_TEST(audit.record(sample(2500, 30), at(65)));
}

BOOST_AUTO_TEST_CASE(given_a_custom_tolerance_and_hold_when_samples_drift_then_they_apply) {
  ingest_audit audit{{.tolerance = 0.1, .hold_ms = 10'000}};
  BOOST_REQUIRE(audit.record(sample(1000), at(0)));
  BOOST_TEST(!audit.record(sample(1090), at(5)));  // within 10 %
  BOOST_TEST(!audit.record(sample(1200), at(10))); // away since 10 s
  BOOST_TEST(audit.record(sample(1200), at(20)));
}

BOOST_AUTO_TEST_SUITE_END()
