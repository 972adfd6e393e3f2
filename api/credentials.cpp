#include "api/credentials.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "actors/services.hpp"

namespace onair::api {

std::string hash_secret(std::string_view secret, std::string_view salt) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), salt.data(), static_cast<int>(salt.size()), reinterpret_cast<const unsigned char*>(secret.data()),
       secret.size(), mac, &len);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[mac[i] >> 4];
    out += hex[mac[i] & 0xf];
  }
  return out;
}

bool secret_matches(const domain::app& app, std::string_view presented) {
  const auto h = hash_secret(presented, app.secret_salt);
  return h.size() == app.secret_hash.size() && CRYPTO_memcmp(h.data(), app.secret_hash.data(), h.size()) == 0;
}

new_credentials make_credentials(std::string name) {
  new_credentials c;
  c.api_key = "ak_" + actors::random_token(15);   // 120 bits
  c.api_secret = "as_" + actors::random_token(24); // 192 bits
  c.command.name = std::move(name);
  c.command.api_key = c.api_key;
  c.command.secret_salt = actors::random_token(16);
  c.command.secret_hash = hash_secret(c.api_secret, c.command.secret_salt);
  c.command.signing_key = actors::random_token(32);
  return c;
}

} // namespace onair::api
