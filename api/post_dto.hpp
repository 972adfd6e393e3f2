#pragma once
// The VideoPost resource of api.md, shared by the app's and the member's routes. Defined in
// api/routes_members.cpp.
#include <nlohmann/json.hpp>

#include "api/routes.hpp"
#include "domain/video_post.hpp"

namespace onair::api {

// VOD URLs are kept relative to the server that serves them; here they become absolute.
[[nodiscard]] nlohmann::json post_json(const rest_context& ctx, const domain::video_post& p);

} // namespace onair::api
