#pragma once
// How a part of a recording says, inside itself, how much of it is whole: after each fragment
// that reaches the disk the recorder appends a checkpoint, a top-level `free` box (which players
// skip) holding the part's size up to and including it, the next fragment number and the part's
// span on the recording's timeline; one sync then makes both durable. After a crash the part is
// scanned box by box and cut back to the end of its last intact checkpoint. Whatever a crash left
// (a torn box, a half-written tail) reads as the checkpoints before it, never as a wrong value.
//
// Beside each part, part-NNNN.tracks holds its codecs and configuration records (checksummed),
// written once, so that a part can be continued only with the same codecs.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "media/ffmpeg/fmp4_writer.hpp"

namespace onair::media::record {

struct checkpoint {
  std::uint32_t next_fragment = 1;
  std::uint64_t bytes = 0; // the part's size up to the end of this checkpoint's box
  std::int64_t start_ms = 0, end_ms = 0;
  friend bool operator==(const checkpoint&, const checkpoint&) = default;
};

// The checkpoint's box, `checkpoint_box_size` bytes.
[[nodiscard]] std::vector<std::uint8_t> encode_box(const checkpoint& c);
inline constexpr std::size_t checkpoint_box_size = 8 + 12 + 4 + 8 + 8 + 8 + 4;

// Reads `size` bytes at `offset` of the part into out; false when it cannot.
using read_at = std::function<bool(std::uint64_t offset, std::span<std::uint8_t> out)>;
// The last intact checkpoint among the part's top-level boxes, walked from the start up to the
// first box that is cut short or malformed (the torn tail).
[[nodiscard]] std::optional<checkpoint> last_checkpoint(const read_at& read, std::uint64_t file_size);
// The same over a part on disk (nothing when it cannot be read).
[[nodiscard]] std::optional<checkpoint> last_checkpoint(const std::filesystem::path& part);

// A part's video and audio tracks (either may be absent).
using tracks = std::pair<std::optional<ffmpeg::track_params>, std::optional<ffmpeg::track_params>>;
[[nodiscard]] std::vector<std::uint8_t> encode(const tracks& t);
[[nodiscard]] std::optional<tracks> decode_tracks(std::span<const std::uint8_t> bytes);

} // namespace onair::media::record
