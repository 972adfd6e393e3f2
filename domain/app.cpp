#include "domain/app.hpp"

#include "domain/overloaded.hpp"
#include "domain/validation.hpp"

namespace onair::domain {
namespace {
using events = std::vector<app_aggregate::event>;

error not_found() { return make_error(error_code::app_not_found, "app not found"); }
} // namespace

app app_aggregate::initial_state() { return app{}; }

result<events> app_aggregate::decide(const command& cmd, const state& s, const context& ctx) {
  return std::visit(
      overloaded{
          [&](const create_app& c) -> result<events> {
            if (s.exists)
              return events{};
            if (c.name.empty())
              return make_error(error_code::invalid_parameter, "app name must not be empty", "name");
            return events{app_created{.id = ctx.new_id,
                                      .name = c.name,
                                      .api_key = c.api_key,
                                      .secret_hash = c.secret_hash,
                                      .secret_salt = c.secret_salt,
                                      .signing_key = c.signing_key,
                                      .at = ctx.now}};
          },
          [&](const rotate_secret& c) -> result<events> {
            if (!s.exists)
              return not_found();
            if (c.secret_hash == s.secret_hash && c.secret_salt == s.secret_salt)
              return events{};
            return events{app_secret_rotated{.secret_hash = c.secret_hash, .secret_salt = c.secret_salt, .at = ctx.now}};
          },
          [&](const change_app_settings& c) -> result<events> {
            if (!s.exists)
              return not_found();
            if (c.default_profile_id)
              if (auto err = validate_live_profile(*c.default_profile_id, "defaultProfileId"))
                return *std::move(err);
            if (c.reconnect_window_s && (*c.reconnect_window_s < 0 || *c.reconnect_window_s > max_reconnect_window_s))
              return make_error(error_code::invalid_parameter,
                                "reconnectWindowSeconds must be 0 (off) to " + std::to_string(max_reconnect_window_s),
                                "reconnectWindowSeconds");
            app_settings_changed ev{.at = ctx.now};
            if (c.default_mode && *c.default_mode != s.default_mode)
              ev.default_mode = c.default_mode;
            if (c.default_profile_id && *c.default_profile_id != s.default_profile_id)
              ev.default_profile_id = c.default_profile_id;
            if (c.reconnect_window_s && *c.reconnect_window_s != s.reconnect_window_s)
              ev.reconnect_window_s = c.reconnect_window_s;
            if (!ev.default_mode && !ev.default_profile_id && !ev.reconnect_window_s)
              return events{};
            return events{ev};
          },
      },
      cmd);
}

app app_aggregate::evolve(state s, const event& ev) {
  std::visit(overloaded{
                 [&](const app_created& e) {
                   s = app{.exists = true,
                           .id = e.id,
                           .name = e.name,
                           .api_key = e.api_key,
                           .secret_hash = e.secret_hash,
                           .secret_salt = e.secret_salt,
                           .signing_key = e.signing_key,
                           .default_mode = output_mode::rtmp,
                           .default_profile_id = default_live_profile_id,
                           .created_at = e.at,
                           .last_modified_at = e.at};
                 },
                 [&](const app_secret_rotated& e) {
                   s.secret_hash = e.secret_hash;
                   s.secret_salt = e.secret_salt;
                   s.last_modified_at = e.at;
                   s.secret_rotated_at = e.at;
                 },
                 [&](const app_settings_changed& e) {
                   if (e.default_mode)
                     s.default_mode = *e.default_mode;
                   if (e.default_profile_id)
                     s.default_profile_id = *e.default_profile_id;
                   if (e.reconnect_window_s)
                     s.reconnect_window_s = *e.reconnect_window_s;
                   s.last_modified_at = e.at;
                 },
             },
             ev);
  return s;
}

} // namespace onair::domain
