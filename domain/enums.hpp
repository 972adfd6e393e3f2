#pragma once
// Enums whose wire names are part of the contract (api.md) declare them once:
//   template <> struct enum_names<room_state> { static constexpr std::array entries{
//       std::pair{room_state::scheduled, std::string_view{"SCHEDULED"}}, ...}; };
// and get to_string / from_string here, used by every codec.
#include <array>
#include <string_view>
#include <type_traits>
#include <utility>

namespace onair::domain {

template <class E>
struct enum_names; // specialise with a `static constexpr std::array entries` of (value, name) pairs

template <class E>
concept named_enum = std::is_enum_v<E> && requires { enum_names<E>::entries; };

template <named_enum E>
[[nodiscard]] constexpr std::string_view to_string(E value) noexcept {
  for (const auto& [v, name] : enum_names<E>::entries)
    if (v == value)
      return name;
  return {};
}

template <named_enum E>
[[nodiscard]] constexpr bool from_string(std::string_view text, E& out) noexcept {
  for (const auto& [v, name] : enum_names<E>::entries)
    if (name == text) {
      out = v;
      return true;
    }
  return false;
}

} // namespace onair::domain
