// Video post: ARCHIVING (progress) → ARCHIVED | FAILED_ARCHIVING; resumable; deletable.
#include "domain/video_post.hpp"

#include "given_when_then.hpp"

using namespace onair::domain;
using namespace onair::domain::testing;

namespace {

using vp = video_post_aggregate;

create_post create() {
  return create_post{.id = 70,
                     .room_id = 50,
                     .room_title = "Morning show",
                     .member_id = 3,
                     .app_user_id = "alice",
                     .app_user_name = "Alice",
                     .title = "Morning show",
                     .broadcast_id = 60};
}
post_created created() {
  return post_created{.id = 70,
                      .room_id = 50,
                      .room_title = "Morning show",
                      .member_id = 3,
                      .app_user_id = "alice",
                      .app_user_name = "Alice",
                      .title = "Morning show",
                      .broadcast_id = 60,
                      .at = at(30)};
}
complete_archive completion() {
  return complete_archive{.duration_ms = 61000,
                          .original = post_original{.url = "http://h/vod/70/original.mp4", .size_bytes = 1234, .width = 1920, .height = 1080},
                          .renditions = {post_rendition{.width = 1280, .height = 720, .bitrate_kbps = 2800},
                                         post_rendition{.width = 640, .height = 360, .bitrate_kbps = 800}},
                          .play_url = "http://h/vod/70/index.m3u8",
                          .dash_play_url = "http://h/vod/70/manifest.mpd",
                          .thumbnail_url = "http://h/vod/70/thumbnail.jpg"};
}
post_archived archived(int t) {
  const auto c = completion();
  return post_archived{.duration_ms = c.duration_ms,
                       .original = c.original,
                       .renditions = c.renditions,
                       .play_url = c.play_url,
                       .dash_play_url = c.dash_play_url,
                       .thumbnail_url = c.thumbnail_url,
                       .at = at(t)};
}
const post_archiving_failed failed{.code = "NOTHING_RECORDED", .message = "no frames", .at = at(60)};

} // namespace

BOOST_AUTO_TEST_SUITE(video_post_commands)

BOOST_AUTO_TEST_CASE(create_post_is_archiving_at_0) {
  const auto s = given<vp>().when(create(), ctx(30)).then({created()});
  BOOST_TEST(s.exists);
  BOOST_TEST(s.type == post_type::live_recorded);
  BOOST_TEST(s.state == post_state::archiving);
  BOOST_TEST(s.progress == 0);
  BOOST_TEST(s.created_at == at(30));
}

BOOST_AUTO_TEST_CASE(create_post_when_it_exists_is_a_no_op) {
  given<vp>({created()}).when(create(), ctx(31)).then_nothing();
}

BOOST_AUTO_TEST_CASE(progress_rises) {
  const auto s = given<vp>({created()}).when(report_progress{.percent = 40}, ctx(40)).then({progress_reported{.percent = 40, .at = at(40)}});
  BOOST_TEST(s.progress == 40);
}

BOOST_AUTO_TEST_CASE(progress_not_rising_is_a_no_op) {
  given<vp>({created(), progress_reported{.percent = 40, .at = at(40)}}).when(report_progress{.percent = 40}).then_nothing();
  given<vp>({created(), progress_reported{.percent = 40, .at = at(40)}}).when(report_progress{.percent = 10}).then_nothing();
}

BOOST_AUTO_TEST_CASE(progress_out_of_range_is_refused) {
  given<vp>({created()}).when(report_progress{.percent = 101}).then_error(error_code::invalid_parameter, "progress");
  given<vp>({created()}).when(report_progress{.percent = -1}).then_error(error_code::invalid_parameter, "progress");
}

BOOST_AUTO_TEST_CASE(progress_when_not_archiving_is_refused) {
  given<vp>({created(), archived(50)}).when(report_progress{.percent = 100}).then_error(error_code::video_post_state_not_archiving);
  given<vp>({created(), failed}).when(report_progress{.percent = 50}).then_error(error_code::video_post_state_not_archiving);
}

BOOST_AUTO_TEST_CASE(complete_archive_goes_archived) {
  const auto s = given<vp>({created()}).when(completion(), ctx(50)).then({archived(50)});
  BOOST_TEST(s.state == post_state::archived);
  BOOST_TEST(s.progress == 100);
  BOOST_TEST(s.duration_ms == 61000);
  BOOST_TEST(s.archived_at == at(50));
  BOOST_TEST(s.renditions.size() == 2U);
  BOOST_REQUIRE(s.original.has_value());
  BOOST_TEST(s.original->width == 1920);
}

