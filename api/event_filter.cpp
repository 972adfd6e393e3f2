#include "api/event_filter.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include "domain/time.hpp"
#include "storage/cloud_events.hpp"

namespace onair::api {

using domain::error_code;
using domain::make_error;

namespace {

// One parameter's values are OR'ed one by one against every event scanned: keep that short.
constexpr std::size_t max_values = 32;
// The kinds of principal that provenance gives (issue 21, point 1).
constexpr std::array<std::string_view, 4> principal_kinds{"app", "member", "operator", "system"};
constexpr std::string_view type_namespace = "onair.";

domain::error bad(const std::string& field, const std::string& what) {
  return make_error(error_code::invalid_parameter, field + " " + what, field);
}

domain::result<std::vector<std::string>> split_values(const std::string& text, const std::string& field) {
  std::vector<std::string> out;
  std::size_t begin = 0;
  for (;;) {
    const auto comma = text.find(',', begin);
    auto value = text.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin);
    if (value.empty())
      return bad(field, "needs a value (several are separated by commas)");
    if (std::any_of(value.begin(), value.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
      return bad(field, "must not hold control characters");
    out.push_back(std::move(value));
    if (out.size() > max_values)
      return bad(field, "takes at most " + std::to_string(max_values) + " values");
    if (comma == std::string::npos)
      return out;
    begin = comma + 1;
  }
}

bool is_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Dot-separated names: "video_room.created".
bool is_dotted_name(std::string_view s) {
  for (;;) {
    const auto dot = s.find('.');
    if (!is_name(s.substr(0, dot)))
      return false;
    if (dot == std::string_view::npos)
      return true;
    s.remove_prefix(dot + 1);
  }
}

domain::status add_type(event_filter& f, std::string_view v) {
  if (v.starts_with(type_namespace))
    v.remove_prefix(type_namespace.size());
  const bool prefix = v.ends_with(".*");
  if (prefix)
    v.remove_suffix(2);
  if (!is_dotted_name(v))
    return bad("type", "must be an event type (onair.video_room.created or video_room.created) or a family of "
                       "them (video_room.*)");
  (prefix ? f.type_prefixes : f.types).push_back(std::string{v} + (prefix ? "." : ""));
  return domain::ok_status();
}

domain::status add_aggregate(event_filter& f, const std::string& v) {
  const auto slash = v.find('/');
  event_filter::aggregate_ref a;
  a.category = v.substr(0, slash);
  if (slash != std::string::npos)
    a.id = v.substr(slash + 1);
  if (!is_name(a.category) || (a.id && a.id->empty()))
    return bad("aggregate", "must be a kind of aggregate (video_room) or one aggregate (video_room/42)");
  f.aggregates.push_back(std::move(a));
  return domain::ok_status();
}

domain::status add_principal(event_filter& f, const std::string& v) {
  const auto colon = v.find(':');
  const std::string kind = v.substr(0, colon);
  const bool known = std::find(principal_kinds.begin(), principal_kinds.end(), kind) != principal_kinds.end();
  const auto rest = colon == std::string::npos ? std::string{} : v.substr(colon + 1);
  const auto star = v.find('*');
  if (!known || (colon != std::string::npos && rest.empty()) ||
      (star != std::string::npos && (rest != "*" || star != v.size() - 1)))
    return bad("principal", "must be a principal (member:alice, app:KEY_ID, operator, system:ingest) or a kind of "
                            "them (member:*); kinds: app, member, operator, system");
  if (rest == "*")
    f.principal_kinds.push_back(kind);
  else
    f.principals.push_back(v);
  return domain::ok_status();
}

domain::result<std::int64_t> parse_time(const std::string& text, const std::string& field) {
  auto t = domain::parse_iso8601(text);
  if (!t)
    return bad(field, "must be an RFC 3339 time, e.g. 2026-11-24T09:30:00Z or 2026-11-24T10:30:00+01:00");
  return t->ms;
}

template <class Add>
domain::status add_each(const std::optional<std::string>& text, const std::string& field, const Add& add) {
  if (!text)
    return domain::ok_status();
  auto values = split_values(*text, field);
  if (!values)
    return std::move(values).error();
  for (const auto& v : *values)
    if (auto s = add(v); !s)
      return s;
  return domain::ok_status();
}

} // namespace

domain::result<event_filter> parse_event_filter(const event_filter_params& p) {
  event_filter f;
  if (auto s = add_each(p.type, "type", [&](const std::string& v) { return add_type(f, v); }); !s)
    return std::move(s).error();
  if (auto s = add_each(p.aggregate, "aggregate", [&](const std::string& v) { return add_aggregate(f, v); }); !s)
    return std::move(s).error();
  if (auto s = add_each(p.principal, "principal", [&](const std::string& v) { return add_principal(f, v); }); !s)
    return std::move(s).error();
  if (p.from) {
    auto t = parse_time(*p.from, "from");
    if (!t)
      return std::move(t).error();
    f.from_ms = *t;
  }
  if (p.to) {
    auto t = parse_time(*p.to, "to");
    if (!t)
      return std::move(t).error();
    f.to_ms = *t;
  }
  if (f.from_ms && f.to_ms && *f.to_ms <= *f.from_ms)
    return bad("to", "must be later than from (from is inclusive, to exclusive)");
  return f;
}

bool matches_record(const event_filter& f, const storage::event_record& rec) {
  if ((f.from_ms && rec.time_ms < *f.from_ms) || (f.to_ms && rec.time_ms >= *f.to_ms))
    return false;
  if (!f.types.empty() || !f.type_prefixes.empty()) {
    const bool typed = std::find(f.types.begin(), f.types.end(), rec.type) != f.types.end() ||
                       std::any_of(f.type_prefixes.begin(), f.type_prefixes.end(),
                                   [&](const std::string& p) { return rec.type.starts_with(p); });
    if (!typed)
      return false;
  }
  if (!f.aggregates.empty()) {
    const auto parts = storage::parse_stream_name(rec.stream);
    if (!parts)
      return false;
    const bool in = std::any_of(f.aggregates.begin(), f.aggregates.end(), [&](const event_filter::aggregate_ref& a) {
      return parts->category == a.category && (!a.id || parts->id == *a.id);
    });
    if (!in)
      return false;
  }
  return true;
}

bool matches_event(const event_filter& f, const nlohmann::json& cloud_event) {
  if (!f.constrains_principal())
    return true;
  const auto it = cloud_event.find("onairprincipal");
  if (it == cloud_event.end() || !it->is_string())
    return false;
  const auto& principal = it->get_ref<const std::string&>();
  if (std::find(f.principals.begin(), f.principals.end(), principal) != f.principals.end())
    return true;
  return std::any_of(f.principal_kinds.begin(), f.principal_kinds.end(), [&](const std::string& kind) {
    return principal.starts_with(kind) && (principal.size() == kind.size() || principal[kind.size()] == ':');
  });
}

std::optional<nlohmann::json> filtered_cloud_event(const event_filter& f, const storage::event_record& rec,
                                                   std::optional<domain::app_id> app,
                                                   const storage::personal::key_ring* keys) {
  if (!matches_record(f, rec))
    return std::nullopt;
  auto ev = storage::to_cloud_event(rec, app, keys);
  if (!ev || !matches_event(f, *ev))
    return std::nullopt;
  return ev;
}

domain::result<event_page> scan_events(storage::event_store& store, std::uint64_t after, const event_filter& f,
                                       std::optional<domain::app_id> app, std::size_t limit,
                                       std::size_t max_scanned) {
  constexpr std::size_t chunk = 512;
  event_page page;
  page.next = after;
  std::size_t scanned = 0;
  bool stopped = false; // short of the end of the log: full, or the scan bound reached
  while (!stopped) {
    const auto want = std::min(chunk, max_scanned - scanned);
    auto batch = store.read_all(page.next, want);
    if (!batch)
      return make_error(batch.error().code, "reading the log after " + std::to_string(page.next) + ": " +
                                                batch.error().message);
    for (const auto& rec : *batch) {
      page.next = rec.position;
      ++scanned;
      if (auto ev = filtered_cloud_event(f, rec, app, &store.personal_keys())) {
        page.events.push_back(std::move(*ev));
        if (page.events.size() >= limit) {
          stopped = true;
          break;
        }
      }
    }
    if (batch->size() < want)
      break; // the end of the log
    if (scanned >= max_scanned)
      stopped = true;
  }
  page.more = stopped && page.next < store.last_position();
  return page;
}

} // namespace onair::api
