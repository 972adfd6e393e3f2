#include "domain/stream_key.hpp"

#include "domain/overloaded.hpp"
#include "domain/validation.hpp"

namespace onair::domain {
namespace {
using events = std::vector<stream_key_aggregate::event>;

// Compares a presented secret without leaking, through timing, how much of it matched.
bool same_secret(std::string_view presented, std::string_view actual) noexcept {
  if (presented.size() != actual.size() || actual.empty())
    return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < actual.size(); ++i)
    diff |= static_cast<unsigned char>(presented[i] ^ actual[i]);
  return diff == 0;
}

std::string describe(const stream_key& s) {
  return "stream key " + std::to_string(s.id) + " is " + std::string{to_string(s.state)};
}

std::string room_text(std::int64_t room_id) { return "video room " + std::to_string(room_id); }

} // namespace

output_mode publish_mode(const stream_key& s, std::optional<output_mode> requested, output_mode app_default) noexcept {
  return requested ? *requested : s.default_mode.value_or(app_default);
}

stream_key stream_key_aggregate::initial_state() { return stream_key{}; }

result<events> stream_key_aggregate::decide(const command& cmd, const state& s, const context& ctx) {
  if (!s.exists && !std::holds_alternative<create_key>(cmd))
    return make_error(error_code::stream_key_not_found, "stream key not found");

  return std::visit(
      overloaded{
          [&](const create_key& c) -> result<events> {
            if (s.exists)
              return events{};
            if (auto err = validate_live_profile(c.profile_id, "profileId"))
              return *std::move(err);
            return events{key_created{.id = c.id,
                                      .member_id = c.member_id,
                                      .app_user_id = c.app_user_id,
                                      .profile_id = c.profile_id,
                                      .value = ctx.new_secret,
                                      .preview_id = ctx.new_public_id,
                                      .at = ctx.now}};
          },
          [&](const connect_publisher& c) -> result<events> {
            if (s.revoked || !same_secret(c.presented_value, s.value))
              return make_error(error_code::stream_key_not_publishable,
                                s.revoked ? "stream key " + std::to_string(s.id) + " is revoked"
                                          : std::string{"unknown stream key"});
            if (c.session_id.empty())
              return make_error(error_code::invalid_parameter, "an ingest session id is required", "sessionId");
            if (has_publisher(s.state)) {
              if (c.session_id == s.session_id)
                return events{};
              return make_error(error_code::stream_key_in_use,
                                describe(s) + ": another publisher (session " + s.session_id + ") is on");
            }
            return events{publisher_connected{.session_id = c.session_id,
                                              .mode = publish_mode(s, c.requested_mode, c.app_default_mode),
                                              .remote_addr = c.remote_addr,
                                              .room_id = s.live_room_id,
                                              .at = ctx.now}};
          },
          [&](const mark_viewable& c) -> result<events> {
            if (!has_publisher(s.state) || c.session_id != s.session_id)
              return events{};
            const bool prep = s.state == key_state::active_prep || s.state == key_state::active_live_prep;
            // Viewable already: only the CMAF output made after an RTMP-only start is news.
            if (!prep && !(s.rtmp_only && !c.rtmp_only))
              return events{};
            return events{stream_viewable{
                .session_id = s.session_id, .room_id = s.live_room_id, .rtmp_only = c.rtmp_only, .at = ctx.now}};
          },
          [&](const disconnect_publisher& c) -> result<events> {
            if (!has_publisher(s.state) || (!c.session_id.empty() && c.session_id != s.session_id))
              return events{};
            return events{publisher_disconnected{
                .session_id = s.session_id, .reason = c.reason, .room_id = s.live_room_id, .at = ctx.now}};
          },
          [&](const update_ingest_stats& c) -> result<events> {
            if (!has_publisher(s.state) || c.session_id != s.session_id)
              return events{};
            // The media side measures codecs and rates; where and when the session came from
            // were fixed at connect and stay.
            ingest_info next = c.ingest;
            if (s.ingest) {
              next.remote_addr = s.ingest->remote_addr;
              next.started_at = s.ingest->started_at;
            }
            if (s.ingest == next)
              return events{};
            return events{ingest_stats_updated{.session_id = s.session_id, .ingest = std::move(next), .at = ctx.now}};
          },
          [&](const report_key_error& c) -> result<events> {
            // With no publisher on, only a refused publish (no session of its own) is reported.
            if (!c.session_id.empty() && (!has_publisher(s.state) || c.session_id != s.session_id))
              return events{};
            if (s.error && s.error->code == c.code && s.error->message == c.message)
              return events{};
            return events{key_error_reported{
                .session_id = s.session_id, .code = c.code, .message = c.message, .at = ctx.now}};
          },
          [&](const attach_live& c) -> result<events> {
            if (is_live(s.state)) {
              if (s.live_room_id == c.room_id)
                return events{};
              return make_error(error_code::member_already_broadcasting,
                                "member '" + s.app_user_id + "' is already broadcasting in " +
                                    room_text(s.live_room_id.value_or(0)));
            }
            if (s.state != key_state::active)
              return make_error(error_code::stream_key_state_not_active,
                                describe(s) + ", it must be ACTIVE to start live in " + room_text(c.room_id));
            return events{live_attached{.room_id = c.room_id, .at = ctx.now}};
          },
          [&](const detach_live& c) -> result<events> {
            if (!is_live(s.state) || s.live_room_id != c.room_id)
              return events{};
            if (s.state != key_state::inactive_live)
              return make_error(error_code::stream_key_state_not_inactive_live,
                                describe(s) + ": stop the publisher before ending " + room_text(c.room_id) +
                                    ", or end it with force=true");
            return events{live_detached{.room_id = c.room_id, .at = ctx.now}};
          },
          [&](const force_end& c) -> result<events> {
            const bool publisher = has_publisher(s.state);
            if (!publisher && !s.live_room_id && s.state == key_state::inactive)
              return events{};
            return events{force_ended{.new_value = ctx.new_secret,
                                      .new_preview_id = ctx.new_public_id,
                                      .had_publisher = publisher,
                                      .session_id = publisher ? s.session_id : std::string{},
                                      .room_id = s.live_room_id,
                                      .reason = c.reason,
                                      .at = ctx.now}};
          },
          [&](const reissue_key&) -> result<events> {
            if (s.state != key_state::inactive)
              return make_error(error_code::stream_key_in_use, describe(s) + ", it can be reissued only when INACTIVE");
            return events{key_reissued{.new_value = ctx.new_secret, .new_preview_id = ctx.new_public_id, .at = ctx.now}};
          },
          [&](const change_key_settings& c) -> result<events> {
            if (c.profile_id)
              if (auto err = validate_live_profile(*c.profile_id, "profileId"))
                return *std::move(err);
            key_settings_changed ev{.at = ctx.now};
            if (c.profile_id && *c.profile_id != s.profile_id)
              ev.profile_id = c.profile_id;
            if (c.default_mode && c.default_mode != s.default_mode)
              ev.default_mode = c.default_mode;
            if (!ev.profile_id && !ev.default_mode)
              return events{};
            return events{ev};
          },
          [&](const revoke_key&) -> result<events> {
            if (s.revoked)
              return events{};
            const bool publisher = has_publisher(s.state);
            return events{key_revoked{.had_publisher = publisher,
                                      .session_id = publisher ? s.session_id : std::string{},
                                      .room_id = s.live_room_id,
                                      .at = ctx.now}};
          },
      },
      cmd);
}

