#pragma once
// The REST API of api.md, one install function per resource family. Handlers never block the loop:
// they ask actors (or read the views, which are local and consistent with the log) and answer
// through the responder.
#include <string>

#include "actors/runtime.hpp"
#include "api/http_server.hpp"

namespace onair::api {

struct rest_context {
  actors::runtime& rt;
  std::string http_base; // e.g. http://127.0.0.1:8080 (play URLs)
  std::string rtmp_base; // e.g. rtmp://127.0.0.1:1935 (ingest and RTMP play URLs)
};

// /v2/apps/me/members…, /v2/apps/me/stream-keys…, /v2/apps/me/transcoding-profiles…, /v2/apps/me/video-posts…
void install_member_routes(http_server& http, rest_context& ctx);
// /v2/apps/me/video-rooms…
void install_room_routes(http_server& http, rest_context& ctx);

} // namespace onair::api
