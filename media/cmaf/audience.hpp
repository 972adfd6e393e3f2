#pragma once
// Who is playing a CMAF stream over HTTP: HLS and DASH players are stateless requests, so a player
// is a fingerprint of its address and User-Agent that asked for something of the stream lately
// (every player asks at least once per segment: a playlist reload, a part, a segment). Its
// protocol is the manifest it last asked for: a playlist is HLS, the MPD is DASH. Telemetry, not
// accounting: players behind one address with the same browser count as one, and a proxy in front
// of onair makes every player look like the proxy's address (until trusted forwarding headers).
//
// Called from every HTTP loop; one short lock, no I/O, and bounded: past max_players fingerprints
// a newcomer is not counted until others age out.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>

namespace onair::media::cmaf {

enum class player_protocol : std::uint8_t { hls, dash };

class audience {
public:
  using clock = std::chrono::steady_clock;
  struct options {
    // A player not heard from this long has left: five segments, well above a paused player's
    // playlist reload interval and a DASH player's segment cadence.
    std::chrono::milliseconds window{10000};
    std::size_t max_players = 65536;
  };
  audience() : audience(options{}) {}
  explicit audience(options opts) : opts_(opts) {}

  // A request of the player `fingerprint`; `asked` is what the request says of its protocol (a
  // media object says nothing: the player keeps the one of its last manifest).
  void heard(std::uint64_t fingerprint, std::optional<player_protocol> asked, clock::time_point now);

  struct counts {
    std::size_t hls = 0;
    std::size_t dash = 0;
  };
  // Players heard within the window, by protocol (those that never asked for a manifest: none).
  [[nodiscard]] counts players(clock::time_point now) const;

  // The fingerprint of an address and a User-Agent.
  [[nodiscard]] static std::uint64_t fingerprint(std::string_view address, std::string_view user_agent);

private:
  struct player {
    clock::time_point last{};
    std::optional<player_protocol> protocol;
  };
  void forget_locked(clock::time_point now);

  const options opts_;
  mutable std::mutex mu_;
  std::unordered_map<std::uint64_t, player> players_;
  clock::time_point swept_{};
};

} // namespace onair::media::cmaf
