#pragma once
// One picture of a video file as a JPEG: the archiver's thumbnail.jpg and the on-demand
// /vod/{id}/thumbnail.jpg?time=&width=. Seeks to the key frame at or before the time, decodes
// forward to the picture shown then, scales it (full-range BT.601, square pixels) and encodes it
// with libavcodec's mjpeg. Blocks for a decode of up to one GOP: call it off the event loops.
#include <cstdint>
#include <filesystem>
#include <vector>

#include "domain/result.hpp"

namespace onair::media::ffmpeg {

inline constexpr int max_thumbnail_width = 4096;

struct thumbnail_options {
  // The picture shown at this time; -1: a representative one (10 % into the video, at most 5 s
  // in); past the end: the last picture.
  std::int64_t time_ms = -1;
  // 0: the source's; else scaled to this width (the height keeps the aspect ratio, both even),
  // never above max_thumbnail_width and never upscaled past the source's width.
  int width = 0;
  int quality = 4; // JPEG qscale, 2 (best) .. 31
};

// The JPEG's bytes. Errors name the file and what failed: VIDEO_POST_NOT_FOUND when the file is
// missing (a post's VOD file is what callers ask for), STORAGE_FAILURE when it cannot be read,
// INVALID_PARAMETER for options out of range (the field named) or a file with no decodable
// picture, INTERNAL_ERROR when scaling or encoding fails.
[[nodiscard]] domain::result<std::vector<std::uint8_t>> thumbnail(const std::filesystem::path& video_file,
                                                                  const thumbnail_options& o);

} // namespace onair::media::ffmpeg
