#pragma once
// given/when/then for deciders:
//   given<stream_key_aggregate>({key_created{...}}).when(connect_publisher{...}).then({publisher_connected{...}});
//   given<stream_key_aggregate>({...}).when(cmd).then_error(error_code::stream_key_in_use);
// Failures print both event lists in full (type and every described field).
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "domain/aggregate.hpp"
#include "domain/enums.hpp"
#include "domain/error.hpp"
#include "domain/fields.hpp"
#include "domain/time.hpp"

namespace onair::domain {

// The caller's place, taken as a default argument: std::source_location without it, as the
// sanitizer build's clang 14 has no std::source_location over libstdc++ 12.
struct call_site {
  const char* file = __builtin_FILE();
  int line = __builtin_LINE();
};

// Printing for Boost.Test (found by ADL); the domain itself has no streams.
template <named_enum E>
std::ostream& operator<<(std::ostream& os, E value) {
  return os << to_string(value);
}
inline std::ostream& operator<<(std::ostream& os, timestamp t) { return os << to_iso8601(t); }
inline std::ostream& operator<<(std::ostream& os, error_code code) { return os << to_string(code); }

} // namespace onair::domain

namespace onair::domain::testing {

// 2026-11-24T09:30:00.000Z
inline constexpr std::int64_t t0_ms = 1795512600000;
inline constexpr timestamp at(std::int64_t seconds_after_t0) { return timestamp{t0_ms + seconds_after_t0 * 1000}; }

// The context of a command issued `seconds_after_t0`, with fresh values derived from `n`.
inline context ctx(std::int64_t seconds_after_t0 = 0, int n = 1) {
  const auto s = std::to_string(n);
  return context{.now = at(seconds_after_t0),
                 .new_id = 100 + n,
                 .new_id_2 = 200 + n,
                 .new_secret = "secret-" + s,
                 .new_public_id = "public-" + s,
                 .new_uuid = "00000000-0000-4000-8000-00000000000" + s};
}

template <class T> struct is_optional : std::false_type {};
template <class T> struct is_optional<std::optional<T>> : std::true_type {};
template <class T> struct is_vector : std::false_type {};
template <class T> struct is_vector<std::vector<T>> : std::true_type {};
template <class T> struct is_variant : std::false_type {};
template <class... Ts> struct is_variant<std::variant<Ts...>> : std::true_type {};

template <class T>
void print(std::ostream& os, const T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    os << '"' << v << '"';
  } else if constexpr (std::is_same_v<T, bool>) {
    os << (v ? "true" : "false");
  } else if constexpr (std::is_same_v<T, timestamp>) {
    os << to_iso8601(v);
  } else if constexpr (named_enum<T>) {
    os << to_string(v);
  } else if constexpr (std::is_arithmetic_v<T>) {
    os << v;
  } else if constexpr (is_optional<T>::value) {
    if (v)
      print(os, *v);
    else
      os << "null";
  } else if constexpr (is_vector<T>::value) {
    os << '[';
    const char* sep = "";
    for (const auto& x : v) {
      os << sep;
      print(os, x);
      sep = ", ";
    }
    os << ']';
  } else if constexpr (std::is_same_v<T, std::map<std::string, std::string>>) {
    os << '{';
    const char* sep = "";
    for (const auto& [k, x] : v) {
      os << sep << '"' << k << "\": \"" << x << '"';
      sep = ", ";
    }
    os << '}';
  } else if constexpr (is_variant<T>::value) {
    std::visit(
        [&](const auto& alt) {
          if constexpr (requires { std::remove_cvref_t<decltype(alt)>::type; })
            os << std::remove_cvref_t<decltype(alt)>::type << ' ';
          print(os, alt);
        },
        v);
  } else if constexpr (described<T>) {
    os << '{';
    const char* sep = "";
    for_each_field(v, [&](std::string_view name, const auto& member) {
      os << sep << name << ": ";
      print(os, member);
      sep = ", ";
    });
    os << '}';
  } else {
    static_assert(sizeof(T) == 0, "print: unsupported field type");
  }
}

template <class T>
std::string show(const T& v) {
  std::ostringstream os;
  print(os, v);
  return os.str();
}

