#pragma once
// One VOD made from one broadcast's recording, into a folder of its own:
//
//   original.mp4           the source remuxed (no re-encode), index at the front (faststart)
//   index.m3u8             HLS master: one variant per rendition, the audio as a group
//   v0.m3u8, v1.m3u8, a.m3u8   HLS VOD media playlists (fMP4)
//   manifest.mpd           static DASH over the same segment files
//   v0/init.mp4, v0/00001.m4s, …   per rendition (the audio's under a/)
//   thumbnail.jpg          a picture 10 % into the video (at most 5 s in)
//
// The recording is read once: its samples are remuxed into the original and, through the live
// ladder's transcoder run losslessly (the reader waits for the encoders, no frame is shed), scaled
// and encoded into the renditions, which the CMAF packager cuts on the segment grid; each segment
// is written as soon as it is complete, so memory does not grow with the recording. Interruptions
// of the broadcast are already gone from the recording's timeline, and a change of source codec
// or size between parts gives the same renditions (the transcoder fits every picture into them),
// so a VOD has one period. Every file is synced before make_archive returns.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "media/ffmpeg/transcoder.hpp"

namespace onair::media::vod {

struct archive_spec {
  std::vector<std::filesystem::path> parts; // the recording's, in order
  std::filesystem::path out;                // made if missing; what is there is replaced
  std::vector<ffmpeg::rung> ladder;         // as the source's orientation wants it, largest first
  std::int64_t segment_ms = 4000;
  std::int64_t key_interval_ms = 2000;
  int audio_bitrate_kbps = 128;
  std::string preset = "veryfast";
  int nice = 10;                  // the encoders yield to live transcodes
  std::int64_t expected_ms = 0;   // the recording's duration, for progress
  std::string name;               // in log lines
  // 0..99 as the work goes (often; the caller decides what to record); false stops the work.
  std::function<bool(int percent)> progress;
};

struct archive_rendition {
  int width = 0, height = 0, bitrate_kbps = 0;
};

struct archive_result {
  std::int64_t duration_ms = 0; // of the renditions
  std::uint64_t original_bytes = 0;
  int width = 0, height = 0;    // the original's
  std::vector<archive_rendition> renditions;
  bool thumbnail = false;       // thumbnail.jpg was made
  std::uint64_t bytes = 0;      // every file written
};

// Why an archive could not be made: a code for the API (ARCHIVE_READ_FAILED, ARCHIVE_NO_VIDEO,
// ARCHIVE_TRANSCODE_FAILED, ARCHIVE_WRITE_FAILED, ARCHIVE_STOPPED) and what happened.
struct archive_failure {
  std::string code;
  std::string message;
};

struct archive_outcome {
  std::optional<archive_result> result; // else failure
  archive_failure failure;
};

[[nodiscard]] archive_outcome make_archive(const archive_spec& spec);

} // namespace onair::media::vod
