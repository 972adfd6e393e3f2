// /v2/apps/me (the app and its settings), /v2/apps/me/members…, /stream-keys…, /transcoding-profiles…,
// /video-posts… (api.md).
// Reads come from the views (committed with the events, so a GET after a write sees it); writes
// ask the aggregate (or the process manager for flows) and answer from the outcome's state.
#include <charconv>
#include <functional>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "api/dto.hpp"
#include "api/member_dto.hpp"
#include "api/post_dto.hpp"
#include "api/rest.hpp"
#include "api/routes.hpp"
#include "api/stream_key_dto.hpp"
#include "domain/profiles.hpp"
#include "domain/validation.hpp"
#include "storage/queries.hpp"
#include "storage/views.hpp"

namespace onair::api {

using domain::error_code;
using domain::make_error;

json member_ref_json(std::int64_t id, const std::string& app_user_id, const std::string& app_user_name) {
  return json{{"id", id}, {"appUserId", app_user_id}, {"appUserName", app_user_name}};
}

json member_json(const domain::member& m) {
  return json{{"id", m.id},
              {"state", std::string{domain::to_string(m.state)}},
              {"appUserId", m.app_user_id},
              {"appUserName", m.app_user_name},
              {"appUserProfileImgUrl", m.app_user_profile_img_url},
              {"email", m.email},
              {"customType", m.custom_type},
              {"customData", map_json(m.custom_data)},
              {"createdAt", time_json(m.created_at)},
              {"lastModifiedAt", time_json(m.last_modified_at)}};
}

namespace {

constexpr std::size_t unlimited = std::numeric_limits<std::size_t>::max();

// Stored text came in as JSON, but a body is never worth a throw on the way out.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

http_response json_of(int status, const json& j) { return json_response(status, dump(j)); }

http_response no_content() {
  http_response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

http_response not_found(error_code code, std::string what) { return error_of(make_error(code, std::move(what) + " not found")); }

// The first failed read, if any; every read has run (they only fill optionals).
std::optional<domain::error> first_error(std::initializer_list<domain::status> checks) {
  for (const auto& st : checks)
    if (!st)
      return st.error();
  return std::nullopt;
}

// A query id: a positive decimal integer.
std::optional<std::int64_t> parse_id(const std::string& s) {
  auto v = parse_positive_id(s, "id");
  return v ? std::optional{*v} : std::nullopt;
}

std::optional<std::string> query_value(const http_request& req, const char* name) {
  auto it = req.query.find(name);
  if (it == req.query.end())
    return std::nullopt;
  return it->second;
}

using app_handler = std::function<void(const http_request&, const domain::app&, responder)>;

// Basic auth with the app's key and secret; the handler sees only its app.
http_handler for_app(rest_context& ctx, app_handler h) {
  return [&ctx, h = std::move(h)](const http_request& req, responder respond) {
    auto app = authenticate_app(req, ctx.rt.views(), *ctx.auth_failures, respond, ctx.checked_credentials.get());
    if (!app)
      return;
    h(req, *app, std::move(respond));
  };
}

// ---- reads from the views

std::optional<storage::versioned<domain::member>> load_member(const rest_context& ctx, domain::app_id app,
                                                              const std::string& app_user_id) {
  if (domain::validate_app_user_id(app_user_id))
    return std::nullopt; // no member can have that id
  auto m = storage::get_view<domain::member_aggregate>(ctx.rt.views(), app, app_user_id);
  if (!m || !m->state.present())
    return std::nullopt;
  return m;
}

// A revoked key belonged to a deleted member: it is gone with it.
bool visible(const domain::stream_key& k) { return k.exists && !k.revoked; }

std::optional<storage::versioned<domain::stream_key>> load_key(const rest_context& ctx, domain::app_id app,
                                                               std::int64_t id) {
  auto k = storage::get_view<domain::stream_key_aggregate>(ctx.rt.views(), app, std::to_string(id));
  if (!k || !visible(k->state))
    return std::nullopt;
  return k;
}

// The stream key named by the path's {id}, of this app: else INVALID_PARAMETER or STREAM_KEY_NOT_FOUND.
domain::result<storage::versioned<domain::stream_key>> key_in_path(const rest_context& ctx, domain::app_id app,
                                                                   const http_request& req) {
  const auto id = path_id(req);
  if (!id)
    return id.error();
  auto k = load_key(ctx, app, *id);
  if (!k)
    return make_error(error_code::stream_key_not_found, "stream key not found");
  return *std::move(k);
}

std::optional<storage::versioned<domain::video_post>> load_post(const rest_context& ctx, domain::app_id app,
                                                                std::int64_t id) {
  auto p = storage::get_view<domain::video_post_aggregate>(ctx.rt.views(), app, std::to_string(id));
  if (!p || !p->state.present())
    return std::nullopt;
  return p;
}

// ---- DTOs

} // namespace

json key_json(const rest_context& ctx, const domain::app& app, const domain::stream_key& k, std::int64_t version) {
  const auto& views = ctx.rt.views();
  std::string member_name;
  if (auto m = storage::get_view<domain::member_aggregate>(views, app.id, k.app_user_id); m && m->state.id == k.member_id)
    member_name = m->state.app_user_name;

  json room = nullptr;
  if (k.live_room_id) {
    auto r = storage::get_view<domain::video_room_aggregate>(views, app.id, std::to_string(*k.live_room_id));
    room = json{{"id", *k.live_room_id}, {"title", r ? json(r->state.title) : json(nullptr)}};
  }

  json rtmp_play = nullptr, flv_play = nullptr, hls_play = nullptr, dash_play = nullptr;
  if (domain::is_viewable(k.state)) {
    rtmp_play = ctx.rtmp_base + "/play/" + k.preview_id;
    flv_play = ctx.http_base + "/play/" + k.preview_id + ".flv";
    // RTMP_CMAF whose CMAF output could not be made: its URLs would answer 404 (`error` says why).
    if ((k.mode == domain::output_mode::cmaf || k.mode == domain::output_mode::rtmp_cmaf) && !k.rtmp_only) {
      hls_play = ctx.http_base + "/play/" + k.preview_id + "/index.m3u8";
      dash_play = ctx.http_base + "/play/" + k.preview_id + "/manifest.mpd";
    }
  }

  json renditions = nullptr;
  if (!hls_play.is_null() && ctx.cmaf_renditions) {
    renditions = json::array();
    for (const auto& r : ctx.cmaf_renditions(app.id, k.id))
      renditions.push_back(json{{"width", r.width}, {"height", r.height}, {"bitrateKbps", r.bitrate_kbps}});
  }

  json profile = nullptr;
  if (const auto* p = domain::find_profile(k.profile_id))
    profile = json{{"id", p->id}, {"name", p->name}, {"orientation", std::string{domain::to_string(p->orientation)}}};

  json ingest = nullptr;
  if (k.ingest) {
    // The figures as last measured where the publisher is on this node; the recorded ones else.
    auto measured = *k.ingest;
    if (ctx.live_ingest)
      if (auto live = ctx.live_ingest(app.id, k.id)) {
        measured.video_codec = live->video_codec;
        measured.audio_codec = live->audio_codec;
        measured.width = live->width;
        measured.height = live->height;
        measured.fps = live->fps;
        measured.bitrate_kbps = live->bitrate_kbps;
      }
    ingest = json{{"remoteAddr", measured.remote_addr},
                  {"startedAt", time_json(measured.started_at)},
                  {"videoCodec", measured.video_codec},
                  {"audioCodec", measured.audio_codec},
                  {"width", measured.width},
                  {"height", measured.height},
                  {"fps", measured.fps},
                  {"bitrateKbps", measured.bitrate_kbps}};
  }

  json error = nullptr;
  if (k.error)
    error = json{{"code", k.error->code}, {"message", k.error->message}, {"occurredAt", time_json(k.error->occurred_at)}};

  return json{{"id", k.id},
              {"streamKeyState", std::string{domain::to_string(k.state)}},
              {"member", member_ref_json(k.member_id, k.app_user_id, member_name)},
              {"videoRoom", room},
              {"ingestUrl", ctx.rtmp_base + "/live"},
              {"streamKey", k.value},
              {"mode", std::string{domain::to_string(k.mode)}},
              // The key's own default, else the app's: the mode a publisher without ?mode= gets.
              {"defaultMode", std::string{domain::to_string(k.default_mode.value_or(app.default_mode))}},
              {"profile", profile},
              {"rtmpPlayUrl", rtmp_play},
              {"httpFlvPlayUrl", flv_play},
              {"cmafHlsPlayUrl", hls_play},
              {"cmafDashPlayUrl", dash_play},
              {"cmafRenditions", renditions},
              {"ingest", ingest},
              {"error", error},
              {"version", version},
              {"createdAt", time_json(k.created_at)},
              {"lastModifiedAt", time_json(k.last_modified_at)}};
}

namespace {

http_response key_response(int status, const rest_context& ctx, const domain::app& app, const domain::stream_key& k,
                           std::int64_t version) {
  auto r = json_of(status, key_json(ctx, app, k, version));
  r.headers.emplace_back("ETag", "\"" + std::to_string(version) + "\"");
  return r;
}

// The answer to a command on a key: the key after it (200), or the error.
actors::runtime::callback<domain::stream_key_aggregate> key_answer(const rest_context& ctx, const domain::app& app,
                                                                   responder respond) {
  return [&ctx, app, respond = std::move(respond)](domain::result<actors::outcome<domain::stream_key_aggregate>> r) {
    if (!r)
      return respond(error_of(r.error()));
    respond(key_response(200, ctx, app, r->state, r->version));
  };
}

json profile_json(const domain::transcoding_profile& p) {
  json videos = json::array();
  for (const auto& v : p.video_streams)
    videos.push_back(json{{"width", v.width},
                          {"height", v.height},
                          {"bitrateKbps", v.bitrate_kbps},
                          {"fps", v.fps},
                          {"codec", v.codec}});
  return json{{"id", p.id},
              {"name", p.name},
              {"type", std::string{domain::to_string(p.type)}},
              {"orientation", std::string{domain::to_string(p.orientation)}},
              {"segmentDurationMs", p.segment_duration_ms},
              {"partDurationMs", p.part_duration_ms},
              {"videoStreams", videos},
              {"audioStream", json{{"codec", p.audio.codec},
                                   {"bitrateKbps", p.audio.bitrate_kbps},
                                   {"sampleRate", p.audio.sample_rate},
                                   {"channels", p.audio.channels}}}};
}


// ---- members

// The body fields of upsert and patch; limits beyond the domain's own keep stored text sane.
struct member_fields {
  std::optional<std::string> app_user_name, app_user_profile_img_url, email, custom_type;
  std::optional<std::map<std::string, std::string>> custom_data;
};

std::optional<domain::error> read_member_fields(const json& body, member_fields& f) {
  return first_error({read_string(body, "appUserName", f.app_user_name, 1000),
                      read_string(body, "appUserProfileImgUrl", f.app_user_profile_img_url, 2048),
                      read_string(body, "email", f.email, 320),
                      // The domain names the limit (CUSTOM_TYPE_SIZE_UPPER_LIMIT_EXCEEDED).
                      read_string(body, "customType", f.custom_type, unlimited),
                      read_string_map(body, "customData", f.custom_data)});
}

} // namespace

namespace {

// (beyond) While a post is ARCHIVING, its playUrl plays the recording as it is (the original
// rendition, /vod/{id}/index.m3u8 over the recording's parts) once anything is recorded.
bool recording_playable(const rest_context& ctx, const domain::video_post& p) {
  if (p.state != domain::post_state::archiving)
    return false;
  const auto where = storage::find_by(ctx.rt.views(), "video_post", std::to_string(p.id));
  if (!where)
    return false;
  const auto b = storage::get_view<domain::broadcast_aggregate>(ctx.rt.views(), where->app, std::to_string(p.broadcast_id));
  return b && !b->state.recording.parts.empty();
}

} // namespace

json post_json(const rest_context& ctx, const domain::video_post& p) {
  // URLs are absolute once archived; a relative one is served by this server.
  const auto url = [&](const std::string& u) -> json {
    if (u.empty())
      return nullptr;
    return u.front() == '/' ? json(ctx.http_base + u) : json(u);
  };
  json original = nullptr;
  if (p.original)
    original = json{{"url", url(p.original->url)},
                    {"sizeBytes", p.original->size_bytes},
                    {"width", p.original->width},
                    {"height", p.original->height}};
  json renditions = json::array();
  for (const auto& r : p.renditions)
    renditions.push_back(json{{"width", r.width}, {"height", r.height}, {"bitrateKbps", r.bitrate_kbps}});
  return json{{"id", p.id},
              {"type", std::string{domain::to_string(p.type)}},
              {"videoPostState", std::string{domain::to_string(p.state)}},
              {"progress", p.progress},
              {"videoRoom", json{{"id", p.room_id}, {"title", p.room_title}}},
              {"member", member_ref_json(p.member_id, p.app_user_id, p.app_user_name)},
              {"title", p.title},
              {"durationMs", p.duration_ms},
              {"original", original},
              {"renditions", renditions},
              {"playUrl", p.play_url.empty() && recording_playable(ctx, p) ? url("/vod/" + std::to_string(p.id) + "/index.m3u8")
                                                                           : url(p.play_url)},
              {"dashPlayUrl", url(p.dash_play_url)},
              {"thumbnailUrl", url(p.thumbnail_url)},
              {"createdAt", time_json(p.created_at)},
              {"archivedAt", time_json(p.archived_at)},
              {"error", p.state == domain::post_state::failed_archiving
                            ? json{{"code", p.error_code}, {"message", p.error}}
                            : json(nullptr)}};
}

domain::result<domain::upsert_member> parse_upsert(const json& body) {
  if (auto st = only_fields(body, {"appUserId", "appUserName", "appUserProfileImgUrl", "email", "customType",
                                   "customData"});
      !st)
    return st.error();
  std::optional<std::string> app_user_id;
  member_fields f;
  if (auto err = first_error({read_string(body, "appUserId", app_user_id, unlimited)}))
    return *err;
  if (auto err = read_member_fields(body, f))
    return *err;
  if (!app_user_id)
    return make_error(error_code::invalid_app_user_id, "appUserId is required", "appUserId");
  if (auto err = domain::validate_app_user_id(*app_user_id))
    return *err;
  return domain::upsert_member{.app_user_id = *app_user_id,
                               .app_user_name = std::move(f.app_user_name),
                               .app_user_profile_img_url = std::move(f.app_user_profile_img_url),
                               .email = std::move(f.email),
                               .custom_type = std::move(f.custom_type),
                               .custom_data = std::move(f.custom_data)};
}

namespace {

void install_members(http_server& http, rest_context& ctx) {
  const std::string members = "/v2/apps/me/members";

  http.route("POST", members, for_app(ctx, [&ctx](const http_request& req, const domain::app& app, responder respond) {
    auto cmd = parse_body(req.body, parse_upsert);
    if (!cmd)
      return respond(error_of(cmd.error()));
    ctx.rt.upsert_member(app.id, *std::move(cmd), app_request(req, app),
                         [respond](domain::result<actors::outcome<domain::member_aggregate>> r) {
      if (!r)
        return respond(error_of(r.error()));
      bool created = false;
      for (const auto& ev : r->events)
        created = created || std::holds_alternative<domain::member_registered>(ev);
      respond(json_of(created ? 201 : 200, member_json(r->state)));
    });
  }));

  http.route("GET", members, for_app(ctx, [&ctx](const http_request& req, const domain::app& app, responder respond) {
    auto page = parse_page(req);
    if (!page)
      return respond(error_of(page.error()));
    storage::member_filter f{.app_user_id_prefix = query_value(req, "appUserId")};
    const auto p = storage::list_members(ctx.rt.views(), app.id, *page, f);
    respond(json_of(200, page_json<domain::member>(p, *page, [](const auto& v) { return member_json(v.state); })));
  }));

  http.route("GET", members + "/{appUserId}",
             for_app(ctx, [&ctx](const http_request& req, const domain::app& app, responder respond) {
               auto m = load_member(ctx, app.id, req.params.at("appUserId"));
               if (!m)
                 return respond(not_found(error_code::member_not_found, "member"));
               respond(json_of(200, member_json(m->state)));
             }));

  http.route("PATCH", members + "/{appUserId}",
             for_app(ctx, [&ctx](const http_request& req, const domain::app& app, responder respond) {
               const auto& app_user_id = req.params.at("appUserId");
               auto body = parse_json_object(req.body);
               if (!body)
                 return respond(error_of(body.error()));
               if (auto st = only_fields(*body, {"appUserId", "appUserName", "appUserProfileImgUrl", "email",
                                                 "customType", "customData"});
                   !st)
                 return respond(error_of(st.error()));
               // appUserId is the member's name, not a setting: it may be repeated, never changed.
               std::optional<std::string> same_id;
               if (auto err = first_error({read_string(*body, "appUserId", same_id, unlimited)}))
                 return respond(error_of(*err));
               if (same_id && *same_id != app_user_id)
                 return respond(error_of(make_error(error_code::invalid_parameter,
                                                    "appUserId cannot be changed", "appUserId")));
               member_fields f;
               if (auto err = read_member_fields(*body, f))
                 return respond(error_of(*err));
               if (!load_member(ctx, app.id, app_user_id))
                 return respond(not_found(error_code::member_not_found, "member"));
               domain::patch_member cmd{.app_user_name = std::move(f.app_user_name),
                                        .app_user_profile_img_url = std::move(f.app_user_profile_img_url),
                                        .email = std::move(f.email),
                                        .custom_type = std::move(f.custom_type),
                                        .custom_data = std::move(f.custom_data)};
               ctx.rt.ask<domain::member_aggregate>(
                   actors::address{app.id, app_user_id}, std::move(cmd), app_request(req, app),
                   [respond](domain::result<actors::outcome<domain::member_aggregate>> r) {
                     if (!r)
                       return respond(error_of(r.error()));
                     respond(json_of(200, member_json(r->state)));
                   });
             }));

  http.route("DELETE", members + "/{appUserId}",
             for_app(ctx, [&ctx](const http_request& req, const domain::app& app, responder respond) {
               const auto& app_user_id = req.params.at("appUserId");
               if (!load_member(ctx, app.id, app_user_id))
                 return respond(not_found(error_code::member_not_found, "member"));
               ctx.rt.delete_member(app.id, app_user_id, app_request(req, app), [respond](domain::result<domain::flow> r) {
                 if (!r)
                   return respond(error_of(r.error()));
                 respond(no_content());
               });
             }));

  // Beyond the vendor: the member's personal data erased for good (crypto-shredding, see
  // storage/personal_data.hpp). A present member is deleted first; an erased one answers the same.
  http.route("POST", members + "/{appUserId}/erase",
             for_app(ctx, [&ctx](const http_request& req, const domain::app& app, responder respond) {
               const auto& app_user_id = req.params.at("appUserId");
               if (auto err = domain::validate_app_user_id(app_user_id))
                 return respond(error_of(*err));
               ctx.rt.erase_member(app.id, app_user_id, app_request(req, app),
                                   [respond, app_user_id](domain::result<domain::flow> r) {
                                     if (!r)
                                       return respond(error_of(r.error()));
                                     respond(json_of(200, json{{"appUserId", app_user_id},
                                                               {"erased", true},
                                                               {"erasedAt", domain::to_iso8601(r->last_modified_at)}}));
                                   });
             }));

  http.route("GET", members + "/{appUserId}/stream-key",
             for_app(ctx, [&ctx](const http_request& req, const domain::app& app, responder respond) {
               auto m = load_member(ctx, app.id, req.params.at("appUserId"));
               if (!m)
                 return respond(not_found(error_code::member_not_found, "member"));
               auto k = load_key(ctx, app.id, m->state.stream_key_id);
               if (!k)
                 return respond(not_found(error_code::stream_key_not_found, "stream key"));
               respond(key_response(200, ctx, app, k->state, k->version));
             }));
}

// ---- stream keys

void install_stream_keys(http_server& http, rest_context& ctx) {
  const std::string keys = "/v2/apps/me/stream-keys";

  http.route("GET", keys, for_app(ctx, [&ctx](const http_request& req, const domain::app& app, responder respond) {
    auto page = parse_page(req);
    if (!page)
      return respond(error_of(page.error()));
    std::optional<domain::key_state> state;
    if (auto s = query_value(req, "streamKeyState")) {
      if (auto st = read_enum(json{{"streamKeyState", *s}}, "streamKeyState", state); !st)
        return respond(error_of(st.error()));
    }
    const auto p = storage::list_views<domain::stream_key_aggregate>(
        ctx.rt.views(), app.id, *page,
        [&](const domain::stream_key& k) { return visible(k) && (!state || k.state == *state); });
    respond(json_of(200, page_json<domain::stream_key>(
                             p, *page, [&](const auto& v) { return key_json(ctx, app, v.state, v.version); })));
  }));

  http.route("GET", keys + "/{id}", for_app(ctx, [&ctx](const http_request& req, const domain::app& app, responder respond) {
    auto k = key_in_path(ctx, app.id, req);
    if (!k)
      return respond(error_of(k.error()));
    respond(key_response(200, ctx, app, k->state, k->version));
  }));

  http.route("PATCH", keys + "/{id}", for_app(ctx, [&ctx](const http_request& req, const domain::app& app, responder respond) {
    auto body = parse_json_object(req.body);
    if (!body)
      return respond(error_of(body.error()));
    if (auto st = only_fields(*body, {"profileId", "defaultMode"}); !st)
      return respond(error_of(st.error()));
    domain::change_key_settings cmd;
    if (auto err = first_error({read_int(*body, "profileId", cmd.profile_id),
                                read_enum(*body, "defaultMode", cmd.default_mode)}))
      return respond(error_of(*err));
    auto k = key_in_path(ctx, app.id, req);
    if (!k)
      return respond(error_of(k.error()));
    auto want = required_version(req, k->version, "stream key");
    if (!want)
      return respond(error_of(want.error()));
    cmd.if_version = *want;
    ctx.rt.ask<domain::stream_key_aggregate>(actors::address{app.id, std::to_string(k->state.id)}, std::move(cmd),
                                             app_request(req, app), key_answer(ctx, app, std::move(respond)));
  }));

  http.route("POST", keys + "/{id}/reissue",
             for_app(ctx, [&ctx](const http_request& req, const domain::app& app, responder respond) {
               auto k = key_in_path(ctx, app.id, req);
               if (!k)
                 return respond(error_of(k.error()));
               ctx.rt.ask<domain::stream_key_aggregate>(actors::address{app.id, std::to_string(k->state.id)},
                                                        domain::reissue_key{}, app_request(req, app),
                                                        key_answer(ctx, app, std::move(respond)));
             }));

  http.route("POST", keys + "/{id}/force-terminate",
             for_app(ctx, [&ctx](const http_request& req, const domain::app& app, responder respond) {
               auto k = key_in_path(ctx, app.id, req);
               if (!k)
                 return respond(error_of(k.error()));
               ctx.rt.force_terminate_key(app.id, k->state.id, app_request(req, app),
                                          [respond](domain::result<domain::flow> r) {
                 if (!r)
                   return respond(error_of(r.error()));
                 respond(no_content());
               });
             }));
}

// ---- transcoding profiles (built in, ascending id whatever the sort: they have no history)

void install_profiles(http_server& http, rest_context& ctx) {
  const std::string profiles = "/v2/apps/me/transcoding-profiles";

  http.route("GET", profiles, for_app(ctx, [](const http_request& req, const domain::app&, responder respond) {
    auto page = parse_page(req);
    if (!page)
      return respond(error_of(page.error()));
    storage::page<domain::transcoding_profile> p;
    const auto all = domain::builtin_profiles();
    p.total_elements = static_cast<std::int64_t>(all.size());
    const auto first = static_cast<std::size_t>(page->page) * static_cast<std::size_t>(page->page_size);
    for (std::size_t i = first; i < all.size() && i < first + static_cast<std::size_t>(page->page_size); ++i)
      p.content.push_back({0, all[i]});
    respond(json_of(200, page_json<domain::transcoding_profile>(p, *page,
                                                               [](const auto& v) { return profile_json(v.state); })));
  }));

  http.route("GET", profiles + "/{id}", for_app(ctx, [](const http_request& req, const domain::app&, responder respond) {
    const auto id = path_id(req);
    if (!id)
      return respond(error_of(id.error()));
    const auto* p = domain::find_profile(*id);
    if (!p)
      return respond(not_found(error_code::transcoding_profile_not_found, "transcoding profile"));
    respond(json_of(200, profile_json(*p)));
  }));
}

// ---- the app (/v2/apps/me)

json app_json(const domain::app& a) {
  return json{{"id", a.id},
              {"name", a.name},
              {"createdAt", domain::to_iso8601(a.created_at)},
              {"lastModifiedAt", domain::to_iso8601(a.last_modified_at)},
              {"settings", json{{"defaultMode", std::string{domain::to_string(a.default_mode)}},
                                {"defaultProfileId", a.default_profile_id},
                                {"reconnectWindowSeconds", a.reconnect_window_s}}}};
}


// ---- video posts

void install_posts(http_server& http, rest_context& ctx) {
  const std::string posts = "/v2/apps/me/video-posts";

  http.route("GET", posts, for_app(ctx, [&ctx](const http_request& req, const domain::app& app, responder respond) {
    auto page = parse_page(req);
    if (!page)
      return respond(error_of(page.error()));
    storage::post_filter f{.app_user_id = query_value(req, "appUserId")};
    if (auto room = query_value(req, "videoRoomId")) {
      f.video_room_id = parse_id(*room);
      if (!f.video_room_id)
        return respond(error_of(
            make_error(error_code::invalid_parameter, "videoRoomId must be a positive integer", "videoRoomId")));
    }
    const auto p = storage::list_posts(ctx.rt.views(), app.id, *page, f);
    respond(json_of(200, page_json<domain::video_post>(p, *page, [&](const auto& v) { return post_json(ctx, v.state); })));
  }));

  http.route("GET", posts + "/{id}", for_app(ctx, [&ctx](const http_request& req, const domain::app& app, responder respond) {
    const auto id = path_id(req);
    if (!id)
      return respond(error_of(id.error()));
    auto p = load_post(ctx, app.id, *id);
    if (!p)
      return respond(not_found(error_code::video_post_not_found, "video post"));
    respond(json_of(200, post_json(ctx, p->state)));
  }));

  // A command to the post in the path, answered from its state after it.
  using post_answer = std::function<http_response(const domain::video_post&)>;
  const auto post_command = [&ctx](domain::video_post_aggregate::command cmd, post_answer answer) {
    return for_app(ctx, [&ctx, cmd = std::move(cmd), answer = std::move(answer)](const http_request& req,
                                                                                 const domain::app& app,
                                                                                 responder respond) {
      const auto id = path_id(req);
      if (!id)
        return respond(error_of(id.error()));
      if (!load_post(ctx, app.id, *id))
        return respond(not_found(error_code::video_post_not_found, "video post"));
      ctx.rt.ask<domain::video_post_aggregate>(
          actors::address{app.id, std::to_string(*id)}, cmd, app_request(req, app),
          [respond, answer](domain::result<actors::outcome<domain::video_post_aggregate>> r) {
            if (!r)
              return respond(error_of(r.error()));
            respond(answer(r->state));
          });
    });
  };

  http.route("DELETE", posts + "/{id}", post_command(domain::delete_post{}, [](const auto&) { return no_content(); }));

  // (beyond) A FAILED_ARCHIVING post is archived again from its recording; the archiver takes it
  // up from the event.
  http.route("POST", posts + "/{id}/retry", post_command(domain::retry_archive{}, [&ctx](const domain::video_post& p) {
               return json_of(202, post_json(ctx, p));
             }));
}

} // namespace

void install_app_routes(http_server& http, rest_context& ctx) {
  const std::string me = "/v2/apps/me";

  http.route("GET", me, for_app(ctx, [](const http_request&, const domain::app& app, responder respond) {
               respond(json_response(200, app_json(app).dump()));
             }));

  // {"settings": {defaultMode?, defaultProfileId?, reconnectWindowSeconds?}}: what is given changes.
  http.route("PATCH", me, for_app(ctx, [&ctx](const http_request& req, const domain::app& app, responder respond) {
               auto body = parse_json_object(req.body);
               if (!body)
                 return respond(error_of(body.error()));
               if (auto st = only_fields(*body, {"settings"}); !st)
                 return respond(error_of(st.error()));
               const auto settings = body->find("settings");
               if (settings == body->end() || !settings->is_object())
                 return respond(error_of(
                     make_error(error_code::invalid_parameter, "settings must be an object", "settings")));
               if (auto st = only_fields(*settings, {"defaultMode", "defaultProfileId", "reconnectWindowSeconds"}); !st)
                 return respond(error_of(st.error()));
               domain::change_app_settings cmd;
               if (auto err = first_error({read_enum(*settings, "defaultMode", cmd.default_mode),
                                           read_int(*settings, "defaultProfileId", cmd.default_profile_id),
                                           read_int(*settings, "reconnectWindowSeconds", cmd.reconnect_window_s)}))
                 return respond(error_of(*err));
               ctx.rt.ask<domain::app_aggregate>(
                   actors::address{0, app.api_key}, std::move(cmd), app_request(req, app),
                   [respond](domain::result<actors::outcome<domain::app_aggregate>> r) {
                     if (!r)
                       return respond(error_of(r.error()));
                     respond(json_response(200, app_json(r->state).dump()));
                   });
             }));
}

void install_member_routes(http_server& http, rest_context& ctx) {
  install_members(http, ctx);
  install_stream_keys(http, ctx);
  install_profiles(http, ctx);
  install_posts(http, ctx);
}

} // namespace onair::api
