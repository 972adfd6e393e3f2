// fuzz-libs: onair_api
// The conditional and range headers of a file request (api/http_conditions.hpp), as any client
// may send them: a range is the whole file, unsatisfiable, or lies within the file; dates and
// entity tags never fail, and a date read back writes the same instant.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "api/http_conditions.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace onair::api;
  // The first 8 bytes are the file's size (small files weigh more: the edges are there).
  std::uint64_t file_size = 0;
  if (size >= 8) {
    std::memcpy(&file_size, data, 8);
    if (file_size & 1)
      file_size %= 4096;
    data += 8;
    size -= 8;
  }
  const std::string_view text{reinterpret_cast<const char*>(data), size};

  byte_range r{};
  const auto answer = parse_range(text, file_size, r);
  if (answer == range_answer::partial && !(r.first <= r.last && r.last < file_size))
    std::abort();

  (void)none_match_hits(text, "\"5d1-67a2b3c4-1f\"");
  (void)none_match_hits(text, text);

  if (const auto t = parse_http_date(std::string{text})) {
    const auto again = parse_http_date(http_date(*t));
    if (!again || *again != *t)
      std::abort();
  }
  return 0;
}
