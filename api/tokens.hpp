#pragma once
// Member tokens: compact JWTs (HS256) signed with the app's signing key. The header's `kid` is the
// app's API key (public), so a token names the key that checks it; the payload names the app, the
// member (appUserId and its id, which changes when a deleted member is registered again) and the
// expiry. Refresh tokens carry "typ":"refresh" and are refused where an access token is wanted.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/result.hpp"

namespace onair::api {

inline constexpr std::chrono::seconds access_token_lifetime = std::chrono::hours(24);
inline constexpr std::chrono::seconds refresh_token_lifetime = std::chrono::hours(24 * 30);

enum class token_kind { access, refresh };

struct token_claims {
  std::string api_key;    // header `kid`
  std::int64_t app_id = 0; // `app`
  std::string app_user_id; // `sub`
  std::int64_t member_id = 0; // `mid`
  std::int64_t issued_at = 0;  // `iat`, seconds since the epoch
  std::int64_t expires_at = 0; // `exp`, seconds since the epoch
  token_kind kind = token_kind::access;
};

[[nodiscard]] std::string base64url_encode(std::string_view bytes);
[[nodiscard]] std::optional<std::string> base64url_decode(std::string_view text);

// base64url(header).base64url(payload).base64url(HMAC-SHA256(signing_key, header.payload))
[[nodiscard]] std::string sign_token(const token_claims& claims, std::string_view signing_key);

// The claims as written, signature NOT checked: only to learn which app's key to check it with.
[[nodiscard]] std::optional<token_claims> peek_token(std::string_view token);

// The claims of a token signed with `signing_key`, of the wanted kind and not expired at `now`
// (seconds since the epoch); otherwise UNAUTHORIZED saying why.
[[nodiscard]] domain::result<token_claims> verify_token(std::string_view token, std::string_view signing_key,
                                                        token_kind wanted, std::int64_t now);

} // namespace onair::api
