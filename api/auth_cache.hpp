#pragma once
// Credentials checked lately, so that a client's every request does not redo the app view's parse
// and the salted HMAC. The verdict of a check depends only on the app view's stored bytes and the
// presented secret, so an entry keeps exactly those: the view's raw bytes when the secret passed
// and a SHA-256 digest of that secret (not the secret). A hit needs the view unchanged (a rotated
// secret or changed settings miss) and the same digest, compared in constant time. Thread-safe.
#include <cstddef>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "domain/app.hpp"

namespace onair::api {

class auth_cache {
public:
  explicit auth_cache(std::size_t max_entries = 10'000) : max_entries_(max_entries) {}

  // The SHA-256 of a presented secret (what entries are compared by).
  [[nodiscard]] static std::string digest(std::string_view secret);

  // The app whose view was `raw_view` when a secret with this digest passed, if any.
  [[nodiscard]] std::optional<domain::app> find(std::string_view api_key, std::string_view raw_view,
                                                std::string_view secret_digest) const;
  // Records a check that passed. Full: starts over (clients reuse few keys; no LRU needed).
  void put(std::string_view api_key, std::string raw_view, std::string secret_digest, domain::app app);

  [[nodiscard]] std::size_t size() const;

private:
  struct entry {
    std::string raw_view;
    std::string secret_digest;
    domain::app app;
  };
  std::size_t max_entries_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, entry> entries_;
};

} // namespace onair::api
