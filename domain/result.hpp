#pragma once
// A value or the error that prevented it. (std::expected arrives with C++23.)
#include <cassert>
#include <utility>
#include <variant>

#include "domain/error.hpp"

namespace onair::domain {

template <class T>
class [[nodiscard]] result {
public:
  result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  result(domain::error err) : v_(std::in_place_index<1>, std::move(err)) {}

  [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  [[nodiscard]] T& value() & { assert(ok()); return std::get<0>(v_); }
  [[nodiscard]] const T& value() const& { assert(ok()); return std::get<0>(v_); }
  [[nodiscard]] T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  [[nodiscard]] const domain::error& error() const& { assert(!ok()); return std::get<1>(v_); }
  [[nodiscard]] domain::error&& error() && { assert(!ok()); return std::get<1>(std::move(v_)); }

private:
  std::variant<T, domain::error> v_;
};

// For operations that return nothing but may fail.
struct unit {
  friend bool operator==(unit, unit) = default;
};
using status = result<unit>;
inline status ok_status() { return unit{}; }

} // namespace onair::domain
