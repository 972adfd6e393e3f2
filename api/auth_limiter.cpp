#include "api/auth_limiter.hpp"

namespace onair::api {

std::chrono::seconds auth_limiter::retry_after(const std::string& peer, time_point now) {
  std::lock_guard lock{mu_};
  auto it = failures_.find(peer);
  if (it == failures_.end() || it->second.size() < opts_.max_failures)
    return std::chrono::seconds{0};
  const auto free_at = it->second.front() + opts_.window;
  if (free_at <= now)
    return std::chrono::seconds{0};
  // Rounded up: a client that waits exactly this long is let through.
  return std::chrono::ceil<std::chrono::seconds>(free_at - now);
}

bool auth_limiter::failed(const std::string& peer, time_point now) {
  std::lock_guard lock{mu_};
  if (failures_.size() >= opts_.max_peers && !failures_.contains(peer))
    forget_stale(now);
  auto& times = failures_[peer];
  while (!times.empty() && times.front() + opts_.window <= now)
    times.pop_front();
  times.push_back(now);
  while (times.size() > opts_.max_failures)
    times.pop_front();
  return times.size() == opts_.max_failures;
}

void auth_limiter::forget_stale(time_point now) {
  std::erase_if(failures_, [&](const auto& entry) { return entry.second.back() + opts_.window <= now; });
  // Still full of fresh failures (many addresses at once): start over rather than grow without bound.
  if (failures_.size() >= opts_.max_peers)
    failures_.clear();
}

} // namespace onair::api
