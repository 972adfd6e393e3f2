#pragma once
// A member of an app (a streamer), keyed by its appUserId. Registering a member also names its
// stream key (ctx.new_id_2); the stream key aggregate is created by the caller from the event.
#include <array>
#include <cstdint>
#include <map>
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
#include "domain/result.hpp"
#include "domain/time.hpp"

namespace onair::domain {

enum class member_state { active };

template <>
struct enum_names<member_state> {
  static constexpr std::array entries{std::pair{member_state::active, std::string_view{"ACTIVE"}}};
};

// ---- state
struct member {
  bool exists = false;   // registered at least once; see `present()`
  bool deleted = false;
  bool erased = false;   // its personal data erased (erase_member) and not registered since
  std::int64_t id = 0;
  member_state state = member_state::active;
  std::string app_user_id{};
  std::string app_user_name{};
  std::string app_user_profile_img_url{};
  std::string email{};
  std::string custom_type{};
  std::map<std::string, std::string> custom_data{};
  std::int64_t stream_key_id = 0;
  timestamp created_at{};
  timestamp last_modified_at{};

  // Registered and not deleted.
  [[nodiscard]] bool present() const noexcept { return exists && !deleted; }

  static constexpr auto fields() {
    return std::tuple{field("exists", &member::exists),
                      field("deleted", &member::deleted),
                      field("erased", &member::erased),
                      field("id", &member::id),
                      field("state", &member::state),
                      field("appUserId", &member::app_user_id),
                      field("appUserName", &member::app_user_name),
                      field("appUserProfileImgUrl", &member::app_user_profile_img_url),
                      field("email", &member::email),
                      field("customType", &member::custom_type),
                      field("customData", &member::custom_data),
                      field("streamKeyId", &member::stream_key_id),
                      field("createdAt", &member::created_at),
                      field("lastModifiedAt", &member::last_modified_at)};
  }
  friend bool operator==(const member&, const member&) = default;
};

// ---- commands
// Register or update (POST /members, login). First time (or after deletion): member_registered
// with id = ctx.new_id and stream_key_id = ctx.new_id_2, absent fields empty. Later:
// member_updated with the fields that changed (absent = unchanged); nothing changed = no events.
struct upsert_member {
  std::string app_user_id{};
  std::optional<std::string> app_user_name{};
  std::optional<std::string> app_user_profile_img_url{};
  std::optional<std::string> email{};
  std::optional<std::string> custom_type{};
  std::optional<std::map<std::string, std::string>> custom_data{};

  static constexpr auto fields() {
    return std::tuple{field("appUserId", &upsert_member::app_user_id),
                      field("appUserName", &upsert_member::app_user_name),
                      field("appUserProfileImgUrl", &upsert_member::app_user_profile_img_url),
                      field("email", &upsert_member::email),
                      field("customType", &upsert_member::custom_type),
                      field("customData", &upsert_member::custom_data)};
  }
};

// PATCH: absent = unchanged. MEMBER_NOT_FOUND unless present.
struct patch_member {
  std::optional<std::string> app_user_name{};
  std::optional<std::string> app_user_profile_img_url{};
  std::optional<std::string> email{};
  std::optional<std::string> custom_type{};
  std::optional<std::map<std::string, std::string>> custom_data{};

  static constexpr auto fields() {
    return std::tuple{field("appUserName", &patch_member::app_user_name),
                      field("appUserProfileImgUrl", &patch_member::app_user_profile_img_url),
                      field("email", &patch_member::email),
                      field("customType", &patch_member::custom_type),
                      field("customData", &patch_member::custom_data)};
  }
};

// MEMBER_NOT_FOUND unless present (deleting twice is refused, as the API answers 404).
struct delete_member {
  static constexpr auto fields() { return std::tuple{}; }
};

// Erasure of the member's personal data (beyond the vendor): the keys that sealed its name,
// picture, e-mail and custom data are destroyed by the caller; this records it. A present member is
// deleted too (member_deleted first). MEMBER_NOT_FOUND for an appUserId never registered; already
// erased and not registered since: no events.
struct erase_member {
  static constexpr auto fields() { return std::tuple{}; }
};

// ---- events
struct member_registered {
  static constexpr std::string_view type = "member.registered";
  std::int64_t id = 0;
  std::string app_user_id{};
  std::string app_user_name{};
  std::string app_user_profile_img_url{};
  std::string email{};
  std::string custom_type{};
  std::map<std::string, std::string> custom_data{};
  std::int64_t stream_key_id = 0;
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("id", &member_registered::id),
                      field("appUserId", &member_registered::app_user_id),
                      field("appUserName", &member_registered::app_user_name),
                      field("appUserProfileImgUrl", &member_registered::app_user_profile_img_url),
                      field("email", &member_registered::email),
                      field("customType", &member_registered::custom_type),
                      field("customData", &member_registered::custom_data),
                      field("streamKeyId", &member_registered::stream_key_id),
                      field("at", &member_registered::at)};
  }
  friend bool operator==(const member_registered&, const member_registered&) = default;
};

// Only the fields that changed are present.
struct member_updated {
  static constexpr std::string_view type = "member.updated";
  std::optional<std::string> app_user_name{};
  std::optional<std::string> app_user_profile_img_url{};
  std::optional<std::string> email{};
  std::optional<std::string> custom_type{};
  std::optional<std::map<std::string, std::string>> custom_data{};
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("appUserName", &member_updated::app_user_name),
                      field("appUserProfileImgUrl", &member_updated::app_user_profile_img_url),
                      field("email", &member_updated::email),
                      field("customType", &member_updated::custom_type),
                      field("customData", &member_updated::custom_data),
                      field("at", &member_updated::at)};
  }
  friend bool operator==(const member_updated&, const member_updated&) = default;
};

// The caller revokes stream_key_id and force-ends any live broadcast of it.
struct member_deleted {
  static constexpr std::string_view type = "member.deleted";
  std::int64_t id = 0;
  std::string app_user_id{};
  std::int64_t stream_key_id = 0;
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("id", &member_deleted::id), field("appUserId", &member_deleted::app_user_id),
                      field("streamKeyId", &member_deleted::stream_key_id), field("at", &member_deleted::at)};
  }
  friend bool operator==(const member_deleted&, const member_deleted&) = default;
};

// The member's personal fields are gone for good: every copy of them (events, views, Kafka
// consumers' stores) is to be dropped. Carries no personal data itself.
struct member_erased {
  static constexpr std::string_view type = "member.erased";
  std::int64_t id = 0;
  std::string app_user_id{};
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("id", &member_erased::id), field("appUserId", &member_erased::app_user_id),
                      field("at", &member_erased::at)};
  }
  friend bool operator==(const member_erased&, const member_erased&) = default;
};

struct member_aggregate {
  static constexpr std::string_view category = "member";
  using state = member;
  using command = std::variant<upsert_member, patch_member, delete_member, erase_member>;
  using event = std::variant<member_registered, member_updated, member_deleted, member_erased>;

  static state initial_state();
  static result<std::vector<event>> decide(const command& cmd, const state& s, const context& ctx);
  static state evolve(state s, const event& ev);
};
static_assert(aggregate<member_aggregate>);

} // namespace onair::domain
