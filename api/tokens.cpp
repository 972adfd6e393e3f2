#include "api/tokens.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <type_traits>

#include <nlohmann/json.hpp>

namespace onair::api {

using nlohmann::json;
using domain::error_code;
using domain::make_error;

namespace {

constexpr std::size_t max_token_chars = 4096;

std::string mac_of(std::string_view signing_input, std::string_view key) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

struct parts {
  std::string_view header, payload, signature, signing_input;
};

std::optional<parts> split(std::string_view token) {
  if (token.empty() || token.size() > max_token_chars)
    return std::nullopt;
  const auto a = token.find('.');
  if (a == std::string_view::npos)
    return std::nullopt;
  const auto b = token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos)
    return std::nullopt;
  return parts{token.substr(0, a), token.substr(a + 1, b - a - 1), token.substr(b + 1), token.substr(0, b)};
}

std::optional<json> decode_object(std::string_view part) {
  auto text = base64url_decode(part);
  if (!text)
    return std::nullopt;
  auto j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return std::nullopt;
  return j;
}

template <class T>
bool read(const json& j, const char* name, T& out) {
  auto it = j.find(name);
  if (it == j.end())
    return false;
  if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string())
      return false;
  } else {
    if (!it->is_number_integer())
      return false;
  }
  out = it->template get<T>();
  return true;
}

std::optional<token_claims> claims_of(const parts& p) {
  auto header = decode_object(p.header);
  auto payload = decode_object(p.payload);
  if (!header || !payload)
    return std::nullopt;
  token_claims c;
  std::string alg;
  if (!read(*header, "alg", alg) || alg != "HS256" || !read(*header, "kid", c.api_key))
    return std::nullopt;
  if (!read(*payload, "app", c.app_id) || !read(*payload, "sub", c.app_user_id) ||
      !read(*payload, "mid", c.member_id) || !read(*payload, "iat", c.issued_at) ||
      !read(*payload, "exp", c.expires_at))
    return std::nullopt;
  std::string typ;
  if (payload->contains("typ")) {
    if (!read(*payload, "typ", typ) || typ != "refresh")
      return std::nullopt;
    c.kind = token_kind::refresh;
  }
  return c;
}

} // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=')
    out.pop_back();
  for (auto& c : out)
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1 || text.size() > max_token_chars)
    return std::nullopt;
  std::string in;
  in.reserve(text.size() + 3);
  for (const char c : text) {
    const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!plain && c != '-' && c != '_')
      return std::nullopt; // also refuses padding and the +/ alphabet: one spelling per token
    in += c == '-' ? '+' : c == '_' ? '/' : c;
  }
  const std::size_t pad = (4 - in.size() % 4) % 4;
  in.append(pad, '=');
  if (in.empty())
    return std::string{};
  std::string out(in.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0)
    return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);
  // Unused low bits must be zero, else two spellings would decode alike.
  if (base64url_encode(out) != text)
    return std::nullopt;
  return out;
}

std::string sign_token(const token_claims& c, std::string_view signing_key) {
  const json header{{"alg", "HS256"}, {"typ", "JWT"}, {"kid", c.api_key}};
  json payload{{"iss", "onair"}, {"app", c.app_id}, {"sub", c.app_user_id}, {"mid", c.member_id},
               {"iat", c.issued_at}, {"exp", c.expires_at}};
  if (c.kind == token_kind::refresh)
    payload["typ"] = "refresh";
  auto input = base64url_encode(header.dump()) + "." + base64url_encode(payload.dump());
  auto signature = base64url_encode(mac_of(input, signing_key));
  return input + "." + signature;
}

std::optional<token_claims> peek_token(std::string_view token) {
  auto p = split(token);
  if (!p)
    return std::nullopt;
  return claims_of(*p);
}

domain::result<token_claims> verify_token(std::string_view token, std::string_view signing_key, token_kind wanted,
                                          std::int64_t now) {
  const auto refused = [](std::string why) { return make_error(error_code::unauthorized, std::move(why)); };
  auto p = split(token);
  if (!p)
    return refused("malformed token");
  auto presented = base64url_decode(p->signature);
  const auto expected = mac_of(p->signing_input, signing_key);
  if (!presented || presented->size() != expected.size() ||
      CRYPTO_memcmp(presented->data(), expected.data(), expected.size()) != 0)
    return refused("invalid token signature");
  auto c = claims_of(*p);
  if (!c)
    return refused("malformed token");
  if (c->kind != wanted)
    return refused(wanted == token_kind::refresh ? "not a refresh token" : "a refresh token is not an access token");
  if (now >= c->expires_at)
    return refused("the token has expired");
  return *c;
}

} // namespace onair::api
