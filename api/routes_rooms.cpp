// /v2/apps/me/video-rooms…: create, list, get, patch, and the broadcast state changes (Start Live,
// End Live, cancel). Reads come from the views; changes go to the room actor or, for Start/End
// Live, through the runtime's flows, and the answer is the room as the views show it afterwards
// (they are written in the same batch as the events, so they already hold the change).
#include <charconv>
#include <optional>
#include <string>
#include <string_view>

#include "api/dto.hpp"
#include "api/rest.hpp"
#include "api/room_dto.hpp"
#include "api/routes.hpp"
#include "domain/validation.hpp"
#include "storage/queries.hpp"
#include "storage/views.hpp"

namespace onair::api {

namespace {

using domain::error_code;
using domain::make_error;
using domain::video_room;
using domain::video_room_aggregate;

constexpr std::string_view base_path = "/v2/apps/me/video-rooms";
constexpr std::size_t max_title_chars = 200;
constexpr std::size_t max_description_chars = 2000;

using room_view = storage::versioned<video_room>;

// Every answer about one room carries its version as the entity tag.
std::string etag_of(std::int64_t version) { return "\"" + std::to_string(version) + "\""; }

using key_view = std::optional<storage::versioned<domain::stream_key>>;

json stream_key_json(const key_view& key) {
  if (!key || !key->state.exists)
    return nullptr;
  return json{{"id", key->state.id}, {"streamKeyState", std::string{domain::to_string(key->state.state)}}};
}

json video_post_json(const rest_context& ctx, domain::app_id app, const video_room& r) {
  if (!r.video_post_id)
    return nullptr;
  auto post = storage::get_view<domain::video_post_aggregate>(ctx.rt.views(), app, std::to_string(*r.video_post_id));
  if (!post || !post->state.present())
    return nullptr;
  return json{{"id", post->state.id},
              {"videoPostState", std::string{domain::to_string(post->state.state)}},
              {"progress", post->state.progress}};
}

json text_or_null(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

// The room's broadcast (the current one, or the last) and its recording: parts, bytes, duration,
// codecs, and the error of a recording that failed.
json broadcast_json(const rest_context& ctx, domain::app_id app, const video_room& r) {
  if (!r.broadcast_id)
    return nullptr;
  auto b = storage::get_view<domain::broadcast_aggregate>(ctx.rt.views(), app, std::to_string(*r.broadcast_id));
  if (!b || !b->state.exists)
    return nullptr;
  const auto& bs = b->state;
  const auto& rec = bs.recording;
  json parts = json::array();
  for (const auto& p : rec.parts)
    parts.push_back(json{{"index", p.index},
                         {"file", p.file},
                         {"videoCodec", text_or_null(p.video_codec)},
                         {"audioCodec", text_or_null(p.audio_codec)},
                         {"width", p.width},
                         {"height", p.height},
                         {"bytes", p.bytes},
                         {"startMs", p.start_ms},
                         {"endMs", p.end_ms}});
  return json{{"id", bs.id},
              {"state", std::string{domain::to_string(bs.state)}},
              {"startedAt", time_json(bs.started_at)},
              {"endedAt", time_json(bs.ended_at)},
              {"forced", bs.forced},
              {"ingestSessions", bs.sessions.size()},
              {"recording", json{{"state", std::string{domain::to_string(rec.state)}},
                                 {"bytes", rec.bytes},
                                 {"durationMs", rec.duration_ms},
                                 {"parts", parts},
                                 {"error", text_or_null(rec.error)},
                                 {"startedAt", time_json(rec.started_at)},
                                 {"endedAt", time_json(rec.ended_at)}}}};
}

} // namespace

json room_json(const rest_context& ctx, domain::app_id app, std::int64_t version, const video_room& r) {
  // The room's key, read once: the answer names it, and it tells whether an RTMP_CMAF stream has
  // its CMAF output.
  const key_view key = r.stream_key_id ? storage::get_view<domain::stream_key_aggregate>(
                                             ctx.rt.views(), app, std::to_string(*r.stream_key_id))
                                       : std::nullopt;
  json rtmp_play = nullptr, flv_play = nullptr, hls_play = nullptr, dash_play = nullptr;
  if (domain::is_on_air(r.state)) {
    auto mode = r.mode.value_or(domain::output_mode::rtmp);
    // RTMP_CMAF whose CMAF output could not be made: RTMP and HTTP-FLV only (the key's error says why).
    if (mode == domain::output_mode::rtmp_cmaf && key && key->state.rtmp_only && key->state.live_room_id == r.id)
      mode = domain::output_mode::rtmp;
    if (mode == domain::output_mode::rtmp || mode == domain::output_mode::rtmp_cmaf) {
      rtmp_play = ctx.rtmp_base + "/play/" + r.public_id;
      flv_play = ctx.http_base + "/play/" + r.public_id + ".flv";
    }
    if (mode == domain::output_mode::cmaf || mode == domain::output_mode::rtmp_cmaf) {
      hls_play = ctx.http_base + "/play/" + r.public_id + "/index.m3u8";
      dash_play = ctx.http_base + "/play/" + r.public_id + "/manifest.mpd";
    }
  }
  const json play = hls_play.is_null() ? flv_play : hls_play;
  json renditions = nullptr;
  if (!hls_play.is_null() && r.stream_key_id && ctx.cmaf_renditions) {
    renditions = json::array();
    for (const auto& r : ctx.cmaf_renditions(app, *r.stream_key_id))
      renditions.push_back(json{{"width", r.width}, {"height", r.height}, {"bitrateKbps", r.bitrate_kbps}});
  }

  return json{{"id", r.id},
              {"uuid", r.uuid},
              {"type", std::string{domain::to_string(r.type)}},
              {"protocol", "RTMP"},
              {"videoRoomState", std::string{domain::to_string(r.state)}},
              {"vodState", std::string{domain::to_string(r.vod_state)}},
              {"vodUrl", r.vod_url.empty() ? json(nullptr)
                                            : json(r.vod_url.front() == '/' ? ctx.http_base + r.vod_url : r.vod_url)},
              {"vodError", r.vod_state == domain::vod_state::failed_archiving
                               ? json{{"code", r.vod_error_code}, {"message", r.vod_error}}
                               : json(nullptr)},
              {"accessLevel", std::string{domain::to_string(r.access_level)}},
              {"member", json{{"id", r.member_id}, {"appUserId", r.app_user_id}, {"appUserName", r.app_user_name}}},
              {"title", r.title},
              {"description", r.description},
              {"customType", r.custom_type},
              {"customData", map_json(r.custom_data)},
              {"scheduledAt", time_json(r.scheduled_at)},
              {"cancelledAt", time_json(r.cancelled_at)},
              {"liveStartedAt", time_json(r.live_started_at)},
              {"liveEndedAt", time_json(r.live_ended_at)},
              {"vodArchivedAt", time_json(r.vod_archived_at)},
              {"streamKey", stream_key_json(key)},
              {"playUrl", play},
              {"rtmpPlayUrl", rtmp_play},
              {"httpFlvPlayUrl", flv_play},
              {"cmafHlsPlayUrl", hls_play},
              {"cmafDashPlayUrl", dash_play},
              {"cmafRenditions", renditions},
              {"videoPost", video_post_json(ctx, app, r)},
              {"broadcast", broadcast_json(ctx, app, r)},
              {"version", version},
              {"createdAt", time_json(r.created_at)},
              {"lastModifiedAt", time_json(r.last_modified_at)}};
}

http_response room_response(const rest_context& ctx, domain::app_id app, int status, std::int64_t version,
                            const video_room& r) {
  auto res = json_response(status, room_json(ctx, app, version, r).dump());
  res.headers.emplace_back("ETag", etag_of(version));
  return res;
}

namespace {

domain::error room_not_found(std::int64_t id) {
  return make_error(error_code::video_room_not_found, "video room " + std::to_string(id) + " not found");
}

} // namespace


domain::result<room_view> load_room(const rest_context& ctx, domain::app_id app, std::int64_t id) {
  auto v = storage::get_view<video_room_aggregate>(ctx.rt.views(), app, std::to_string(id));
  if (!v || !v->state.exists)
    return room_not_found(id);
  return *std::move(v);
}

void respond_current(const rest_context& ctx, domain::app_id app, std::int64_t id, const responder& respond) {
  auto v = load_room(ctx, app, id);
  if (!v)
    return respond(error_of(v.error()));
  respond(room_response(ctx, app, 200, v->version, v->state));
}

namespace {

// Authenticates the app, then runs the handler with it.
http_handler with_app(rest_context& ctx,
                      std::function<void(const http_request&, responder, const domain::app&)> h) {
  return [&ctx, h = std::move(h)](const http_request& req, responder respond) {
    auto app = authenticate_app(req, ctx.rt.views(), *ctx.auth_failures, respond, ctx.checked_credentials.get());
    if (!app)
      return;
    h(req, std::move(respond), *app);
  };
}

// A string field that is present but empty counts as missing for the required-field errors.
bool blank_string(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null())
    return true;
  if (!it->is_string())
    return false;
  const auto& s = it->get_ref<const std::string&>();
  return s.find_first_not_of(" \t\r\n") == std::string::npos;
}

#define ONAIR_TRY(expr)            \
  if (auto st_ = (expr); !st_)     \
    return std::move(st_).error();

} // namespace

// The owner's member id and name are filled in later, from the member's view.
domain::result<domain::create_room> parse_create(const json& body) {
  ONAIR_TRY(only_fields(body, {"type", "title", "description", "accessLevel", "appUserId", "scheduledAt", "customType",
                               "customData"}));
  domain::create_room c;
  if (blank_string(body, "type"))
    return make_error(error_code::empty_video_room_type, "a video room needs a type (BROADCAST_RTMP)", "type");
  ONAIR_TRY(read_enum(body, "type", c.type));
  std::optional<std::string> title, description, app_user_id, custom_type;
  ONAIR_TRY(read_string(body, "title", title, max_title_chars));
  if (!title || blank_string(body, "title"))
    return make_error(error_code::empty_video_room_title, "a video room needs a title", "title");
  c.title = *title;
  ONAIR_TRY(read_string(body, "description", description, max_description_chars));
  c.description = description.value_or("");
  ONAIR_TRY(read_enum(body, "accessLevel", c.access_level));
  ONAIR_TRY(read_string(body, "appUserId", app_user_id));
  if (auto err = domain::validate_app_user_id(app_user_id.value_or("")))
    return *std::move(err);
  c.app_user_id = *app_user_id;
  if (blank_string(body, "scheduledAt"))
    return make_error(error_code::empty_video_room_scheduled_at, "a video room needs scheduledAt", "scheduledAt");
  ONAIR_TRY(read_time(body, "scheduledAt", c.scheduled_at));
  ONAIR_TRY(read_string(body, "customType", custom_type));
  c.custom_type = custom_type.value_or("");
  if (auto err = domain::validate_custom_type(c.custom_type))
    return *std::move(err);
  std::optional<std::map<std::string, std::string>> custom_data;
  ONAIR_TRY(read_string_map(body, "customData", custom_data));
  c.custom_data = custom_data.value_or(std::map<std::string, std::string>{});
  if (auto err = domain::validate_custom_data(c.custom_data))
    return *std::move(err);
  return c;
}

namespace {

domain::result<domain::patch_room> parse_patch(const json& body) {
  ONAIR_TRY(only_fields(body, {"title", "description", "scheduledAt", "customType", "customData"}));
  domain::patch_room p;
  ONAIR_TRY(read_string(body, "title", p.title, max_title_chars));
  if (p.title && blank_string(body, "title"))
    return make_error(error_code::empty_video_room_title, "a video room needs a title", "title");
  ONAIR_TRY(read_string(body, "description", p.description, max_description_chars));
  ONAIR_TRY(read_time(body, "scheduledAt", p.scheduled_at));
  ONAIR_TRY(read_string(body, "customType", p.custom_type));
  if (p.custom_type)
    if (auto err = domain::validate_custom_type(*p.custom_type))
      return *std::move(err);
  ONAIR_TRY(read_string_map(body, "customData", p.custom_data));
  if (p.custom_data)
    if (auto err = domain::validate_custom_data(*p.custom_data))
      return *std::move(err);
  return p;
}

#undef ONAIR_TRY


} // namespace

domain::result<storage::room_filter> parse_room_filter(const http_request& req) {
  storage::room_filter f;
  auto enum_param = [&]<class E>(const char* name, std::optional<E>& out) -> domain::status {
    auto it = req.query.find(name);
    if (it == req.query.end() || it->second.empty())
      return domain::ok_status();
    return read_enum(json{{name, it->second}}, name, out);
  };
  if (auto st = enum_param("videoRoomState", f.state); !st)
    return st.error();
  if (auto st = enum_param("type", f.type); !st)
    return st.error();
  if (auto it = req.query.find("appUserId"); it != req.query.end() && !it->second.empty()) {
    if (auto err = domain::validate_app_user_id(it->second))
      return *std::move(err);
    f.app_user_id = it->second;
  }
  return f;
}

void create_room(rest_context& ctx, domain::app_id app_id, domain::create_room cmd, std::string location_base,
                 domain::provenance who,
                 responder respond) {
  auto owner = storage::get_view<domain::member_aggregate>(ctx.rt.views(), app_id, cmd.app_user_id);
  if (!owner || !owner->state.present())
    return respond(
        error_of(make_error(error_code::member_not_found, "member " + cmd.app_user_id + " not found", "appUserId")));
  cmd.member_id = owner->state.id;
  cmd.app_user_name = owner->state.app_user_name;
  auto id = ctx.rt.next_id();
  if (!id)
    return respond(error_of(id.error()));
  cmd.id = *id;
  ctx.rt.ask<video_room_aggregate>(
      {app_id, std::to_string(*id)}, std::move(cmd), std::move(who),
      [&ctx, app_id, location_base = std::move(location_base),
       respond](domain::result<actors::outcome<video_room_aggregate>> r) {
        if (!r)
          return respond(error_of(r.error()));
        auto res = room_response(ctx, app_id, 201, r->version, r->state);
        res.headers.emplace_back("Location", location_base + "/" + std::to_string(r->state.id));
        respond(std::move(res));
      });
}

void start_room_live(rest_context& ctx, domain::app_id app_id, std::int64_t room_id, domain::provenance who,
                     responder respond) {
  ctx.rt.start_live(app_id, room_id, std::move(who), [&ctx, app_id, room_id, respond](domain::result<domain::flow> r) {
    if (!r)
      return respond(error_of(r.error()));
    respond_current(ctx, app_id, room_id, respond);
  });
}

void end_room_live(rest_context& ctx, domain::app_id app_id, std::int64_t room_id, const http_request& req,
                   domain::provenance who, responder respond) {
  bool force = false;
  if (auto it = req.query.find("force"); it != req.query.end()) {
    if (it->second == "true")
      force = true;
    else if (it->second != "false")
      return respond(error_of(make_error(error_code::invalid_parameter, "force must be true or false", "force")));
  }
  ctx.rt.end_live(app_id, room_id, force, std::move(who), [&ctx, app_id, room_id, respond](domain::result<domain::flow> r) {
    if (!r)
      return respond(error_of(r.error()));
    respond_current(ctx, app_id, room_id, respond);
  });
}

void cancel_room(rest_context& ctx, domain::app_id app_id, std::int64_t room_id, domain::provenance who,
                 responder respond) {
  ctx.rt.cancel_room(app_id, room_id, std::move(who), [&ctx, app_id, respond](domain::result<actors::outcome<video_room_aggregate>> r) {
    if (!r)
      return respond(error_of(r.error()));
    respond(room_response(ctx, app_id, 200, r->version, r->state));
  });
}

void install_room_routes(http_server& http, rest_context& ctx) {
  const std::string base{base_path};

  http.route("POST", base, with_app(ctx, [&ctx](const http_request& req, responder respond, const domain::app& app) {
               auto cmd = parse_body(req.body, parse_create);
               if (!cmd)
                 return respond(error_of(cmd.error()));
               create_room(ctx, app.id, *std::move(cmd), std::string{base_path}, app_request(req, app), std::move(respond));
             }));

  http.route("GET", base, with_app(ctx, [&ctx](const http_request& req, responder respond, const domain::app& app) {
               auto page = parse_page(req);
               if (!page)
                 return respond(error_of(page.error()));
               auto filter = parse_room_filter(req);
               if (!filter)
                 return respond(error_of(filter.error()));
               const auto app_id = app.id;
               auto rooms = storage::list_rooms(ctx.rt.views(), app_id, *page, *filter);
               auto body = page_json<video_room>(rooms, *page, [&](const room_view& v) {
                 return room_json(ctx, app_id, v.version, v.state);
               });
               respond(json_response(200, body.dump()));
             }));

  http.route("GET", base + "/{id}",
             with_app(ctx, [&ctx](const http_request& req, responder respond, const domain::app& app) {
               auto id = path_id(req);
               if (!id)
                 return respond(error_of(id.error()));
               respond_current(ctx, app.id, *id, respond);
             }));

  http.route("PATCH", base + "/{id}",
             with_app(ctx, [&ctx](const http_request& req, responder respond, const domain::app& app) {
               auto id = path_id(req);
               if (!id)
                 return respond(error_of(id.error()));
               auto patch = parse_body(req.body, parse_patch);
               if (!patch)
                 return respond(error_of(patch.error()));
               auto current = load_room(ctx, app.id, *id);
               if (!current)
                 return respond(error_of(current.error()));
               auto want = required_version(req, current->version, "video room");
               if (!want)
                 return respond(error_of(want.error()));
               patch->if_version = *want;
               const auto app_id = app.id;
               ctx.rt.ask<video_room_aggregate>(
                   {app_id, std::to_string(*id)}, *std::move(patch), app_request(req, app),
                   [&ctx, app_id, respond](domain::result<actors::outcome<video_room_aggregate>> r) {
                     if (!r)
                       return respond(error_of(r.error()));
                     respond(room_response(ctx, app_id, 200, r->version, r->state));
                   });
             }));

  // The three state transitions share their preamble: a valid id of a room of this app.
  const auto on_room = [&ctx](auto transition) {
    return with_app(ctx, [&ctx, transition](const http_request& req, responder respond, const domain::app& app) {
      auto id = path_id(req);
      if (!id)
        return respond(error_of(id.error()));
      if (auto current = load_room(ctx, app.id, *id); !current)
        return respond(error_of(current.error()));
      transition(req, std::move(respond), app_request(req, app), app.id, *id);
    });
  };
  http.route("POST", base + "/{id}/rtmp-broadcast/state/live",
             on_room([&ctx](const http_request&, responder respond, domain::provenance who, domain::app_id app,
                            std::int64_t id) {
               start_room_live(ctx, app, id, std::move(who), std::move(respond));
             }));
  http.route("POST", base + "/{id}/rtmp-broadcast/state/ended",
             on_room([&ctx](const http_request& req, responder respond, domain::provenance who, domain::app_id app,
                            std::int64_t id) {
               end_room_live(ctx, app, id, req, std::move(who), std::move(respond));
             }));
  http.route("POST", base + "/{id}/rtmp-broadcast/state/cancelled",
             on_room([&ctx](const http_request&, responder respond, domain::provenance who, domain::app_id app,
                            std::int64_t id) {
               cancel_room(ctx, app, id, std::move(who), std::move(respond));
             }));
}

} // namespace onair::api
