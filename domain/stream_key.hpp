#pragma once
// A member's stream key: the state machine of lifecycle.md ("Stream key") plus the key value,
// preview id, output mode, transcoding profile and the current ingest session.
//
// Invariants: `session_id` is set iff a publisher is on (ACTIVE_PREP, ACTIVE, ACTIVE_LIVE,
// ACTIVE_LIVE_PREP); `live_room_id` is set iff the key is in a *_LIVE* state.
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
#include "domain/profiles.hpp"
#include "domain/result.hpp"
#include "domain/time.hpp"

namespace onair::domain {

enum class key_state { inactive, active_prep, active, active_live, inactive_live, active_live_prep };

template <>
struct enum_names<key_state> {
  static constexpr std::array entries{
      std::pair{key_state::inactive, std::string_view{"INACTIVE"}},
      std::pair{key_state::active_prep, std::string_view{"ACTIVE_PREP"}},
      std::pair{key_state::active, std::string_view{"ACTIVE"}},
      std::pair{key_state::active_live, std::string_view{"ACTIVE_LIVE"}},
      std::pair{key_state::inactive_live, std::string_view{"INACTIVE_LIVE"}},
      std::pair{key_state::active_live_prep, std::string_view{"ACTIVE_LIVE_PREP"}},
  };
};

// A publisher is connected: ACTIVE_PREP, ACTIVE, ACTIVE_LIVE, ACTIVE_LIVE_PREP.
[[nodiscard]] constexpr bool has_publisher(key_state s) noexcept {
  return s == key_state::active_prep || s == key_state::active || s == key_state::active_live ||
         s == key_state::active_live_prep;
}
// Attached to a live room: ACTIVE_LIVE, INACTIVE_LIVE, ACTIVE_LIVE_PREP.
[[nodiscard]] constexpr bool is_live(key_state s) noexcept {
  return s == key_state::active_live || s == key_state::inactive_live || s == key_state::active_live_prep;
}
// Play URLs are filled only here (lifecycle.md).
[[nodiscard]] constexpr bool is_viewable(key_state s) noexcept {
  return s == key_state::active || s == key_state::active_live;
}

// What the ingest reports about the current session (api.md `ingest`, beyond the vendor).
struct ingest_info {
  std::string remote_addr{};
  timestamp started_at{};
  std::string video_codec{};
  std::string audio_codec{};
  int width = 0;
  int height = 0;
  double fps = 0;
  int bitrate_kbps = 0;

  static constexpr auto fields() {
    return std::tuple{field("remoteAddr", &ingest_info::remote_addr),
                      field("startedAt", &ingest_info::started_at),
                      field("videoCodec", &ingest_info::video_codec),
                      field("audioCodec", &ingest_info::audio_codec),
                      field("width", &ingest_info::width),
                      field("height", &ingest_info::height),
                      field("fps", &ingest_info::fps),
                      field("bitrateKbps", &ingest_info::bitrate_kbps)};
  }
  friend bool operator==(const ingest_info&, const ingest_info&) = default;
};

// The last media error of the key (api.md `error`); cleared when a publisher connects.
struct key_error {
  std::string code{};
  std::string message{};
  timestamp occurred_at{};

  static constexpr auto fields() {
    return std::tuple{field("code", &key_error::code), field("message", &key_error::message),
                      field("occurredAt", &key_error::occurred_at)};
  }
  friend bool operator==(const key_error&, const key_error&) = default;
};

// ---- state
struct stream_key {
  bool exists = false;
  std::int64_t id = 0;
  std::int64_t member_id = 0;
  std::string app_user_id{};
  key_state state = key_state::inactive;
  std::string value{};        // the secret presented at ingest
  std::string preview_id{};   // playback id of the preview URLs; changes with every reissue
  bool revoked = false;       // member deleted: never publishable again
  output_mode mode = output_mode::rtmp;          // in force (set when a publisher connects)
  std::optional<output_mode> default_mode{};     // the key's own default, if any
  std::int64_t profile_id = default_live_profile_id;
  std::optional<std::int64_t> live_room_id{};
  std::string session_id{};   // current ingest session; empty when no publisher
  std::optional<ingest_info> ingest{};
  std::optional<key_error> error{};
  // RTMP_CMAF: viewable over RTMP and HTTP-FLV only, its CMAF output could not be made (`error`
  // says why). Cleared when the publisher goes.
  bool rtmp_only = false;
  timestamp created_at{};
  timestamp last_modified_at{};

