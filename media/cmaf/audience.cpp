#include "media/cmaf/audience.hpp"

#include <functional>

namespace onair::media::cmaf {

void audience::heard(std::uint64_t fingerprint, std::optional<player_protocol> asked, clock::time_point now) {
  std::lock_guard lock{mu_};
  // Those gone are forgotten once a window, so the map holds only who played within about two.
  if (now - swept_ >= opts_.window)
    forget_locked(now);
  auto it = players_.find(fingerprint);
  if (it == players_.end()) {
    if (players_.size() >= opts_.max_players)
      return;
    it = players_.emplace(fingerprint, player{}).first;
  }
  it->second.last = now;
  if (asked)
    it->second.protocol = asked;
}

audience::counts audience::players(clock::time_point now) const {
  counts out;
  std::lock_guard lock{mu_};
  for (const auto& [fp, p] : players_) {
    if (now - p.last > opts_.window || !p.protocol)
      continue;
    ++(*p.protocol == player_protocol::hls ? out.hls : out.dash);
  }
  return out;
}

std::uint64_t audience::fingerprint(std::string_view address, std::string_view user_agent) {
  // Two hashes combined (boost::hash_combine's constant), so "a" + "bc" and "ab" + "c" differ.
  const std::uint64_t a = std::hash<std::string_view>{}(address);
  const std::uint64_t u = std::hash<std::string_view>{}(user_agent);
  return a ^ (u + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
}

void audience::forget_locked(clock::time_point now) {
  swept_ = now;
  std::erase_if(players_, [&](const auto& entry) { return now - entry.second.last > opts_.window; });
}

} // namespace onair::media::cmaf
