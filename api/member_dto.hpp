#pragma once
// Member JSON of api.md shared by the resources that show a member (stream keys, video rooms,
// video posts), and reading the upsert body. Defined in api/routes_members.cpp.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "domain/member.hpp"
#include "domain/result.hpp"

namespace onair::api {

// {id, appUserId, appUserName}: how other resources refer to their member.
[[nodiscard]] nlohmann::json member_ref_json(std::int64_t id, const std::string& app_user_id,
                                             const std::string& app_user_name);
// The Member resource: id, state, appUserId, appUserName, appUserProfileImgUrl, email, customType,
// customData, createdAt, lastModifiedAt.
[[nodiscard]] nlohmann::json member_json(const domain::member& m);

// The upsert body (POST /members and member login), every field checked and named on error.
[[nodiscard]] domain::result<domain::upsert_member> parse_upsert(const nlohmann::json& body);

} // namespace onair::api
