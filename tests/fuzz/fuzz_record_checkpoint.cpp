// fuzz-libs: onair_media
// A recording's part as a crash may leave it, scanned for its last checkpoint, and its tracks
// file: whatever is found must be a checkpoint that encodes back to the bytes it was read from,
// and tracks that decode to the same values again.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "media/record/checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace onair::media::record;
  const std::span<const std::uint8_t> in{data, size};
  const auto read = [in](std::uint64_t at, std::span<std::uint8_t> out) {
    if (at > in.size() || in.size() - at < out.size())
      return false;
    std::copy_n(in.begin() + static_cast<std::ptrdiff_t>(at), out.size(), out.begin());
    return true;
  };
  if (const auto c = last_checkpoint(read, size)) {
    if (c->bytes > size || c->bytes < checkpoint_box_size)
      __builtin_trap();
    const auto box = encode_box(*c);
    if (!std::equal(box.begin(), box.end(), in.begin() + static_cast<std::ptrdiff_t>(c->bytes - checkpoint_box_size)))
      __builtin_trap();
  }
  if (const auto t = decode_tracks(in)) {
    const auto bytes = encode(*t);
    const auto t2 = decode_tracks(bytes);
    if (!t2 || *t2 != *t)
      __builtin_trap();
  }
  return 0;
}
