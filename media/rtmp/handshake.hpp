#pragma once
// Sans-IO server side of the RTMP handshake (C0C1 -> S0S1S2, C2). Answers a client whose C1
// carries an HMAC-SHA256 digest (Flash Player / ffmpeg / OBS) with the digest form that those
// clients verify; anything else gets the simple (echo) handshake of the RTMP 1.0 specification.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace onair::media::rtmp {

inline constexpr std::size_t handshake_size = 1536;

class server_handshake {
public:
  enum class state { wait_c0c1, wait_c2, done, failed };

  struct result {
    std::size_t used = 0;           // bytes of the input taken; 0 means "need more"
    std::vector<std::uint8_t> send; // S0S1S2 once C0C1 is in
    std::string error;              // set once: the connection must close
  };

  [[nodiscard]] result consume(std::span<const std::uint8_t> bytes);
  [[nodiscard]] state current() const { return state_; }
  [[nodiscard]] bool done() const { return state_ == state::done; }
  [[nodiscard]] bool used_digest() const { return digest_; }

private:
  state state_ = state::wait_c0c1;
  bool digest_ = false;
};

// Exposed for tests and the fuzz target: the digest offset for a scheme (0: offset field at
// byte 772, 1: at byte 8) and whether the C1/S1 digest at that offset verifies with key[0..key_len).
[[nodiscard]] std::size_t digest_offset(std::span<const std::uint8_t> packet, int scheme);
[[nodiscard]] bool verify_digest(std::span<const std::uint8_t> packet, int scheme, std::span<const std::uint8_t> key);
// Builds a C1 the way Flash clients do (scheme 1), for tests.
[[nodiscard]] std::vector<std::uint8_t> make_digest_c1();
[[nodiscard]] std::span<const std::uint8_t> fms_key(); // 68 bytes; the first 36 sign S1
[[nodiscard]] std::span<const std::uint8_t> fp_key();  // 62 bytes; the first 30 sign C1
void hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> a, std::span<const std::uint8_t> b,
                 std::uint8_t out[32]);

} // namespace onair::media::rtmp