  static constexpr auto fields() {
    return std::tuple{field("exists", &stream_key::exists),
                      field("id", &stream_key::id),
                      field("memberId", &stream_key::member_id),
                      field("appUserId", &stream_key::app_user_id),
                      field("streamKeyState", &stream_key::state),
                      field("streamKey", &stream_key::value),
                      field("previewId", &stream_key::preview_id),
                      field("revoked", &stream_key::revoked),
                      field("mode", &stream_key::mode),
                      field("defaultMode", &stream_key::default_mode),
                      field("profileId", &stream_key::profile_id),
                      field("liveRoomId", &stream_key::live_room_id),
                      field("sessionId", &stream_key::session_id),
                      field("ingest", &stream_key::ingest),
                      field("error", &stream_key::error),
                      field("rtmpOnly", &stream_key::rtmp_only),
                      field("createdAt", &stream_key::created_at),
                      field("lastModifiedAt", &stream_key::last_modified_at)};
  }
  friend bool operator==(const stream_key&, const stream_key&) = default;
};

// ---- commands
// Made with the member (member_registered.stream_key_id). Exists already: no events.
// value = ctx.new_secret, preview_id = ctx.new_public_id.
struct create_key {
  std::int64_t id = 0;
  std::int64_t member_id = 0;
  std::string app_user_id{};
  std::int64_t profile_id = default_live_profile_id;

  static constexpr auto fields() {
    return std::tuple{field("id", &create_key::id), field("memberId", &create_key::member_id),
                      field("appUserId", &create_key::app_user_id), field("profileId", &create_key::profile_id)};
  }
};

// RTMP publish. Mode: requested_mode, else the key's default_mode, else app_default_mode.
struct connect_publisher {
  std::string presented_value{};
  std::optional<output_mode> requested_mode{};
  output_mode app_default_mode = output_mode::rtmp;
  std::string remote_addr{};
  std::string session_id{};

  static constexpr auto fields() {
    return std::tuple{field("presentedValue", &connect_publisher::presented_value),
                      field("requestedMode", &connect_publisher::requested_mode),
                      field("appDefaultMode", &connect_publisher::app_default_mode),
                      field("remoteAddr", &connect_publisher::remote_addr),
                      field("sessionId", &connect_publisher::session_id)};
  }
};

// The stream is viewable in its mode (RTMP: first key frame relayed; CMAF: first segment of
// every rendition written). rtmp_only: an RTMP_CMAF stream whose CMAF output cannot be made is
// viewable over RTMP without it; a later mark without it (the output made after all) upgrades it.
struct mark_viewable {
  std::string session_id{};
  bool rtmp_only = false;

  static constexpr auto fields() {
    return std::tuple{field("sessionId", &mark_viewable::session_id), field("rtmpOnly", &mark_viewable::rtmp_only)};
  }
};

// Publisher gone. Empty session_id: whatever session is on (server restart).
struct disconnect_publisher {
  std::string session_id{};
  std::string reason{};

  static constexpr auto fields() {
    return std::tuple{field("sessionId", &disconnect_publisher::session_id),
                      field("reason", &disconnect_publisher::reason)};
  }
};

struct update_ingest_stats {
  std::string session_id{};
  ingest_info ingest{};

  static constexpr auto fields() {
    return std::tuple{field("sessionId", &update_ingest_stats::session_id),
                      field("ingest", &update_ingest_stats::ingest)};
  }
};

// A media error during the current session (empty session_id: whatever session is on).
struct report_key_error {
  std::string session_id{};
  std::string code{};
  std::string message{};

  static constexpr auto fields() {
    return std::tuple{field("sessionId", &report_key_error::session_id), field("code", &report_key_error::code),
                      field("message", &report_key_error::message)};
  }
};

// Start Live on a room of the owner.
struct attach_live {
  std::int64_t room_id = 0;

  static constexpr auto fields() { return std::tuple{field("roomId", &attach_live::room_id)}; }
};

// End Live (not forced).
struct detach_live {
  std::int64_t room_id = 0;

  static constexpr auto fields() { return std::tuple{field("roomId", &detach_live::room_id)}; }
};

// Forced end (room ?force=true, key force-terminate): publisher cut, key reissued
// (ctx.new_secret, ctx.new_public_id), live room cleared. Idle: no events.
struct force_end {
  std::string reason{};

