// Stream key: one test per row of lifecycle.md's table, per refusal, per idempotent no-op.
#include "domain/stream_key.hpp"

#include <array>

#include "given_when_then.hpp"

using namespace onair::domain;
using namespace onair::domain::testing;

namespace {

using sk = stream_key_aggregate;
constexpr std::int64_t key_id = 7;
constexpr std::int64_t room = 50;
const std::string value = "secret-0";

key_created created() {
  return key_created{.id = key_id,
                     .member_id = 3,
                     .app_user_id = "alice",
                     .profile_id = 1,
                     .value = value,
                     .preview_id = "public-0",
                     .at = at(0)};
}
publisher_connected connected(std::string session, std::optional<std::int64_t> room_id = std::nullopt) {
  return publisher_connected{.session_id = std::move(session),
                             .mode = output_mode::rtmp,
                             .remote_addr = "10.0.0.1:5000",
                             .room_id = room_id,
                             .at = at(1)};
}
stream_viewable viewable(std::string session, std::optional<std::int64_t> room_id = std::nullopt) {
  return stream_viewable{.session_id = std::move(session), .room_id = room_id, .at = at(2)};
}
publisher_disconnected disconnected(std::string session, std::optional<std::int64_t> room_id = std::nullopt) {
  return publisher_disconnected{.session_id = std::move(session), .reason = "closed", .room_id = room_id, .at = at(4)};
}

// A history that leaves the key in `s` (publisher "s1", then "s2" after an interruption; room 50).
std::vector<sk::event> history(key_state s) {
  std::vector<sk::event> h{created()};
  if (s == key_state::inactive)
    return h;
  h.push_back(connected("s1"));
  if (s == key_state::active_prep)
    return h;
  h.push_back(viewable("s1"));
  if (s == key_state::active)
    return h;
  h.push_back(live_attached{.room_id = room, .at = at(3)});
  if (s == key_state::active_live)
    return h;
  h.push_back(disconnected("s1", room));
  if (s == key_state::inactive_live)
    return h;
  h.push_back(connected("s2", room));
  return h; // active_live_prep
}

// The session on in a history(s), empty when none.
std::string session_of(key_state s) {
  switch (s) {
  case key_state::active_prep:
  case key_state::active:
  case key_state::active_live:
    return "s1";
  case key_state::active_live_prep:
    return "s2";
  default:
    return "";
  }
}

connect_publisher connect(std::string session, std::string presented = value) {
  return connect_publisher{.presented_value = std::move(presented),
                           .requested_mode = std::nullopt,
                           .app_default_mode = output_mode::rtmp,
                           .remote_addr = "10.0.0.1:5000",
                           .session_id = std::move(session)};
}

constexpr std::array all_states{key_state::inactive,      key_state::active_prep,   key_state::active,
                                key_state::active_live,   key_state::inactive_live, key_state::active_live_prep};

} // namespace

BOOST_AUTO_TEST_SUITE(stream_key_lifecycle)

BOOST_AUTO_TEST_CASE(history_helper_reaches_every_state) {
  for (const auto s : all_states)
    BOOST_TEST(given<sk>(history(s)).state().state == s);
  BOOST_TEST(given<sk>(history(key_state::active_live_prep)).state().live_room_id == room);
}

// | INACTIVE | a publisher connects with this key and is accepted | ACTIVE_PREP |
BOOST_AUTO_TEST_CASE(inactive_publisher_connects_goes_active_prep) {
  const auto s = given<sk>(history(key_state::inactive)).when(connect("s1"), ctx(1)).then({connected("s1")});
  BOOST_TEST(s.state == key_state::active_prep);
  BOOST_TEST(s.session_id == "s1");
  BOOST_REQUIRE(s.ingest.has_value());
  BOOST_TEST(s.ingest->remote_addr == "10.0.0.1:5000");
  BOOST_TEST(s.ingest->started_at == at(1));
}

