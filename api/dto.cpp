#include "api/dto.hpp"

namespace onair::api {

using domain::error_code;
using domain::make_error;

namespace {
domain::error wrong(const char* name, const std::string& what) {
  return make_error(error_code::invalid_parameter, std::string{name} + " must be " + what, name);
}

std::size_t utf8_chars(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    n += (c & 0xC0) != 0x80;
  return n;
}
} // namespace

domain::status read_string(const json& body, const char* name, std::optional<std::string>& out, std::size_t max_chars) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null())
    return domain::ok_status();
  if (!it->is_string())
    return wrong(name, "a string");
  const auto& s = it->get_ref<const std::string&>();
  if (utf8_chars(s) > max_chars)
    return wrong(name, "at most " + std::to_string(max_chars) + " characters");
  out = s;
  return domain::ok_status();
}

domain::status read_int(const json& body, const char* name, std::optional<std::int64_t>& out) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null())
    return domain::ok_status();
  if (!it->is_number_integer() || (it->is_number_unsigned() && it->get<std::uint64_t>() > INT64_MAX))
    return wrong(name, "an integer");
  out = it->get<std::int64_t>();
  return domain::ok_status();
}

domain::status read_bool(const json& body, const char* name, std::optional<bool>& out) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null())
    return domain::ok_status();
  if (!it->is_boolean())
    return wrong(name, "true or false");
  out = it->get<bool>();
  return domain::ok_status();
}

domain::status read_time(const json& body, const char* name, std::optional<domain::timestamp>& out) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null())
    return domain::ok_status();
  if (!it->is_string())
    return wrong(name, "an ISO-8601 time such as 2026-11-24T09:30:00.000Z");
  auto t = domain::parse_iso8601(it->get_ref<const std::string&>());
  if (!t)
    return wrong(name, "an ISO-8601 time such as 2026-11-24T09:30:00.000Z");
  out = *t;
  return domain::ok_status();
}

domain::status read_string_map(const json& body, const char* name,
                               std::optional<std::map<std::string, std::string>>& out) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null())
    return domain::ok_status();
  if (!it->is_object())
    return wrong(name, "an object of string values");
  std::map<std::string, std::string> m;
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string())
      return wrong(name, "an object of string values");
    m.emplace(k, v.get<std::string>());
  }
  out = std::move(m);
  return domain::ok_status();
}

domain::status only_fields(const json& body, std::initializer_list<const char*> allowed) {
  for (const auto& [k, v] : body.items()) {
    bool known = false;
    for (const char* a : allowed)
      known = known || k == a;
    if (!known)
      return make_error(error_code::invalid_parameter, "unknown field " + k, k);
  }
  return domain::ok_status();
}

json time_json(const std::optional<domain::timestamp>& t) { return t ? json(domain::to_iso8601(*t)) : json(nullptr); }

json map_json(const std::map<std::string, std::string>& m) {
  json j = json::object();
  for (const auto& [k, v] : m)
    j[k] = v;
  return j;
}

} // namespace onair::api
