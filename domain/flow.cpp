#include "domain/flow.hpp"

#include <type_traits>

namespace onair::domain {

std::vector<flow_step> steps_of(flow_kind kind, const flow_params& p) {
  using enum flow_step;
  const bool live = p.room_id != 0;
  switch (kind) {
  case flow_kind::start_live:
    return {attach_key, start_broadcast, start_room};
  case flow_kind::end_live:
    return {detach_key, end_broadcast, create_post, end_room};
  case flow_kind::force_end:
    if (!live)
      return {force_end_key};
    return {force_end_key, end_broadcast, create_post, end_room};
  case flow_kind::delete_member:
    if (!live)
      return {force_end_key, revoke_key, delete_member};
    return {force_end_key, end_broadcast, create_post, end_room, revoke_key, delete_member};
  case flow_kind::erase_member: {
    // A member already deleted (no stream key to end) has only its data to erase; a present one is
    // deleted first, as by delete_member. The keys go before the event that says they are gone.
    std::vector<flow_step> steps;
    if (p.stream_key_id != 0)
      steps = steps_of(flow_kind::delete_member, p);
    steps.insert(steps.end(), {destroy_personal_keys, erase_member});
    return steps;
  }
  }
  return {};
}

result<std::vector<flow_aggregate::event>> flow_aggregate::decide(const command& cmd, const state& s,
                                                                   const context& ctx) {
  using events = std::vector<event>;
  return std::visit(
      [&](const auto& c) -> result<events> {
        using C = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<C, begin_flow>) {
          if (s.exists)
            return events{};
          return events{flow_started{c.kind, c.params, steps_of(c.kind, c.params), ctx.now}};
        } else if constexpr (std::is_same_v<C, complete_step>) {
          if (!s.exists)
            return make_error(error_code::internal, "flow does not exist");
          for (int i = 0; i < s.steps_done; ++i)
            if (s.steps[static_cast<std::size_t>(i)] == c.step)
              return events{}; // already recorded
          const auto next = s.next_step();
          if (!next || *next != c.step)
            return make_error(error_code::internal, "flow step " + std::string{to_string(c.step)} +
                                                        " is not the next step");
          events out{flow_step_completed{c.step, ctx.now}};
          if (s.steps_done + 1 == static_cast<int>(s.steps.size()))
            out.emplace_back(flow_completed{ctx.now});
          return out;
        } else {
          if (!s.exists)
            return make_error(error_code::internal, "flow does not exist");
          if (s.status != flow_status::running)
            return events{};
          return events{flow_failed{c.error_code, c.error_message, ctx.now}};
        }
      },
      cmd);
}

flow flow_aggregate::evolve(state s, const event& ev) {
  std::visit(
      [&](const auto& e) {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, flow_started>) {
          s.exists = true;
          s.kind = e.kind;
          s.params = e.params;
          s.steps = e.steps;
          s.status = flow_status::running;
          s.created_at = e.at;
        } else if constexpr (std::is_same_v<E, flow_step_completed>) {
          ++s.steps_done;
        } else if constexpr (std::is_same_v<E, flow_completed>) {
          s.status = flow_status::completed;
        } else {
          s.status = flow_status::failed;
          s.error_code = e.error_code;
          s.error_message = e.error_message;
        }
        s.last_modified_at = e.at;
      },
      ev);
  return s;
}

} // namespace onair::domain
