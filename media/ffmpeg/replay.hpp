#pragma once
// A broadcast's recording read back (media/record's parts, in order) as the samples the recorder
// was given, for the archiver: each part's codec configuration (on_opened, then on_config_changed
// where a part's differs), its samples on the recording's timeline, on_closed at the end. The same
// pass remuxes the source, unchanged, into one MP4 with its index at the front (faststart): the
// VOD's original.mp4.
//
// The original's tracks are those of the first part. A later part whose H.264 configuration
// differs (a new resolution) carries its parameter sets in band at each key frame, which decoders
// follow; a part whose codec differs from the first's adds nothing to that track of the original
// (its samples still reach the consumer), and a warning says so.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <vector>

#include "domain/result.hpp"
#include "media/fanout/consumer.hpp"

namespace onair::media::ffmpeg {

struct replay_options {
  std::filesystem::path original; // the MP4 to write (empty: none)
  // After each sample with the recording's time reached (ms); false stops the replay (its error
  // then says so).
  std::function<bool(std::int64_t at_ms)> progress;
};

struct original_info {
  std::uint64_t size_bytes = 0;
  int width = 0, height = 0;   // of the first part's video (0 without video)
  std::int64_t duration_ms = 0; // the recording's, its last sample's end
  std::uint64_t video_samples = 0, audio_samples = 0;
};

// Errors: a part that cannot be read (STORAGE_FAILURE with the file and FFmpeg's reason), the
// original that cannot be written, a stop asked by progress (INTERNAL_ERROR "stopped").
[[nodiscard]] domain::result<original_info> replay(const std::vector<std::filesystem::path>& parts,
                                                  fanout::consumer& to, const replay_options& opts);

} // namespace onair::media::ffmpeg
