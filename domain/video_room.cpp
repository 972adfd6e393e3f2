#include "domain/video_room.hpp"

#include <algorithm>
#include <cctype>

#include "domain/overloaded.hpp"
#include "domain/validation.hpp"

namespace onair::domain {
namespace {
using events = std::vector<video_room_aggregate::event>;

bool blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
}

error empty_title() {
  return make_error(error_code::empty_video_room_title, "a video room needs a title", "title");
}

std::string describe(const video_room& s) {
  return "video room " + std::to_string(s.id) + " is " + std::string{to_string(s.state)};
}

template <class T>
void set_if_changed(std::optional<T>& out, const std::optional<T>& in, const T& current) {
  if (in && *in != current)
    out = in;
}

} // namespace

video_room video_room_aggregate::initial_state() { return video_room{}; }

result<events> video_room_aggregate::decide(const command& cmd, const state& s, const context& ctx) {
  if (!s.exists && !std::holds_alternative<create_room>(cmd))
    return make_error(error_code::video_room_not_found, "video room not found");

  return std::visit(
      overloaded{
          [&](const create_room& c) -> result<events> {
            if (s.exists)
              return events{};
            if (!c.type)
              return make_error(error_code::empty_video_room_type, "a video room needs a type (BROADCAST_RTMP)",
                                "type");
            if (blank(c.title))
              return empty_title();
            if (!c.scheduled_at)
              return make_error(error_code::empty_video_room_scheduled_at, "a video room needs scheduledAt",
                                "scheduledAt");
            if (auto err = validate_custom_type(c.custom_type))
              return *std::move(err);
            if (auto err = validate_custom_data(c.custom_data))
              return *std::move(err);
            return events{room_created{.id = c.id,
                                       .uuid = ctx.new_uuid,
                                       .public_id = ctx.new_public_id,
                                       .room_type = *c.type,
                                       .title = c.title,
                                       .description = c.description,
                                       .access_level = c.access_level.value_or(access_level::public_),
                                       .member_id = c.member_id,
                                       .app_user_id = c.app_user_id,
                                       .app_user_name = c.app_user_name,
                                       .scheduled_at = *c.scheduled_at,
                                       .custom_type = c.custom_type,
                                       .custom_data = c.custom_data,
                                       .at = ctx.now}};
          },
          [&](const patch_room& c) -> result<events> {
            if (c.title && blank(*c.title))
              return empty_title();
            if (c.custom_type)
              if (auto err = validate_custom_type(*c.custom_type))
                return *std::move(err);
            if (c.custom_data)
              if (auto err = validate_custom_data(*c.custom_data))
                return *std::move(err);
            room_patched ev{.at = ctx.now};
            set_if_changed(ev.title, c.title, s.title);
            set_if_changed(ev.description, c.description, s.description);
            set_if_changed(ev.scheduled_at, c.scheduled_at, s.scheduled_at);
            set_if_changed(ev.custom_type, c.custom_type, s.custom_type);
            set_if_changed(ev.custom_data, c.custom_data, s.custom_data);
            if (!ev.title && !ev.description && !ev.scheduled_at && !ev.custom_type && !ev.custom_data)
              return events{};
            return events{ev};
          },
          [&](const start_live& c) -> result<events> {
            if (is_on_air(s.state) && s.broadcast_id == c.broadcast_id)
              return events{};
            if (s.state != room_state::scheduled)
              return make_error(error_code::video_room_state_not_scheduled,
                                describe(s) + ", only a SCHEDULED room can start live");
            return events{live_started{
                .stream_key_id = c.stream_key_id, .broadcast_id = c.broadcast_id, .mode = c.mode, .at = ctx.now}};
          },
          [&](const publisher_lost&) -> result<events> {
            if (s.state != room_state::live)
              return events{};
            return events{live_paused{.at = ctx.now}};
          },
          [&](const publisher_back&) -> result<events> {
            if (s.state != room_state::live_inactive)
              return events{};
            return events{live_resumed{.at = ctx.now}};
          },
          [&](const end_live& c) -> result<events> {
            switch (s.state) {
            case room_state::ended:
              return events{};
            case room_state::scheduled:
            case room_state::cancelled:
              return make_error(error_code::video_room_state_not_live, describe(s) + ", it is not live");
            case room_state::live:
              if (!c.forced)
                return make_error(error_code::stream_key_state_not_inactive_live,
                                  describe(s) + ": its stream key is still publishing; stop the publisher "
                                                "first, or end it with force=true");
              break;
            case room_state::live_inactive:
              break;
            }
            return events{live_ended{.forced = c.forced, .video_post_id = c.video_post_id, .at = ctx.now}};
          },
          [&](const cancel_room&) -> result<events> {
            if (s.state == room_state::cancelled)
              return events{};
            if (s.state != room_state::scheduled)
              return make_error(error_code::video_room_state_not_scheduled,
                                describe(s) + ", only a SCHEDULED room can be cancelled");
            return events{room_cancelled{.at = ctx.now}};
          },
          [&](const mark_vod_archived& c) -> result<events> {
            if (s.vod_state == vod_state::archived)
              return events{};
            if (s.vod_state != vod_state::archiving)
              return make_error(error_code::video_room_vod_state_not_archiving,
                                "video room " + std::to_string(s.id) + " vodState is " +
                                    std::string{to_string(s.vod_state)} + ", not ARCHIVING");
            return events{vod_archived{.vod_url = c.vod_url, .at = ctx.now}};
          },
          [&](const mark_vod_failed& c) -> result<events> {
            if (s.vod_state == vod_state::failed_archiving)
              return events{};
            if (s.vod_state != vod_state::archiving)
              return make_error(error_code::video_room_vod_state_not_archiving,
                                "video room " + std::to_string(s.id) + " vodState is " +
                                    std::string{to_string(s.vod_state)} + ", not ARCHIVING");
            return events{vod_failed{.code = c.code, .message = c.message, .at = ctx.now}};
          },
          [&](const mark_vod_archiving&) -> result<events> {
            if (s.vod_state == vod_state::archiving)
              return events{};
            if (s.vod_state != vod_state::failed_archiving)
              return make_error(error_code::video_room_vod_state_not_archiving,
                                "video room " + std::to_string(s.id) + " vodState is " +
                                    std::string{to_string(s.vod_state)} + ", not FAILED_ARCHIVING");
            return events{vod_archiving_again{.at = ctx.now}};
          },
      },
      cmd);
}

