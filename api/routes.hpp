#pragma once
// The REST API of api.md, one install function per resource family. Install them on an
// http_server with handler threads (options::handler_threads): handlers read the views (local, and
// consistent with the log) and the log there, off the event loops, ask actors for changes and
// answer through the responder.
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "actors/runtime.hpp"
#include "api/auth_cache.hpp"
#include "api/auth_limiter.hpp"
#include "api/http_server.hpp"

namespace onair::api {

struct rest_context {
  actors::runtime& rt;
  std::string http_base; // e.g. http://127.0.0.1:8080 (play URLs)
  std::string rtmp_base; // e.g. rtmp://127.0.0.1:1935 (ingest and RTMP play URLs)
  std::string vod_dir{}; // {data_dir}/vod: each post's archive in {app}/{videoPostId}/ (empty: none served)
  // Failed authentications per peer, shared by the Basic and Bearer paths.
  std::shared_ptr<auth_limiter> auth_failures = std::make_shared<auth_limiter>();
  // Basic credentials checked lately (saves the view parse and HMAC on a client's next requests).
  std::shared_ptr<auth_cache> checked_credentials = std::make_shared<auth_cache>();
  // More of /metrics from the server's other parts (the Kafka publisher), Prometheus text.
  std::function<std::string()> extra_metrics{};
  // The CMAF video renditions a key's stream has now (empty: none packaged).
  struct rendition {
    int width = 0, height = 0, bitrate_kbps = 0;
  };
  std::function<std::vector<rendition>(domain::app_id, std::int64_t key_id)> cmaf_renditions{};
  // A publishing key's ingest as last measured (live, between the figures recorded as events).
  std::function<std::optional<domain::ingest_info>(domain::app_id, std::int64_t key_id)> live_ingest{};
};

// /v2/apps/me: the app and its settings (GET, PATCH)
void install_app_routes(http_server& http, rest_context& ctx);
// /v2/apps/me/members…, /v2/apps/me/stream-keys…, /v2/apps/me/transcoding-profiles…, /v2/apps/me/video-posts…
void install_member_routes(http_server& http, rest_context& ctx);
// /v2/apps/me/video-rooms…
void install_room_routes(http_server& http, rest_context& ctx);
// /v2/apps/me/events, /v2/apps/me/events/stream (SSE), /metrics (Prometheus)
void install_event_routes(http_server& http, rest_context& ctx);
// /v2/apps/me/members/login, /v2/members/me… (Bearer tokens of api/tokens.hpp)
void install_member_api_routes(http_server& http, rest_context& ctx);
// GET|HEAD /vod/{videoPostId}/{file} and /vod/{videoPostId}/{folder}/{file}: a post's archive
// (ranges, validators, CORS), and /vod/{videoPostId}/thumbnail.jpg?time=S&width=W made on demand.
void install_vod_routes(http_server& http, rest_context& ctx);
// GET /openapi.json (the compiled-in document) and /docs (swagger-ui from web_dir's node_modules,
// read into memory once; no CDN).
void install_docs_routes(http_server& http, const std::string& web_dir);
// GET /console and /console/...: the user console, built by Vite into web_dir/console and read into
// memory once; the app's own routes get its index.html (503 when it is not built).
void install_console_routes(http_server& http, const std::string& web_dir);

// api/web/openapi.json as compiled into this binary.
[[nodiscard]] std::string_view openapi_document();

} // namespace onair::api
