#pragma once
// The process manager's own aggregate: a flow that touches several aggregates (Start Live,
// End Live, forced end, member deletion and erasure) records its intent and each step it finished, so that a
// crash mid-flow is completed on restart from the first step not recorded. Steps are commands to
// other aggregates that are idempotent, so running a step twice is harmless.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "domain/aggregate.hpp"
#include "domain/enums.hpp"
#include "domain/fields.hpp"
#include "domain/output_mode.hpp"

namespace onair::domain {

enum class flow_kind { start_live, end_live, force_end, delete_member, erase_member };
enum class flow_status { running, completed, failed };
enum class flow_step {
  attach_key,      // key: ACTIVE -> ACTIVE_LIVE (the lock: one live room per member)
  start_broadcast, // broadcast created
  start_room,      // room: SCHEDULED -> LIVE
  detach_key,      // key: INACTIVE_LIVE -> INACTIVE
  force_end_key,   // key: any -> INACTIVE, value reissued, publisher cut
  end_broadcast,
  create_post,     // the VOD's video post, ARCHIVING
  end_room,        // room: -> ENDED, vod ARCHIVING
  revoke_key,
  delete_member,
  destroy_personal_keys, // the member's data keys destroyed: its sealed personal fields unreadable
  erase_member,          // member.erased recorded
};

template <>
struct enum_names<flow_kind> {
  static constexpr std::array entries{
      std::pair{flow_kind::start_live, std::string_view{"START_LIVE"}},
      std::pair{flow_kind::end_live, std::string_view{"END_LIVE"}},
      std::pair{flow_kind::force_end, std::string_view{"FORCE_END"}},
      std::pair{flow_kind::delete_member, std::string_view{"DELETE_MEMBER"}},
      std::pair{flow_kind::erase_member, std::string_view{"ERASE_MEMBER"}},
  };
};
template <>
struct enum_names<flow_status> {
  static constexpr std::array entries{
      std::pair{flow_status::running, std::string_view{"RUNNING"}},
      std::pair{flow_status::completed, std::string_view{"COMPLETED"}},
      std::pair{flow_status::failed, std::string_view{"FAILED"}},
  };
};
template <>
struct enum_names<flow_step> {
  static constexpr std::array entries{
      std::pair{flow_step::attach_key, std::string_view{"ATTACH_KEY"}},
      std::pair{flow_step::start_broadcast, std::string_view{"START_BROADCAST"}},
      std::pair{flow_step::start_room, std::string_view{"START_ROOM"}},
      std::pair{flow_step::detach_key, std::string_view{"DETACH_KEY"}},
      std::pair{flow_step::force_end_key, std::string_view{"FORCE_END_KEY"}},
      std::pair{flow_step::end_broadcast, std::string_view{"END_BROADCAST"}},
      std::pair{flow_step::create_post, std::string_view{"CREATE_POST"}},
      std::pair{flow_step::end_room, std::string_view{"END_ROOM"}},
      std::pair{flow_step::revoke_key, std::string_view{"REVOKE_KEY"}},
      std::pair{flow_step::delete_member, std::string_view{"DELETE_MEMBER"}},
      std::pair{flow_step::destroy_personal_keys, std::string_view{"DESTROY_PERSONAL_KEYS"}},
      std::pair{flow_step::erase_member, std::string_view{"ERASE_MEMBER"}},
  };
};

// What a flow works on. Ids of entities it creates are fixed when it starts, so a resumed flow
// creates the same ones.
struct flow_params {
  std::int64_t room_id = 0;        // 0: no live room involved
  std::int64_t stream_key_id = 0;
  std::int64_t broadcast_id = 0;
  std::int64_t video_post_id = 0;
  std::int64_t member_id = 0;
  std::string app_user_id{};
  output_mode mode = output_mode::rtmp;
  std::string reason{};

