#include "api/http_conditions.hpp"

#include <algorithm>
#include <charconv>
#include <system_error>

namespace onair::api {
namespace {

// An unsigned decimal; past 2^64 it saturates (it can only be past the end of any file).
bool parse_count(std::string_view s, std::uint64_t& out) {
  if (s.empty())
    return false;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec == std::errc::result_out_of_range && ptr == s.data() + s.size()) {
    out = UINT64_MAX;
    return true;
  }
  return ec == std::errc{} && ptr == s.data() + s.size();
}

} // namespace

std::string http_date(std::time_t t) {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[40];
  const auto n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string{buf, n};
}

std::optional<std::time_t> parse_http_date(const std::string& s) {
  std::tm tm{};
  const char* end = ::strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0')
    return std::nullopt;
  return ::timegm(&tm);
}

bool none_match_hits(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    const auto comma = header.find(',');
    auto tag = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t'))
      tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t'))
      tag.remove_suffix(1);
    if (tag.starts_with("W/"))
      tag.remove_prefix(2);
    if (tag == "*" || tag == etag)
      return true;
  }
  return false;
}

range_answer parse_range(std::string_view header, std::uint64_t size, byte_range& out) {
  constexpr std::string_view unit = "bytes=";
  if (!header.starts_with(unit))
    return range_answer::whole;
  auto spec = header.substr(unit.size());
  while (!spec.empty() && spec.front() == ' ')
    spec.remove_prefix(1);
  while (!spec.empty() && spec.back() == ' ')
    spec.remove_suffix(1);
  const auto dash = spec.find('-');
  if (spec.find(',') != std::string_view::npos || dash == std::string_view::npos)
    return range_answer::whole;
  const auto a = spec.substr(0, dash), b = spec.substr(dash + 1);
  std::uint64_t first = 0, last = 0;
  if (a.empty()) { // the last n bytes
    if (!parse_count(b, last))
      return range_answer::whole;
    if (last == 0 || size == 0)
      return range_answer::unsatisfiable;
    out = {size - std::min(last, size), size - 1};
    return range_answer::partial;
  }
  if (!parse_count(a, first) || (!b.empty() && !parse_count(b, last)))
    return range_answer::whole;
  if (b.empty())
    last = UINT64_MAX;
  if (last < first)
    return range_answer::whole; // invalid, so ignored (RFC 9110 14.1.1)
  if (first >= size)
    return range_answer::unsatisfiable;
  out = {first, std::min(last, size - 1)};
  return range_answer::partial;
}

} // namespace onair::api
