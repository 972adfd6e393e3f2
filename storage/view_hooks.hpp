#pragma once
// Per-aggregate extras of the read models: unique lookups and work sets, kept by the projector.
#include "domain/app.hpp"
#include "domain/broadcast.hpp"
#include "domain/video_post.hpp"
#include "domain/flow.hpp"
#include "domain/member.hpp"
#include "domain/stream_key.hpp"
#include "domain/video_room.hpp"
#include "storage/views.hpp"

namespace onair::storage {

template <class A>
struct view_hooks {
  static void apply(domain::app_id, std::string_view, const typename A::state*, const typename A::state&,
                    const typename A::event&, kv_writer&) {}
};

// Apps live in partition 0, keyed by API key (what Basic auth presents).
template <>
struct view_hooks<domain::app_aggregate> {
  static void apply(domain::app_id, std::string_view id, const domain::app* before, const domain::app& after,
                    const domain::app_aggregate::event&, kv_writer& w) {
    if (!before)
      w.put(keys::lookup("app_id", std::to_string(after.id)), encode_located(0, id));
  }
};

// Members are keyed by appUserId; their numeric id is a lookup. A registered member whose
// stream key is not created yet is in the `pending_key` set (finished after a crash).
template <>
struct view_hooks<domain::member_aggregate> {
  static void apply(domain::app_id app, std::string_view id, const domain::member* before,
                    const domain::member& after, const domain::member_aggregate::event& ev, kv_writer& w) {
    if (std::holds_alternative<domain::member_deleted>(ev))
      w.del(keys::set_member("pending_key", app, std::to_string(after.stream_key_id)));
    if (std::holds_alternative<domain::member_registered>(ev)) {
      if (before && before->id != 0)
        w.del(keys::lookup("member_id", encode_located(app, std::to_string(before->id))));
      if (before && before->stream_key_id != 0 && before->stream_key_id != after.stream_key_id)
        w.del(keys::set_member("pending_key", app, std::to_string(before->stream_key_id)));
      w.put(keys::lookup("member_id", encode_located(app, std::to_string(after.id))), encode_located(app, id));
      w.put(keys::set_member("pending_key", app, std::to_string(after.stream_key_id)), std::string{id});
    }
  }
};

// Keys are found by their secret value (ingest) and preview id (playback). Keys with a publisher
// or a live room are in the `active_key` set: after a restart their publishers are gone.
template <>
struct view_hooks<domain::stream_key_aggregate> {
  static void apply(domain::app_id app, std::string_view id, const domain::stream_key* before,
                    const domain::stream_key& after, const domain::stream_key_aggregate::event&, kv_writer& w) {
    if (!before)
      w.del(keys::set_member("pending_key", app, id));
    if (!before || before->value != after.value) {
      if (before && !before->value.empty())
        w.del(keys::lookup("key_value", before->value));
      w.put(keys::lookup("key_value", after.value), encode_located(app, id));
    }
    if (!before || before->preview_id != after.preview_id) {
      if (before && !before->preview_id.empty())
        w.del(keys::lookup("preview", before->preview_id));
      w.put(keys::lookup("preview", after.preview_id), encode_located(app, id));
    }
    if (after.state != domain::key_state::inactive)
      w.put(keys::set_member("active_key", app, id), "");
    else if (before && before->state != domain::key_state::inactive)
      w.del(keys::set_member("active_key", app, id));
  }
};

// Rooms on air (LIVE, LIVE_INACTIVE) are in the `live_room` set (reconciled with their key on
// start); rooms are found by their public playback id.
template <>
struct view_hooks<domain::video_room_aggregate> {
  static void apply(domain::app_id app, std::string_view id, const domain::video_room* before,
                    const domain::video_room& after, const domain::video_room_aggregate::event&, kv_writer& w) {
    if (!before)
      w.put(keys::lookup("room_public", after.public_id), encode_located(app, id));
    const bool on_air = after.state == domain::room_state::live || after.state == domain::room_state::live_inactive;
    if (on_air)
      w.put(keys::set_member("live_room", app, id), "");
    else if (before)
      w.del(keys::set_member("live_room", app, id));
  }
};

// Broadcasts whose recording is (or is about to be) written are in the `open_recording` set: on
// start their recorders take the recordings up again, or finish those whose broadcast ended.
template <>
struct view_hooks<domain::broadcast_aggregate> {
  static void apply(domain::app_id app, std::string_view id, const domain::broadcast*, const domain::broadcast& after,
                    const domain::broadcast_aggregate::event&, kv_writer& w) {
    const auto rec = after.recording.state;
    const bool open = rec == domain::recording_state::recording ||
                      (rec == domain::recording_state::not_started && after.state == domain::broadcast_state::live);
    if (open)
      w.put(keys::set_member("open_recording", app, id), "");
    else
      w.del(keys::set_member("open_recording", app, id));
  }
};

// Video posts are found by id alone (/vod/{videoPostId}/…): the `video_post` lookup names their
// app.
template <>
struct view_hooks<domain::video_post_aggregate> {
  static void apply(domain::app_id app, std::string_view id, const domain::video_post* before,
                    const domain::video_post&, const domain::video_post_aggregate::event&, kv_writer& w) {
    if (!before)
      w.put(keys::lookup("video_post", id), encode_located(app, id));
  }
};

// Flows still running are in the `open_flow` set: the process manager resumes them on start.
template <>
struct view_hooks<domain::flow_aggregate> {
  static void apply(domain::app_id app, std::string_view id, const domain::flow*, const domain::flow& after,
                    const domain::flow_aggregate::event&, kv_writer& w) {
    if (after.status == domain::flow_status::running)
      w.put(keys::set_member("open_flow", app, id), "");
    else
      w.del(keys::set_member("open_flow", app, id));
  }
};

} // namespace onair::storage

#define ONAIR_VIEW_AGGREGATES onair::domain::app_aggregate, onair::domain::member_aggregate, onair::domain::flow_aggregate, \
  onair::domain::stream_key_aggregate, onair::domain::video_room_aggregate, onair::domain::broadcast_aggregate, \
  onair::domain::video_post_aggregate
