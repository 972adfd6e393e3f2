// Video room: one test per row of lifecycle.md's table, per refusal, per idempotent no-op.
#include "domain/video_room.hpp"

#include <array>

#include "given_when_then.hpp"

using namespace onair::domain;
using namespace onair::domain::testing;

namespace {

using vr = video_room_aggregate;
constexpr std::int64_t room_id = 50;
constexpr std::int64_t broadcast_id = 60;
constexpr std::int64_t post_id = 70;

create_room create() {
  return create_room{.id = room_id,
                     .type = room_type::broadcast_rtmp,
                     .title = "Morning show",
                     .description = "news",
                     .access_level = access_level::public_,
                     .member_id = 3,
                     .app_user_id = "alice",
                     .app_user_name = "Alice",
                     .scheduled_at = at(3600),
                     .custom_type = "show",
                     .custom_data = {{"k", "v"}}};
}

room_created created() {
  return room_created{.id = room_id,
                      .uuid = "00000000-0000-4000-8000-000000000001",
                      .public_id = "public-1",
                      .room_type = room_type::broadcast_rtmp,
                      .title = "Morning show",
                      .description = "news",
                      .access_level = access_level::public_,
                      .member_id = 3,
                      .app_user_id = "alice",
                      .app_user_name = "Alice",
                      .scheduled_at = at(3600),
                      .custom_type = "show",
                      .custom_data = {{"k", "v"}},
                      .at = at(0)};
}

live_started started() {
  return live_started{.stream_key_id = 7, .broadcast_id = broadcast_id, .mode = output_mode::cmaf, .at = at(10)};
}

std::vector<vr::event> history(room_state s) {
  std::vector<vr::event> h{created()};
  switch (s) {
  case room_state::scheduled:
    break;
  case room_state::cancelled:
    h.push_back(room_cancelled{.at = at(5)});
    break;
  case room_state::live:
    h.push_back(started());
    break;
  case room_state::live_inactive:
    h.push_back(started());
    h.push_back(live_paused{.at = at(20)});
    break;
  case room_state::ended:
    h.push_back(started());
    h.push_back(live_paused{.at = at(20)});
    h.push_back(live_ended{.forced = false, .video_post_id = post_id, .at = at(30)});
    break;
  }
  return h;
}

constexpr std::array all_states{room_state::scheduled, room_state::live, room_state::live_inactive,
                                room_state::ended, room_state::cancelled};

} // namespace

BOOST_AUTO_TEST_SUITE(video_room_lifecycle)

BOOST_AUTO_TEST_CASE(history_helper_reaches_every_state) {
  for (const auto s : all_states)
    BOOST_TEST(given<vr>(history(s)).state().state == s);
}

// | SCHEDULED | Start Live (key ACTIVE) | LIVE |
BOOST_AUTO_TEST_CASE(scheduled_start_live_goes_live) {
  const auto s = given<vr>(history(room_state::scheduled))
                     .when(start_live{.stream_key_id = 7, .broadcast_id = broadcast_id, .mode = output_mode::cmaf}, ctx(10))
                     .then({started()});
  BOOST_TEST(s.state == room_state::live);
  BOOST_TEST(s.stream_key_id == 7);
  BOOST_TEST(s.broadcast_id == broadcast_id);
  BOOST_TEST(s.mode == output_mode::cmaf);
  BOOST_TEST(s.live_started_at == at(10));
  BOOST_TEST(is_on_air(s.state));
}

// | SCHEDULED | cancel | CANCELLED |
BOOST_AUTO_TEST_CASE(scheduled_cancel_goes_cancelled) {
  const auto s = given<vr>(history(room_state::scheduled)).when(cancel_room{}, ctx(5)).then({room_cancelled{.at = at(5)}});
  BOOST_TEST(s.state == room_state::cancelled);
  BOOST_TEST(s.cancelled_at == at(5));
}

// | LIVE | publisher gone (key → INACTIVE_LIVE) | LIVE_INACTIVE |
BOOST_AUTO_TEST_CASE(live_publisher_gone_goes_live_inactive) {
  const auto s = given<vr>(history(room_state::live)).when(publisher_lost{}, ctx(20)).then({live_paused{.at = at(20)}});
  BOOST_TEST(s.state == room_state::live_inactive);
  BOOST_TEST(is_on_air(s.state));
}

