#pragma once
// The VideoRoom resource and the room operations that both the server API (/v2/apps/me/video-rooms)
// and the member API (/v2/members/me/video-rooms) offer. Defined in api/routes_rooms.cpp.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "api/http_server.hpp"
#include "api/routes.hpp"
#include "domain/video_room.hpp"
#include "storage/queries.hpp"
#include "storage/views.hpp"

namespace onair::api {

// The VideoRoom of api.md.
[[nodiscard]] nlohmann::json room_json(const rest_context& ctx, domain::app_id app, std::int64_t version,
                                       const domain::video_room& r);
// room_json with the version as ETag.
[[nodiscard]] http_response room_response(const rest_context& ctx, domain::app_id app, int status,
                                          std::int64_t version, const domain::video_room& r);

// The room of this app, from the views; another app's room is not found.
[[nodiscard]] domain::result<storage::versioned<domain::video_room>> load_room(const rest_context& ctx,
                                                                               domain::app_id app, std::int64_t id);
// Answers with the room as the views show it now (after a flow changed it).
void respond_current(const rest_context& ctx, domain::app_id app, std::int64_t id, const responder& respond);

// The create_room command from a POST body, every field checked and named on error.
[[nodiscard]] domain::result<domain::create_room> parse_create(const nlohmann::json& body);
// videoRoomState, type, appUserId from the query.
[[nodiscard]] domain::result<storage::room_filter> parse_room_filter(const http_request& req);

// Creates the room for its owner (cmd.app_user_id, who must be a member); 201 with Location
// `location_base/{id}`.
// `who` asks (an app or a member: api/rest.hpp provenance_of).
void create_room(rest_context& ctx, domain::app_id app, domain::create_room cmd, std::string location_base,
                 domain::provenance who, responder respond);
// Start Live, End Live (reads ?force=), cancel: the room as it is afterwards. The caller has
// checked the room is one the requester may change.
void start_room_live(rest_context& ctx, domain::app_id app, std::int64_t room_id, domain::provenance who,
                     responder respond);
void end_room_live(rest_context& ctx, domain::app_id app, std::int64_t room_id, const http_request& req,
                   domain::provenance who, responder respond);
void cancel_room(rest_context& ctx, domain::app_id app, std::int64_t room_id, domain::provenance who,
                 responder respond);

} // namespace onair::api
