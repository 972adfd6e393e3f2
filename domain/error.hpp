#pragma once
// Every refusal the domain can make, named as in shared/spec/api.md (the vendor's codes first,
// then ours). The HTTP layer maps codes to statuses; the domain knows nothing of HTTP.
#include <cstdint>
#include <string>
#include <string_view>

namespace onair::domain {

#define ONAIR_ERROR_CODES(X)                         \
  X(invalid_app_user_id, "INVALID_APP_USER_ID")      \
  X(custom_type_size_upper_limit_exceeded, "CUSTOM_TYPE_SIZE_UPPER_LIMIT_EXCEEDED") \
  X(custom_data_item_count_upper_limit_exceeded, "CUSTOM_DATA_ITEM_COUNT_UPPER_LIMIT_EXCEEDED") \
  X(custom_data_item_name_size_upper_limit_exceeded, "CUSTOM_DATA_ITEM_NAME_SIZE_UPPER_LIMIT_EXCEEDED") \
  X(custom_data_item_value_size_upper_limit_exceeded, "CUSTOM_DATA_ITEM_VALUE_SIZE_UPPER_LIMIT_EXCEEDED") \
  X(empty_video_room_type, "EMPTY_VIDEO_ROOM_TYPE")  \
  X(empty_video_room_title, "EMPTY_VIDEO_ROOM_TITLE") \
  X(empty_video_room_scheduled_at, "EMPTY_VIDEO_ROOM_SCHEDULED_AT") \
  X(stream_key_state_not_active, "STREAM_KEY_STATE_NOT_ACTIVE") \
  X(stream_key_state_not_inactive_live, "STREAM_KEY_STATE_NOT_INACTIVE_LIVE") \
  X(stream_key_in_use, "STREAM_KEY_IN_USE")          \
  X(stream_key_not_publishable, "STREAM_KEY_NOT_PUBLISHABLE") \
  X(video_room_state_not_scheduled, "VIDEO_ROOM_STATE_NOT_SCHEDULED") \
  X(video_room_state_not_live, "VIDEO_ROOM_STATE_NOT_LIVE") \
  X(member_already_broadcasting, "MEMBER_ALREADY_BROADCASTING") \
  X(request_locked, "REQUEST_LOCKED")                \
  X(version_conflict, "VERSION_CONFLICT")            \
  X(invalid_parameter, "INVALID_PARAMETER")          \
  X(app_not_found, "APP_NOT_FOUND")                  \
  X(member_not_found, "MEMBER_NOT_FOUND")            \
  X(member_deleted, "MEMBER_DELETED")                \
  X(video_room_not_found, "VIDEO_ROOM_NOT_FOUND")    \
  X(stream_key_not_found, "STREAM_KEY_NOT_FOUND")    \
  X(video_post_not_found, "VIDEO_POST_NOT_FOUND")    \
  X(video_post_state_not_archiving, "VIDEO_POST_STATE_NOT_ARCHIVING") \
  X(transcoding_profile_not_found, "TRANSCODING_PROFILE_NOT_FOUND") \
  X(broadcast_not_found, "BROADCAST_NOT_FOUND")      \
  X(broadcast_ended, "BROADCAST_ENDED")              \
  X(unauthorized, "UNAUTHORIZED")                    \
  X(storage_failure, "STORAGE_FAILURE")              \
  X(timeout, "TIMEOUT")                              \
  X(internal, "INTERNAL_ERROR")                      \
  X(video_room_vod_state_not_archiving, "VIDEO_ROOM_VOD_STATE_NOT_ARCHIVING") \
  X(video_post_state_not_failed_archiving, "VIDEO_POST_STATE_NOT_FAILED_ARCHIVING")

enum class error_code : std::uint8_t {
#define ONAIR_X(name, text) name,
  ONAIR_ERROR_CODES(ONAIR_X)
#undef ONAIR_X
};

[[nodiscard]] std::string_view to_string(error_code code) noexcept;
[[nodiscard]] bool from_string(std::string_view text, error_code& out) noexcept;

// A refusal or failure with its cause; `field` names the offending input where there is one.
struct error {
  error_code code = error_code::internal;
  std::string message;
  std::string field;

  friend bool operator==(const error&, const error&) = default;
};

[[nodiscard]] inline error make_error(error_code code, std::string message, std::string field = {}) {
  return error{code, std::move(message), std::move(field)};
}

} // namespace onair::domain
