#include "api/auth_cache.hpp"

#include <mutex>

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace onair::api {

std::string auth_cache::digest(std::string_view secret) {
  // Fetched once: an implicit fetch per call costs more than the hash of a short secret.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (sha256 == nullptr || EVP_Digest(secret.data(), secret.size(), out, &len, sha256, nullptr) != 1)
    return {}; // never matches: find() wants a non-empty digest
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::optional<domain::app> auth_cache::find(std::string_view api_key, std::string_view raw_view,
                                            std::string_view secret_digest) const {
  if (secret_digest.empty())
    return std::nullopt;
  std::shared_lock lock{mu_};
  auto it = entries_.find(std::string{api_key});
  if (it == entries_.end())
    return std::nullopt;
  const auto& e = it->second;
  const bool same_secret = e.secret_digest.size() == secret_digest.size() &&
                           CRYPTO_memcmp(e.secret_digest.data(), secret_digest.data(), secret_digest.size()) == 0;
  if (!same_secret || e.raw_view != raw_view)
    return std::nullopt;
  return e.app;
}

void auth_cache::put(std::string_view api_key, std::string raw_view, std::string secret_digest, domain::app app) {
  if (secret_digest.empty())
    return;
  std::unique_lock lock{mu_};
  if (entries_.size() >= max_entries_ && !entries_.contains(std::string{api_key}))
    entries_.clear();
  entries_.insert_or_assign(std::string{api_key}, entry{std::move(raw_view), std::move(secret_digest), std::move(app)});
}

std::size_t auth_cache::size() const {
  std::shared_lock lock{mu_};
  return entries_.size();
}

} // namespace onair::api
