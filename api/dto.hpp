#pragma once
// Reading request bodies field by field with errors that name the field, and the small pieces of
// response JSON that several resources share.
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "domain/enums.hpp"
#include "domain/result.hpp"
#include "domain/time.hpp"

namespace onair::api {

using nlohmann::json;

// Each reader leaves `out` unset when the field is absent (or null, where allowed) and fails with
// INVALID_PARAMETER naming the field when it has the wrong type or is too long.
domain::status read_string(const json& body, const char* name, std::optional<std::string>& out,
                           std::size_t max_chars = 1000);
domain::status read_int(const json& body, const char* name, std::optional<std::int64_t>& out);
domain::status read_bool(const json& body, const char* name, std::optional<bool>& out);
domain::status read_time(const json& body, const char* name, std::optional<domain::timestamp>& out);
domain::status read_string_map(const json& body, const char* name,
                               std::optional<std::map<std::string, std::string>>& out);

template <domain::named_enum E>
domain::status read_enum(const json& body, const char* name, std::optional<E>& out) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null())
    return domain::ok_status();
  E v{};
  if (!it->is_string() || !domain::from_string(it->template get_ref<const std::string&>(), v)) {
    std::string allowed;
    for (const auto& [value, text] : domain::enum_names<E>::entries)
      allowed += (allowed.empty() ? "" : ", ") + std::string{text};
    return domain::make_error(domain::error_code::invalid_parameter,
                              std::string{name} + " must be one of " + allowed, name);
  }
  out = v;
  return domain::ok_status();
}

// Rejects fields the resource does not have, so typos are not silently ignored.
domain::status only_fields(const json& body, std::initializer_list<const char*> allowed);

[[nodiscard]] json time_json(const std::optional<domain::timestamp>& t);
[[nodiscard]] inline json time_json(domain::timestamp t) { return domain::to_iso8601(t); }
[[nodiscard]] json map_json(const std::map<std::string, std::string>& m);

} // namespace onair::api