  static constexpr auto fields() {
    return std::tuple{field("roomId", &flow_params::room_id), field("streamKeyId", &flow_params::stream_key_id),
                      field("broadcastId", &flow_params::broadcast_id),
                      field("videoPostId", &flow_params::video_post_id),
                      field("memberId", &flow_params::member_id), field("appUserId", &flow_params::app_user_id), field("mode", &flow_params::mode),
                      field("reason", &flow_params::reason)};
  }
  friend bool operator==(const flow_params&, const flow_params&) = default;
};

// The steps of a flow, in order.
[[nodiscard]] std::vector<flow_step> steps_of(flow_kind kind, const flow_params& p);

struct flow {
  bool exists = false;
  flow_kind kind = flow_kind::start_live;
  flow_status status = flow_status::running;
  flow_params params{};
  std::vector<flow_step> steps{};
  int steps_done = 0;
  std::string error_code{};
  std::string error_message{};
  timestamp created_at{};
  timestamp last_modified_at{};

  [[nodiscard]] std::optional<flow_step> next_step() const {
    if (status != flow_status::running || steps_done >= static_cast<int>(steps.size()))
      return std::nullopt;
    return steps[static_cast<std::size_t>(steps_done)];
  }

  static constexpr auto fields() {
    return std::tuple{field("exists", &flow::exists),       field("kind", &flow::kind),
                      field("status", &flow::status),       field("params", &flow::params),
                      field("steps", &flow::steps),         field("stepsDone", &flow::steps_done),
                      field("errorCode", &flow::error_code), field("errorMessage", &flow::error_message),
                      field("createdAt", &flow::created_at), field("lastModifiedAt", &flow::last_modified_at)};
  }
  friend bool operator==(const flow&, const flow&) = default;
};

// ---- commands
struct begin_flow {
  flow_kind kind = flow_kind::start_live;
  flow_params params{};
  static constexpr auto fields() {
    return std::tuple{field("kind", &begin_flow::kind), field("params", &begin_flow::params)};
  }
};
// Records that `step` is done; it must be the flow's next step (a repeat yields no events).
struct complete_step {
  flow_step step = flow_step::attach_key;
  static constexpr auto fields() { return std::tuple{field("step", &complete_step::step)}; }
};
// Gives up: a step was refused. Only before any step with effects is done, or after compensation.
struct fail_flow {
  std::string error_code{};
  std::string error_message{};
  static constexpr auto fields() {
    return std::tuple{field("errorCode", &fail_flow::error_code), field("errorMessage", &fail_flow::error_message)};
  }
};

// ---- events
struct flow_started {
  static constexpr std::string_view type = "flow.started";
  flow_kind kind = flow_kind::start_live;
  flow_params params{};
  std::vector<flow_step> steps{};
  timestamp at{};
  static constexpr auto fields() {
    return std::tuple{field("kind", &flow_started::kind), field("params", &flow_started::params),
                      field("steps", &flow_started::steps), field("at", &flow_started::at)};
  }
  friend bool operator==(const flow_started&, const flow_started&) = default;
};
struct flow_step_completed {
  static constexpr std::string_view type = "flow.step_completed";
  flow_step step = flow_step::attach_key;
  timestamp at{};
  static constexpr auto fields() {
    return std::tuple{field("step", &flow_step_completed::step), field("at", &flow_step_completed::at)};
  }
  friend bool operator==(const flow_step_completed&, const flow_step_completed&) = default;
};
struct flow_completed {
  static constexpr std::string_view type = "flow.completed";
  timestamp at{};
  static constexpr auto fields() { return std::tuple{field("at", &flow_completed::at)}; }
  friend bool operator==(const flow_completed&, const flow_completed&) = default;
};
struct flow_failed {
  static constexpr std::string_view type = "flow.failed";
  std::string error_code{};
  std::string error_message{};
  timestamp at{};
  static constexpr auto fields() {
    return std::tuple{field("errorCode", &flow_failed::error_code),
                      field("errorMessage", &flow_failed::error_message), field("at", &flow_failed::at)};
  }
  friend bool operator==(const flow_failed&, const flow_failed&) = default;
};

struct flow_aggregate {
  static constexpr std::string_view category = "flow";
  using state = flow;
  using command = std::variant<begin_flow, complete_step, fail_flow>;
  using event = std::variant<flow_started, flow_step_completed, flow_completed, flow_failed>;

  static state initial_state() { return {}; }
  static result<std::vector<event>> decide(const command& cmd, const state& s, const context& ctx);
  static state evolve(state s, const event& ev);
};
static_assert(aggregate<flow_aggregate>);

} // namespace onair::domain
