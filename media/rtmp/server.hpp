#pragma once
// RTMP server on libevent: one listener, N event loops with connections spread round-robin, each
// connection a sans-IO rtmp::session driven by a bufferevent. Publishers feed the fanout::hub the
// hooks' decision names; players read from one, writing the hub's shared buffers by reference.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "media/fanout/counters.hpp"
#include "media/fanout/hub.hpp"
#include "media/rtmp/hooks.hpp"

namespace onair::net {
class event_loop;
}

namespace onair::media::rtmp {

struct server_config {
  std::string address = "0.0.0.0"; // IPv4 or IPv6 literal
  std::uint16_t port = 1935;       // 0: any free port, read back with server::port()
  unsigned loops = 0;              // 0: one per usable core (net::usable_cores)
  std::chrono::milliseconds handshake_timeout{10'000}; // until the handshake is done
  std::chrono::milliseconds idle_timeout{30'000};      // no input (publisher/command phase) or no write progress (player)
  std::chrono::milliseconds stats_interval{5'000};
  std::uint32_t max_message_size = 16 * 1024 * 1024;
  // Per client address: connections that have not yet published or played (what a flood opens),
  // and players, bounded apart: a whole office behind one NAT watches one stream.
  unsigned max_pending_per_address = 64;
  unsigned max_players_per_address = 4096;
  std::size_t viewer_out_buffer = 1024 * 1024; // bytes queued in a player's socket buffer before it waits
  // SO_SNDBUF for accepted sockets; 0 keeps the kernel's autotuning. Bounds kernel memory per
  // player (autotuning may grow to tcp_wmem's max, megabytes, times thousands of players).
  int socket_send_buffer = 0;
  std::string publish_app = "live";
  std::string play_app = "play";
};

// "--rtmp-listen" values: "0.0.0.0:1935", "[::]:1935", ":1935". False when malformed.
[[nodiscard]] bool parse_listen(const std::string& spec, server_config& cfg);

class server {
public:
  server(server_config cfg, hooks& h, counters& c);
  ~server(); // stops
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  void start(); // binds and starts the loops; throws std::runtime_error when it cannot bind
  void stop();  // closes every connection (ending publishes) and joins the loops
  [[nodiscard]] std::uint16_t port() const;
  // Thread-safe: closes the connection of this session (force-terminate, key reissued). Works
  // for any session id; an unknown or finished one is ignored.
  void disconnect_publisher(std::uint64_t session_id);
  [[nodiscard]] std::size_t connection_count() const;

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace onair::media::rtmp