BOOST_AUTO_TEST_CASE(complete_archive_again_is_a_no_op) {
  given<vp>({created(), archived(50)}).when(completion()).then_nothing();
}

BOOST_AUTO_TEST_CASE(complete_archive_after_failure_is_refused) {
  given<vp>({created(), failed}).when(completion()).then_error(error_code::video_post_state_not_archiving);
}

BOOST_AUTO_TEST_CASE(fail_archive_goes_failed_archiving) {
  const auto s = given<vp>({created()})
                     .when(fail_archive{.code = "NOTHING_RECORDED", .message = "no frames"}, ctx(60))
                     .then({failed});
  BOOST_TEST(s.state == post_state::failed_archiving);
  BOOST_TEST(s.error_code == "NOTHING_RECORDED");
  BOOST_TEST(s.error == "no frames");
}

BOOST_AUTO_TEST_CASE(fail_archive_again_is_a_no_op) {
  given<vp>({created(), failed}).when(fail_archive{.message = "no frames"}).then_nothing();
}

BOOST_AUTO_TEST_CASE(fail_archive_after_archived_is_refused) {
  given<vp>({created(), archived(50)}).when(fail_archive{.message = "x"}).then_error(error_code::video_post_state_not_archiving);
}

BOOST_AUTO_TEST_CASE(start_archive_counts_attempts_and_keeps_progress) {
  const auto s = given<vp>({created(), archive_started{.attempt = 1, .worker = "n1", .at = at(31)},
                            progress_reported{.percent = 70, .at = at(40)}})
                     .when(start_archive{.worker = "n1"}, ctx(100))
                     .then({archive_started{.attempt = 2, .worker = "n1", .at = at(100)}});
  BOOST_TEST(s.state == post_state::archiving);
  BOOST_TEST(s.attempts == 2);
  BOOST_TEST(s.progress == 70); // a resumed attempt reports nothing until it passes 70
}

BOOST_AUTO_TEST_CASE(start_archive_when_not_archiving_is_refused) {
  given<vp>({created(), archived(50)}).when(start_archive{}).then_error(error_code::video_post_state_not_archiving);
  given<vp>({created(), failed}).when(start_archive{}).then_error(error_code::video_post_state_not_archiving);
}

BOOST_AUTO_TEST_CASE(retry_archive_after_failure_is_archiving_from_0) {
  const auto s = given<vp>({created(), progress_reported{.percent = 30, .at = at(40)}, failed})
                     .when(retry_archive{}, ctx(100))
                     .then({archive_retried{.at = at(100)}});
  BOOST_TEST(s.state == post_state::archiving);
  BOOST_TEST(s.progress == 0);
  BOOST_TEST(s.error.empty());
  BOOST_TEST(s.error_code.empty());
}

BOOST_AUTO_TEST_CASE(retry_archive_while_archiving_is_a_no_op) {
  given<vp>({created()}).when(retry_archive{}).then_nothing();
}

BOOST_AUTO_TEST_CASE(retry_archive_when_archived_is_refused) {
  given<vp>({created(), archived(50)})
      .when(retry_archive{})
      .then_error(error_code::video_post_state_not_failed_archiving);
}

BOOST_AUTO_TEST_CASE(delete_post_marks_deleted) {
  const auto s = given<vp>({created(), archived(50)}).when(delete_post{}, ctx(70)).then({post_deleted{.at = at(70)}});
  BOOST_TEST(s.deleted);
  BOOST_TEST(!s.present());
}

BOOST_AUTO_TEST_CASE(delete_post_again_is_a_no_op) {
  given<vp>({created(), post_deleted{.at = at(70)}}).when(delete_post{}).then_nothing();
}

BOOST_AUTO_TEST_CASE(commands_on_a_deleted_post_are_refused_not_found) {
  given<vp>({created(), post_deleted{.at = at(70)}}).when(report_progress{.percent = 50}).then_error(error_code::video_post_not_found);
  given<vp>({created(), post_deleted{.at = at(70)}}).when(completion()).then_error(error_code::video_post_not_found);
}

BOOST_AUTO_TEST_CASE(commands_on_a_missing_post_are_refused_not_found) {
  const std::vector<vp::command> commands{report_progress{.percent = 1}, completion(), fail_archive{}, start_archive{}, retry_archive{},
                                          delete_post{}};
  for (const auto& c : commands)
    given<vp>().when(c).then_error(error_code::video_post_not_found);
}

BOOST_AUTO_TEST_SUITE_END()
