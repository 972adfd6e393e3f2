// fuzz-libs: onair_media
// A recording part's boxes as media/vod/recording_playlist.hpp walks them (to play a recording
// while its VOD is made): whatever the bytes, the index lies within them, its fragments in order
// and apart, and the walk ends.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "media/vod/recording_playlist.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto read = [&](std::uint64_t offset, std::span<std::uint8_t> out) {
    if (offset > size || out.size() > size - offset)
      return false;
    if (!out.empty())
      std::memcpy(out.data(), data + offset, out.size());
    return true;
  };
  const auto idx = onair::media::vod::index_part(read, size);
  if (!idx)
    return 0;
  if (idx->init_size > size)
    std::abort();
  std::uint64_t end = idx->init_size;
  for (const auto& f : idx->fragments) {
    if (f.offset < end || f.size == 0 || f.offset + f.size > size)
      std::abort();
    end = f.offset + f.size;
  }
  return 0;
}
