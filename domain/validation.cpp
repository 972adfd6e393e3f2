#include "domain/validation.hpp"

#include "domain/profiles.hpp"

namespace onair::domain {

std::size_t utf8_length(std::string_view text) noexcept {
  std::size_t n = 0;
  for (const char c : text)
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U)
      ++n;
  return n;
}

std::optional<error> validate_app_user_id(std::string_view app_user_id) {
  if (app_user_id.empty() || app_user_id.size() > max_app_user_id_length)
    return make_error(error_code::invalid_app_user_id,
                      "appUserId must be 1 to 64 characters long, got " +
                          std::to_string(app_user_id.size()),
                      "appUserId");
  for (const char c : app_user_id) {
    const bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                         c == '_' || c == '-';
    if (!allowed)
      return make_error(error_code::invalid_app_user_id,
                        "appUserId may only contain A-Z, a-z, 0-9, '_' and '-'", "appUserId");
  }
  return std::nullopt;
}

std::optional<error> validate_custom_type(std::string_view custom_type) {
  if (const auto n = utf8_length(custom_type); n > max_custom_type_length)
    return make_error(error_code::custom_type_size_upper_limit_exceeded,
                      "customType is " + std::to_string(n) + " characters long, at most " +
                          std::to_string(max_custom_type_length) + " allowed",
                      "customType");
  return std::nullopt;
}

std::optional<error> validate_custom_data(const custom_data_map& custom_data) {
  if (custom_data.size() > max_custom_data_items)
    return make_error(error_code::custom_data_item_count_upper_limit_exceeded,
                      "customData has " + std::to_string(custom_data.size()) + " items, at most " +
                          std::to_string(max_custom_data_items) + " allowed",
                      "customData");
  for (const auto& [name, value] : custom_data) {
    if (const auto n = utf8_length(name); n > max_custom_data_name_length)
      return make_error(error_code::custom_data_item_name_size_upper_limit_exceeded,
                        "a customData item name is " + std::to_string(n) +
                            " characters long, at most " + std::to_string(max_custom_data_name_length) +
                            " allowed",
                        "customData");
    if (const auto n = utf8_length(value); n > max_custom_data_value_length)
      return make_error(error_code::custom_data_item_value_size_upper_limit_exceeded,
                        "customData item '" + name + "' value is " + std::to_string(n) +
                            " characters long, at most " + std::to_string(max_custom_data_value_length) +
                            " allowed",
                        "customData");
  }
  return std::nullopt;
}

std::optional<error> validate_live_profile(std::int64_t profile_id, std::string field) {
  const auto* profile = find_profile(profile_id);
  if (!profile)
    return make_error(error_code::transcoding_profile_not_found,
                      "transcoding profile " + std::to_string(profile_id) + " not found", std::move(field));
  if (profile->type != profile_type::live)
    return make_error(error_code::invalid_parameter,
                      "transcoding profile " + std::to_string(profile_id) + " (" + profile->name +
                          ") is not a live profile",
                      std::move(field));
  return std::nullopt;
}

} // namespace onair::domain
