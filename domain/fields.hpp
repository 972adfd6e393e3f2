#pragma once
// Field descriptors: each event, command and state struct lists its fields once,
//   static constexpr auto fields() { return std::tuple{field("appUserId", &member_registered::app_user_id), ...}; }
// and codecs outside the domain (JSON in storage/, DTOs in api/) walk them. The names are the
// storage format of events: rename with care.
#include <string_view>
#include <tuple>

namespace onair::domain {

template <class Owner, class Member>
struct field_t {
  std::string_view name;
  Member Owner::*ptr;
};

template <class Owner, class Member>
constexpr field_t<Owner, Member> field(std::string_view name, Member Owner::*ptr) {
  return {name, ptr};
}

template <class T>
concept described = requires { T::fields(); };

// Calls f(name, member) for each described field of x (const or not).
template <class T, class F>
  requires described<std::remove_cvref_t<T>>
constexpr void for_each_field(T&& x, F&& f) {
  std::apply([&](const auto&... fd) { (f(fd.name, x.*(fd.ptr)), ...); },
             std::remove_cvref_t<T>::fields());
}

} // namespace onair::domain