// | ACTIVE_PREP | the stream is viewable in its mode | ACTIVE |
BOOST_AUTO_TEST_CASE(active_prep_viewable_goes_active) {
  const auto s = given<sk>(history(key_state::active_prep))
                     .when(mark_viewable{.session_id = "s1"}, ctx(2))
                     .then({viewable("s1")});
  BOOST_TEST(s.state == key_state::active);
  BOOST_TEST(is_viewable(s.state));
}

// RTMP_CMAF whose CMAF output cannot be made: viewable over RTMP, and the key says so.
BOOST_AUTO_TEST_CASE(active_prep_viewable_over_rtmp_only_goes_active_and_records_that_cmaf_is_missing) {
  auto expected = viewable("s1");
  expected.rtmp_only = true;
  const auto s = given<sk>(history(key_state::active_prep))
                     .when(mark_viewable{.session_id = "s1", .rtmp_only = true}, ctx(2))
                     .then({expected});
  BOOST_TEST(s.state == key_state::active);
  BOOST_TEST(s.rtmp_only);
}

BOOST_AUTO_TEST_CASE(an_rtmp_only_stream_whose_cmaf_output_is_made_later_is_viewable_in_both_families) {
  for (const auto from : {key_state::active, key_state::active_live}) {
    BOOST_TEST_CONTEXT("from " << from) {
      auto h = history(from);
      std::get<stream_viewable>(h[2]).rtmp_only = true;
      const auto room_id = from == key_state::active_live ? std::optional<std::int64_t>{room} : std::nullopt;
      const auto s = given<sk>(h).when(mark_viewable{.session_id = "s1"}, ctx(2)).then({viewable("s1", room_id)});
      BOOST_TEST(s.state == from, "the state stays");
      BOOST_TEST(!s.rtmp_only);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_stream_viewable_in_both_families_is_not_taken_back_to_rtmp_only) {
  given<sk>(history(key_state::active)).when(mark_viewable{.session_id = "s1", .rtmp_only = true}).then_nothing();
}

BOOST_AUTO_TEST_CASE(the_next_publish_of_an_rtmp_only_stream_starts_without_the_mark) {
  auto h = history(key_state::active);
  std::get<stream_viewable>(h[2]).rtmp_only = true;
  BOOST_TEST(given<sk>(h).state().rtmp_only);
  h.push_back(disconnected("s1"));
  BOOST_TEST(!given<sk>(h).state().rtmp_only, "cleared when the publisher goes");
  h.push_back(connected("s2"));
  const auto s = given<sk>(h).state();
  BOOST_TEST(s.state == key_state::active_prep);
  BOOST_TEST(!s.rtmp_only);
}

// | ACTIVE_PREP, ACTIVE | publisher gone | INACTIVE |
BOOST_AUTO_TEST_CASE(active_prep_and_active_publisher_gone_go_inactive) {
  for (const auto from : {key_state::active_prep, key_state::active}) {
    BOOST_TEST_CONTEXT("from " << from) {
      const auto s = given<sk>(history(from))
                         .when(disconnect_publisher{.session_id = "s1", .reason = "closed"}, ctx(4))
                         .then({disconnected("s1")});
      BOOST_TEST(s.state == key_state::inactive);
      BOOST_TEST(s.session_id.empty());
      BOOST_TEST(!s.ingest.has_value());
    }
  }
}

// | ACTIVE | Start Live on a room of the owner | ACTIVE_LIVE |
BOOST_AUTO_TEST_CASE(active_start_live_goes_active_live) {
  const auto s = given<sk>(history(key_state::active))
                     .when(attach_live{.room_id = room}, ctx(3))
                     .then({live_attached{.room_id = room, .at = at(3)}});
  BOOST_TEST(s.state == key_state::active_live);
  BOOST_TEST(s.live_room_id == room);
}

// | ACTIVE_LIVE | publisher gone | INACTIVE_LIVE |
BOOST_AUTO_TEST_CASE(active_live_publisher_gone_goes_inactive_live) {
  const auto s = given<sk>(history(key_state::active_live))
                     .when(disconnect_publisher{.session_id = "s1", .reason = "closed"}, ctx(4))
                     .then({disconnected("s1", room)});
  BOOST_TEST(s.state == key_state::inactive_live);
  BOOST_TEST(s.live_room_id == room);
}

// | INACTIVE_LIVE | publisher connects again | ACTIVE_LIVE_PREP |
BOOST_AUTO_TEST_CASE(inactive_live_publisher_connects_goes_active_live_prep) {
  const auto s = given<sk>(history(key_state::inactive_live))
                     .when(connect("s2"), ctx(1))
                     .then({connected("s2", room)});
  BOOST_TEST(s.state == key_state::active_live_prep);
  BOOST_TEST(s.session_id == "s2");
}

// | ACTIVE_LIVE_PREP | viewable again | ACTIVE_LIVE |
BOOST_AUTO_TEST_CASE(active_live_prep_viewable_goes_active_live) {
  const auto s = given<sk>(history(key_state::active_live_prep))
                     .when(mark_viewable{.session_id = "s2"}, ctx(2))
                     .then({viewable("s2", room)});
  BOOST_TEST(s.state == key_state::active_live);
}

// | ACTIVE_LIVE_PREP | publisher gone | INACTIVE_LIVE |
BOOST_AUTO_TEST_CASE(active_live_prep_publisher_gone_goes_inactive_live) {
  const auto s = given<sk>(history(key_state::active_live_prep))
                     .when(disconnect_publisher{.session_id = "s2", .reason = "closed"}, ctx(4))
                     .then({disconnected("s2", room)});
  BOOST_TEST(s.state == key_state::inactive_live);
}

// | INACTIVE_LIVE | End Live | INACTIVE |
BOOST_AUTO_TEST_CASE(inactive_live_end_live_goes_inactive) {
  const auto s = given<sk>(history(key_state::inactive_live))
                     .when(detach_live{.room_id = room}, ctx(5))
                     .then({live_detached{.room_id = room, .at = at(5)}});
  BOOST_TEST(s.state == key_state::inactive);
  BOOST_TEST(!s.live_room_id.has_value());
}

// | any | forced end | INACTIVE, key value reissued, publisher disconnected |
BOOST_AUTO_TEST_CASE(any_forced_end_goes_inactive_with_key_reissued) {
  for (const auto from : all_states) {
    if (from == key_state::inactive)
      continue; // idle: a no-op, see force_end_when_idle_is_a_no_op
    BOOST_TEST_CONTEXT("from " << from) {
      const bool publisher = has_publisher(from);
      const std::optional<std::int64_t> room_id =
          is_live(from) ? std::optional<std::int64_t>{room} : std::nullopt;
      const auto s = given<sk>(history(from))
                         .when(force_end{.reason = "forced"}, ctx(9, 2))
                         .then({force_ended{.new_value = "secret-2",
                                            .new_preview_id = "public-2",
                                            .had_publisher = publisher,
                                            .session_id = session_of(from),
                                            .room_id = room_id,
                                            .reason = "forced",
                                            .at = at(9)}});
      BOOST_TEST(s.state == key_state::inactive);
      BOOST_TEST(s.value == "secret-2");
      BOOST_TEST(s.preview_id == "public-2");
      BOOST_TEST(s.session_id.empty());
      BOOST_TEST(!s.live_room_id.has_value());
      BOOST_TEST(!s.ingest.has_value());
    }
  }
}

BOOST_AUTO_TEST_CASE(after_forced_end_old_value_is_refused_and_new_value_publishes) {
  auto h = history(key_state::active_live);
  h.push_back(force_ended{.new_value = "secret-2",
                          .new_preview_id = "public-2",
                          .had_publisher = true,
                          .session_id = "s1",
                          .room_id = room,
                          .reason = "forced",
                          .at = at(9)});
  given<sk>(h).when(connect("s9", value)).then_error(error_code::stream_key_not_publishable);
  given<sk>(h).when(connect("s9", "secret-2"), ctx(10)).then({publisher_connected{
      .session_id = "s9", .mode = output_mode::rtmp, .remote_addr = "10.0.0.1:5000", .at = at(10)}});
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(stream_key_create)

BOOST_AUTO_TEST_CASE(create_key_creates_inactive_key_with_fresh_value) {
  const auto s = given<sk>()
                     .when(create_key{.id = key_id, .member_id = 3, .app_user_id = "alice", .profile_id = 1}, ctx(0, 0))
                     .then({created()});
  BOOST_TEST(s.exists);
  BOOST_TEST(s.state == key_state::inactive);
  BOOST_TEST(s.value == value);
  BOOST_TEST(s.preview_id == "public-0");
  BOOST_TEST(s.created_at == at(0));
  BOOST_TEST(s.last_modified_at == at(0));
  BOOST_TEST(s.mode == output_mode::rtmp);
  BOOST_TEST(!s.default_mode.has_value());
}

BOOST_AUTO_TEST_CASE(create_key_when_it_exists_is_a_no_op) {
  given<sk>(history(key_state::active))
      .when(create_key{.id = key_id, .member_id = 3, .app_user_id = "alice", .profile_id = 1}, ctx(5, 5))
      .then_nothing();
}

BOOST_AUTO_TEST_CASE(create_key_with_unknown_profile_is_refused) {
  given<sk>()
      .when(create_key{.id = key_id, .member_id = 3, .app_user_id = "alice", .profile_id = 99})
      .then_error(error_code::transcoding_profile_not_found, "profileId");
}

BOOST_AUTO_TEST_CASE(commands_on_a_missing_key_are_refused) {
  const std::vector<sk::command> commands{
      connect("s1"),          mark_viewable{.session_id = "s1"}, disconnect_publisher{},
      update_ingest_stats{},  report_key_error{},                attach_live{.room_id = room},
      detach_live{.room_id = room}, force_end{},                 reissue_key{},
      change_key_settings{},  revoke_key{}};
  for (const auto& c : commands)
    given<sk>().when(c).then_error(error_code::stream_key_not_found);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(stream_key_publish)

BOOST_AUTO_TEST_CASE(connect_with_wrong_value_is_not_publishable) {
  given<sk>(history(key_state::inactive)).when(connect("s1", "guess")).then_error(error_code::stream_key_not_publishable);
}

BOOST_AUTO_TEST_CASE(connect_with_empty_value_is_not_publishable) {
  given<sk>(history(key_state::inactive)).when(connect("s1", "")).then_error(error_code::stream_key_not_publishable);
}

BOOST_AUTO_TEST_CASE(connect_to_revoked_key_is_not_publishable) {
  auto h = history(key_state::inactive);
  h.push_back(key_revoked{.at = at(1)});
  given<sk>(h).when(connect("s1")).then_error(error_code::stream_key_not_publishable);
}

BOOST_AUTO_TEST_CASE(second_publisher_is_refused_in_use_and_first_not_disturbed) {
  for (const auto from : all_states) {
    if (!has_publisher(from))
      continue;
    BOOST_TEST_CONTEXT("from " << from) {
      auto sc = given<sk>(history(from));
      sc.when(connect("other")).then_error(error_code::stream_key_in_use);
      BOOST_TEST(sc.state().session_id == session_of(from));
    }
  }
}

BOOST_AUTO_TEST_CASE(connect_retry_of_same_session_is_a_no_op) {
  given<sk>(history(key_state::active_prep)).when(connect("s1")).then_nothing();
  given<sk>(history(key_state::active_live_prep)).when(connect("s2")).then_nothing();
}

BOOST_AUTO_TEST_CASE(connect_without_session_id_is_refused) {
  given<sk>(history(key_state::inactive)).when(connect("")).then_error(error_code::invalid_parameter, "sessionId");
}

BOOST_AUTO_TEST_CASE(mode_precedence_requested_then_key_default_then_app_default) {
  auto c = connect("s1");
  c.app_default_mode = output_mode::cmaf;
  auto expected = connected("s1");

  // Nothing requested, no key default: the app's.
  expected.mode = output_mode::cmaf;
  given<sk>(history(key_state::inactive)).when(c, ctx(1)).then({expected});

  // Key default beats the app's.
  auto h = history(key_state::inactive);
  h.push_back(key_settings_changed{.default_mode = output_mode::rtmp_cmaf, .at = at(0)});
  expected.mode = output_mode::rtmp_cmaf;
  auto s = given<sk>(h).when(c, ctx(1)).then({expected});
  BOOST_TEST(s.mode == output_mode::rtmp_cmaf);

  // ?mode= beats both.
  c.requested_mode = output_mode::rtmp;
  expected.mode = output_mode::rtmp;
  given<sk>(h).when(c, ctx(1)).then({expected});
}

BOOST_AUTO_TEST_CASE(mark_viewable_of_stale_session_is_a_no_op) {
  given<sk>(history(key_state::active_prep)).when(mark_viewable{.session_id = "old"}).then_nothing();
}

BOOST_AUTO_TEST_CASE(mark_viewable_when_already_viewable_or_idle_is_a_no_op) {
  for (const auto from : {key_state::inactive, key_state::active, key_state::active_live, key_state::inactive_live})
    BOOST_TEST_CONTEXT("from " << from) {
      given<sk>(history(from)).when(mark_viewable{.session_id = "s1"}).then_nothing();
    }
}

BOOST_AUTO_TEST_CASE(disconnect_of_stale_session_is_a_no_op) {
  given<sk>(history(key_state::active)).when(disconnect_publisher{.session_id = "old", .reason = "closed"}).then_nothing();
}

BOOST_AUTO_TEST_CASE(disconnect_with_nothing_connected_is_a_no_op) {
  for (const auto from : {key_state::inactive, key_state::inactive_live})
    BOOST_TEST_CONTEXT("from " << from) {
      given<sk>(history(from)).when(disconnect_publisher{.session_id = "", .reason = "server restarted"}).then_nothing();
    }
}

BOOST_AUTO_TEST_CASE(server_restart_disconnects_whatever_session_is_on) {
  const auto s = given<sk>(history(key_state::active_live_prep))
                     .when(disconnect_publisher{.session_id = "", .reason = "server restarted"}, ctx(4))
                     .then({publisher_disconnected{
                         .session_id = "s2", .reason = "server restarted", .room_id = room, .at = at(4)}});
  BOOST_TEST(s.state == key_state::inactive_live);
}

BOOST_AUTO_TEST_CASE(ingest_stats_of_current_session_are_recorded_keeping_where_and_when_it_connected) {
  // Given a publisher that connected from 10.0.0.1:5000 at t1; when the media side reports what
  // it measured (it knows nothing of the address or the start)
  const ingest_info measured{.video_codec = "h264", .audio_codec = "aac", .width = 1280, .height = 720, .fps = 30,
                             .bitrate_kbps = 2500};
  ingest_info expected = measured;
  expected.remote_addr = "10.0.0.1:5000";
  expected.started_at = at(1);
  // Then the stats are recorded and the connect-time fields stay
  const auto s = given<sk>(history(key_state::active))
                     .when(update_ingest_stats{.session_id = "s1", .ingest = measured}, ctx(3))
                     .then({ingest_stats_updated{.session_id = "s1", .ingest = expected, .at = at(3)}});
  BOOST_TEST((s.ingest == expected));
}

BOOST_AUTO_TEST_CASE(ingest_stats_of_stale_session_are_a_no_op) {
  given<sk>(history(key_state::active)).when(update_ingest_stats{.session_id = "old"}).then_nothing();
  given<sk>(history(key_state::inactive)).when(update_ingest_stats{.session_id = "s1"}).then_nothing();
}

BOOST_AUTO_TEST_CASE(unchanged_ingest_stats_are_a_no_op) {
  const auto h = history(key_state::active);
  const auto current = *given<sk>(h).state().ingest;
  given<sk>(h).when(update_ingest_stats{.session_id = "s1", .ingest = current}).then_nothing();
  auto as_measured = current; // what the media side sends: no address, no start
  as_measured.remote_addr.clear();
  as_measured.started_at = {};
  given<sk>(h).when(update_ingest_stats{.session_id = "s1", .ingest = as_measured}).then_nothing();
}

BOOST_AUTO_TEST_CASE(error_report_is_recorded_and_cleared_on_next_connect) {
  auto h = history(key_state::active);
  const auto s = given<sk>(h)
                     .when(report_key_error{.session_id = "s1", .code = "TRANSCODE_FAILED", .message = "boom"}, ctx(3))
                     .then({key_error_reported{.session_id = "s1", .code = "TRANSCODE_FAILED", .message = "boom", .at = at(3)}});
  BOOST_REQUIRE(s.error.has_value());
  BOOST_TEST(s.error->occurred_at == at(3));
  h.push_back(key_error_reported{.session_id = "s1", .code = "TRANSCODE_FAILED", .message = "boom", .at = at(3)});
  given<sk>(h).when(report_key_error{.session_id = "s1", .code = "TRANSCODE_FAILED", .message = "boom"}).then_nothing();
  h.push_back(disconnected("s1"));
  const auto after = given<sk>(h).when(connect("s3"), ctx(1)).then({connected("s3")});
  BOOST_TEST(!after.error.has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(stream_key_live)

BOOST_AUTO_TEST_CASE(start_live_on_same_room_again_is_a_no_op) {
  for (const auto from : {key_state::active_live, key_state::inactive_live, key_state::active_live_prep})
    BOOST_TEST_CONTEXT("from " << from) {
      given<sk>(history(from)).when(attach_live{.room_id = room}).then_nothing();
    }
}

BOOST_AUTO_TEST_CASE(start_live_on_another_room_while_live_is_refused_already_broadcasting) {
  for (const auto from : {key_state::active_live, key_state::inactive_live, key_state::active_live_prep})
    BOOST_TEST_CONTEXT("from " << from) {
      given<sk>(history(from)).when(attach_live{.room_id = room + 1}).then_error(error_code::member_already_broadcasting);
    }
}

BOOST_AUTO_TEST_CASE(start_live_when_key_not_active_is_refused) {
  for (const auto from : {key_state::inactive, key_state::active_prep})
    BOOST_TEST_CONTEXT("from " << from) {
      given<sk>(history(from)).when(attach_live{.room_id = room}).then_error(error_code::stream_key_state_not_active);
    }
}

BOOST_AUTO_TEST_CASE(end_live_of_room_not_attached_is_a_no_op) {
  given<sk>(history(key_state::inactive)).when(detach_live{.room_id = room}).then_nothing();
  given<sk>(history(key_state::inactive_live)).when(detach_live{.room_id = room + 1}).then_nothing();
}

BOOST_AUTO_TEST_CASE(end_live_while_publishing_is_refused_not_inactive_live) {
  for (const auto from : {key_state::active_live, key_state::active_live_prep})
    BOOST_TEST_CONTEXT("from " << from) {
      given<sk>(history(from)).when(detach_live{.room_id = room}).then_error(error_code::stream_key_state_not_inactive_live);
    }
}

BOOST_AUTO_TEST_CASE(force_end_when_idle_is_a_no_op) {
  given<sk>(history(key_state::inactive)).when(force_end{.reason = "force-terminate"}).then_nothing();
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(stream_key_manage)

BOOST_AUTO_TEST_CASE(reissue_when_inactive_gives_new_value_and_preview_id) {
  const auto s = given<sk>(history(key_state::inactive))
                     .when(reissue_key{}, ctx(5, 3))
                     .then({key_reissued{.new_value = "secret-3", .new_preview_id = "public-3", .at = at(5)}});
  BOOST_TEST(s.value == "secret-3");
  BOOST_TEST(s.preview_id == "public-3");
}

BOOST_AUTO_TEST_CASE(reissue_when_not_inactive_is_refused_in_use) {
  for (const auto from : all_states) {
    if (from == key_state::inactive)
      continue;
    BOOST_TEST_CONTEXT("from " << from) {
      given<sk>(history(from)).when(reissue_key{}).then_error(error_code::stream_key_in_use);
    }
  }
}

BOOST_AUTO_TEST_CASE(change_settings_records_only_what_changed) {
  const auto s = given<sk>(history(key_state::inactive))
                     .when(change_key_settings{.profile_id = 1, .default_mode = output_mode::cmaf}, ctx(5))
                     .then({key_settings_changed{.profile_id = std::nullopt, .default_mode = output_mode::cmaf, .at = at(5)}});
  BOOST_TEST(s.default_mode == output_mode::cmaf);
  const auto s2 = given<sk>(history(key_state::active))
                      .when(change_key_settings{.profile_id = 2}, ctx(5))
                      .then({key_settings_changed{.profile_id = 2, .at = at(5)}});
  BOOST_TEST(s2.profile_id == 2);
  BOOST_TEST(s2.last_modified_at == at(5));
}

BOOST_AUTO_TEST_CASE(change_settings_with_unknown_profile_is_refused) {
  given<sk>(history(key_state::inactive))
      .when(change_key_settings{.profile_id = 42})
      .then_error(error_code::transcoding_profile_not_found, "profileId");
}

BOOST_AUTO_TEST_CASE(change_settings_to_vod_profile_is_refused) {
  given<sk>(history(key_state::inactive))
      .when(change_key_settings{.profile_id = vod_default_profile_id})
      .then_error(error_code::invalid_parameter, "profileId");
}

BOOST_AUTO_TEST_CASE(change_settings_without_change_is_a_no_op) {
  given<sk>(history(key_state::inactive)).when(change_key_settings{.profile_id = 1}).then_nothing();
  given<sk>(history(key_state::inactive)).when(change_key_settings{}).then_nothing();
}

BOOST_AUTO_TEST_CASE(revoke_cuts_publisher_and_clears_live_room) {
  const auto s = given<sk>(history(key_state::active_live))
                     .when(revoke_key{}, ctx(8))
                     .then({key_revoked{.had_publisher = true, .session_id = "s1", .room_id = room, .at = at(8)}});
  BOOST_TEST(s.state == key_state::inactive);
  BOOST_TEST(s.revoked);
  BOOST_TEST(!s.live_room_id.has_value());
  BOOST_TEST(s.session_id.empty());
}

BOOST_AUTO_TEST_CASE(revoke_of_idle_key) {
  const auto s = given<sk>(history(key_state::inactive)).when(revoke_key{}, ctx(8)).then({key_revoked{.at = at(8)}});
  BOOST_TEST(s.revoked);
}

BOOST_AUTO_TEST_CASE(revoke_when_already_revoked_is_a_no_op) {
  auto h = history(key_state::inactive);
  h.push_back(key_revoked{.at = at(8)});
  given<sk>(h).when(revoke_key{}).then_nothing();
}

BOOST_AUTO_TEST_CASE(a_publish_refused_before_it_had_a_session_is_reported_on_the_inactive_key) {
  const auto s = given<sk>(history(key_state::inactive))
                     .when(report_key_error{.code = "TRANSCODE_CAPACITY", .message = "full"}, ctx(3))
                     .then({key_error_reported{.code = "TRANSCODE_CAPACITY", .message = "full", .at = at(3)}});
  BOOST_REQUIRE(s.error.has_value());
  BOOST_TEST(s.error->code == "TRANSCODE_CAPACITY");
  // A report for a session that is no longer on is not.
  given<sk>(history(key_state::inactive))
      .when(report_key_error{.session_id = "s1", .code = "TRANSCODE_FAILED", .message = "late"})
      .then_nothing();
}

BOOST_AUTO_TEST_CASE(a_publish_gets_the_mode_it_asks_for_else_the_keys_default_else_the_apps) {
  stream_key k;
  BOOST_TEST((publish_mode(k, std::nullopt, output_mode::cmaf) == output_mode::cmaf));
  k.default_mode = output_mode::rtmp_cmaf;
  BOOST_TEST((publish_mode(k, std::nullopt, output_mode::cmaf) == output_mode::rtmp_cmaf));
  BOOST_TEST((publish_mode(k, output_mode::rtmp, output_mode::cmaf) == output_mode::rtmp));
}

BOOST_AUTO_TEST_SUITE_END()
