#pragma once
// A video room: the state machine of lifecycle.md ("Video room") plus its VOD state.
// An ended room is never live again; a cancelled room never goes live.
#include <array>
#include <cstdint>
#include <map>
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

enum class room_state { scheduled, live, live_inactive, ended, cancelled };
enum class vod_state { not_archived, archiving, archived, failed_archiving };
enum class room_type { broadcast_rtmp };
enum class access_level { public_ };

template <>
struct enum_names<room_state> {
  static constexpr std::array entries{
      std::pair{room_state::scheduled, std::string_view{"SCHEDULED"}},
      std::pair{room_state::live, std::string_view{"LIVE"}},
      std::pair{room_state::live_inactive, std::string_view{"LIVE_INACTIVE"}},
      std::pair{room_state::ended, std::string_view{"ENDED"}},
      std::pair{room_state::cancelled, std::string_view{"CANCELLED"}},
  };
};

template <>
struct enum_names<vod_state> {
  static constexpr std::array entries{
      std::pair{vod_state::not_archived, std::string_view{"NOT_ARCHIVED"}},
      std::pair{vod_state::archiving, std::string_view{"ARCHIVING"}},
      std::pair{vod_state::archived, std::string_view{"ARCHIVED"}},
      std::pair{vod_state::failed_archiving, std::string_view{"FAILED_ARCHIVING"}},
  };
};

template <>
struct enum_names<room_type> {
  static constexpr std::array entries{std::pair{room_type::broadcast_rtmp, std::string_view{"BROADCAST_RTMP"}}};
};

template <>
struct enum_names<access_level> {
  static constexpr std::array entries{std::pair{access_level::public_, std::string_view{"PUBLIC"}}};
};

// LIVE or LIVE_INACTIVE: a broadcast is running (play URLs are filled only here).
[[nodiscard]] constexpr bool is_on_air(room_state s) noexcept {
  return s == room_state::live || s == room_state::live_inactive;
}

// ---- state
struct video_room {
  bool exists = false;
  std::int64_t id = 0;
  std::string uuid{};
  std::string public_id{};    // the playback id of the room's play URLs
  room_type type = room_type::broadcast_rtmp;
  room_state state = room_state::scheduled;
  domain::vod_state vod_state = domain::vod_state::not_archived;
  std::string vod_url{};
  domain::access_level access_level = domain::access_level::public_;
  std::int64_t member_id = 0;
  std::string app_user_id{};
  std::string app_user_name{};
  std::string title{};
  std::string description{};
  std::string custom_type{};
  std::map<std::string, std::string> custom_data{};
  timestamp scheduled_at{};
  std::optional<timestamp> cancelled_at{};
  std::optional<timestamp> live_started_at{};
  std::optional<timestamp> live_ended_at{};
  std::optional<timestamp> live_paused_at{}; // while LIVE_INACTIVE: since when
  std::optional<timestamp> vod_archived_at{};
  std::optional<std::int64_t> stream_key_id{};   // set by Start Live, kept after the end
  std::optional<std::int64_t> broadcast_id{};
  std::optional<output_mode> mode{};
  std::optional<std::int64_t> video_post_id{};
  std::string vod_error_code{};
  std::string vod_error{};
  timestamp created_at{};
  timestamp last_modified_at{};

  static constexpr auto fields() {
    return std::tuple{field("exists", &video_room::exists),
                      field("id", &video_room::id),
                      field("uuid", &video_room::uuid),
                      field("publicId", &video_room::public_id),
                      field("type", &video_room::type),
                      field("videoRoomState", &video_room::state),
                      field("vodState", &video_room::vod_state),
                      field("vodUrl", &video_room::vod_url),
                      field("accessLevel", &video_room::access_level),
                      field("memberId", &video_room::member_id),
                      field("appUserId", &video_room::app_user_id),
                      field("appUserName", &video_room::app_user_name),
                      field("title", &video_room::title),
                      field("description", &video_room::description),
                      field("customType", &video_room::custom_type),
                      field("customData", &video_room::custom_data),
                      field("scheduledAt", &video_room::scheduled_at),
                      field("cancelledAt", &video_room::cancelled_at),
                      field("liveStartedAt", &video_room::live_started_at),
                      field("liveEndedAt", &video_room::live_ended_at),
                      field("livePausedAt", &video_room::live_paused_at),
                      field("vodArchivedAt", &video_room::vod_archived_at),
                      field("streamKeyId", &video_room::stream_key_id),
                      field("broadcastId", &video_room::broadcast_id),
                      field("mode", &video_room::mode),
                      field("videoPostId", &video_room::video_post_id),
                      field("vodErrorCode", &video_room::vod_error_code),
                      field("vodError", &video_room::vod_error),
                      field("createdAt", &video_room::created_at),
                      field("lastModifiedAt", &video_room::last_modified_at)};
  }
  friend bool operator==(const video_room&, const video_room&) = default;
};

