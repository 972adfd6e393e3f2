#pragma once
// Slows down guessing: a peer address whose authentication failed `max_failures` times within
// `window` is refused (429) until the oldest of those failures leaves the window. Successes do
// not count. Thread-safe; memory is bounded by forgetting peers whose failures are all stale.
#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace onair::api {

class auth_limiter {
public:
  using time_point = std::chrono::steady_clock::time_point;

  struct options {
    std::size_t max_failures = 10;
    std::chrono::seconds window{60};
    std::size_t max_peers = 100'000;
  };

  auth_limiter() : auth_limiter(options{}) {}
  explicit auth_limiter(options opts) : opts_(opts) {}

  // How long `peer` must wait before trying again; zero when it may try now.
  [[nodiscard]] std::chrono::seconds retry_after(const std::string& peer, time_point now);
  // Counts a failure; true when this one reached the limit (the moment to log it).
  bool failed(const std::string& peer, time_point now);

private:
  void forget_stale(time_point now);

  options opts_;
  std::mutex mu_;
  std::unordered_map<std::string, std::deque<time_point>> failures_; // newest last, at most max_failures
};

} // namespace onair::api