  static constexpr auto fields() { return std::tuple{field("reason", &force_end::reason)}; }
};

// New value and preview id (ctx.new_secret, ctx.new_public_id); only when INACTIVE.
struct reissue_key {
  static constexpr auto fields() { return std::tuple{}; }
};

// PATCH /stream-keys/{id}: absent = unchanged.
struct change_key_settings {
  std::optional<std::int64_t> profile_id{};
  std::optional<output_mode> default_mode{};

  // Precondition (If-Match): the stream must be at this version when the command is decided. The
  // actor checks it (versions are the store's); it is not part of what the command changes.
  std::optional<std::int64_t> if_version{};

  static constexpr auto fields() {
    return std::tuple{field("profileId", &change_key_settings::profile_id),
                      field("defaultMode", &change_key_settings::default_mode)};
  }
};

// The member is deleted: publisher cut, live room cleared, never publishable again.
struct revoke_key {
  static constexpr auto fields() { return std::tuple{}; }
};

// ---- events
struct key_created {
  static constexpr std::string_view type = "stream_key.created";
  std::int64_t id = 0;
  std::int64_t member_id = 0;
  std::string app_user_id{};
  std::int64_t profile_id = 0;
  std::string value{};
  std::string preview_id{};
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("id", &key_created::id),
                      field("memberId", &key_created::member_id),
                      field("appUserId", &key_created::app_user_id),
                      field("profileId", &key_created::profile_id),
                      field("streamKey", &key_created::value),
                      field("previewId", &key_created::preview_id),
                      field("at", &key_created::at)};
  }
  friend bool operator==(const key_created&, const key_created&) = default;
};

// INACTIVE → ACTIVE_PREP, INACTIVE_LIVE → ACTIVE_LIVE_PREP. room_id: the live room, if any.
struct publisher_connected {
  static constexpr std::string_view type = "stream_key.publisher_connected";
  std::string session_id{};
  output_mode mode = output_mode::rtmp;
  std::string remote_addr{};
  std::optional<std::int64_t> room_id{};
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("sessionId", &publisher_connected::session_id),
                      field("mode", &publisher_connected::mode),
                      field("remoteAddr", &publisher_connected::remote_addr),
                      field("roomId", &publisher_connected::room_id),
                      field("at", &publisher_connected::at)};
  }
  friend bool operator==(const publisher_connected&, const publisher_connected&) = default;
};

// ACTIVE_PREP → ACTIVE, ACTIVE_LIVE_PREP → ACTIVE_LIVE (then the room goes back LIVE).
struct stream_viewable {
  static constexpr std::string_view type = "stream_key.stream_viewable";
  std::string session_id{};
  std::optional<std::int64_t> room_id{};
  bool rtmp_only = false; // absent in events written before it: false
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("sessionId", &stream_viewable::session_id), field("roomId", &stream_viewable::room_id),
                      field("rtmpOnly", &stream_viewable::rtmp_only), field("at", &stream_viewable::at)};
  }
  friend bool operator==(const stream_viewable&, const stream_viewable&) = default;
};

// ACTIVE_PREP, ACTIVE → INACTIVE; ACTIVE_LIVE, ACTIVE_LIVE_PREP → INACTIVE_LIVE (room_id set:
// the room goes LIVE_INACTIVE).
struct publisher_disconnected {
  static constexpr std::string_view type = "stream_key.publisher_disconnected";
  std::string session_id{};
  std::string reason{};
  std::optional<std::int64_t> room_id{};
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("sessionId", &publisher_disconnected::session_id),
                      field("reason", &publisher_disconnected::reason),
                      field("roomId", &publisher_disconnected::room_id),
                      field("at", &publisher_disconnected::at)};
  }
  friend bool operator==(const publisher_disconnected&, const publisher_disconnected&) = default;
};

struct ingest_stats_updated {
  static constexpr std::string_view type = "stream_key.ingest_stats_updated";
  std::string session_id{};
  ingest_info ingest{};
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("sessionId", &ingest_stats_updated::session_id),
                      field("ingest", &ingest_stats_updated::ingest), field("at", &ingest_stats_updated::at)};
  }
  friend bool operator==(const ingest_stats_updated&, const ingest_stats_updated&) = default;
};