// ---- commands
// uuid = ctx.new_uuid, public_id = ctx.new_public_id. Exists already: no events.
struct create_room {
  std::int64_t id = 0;
  std::optional<room_type> type{};                    // missing: EMPTY_VIDEO_ROOM_TYPE
  std::string title{};                                // empty: EMPTY_VIDEO_ROOM_TITLE
  std::string description{};
  std::optional<domain::access_level> access_level{}; // missing: PUBLIC
  std::int64_t member_id = 0;
  std::string app_user_id{};
  std::string app_user_name{};
  std::optional<timestamp> scheduled_at{};            // missing: EMPTY_VIDEO_ROOM_SCHEDULED_AT
  std::string custom_type{};
  std::map<std::string, std::string> custom_data{};

  static constexpr auto fields() {
    return std::tuple{field("id", &create_room::id),
                      field("type", &create_room::type),
                      field("title", &create_room::title),
                      field("description", &create_room::description),
                      field("accessLevel", &create_room::access_level),
                      field("memberId", &create_room::member_id),
                      field("appUserId", &create_room::app_user_id),
                      field("appUserName", &create_room::app_user_name),
                      field("scheduledAt", &create_room::scheduled_at),
                      field("customType", &create_room::custom_type),
                      field("customData", &create_room::custom_data)};
  }
};

// PATCH: absent = unchanged; nothing changed = no events.
struct patch_room {
  std::optional<std::string> title{};
  std::optional<std::string> description{};
  std::optional<timestamp> scheduled_at{};
  std::optional<std::string> custom_type{};
  std::optional<std::map<std::string, std::string>> custom_data{};

  // Precondition (If-Match): the stream must be at this version when the command is decided. The
  // actor checks it (versions are the store's); it is not part of what the command changes.
  std::optional<std::int64_t> if_version{};

  static constexpr auto fields() {
    return std::tuple{field("title", &patch_room::title),
                      field("description", &patch_room::description),
                      field("scheduledAt", &patch_room::scheduled_at),
                      field("customType", &patch_room::custom_type),
                      field("customData", &patch_room::custom_data)};
  }
};

// Start Live (the key was checked ACTIVE and attached first): SCHEDULED → LIVE.
struct start_live {
  std::int64_t stream_key_id = 0;
  std::int64_t broadcast_id = 0;
  output_mode mode = output_mode::rtmp;

  static constexpr auto fields() {
    return std::tuple{field("streamKeyId", &start_live::stream_key_id),
                      field("broadcastId", &start_live::broadcast_id), field("mode", &start_live::mode)};
  }
};

// Key → INACTIVE_LIVE: LIVE → LIVE_INACTIVE.
struct publisher_lost {
  static constexpr auto fields() { return std::tuple{}; }
};

// Key → ACTIVE_LIVE: LIVE_INACTIVE → LIVE.
struct publisher_back {
  static constexpr auto fields() { return std::tuple{}; }
};

// End Live: LIVE_INACTIVE (or, forced, LIVE) → ENDED with vodState ARCHIVING.
struct end_live {
  bool forced = false;
  std::int64_t video_post_id = 0;

  static constexpr auto fields() {
    return std::tuple{field("forced", &end_live::forced), field("videoPostId", &end_live::video_post_id)};
  }
};

// SCHEDULED → CANCELLED.
struct cancel_room {
  static constexpr auto fields() { return std::tuple{}; }
};

// vodState ARCHIVING → ARCHIVED.
struct mark_vod_archived {
  std::string vod_url{};

  static constexpr auto fields() { return std::tuple{field("vodUrl", &mark_vod_archived::vod_url)}; }
};

// vodState ARCHIVING → FAILED_ARCHIVING.
struct mark_vod_failed {
  std::string code{};
  std::string message{};

  static constexpr auto fields() {
    return std::tuple{field("code", &mark_vod_failed::code), field("message", &mark_vod_failed::message)};
  }
};

// vodState FAILED_ARCHIVING → ARCHIVING: its video post's archive is retried (ARCHIVING already:
// no events).
struct mark_vod_archiving {
  static constexpr auto fields() { return std::tuple{}; }
};

// ---- events
struct room_created {
  static constexpr std::string_view type = "video_room.created";
  std::int64_t id = 0;
  std::string uuid{};
  std::string public_id{};
  domain::room_type room_type = domain::room_type::broadcast_rtmp;
  std::string title{};
  std::string description{};
  domain::access_level access_level = domain::access_level::public_;
  std::int64_t member_id = 0;
  std::string app_user_id{};
  std::string app_user_name{};
  timestamp scheduled_at{};
  std::string custom_type{};
  std::map<std::string, std::string> custom_data{};
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("id", &room_created::id),
                      field("uuid", &room_created::uuid),
                      field("publicId", &room_created::public_id),
                      field("roomType", &room_created::room_type),
                      field("title", &room_created::title),
                      field("description", &room_created::description),
                      field("accessLevel", &room_created::access_level),
                      field("memberId", &room_created::member_id),
                      field("appUserId", &room_created::app_user_id),
                      field("appUserName", &room_created::app_user_name),
                      field("scheduledAt", &room_created::scheduled_at),
                      field("customType", &room_created::custom_type),
                      field("customData", &room_created::custom_data),
                      field("at", &room_created::at)};
  }
  friend bool operator==(const room_created&, const room_created&) = default;
};

