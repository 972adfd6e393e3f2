#include "domain/member.hpp"

#include "domain/overloaded.hpp"
#include "domain/validation.hpp"

namespace onair::domain {
namespace {
using events = std::vector<member_aggregate::event>;

std::optional<error> validate_optional_custom(const std::optional<std::string>& custom_type,
                                              const std::optional<custom_data_map>& custom_data) {
  if (custom_type)
    if (auto err = validate_custom_type(*custom_type))
      return err;
  if (custom_data)
    if (auto err = validate_custom_data(*custom_data))
      return err;
  return std::nullopt;
}

template <class T>
void set_if_changed(std::optional<T>& out, const std::optional<T>& in, const T& current) {
  if (in && *in != current)
    out = in;
}

// The member_updated that brings `s` to the given values, or nothing when nothing changes.
std::optional<member_updated> changes(const member& s, const std::optional<std::string>& app_user_name,
                                      const std::optional<std::string>& app_user_profile_img_url,
                                      const std::optional<std::string>& email,
                                      const std::optional<std::string>& custom_type,
                                      const std::optional<custom_data_map>& custom_data, timestamp now) {
  member_updated ev{.at = now};
  set_if_changed(ev.app_user_name, app_user_name, s.app_user_name);
  set_if_changed(ev.app_user_profile_img_url, app_user_profile_img_url, s.app_user_profile_img_url);
  set_if_changed(ev.email, email, s.email);
  set_if_changed(ev.custom_type, custom_type, s.custom_type);
  set_if_changed(ev.custom_data, custom_data, s.custom_data);
  if (!ev.app_user_name && !ev.app_user_profile_img_url && !ev.email && !ev.custom_type && !ev.custom_data)
    return std::nullopt;
  return ev;
}

error not_found(const member& s) {
  return make_error(error_code::member_not_found,
                    s.app_user_id.empty() ? std::string{"member not found"}
                                          : "member '" + s.app_user_id + "' not found",
                    "appUserId");
}

} // namespace

member member_aggregate::initial_state() { return member{}; }

result<events> member_aggregate::decide(const command& cmd, const state& s, const context& ctx) {
  return std::visit(
      overloaded{
          [&](const upsert_member& c) -> result<events> {
            if (auto err = validate_app_user_id(c.app_user_id))
              return *std::move(err);
            if (auto err = validate_optional_custom(c.custom_type, c.custom_data))
              return *std::move(err);
            if (s.present() && c.app_user_id != s.app_user_id)
              return make_error(error_code::invalid_parameter,
                                "appUserId '" + c.app_user_id + "' sent to the stream of '" + s.app_user_id + "'",
                                "appUserId");
            if (!s.present())
              return events{member_registered{.id = ctx.new_id,
                                              .app_user_id = c.app_user_id,
                                              .app_user_name = c.app_user_name.value_or(""),
                                              .app_user_profile_img_url = c.app_user_profile_img_url.value_or(""),
                                              .email = c.email.value_or(""),
                                              .custom_type = c.custom_type.value_or(""),
                                              .custom_data = c.custom_data.value_or(custom_data_map{}),
                                              .stream_key_id = ctx.new_id_2,
                                              .at = ctx.now}};
            if (auto ev = changes(s, c.app_user_name, c.app_user_profile_img_url, c.email, c.custom_type,
                                  c.custom_data, ctx.now))
              return events{*std::move(ev)};
            return events{};
          },
          [&](const patch_member& c) -> result<events> {
            if (!s.present())
              return not_found(s);
            if (auto err = validate_optional_custom(c.custom_type, c.custom_data))
              return *std::move(err);
            if (auto ev = changes(s, c.app_user_name, c.app_user_profile_img_url, c.email, c.custom_type,
                                  c.custom_data, ctx.now))
              return events{*std::move(ev)};
            return events{};
          },
          [&](const delete_member&) -> result<events> {
            if (!s.present())
              return not_found(s);
            return events{member_deleted{
                .id = s.id, .app_user_id = s.app_user_id, .stream_key_id = s.stream_key_id, .at = ctx.now}};
          },
          [&](const erase_member&) -> result<events> {
            if (!s.exists)
              return not_found(s);
            if (s.erased)
              return events{};
            events out;
            if (s.present())
              out.emplace_back(member_deleted{
                  .id = s.id, .app_user_id = s.app_user_id, .stream_key_id = s.stream_key_id, .at = ctx.now});
            out.emplace_back(member_erased{.id = s.id, .app_user_id = s.app_user_id, .at = ctx.now});
            return out;
          },
      },
      cmd);
}

member member_aggregate::evolve(state s, const event& ev) {
  std::visit(overloaded{
                 [&](const member_registered& e) {
                   s = member{.exists = true,
                              .deleted = false,
                              .id = e.id,
                              .state = member_state::active,
                              .app_user_id = e.app_user_id,
                              .app_user_name = e.app_user_name,
                              .app_user_profile_img_url = e.app_user_profile_img_url,
                              .email = e.email,
                              .custom_type = e.custom_type,
                              .custom_data = e.custom_data,
                              .stream_key_id = e.stream_key_id,
                              .created_at = e.at,
                              .last_modified_at = e.at};
                 },
                 [&](const member_updated& e) {
                   if (e.app_user_name)
                     s.app_user_name = *e.app_user_name;
                   if (e.app_user_profile_img_url)
                     s.app_user_profile_img_url = *e.app_user_profile_img_url;
                   if (e.email)
                     s.email = *e.email;
                   if (e.custom_type)
                     s.custom_type = *e.custom_type;
                   if (e.custom_data)
                     s.custom_data = *e.custom_data;
                   s.last_modified_at = e.at;
                 },
                 [&](const member_deleted& e) {
                   s.deleted = true;
                   s.last_modified_at = e.at;
                 },
                 [&](const member_erased& e) {
                   s.deleted = true;
                   s.erased = true;
                   s.app_user_name.clear();
                   s.app_user_profile_img_url.clear();
                   s.email.clear();
                   s.custom_data.clear();
                   s.last_modified_at = e.at;
                 },
             },
             ev);
  return s;
}

} // namespace onair::domain
