#pragma once
// What every REST handler shares: authentication, the error body of api.md with the right status,
// paging parameters and the page envelope, JSON body parsing.
#include <functional>
#include <optional>
#include <string_view>
#include <string>

#include <nlohmann/json.hpp>

#include "api/http_server.hpp"
#include "domain/app.hpp"
#include "domain/provenance.hpp"
#include "storage/views.hpp"

namespace onair::api {

using nlohmann::json;

class auth_cache;
class auth_limiter;

[[nodiscard]] int http_status_of(domain::error_code code);

// The provenance of what a request asks for (stored with every event it causes): `principal`
// ("app:{apiKey}", "member:{appUserId}", "operator"), the client's address and User-Agent, and the
// request id, which also correlates and causes what follows.
[[nodiscard]] domain::provenance provenance_of(const http_request& req, std::string principal);
[[nodiscard]] inline domain::provenance app_request(const http_request& req, const domain::app& app) {
  return provenance_of(req, "app:" + app.api_key);
}
[[nodiscard]] http_response error_of(const domain::error& e);

// The app named by `Authorization: Basic base64(apiKey:apiSecret)`, the secret checked in constant
// time against its salted hash; otherwise the 401 to send. With `checked`, a check that passed
// lately against the same stored app is reused (api/auth_cache.hpp).
[[nodiscard]] domain::result<domain::app> authenticate_app(const http_request& req, const storage::kv_reader& views,
                                                           auth_cache* checked = nullptr);

// Repeated failures from one peer address are slowed down (api/auth_limiter.hpp). `throttled` is
// the 429 (with Retry-After) to send before even trying; `count_auth_failure` records a failure
// (callers skip requests that presented no credentials at all: those guess nothing).
[[nodiscard]] std::optional<http_response> throttled(auth_limiter& limiter, const http_request& req);
void count_auth_failure(auth_limiter& limiter, const http_request& req);

// authenticate_app behind the limiter: the app, or nothing once `respond` has been given the 401
// (with WWW-Authenticate) or the 429.
[[nodiscard]] std::optional<domain::app> authenticate_app(const http_request& req, const storage::kv_reader& views,
                                                          auth_limiter& limiter, const responder& respond,
                                                          auth_cache* checked = nullptr);

// page, pageSize (1..100, default 20), sortBy (CREATED_AT_DESC default); bad values name the field.
[[nodiscard]] domain::result<storage::page_request> parse_page(const http_request& req);

// {content, totalElements, totalPages, number, size, numberOfElements, first, last, empty}
template <class State>
json page_json(const storage::page<State>& p, const storage::page_request& req,
               const std::function<json(const storage::versioned<State>&)>& item) {
  json content = json::array();
  for (const auto& v : p.content)
    content.push_back(item(v));
  const auto total_pages = (p.total_elements + req.page_size - 1) / req.page_size;
  return json{{"content", content},
              {"totalElements", p.total_elements},
              {"totalPages", total_pages},
              {"number", req.page},
              {"size", req.page_size},
              {"numberOfElements", p.content.size()},
              {"first", req.page == 0},
              {"last", req.page + 1 >= total_pages},
              {"empty", p.content.empty()}};
}

// An id: a positive decimal integer, else INVALID_PARAMETER naming `field`.
[[nodiscard]] domain::result<std::int64_t> parse_positive_id(std::string_view text, const std::string& field);
// The route's {id} path parameter as such an id (malformed ids answer 400 on every resource).
[[nodiscard]] domain::result<std::int64_t> path_id(const http_request& req);

// If-Match: `*`, or a list of entity tags (weak ones compared by value); absent: no condition.
// Does `version` (the resource's ETag "N") satisfy it?
[[nodiscard]] bool if_match_allows(const http_request& req, std::int64_t version);
// If-Match against the resource's current version (from the view): VERSION_CONFLICT naming `what`
// when it does not allow it, else the version the write must still find when the aggregate's actor
// decides it (the command's if_version), or nothing without If-Match. Checked twice so that a write
// landing in between is refused rather than overwritten.
[[nodiscard]] domain::result<std::optional<std::int64_t>> required_version(const http_request& req,
                                                                          std::int64_t current,
                                                                          std::string_view what);

// The body as a JSON object, or INVALID_PARAMETER saying why not.
[[nodiscard]] domain::result<json> parse_json_object(const std::string& body);

// The body read by a DTO reader (`parse(const json&) -> result<T>`), or the first error either found.
template <class Parse>
[[nodiscard]] auto parse_body(const std::string& body, Parse parse) -> decltype(parse(std::declval<const json&>())) {
  auto j = parse_json_object(body);
  if (!j)
    return j.error();
  return parse(*j);
}

} // namespace onair::api