// Only the fields that changed are present.
struct room_patched {
  static constexpr std::string_view type = "video_room.patched";
  std::optional<std::string> title{};
  std::optional<std::string> description{};
  std::optional<timestamp> scheduled_at{};
  std::optional<std::string> custom_type{};
  std::optional<std::map<std::string, std::string>> custom_data{};
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("title", &room_patched::title),
                      field("description", &room_patched::description),
                      field("scheduledAt", &room_patched::scheduled_at),
                      field("customType", &room_patched::custom_type),
                      field("customData", &room_patched::custom_data),
                      field("at", &room_patched::at)};
  }
  friend bool operator==(const room_patched&, const room_patched&) = default;
};

// SCHEDULED → LIVE.
struct live_started {
  static constexpr std::string_view type = "video_room.live_started";
  std::int64_t stream_key_id = 0;
  std::int64_t broadcast_id = 0;
  output_mode mode = output_mode::rtmp;
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("streamKeyId", &live_started::stream_key_id),
                      field("broadcastId", &live_started::broadcast_id), field("mode", &live_started::mode),
                      field("at", &live_started::at)};
  }
  friend bool operator==(const live_started&, const live_started&) = default;
};

// LIVE → LIVE_INACTIVE (publisher lost).
struct live_paused {
  static constexpr std::string_view type = "video_room.live_paused";
  timestamp at{};

  static constexpr auto fields() { return std::tuple{field("at", &live_paused::at)}; }
  friend bool operator==(const live_paused&, const live_paused&) = default;
};

// LIVE_INACTIVE → LIVE (publisher back and viewable).
struct live_resumed {
  static constexpr std::string_view type = "video_room.live_resumed";
  timestamp at{};

  static constexpr auto fields() { return std::tuple{field("at", &live_resumed::at)}; }
  friend bool operator==(const live_resumed&, const live_resumed&) = default;
};

// LIVE_INACTIVE (or forced: LIVE) → ENDED, vodState → ARCHIVING.
struct live_ended {
  static constexpr std::string_view type = "video_room.live_ended";
  bool forced = false;
  std::int64_t video_post_id = 0;
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("forced", &live_ended::forced), field("videoPostId", &live_ended::video_post_id),
                      field("at", &live_ended::at)};
  }
  friend bool operator==(const live_ended&, const live_ended&) = default;
};

// SCHEDULED → CANCELLED.
struct room_cancelled {
  static constexpr std::string_view type = "video_room.cancelled";
  timestamp at{};

  static constexpr auto fields() { return std::tuple{field("at", &room_cancelled::at)}; }
  friend bool operator==(const room_cancelled&, const room_cancelled&) = default;
};

// vodState ARCHIVING → ARCHIVED.
struct vod_archived {
  static constexpr std::string_view type = "video_room.vod_archived";
  std::string vod_url{};
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("vodUrl", &vod_archived::vod_url), field("at", &vod_archived::at)};
  }
  friend bool operator==(const vod_archived&, const vod_archived&) = default;
};

// vodState ARCHIVING → FAILED_ARCHIVING.
struct vod_failed {
  static constexpr std::string_view type = "video_room.vod_failed";
  std::string code{};
  std::string message{};
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("code", &vod_failed::code), field("message", &vod_failed::message),
                      field("at", &vod_failed::at)};
  }
  friend bool operator==(const vod_failed&, const vod_failed&) = default;
};

// vodState FAILED_ARCHIVING → ARCHIVING.
struct vod_archiving_again {
  static constexpr std::string_view type = "video_room.vod_archiving_again";
  timestamp at{};

  static constexpr auto fields() { return std::tuple{field("at", &vod_archiving_again::at)}; }
  friend bool operator==(const vod_archiving_again&, const vod_archiving_again&) = default;
};

struct video_room_aggregate {
  static constexpr std::string_view category = "video_room";
  using state = video_room;
  using command = std::variant<create_room, patch_room, start_live, publisher_lost, publisher_back, end_live,
                               cancel_room, mark_vod_archived, mark_vod_failed, mark_vod_archiving>;
  using event = std::variant<room_created, room_patched, live_started, live_paused, live_resumed, live_ended,
                             room_cancelled, vod_archived, vod_failed, vod_archiving_again>;

  static state initial_state();
  static result<std::vector<event>> decide(const command& cmd, const state& s, const context& ctx);
  static state evolve(state s, const event& ev);
};
static_assert(aggregate<video_room_aggregate>);

// (beyond) When a room LIVE_INACTIVE ends itself under its app's reconnect window (seconds; 0:
// never): its pause plus the window. Nothing for a room not LIVE_INACTIVE or a window off.
[[nodiscard]] std::optional<timestamp> reconnect_deadline(const video_room& r, std::int64_t window_s);

} // namespace onair::domain
