#pragma once
// The Video Post (LIVE_RECORDED) made on End Live: the archive of the broadcast's recording,
// ARCHIVING (with progress) → ARCHIVED | FAILED_ARCHIVING. Each attempt of the archiver is an
// event (one after a restart resumes the work); progress only rises within an archive, so a
// resumed attempt reports nothing until it passes where the last one was. A failed archive can be
// retried, which starts over from 0.
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
#include "domain/result.hpp"
#include "domain/time.hpp"

namespace onair::domain {

enum class post_state { archiving, archived, failed_archiving };
enum class post_type { live_recorded };

template <>
struct enum_names<post_state> {
  static constexpr std::array entries{
      std::pair{post_state::archiving, std::string_view{"ARCHIVING"}},
      std::pair{post_state::archived, std::string_view{"ARCHIVED"}},
      std::pair{post_state::failed_archiving, std::string_view{"FAILED_ARCHIVING"}},
  };
};

template <>
struct enum_names<post_type> {
  static constexpr std::array entries{std::pair{post_type::live_recorded, std::string_view{"LIVE_RECORDED"}}};
};

// The source as recorded, remuxed.
struct post_original {
  std::string url{};
  std::int64_t size_bytes = 0;
  int width = 0;
  int height = 0;

  static constexpr auto fields() {
    return std::tuple{field("url", &post_original::url), field("sizeBytes", &post_original::size_bytes),
                      field("width", &post_original::width), field("height", &post_original::height)};
  }
  friend bool operator==(const post_original&, const post_original&) = default;
};

struct post_rendition {
  int width = 0;
  int height = 0;
  int bitrate_kbps = 0;

  static constexpr auto fields() {
    return std::tuple{field("width", &post_rendition::width), field("height", &post_rendition::height),
                      field("bitrateKbps", &post_rendition::bitrate_kbps)};
  }
  friend bool operator==(const post_rendition&, const post_rendition&) = default;
};

// ---- state
struct video_post {
  bool exists = false;
  bool deleted = false;
  std::int64_t id = 0;
  post_type type = post_type::live_recorded;
  post_state state = post_state::archiving;
  int progress = 0;   // 0–100 while archiving
  std::int64_t room_id = 0;
  std::string room_title{};
  std::int64_t member_id = 0;
  std::string app_user_id{};
  std::string app_user_name{};
  std::string title{};
  std::int64_t broadcast_id = 0;
  std::int64_t duration_ms = 0;
  std::optional<post_original> original{};
  std::vector<post_rendition> renditions{};
  std::string play_url{};        // HLS
  std::string dash_play_url{};
  std::string thumbnail_url{};
  std::string error_code{};      // why archiving failed: a code …
  std::string error{};           // … and its message
  int attempts = 0;              // archiver runs started on it
  timestamp created_at{};
  std::optional<timestamp> archived_at{};
  timestamp last_modified_at{};

  // Created and not deleted.
  [[nodiscard]] bool present() const noexcept { return exists && !deleted; }

  static constexpr auto fields() {
    return std::tuple{field("exists", &video_post::exists),
                      field("deleted", &video_post::deleted),
                      field("id", &video_post::id),
                      field("type", &video_post::type),
                      field("videoPostState", &video_post::state),
                      field("progress", &video_post::progress),
                      field("roomId", &video_post::room_id),
                      field("roomTitle", &video_post::room_title),
                      field("memberId", &video_post::member_id),
                      field("appUserId", &video_post::app_user_id),
                      field("appUserName", &video_post::app_user_name),
                      field("title", &video_post::title),
                      field("broadcastId", &video_post::broadcast_id),
                      field("durationMs", &video_post::duration_ms),
                      field("original", &video_post::original),
                      field("renditions", &video_post::renditions),
                      field("playUrl", &video_post::play_url),
                      field("dashPlayUrl", &video_post::dash_play_url),
                      field("thumbnailUrl", &video_post::thumbnail_url),
                      field("errorCode", &video_post::error_code),
                      field("error", &video_post::error),
                      field("attempts", &video_post::attempts),
                      field("createdAt", &video_post::created_at),
                      field("archivedAt", &video_post::archived_at),
                      field("lastModifiedAt", &video_post::last_modified_at)};
  }
  friend bool operator==(const video_post&, const video_post&) = default;
};

// ---- commands
// On End Live. Exists already: no events.
struct create_post {
  std::int64_t id = 0;
  std::int64_t room_id = 0;
  std::string room_title{};
  std::int64_t member_id = 0;
  std::string app_user_id{};
  std::string app_user_name{};
  std::string title{};
  std::int64_t broadcast_id = 0;

  static constexpr auto fields() {
    return std::tuple{field("id", &create_post::id),
                      field("roomId", &create_post::room_id),
                      field("roomTitle", &create_post::room_title),
                      field("memberId", &create_post::member_id),
                      field("appUserId", &create_post::app_user_id),
                      field("appUserName", &create_post::app_user_name),
                      field("title", &create_post::title),
                      field("broadcastId", &create_post::broadcast_id)};
  }
};

// 0..100 (else INVALID_PARAMETER "progress"); only rising (else no events); ARCHIVING only.
struct report_progress {
  int percent = 0;

  static constexpr auto fields() { return std::tuple{field("percent", &report_progress::percent)}; }
};

// ARCHIVING → ARCHIVED (ARCHIVED already: no events).
struct complete_archive {
  std::int64_t duration_ms = 0;
  std::optional<post_original> original{};
  std::vector<post_rendition> renditions{};
  std::string play_url{};
  std::string dash_play_url{};
  std::string thumbnail_url{};

