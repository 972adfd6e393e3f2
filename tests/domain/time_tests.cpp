#include "domain/time.hpp"

#include "domain/validation.hpp"
#include "given_when_then.hpp"

using namespace onair::domain;
using namespace onair::domain::testing;

BOOST_AUTO_TEST_SUITE(time_and_text)

BOOST_AUTO_TEST_CASE(iso8601_formats_utc_with_milliseconds) {
  BOOST_TEST(to_iso8601(at(0)) == "2026-11-24T09:30:00.000Z");
  BOOST_TEST(to_iso8601(timestamp{0}) == "1970-01-01T00:00:00.000Z");
  BOOST_TEST(to_iso8601(timestamp{t0_ms + 7}) == "2026-11-24T09:30:00.007Z");
}

BOOST_AUTO_TEST_CASE(iso8601_round_trips) {
  for (const std::int64_t ms : {std::int64_t{0}, std::int64_t{1}, std::int64_t{-1}, t0_ms, t0_ms + 999,
                                std::int64_t{951782400123} /* 2000-02-29 */, std::int64_t{4102444799999}}) {
    BOOST_TEST_CONTEXT("ms " << ms) {
      const auto text = to_iso8601(timestamp{ms});
      const auto back = parse_iso8601(text);
      BOOST_REQUIRE(back.has_value());
      BOOST_TEST(back->ms == ms);
    }
  }
}

BOOST_AUTO_TEST_CASE(iso8601_accepts_no_millis_fractions_and_offsets) {
  BOOST_TEST(parse_iso8601("2026-11-24T09:30:00Z")->ms == t0_ms);
  BOOST_TEST(parse_iso8601("2026-11-24T09:30:00.5Z")->ms == t0_ms + 500);
  BOOST_TEST(parse_iso8601("2026-11-24T09:30:00.123456Z")->ms == t0_ms + 123);
  BOOST_TEST(parse_iso8601("2026-11-24T18:30:00.000+09:00")->ms == t0_ms);
  BOOST_TEST(parse_iso8601("2026-11-24T05:00:00-04:30")->ms == t0_ms);
}

BOOST_AUTO_TEST_CASE(iso8601_refuses_malformed_text) {
  for (const char* bad : {"", "2026-11-24", "2026-11-24T09:30:00", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                          "2026-11-24T24:00:00Z", "2026-11-24T09:30:00.Z", "2026-11-24T09:30:00Zjunk",
                          "2026/11/24T09:30:00Z", "2026-11-24T09:30:00+0900"}) {
    BOOST_TEST_CONTEXT("'" << bad << "'") { BOOST_TEST(!parse_iso8601(bad).has_value()); }
  }
}

BOOST_AUTO_TEST_CASE(utf8_length_counts_code_points) {
  BOOST_TEST(utf8_length("") == 0U);
  BOOST_TEST(utf8_length("abc") == 3U);
  BOOST_TEST(utf8_length("\xC3\xA9t\xC3\xA9") == 3U);        // été
  BOOST_TEST(utf8_length("\xF0\x9F\x8E\xA5") == 1U);         // one emoji, 4 bytes
}

BOOST_AUTO_TEST_SUITE_END()
