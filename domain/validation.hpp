#pragma once
// Input rules of api.md shared by several aggregates. Each returns the refusal, or nothing when
// the input is acceptable. Lengths count characters (UTF-8 code points), not bytes.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "domain/error.hpp"

namespace onair::domain {

inline constexpr std::size_t max_app_user_id_length = 64;
inline constexpr std::size_t max_custom_type_length = 50;
inline constexpr std::size_t max_custom_data_items = 10;
inline constexpr std::size_t max_custom_data_name_length = 50;
inline constexpr std::size_t max_custom_data_value_length = 50;

using custom_data_map = std::map<std::string, std::string>;

// Number of UTF-8 code points (continuation bytes are not counted).
[[nodiscard]] std::size_t utf8_length(std::string_view text) noexcept;

// 1–64 of [A-Za-z0-9_-]: INVALID_APP_USER_ID, field "appUserId".
[[nodiscard]] std::optional<error> validate_app_user_id(std::string_view app_user_id);
// <= 50 characters: CUSTOM_TYPE_SIZE_UPPER_LIMIT_EXCEEDED, field "customType".
[[nodiscard]] std::optional<error> validate_custom_type(std::string_view custom_type);
// <= 10 items, names and values <= 50 characters: CUSTOM_DATA_*, field "customData".
[[nodiscard]] std::optional<error> validate_custom_data(const custom_data_map& custom_data);
// A built-in LIVE transcoding profile: TRANSCODING_PROFILE_NOT_FOUND when unknown,
// INVALID_PARAMETER when it is not a live profile; `field` names the input.
[[nodiscard]] std::optional<error> validate_live_profile(std::int64_t profile_id, std::string field);

} // namespace onair::domain
