// fuzz-libs: onair_media
// The FLV stream reader and the audio/video tag body parsers (incl. enhanced RTMP, AVC SPS).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "media/flv/tag.hpp"

namespace {
void bodies(std::span<const std::uint8_t> b) {
  if (auto v = onair::media::flv::parse_video(b); v && v->sequence_header)
    (void)onair::media::flv::avc_dimensions(v->config);
  (void)onair::media::flv::parse_audio(b);
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace onair::media::flv;
  std::span<const std::uint8_t> in{data, size};
  bodies(in); // the input as one tag body
  (void)avc_dimensions(in);
  reader r{1 << 20};
  std::vector<std::uint8_t> pending;
  const std::size_t piece = size > 0 ? 1 + data[0] * 5 : 1;
  for (std::size_t pos = 0; pos < in.size(); pos += piece) {
    const auto part = in.subspan(pos, std::min(piece, in.size() - pos));
    pending.insert(pending.end(), part.begin(), part.end());
    auto res = r.consume(pending);
    if (!res.error.empty())
      return 0;
    for (const auto& t : res.tags)
      bodies(*t.payload);
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(res.used));
  }
  return 0;
}
