#pragma once
// The lists of api.md over the read models, each with the filters the contract names. Deleted
// members and video posts are never listed.
#include <optional>
#include <string>

#include "domain/member.hpp"
#include "domain/stream_key.hpp"
#include "domain/video_post.hpp"
#include "domain/video_room.hpp"
#include "storage/views.hpp"

namespace onair::storage {

struct member_filter {
  std::optional<std::string> app_user_id_prefix{};
};
struct room_filter {
  std::optional<domain::room_state> state{};
  std::optional<domain::room_type> type{};
  std::optional<std::string> app_user_id{};
};
struct key_filter {
  std::optional<domain::key_state> state{};
};
struct post_filter {
  std::optional<std::int64_t> video_room_id{};
  std::optional<std::string> app_user_id{};
};

[[nodiscard]] page<domain::member> list_members(const kv_reader& r, domain::app_id app, const page_request& req,
                                                const member_filter& f = {});
[[nodiscard]] page<domain::video_room> list_rooms(const kv_reader& r, domain::app_id app, const page_request& req,
                                                  const room_filter& f = {});
[[nodiscard]] page<domain::stream_key> list_keys(const kv_reader& r, domain::app_id app, const page_request& req,
                                                 const key_filter& f = {});
[[nodiscard]] page<domain::video_post> list_posts(const kv_reader& r, domain::app_id app, const page_request& req,
                                                  const post_filter& f = {});

} // namespace onair::storage
