// fuzz-libs: onair_media
// The chunk reader on arbitrary bytes in arbitrary pieces, as a socket would deliver them.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "media/rtmp/chunk.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace onair::media::rtmp;
  if (size == 0)
    return 0;
  const std::size_t piece = 1 + data[0] * 7;
  std::span<const std::uint8_t> in{data + 1, size - 1};
  chunk_limits lim;
  lim.max_message_size = 1 << 20; // keeps the fuzzer's memory bounded
  chunk_reader reader{lim};
  std::vector<std::uint8_t> pending;
  for (std::size_t pos = 0; pos < in.size(); pos += piece) {
    const auto part = in.subspan(pos, std::min(piece, in.size() - pos));
    pending.insert(pending.end(), part.begin(), part.end());
    for (;;) {
      auto r = reader.consume(pending);
      if (r.used > pending.size())
        __builtin_trap();
      if (!r.error.empty())
        return 0;
      for (const auto& m : r.messages) {
        // Whatever was reassembled serialises back into the same message (protocol control
        // messages aside: a fresh reader would apply them).
        std::vector<std::uint8_t> again;
        const std::uint32_t csid = m.csid < 2 ? 2 : m.csid;
        write_message(again, csid, m.type_id, m.stream_id, m.timestamp, m.bytes(), 128);
        if (again.size() != written_size(csid, m.timestamp, m.bytes().size(), 128))
          __builtin_trap();
        if (m.type_id == msg_type::set_chunk_size || m.type_id == msg_type::abort)
          continue;
        chunk_reader fresh{lim};
        const auto back = fresh.consume(again);
        if (!back.error.empty() || back.used != again.size() || back.messages.size() != 1)
          __builtin_trap();
        const auto& b = back.messages[0];
        if (b.type_id != m.type_id || b.stream_id != m.stream_id || b.timestamp != m.timestamp ||
            !std::equal(b.bytes().begin(), b.bytes().end(), m.bytes().begin(), m.bytes().end()))
          __builtin_trap();
      }
      pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(r.used));
      if (r.used == 0 || pending.empty())
        break;
    }
  }
  return 0;
}