struct key_error_reported {
  static constexpr std::string_view type = "stream_key.error_reported";
  std::string session_id{};
  std::string code{};
  std::string message{};
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("sessionId", &key_error_reported::session_id), field("code", &key_error_reported::code),
                      field("message", &key_error_reported::message), field("at", &key_error_reported::at)};
  }
  friend bool operator==(const key_error_reported&, const key_error_reported&) = default;
};

// ACTIVE → ACTIVE_LIVE.
struct live_attached {
  static constexpr std::string_view type = "stream_key.live_attached";
  std::int64_t room_id = 0;
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("roomId", &live_attached::room_id), field("at", &live_attached::at)};
  }
  friend bool operator==(const live_attached&, const live_attached&) = default;
};

// INACTIVE_LIVE → INACTIVE.
struct live_detached {
  static constexpr std::string_view type = "stream_key.live_detached";
  std::int64_t room_id = 0;
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("roomId", &live_detached::room_id), field("at", &live_detached::at)};
  }
  friend bool operator==(const live_detached&, const live_detached&) = default;
};

// any → INACTIVE, key value and preview id reissued, publisher (session_id) cut, room cleared.
struct force_ended {
  static constexpr std::string_view type = "stream_key.force_ended";
  std::string new_value{};
  std::string new_preview_id{};
  bool had_publisher = false;
  std::string session_id{};   // the session cut, empty when none
  std::optional<std::int64_t> room_id{};
  std::string reason{};
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("newStreamKey", &force_ended::new_value),
                      field("newPreviewId", &force_ended::new_preview_id),
                      field("hadPublisher", &force_ended::had_publisher),
                      field("sessionId", &force_ended::session_id),
                      field("roomId", &force_ended::room_id),
                      field("reason", &force_ended::reason),
                      field("at", &force_ended::at)};
  }
  friend bool operator==(const force_ended&, const force_ended&) = default;
};

struct key_reissued {
  static constexpr std::string_view type = "stream_key.reissued";
  std::string new_value{};
  std::string new_preview_id{};
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("newStreamKey", &key_reissued::new_value),
                      field("newPreviewId", &key_reissued::new_preview_id), field("at", &key_reissued::at)};
  }
  friend bool operator==(const key_reissued&, const key_reissued&) = default;
};

// Only the settings that changed are present.
struct key_settings_changed {
  static constexpr std::string_view type = "stream_key.settings_changed";
  std::optional<std::int64_t> profile_id{};
  std::optional<output_mode> default_mode{};
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("profileId", &key_settings_changed::profile_id),
                      field("defaultMode", &key_settings_changed::default_mode),
                      field("at", &key_settings_changed::at)};
  }
  friend bool operator==(const key_settings_changed&, const key_settings_changed&) = default;
};

// → INACTIVE, revoked; publisher (session_id) cut and live room cleared where there were.
struct key_revoked {
  static constexpr std::string_view type = "stream_key.revoked";
  bool had_publisher = false;
  std::string session_id{};
  std::optional<std::int64_t> room_id{};
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("hadPublisher", &key_revoked::had_publisher), field("sessionId", &key_revoked::session_id),
                      field("roomId", &key_revoked::room_id), field("at", &key_revoked::at)};
  }
  friend bool operator==(const key_revoked&, const key_revoked&) = default;
};

// The mode a publish gets: the one it asks for (?mode=), else the key's default, else the app's.
[[nodiscard]] output_mode publish_mode(const stream_key& s, std::optional<output_mode> requested,
                                       output_mode app_default) noexcept;

struct stream_key_aggregate {
  static constexpr std::string_view category = "stream_key";
  using state = stream_key;
  using command = std::variant<create_key, connect_publisher, mark_viewable, disconnect_publisher,
                               update_ingest_stats, report_key_error, attach_live, detach_live, force_end,
                               reissue_key, change_key_settings, revoke_key>;
  using event = std::variant<key_created, publisher_connected, stream_viewable, publisher_disconnected,
                             ingest_stats_updated, key_error_reported, live_attached, live_detached,
                             force_ended, key_reissued, key_settings_changed, key_revoked>;

  static state initial_state();
  static result<std::vector<event>> decide(const command& cmd, const state& s, const context& ctx);
  static state evolve(state s, const event& ev);
};
static_assert(aggregate<stream_key_aggregate>);

} // namespace onair::domain
