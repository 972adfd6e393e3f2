#pragma once
// Event streams are named "{category}/{app}/{id}" (the store's address of an aggregate); what
// watches durable events (the ingest, the recordings) reads them back with this.
#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "domain/aggregate.hpp"

namespace onair::actors {

// (app, numeric id) of a stream of `category`; nothing for another category or a malformed name.
[[nodiscard]] inline std::optional<std::pair<domain::app_id, std::int64_t>> parse_stream(std::string_view stream,
                                                                                        std::string_view category) {
  if (stream.size() <= category.size() || stream.substr(0, category.size()) != category || stream[category.size()] != '/')
    return std::nullopt;
  stream.remove_prefix(category.size() + 1);
  const auto slash = stream.find('/');
  if (slash == std::string_view::npos)
    return std::nullopt;
  domain::app_id app = 0;
  std::int64_t id = 0;
  const auto a = std::from_chars(stream.data(), stream.data() + slash, app);
  const auto b = std::from_chars(stream.data() + slash + 1, stream.data() + stream.size(), id);
  if (a.ec != std::errc{} || a.ptr != stream.data() + slash || b.ec != std::errc{} || b.ptr != stream.data() + stream.size())
    return std::nullopt;
  return std::pair{app, id};
}

} // namespace onair::actors
