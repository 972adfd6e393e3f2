#pragma once
// The texts players read, made from a stream's view: the HLS master and media playlists (LL-HLS
// tags included; a player without LL-HLS reads the same playlists as plain HLS) and the DASH MPD
// over the same segments. URLs are relative to the stream's folder (/play/{id}/).
#include <cstdint>
#include <optional>
#include <string>

#include "media/cmaf/packager.hpp"

namespace onair::media::cmaf {

// Segment and part URLs, relative to the stream's folder: "{id}/init.mp4", "{id}/{msn}.m4s",
// "{id}/{msn}.{part}.m4s"; media playlists "{id}.m3u8".
[[nodiscard]] std::string segment_uri(const std::string& rendition, std::int64_t msn);
[[nodiscard]] std::string part_uri(const std::string& rendition, std::int64_t msn, int part);

// Seconds that a playlist and an MPD advertise (constant for a stream's life).
[[nodiscard]] int target_duration_s(const stream_options& o);
[[nodiscard]] double part_target_s(const stream_options& o);
[[nodiscard]] double can_skip_until_s(const stream_options& o);

[[nodiscard]] std::string master_playlist(const stream_view& v);
// skip: the client asked for a delta update (_HLS_skip=YES): segments older than CAN-SKIP-UNTIL
// from the end are replaced by EXT-X-SKIP.
[[nodiscard]] std::string media_playlist(const stream_view& v, std::size_t rendition, bool skip);

// A media playlist's rendition report, as LAST-MSN/LAST-PART: the last part published. Nullopt
// before the first.
struct last_part {
  std::int64_t msn = 0;
  int part = 0;
};
[[nodiscard]] std::optional<last_part> last_published(const rendition_view& r);

// time_url: the absolute URL of onair's clock (UTCTiming); now_ms: the publish time.
[[nodiscard]] std::string dash_manifest(const stream_view& v, const std::string& time_url, std::int64_t now_ms);

// "2026-12-03T15:44:04.123Z"
[[nodiscard]] std::string iso8601_ms(std::int64_t unix_ms);

// Numbers as the texts write them: "2.00000" (v with that many decimals), "PT1.500S".
[[nodiscard]] std::string fixed(double v, int decimals);
[[nodiscard]] std::string duration_iso(double s);

} // namespace onair::media::cmaf
