// Broadcast: one per Start Live … End Live; its ingest sessions across interruptions.
#include "domain/broadcast.hpp"

#include "given_when_then.hpp"

using namespace onair::domain;
using namespace onair::domain::testing;

namespace {

using bc = broadcast_aggregate;

broadcast_started started() {
  return broadcast_started{.id = 60, .room_id = 50, .stream_key_id = 7, .member_id = 3, .mode = output_mode::cmaf, .at = at(10)};
}
broadcast_session_opened opened(std::string session, int t) {
  return broadcast_session_opened{.session_id = std::move(session), .at = at(t)};
}
broadcast_session_closed closed(std::string session, int t) {
  return broadcast_session_closed{.session_id = std::move(session), .at = at(t)};
}
const broadcast_ended ended_event{.forced = false, .at = at(40)};

} // namespace

BOOST_AUTO_TEST_SUITE(broadcast_commands)

BOOST_AUTO_TEST_CASE(start_broadcast_starts_live) {
  const auto s = given<bc>()
                     .when(start_broadcast{.id = 60, .room_id = 50, .stream_key_id = 7, .member_id = 3, .mode = output_mode::cmaf}, ctx(10))
                     .then({started()});
  BOOST_TEST(s.exists);
  BOOST_TEST(s.state == broadcast_state::live);
  BOOST_TEST(s.started_at == at(10));
  BOOST_TEST(s.sessions.empty());
}

BOOST_AUTO_TEST_CASE(start_broadcast_again_is_a_no_op) {
  given<bc>({started()}).when(start_broadcast{.id = 60, .room_id = 50, .stream_key_id = 7, .member_id = 3}).then_nothing();
}

BOOST_AUTO_TEST_CASE(start_broadcast_after_end_is_refused_ended) {
  given<bc>({started(), ended_event}).when(start_broadcast{.id = 60, .room_id = 50}).then_error(error_code::broadcast_ended);
}

BOOST_AUTO_TEST_CASE(ingest_session_started_opens_a_session) {
  const auto s = given<bc>({started()}).when(ingest_session_started{.session_id = "s1"}, ctx(11)).then({opened("s1", 11)});
  BOOST_REQUIRE(s.sessions.size() == 1U);
  BOOST_TEST(s.sessions[0].session_id == "s1");
  BOOST_TEST(!s.sessions[0].ended_at.has_value());
  BOOST_TEST(s.open_session() == &s.sessions[0]);
}

BOOST_AUTO_TEST_CASE(ingest_session_started_again_is_a_no_op) {
  given<bc>({started(), opened("s1", 11)}).when(ingest_session_started{.session_id = "s1"}).then_nothing();
  given<bc>({started(), opened("s1", 11), closed("s1", 20)}).when(ingest_session_started{.session_id = "s1"}).then_nothing();
}

BOOST_AUTO_TEST_CASE(ingest_session_started_while_another_is_open_closes_it_first) {
  given<bc>({started(), opened("s1", 11)})
      .when(ingest_session_started{.session_id = "s2"}, ctx(25))
      .then({closed("s1", 25), opened("s2", 25)});
}

BOOST_AUTO_TEST_CASE(ingest_session_started_without_id_is_refused) {
  given<bc>({started()}).when(ingest_session_started{}).then_error(error_code::invalid_parameter, "sessionId");
}

BOOST_AUTO_TEST_CASE(ingest_session_ended_closes_the_session_and_interruptions_accumulate) {
  const auto s = given<bc>({started(), opened("s1", 11), closed("s1", 20), opened("s2", 25)})
                     .when(ingest_session_ended{.session_id = "s2"}, ctx(30))
                     .then({closed("s2", 30)});
  BOOST_REQUIRE(s.sessions.size() == 2U);
  BOOST_TEST(s.sessions[0].ended_at == at(20));
  BOOST_TEST(s.sessions[1].started_at == at(25));
  BOOST_TEST(s.sessions[1].ended_at == at(30));
  BOOST_TEST(s.open_session() == nullptr);
}

BOOST_AUTO_TEST_CASE(ingest_session_ended_of_unknown_or_closed_session_is_a_no_op) {
  given<bc>({started()}).when(ingest_session_ended{.session_id = "s1"}).then_nothing();
  given<bc>({started(), opened("s1", 11), closed("s1", 20)}).when(ingest_session_ended{.session_id = "s1"}).then_nothing();
  given<bc>({started(), opened("s2", 11)}).when(ingest_session_ended{.session_id = "s1"}).then_nothing();
}

BOOST_AUTO_TEST_CASE(end_broadcast_ends_and_closes_the_open_session) {
  const auto s = given<bc>({started(), opened("s1", 11)})
                     .when(end_broadcast{.forced = true}, ctx(40))
                     .then({broadcast_ended{.forced = true, .at = at(40)}});
  BOOST_TEST(s.state == broadcast_state::ended);
  BOOST_TEST(s.ended_at == at(40));
  BOOST_TEST(s.forced);
  BOOST_TEST(s.sessions[0].ended_at == at(40));
}

BOOST_AUTO_TEST_CASE(end_broadcast_again_is_a_no_op) {
  given<bc>({started(), ended_event}).when(end_broadcast{.forced = true}).then_nothing();
}

