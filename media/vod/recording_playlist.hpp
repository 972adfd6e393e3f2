#pragma once
// A recording played as it lies on disk, while its VOD is being made: an HLS VOD playlist over the
// recorder's fMP4 parts by byte range (the part's ftyp+moov as EXT-X-MAP, runs of its fragments as
// segments, a discontinuity and a new map at each next part). Only what a part's last checkpoint
// says is whole is listed, so a part still being finished, or cut back after a crash, never shows
// a torn fragment. No re-encode, no copy: within moments of End Live, whatever its length, the
// broadcast plays in its original rendition.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace onair::media::vod {

// Reads `out.size()` bytes at `offset` of a file; false when it cannot.
using read_at = std::function<bool(std::uint64_t offset, std::span<std::uint8_t> out)>;

// One fragment of a part: where its moof+mdat lie and when it starts (seconds, the recording's
// timeline).
struct fragment {
  std::uint64_t offset = 0, size = 0; // from the moof to the end of its mdat
  double start_s = 0;
};

struct part_index {
  std::uint64_t init_size = 0; // ftyp + moov, from 0
  std::vector<fragment> fragments;
};

// The part's init and fragments within its first `whole` bytes, by walking its top-level boxes
// (free boxes, the checkpoints, skipped). The start of a fragment is its first track's tfdt, read
// with the timescale its moov gives. Nothing when the part has no init or cannot be read.
[[nodiscard]] std::optional<part_index> index_part(const read_at& read, std::uint64_t whole);

struct recorded_part {
  std::filesystem::path file;
  std::string uri;      // as the playlist names it ("rec/part-0001.mp4")
  double end_s = 0;     // where the part ends on the recording's timeline
};

// The playlist: segments of consecutive fragments, each at least `segment_s` long but the last of
// a part. Nothing when no part has a whole fragment yet.
[[nodiscard]] std::optional<std::string> recording_playlist(const std::vector<recorded_part>& parts,
                                                            double segment_s = 4.0);

} // namespace onair::media::vod
