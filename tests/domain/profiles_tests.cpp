#include "domain/profiles.hpp"

#include "given_when_then.hpp"

using namespace onair::domain;

BOOST_AUTO_TEST_SUITE(profiles)

BOOST_AUTO_TEST_CASE(builtin_profiles_are_1_2_3_as_api_md) {
  const auto all = builtin_profiles();
  BOOST_REQUIRE(all.size() == 3U);
  BOOST_TEST(all[0].id == 1);
  BOOST_TEST(all[0].name == "cmaf-landscape");
  BOOST_TEST(all[0].type == profile_type::live);
  BOOST_TEST(all[0].orientation == orientation::horizontal);
  BOOST_TEST(all[1].id == 2);
  BOOST_TEST(all[1].name == "cmaf-portrait");
  BOOST_TEST(all[1].orientation == orientation::vertical);
  BOOST_TEST(all[2].id == 3);
  BOOST_TEST(all[2].name == "vod-default");
  BOOST_TEST(all[2].type == profile_type::vod);
  BOOST_TEST(all[2].keep_original);
}

BOOST_AUTO_TEST_CASE(landscape_ladder_is_720p_and_360p) {
  const auto* p = find_profile(1);
  BOOST_REQUIRE(p != nullptr);
  BOOST_REQUIRE(p->video_streams.size() == 2U);
  BOOST_TEST(p->video_streams[0].width == 1280);
  BOOST_TEST(p->video_streams[0].height == 720);
  BOOST_TEST(p->video_streams[0].bitrate_kbps == 2800);
  BOOST_TEST(p->video_streams[1].width == 640);
  BOOST_TEST(p->video_streams[1].bitrate_kbps == 800);
  BOOST_TEST(p->segment_duration_ms == 2000);
  BOOST_TEST(p->part_duration_ms == 334);
  BOOST_TEST(p->audio.codec == "aac");
}

BOOST_AUTO_TEST_CASE(portrait_ladder_is_vertical) {
  const auto* p = find_profile(2);
  BOOST_REQUIRE(p != nullptr);
  for (const auto& v : p->video_streams)
    BOOST_TEST(v.height > v.width);
}

BOOST_AUTO_TEST_CASE(unknown_profile_is_nullptr) {
  BOOST_TEST(find_profile(0) == nullptr);
  BOOST_TEST(find_profile(4) == nullptr);
  BOOST_TEST(find_profile(-1) == nullptr);
}

// Given the VOD profile, when the source is portrait, then every stream is turned upright.
BOOST_AUTO_TEST_CASE(vod_streams_follow_a_portrait_source) {
  const auto* p = find_profile(vod_default_profile_id);
  BOOST_REQUIRE(p != nullptr);
  const auto portrait = streams_for_source(*p, 1080, 1920);
  BOOST_REQUIRE(portrait.size() == 2U);
  BOOST_TEST(portrait[0].width == 720);
  BOOST_TEST(portrait[0].height == 1280);
  BOOST_TEST(portrait[1].width == 360);
  BOOST_TEST(portrait[1].height == 640);
  BOOST_TEST(portrait[0].bitrate_kbps == 2800);
}

// Given the VOD profile, when the source is landscape, square or of unknown size, then the streams are as listed.
BOOST_AUTO_TEST_CASE(vod_streams_stay_landscape_otherwise) {
  const auto* p = find_profile(vod_default_profile_id);
  BOOST_REQUIRE(p != nullptr);
  for (const auto& [w, h] : {std::pair{1920, 1080}, std::pair{720, 720}, std::pair{0, 0}}) {
    const auto s = streams_for_source(*p, w, h);
    BOOST_REQUIRE(s.size() == 2U);
    BOOST_TEST(s[0].width == 1280);
    BOOST_TEST(s[0].height == 720);
  }
}

// Given a live profile, when the source is portrait, then its fixed orientation is kept.
BOOST_AUTO_TEST_CASE(live_profile_streams_ignore_the_source) {
  const auto* p = find_profile(cmaf_landscape_profile_id);
  BOOST_REQUIRE(p != nullptr);
  BOOST_TEST(streams_for_source(*p, 1080, 1920)[0].width == 1280);
}

BOOST_AUTO_TEST_SUITE_END()
