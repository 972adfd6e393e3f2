#pragma once
// One broadcast per Start Live … End Live of a room: the ingest sessions it recorded, across
// every interruption. Every command is idempotent; after the end only end_broadcast is accepted
// (as a no-op).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "domain/aggregate.hpp"
#include "domain/enums.hpp"
#include "domain/fields.hpp"
#include "domain/output_mode.hpp"
#include "domain/result.hpp"
#include "domain/time.hpp"

namespace onair::domain {

enum class broadcast_state { live, ended };

template <>
struct enum_names<broadcast_state> {
  static constexpr std::array entries{
      std::pair{broadcast_state::live, std::string_view{"LIVE"}},
      std::pair{broadcast_state::ended, std::string_view{"ENDED"}},
  };
};

// One publisher connection recorded into the broadcast.
struct ingest_session {
  std::string session_id{};
  timestamp started_at{};
  std::optional<timestamp> ended_at{};

  static constexpr auto fields() {
    return std::tuple{field("sessionId", &ingest_session::session_id),
                      field("startedAt", &ingest_session::started_at),
                      field("endedAt", &ingest_session::ended_at)};
  }
  friend bool operator==(const ingest_session&, const ingest_session&) = default;
};

// ---- state
struct broadcast {
  bool exists = false;
  std::int64_t id = 0;
  std::int64_t room_id = 0;
  std::int64_t stream_key_id = 0;
  std::int64_t member_id = 0;
  output_mode mode = output_mode::rtmp;
  broadcast_state state = broadcast_state::live;
  timestamp started_at{};
  std::optional<timestamp> ended_at{};
  bool forced = false;
  std::vector<ingest_session> sessions{};
  timestamp created_at{};
  timestamp last_modified_at{};

  // The session being recorded now, if any.
  [[nodiscard]] const ingest_session* open_session() const noexcept {
    for (const auto& session : sessions)
      if (!session.ended_at)
        return &session;
    return nullptr;
  }

  static constexpr auto fields() {
    return std::tuple{field("exists", &broadcast::exists),
                      field("id", &broadcast::id),
                      field("roomId", &broadcast::room_id),
                      field("streamKeyId", &broadcast::stream_key_id),
                      field("memberId", &broadcast::member_id),
                      field("mode", &broadcast::mode),
                      field("state", &broadcast::state),
                      field("startedAt", &broadcast::started_at),
                      field("endedAt", &broadcast::ended_at),
                      field("forced", &broadcast::forced),
                      field("sessions", &broadcast::sessions),
                      field("createdAt", &broadcast::created_at),
                      field("lastModifiedAt", &broadcast::last_modified_at)};
  }
  friend bool operator==(const broadcast&, const broadcast&) = default;
};

// ---- commands
// Start Live. Exists and LIVE: no events; ENDED: BROADCAST_ENDED.
struct start_broadcast {
  std::int64_t id = 0;
  std::int64_t room_id = 0;
  std::int64_t stream_key_id = 0;
  std::int64_t member_id = 0;
  output_mode mode = output_mode::rtmp;

  static constexpr auto fields() {
    return std::tuple{field("id", &start_broadcast::id), field("roomId", &start_broadcast::room_id),
                      field("streamKeyId", &start_broadcast::stream_key_id),
                      field("memberId", &start_broadcast::member_id), field("mode", &start_broadcast::mode)};
  }
};

// A publisher's session starts feeding the recording. Known session: no events. Another session
// still open: it is closed first (one publisher per key).
struct ingest_session_started {
  std::string session_id{};

  static constexpr auto fields() { return std::tuple{field("sessionId", &ingest_session_started::session_id)}; }
};

// Unknown or already closed session: no events.
struct ingest_session_ended {
  std::string session_id{};

  static constexpr auto fields() { return std::tuple{field("sessionId", &ingest_session_ended::session_id)}; }
};

// End Live. Ended already: no events. Closes the open session, if any.
struct end_broadcast {
  bool forced = false;

  static constexpr auto fields() { return std::tuple{field("forced", &end_broadcast::forced)}; }
};

// ---- events
struct broadcast_started {
  static constexpr std::string_view type = "broadcast.started";
  std::int64_t id = 0;
  std::int64_t room_id = 0;
  std::int64_t stream_key_id = 0;
  std::int64_t member_id = 0;
  output_mode mode = output_mode::rtmp;
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("id", &broadcast_started::id),
                      field("roomId", &broadcast_started::room_id),
                      field("streamKeyId", &broadcast_started::stream_key_id),
                      field("memberId", &broadcast_started::member_id),
                      field("mode", &broadcast_started::mode),
                      field("at", &broadcast_started::at)};
  }
  friend bool operator==(const broadcast_started&, const broadcast_started&) = default;
};

struct broadcast_session_opened {
  static constexpr std::string_view type = "broadcast.session_opened";
  std::string session_id{};
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("sessionId", &broadcast_session_opened::session_id),
                      field("at", &broadcast_session_opened::at)};
  }
  friend bool operator==(const broadcast_session_opened&, const broadcast_session_opened&) = default;
};

struct broadcast_session_closed {
  static constexpr std::string_view type = "broadcast.session_closed";
  std::string session_id{};
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("sessionId", &broadcast_session_closed::session_id),
                      field("at", &broadcast_session_closed::at)};
  }
  friend bool operator==(const broadcast_session_closed&, const broadcast_session_closed&) = default;
};

// LIVE → ENDED; any open session ends at `at`.
struct broadcast_ended {
  static constexpr std::string_view type = "broadcast.ended";
  bool forced = false;
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("forced", &broadcast_ended::forced), field("at", &broadcast_ended::at)};
  }
  friend bool operator==(const broadcast_ended&, const broadcast_ended&) = default;
};

struct broadcast_aggregate {
  static constexpr std::string_view category = "broadcast";
  using state = broadcast;
  using command = std::variant<start_broadcast, ingest_session_started, ingest_session_ended, end_broadcast>;
  using event = std::variant<broadcast_started, broadcast_session_opened, broadcast_session_closed, broadcast_ended>;

  static state initial_state();
  static result<std::vector<event>> decide(const command& cmd, const state& s, const context& ctx);
  static state evolve(state s, const event& ev);
};
static_assert(aggregate<broadcast_aggregate>);

} // namespace onair::domain
