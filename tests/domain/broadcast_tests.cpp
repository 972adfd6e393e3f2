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
