#pragma once
// JSON codec for every described domain type (events, states, commands): walks fields() once,
// so an event's storage format, its CloudEvents `data` and its snapshot are the same mapping.
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/enums.hpp"
#include "domain/fields.hpp"
#include "domain/provenance.hpp"
#include "domain/result.hpp"
#include "domain/time.hpp"
#include "storage/event_store.hpp"

namespace onair::storage {

using json = nlohmann::json;

namespace detail {
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};
} // namespace detail

template <class T>
json to_json_value(const T& x) {
  using U = std::remove_cvref_t<T>;
  if constexpr (std::is_same_v<U, std::string> || std::is_same_v<U, bool> || std::is_arithmetic_v<U>) {
    return x;
  } else if constexpr (std::is_same_v<U, domain::timestamp>) {
    return domain::to_iso8601(x);
  } else if constexpr (domain::named_enum<U>) {
    return std::string{domain::to_string(x)};
  } else if constexpr (detail::is_optional<U>::value) {
    return x ? to_json_value(*x) : json(nullptr);
  } else if constexpr (detail::is_vector<U>::value) {
    json arr = json::array();
    for (const auto& v : x)
      arr.push_back(to_json_value(v));
    return arr;
  } else if constexpr (std::is_same_v<U, std::map<std::string, std::string>>) {
    json obj = json::object();
    for (const auto& [k, v] : x)
      obj[k] = v;
    return obj;
  } else {
    static_assert(domain::described<U>, "type has no fields() description");
    json obj = json::object();
    domain::for_each_field(x, [&](std::string_view name, const auto& member) {
      obj[std::string{name}] = to_json_value(member);
    });
    return obj;
  }
}

// Reads j into out. On failure returns false and sets `where` to the offending path.
template <class T>
bool from_json_value(const json& j, T& out, std::string& where) {
  using U = std::remove_cvref_t<T>;
  if constexpr (std::is_same_v<U, std::string>) {
    if (!j.is_string())
      return false;
    out = j.get<std::string>();
    return true;
  } else if constexpr (std::is_same_v<U, bool>) {
    if (!j.is_boolean())
      return false;
    out = j.get<bool>();
    return true;
  } else if constexpr (std::is_integral_v<U>) {
    if (!j.is_number_integer())
      return false;
    if (j.is_number_unsigned()) {
      const auto v = j.get<std::uint64_t>();
      if (v > static_cast<std::uint64_t>(std::numeric_limits<U>::max()))
        return false;
      out = static_cast<U>(v);
      return true;
    }
    const auto v = j.get<std::int64_t>();
    if (v < static_cast<std::int64_t>(std::numeric_limits<U>::min()) ||
        (v > 0 && static_cast<std::uint64_t>(v) > static_cast<std::uint64_t>(std::numeric_limits<U>::max())))
      return false;
    out = static_cast<U>(v);
    return true;
  } else if constexpr (std::is_floating_point_v<U>) {
    if (!j.is_number())
      return false;
    out = j.get<U>();
    return true;
  } else if constexpr (std::is_same_v<U, domain::timestamp>) {
    if (!j.is_string())
      return false;
    auto t = domain::parse_iso8601(j.get_ref<const std::string&>());
    if (!t)
      return false;
    out = *t;
    return true;
  } else if constexpr (domain::named_enum<U>) {
    return j.is_string() && domain::from_string(j.get_ref<const std::string&>(), out);
  } else if constexpr (detail::is_optional<U>::value) {
    if (j.is_null()) {
      out.reset();
      return true;
    }
    typename U::value_type v{};
    if (!from_json_value(j, v, where))
      return false;
    out = std::move(v);
    return true;
  } else if constexpr (detail::is_vector<U>::value) {
    if (!j.is_array())
      return false;
    out.clear();
    for (std::size_t i = 0; i < j.size(); ++i) {
      typename U::value_type v{};
      if (!from_json_value(j[i], v, where)) {
        where = "[" + std::to_string(i) + "]" + where;
        return false;
      }
      out.push_back(std::move(v));
    }
    return true;
  } else if constexpr (std::is_same_v<U, std::map<std::string, std::string>>) {
    if (!j.is_object())
      return false;
    out.clear();
    for (const auto& [k, v] : j.items()) {
      if (!v.is_string()) {
        where = "." + k;
        return false;
      }
      out.emplace(k, v.template get<std::string>());
    }
    return true;
  } else {
    static_assert(domain::described<U>, "type has no fields() description");
    if (!j.is_object())
      return false;
    bool ok = true;
    domain::for_each_field(out, [&](std::string_view name, auto& member) {
      if (!ok)
        return;
      auto it = j.find(std::string{name});
      if (it == j.end()) // absent: keep the default (lets old events gain optional fields)
        return;
      if (!from_json_value(*it, member, where)) {
        where = "." + std::string{name} + where;
        ok = false;
      }
    });
    return ok;
  }
}

