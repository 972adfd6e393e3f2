#pragma once
// The CMAF output of every stream published in mode CMAF or RTMP_CMAF: a transcoder
// (media/ffmpeg/transcoder, the key's profile's ladder) attached to the key's hub as a droppable
// consumer (a transcoder that falls behind skips to the next key frame rather than growing a
// queue), and its packager, found by playback id for the HTTP routes. The key becomes viewable
// (ACTIVE, ACTIVE_LIVE) once every rendition has its first segment; a transcoder's input errors
// become the key's error. A publisher that returns within a broadcast feeds the same hub, so the
// same transcoder and playlists go on. Concurrent transcodes are bounded; a CMAF publish past the
// bound is refused. Streams are keyed by their key; none assumes this process sees every stream.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/ingest.hpp"
#include "actors/runtime.hpp"
#include "media/cmaf/http.hpp"
#include "media/cmaf/packager.hpp"

namespace onair::media::ffmpeg {
class transcoder;
}

namespace onair::actors {

struct cmaf_options {
  std::size_t max_transcodes = 1; // concurrent CMAF streams
  std::string preset = "veryfast";
  std::chrono::seconds linger{30}; // an ended stream's playlists (ENDLIST) stay this long
};

// The bound the cores allow: one ladder (720p + 360p x264, decode, audio) takes about a core in
// real time with the default preset; one core is left to ingest, fan-out and the API.
[[nodiscard]] std::size_t default_max_transcodes(unsigned usable_cores);

class cmaf_streams {
public:
  cmaf_streams(runtime& rt, ingest& in, cmaf_options opts);
  ~cmaf_streams();
  cmaf_streams(const cmaf_streams&) = delete;
  cmaf_streams& operator=(const cmaf_streams&) = delete;

  using stream_ptr = std::shared_ptr<media::cmaf::stream>;
  // The packager a playback id plays (null: none). Answers at once, on the caller's thread, from
  // memory (the ingest's playback index).
  void find(const std::string& playback_id, std::function<void(stream_ptr)> answer);
  // The same from memory only: the packager of an id looked up before, else null (then find()).
  [[nodiscard]] stream_ptr find_known(std::string_view playback_id);

  [[nodiscard]] std::size_t active() const;
  // The video renditions (width, height, kbps) a key's live stream has; empty if none.
  struct rendition {
    int width = 0, height = 0, bitrate_kbps = 0;
  };
  [[nodiscard]] std::vector<rendition> renditions(domain::app_id app, std::int64_t key_id) const;
  // A live stream's health for telemetry: its HTTP players by protocol, its transcoder's lag and
  // the frames it shed. None if the key has no live CMAF stream.
  struct health {
    media::cmaf::audience::counts players;
    std::int64_t transcode_lag_ms = 0;
    std::uint64_t frames_dropped = 0;
  };
  [[nodiscard]] std::optional<health> health_of(domain::app_id app, std::int64_t key_id) const;
  [[nodiscard]] media::cmaf::http_counters& http_counters() { return http_counters_; }
  // Prometheus text: transcoders, their lag and shed frames, packaged bytes held, HTTP, and the
  // players of each live stream by protocol (onair_cmaf_viewers{app,stream_key,protocol}).
  [[nodiscard]] std::string prometheus_text() const;

private:
  struct entry;
  using key = std::pair<domain::app_id, std::int64_t>;
  void started(const ingest::stream_started& s);
  std::optional<std::string> admit(domain::app_id app, std::int64_t key_id, domain::output_mode mode);
  void ready(const key& k);
  void ended(const key& k, const std::shared_ptr<entry>& e);
  void purge_locked(std::chrono::steady_clock::time_point now);
  [[nodiscard]] std::size_t live_locked() const;

  runtime& rt_;
  ingest& ingest_;
  const cmaf_options opts_;
  mutable std::mutex mu_;
  std::map<key, std::shared_ptr<entry>> streams_;
  std::map<std::string, key, std::less<>> by_playback_id_; // ids looked up, while their stream is held
  media::cmaf::http_counters http_counters_;
  std::uint64_t finished_dropped_ = 0; // frames shed by transcoders already gone
  std::shared_ptr<struct cmaf_guard> guard_;
};

} // namespace onair::actors
