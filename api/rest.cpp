#include "api/rest.hpp"

#include <charconv>

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include "api/auth_cache.hpp"
#include "api/auth_limiter.hpp"
#include "api/credentials.hpp"
#include "storage/codec.hpp"

namespace onair::api {

using domain::error_code;
using domain::make_error;

domain::provenance provenance_of(const http_request& req, std::string principal) {
  domain::provenance p;
  p.principal = std::move(principal);
  p.client_ip = req.peer;
  p.user_agent = req.header("user-agent").substr(0, 256);
  p.request_id = req.request_id;
  p.correlation_id = req.request_id;
  p.causation_id = req.request_id;
  return p;
}

int http_status_of(error_code code) {
  switch (code) {
  case error_code::app_not_found:
  case error_code::member_not_found:
  case error_code::member_deleted:
  case error_code::video_room_not_found:
  case error_code::stream_key_not_found:
  case error_code::video_post_not_found:
  case error_code::transcoding_profile_not_found:
  case error_code::broadcast_not_found:
    return 404;
  case error_code::unauthorized:
    return 401;
  case error_code::version_conflict:
    return 412;
  case error_code::request_locked:
  case error_code::stream_key_state_not_active:
  case error_code::stream_key_state_not_inactive_live:
  case error_code::stream_key_in_use:
  case error_code::video_room_state_not_scheduled:
  case error_code::video_room_state_not_live:
  case error_code::member_already_broadcasting:
  case error_code::video_post_state_not_archiving:
  case error_code::video_post_state_not_failed_archiving:
  case error_code::video_room_vod_state_not_archiving:
  case error_code::broadcast_ended:
    return 409;
  case error_code::storage_failure:
    return 503;
  case error_code::timeout:
    return 504;
  case error_code::internal:
    return 500;
  default:
    return 400; // validation: the code names the problem, the field where
  }
}

http_response error_of(const domain::error& e) {
  const int status = http_status_of(e.code);
  // Internal causes stay in the log, not in the answer.
  const auto message = status >= 500 ? std::string{"the server could not complete the request"} : e.message;
  return error_response(status, std::string{domain::to_string(e.code)}, message, e.field);
}

namespace {

std::optional<std::string> base64_decode(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0 || in.size() > 1024)
    return std::nullopt;
  std::string out(in.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0)
    return std::nullopt;
  std::size_t len = static_cast<std::size_t>(n);
  if (in.size() >= 1 && in[in.size() - 1] == '=')
    --len;
  if (in.size() >= 2 && in[in.size() - 2] == '=')
    --len;
  out.resize(len);
  return out;
}

} // namespace

domain::result<domain::app> authenticate_app(const http_request& req, const storage::kv_reader& views,
                                             auth_cache* checked) {
  const auto unauthorized = [](std::string why) { return make_error(error_code::unauthorized, std::move(why)); };
  auto it = req.headers.find("authorization");
  const std::string_view header = it == req.headers.end() ? std::string_view{} : std::string_view{it->second};
  if (!header.starts_with("Basic "))
    return unauthorized("use Authorization: Basic base64(apiKey:apiSecret)");
  const auto decoded = base64_decode(header.substr(6));
  const auto colon = decoded ? decoded->find(':') : std::string::npos;
  if (colon == std::string::npos)
    return unauthorized("malformed Basic credentials");
  const std::string_view key = std::string_view{*decoded}.substr(0, colon);
  const std::string_view secret = std::string_view{*decoded}.substr(colon + 1);
  auto raw = views.get(storage::keys::view(domain::app_aggregate::category, 0, key));
  std::string digest;
  if (checked != nullptr && raw) {
    digest = auth_cache::digest(secret);
    if (auto app = checked->find(key, *raw, digest))
      return *std::move(app);
  }
  std::optional<domain::app> app;
  if (raw) {
    auto j = json::parse(*raw, nullptr, false);
    domain::app a;
    std::string where;
    if (!j.is_discarded() && j.contains("state") && storage::from_json_value(j["state"], a, where))
      app = std::move(a);
  }
  // The hash is computed even for an unknown key, so timing does not tell which keys exist.
  static const domain::app decoy = [] {
    domain::app a;
    a.secret_salt = "decoy-salt";
    a.secret_hash = hash_secret("decoy", a.secret_salt);
    return a;
  }();
  const bool ok = secret_matches(app ? *app : decoy, secret);
  if (!app || !app->exists || !ok)
    return unauthorized("unknown API key or wrong secret");
  if (checked != nullptr)
    checked->put(key, *std::move(raw), std::move(digest), *app);
  return *std::move(app);
}

