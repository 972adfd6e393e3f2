// fuzz-libs: onair_media
// The server handshake on arbitrary bytes, arriving in arbitrary pieces.
#include <cstddef>
#include <cstdint>
#include <span>

#include "media/rtmp/handshake.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using onair::media::rtmp::server_handshake;
  if (size == 0)
    return 0;
  // The first byte picks the piece size, so partial reads are explored too.
  const std::size_t piece = 1 + data[0] * 13;
  std::span<const std::uint8_t> in{data + 1, size - 1};
  server_handshake hs;
  std::vector<std::uint8_t> pending;
  for (std::size_t pos = 0; pos < in.size(); pos += piece) {
    const auto part = in.subspan(pos, std::min(piece, in.size() - pos));
    pending.insert(pending.end(), part.begin(), part.end());
    for (;;) {
      auto r = hs.consume(pending);
      if (!r.error.empty())
        return 0;
      if (!r.send.empty() && r.send.size() != 1 + 2 * onair::media::rtmp::handshake_size)
        __builtin_trap();
      pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(r.used));
      if (r.used == 0 || hs.done())
        break;
    }
    if (hs.done())
      break;
  }
  return 0;
}
