#include "domain/broadcast.hpp"

#include <algorithm>
#include <optional>

#include "domain/overloaded.hpp"

namespace onair::domain {
namespace {
using events = std::vector<broadcast_aggregate::event>;

error ended(const broadcast& s) {
  return make_error(error_code::broadcast_ended, "broadcast " + std::to_string(s.id) + " has ended");
}

bool known_session(const broadcast& s, std::string_view session_id) {
  return std::any_of(s.sessions.begin(), s.sessions.end(),
                     [&](const ingest_session& session) { return session.session_id == session_id; });
}

std::int64_t total_bytes(const std::vector<recording_part>& parts) {
  std::int64_t n = 0;
  for (const auto& p : parts)
    n += p.bytes;
  return n;
}

std::int64_t total_duration(const std::vector<recording_part>& parts) {
  std::int64_t n = 0;
  for (const auto& p : parts)
    n += p.end_ms - p.start_ms;
  return n;
}

error recording_over(const broadcast& s) {
  return make_error(error_code::invalid_parameter,
                    "the recording of broadcast " + std::to_string(s.id) + " is " + std::string{to_string(s.recording.state)});
}

// A report of the recorder's to a recording that is not open: refused before it started, a no-op
// once it is over (a late or repeated report); none when it is open.
std::optional<result<events>> not_open(const broadcast& s) {
  if (s.recording.state == recording_state::recording)
    return std::nullopt;
  if (s.recording.state == recording_state::not_started)
    return result<events>{recording_over(s)};
  return result<events>{events{}};
}

template <class E>
void take_parts(recording& r, const E& e) {
  r.parts = e.parts;
  r.bytes = e.bytes;
  r.duration_ms = e.duration_ms;
}

} // namespace

broadcast broadcast_aggregate::initial_state() { return broadcast{}; }

result<events> broadcast_aggregate::decide(const command& cmd, const state& s, const context& ctx) {
  if (!s.exists && !std::holds_alternative<start_broadcast>(cmd))
    return make_error(error_code::broadcast_not_found, "broadcast not found");

  return std::visit(
      overloaded{
          [&](const start_broadcast& c) -> result<events> {
            if (s.exists)
              return s.state == broadcast_state::ended ? result<events>{ended(s)} : result<events>{events{}};
            return events{broadcast_started{.id = c.id,
                                            .room_id = c.room_id,
                                            .stream_key_id = c.stream_key_id,
                                            .member_id = c.member_id,
                                            .mode = c.mode,
                                            .at = ctx.now}};
          },
          [&](const ingest_session_started& c) -> result<events> {
            if (s.state == broadcast_state::ended)
              return ended(s);
            if (c.session_id.empty())
              return make_error(error_code::invalid_parameter, "an ingest session id is required", "sessionId");
            if (known_session(s, c.session_id))
              return events{};
            events out;
            if (const auto* open = s.open_session())
              out.emplace_back(broadcast_session_closed{.session_id = open->session_id, .at = ctx.now});
            out.emplace_back(broadcast_session_opened{.session_id = c.session_id, .at = ctx.now});
            return out;
          },
          [&](const ingest_session_ended& c) -> result<events> {
            if (s.state == broadcast_state::ended)
              return ended(s);
            const auto* open = s.open_session();
            if (!open || open->session_id != c.session_id)
              return events{};
            return events{broadcast_session_closed{.session_id = c.session_id, .at = ctx.now}};
          },
          [&](const end_broadcast& c) -> result<events> {
            if (s.state == broadcast_state::ended)
              return events{};
            return events{broadcast_ended{.forced = c.forced, .at = ctx.now}};
          },
          [&](const start_recording& c) -> result<events> {
            if (s.recording.state != recording_state::not_started)
              return events{};
            if (s.state == broadcast_state::ended)
              return ended(s);
            if (c.path.empty())
              return make_error(error_code::invalid_parameter, "a recording needs its folder", "path");
            return events{recording_started{.path = c.path, .at = ctx.now}};
          },
          [&](const record_progress& c) -> result<events> {
            if (auto refused = not_open(s))
              return *std::move(refused);
            if (c.parts == s.recording.parts)
              return events{};
            return events{recording_progressed{
                .parts = c.parts, .bytes = total_bytes(c.parts), .duration_ms = total_duration(c.parts), .at = ctx.now}};
          },
          [&](const complete_recording& c) -> result<events> {
            if (auto refused = not_open(s))
              return *std::move(refused);
            return events{recording_completed{
                .parts = c.parts, .bytes = total_bytes(c.parts), .duration_ms = total_duration(c.parts), .at = ctx.now}};
          },
          [&](const fail_recording& c) -> result<events> {
            if (auto refused = not_open(s))
              return *std::move(refused);
            return events{recording_failed{.parts = c.parts,
                                           .bytes = total_bytes(c.parts),
                                           .duration_ms = total_duration(c.parts),
                                           .error = c.error.empty() ? "the recording failed" : c.error,
                                           .at = ctx.now}};
          },
      },
      cmd);
}

broadcast broadcast_aggregate::evolve(state s, const event& ev) {
  std::visit(overloaded{
                 [&](const broadcast_started& e) {
                   s = broadcast{.exists = true,
                                 .id = e.id,
                                 .room_id = e.room_id,
                                 .stream_key_id = e.stream_key_id,
                                 .member_id = e.member_id,
                                 .mode = e.mode,
                                 .state = broadcast_state::live,
                                 .started_at = e.at,
                                 .created_at = e.at};
                 },
                 [&](const broadcast_session_opened& e) {
                   s.sessions.push_back(ingest_session{.session_id = e.session_id, .started_at = e.at});
                 },
                 [&](const broadcast_session_closed& e) {
                   for (auto& session : s.sessions)
                     if (session.session_id == e.session_id && !session.ended_at)
                       session.ended_at = e.at;
                 },
                 [&](const broadcast_ended& e) {
                   s.state = broadcast_state::ended;
                   s.ended_at = e.at;
                   s.forced = e.forced;
                   for (auto& session : s.sessions)
                     if (!session.ended_at)
                       session.ended_at = e.at;
                 },
                 [&](const recording_started& e) {
                   s.recording.state = recording_state::recording;
                   s.recording.path = e.path;
                   s.recording.started_at = e.at;
                 },
                 [&](const recording_progressed& e) { take_parts(s.recording, e); },
                 [&](const recording_completed& e) {
                   take_parts(s.recording, e);
                   s.recording.state = recording_state::complete;
                   s.recording.ended_at = e.at;
                 },
                 [&](const recording_failed& e) {
                   take_parts(s.recording, e);
                   s.recording.state = recording_state::failed;
                   s.recording.error = e.error;
                   s.recording.ended_at = e.at;
                 },
             },
             ev);
  s.last_modified_at = std::visit([](const auto& e) { return e.at; }, ev);
  return s;
}

} // namespace onair::domain