stream_key stream_key_aggregate::evolve(state s, const event& ev) {
  const auto publisher_gone = [&s] {
    s.session_id.clear();
    s.ingest.reset();
    s.rtmp_only = false;
  };
  std::visit(overloaded{
                 [&](const key_created& e) {
                   s = stream_key{.exists = true,
                                  .id = e.id,
                                  .member_id = e.member_id,
                                  .app_user_id = e.app_user_id,
                                  .state = key_state::inactive,
                                  .value = e.value,
                                  .preview_id = e.preview_id,
                                  .profile_id = e.profile_id,
                                  .created_at = e.at};
                 },
                 [&](const publisher_connected& e) {
                   s.state = s.state == key_state::inactive_live ? key_state::active_live_prep : key_state::active_prep;
                   s.session_id = e.session_id;
                   s.mode = e.mode;
                   s.ingest = ingest_info{.remote_addr = e.remote_addr, .started_at = e.at};
                   s.error.reset();
                 },
                 [&](const stream_viewable& e) {
                   if (s.state == key_state::active_live_prep)
                     s.state = key_state::active_live;
                   else if (s.state == key_state::active_prep)
                     s.state = key_state::active;
                   s.rtmp_only = e.rtmp_only;
                 },
                 [&](const publisher_disconnected&) {
                   s.state = is_live(s.state) ? key_state::inactive_live : key_state::inactive;
                   publisher_gone();
                 },
                 [&](const ingest_stats_updated& e) { s.ingest = e.ingest; },
                 [&](const key_error_reported& e) {
                   s.error = key_error{.code = e.code, .message = e.message, .occurred_at = e.at};
                 },
                 [&](const live_attached& e) {
                   s.state = key_state::active_live;
                   s.live_room_id = e.room_id;
                 },
                 [&](const live_detached&) {
                   s.state = key_state::inactive;
                   s.live_room_id.reset();
                 },
                 [&](const force_ended& e) {
                   s.state = key_state::inactive;
                   s.value = e.new_value;
                   s.preview_id = e.new_preview_id;
                   s.live_room_id.reset();
                   publisher_gone();
                 },
                 [&](const key_reissued& e) {
                   s.value = e.new_value;
                   s.preview_id = e.new_preview_id;
                 },
                 [&](const key_settings_changed& e) {
                   if (e.profile_id)
                     s.profile_id = *e.profile_id;
                   if (e.default_mode)
                     s.default_mode = e.default_mode;
                 },
                 [&](const key_revoked&) {
                   s.state = key_state::inactive;
                   s.revoked = true;
                   s.live_room_id.reset();
                   publisher_gone();
                 },
             },
             ev);
  s.last_modified_at = std::visit([](const auto& e) { return e.at; }, ev);
  return s;
}

} // namespace onair::domain