video_room video_room_aggregate::evolve(state s, const event& ev) {
  std::visit(overloaded{
                 [&](const room_created& e) {
                   s = video_room{.exists = true,
                                  .id = e.id,
                                  .uuid = e.uuid,
                                  .public_id = e.public_id,
                                  .type = e.room_type,
                                  .state = room_state::scheduled,
                                  .vod_state = vod_state::not_archived,
                                  .access_level = e.access_level,
                                  .member_id = e.member_id,
                                  .app_user_id = e.app_user_id,
                                  .app_user_name = e.app_user_name,
                                  .title = e.title,
                                  .description = e.description,
                                  .custom_type = e.custom_type,
                                  .custom_data = e.custom_data,
                                  .scheduled_at = e.scheduled_at,
                                  .created_at = e.at};
                 },
                 [&](const room_patched& e) {
                   if (e.title)
                     s.title = *e.title;
                   if (e.description)
                     s.description = *e.description;
                   if (e.scheduled_at)
                     s.scheduled_at = *e.scheduled_at;
                   if (e.custom_type)
                     s.custom_type = *e.custom_type;
                   if (e.custom_data)
                     s.custom_data = *e.custom_data;
                 },
                 [&](const live_started& e) {
                   s.state = room_state::live;
                   s.stream_key_id = e.stream_key_id;
                   s.broadcast_id = e.broadcast_id;
                   s.mode = e.mode;
                   s.live_started_at = e.at;
                 },
                 [&](const live_paused& e) {
                   s.state = room_state::live_inactive;
                   s.live_paused_at = e.at;
                 },
                 [&](const live_resumed&) {
                   s.state = room_state::live;
                   s.live_paused_at.reset();
                 },
                 [&](const live_ended& e) {
                   s.state = room_state::ended;
                   s.live_paused_at.reset();
                   s.vod_state = vod_state::archiving;
                   s.video_post_id = e.video_post_id;
                   s.live_ended_at = e.at;
                 },
                 [&](const room_cancelled& e) {
                   s.state = room_state::cancelled;
                   s.cancelled_at = e.at;
                 },
                 [&](const vod_archived& e) {
                   s.vod_state = vod_state::archived;
                   s.vod_url = e.vod_url;
                   s.vod_archived_at = e.at;
                   s.vod_error_code.clear();
                   s.vod_error.clear();
                 },
                 [&](const vod_failed& e) {
                   s.vod_state = vod_state::failed_archiving;
                   s.vod_error_code = e.code;
                   s.vod_error = e.message;
                 },
                 [&](const vod_archiving_again&) {
                   s.vod_state = vod_state::archiving;
                   s.vod_error_code.clear();
                   s.vod_error.clear();
                 },
             },
             ev);
  s.last_modified_at = std::visit([](const auto& e) { return e.at; }, ev);
  return s;
}

std::optional<timestamp> reconnect_deadline(const video_room& r, std::int64_t window_s) {
  if (window_s <= 0 || r.state != room_state::live_inactive || !r.live_paused_at)
    return std::nullopt;
  return timestamp{r.live_paused_at->ms + window_s * 1000};
}

} // namespace onair::domain
