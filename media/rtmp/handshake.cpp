#include "media/rtmp/handshake.hpp"

#include <algorithm>
#include <cstring>
#include <random>

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace onair::media::rtmp {

namespace {

constexpr std::uint8_t key_tail[32] = {0xF0, 0xEE, 0xC2, 0x4A, 0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00, 0xD0,
                                       0xD1, 0x02, 0x9E, 0x7E, 0x57, 0x6E, 0xEC, 0x5D, 0x2D, 0x29, 0x80,
                                       0x6F, 0xAB, 0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE};

template <std::size_t N> struct key_bytes {
  std::uint8_t b[N + 32];
  explicit constexpr key_bytes(const char (&text)[N + 1]) : b{} {
    for (std::size_t i = 0; i < N; ++i)
      b[i] = static_cast<std::uint8_t>(text[i]);
    for (std::size_t i = 0; i < 32; ++i)
      b[N + i] = key_tail[i];
  }
};

constexpr key_bytes<36> fms{"Genuine Adobe Flash Media Server 001"};
constexpr key_bytes<30> fp{"Genuine Adobe Flash Player 001"};

void fill_random(std::span<std::uint8_t> out) {
  // Handshake padding needs no secrecy; a fast PRNG per thread avoids a syscall per connection.
  thread_local std::mt19937 rng{std::random_device{}()};
  for (auto& b : out)
    b = static_cast<std::uint8_t>(rng());
}

// HMAC over the packet without the 32 digest bytes at `offset`.
void packet_digest(std::span<const std::uint8_t> packet, std::size_t offset, std::span<const std::uint8_t> key,
                   std::uint8_t out[32]) {
  hmac_sha256(key, packet.subspan(0, offset), packet.subspan(offset + 32), out);
}

} // namespace

std::span<const std::uint8_t> fms_key() { return {fms.b, sizeof fms.b}; }
std::span<const std::uint8_t> fp_key() { return {fp.b, sizeof fp.b}; }

void hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> a, std::span<const std::uint8_t> b,
                 std::uint8_t out[32]) {
  std::vector<std::uint8_t> joined;
  joined.reserve(a.size() + b.size());
  joined.insert(joined.end(), a.begin(), a.end());
  joined.insert(joined.end(), b.begin(), b.end());
  unsigned int len = 32;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), joined.data(), joined.size(), out, &len);
}

std::size_t digest_offset(std::span<const std::uint8_t> packet, int scheme) {
  const std::size_t field = scheme == 0 ? 772 : 8;
  const std::size_t sum = std::size_t{packet[field]} + packet[field + 1] + packet[field + 2] + packet[field + 3];
  return sum % 728 + field + 4;
}

bool verify_digest(std::span<const std::uint8_t> packet, int scheme, std::span<const std::uint8_t> key) {
  if (packet.size() != handshake_size)
    return false;
  const std::size_t off = digest_offset(packet, scheme);
  std::uint8_t d[32];
  packet_digest(packet, off, key, d);
  return std::memcmp(d, packet.data() + off, 32) == 0;
}

std::vector<std::uint8_t> make_digest_c1() {
  std::vector<std::uint8_t> c1(handshake_size);
  fill_random(c1);
  const std::uint8_t version[4] = {0x09, 0x00, 0x7C, 0x02};
  std::fill_n(c1.begin(), 4, 0);
  std::copy_n(version, 4, c1.begin() + 4);
  const std::size_t off = digest_offset(c1, 1);
  packet_digest(c1, off, fp_key().first(30), c1.data() + off);
  return c1;
}

server_handshake::result server_handshake::consume(std::span<const std::uint8_t> bytes) {
  result r;
  switch (state_) {
  case state::wait_c0c1: {
    if (bytes.empty())
      return r;
    if (bytes[0] != 3) {
      state_ = state::failed;
      r.error = "handshake: unsupported version " + std::to_string(bytes[0]);
      return r;
    }
    if (bytes.size() < 1 + handshake_size)
      return r;
    const auto c1 = bytes.subspan(1, handshake_size);
    r.used = 1 + handshake_size;
    r.send.resize(1 + 2 * handshake_size);
    r.send[0] = 3;
    std::span<std::uint8_t> s1{r.send.data() + 1, handshake_size};
    std::span<std::uint8_t> s2{r.send.data() + 1 + handshake_size, handshake_size};
    int scheme = -1;
    const bool versioned = c1[4] | c1[5] | c1[6] | c1[7];
    if (versioned) {
      for (int s : {1, 0})
        if (verify_digest(c1, s, fp_key().first(30))) {
          scheme = s;
          break;
        }
    }
    if (scheme < 0) {
      // Simple handshake: S1 is our random block with zero time/version, S2 echoes C1.
      fill_random(s1);
      std::fill_n(s1.begin(), 8, 0);
      std::copy(c1.begin(), c1.end(), s2.begin());
    } else {
      digest_ = true;
      fill_random(s1);
      std::fill_n(s1.begin(), 4, 0);
      const std::uint8_t version[4] = {0x0D, 0x0E, 0x0A, 0x0D};
      std::copy_n(version, 4, s1.begin() + 4);
      const std::size_t s1_off = digest_offset(s1, scheme);
      packet_digest(s1, s1_off, fms_key().first(36), s1.data() + s1_off);
      // S2: random, signed with a key derived from the client's digest, as clients verify it.
      const std::size_t c1_off = digest_offset(c1, scheme);
      std::uint8_t temp_key[32];
      hmac_sha256(fms_key(), c1.subspan(c1_off, 32), {}, temp_key);
      fill_random(s2);
      hmac_sha256({temp_key, 32}, s2.first(handshake_size - 32), {}, s2.data() + handshake_size - 32);
    }
    state_ = state::wait_c2;
    return r;
  }
  case state::wait_c2:
    if (bytes.size() < handshake_size)
      return r;
    r.used = handshake_size; // C2's content is not checked: clients disagree on what they echo
    state_ = state::done;
    return r;
  case state::done:
    return r;
  case state::failed:
    r.error = "handshake: failed earlier";
    return r;
  }
  return r;
}

} // namespace onair::media::rtmp
