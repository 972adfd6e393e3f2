// Member login (server API, Basic) and the member API under /v2/members/me (Bearer access tokens of
// api/tokens.hpp). A member sees and changes only its own rooms: another member's room is not found.
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "api/dto.hpp"
#include "api/member_dto.hpp"
#include "api/post_dto.hpp"
#include "api/rest.hpp"
#include "api/room_dto.hpp"
#include "api/routes.hpp"
#include "api/stream_key_dto.hpp"
#include "api/tokens.hpp"
#include "storage/queries.hpp"
#include "storage/views.hpp"

namespace onair::api {

namespace {

using domain::error_code;
using domain::make_error;

constexpr std::string_view me_path = "/v2/members/me";

// Who a verified token speaks for.
struct principal {
  domain::app app;
  domain::member member;
};

// What a member's Bearer request asks for is recorded as the member's.
domain::provenance member_request(const http_request& req, const principal& p) {
  return provenance_of(req, "member:" + p.member.app_user_id);
}

std::int64_t now_seconds(const rest_context& ctx) { return ctx.rt.svc().time->now().ms / 1000; }

http_response refusal(const domain::error& e) {
  auto r = error_of(e);
  r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"onair\"");
  return r;
}

// A fresh access and refresh token for the member, its stream key value and the member.
json tokens_json(const rest_context& ctx, const domain::app& app, const domain::member& m) {
  const auto now = now_seconds(ctx);
  token_claims c{.api_key = app.api_key,
                 .app_id = app.id,
                 .app_user_id = m.app_user_id,
                 .member_id = m.id,
                 .issued_at = now,
                 .expires_at = now + access_token_lifetime.count(),
                 .kind = token_kind::access};
  const auto access = sign_token(c, app.signing_key);
  c.expires_at = now + refresh_token_lifetime.count();
  c.kind = token_kind::refresh;
  const auto refresh = sign_token(c, app.signing_key);
  json streaming = nullptr;
  auto key = storage::get_view<domain::stream_key_aggregate>(ctx.rt.views(), app.id, std::to_string(m.stream_key_id));
  if (key && key->state.exists && !key->state.revoked)
    streaming = key->state.value;
  return json{{"accessToken", access}, {"refreshToken", refresh}, {"streamingToken", streaming}, {"member", member_json(m)}};
}

// The app and member a token names, once its signature (with that app's key), kind and expiry
// check out and the member is still the one it was issued to (not deleted, not registered anew).
domain::result<principal> resolve(const rest_context& ctx, std::string_view token, token_kind kind) {
  const auto invalid = [](std::string why) { return make_error(error_code::unauthorized, std::move(why)); };
  auto named = peek_token(token);
  if (!named)
    return invalid("malformed token");
  auto app = storage::get_view<domain::app_aggregate>(ctx.rt.views(), 0, named->api_key);
  if (!app || !app->state.exists || app->state.signing_key.empty())
    return invalid("invalid token");
  auto claims = verify_token(token, app->state.signing_key, kind, now_seconds(ctx));
  if (!claims)
    return claims.error();
  if (claims->app_id != app->state.id)
    return invalid("invalid token");
  auto m = storage::get_view<domain::member_aggregate>(ctx.rt.views(), app->state.id, claims->app_user_id);
  if (!m || !m->state.present() || m->state.id != claims->member_id)
    return invalid("the member of this token no longer exists");
  return principal{app->state, m->state};
}

using member_handler = std::function<void(const http_request&, const principal&, responder)>;

// Bearer access token; failures count toward the peer's limit like wrong app secrets do.
http_handler for_member(rest_context& ctx, member_handler h) {
  return [&ctx, h = std::move(h)](const http_request& req, responder respond) {
    if (auto slow_down = throttled(*ctx.auth_failures, req))
      return respond(*std::move(slow_down));
    const auto header = req.header("authorization");
    auto who = header.rfind("Bearer ", 0) == 0
                   ? resolve(ctx, std::string_view{header}.substr(7), token_kind::access)
                   : domain::result<principal>{make_error(error_code::unauthorized,
                                                          "use Authorization: Bearer {accessToken}")};
    if (!who) {
      if (!header.empty())
        count_auth_failure(*ctx.auth_failures, req);
      return respond(refusal(who.error()));
    }
    h(req, *who, std::move(respond));
  };
}

// The room of the path when it is the member's own; anyone else's is not found.
domain::result<storage::versioned<domain::video_room>> load_own_room(const rest_context& ctx, const principal& p,
                                                                    const http_request& req) {
  auto id = path_id(req);
  if (!id)
    return id.error();
  auto room = load_room(ctx, p.app.id, *id);
  if (!room)
    return room.error();
  if (room->state.member_id != p.member.id)
    return make_error(error_code::video_room_not_found, "video room " + std::to_string(*id) + " not found");
  return room;
}

void install_login(http_server& http, rest_context& ctx) {
  http.route("POST", "/v2/apps/me/members/login", [&ctx](const http_request& req, responder respond) {
    auto app = authenticate_app(req, ctx.rt.views(), *ctx.auth_failures, respond, ctx.checked_credentials.get());
    if (!app)
      return;
    auto cmd = parse_body(req.body, parse_upsert);
    if (!cmd)
      return respond(error_of(cmd.error()));
    ctx.rt.upsert_member(app->id, *std::move(cmd), app_request(req, *app),
                         [&ctx, app = *app, respond](domain::result<actors::outcome<domain::member_aggregate>> r) {
                           if (!r)
                             return respond(error_of(r.error()));
                           respond(json_response(200, tokens_json(ctx, app, r->state).dump()));
                         });
  });

  // (beyond) Not in the vendor contract: a refresh token buys a new pair without the app's secret.
  http.route("POST", std::string{me_path} + "/token/refresh", [&ctx](const http_request& req, responder respond) {
    if (auto slow_down = throttled(*ctx.auth_failures, req))
      return respond(*std::move(slow_down));
    auto body = parse_json_object(req.body);
    if (!body)
      return respond(error_of(body.error()));
    std::optional<std::string> token;
    if (auto st = only_fields(*body, {"refreshToken"}); !st)
      return respond(error_of(st.error()));
    if (auto st = read_string(*body, "refreshToken", token, 4096); !st)
      return respond(error_of(st.error()));
    if (!token)
      return respond(error_of(make_error(error_code::invalid_parameter, "refreshToken is required", "refreshToken")));
    auto who = resolve(ctx, *token, token_kind::refresh);
    if (!who) {
      count_auth_failure(*ctx.auth_failures, req);
      return respond(refusal(who.error()));
    }
    respond(json_response(200, tokens_json(ctx, who->app, who->member).dump()));
  });
}

void install_me(http_server& http, rest_context& ctx) {
  const std::string me{me_path};
  const std::string rooms = me + "/video-rooms";

  http.route("GET", me, for_member(ctx, [](const http_request&, const principal& p, responder respond) {
               respond(json_response(200, member_json(p.member).dump()));
             }));

  http.route("GET", me + "/stream-key", for_member(ctx, [&ctx](const http_request&, const principal& p, responder respond) {
               auto k = storage::get_view<domain::stream_key_aggregate>(ctx.rt.views(), p.app.id,
                                                                        std::to_string(p.member.stream_key_id));
               if (!k || !k->state.exists || k->state.revoked)
                 return respond(error_of(make_error(error_code::stream_key_not_found, "stream key not found")));
               auto r = json_response(200, key_json(ctx, p.app, k->state, k->version).dump());
               r.headers.emplace_back("ETag", "\"" + std::to_string(k->version) + "\"");
               respond(std::move(r));
             }));

  http.route("POST", rooms, for_member(ctx, [&ctx, rooms](const http_request& req, const principal& p, responder respond) {
               auto body = parse_json_object(req.body);
               if (!body)
                 return respond(error_of(body.error()));
               (*body)["appUserId"] = p.member.app_user_id; // the owner is the token's member, whatever was sent
               auto cmd = parse_create(*body);
               if (!cmd)
                 return respond(error_of(cmd.error()));
               create_room(ctx, p.app.id, *std::move(cmd), rooms, member_request(req, p), std::move(respond));
             }));

  http.route("GET", rooms, for_member(ctx, [&ctx](const http_request& req, const principal& p, responder respond) {
               auto page = parse_page(req);
               if (!page)
                 return respond(error_of(page.error()));
               auto filter = parse_room_filter(req);
               if (!filter)
                 return respond(error_of(filter.error()));
               filter->app_user_id = p.member.app_user_id;
               const auto app_id = p.app.id;
               auto list = storage::list_rooms(ctx.rt.views(), app_id, *page, *filter);
               auto body = page_json<domain::video_room>(list, *page, [&](const storage::versioned<domain::video_room>& v) {
                 return room_json(ctx, app_id, v.version, v.state);
               });
               respond(json_response(200, body.dump()));
             }));

  http.route("GET", rooms + "/{id}", for_member(ctx, [&ctx](const http_request& req, const principal& p, responder respond) {
               auto room = load_own_room(ctx, p, req);
               if (!room)
                 return respond(error_of(room.error()));
               respond(room_response(ctx, p.app.id, 200, room->version, room->state));
             }));

  http.route("POST", rooms + "/{id}/rtmp-broadcast/state/live",
             for_member(ctx, [&ctx](const http_request& req, const principal& p, responder respond) {
               auto room = load_own_room(ctx, p, req);
               if (!room)
                 return respond(error_of(room.error()));
               start_room_live(ctx, p.app.id, room->state.id, member_request(req, p), std::move(respond));
             }));

  http.route("POST", rooms + "/{id}/rtmp-broadcast/state/ended",
             for_member(ctx, [&ctx](const http_request& req, const principal& p, responder respond) {
               auto room = load_own_room(ctx, p, req);
               if (!room)
                 return respond(error_of(room.error()));
               end_room_live(ctx, p.app.id, room->state.id, req, member_request(req, p), std::move(respond));
             }));

  // (beyond) The member's own video posts.
  const std::string posts = me + "/video-posts";
  http.route("GET", posts, for_member(ctx, [&ctx](const http_request& req, const principal& p, responder respond) {
               auto page = parse_page(req);
               if (!page)
                 return respond(error_of(page.error()));
               const storage::post_filter f{.app_user_id = p.member.app_user_id};
               const auto list = storage::list_posts(ctx.rt.views(), p.app.id, *page, f);
               auto body = page_json<domain::video_post>(list, *page, [&](const auto& v) { return post_json(ctx, v.state); });
               respond(json_response(200, body.dump()));
             }));

  http.route("GET", posts + "/{id}", for_member(ctx, [&ctx](const http_request& req, const principal& p, responder respond) {
               const auto id = path_id(req);
               if (!id)
                 return respond(error_of(id.error()));
               auto post = storage::get_view<domain::video_post_aggregate>(ctx.rt.views(), p.app.id, std::to_string(*id));
               // Another member's post is not found, as a missing one is.
               if (!post || !post->state.present() || post->state.app_user_id != p.member.app_user_id)
                 return respond(error_of(make_error(error_code::video_post_not_found, "video post not found")));
               respond(json_response(200, post_json(ctx, post->state).dump()));
             }));

  http.route("POST", rooms + "/{id}/rtmp-broadcast/state/cancelled",
             for_member(ctx, [&ctx](const http_request& req, const principal& p, responder respond) {
               auto room = load_own_room(ctx, p, req);
               if (!room)
                 return respond(error_of(room.error()));
               cancel_room(ctx, p.app.id, room->state.id, member_request(req, p), std::move(respond));
             }));
}

} // namespace

void install_member_api_routes(http_server& http, rest_context& ctx) {
  install_login(http, ctx);
  install_me(http, ctx);
}

} // namespace onair::api
