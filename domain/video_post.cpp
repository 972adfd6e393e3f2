#include "domain/video_post.hpp"

#include "domain/overloaded.hpp"

namespace onair::domain {
namespace {
using events = std::vector<video_post_aggregate::event>;

error not_archiving(const video_post& s) {
  return make_error(error_code::video_post_state_not_archiving,
                    "video post " + std::to_string(s.id) + " is " + std::string{to_string(s.state)} +
                        ", not ARCHIVING");
}

} // namespace

video_post video_post_aggregate::initial_state() { return video_post{}; }

result<events> video_post_aggregate::decide(const command& cmd, const state& s, const context& ctx) {
  const bool creating = std::holds_alternative<create_post>(cmd);
  const bool deleting = std::holds_alternative<delete_post>(cmd);
  if (!s.exists && !creating)
    return make_error(error_code::video_post_not_found, "video post not found");
  if (s.deleted && !creating && !deleting)
    return make_error(error_code::video_post_not_found, "video post " + std::to_string(s.id) + " was deleted");

  return std::visit(
      overloaded{
          [&](const create_post& c) -> result<events> {
            if (s.exists)
              return events{};
            return events{post_created{.id = c.id,
                                       .room_id = c.room_id,
                                       .room_title = c.room_title,
                                       .member_id = c.member_id,
                                       .app_user_id = c.app_user_id,
                                       .app_user_name = c.app_user_name,
                                       .title = c.title,
                                       .broadcast_id = c.broadcast_id,
                                       .at = ctx.now}};
          },
          [&](const report_progress& c) -> result<events> {
            if (c.percent < 0 || c.percent > 100)
              return make_error(error_code::invalid_parameter,
                                "progress must be 0 to 100, got " + std::to_string(c.percent), "progress");
            if (s.state != post_state::archiving)
              return not_archiving(s);
            if (c.percent <= s.progress)
              return events{};
            return events{progress_reported{.percent = c.percent, .at = ctx.now}};
          },
          [&](const complete_archive& c) -> result<events> {
            if (s.state == post_state::archived)
              return events{};
            if (s.state != post_state::archiving)
              return not_archiving(s);
            return events{post_archived{.duration_ms = c.duration_ms,
                                        .original = c.original,
                                        .renditions = c.renditions,
                                        .play_url = c.play_url,
                                        .dash_play_url = c.dash_play_url,
                                        .thumbnail_url = c.thumbnail_url,
                                        .at = ctx.now}};
          },
          [&](const fail_archive& c) -> result<events> {
            if (s.state == post_state::failed_archiving)
              return events{};
            if (s.state != post_state::archiving)
              return not_archiving(s);
            return events{post_archiving_failed{.code = c.code, .message = c.message, .at = ctx.now}};
          },
          [&](const start_archive& c) -> result<events> {
            if (s.state != post_state::archiving)
              return not_archiving(s);
            return events{archive_started{.attempt = s.attempts + 1, .worker = c.worker, .at = ctx.now}};
          },
          [&](const retry_archive&) -> result<events> {
            if (s.state == post_state::archiving)
              return events{};
            if (s.state != post_state::failed_archiving)
              return make_error(error_code::video_post_state_not_failed_archiving,
                                "video post " + std::to_string(s.id) + " is " + std::string{to_string(s.state)} +
                                    ", not FAILED_ARCHIVING");
            return events{archive_retried{.at = ctx.now}};
          },
          [&](const delete_post&) -> result<events> {
            if (s.deleted)
              return events{};
            return events{post_deleted{.at = ctx.now}};
          },
      },
      cmd);
}

video_post video_post_aggregate::evolve(state s, const event& ev) {
  std::visit(overloaded{
                 [&](const post_created& e) {
                   s = video_post{.exists = true,
                                  .id = e.id,
                                  .type = post_type::live_recorded,
                                  .state = post_state::archiving,
                                  .progress = 0,
                                  .room_id = e.room_id,
                                  .room_title = e.room_title,
                                  .member_id = e.member_id,
                                  .app_user_id = e.app_user_id,
                                  .app_user_name = e.app_user_name,
                                  .title = e.title,
                                  .broadcast_id = e.broadcast_id,
                                  .created_at = e.at};
                 },
                 [&](const progress_reported& e) { s.progress = e.percent; },
                 [&](const post_archived& e) {
                   s.state = post_state::archived;
                   s.progress = 100;
                   s.duration_ms = e.duration_ms;
                   s.original = e.original;
                   s.renditions = e.renditions;
                   s.play_url = e.play_url;
                   s.dash_play_url = e.dash_play_url;
                   s.thumbnail_url = e.thumbnail_url;
                   s.error_code.clear();
                   s.error.clear();
                   s.archived_at = e.at;
                 },
                 [&](const post_archiving_failed& e) {
                   s.state = post_state::failed_archiving;
                   s.error_code = e.code;
                   s.error = e.message;
                 },
                 [&](const archive_started& e) { s.attempts = e.attempt; },
                 [&](const archive_retried&) {
                   s.state = post_state::archiving;
                   s.progress = 0;
                   s.error_code.clear();
                   s.error.clear();
                 },
                 [&](const post_deleted&) { s.deleted = true; },
             },
             ev);
  s.last_modified_at = std::visit([](const auto& e) { return e.at; }, ev);
  return s;
}

} // namespace onair::domain
