#pragma once
// An app (tenant): its credentials and defaults. Crypto is the caller's: the domain stores the
// salted hash of the API secret and the token signing key as given.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <variant>
#include <vector>

#include "domain/aggregate.hpp"
#include "domain/fields.hpp"
#include "domain/output_mode.hpp"
#include "domain/profiles.hpp"
#include "domain/result.hpp"
#include "domain/time.hpp"

namespace onair::domain {

// ---- state
struct app {
  bool exists = false;
  app_id id = 0;
  std::string name{};
  std::string api_key{};
  std::string secret_hash{};
  std::string secret_salt{};
  std::string signing_key{};
  output_mode default_mode = output_mode::rtmp;
  std::int64_t default_profile_id = default_live_profile_id;
  // (beyond) A room LIVE_INACTIVE longer than this ends itself and is archived; 0: never (as the
  // vendor behaves).
  std::int64_t reconnect_window_s = 0;
  timestamp created_at{};
  timestamp last_modified_at{};
  timestamp secret_rotated_at{}; // 0: the secret of its creation

  static constexpr auto fields() {
    return std::tuple{field("exists", &app::exists),
                      field("id", &app::id),
                      field("name", &app::name),
                      field("apiKey", &app::api_key),
                      field("secretHash", &app::secret_hash),
                      field("secretSalt", &app::secret_salt),
                      field("signingKey", &app::signing_key),
                      field("defaultMode", &app::default_mode),
                      field("defaultProfileId", &app::default_profile_id),
                      field("reconnectWindowSeconds", &app::reconnect_window_s),
                      field("createdAt", &app::created_at),
                      field("lastModifiedAt", &app::last_modified_at),
                      field("secretRotatedAt", &app::secret_rotated_at)};
  }
  friend bool operator==(const app&, const app&) = default;
};

// ---- commands
// The new app's id is ctx.new_id. Creating an app that exists yields no events.
struct create_app {
  std::string name{};
  std::string api_key{};
  std::string secret_hash{};
  std::string secret_salt{};
  std::string signing_key{};

  static constexpr auto fields() {
    return std::tuple{field("name", &create_app::name), field("apiKey", &create_app::api_key),
                      field("secretHash", &create_app::secret_hash),
                      field("secretSalt", &create_app::secret_salt),
                      field("signingKey", &create_app::signing_key)};
  }
};

struct rotate_secret {
  std::string secret_hash{};
  std::string secret_salt{};

  static constexpr auto fields() {
    return std::tuple{field("secretHash", &rotate_secret::secret_hash),
                      field("secretSalt", &rotate_secret::secret_salt)};
  }
};

// reconnectWindowSeconds: 0 (off) to 86400, else INVALID_PARAMETER.
struct change_app_settings {
  std::optional<output_mode> default_mode{};
  std::optional<std::int64_t> default_profile_id{};
  std::optional<std::int64_t> reconnect_window_s{};

  static constexpr auto fields() {
    return std::tuple{field("defaultMode", &change_app_settings::default_mode),
                      field("defaultProfileId", &change_app_settings::default_profile_id),
                      field("reconnectWindowSeconds", &change_app_settings::reconnect_window_s)};
  }
};
inline constexpr std::int64_t max_reconnect_window_s = 86'400;

// ---- events
struct app_created {
  static constexpr std::string_view type = "app.created";
  app_id id = 0;
  std::string name{};
  std::string api_key{};
  std::string secret_hash{};
  std::string secret_salt{};
  std::string signing_key{};
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("id", &app_created::id),
                      field("name", &app_created::name),
                      field("apiKey", &app_created::api_key),
                      field("secretHash", &app_created::secret_hash),
                      field("secretSalt", &app_created::secret_salt),
                      field("signingKey", &app_created::signing_key),
                      field("at", &app_created::at)};
  }
  friend bool operator==(const app_created&, const app_created&) = default;
};

struct app_secret_rotated {
  static constexpr std::string_view type = "app.secret_rotated";
  std::string secret_hash{};
  std::string secret_salt{};
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("secretHash", &app_secret_rotated::secret_hash),
                      field("secretSalt", &app_secret_rotated::secret_salt),
                      field("at", &app_secret_rotated::at)};
  }
  friend bool operator==(const app_secret_rotated&, const app_secret_rotated&) = default;
};

// Only the settings that changed are present.
struct app_settings_changed {
  static constexpr std::string_view type = "app.settings_changed";
  std::optional<output_mode> default_mode{};
  std::optional<std::int64_t> default_profile_id{};
  std::optional<std::int64_t> reconnect_window_s{};
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("defaultMode", &app_settings_changed::default_mode),
                      field("defaultProfileId", &app_settings_changed::default_profile_id),
                      field("reconnectWindowSeconds", &app_settings_changed::reconnect_window_s),
                      field("at", &app_settings_changed::at)};
  }
  friend bool operator==(const app_settings_changed&, const app_settings_changed&) = default;
};

struct app_aggregate {
  static constexpr std::string_view category = "app";
  using state = app;
  using command = std::variant<create_app, rotate_secret, change_app_settings>;
  using event = std::variant<app_created, app_secret_rotated, app_settings_changed>;

  static state initial_state();
  static result<std::vector<event>> decide(const command& cmd, const state& s, const context& ctx);
  static state evolve(state s, const event& ev);
};
static_assert(aggregate<app_aggregate>);

} // namespace onair::domain