  static constexpr auto fields() {
    return std::tuple{field("durationMs", &complete_archive::duration_ms),
                      field("original", &complete_archive::original),
                      field("renditions", &complete_archive::renditions),
                      field("playUrl", &complete_archive::play_url),
                      field("dashPlayUrl", &complete_archive::dash_play_url),
                      field("thumbnailUrl", &complete_archive::thumbnail_url)};
  }
};

// ARCHIVING → FAILED_ARCHIVING (FAILED_ARCHIVING already: no events).
struct fail_archive {
  std::string code{}; // e.g. NOTHING_RECORDED, ARCHIVE_TRANSCODE_FAILED
  std::string message{};

  static constexpr auto fields() {
    return std::tuple{field("code", &fail_archive::code), field("message", &fail_archive::message)};
  }
};

// The archiver begins an attempt (the first, or one resuming after a restart). ARCHIVING only.
struct start_archive {
  std::string worker{}; // which archiver: node and process
  static constexpr auto fields() { return std::tuple{field("worker", &start_archive::worker)}; }
};

// (beyond) FAILED_ARCHIVING → ARCHIVING, progress 0 (ARCHIVING already: no events).
struct retry_archive {
  static constexpr auto fields() { return std::tuple{}; }
};

// (beyond) DELETE. Deleted already: no events; other commands then: VIDEO_POST_NOT_FOUND.
struct delete_post {
  static constexpr auto fields() { return std::tuple{}; }
};

// ---- events
struct post_created {
  static constexpr std::string_view type = "video_post.created";
  std::int64_t id = 0;
  std::int64_t room_id = 0;
  std::string room_title{};
  std::int64_t member_id = 0;
  std::string app_user_id{};
  std::string app_user_name{};
  std::string title{};
  std::int64_t broadcast_id = 0;
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("id", &post_created::id),
                      field("roomId", &post_created::room_id),
                      field("roomTitle", &post_created::room_title),
                      field("memberId", &post_created::member_id),
                      field("appUserId", &post_created::app_user_id),
                      field("appUserName", &post_created::app_user_name),
                      field("title", &post_created::title),
                      field("broadcastId", &post_created::broadcast_id),
                      field("at", &post_created::at)};
  }
  friend bool operator==(const post_created&, const post_created&) = default;
};

struct progress_reported {
  static constexpr std::string_view type = "video_post.progress_reported";
  int percent = 0;
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("percent", &progress_reported::percent), field("at", &progress_reported::at)};
  }
  friend bool operator==(const progress_reported&, const progress_reported&) = default;
};

struct post_archived {
  static constexpr std::string_view type = "video_post.archived";
  std::int64_t duration_ms = 0;
  std::optional<post_original> original{};
  std::vector<post_rendition> renditions{};
  std::string play_url{};
  std::string dash_play_url{};
  std::string thumbnail_url{};
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("durationMs", &post_archived::duration_ms),
                      field("original", &post_archived::original),
                      field("renditions", &post_archived::renditions),
                      field("playUrl", &post_archived::play_url),
                      field("dashPlayUrl", &post_archived::dash_play_url),
                      field("thumbnailUrl", &post_archived::thumbnail_url),
                      field("at", &post_archived::at)};
  }
  friend bool operator==(const post_archived&, const post_archived&) = default;
};

struct post_archiving_failed {
  static constexpr std::string_view type = "video_post.archiving_failed";
  std::string code{};
  std::string message{};
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("code", &post_archiving_failed::code), field("message", &post_archiving_failed::message),
                      field("at", &post_archiving_failed::at)};
  }
  friend bool operator==(const post_archiving_failed&, const post_archiving_failed&) = default;
};

struct archive_started {
  static constexpr std::string_view type = "video_post.archive_started";
  int attempt = 0; // 1, 2, …
  std::string worker{};
  timestamp at{};

  static constexpr auto fields() {
    return std::tuple{field("attempt", &archive_started::attempt), field("worker", &archive_started::worker),
                      field("at", &archive_started::at)};
  }
  friend bool operator==(const archive_started&, const archive_started&) = default;
};

struct archive_retried {
  static constexpr std::string_view type = "video_post.archive_retried";
  timestamp at{};

  static constexpr auto fields() { return std::tuple{field("at", &archive_retried::at)}; }
  friend bool operator==(const archive_retried&, const archive_retried&) = default;
};

struct post_deleted {
  static constexpr std::string_view type = "video_post.deleted";
  timestamp at{};

  static constexpr auto fields() { return std::tuple{field("at", &post_deleted::at)}; }
  friend bool operator==(const post_deleted&, const post_deleted&) = default;
};

struct video_post_aggregate {
  static constexpr std::string_view category = "video_post";
  using state = video_post;
  using command =
      std::variant<create_post, report_progress, complete_archive, fail_archive, start_archive, retry_archive,
                   delete_post>;
  using event = std::variant<post_created, progress_reported, post_archived, post_archiving_failed,
                             archive_started, archive_retried, post_deleted>;

  static state initial_state();
  static result<std::vector<event>> decide(const command& cmd, const state& s, const context& ctx);
  static state evolve(state s, const event& ev);
};
static_assert(aggregate<video_post_aggregate>);

} // namespace onair::domain
