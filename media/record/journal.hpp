#pragma once
// What a recording keeps beside its parts to be taken up after a crash, and how it is read back:
// whatever a crash left (a torn record, a half-written file) reads as the intact records before
// it, or as nothing; never as a wrong value.
//   journal           one fixed-size, checksummed record per sync: a part's synced size, the next
//                     fragment number, the part's start and end on the recording's timeline
//   part-NNNN.tracks  the part's codecs and configuration records, checksummed
#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "media/ffmpeg/fmp4_writer.hpp"

namespace onair::media::record {

struct checkpoint {
  std::uint32_t part = 0;
  std::uint32_t next_fragment = 1;
  std::uint64_t bytes = 0;
  std::int64_t start_ms = 0, end_ms = 0;
  friend bool operator==(const checkpoint&, const checkpoint&) = default;
};
inline constexpr std::size_t journal_record = 4 + 4 + 4 + 8 + 8 + 8 + 4;

[[nodiscard]] std::vector<std::uint8_t> encode(const checkpoint& c);
// Every whole, intact record in order, up to the first torn or damaged one.
[[nodiscard]] std::vector<checkpoint> decode_journal(std::span<const std::uint8_t> bytes);

// A part's video and audio tracks (either may be absent).
using tracks = std::pair<std::optional<ffmpeg::track_params>, std::optional<ffmpeg::track_params>>;
[[nodiscard]] std::vector<std::uint8_t> encode(const tracks& t);
[[nodiscard]] std::optional<tracks> decode_tracks(std::span<const std::uint8_t> bytes);

} // namespace onair::media::record
