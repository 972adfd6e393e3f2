// The process manager's flow: intent first, then each step in order, completed or failed.
#include "domain/flow.hpp"

#include "given_when_then.hpp"

using namespace onair::domain;
using namespace onair::domain::testing;

namespace {

using fa = flow_aggregate;

flow_params live_params() {
  return flow_params{.room_id = 50, .stream_key_id = 7, .broadcast_id = 60, .video_post_id = 0, .member_id = 3,
                     .app_user_id = "alice", .mode = output_mode::rtmp, .reason = ""};
}

flow_started start_live_started() {
  return flow_started{.kind = flow_kind::start_live,
                      .params = live_params(),
                      .steps = {flow_step::attach_key, flow_step::start_broadcast, flow_step::start_room},
                      .at = at(0)};
}

} // namespace

BOOST_AUTO_TEST_SUITE(flow_commands)

BOOST_AUTO_TEST_CASE(begin_records_the_intent_and_its_steps) {
  const auto s = given<fa>().when(begin_flow{flow_kind::start_live, live_params()}, ctx(0)).then({start_live_started()});
  BOOST_TEST(s.status == flow_status::running);
  BOOST_TEST((s.next_step() == flow_step::attach_key));
}

BOOST_AUTO_TEST_CASE(begin_again_is_a_no_op) {
  given<fa>({start_live_started()}).when(begin_flow{flow_kind::start_live, live_params()}).then_nothing();
}

BOOST_AUTO_TEST_CASE(the_next_step_is_recorded) {
  const auto s = given<fa>({start_live_started()})
                     .when(complete_step{flow_step::attach_key}, ctx(1))
                     .then({flow_step_completed{flow_step::attach_key, at(1)}});
  BOOST_TEST((s.next_step() == flow_step::start_broadcast));
}

BOOST_AUTO_TEST_CASE(a_step_recorded_twice_is_a_no_op) {
  given<fa>({start_live_started(), flow_step_completed{flow_step::attach_key, at(1)}})
      .when(complete_step{flow_step::attach_key})
      .then_nothing();
}

BOOST_AUTO_TEST_CASE(a_step_out_of_order_is_refused) {
  given<fa>({start_live_started()}).when(complete_step{flow_step::start_room}).then_error(error_code::internal);
}

BOOST_AUTO_TEST_CASE(the_last_step_completes_the_flow) {
  const auto s = given<fa>({start_live_started(), flow_step_completed{flow_step::attach_key, at(1)},
                            flow_step_completed{flow_step::start_broadcast, at(2)}})
                     .when(complete_step{flow_step::start_room}, ctx(3))
                     .then({flow_step_completed{flow_step::start_room, at(3)}, flow_completed{at(3)}});
  BOOST_TEST(s.status == flow_status::completed);
  BOOST_TEST(!s.next_step().has_value());
}

BOOST_AUTO_TEST_CASE(a_refused_flow_fails_with_the_cause) {
  const auto s = given<fa>({start_live_started()})
                     .when(fail_flow{"STREAM_KEY_STATE_NOT_ACTIVE", "key is INACTIVE"}, ctx(1))
                     .then({flow_failed{"STREAM_KEY_STATE_NOT_ACTIVE", "key is INACTIVE", at(1)}});
  BOOST_TEST(s.status == flow_status::failed);
  BOOST_TEST(!s.next_step().has_value());
}

BOOST_AUTO_TEST_CASE(failing_a_finished_flow_is_a_no_op) {
  given<fa>({start_live_started(), flow_failed{"X", "y", at(1)}}).when(fail_flow{"X", "again"}).then_nothing();
}

BOOST_AUTO_TEST_CASE(steps_on_a_missing_flow_are_refused) {
  given<fa>().when(complete_step{flow_step::attach_key}).then_error(error_code::internal);
  given<fa>().when(fail_flow{"X", "y"}).then_error(error_code::internal);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(flow_steps)

BOOST_AUTO_TEST_CASE(start_live_locks_the_key_first) {
  const auto steps = steps_of(flow_kind::start_live, live_params());
  BOOST_REQUIRE(!steps.empty());
  BOOST_TEST((steps.front() == flow_step::attach_key));
  BOOST_TEST((steps.back() == flow_step::start_room));
}

BOOST_AUTO_TEST_CASE(end_live_detaches_then_records_the_vod) {
  const auto steps = steps_of(flow_kind::end_live, live_params());
  const std::vector<flow_step> want{flow_step::detach_key, flow_step::end_broadcast, flow_step::create_post,
                                    flow_step::end_room};
  BOOST_TEST((steps == want));
}

BOOST_AUTO_TEST_CASE(force_end_of_an_idle_key_only_reissues_it) {
  auto p = live_params();
  p.room_id = 0;
  const std::vector<flow_step> want{flow_step::force_end_key};
  BOOST_TEST((steps_of(flow_kind::force_end, p) == want));
}

BOOST_AUTO_TEST_CASE(force_end_of_a_live_room_archives_what_was_recorded) {
  const std::vector<flow_step> want{flow_step::force_end_key, flow_step::end_broadcast, flow_step::create_post,
                                    flow_step::end_room};
  BOOST_TEST((steps_of(flow_kind::force_end, live_params()) == want));
}

BOOST_AUTO_TEST_CASE(member_deletion_ends_the_live_room_then_revokes_and_deletes) {
  const std::vector<flow_step> want{flow_step::force_end_key, flow_step::end_broadcast, flow_step::create_post,
                                    flow_step::end_room,      flow_step::revoke_key,    flow_step::delete_member};
  BOOST_TEST((steps_of(flow_kind::delete_member, live_params()) == want));
  auto idle = live_params();
  idle.room_id = 0;
  const std::vector<flow_step> idle_want{flow_step::force_end_key, flow_step::revoke_key, flow_step::delete_member};
  BOOST_TEST((steps_of(flow_kind::delete_member, idle) == idle_want));
}

BOOST_AUTO_TEST_CASE(erasing_a_present_member_deletes_it_then_destroys_its_keys_then_records_it) {
  const std::vector<flow_step> want{flow_step::force_end_key,         flow_step::end_broadcast,
                                    flow_step::create_post,           flow_step::end_room,
                                    flow_step::revoke_key,            flow_step::delete_member,
                                    flow_step::destroy_personal_keys, flow_step::erase_member};
  BOOST_TEST((steps_of(flow_kind::erase_member, live_params()) == want));
}

BOOST_AUTO_TEST_CASE(erasing_a_deleted_member_only_destroys_its_keys_and_records_it) {
  auto gone = live_params();
  gone.room_id = 0;
  gone.stream_key_id = 0; // nothing of it is live or publishable any more
  const std::vector<flow_step> want{flow_step::destroy_personal_keys, flow_step::erase_member};
  BOOST_TEST((steps_of(flow_kind::erase_member, gone) == want));
}

BOOST_AUTO_TEST_SUITE_END()
