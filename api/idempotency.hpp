#pragma once
// `Idempotency-Key` on POST (api.md): the first request with a key runs; a replay of it (same
// credentials, method, path and key) gets the first answer back with `Idempotent-Replayed: true`;
// a duplicate that arrives while the first is still running answers 409 REQUEST_LOCKED; the same
// key with another body answers 422 IDEMPOTENCY_KEY_REUSED.
//
// Answers that say nothing about the resource are not kept, so a retry runs again: 401 and 429
// (credentials or throttling), 5xx (the server failed), and 503.
//
// Kept in memory for `ttl` (24 h), at most `max_entries` (oldest dropped first). A restart forgets
// them: the commands behind them are durable, so a retry after a crash may repeat a create. The
// keys are scoped by a hash of the Authorization header, so one caller never sees another's answer.
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "api/http_server.hpp"

namespace onair::api {

class idempotency_cache {
public:
  using clock = std::function<std::chrono::steady_clock::time_point()>;
  struct options {
    std::chrono::seconds ttl{24 * 3600};
    std::size_t max_entries = 100'000;
    std::size_t max_key_chars = 255;
    clock now = [] { return std::chrono::steady_clock::now(); };
  };

  idempotency_cache() : idempotency_cache(options{}) {}
  explicit idempotency_cache(options opts);

  // Middleware (http_server::use): runs `next` at most once per key.
  void handle(const http_request& req, responder respond, const http_handler& next);

  [[nodiscard]] std::size_t size() const;

private:
  struct entry {
    std::string fingerprint;                 // hash of the body
    std::optional<http_response> response;   // empty while the first request runs
    std::chrono::steady_clock::time_point at;
  };

  void finish(const std::string& scope, const http_response& resp);
  void evict(std::chrono::steady_clock::time_point now);

  options opts_;
  mutable std::mutex mu_; // responders may run on any thread
  std::unordered_map<std::string, entry> entries_;
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> order_; // insertion order
};

} // namespace onair::api
