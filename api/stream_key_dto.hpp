#pragma once
// The StreamKey resource of api.md, shown by the server API and the member API. Defined in
// api/routes_members.cpp.
#include <cstdint>

#include <nlohmann/json.hpp>

#include "api/routes.hpp"
#include "domain/app.hpp"
#include "domain/stream_key.hpp"

namespace onair::api {

[[nodiscard]] nlohmann::json key_json(const rest_context& ctx, const domain::app& app, const domain::stream_key& k,
                                      std::int64_t version);

} // namespace onair::api
