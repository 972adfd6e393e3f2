#pragma once
// The texts a VOD is played from, written once when its archive is made: the HLS master and media
// playlists (EXT-X-PLAYLIST-TYPE:VOD, fMP4 with EXT-X-MAP, EXT-X-ENDLIST) and a static DASH MPD
// (SegmentTemplate with a SegmentTimeline) over the same segment files. A period (an HLS
// discontinuity) starts wherever the archive says one does. URLs are relative to the VOD's folder
// (/vod/{videoPostId}/).
#include <cstdint>
#include <string>
#include <vector>

#include "media/cmaf/fmp4.hpp"

namespace onair::media::cmaf {

struct vod_segment {
  std::int64_t number = 0;    // 1, 2, … in the rendition (the file name and DASH's $Number$)
  std::int64_t start = 0;     // decode time of its first sample, in the track's timescale
  std::int64_t duration = 0;  // in the track's timescale
  std::uint32_t period = 0;   // 0, 1, …: a new value starts a DASH period and an HLS discontinuity
  std::uint64_t bytes = 0;
};

struct vod_rendition {
  std::string id;           // "v0", "v1", "a": the folder of its files
  track_config config;      // codec, size or sample rate, timescale, bitrate
  double frame_rate = 0;    // video
  int peak_bandwidth = 0;   // bits per second, the largest segment's rate (0: config.bitrate_kbps)
  std::vector<vod_segment> segments; // in order, numbers consecutive
};

struct vod_layout {
  std::vector<vod_rendition> renditions; // video largest first, then the audio (if any)
  std::int64_t duration_ms = 0;
};

// "{id}/init.mp4" and "{id}/{number}.m4s" (number zero-padded to 5 digits: "v0/00001.m4s").
[[nodiscard]] std::string vod_init_uri(const std::string& rendition);
[[nodiscard]] std::string vod_segment_uri(const std::string& rendition, std::int64_t number);

// index.m3u8: one EXT-X-STREAM-INF per video rendition (CODECS with the audio's, RESOLUTION,
// BANDWIDTH, AVERAGE-BANDWIDTH, FRAME-RATE) with the audio as an EXT-X-MEDIA group; "{id}.m3u8".
[[nodiscard]] std::string vod_master_playlist(const vod_layout& v);
[[nodiscard]] std::string vod_media_playlist(const vod_layout& v, std::size_t rendition);
// manifest.mpd: type="static", mediaPresentationDuration, one Period per period value (its start
// and duration from its segments), an AdaptationSet for the video and one for the audio.
[[nodiscard]] std::string vod_manifest(const vod_layout& v);

} // namespace onair::media::cmaf
