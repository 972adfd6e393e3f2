#pragma once
// HTTP's conditional and range requests (RFC 9110 13, 14) as the file routes read them: dates,
// entity tags and one byte range. Pure functions over untrusted header text (fuzzed:
// tests/fuzz/fuzz_http_conditions.cpp).
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace onair::api {

// "Thu, 03 Dec 2026 19:20:05 GMT" (IMF-fixdate) and back; nothing for any other text.
[[nodiscard]] std::string http_date(std::time_t t);
[[nodiscard]] std::optional<std::time_t> parse_http_date(const std::string& s);

// If-None-Match: `*` or a list of entity tags, compared weakly (RFC 9110 13.1.2).
[[nodiscard]] bool none_match_hits(std::string_view header, std::string_view etag);

struct byte_range {
  std::uint64_t first = 0, last = 0; // inclusive
};
enum class range_answer { whole, partial, unsatisfiable };

// One range of `bytes=a-b`, `bytes=a-` or `bytes=-n` over a file of `size` bytes. A header that is
// malformed, names another unit or several ranges is ignored, and the whole file sent (as nginx
// does), which RFC 9110 allows; a range that starts past the end, or an empty suffix, cannot be
// satisfied. On partial, `out` lies within the file.
[[nodiscard]] range_answer parse_range(std::string_view header, std::uint64_t size, byte_range& out);

} // namespace onair::api