// | LIVE_INACTIVE | publisher back and viewable (key → ACTIVE_LIVE) | LIVE |
BOOST_AUTO_TEST_CASE(live_inactive_publisher_back_goes_live) {
  const auto s = given<vr>(history(room_state::live_inactive)).when(publisher_back{}, ctx(25)).then({live_resumed{.at = at(25)}});
  BOOST_TEST(s.state == room_state::live);
}

// | LIVE_INACTIVE | End Live | ENDED |
BOOST_AUTO_TEST_CASE(live_inactive_end_live_goes_ended) {
  const auto s = given<vr>(history(room_state::live_inactive))
                     .when(end_live{.forced = false, .video_post_id = post_id}, ctx(30))
                     .then({live_ended{.forced = false, .video_post_id = post_id, .at = at(30)}});
  BOOST_TEST(s.state == room_state::ended);
  BOOST_TEST(s.vod_state == vod_state::archiving);
  BOOST_TEST(s.video_post_id == post_id);
  BOOST_TEST(s.live_ended_at == at(30));
  BOOST_TEST(!is_on_air(s.state));
}

// | LIVE, LIVE_INACTIVE | forced end | ENDED |
BOOST_AUTO_TEST_CASE(live_and_live_inactive_forced_end_go_ended) {
  for (const auto from : {room_state::live, room_state::live_inactive})
    BOOST_TEST_CONTEXT("from " << from) {
      const auto s = given<vr>(history(from))
                         .when(end_live{.forced = true, .video_post_id = post_id}, ctx(30))
                         .then({live_ended{.forced = true, .video_post_id = post_id, .at = at(30)}});
      BOOST_TEST(s.state == room_state::ended);
      BOOST_TEST(s.vod_state == vod_state::archiving);
    }
}

// vodState: ARCHIVING → ARCHIVED
BOOST_AUTO_TEST_CASE(archiving_vod_archived_goes_archived) {
  const auto s = given<vr>(history(room_state::ended))
                     .when(mark_vod_archived{.vod_url = "http://h/vod/70/index.m3u8"}, ctx(90))
                     .then({vod_archived{.vod_url = "http://h/vod/70/index.m3u8", .at = at(90)}});
  BOOST_TEST(s.vod_state == vod_state::archived);
  BOOST_TEST(s.vod_url == "http://h/vod/70/index.m3u8");
  BOOST_TEST(s.vod_archived_at == at(90));
}

// vodState: ARCHIVING → FAILED_ARCHIVING
BOOST_AUTO_TEST_CASE(archiving_vod_failed_goes_failed_archiving) {
  const auto s = given<vr>(history(room_state::ended))
                     .when(mark_vod_failed{.code = "NOTHING_RECORDED", .message = "no frames"}, ctx(90))
                     .then({vod_failed{.code = "NOTHING_RECORDED", .message = "no frames", .at = at(90)}});
  BOOST_TEST(s.vod_state == vod_state::failed_archiving);
  BOOST_TEST(s.vod_error_code == "NOTHING_RECORDED");
  BOOST_TEST(s.vod_error == "no frames");
}

// vodState: FAILED_ARCHIVING → ARCHIVING (its post's archive is retried)
BOOST_AUTO_TEST_CASE(failed_archiving_mark_vod_archiving_goes_archiving) {
  auto h = history(room_state::ended);
  h.push_back(vod_failed{.code = "NOTHING_RECORDED", .message = "no frames", .at = at(90)});
  const auto s = given<vr>(h)
                     .when(mark_vod_archiving{}, ctx(95))
                     .then({vod_archiving_again{.at = at(95)}});
  BOOST_TEST(s.vod_state == vod_state::archiving);
  BOOST_TEST(s.vod_error.empty());
  BOOST_TEST(s.vod_error_code.empty());
}

