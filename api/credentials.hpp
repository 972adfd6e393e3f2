#pragma once
// App credentials: the API key is public, the secret is shown once and stored only as a salted
// HMAC-SHA256; checks compare in constant time. The secret carries 192 random bits, so a fast
// keyed hash is enough (no password stretching needed) and auth stays cheap per request.
#include <string>
#include <string_view>

#include "domain/app.hpp"

namespace onair::api {

struct new_credentials {
  std::string api_key;
  std::string api_secret;   // shown once, never stored
  domain::create_app command; // what is stored: salt, hash, signing key
};

[[nodiscard]] new_credentials make_credentials(std::string name);
[[nodiscard]] std::string hash_secret(std::string_view secret, std::string_view salt);
[[nodiscard]] bool secret_matches(const domain::app& app, std::string_view presented_secret);

} // namespace onair::api