std::optional<http_response> throttled(auth_limiter& limiter, const http_request& req) {
  const auto wait = limiter.retry_after(req.peer, std::chrono::steady_clock::now());
  if (wait.count() == 0)
    return std::nullopt;
  auto r = error_response(429, "TOO_MANY_REQUESTS",
                          "too many failed authentications from this address; retry in " +
                              std::to_string(wait.count()) + " s");
  r.headers.emplace_back("Retry-After", std::to_string(wait.count()));
  return r;
}

void count_auth_failure(auth_limiter& limiter, const http_request& req) {
  if (limiter.failed(req.peer, std::chrono::steady_clock::now()))
    spdlog::warn("authentication failing repeatedly peer={} path={}: slowing it down", req.peer, req.path);
}

std::optional<domain::app> authenticate_app(const http_request& req, const storage::kv_reader& views,
                                            auth_limiter& limiter, const responder& respond, auth_cache* checked) {
  if (auto refusal = throttled(limiter, req)) {
    respond(*std::move(refusal));
    return std::nullopt;
  }
  auto app = authenticate_app(req, views, checked);
  if (!app) {
    // A request without credentials guesses nothing (clients often try without first).
    if (!req.header("authorization").empty())
      count_auth_failure(limiter, req);
    auto r = error_of(app.error());
    r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"onair\"");
    respond(std::move(r));
    return std::nullopt;
  }
  return *std::move(app);
}

domain::result<storage::page_request> parse_page(const http_request& req) {
  storage::page_request p;
  auto number = [&](const char* name, int& out, int lo, int hi) -> domain::status {
    auto it = req.query.find(name);
    if (it == req.query.end())
      return domain::ok_status();
    int v = 0;
    const auto& s = it->second;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || ptr != s.data() + s.size() || v < lo || v > hi)
      return make_error(error_code::invalid_parameter,
                        std::string{name} + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi),
                        name);
    out = v;
    return domain::ok_status();
  };
  if (auto st = number("page", p.page, 0, 1'000'000); !st)
    return st.error();
  if (auto st = number("pageSize", p.page_size, 1, 100); !st)
    return st.error();
  if (auto it = req.query.find("sortBy"); it != req.query.end()) {
    const auto& s = it->second;
    if (s == "CREATED_AT_DESC")
      p.sort = storage::sort_order::created_at_desc;
    else if (s == "CREATED_AT_ASC")
      p.sort = storage::sort_order::created_at_asc;
    else if (s == "LAST_MODIFIED_AT_ASC")
      p.sort = storage::sort_order::last_modified_at_asc;
    else if (s == "LAST_MODIFIED_AT_DESC")
      p.sort = storage::sort_order::last_modified_at_desc;
    else
      return make_error(error_code::invalid_parameter,
                        "sortBy must be CREATED_AT_DESC, CREATED_AT_ASC, LAST_MODIFIED_AT_ASC or LAST_MODIFIED_AT_DESC",
                        "sortBy");
  }
  return p;
}

domain::result<json> parse_json_object(const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded())
    return make_error(error_code::invalid_parameter, "the body is not valid JSON");
  if (!j.is_object())
    return make_error(error_code::invalid_parameter, "the body must be a JSON object");
  return j;
}

domain::result<std::int64_t> parse_positive_id(std::string_view s, const std::string& field) {
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || ptr != s.data() + s.size() || v <= 0)
    return domain::make_error(domain::error_code::invalid_parameter, field + " must be a positive integer", field);
  return v;
}

domain::result<std::int64_t> path_id(const http_request& req) {
  auto it = req.params.find("id");
  return parse_positive_id(it == req.params.end() ? std::string_view{} : std::string_view{it->second}, "id");
}

// If-Match: `*`, or a list of entity tags (weak ones compared by value). Absent: no condition.
bool if_match_allows(const http_request& req, std::int64_t version) {
  auto it = req.headers.find("if-match");
  if (it == req.headers.end())
    return true;
  const std::string want = std::to_string(version);
  std::string_view rest = it->second;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    auto tag = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t'))
      tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t'))
      tag.remove_suffix(1);
    if (tag == "*")
      return true;
    if (tag.substr(0, 2) == "W/")
      tag.remove_prefix(2);
    if (tag.size() >= 2 && tag.front() == '"' && tag.back() == '"')
      tag = tag.substr(1, tag.size() - 2);
    if (tag == want)
      return true;
  }
  return false;
}

domain::result<std::optional<std::int64_t>> required_version(const http_request& req, std::int64_t current,
                                                            std::string_view what) {
  if (!if_match_allows(req, current))
    return domain::make_error(domain::error_code::version_conflict,
                              "the " + std::string{what} + " is at version " + std::to_string(current) +
                                  ", not the one in If-Match",
                              "If-Match");
  if (!req.headers.contains("if-match"))
    return std::optional<std::int64_t>{};
  return std::optional<std::int64_t>{current};
}

} // namespace onair::api
