// fuzz-libs: onair_media
// A recording's journal and tracks files as a crash may leave them (torn, damaged): whatever
// decodes must encode to the same bytes and decode to the same values again.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "media/record/journal.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace onair::media::record;
  const std::span<const std::uint8_t> in{data, size};
  const auto records = decode_journal(in);
  if (records.size() > size / journal_record)
    __builtin_trap();
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto again = encode(records[i]);
    if (!std::equal(again.begin(), again.end(), in.begin() + static_cast<std::ptrdiff_t>(i * journal_record)))
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
