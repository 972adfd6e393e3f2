#pragma once
// Querying the audit trail (issue 21, point 4): which events of the log a reader asks for, by type,
// aggregate, principal and time range, and the bounded scan of the log that answers it. The feed,
// its SSE stream, the operator's GET /v2/admin/events and `onair audit export` share both, so a
// query means the same wherever it is asked.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http_server.hpp"
#include "domain/aggregate.hpp"
#include "domain/result.hpp"
#include "storage/event_store.hpp"

namespace onair::actors {
class runtime;
}

namespace onair::api {

// The query as given (query parameters or CLI flags), each a comma-separated list; absent: any.
struct event_filter_params {
  std::optional<std::string> type{}, aggregate{}, principal{}, from{}, to{};
};

// Within one parameter any value matches (OR); the parameters combine with AND.
struct event_filter {
  struct aggregate_ref {
    std::string category;          // "video_room"
    std::optional<std::string> id; // "42"; none: every aggregate of the category
  };
  std::vector<std::string> types;           // stored types, "video_room.created"
  std::vector<std::string> type_prefixes;   // "video_room." (from "video_room.*")
  std::vector<aggregate_ref> aggregates;
  std::vector<std::string> principals;      // the whole onairprincipal, "member:alice"
  std::vector<std::string> principal_kinds; // "member" (from "member:*"): "member" or "member:…"
  std::optional<std::int64_t> from_ms;      // time >= from
  std::optional<std::int64_t> to_ms;        // time < to

  [[nodiscard]] bool constrains_principal() const { return !principals.empty() || !principal_kinds.empty(); }
};

// The values each parameter takes:
//   type       onair.video_room.created | video_room.created | video_room.* | onair.video_room.*
//   aggregate  video_room | video_room/42
//   principal  member:alice | operator | member:* (a kind: app, member, operator, system)
//   from, to   RFC 3339 times ('Z' or an offset); from inclusive, to exclusive, from < to
// A bad value is INVALID_PARAMETER naming the parameter; its message begins with that name.
[[nodiscard]] domain::result<event_filter> parse_event_filter(const event_filter_params& p);

// What the stored record says: type, aggregate and time, without building the CloudEvent (most of
// a filtered scan ends here).
[[nodiscard]] bool matches_record(const event_filter& f, const storage::event_record& rec);
// What only the CloudEvent says: its principal, the `onairprincipal` extension attribute (an event
// without one matches no principal filter).
[[nodiscard]] bool matches_event(const event_filter& f, const nlohmann::json& cloud_event);

// The CloudEvent of a record when the reader may see it (app: that app's; none: every app's, the
// operator's) and the filter takes it; members' personal data opened with keys.
[[nodiscard]] std::optional<nlohmann::json> filtered_cloud_event(const event_filter& f, const storage::event_record& rec,
                                                                 std::optional<domain::app_id> app,
                                                                 const storage::personal::key_ring* keys);

// One bounded read of the log after `after`: at most `limit` events and at most `max_scanned`
// records looked at, so a filter that matches little costs each request the same.
struct event_page {
  std::vector<nlohmann::json> events;
  std::uint64_t next = 0; // the position reached: pass as `after` to go on
  bool more = false;      // it stopped before the end of the log (page full, or the scan bound)
};
[[nodiscard]] domain::result<event_page> scan_events(storage::event_store& store, std::uint64_t after,
                                                     const event_filter& f, std::optional<domain::app_id> app,
                                                     std::size_t limit, std::size_t max_scanned);

// GET /v2/admin/events, the server's side of `onair audit export` while a server holds the store:
// the feed's parameters (after, limit, type, aggregate, principal, from, to) and `app` (absent:
// every app); answers {events, next, more, lastPosition}. Meant behind the server's admin check.
[[nodiscard]] http_handler admin_events_handler(actors::runtime& rt);

} // namespace onair::api
