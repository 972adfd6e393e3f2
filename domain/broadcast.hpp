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

enum class recording_state { not_started, recording, complete, failed };

template <>
struct enum_names<recording_state> {
  static constexpr std::array entries{
      std::pair{recording_state::not_started, std::string_view{"NOT_STARTED"}},
      std::pair{recording_state::recording, std::string_view{"RECORDING"}},
      std::pair{recording_state::complete, std::string_view{"COMPLETE"}},
      std::pair{recording_state::failed, std::string_view{"FAILED"}},
  };
};

// One file of the recording: a codec configuration change starts the next.
struct recording_part {
  std::int64_t index = 0;
  std::string file{};
  std::string video_codec{}; // empty: the part has no video
  std::string audio_codec{};
  std::int64_t width = 0;
  std::int64_t height = 0;
  std::int64_t bytes = 0;    // on disk and synced
  std::int64_t start_ms = 0; // on the recording's timeline (interruptions removed)
  std::int64_t end_ms = 0;

  static constexpr auto fields() {
    return std::tuple{field("index", &recording_part::index),       field("file", &recording_part::file),
                      field("videoCodec", &recording_part::video_codec), field("audioCodec", &recording_part::audio_codec),
                      field("width", &recording_part::width),       field("height", &recording_part::height),
                      field("bytes", &recording_part::bytes),       field("startMs", &recording_part::start_ms),
                      field("endMs", &recording_part::end_ms)};
  }
  friend bool operator==(const recording_part&, const recording_part&) = default;
};

// The broadcast's recording, as its recorder reported it: at its start, at each part and pause,
// at its end (not once per fragment).
struct recording {
  recording_state state = recording_state::not_started;
  std::string path{}; // the recording's folder, under the data folder
  std::vector<recording_part> parts{};
  std::int64_t bytes = 0;
  std::int64_t duration_ms = 0;
  std::string error{};
  std::optional<timestamp> started_at{};
  std::optional<timestamp> ended_at{};

  static constexpr auto fields() {
    return std::tuple{field("state", &recording::state),           field("path", &recording::path),
                      field("parts", &recording::parts),           field("bytes", &recording::bytes),
                      field("durationMs", &recording::duration_ms), field("error", &recording::error),
                      field("startedAt", &recording::started_at),  field("endedAt", &recording::ended_at)};
  }
  friend bool operator==(const recording&, const recording&) = default;
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
  domain::recording recording{};
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
                      field("recording", &broadcast::recording),
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

// The recorder began (or, after a restart, took up again) the recording in `path`. Started
// already: no events. Refused once the broadcast has ended.
struct start_recording {
  std::string path{};

  static constexpr auto fields() { return std::tuple{field("path", &start_recording::path)}; }
};

// The recorder's progress: its parts as they are on disk. The same parts: no events. Accepted
// after the broadcast ended (the recorder finishes after End Live), not after the recording did.
struct record_progress {
  std::vector<recording_part> parts{};

  static constexpr auto fields() { return std::tuple{field("parts", &record_progress::parts)}; }
};

// The recording is complete. Complete already: no events.
struct complete_recording {
  std::vector<recording_part> parts{};

  static constexpr auto fields() { return std::tuple{field("parts", &complete_recording::parts)}; }
};

// The recording failed (a write error, the recorder fell behind); the live stream goes on.
// Failed already: no events.
struct fail_recording {
  std::vector<recording_part> parts{};
  std::string error{};

  static constexpr auto fields() {
    return std::tuple{field("parts", &fail_recording::parts), field("error", &fail_recording::error)};
  }
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

struct recording_started {
  static constexpr std::string_view type = "broadcast.recording_started";
  std::string path{};
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("path", &recording_started::path), field("at", &recording_started::at)};
  }
  friend bool operator==(const recording_started&, const recording_started&) = default;
};

// The parts, their bytes and the duration, as the recorder reported them.
struct recording_progressed {
  static constexpr std::string_view type = "broadcast.recording_progressed";
  std::vector<recording_part> parts{};
  std::int64_t bytes = 0;
  std::int64_t duration_ms = 0;
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("parts", &recording_progressed::parts), field("bytes", &recording_progressed::bytes),
                      field("durationMs", &recording_progressed::duration_ms), field("at", &recording_progressed::at)};
  }
  friend bool operator==(const recording_progressed&, const recording_progressed&) = default;
};

struct recording_completed {
  static constexpr std::string_view type = "broadcast.recording_completed";
  std::vector<recording_part> parts{};
  std::int64_t bytes = 0;
  std::int64_t duration_ms = 0;
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("parts", &recording_completed::parts), field("bytes", &recording_completed::bytes),
                      field("durationMs", &recording_completed::duration_ms), field("at", &recording_completed::at)};
  }
  friend bool operator==(const recording_completed&, const recording_completed&) = default;
};

struct recording_failed {
  static constexpr std::string_view type = "broadcast.recording_failed";
  std::vector<recording_part> parts{};
  std::int64_t bytes = 0;
  std::int64_t duration_ms = 0;
  std::string error{};
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("parts", &recording_failed::parts), field("bytes", &recording_failed::bytes),
                      field("durationMs", &recording_failed::duration_ms), field("error", &recording_failed::error),
                      field("at", &recording_failed::at)};
  }
  friend bool operator==(const recording_failed&, const recording_failed&) = default;
};

struct broadcast_aggregate {
  static constexpr std::string_view category = "broadcast";
  using state = broadcast;
  using command = std::variant<start_broadcast, ingest_session_started, ingest_session_ended, end_broadcast,
                               start_recording, record_progress, complete_recording, fail_recording>;
  using event = std::variant<broadcast_started, broadcast_session_opened, broadcast_session_closed, broadcast_ended,
                             recording_started, recording_progressed, recording_completed, recording_failed>;

  static state initial_state();
  static result<std::vector<event>> decide(const command& cmd, const state& s, const context& ctx);
  static state evolve(state s, const event& ev);
};
static_assert(aggregate<broadcast_aggregate>);

} // namespace onair::domain