BOOST_AUTO_TEST_CASE(session_commands_after_end_are_refused_ended) {
  given<bc>({started(), ended_event}).when(ingest_session_started{.session_id = "s9"}).then_error(error_code::broadcast_ended);
  given<bc>({started(), ended_event}).when(ingest_session_ended{.session_id = "s9"}).then_error(error_code::broadcast_ended);
}

BOOST_AUTO_TEST_CASE(commands_on_a_missing_broadcast_are_refused) {
  given<bc>().when(ingest_session_started{.session_id = "s1"}).then_error(error_code::broadcast_not_found);
  given<bc>().when(ingest_session_ended{.session_id = "s1"}).then_error(error_code::broadcast_not_found);
  given<bc>().when(end_broadcast{}).then_error(error_code::broadcast_not_found);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {
recording_part part_1(std::int64_t bytes, std::int64_t end_ms) {
  return recording_part{.index = 1, .file = "part-0001.mp4", .video_codec = "h264", .audio_codec = "aac",
                        .width = 1280, .height = 720, .bytes = bytes, .start_ms = 0, .end_ms = end_ms};
}
recording_part part_2() {
  return recording_part{.index = 2, .file = "part-0002.mp4", .video_codec = "hevc", .width = 1920, .height = 1080,
                        .bytes = 500, .start_ms = 10'040, .end_ms = 12'040};
}
const recording_started recording_begun{.path = "recordings/1/60", .at = at(12)};
} // namespace

BOOST_AUTO_TEST_SUITE(broadcast_recording)

BOOST_AUTO_TEST_CASE(start_recording_records_where) {
  const auto s = given<bc>({started()}).when(start_recording{.path = "recordings/1/60"}, ctx(12)).then({recording_begun});
  BOOST_TEST((s.recording.state == recording_state::recording));
  BOOST_TEST(s.recording.path == "recordings/1/60");
}

BOOST_AUTO_TEST_CASE(start_recording_again_after_a_restart_is_a_no_op) {
  given<bc>({started(), recording_begun}).when(start_recording{.path = "recordings/1/60"}).then_nothing();
}

BOOST_AUTO_TEST_CASE(start_recording_after_the_end_is_refused) {
  given<bc>({started(), ended_event}).when(start_recording{.path = "x"}).then_error(error_code::broadcast_ended);
}

BOOST_AUTO_TEST_CASE(start_recording_needs_a_folder) {
  given<bc>({started()}).when(start_recording{}).then_error(error_code::invalid_parameter);
}

BOOST_AUTO_TEST_CASE(progress_records_the_parts_with_their_totals) {
  const auto s = given<bc>({started(), recording_begun})
                     .when(record_progress{.parts = {part_1(1000, 10'000), part_2()}}, ctx(30))
                     .then({recording_progressed{.parts = {part_1(1000, 10'000), part_2()}, .bytes = 1500,
                                                 .duration_ms = 12'000, .at = at(30)}});
  BOOST_TEST(s.recording.bytes == 1500);
  BOOST_TEST(s.recording.duration_ms == 12'000);
  BOOST_TEST(s.recording.parts.size() == 2U);
}

BOOST_AUTO_TEST_CASE(the_same_progress_again_is_a_no_op) {
  given<bc>({started(), recording_begun,
             recording_progressed{.parts = {part_1(1000, 10'000)}, .bytes = 1000, .duration_ms = 10'000, .at = at(30)}})
      .when(record_progress{.parts = {part_1(1000, 10'000)}})
      .then_nothing();
}

BOOST_AUTO_TEST_CASE(progress_before_the_recording_started_is_refused) {
  given<bc>({started()}).when(record_progress{.parts = {part_1(1, 1)}}).then_error(error_code::invalid_parameter);
}

BOOST_AUTO_TEST_CASE(the_recording_completes_after_end_live) {
  const auto s = given<bc>({started(), recording_begun, ended_event})
                     .when(complete_recording{.parts = {part_1(2000, 20'000)}}, ctx(41))
                     .then({recording_completed{.parts = {part_1(2000, 20'000)}, .bytes = 2000, .duration_ms = 20'000,
                                                .at = at(41)}});
  BOOST_TEST((s.recording.state == recording_state::complete));
  BOOST_TEST(s.recording.ended_at == at(41));
}

BOOST_AUTO_TEST_CASE(nothing_changes_a_complete_recording) {
  const std::vector<bc::event> history{
      started(), recording_begun, recording_completed{.parts = {part_1(2000, 20'000)}, .bytes = 2000, .duration_ms = 20'000, .at = at(41)}};
  given<bc>(history).when(complete_recording{.parts = {part_1(2000, 20'000)}}).then_nothing();
  given<bc>(history).when(record_progress{.parts = {part_1(3000, 30'000)}}).then_nothing();
  given<bc>(history).when(fail_recording{.error = "late"}).then_nothing();
}

BOOST_AUTO_TEST_CASE(a_failed_recording_keeps_its_error_and_parts) {
  const auto s = given<bc>({started(), recording_begun})
                     .when(fail_recording{.parts = {part_1(700, 7'000)}, .error = "No space left on device"}, ctx(20))
                     .then({recording_failed{.parts = {part_1(700, 7'000)}, .bytes = 700, .duration_ms = 7'000,
                                             .error = "No space left on device", .at = at(20)}});
  BOOST_TEST((s.recording.state == recording_state::failed));
  BOOST_TEST(s.recording.error == "No space left on device");
  BOOST_TEST((s.state == broadcast_state::live)); // the live stream goes on
}

BOOST_AUTO_TEST_SUITE_END()