BOOST_AUTO_TEST_CASE(archiving_mark_vod_archiving_is_a_no_op) {
  given<vr>(history(room_state::ended)).when(mark_vod_archiving{}).then_nothing();
}

BOOST_AUTO_TEST_CASE(archived_mark_vod_archiving_is_refused) {
  auto h = history(room_state::ended);
  h.push_back(vod_archived{.vod_url = "u", .at = at(90)});
  given<vr>(h)
      .when(mark_vod_archiving{})
      .then_error(error_code::video_room_vod_state_not_archiving);
}

BOOST_AUTO_TEST_SUITE_END()

// (beyond) The reconnect window of a LIVE_INACTIVE room
BOOST_AUTO_TEST_SUITE(video_room_reconnect_window)

BOOST_AUTO_TEST_CASE(a_paused_room_ends_itself_its_window_after_the_pause) {
  const auto s = given<vr>(history(room_state::live)).when(publisher_lost{}, ctx(20)).then({live_paused{.at = at(20)}});
  BOOST_TEST(s.live_paused_at == at(20));
  const auto deadline = reconnect_deadline(s, 60);
  BOOST_REQUIRE(deadline.has_value());
  BOOST_TEST(deadline->ms == at(20).ms + 60'000);
}

BOOST_AUTO_TEST_CASE(no_deadline_with_the_window_off_or_the_room_not_paused) {
  const auto paused = given<vr>(history(room_state::live_inactive)).state();
  BOOST_TEST(!reconnect_deadline(paused, 0).has_value());
  for (const auto st : {room_state::scheduled, room_state::live, room_state::ended, room_state::cancelled})
    BOOST_TEST_CONTEXT("in " << st) { BOOST_TEST(!reconnect_deadline(given<vr>(history(st)).state(), 60).has_value()); }
}

BOOST_AUTO_TEST_CASE(a_return_clears_the_pause) {
  const auto s = given<vr>(history(room_state::live_inactive)).when(publisher_back{}, ctx(30)).then({live_resumed{.at = at(30)}});
  BOOST_TEST(!s.live_paused_at.has_value());
  BOOST_TEST(!reconnect_deadline(s, 60).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(video_room_create)

BOOST_AUTO_TEST_CASE(create_room_is_scheduled_not_archived) {
  const auto s = given<vr>().when(create(), ctx(0)).then({created()});
  BOOST_TEST(s.exists);
  BOOST_TEST(s.state == room_state::scheduled);
  BOOST_TEST(s.vod_state == vod_state::not_archived);
  BOOST_TEST(s.uuid == "00000000-0000-4000-8000-000000000001");
  BOOST_TEST(s.public_id == "public-1");
  BOOST_TEST(s.created_at == at(0));
  BOOST_TEST(!s.stream_key_id.has_value());
}

BOOST_AUTO_TEST_CASE(create_room_without_access_level_is_public) {
  auto c = create();
  c.access_level.reset();
  const auto s = given<vr>().when(c, ctx(0)).then({created()});
  BOOST_TEST(s.access_level == access_level::public_);
}

BOOST_AUTO_TEST_CASE(create_room_when_it_exists_is_a_no_op) {
  given<vr>(history(room_state::live)).when(create(), ctx(0, 2)).then_nothing();
}

BOOST_AUTO_TEST_CASE(create_room_without_type_is_refused) {
  auto c = create();
  c.type.reset();
  given<vr>().when(c).then_error(error_code::empty_video_room_type, "type");
}

BOOST_AUTO_TEST_CASE(create_room_without_title_is_refused) {
  auto c = create();
  c.title = "";
  given<vr>().when(c).then_error(error_code::empty_video_room_title, "title");
  c.title = "   ";
  given<vr>().when(c).then_error(error_code::empty_video_room_title, "title");
}

BOOST_AUTO_TEST_CASE(create_room_without_scheduled_at_is_refused) {
  auto c = create();
  c.scheduled_at.reset();
  given<vr>().when(c).then_error(error_code::empty_video_room_scheduled_at, "scheduledAt");
}

BOOST_AUTO_TEST_CASE(create_room_custom_type_and_data_limits) {
  auto c = create();
  c.custom_type = std::string(50, 'x');
  auto expected = created();
  expected.custom_type = c.custom_type;
  given<vr>().when(c, ctx(0)).then({expected});
  c.custom_type = std::string(51, 'x');
  given<vr>().when(c).then_error(error_code::custom_type_size_upper_limit_exceeded, "customType");
  c = create();
  for (int i = 0; i < 11; ++i)
    c.custom_data["k" + std::to_string(i)] = "v";
  given<vr>().when(c).then_error(error_code::custom_data_item_count_upper_limit_exceeded, "customData");
}

BOOST_AUTO_TEST_CASE(commands_on_a_missing_room_are_refused) {
  const std::vector<vr::command> commands{patch_room{},  start_live{},       publisher_lost{},
                                          publisher_back{}, end_live{},      cancel_room{},
                                          mark_vod_archived{}, mark_vod_failed{}};
  for (const auto& c : commands)
    given<vr>().when(c).then_error(error_code::video_room_not_found);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(video_room_patch)

BOOST_AUTO_TEST_CASE(patch_records_only_what_changed) {
  const auto s = given<vr>(history(room_state::scheduled))
                     .when(patch_room{.title = "Evening show", .description = "news", .scheduled_at = at(7200)}, ctx(5))
                     .then({room_patched{.title = "Evening show", .scheduled_at = at(7200), .at = at(5)}});
  BOOST_TEST(s.title == "Evening show");
  BOOST_TEST(s.description == "news");
  BOOST_TEST(s.scheduled_at == at(7200));
  BOOST_TEST(s.last_modified_at == at(5));
}

BOOST_AUTO_TEST_CASE(patch_without_change_is_a_no_op) {
  given<vr>(history(room_state::scheduled)).when(patch_room{.title = "Morning show"}).then_nothing();
  given<vr>(history(room_state::scheduled)).when(patch_room{}).then_nothing();
}

BOOST_AUTO_TEST_CASE(patch_with_empty_title_is_refused) {
  given<vr>(history(room_state::scheduled)).when(patch_room{.title = ""}).then_error(error_code::empty_video_room_title, "title");
}

BOOST_AUTO_TEST_CASE(patch_with_oversized_custom_fields_is_refused) {
  given<vr>(history(room_state::scheduled))
      .when(patch_room{.custom_type = std::string(51, 'x')})
      .then_error(error_code::custom_type_size_upper_limit_exceeded, "customType");
  given<vr>(history(room_state::scheduled))
      .when(patch_room{.custom_data = std::map<std::string, std::string>{{"k", std::string(51, 'v')}}})
      .then_error(error_code::custom_data_item_value_size_upper_limit_exceeded, "customData");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(video_room_refusals_and_no_ops)

BOOST_AUTO_TEST_CASE(start_live_again_with_same_broadcast_is_a_no_op) {
  for (const auto from : {room_state::live, room_state::live_inactive})
    BOOST_TEST_CONTEXT("from " << from) {
      given<vr>(history(from))
          .when(start_live{.stream_key_id = 7, .broadcast_id = broadcast_id, .mode = output_mode::cmaf})
          .then_nothing();
    }
}

BOOST_AUTO_TEST_CASE(start_live_with_another_broadcast_while_live_is_refused_not_scheduled) {
  given<vr>(history(room_state::live))
      .when(start_live{.stream_key_id = 7, .broadcast_id = broadcast_id + 1})
      .then_error(error_code::video_room_state_not_scheduled);
}

BOOST_AUTO_TEST_CASE(ended_room_is_never_live_again) {
  given<vr>(history(room_state::ended))
      .when(start_live{.stream_key_id = 7, .broadcast_id = broadcast_id})
      .then_error(error_code::video_room_state_not_scheduled);
  given<vr>(history(room_state::ended)).when(publisher_back{}).then_nothing();
}

BOOST_AUTO_TEST_CASE(cancelled_room_start_live_is_refused_not_scheduled) {
  given<vr>(history(room_state::cancelled))
      .when(start_live{.stream_key_id = 7, .broadcast_id = broadcast_id})
      .then_error(error_code::video_room_state_not_scheduled);
}

BOOST_AUTO_TEST_CASE(publisher_lost_when_not_live_is_a_no_op) {
  for (const auto from : {room_state::scheduled, room_state::live_inactive, room_state::ended, room_state::cancelled})
    BOOST_TEST_CONTEXT("from " << from) { given<vr>(history(from)).when(publisher_lost{}).then_nothing(); }
}

BOOST_AUTO_TEST_CASE(publisher_back_when_not_live_inactive_is_a_no_op) {
  for (const auto from : {room_state::scheduled, room_state::live, room_state::ended, room_state::cancelled})
    BOOST_TEST_CONTEXT("from " << from) { given<vr>(history(from)).when(publisher_back{}).then_nothing(); }
}

BOOST_AUTO_TEST_CASE(end_live_while_publishing_is_refused_not_inactive_live) {
  given<vr>(history(room_state::live))
      .when(end_live{.forced = false, .video_post_id = post_id})
      .then_error(error_code::stream_key_state_not_inactive_live);
}

BOOST_AUTO_TEST_CASE(end_live_when_ended_is_a_no_op) {
  given<vr>(history(room_state::ended)).when(end_live{.forced = false, .video_post_id = post_id}).then_nothing();
  given<vr>(history(room_state::ended)).when(end_live{.forced = true, .video_post_id = post_id + 1}).then_nothing();
}

BOOST_AUTO_TEST_CASE(end_live_when_scheduled_or_cancelled_is_refused_not_live) {
  for (const auto from : {room_state::scheduled, room_state::cancelled})
    for (const bool forced : {false, true})
      BOOST_TEST_CONTEXT("from " << from << " forced " << forced) {
        given<vr>(history(from))
            .when(end_live{.forced = forced, .video_post_id = post_id})
            .then_error(error_code::video_room_state_not_live);
      }
}

BOOST_AUTO_TEST_CASE(cancel_when_cancelled_is_a_no_op) {
  given<vr>(history(room_state::cancelled)).when(cancel_room{}).then_nothing();
}

BOOST_AUTO_TEST_CASE(cancel_when_not_scheduled_is_refused) {
  for (const auto from : {room_state::live, room_state::live_inactive, room_state::ended})
    BOOST_TEST_CONTEXT("from " << from) {
      given<vr>(history(from)).when(cancel_room{}).then_error(error_code::video_room_state_not_scheduled);
    }
}

BOOST_AUTO_TEST_CASE(vod_archived_again_is_a_no_op) {
  auto h = history(room_state::ended);
  h.push_back(vod_archived{.vod_url = "u", .at = at(90)});
  given<vr>(h).when(mark_vod_archived{.vod_url = "u"}).then_nothing();
}

BOOST_AUTO_TEST_CASE(vod_failed_again_is_a_no_op) {
  auto h = history(room_state::ended);
  h.push_back(vod_failed{.message = "m", .at = at(90)});
  given<vr>(h).when(mark_vod_failed{.message = "m"}).then_nothing();
}

BOOST_AUTO_TEST_CASE(vod_result_when_not_archiving_is_refused) {
  for (const auto from : {room_state::scheduled, room_state::live, room_state::cancelled}) {
    BOOST_TEST_CONTEXT("from " << from) {
      given<vr>(history(from)).when(mark_vod_archived{.vod_url = "u"}).then_error(error_code::video_room_vod_state_not_archiving);
      given<vr>(history(from)).when(mark_vod_failed{.message = "m"}).then_error(error_code::video_room_vod_state_not_archiving);
    }
  }
  auto archived = history(room_state::ended);
  archived.push_back(vod_archived{.vod_url = "u", .at = at(90)});
  given<vr>(archived).when(mark_vod_failed{.message = "m"}).then_error(error_code::video_room_vod_state_not_archiving);
  auto failed = history(room_state::ended);
  failed.push_back(vod_failed{.message = "m", .at = at(90)});
  given<vr>(failed).when(mark_vod_archived{.vod_url = "u"}).then_error(error_code::video_room_vod_state_not_archiving);
}

BOOST_AUTO_TEST_SUITE_END()