template <class E>
std::string show_all(const std::vector<E>& events) {
  if (events.empty())
    return "  (no events)\n";
  std::string out;
  for (const auto& e : events)
    out += "  " + show(e) + "\n";
  return out;
}

inline std::string show_error(const error& err) {
  return std::string{to_string(err.code)} + " (field '" + err.field + "'): " + err.message;
}

} // namespace onair::domain::testing

// BOOST_TEST(x == y) on optionals prints them with the printer above.
namespace boost::test_tools::tt_detail {
template <class T>
struct print_log_value<std::optional<T>> {
  void operator()(std::ostream& os, const std::optional<T>& v) { onair::domain::testing::print(os, v); }
};
} // namespace boost::test_tools::tt_detail

namespace onair::domain::testing {

template <aggregate A>
class scenario {
public:
  using event = typename A::event;
  using command = typename A::command;
  using state_type = typename A::state;

  explicit scenario(const std::vector<event>& history) : state_(A::initial_state()) {
    for (const auto& e : history)
      state_ = A::evolve(std::move(state_), e);
  }

  // The state the history folds to.
  [[nodiscard]] const state_type& state() const { return state_; }

  scenario& when(const command& cmd, const context& c = ctx()) {
    ctx_ = c;
    outcome_.emplace(A::decide(cmd, state_, c));
    return *this;
  }

  // Expects exactly these events (an empty list: the command is a no-op). Returns the state after
  // them, for checks beyond the events.
  state_type then(const std::vector<event>& expected,
                  call_site loc = {}) const {
    BOOST_REQUIRE_MESSAGE(outcome_.has_value(), where(loc) << "then() without when()");
    const auto& r = *outcome_;
    if (!r.ok()) {
      BOOST_ERROR(where(loc) << "expected events:\n"
                             << show_all(expected) << "but the command was refused: " << show_error(r.error()));
      return state_;
    }
    const auto& actual = r.value();
    BOOST_CHECK_MESSAGE(actual == expected, where(loc) << "events differ\nexpected:\n"
                                                       << show_all(expected) << "actual:\n"
                                                       << show_all(actual));
    // Convention: every event is stamped with the context's time.
    for (const auto& e : actual) {
      const timestamp stamped = std::visit([](const auto& x) { return x.at; }, e);
      BOOST_CHECK_MESSAGE(stamped == ctx_.now, where(loc) << "event " << show(e) << " not stamped with ctx.now");
    }
    auto s = state_;
    for (const auto& e : actual)
      s = A::evolve(std::move(s), e);
    return s;
  }

  // Expects no events.
  state_type then_nothing(call_site loc = {}) const {
    return then({}, loc);
  }

  // Expects a refusal with this code (and, when given, this field).
  void then_error(error_code code, std::string_view field = {},
                  call_site loc = {}) const {
    BOOST_REQUIRE_MESSAGE(outcome_.has_value(), where(loc) << "then_error() without when()");
    const auto& r = *outcome_;
    if (r.ok()) {
      BOOST_ERROR(where(loc) << "expected refusal " << to_string(code) << " but got events:\n"
                             << show_all(r.value()));
      return;
    }
    BOOST_CHECK_MESSAGE(r.error().code == code,
                        where(loc) << "expected refusal " << to_string(code) << ", got " << show_error(r.error()));
    if (!field.empty())
      BOOST_CHECK_MESSAGE(r.error().field == field,
                          where(loc) << "expected field '" << field << "', got " << show_error(r.error()));
    BOOST_CHECK_MESSAGE(!r.error().message.empty(), where(loc) << "refusal without a message");
  }

private:
  static std::string where(const call_site& loc) {
    std::string file = loc.file;
    if (const auto slash = file.rfind('/'); slash != std::string::npos)
      file.erase(0, slash + 1);
    return "[" + file + ":" + std::to_string(loc.line) + "] ";
  }

  state_type state_;
  context ctx_{};
  std::optional<result<std::vector<event>>> outcome_;
};

template <aggregate A>
scenario<A> given(const std::vector<typename A::event>& history = {}) {
  return scenario<A>{history};
}

} // namespace onair::domain::testing
