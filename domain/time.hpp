#pragma once
// Wall-clock instants as milliseconds since the Unix epoch. The domain never reads a clock:
// instants arrive in the command context.
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace onair::domain {

struct timestamp {
  std::int64_t ms = 0;
  friend auto operator<=>(const timestamp&, const timestamp&) = default;
};

// ISO-8601 UTC with milliseconds: 2026-11-24T09:30:00.000Z
[[nodiscard]] std::string to_iso8601(timestamp t);
// Accepts the form above, with or without milliseconds, 'Z' or a +hh:mm offset.
[[nodiscard]] std::optional<timestamp> parse_iso8601(std::string_view text);

} // namespace onair::domain
