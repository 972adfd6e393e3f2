// fuzz-libs: onair_media
// AMF0 decoding of arbitrary bytes; whatever decodes must encode and decode again.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "media/rtmp/amf0.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace onair::media::rtmp::amf0;
  const auto r = decode_all({data, size});
  if (!r.ok())
    return 0;
  std::vector<std::uint8_t> again;
  encode_all(again, r.values);
  const auto r2 = decode_all(again);
  if (!r2.ok() || r2.values.size() != r.values.size())
    __builtin_trap();
  return 0;
}