// A parsed JSON value as T.
template <class T>
domain::result<T> decode_value(const json& j, std::string_view what) {
  T out{};
  std::string where;
  if (!from_json_value(j, out, where))
    return domain::make_error(domain::error_code::storage_failure,
                              std::string{what} + ": bad value at " + (where.empty() ? "<root>" : where));
  return out;
}

// Stored text parsed; what names it in the error.
inline domain::result<json> parse_stored(std::string_view text, std::string_view what) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    return domain::make_error(domain::error_code::storage_failure, std::string{what} + ": not valid JSON");
  return j;
}

template <class T>
domain::result<T> decode_json(std::string_view text, std::string_view what) {
  auto j = parse_stored(text, what);
  if (!j)
    return std::move(j).error();
  return decode_value<T>(*j, what);
}

// A command's provenance as an event's stored metadata: a JSON object of its non-empty fields
// (empty when nothing is known).
inline std::string encode_provenance(const domain::provenance& p) {
  json obj = json::object();
  domain::for_each_field(p, [&](std::string_view name, const std::string& value) {
    if (!value.empty())
      obj[std::string{name}] = value;
  });
  return obj.empty() ? std::string{} : obj.dump();
}

// An aggregate event (a std::variant of described structs with a `type`) as a store record whose
// data is still a JSON value, to change before it is dumped (sealing personal data); data empty.
template <class Event>
std::pair<new_event, json> encode_event_value(const Event& ev) {
  return std::visit(
      [](const auto& e) {
        using E = std::remove_cvref_t<decltype(e)>;
        return std::pair{new_event{std::string{E::type}, {}, e.at.ms, {}}, to_json_value(e)};
      },
      ev);
}

// An aggregate event as a store record.
template <class Event>
new_event encode_event(const Event& ev) {
  auto [out, data] = encode_event_value(ev);
  out.data = data.dump();
  return out;
}

// An event's data, parsed (and, where it holds personal data, opened: storage/personal_data.hpp).
template <class Event, std::size_t I = 0>
domain::result<Event> decode_event_value(std::string_view type, const json& data) {
  if constexpr (I == std::variant_size_v<Event>) {
    return domain::make_error(domain::error_code::storage_failure, "unknown event type " + std::string{type});
  } else {
    using E = std::variant_alternative_t<I, Event>;
    if (E::type != type)
      return decode_event_value<Event, I + 1>(type, data);
    auto decoded = decode_value<E>(data, type);
    if (!decoded)
      return std::move(decoded).error();
    return Event{std::in_place_index<I>, std::move(decoded).value()};
  }
}

template <class Event>
domain::result<Event> decode_event(std::string_view type, std::string_view data) {
  auto j = parse_stored(data, type);
  if (!j)
    return std::move(j).error();
  return decode_event_value<Event>(type, *j);
}

} // namespace onair::storage
