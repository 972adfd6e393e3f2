#pragma once
// What the RTMP server asks of the rest of onair (the stream-key and room actors). Calls come
// from loop threads and must not block; an answer may be called from any thread, at any later
// time (the server hops it back to the connection's loop and drops it if the connection is gone).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace onair::media::fanout {
class hub;
}

namespace onair::media::rtmp {

struct publish_request {
  std::uint64_t session_id = 0;
  std::string app;
  std::string stream_key;
  std::string mode; // "RTMP", "CMAF", "RTMP_CMAF" or "" (from the key's or the tcUrl's query)
  std::string tc_url;
  std::string peer_address;
  unsigned publish_number = 1; // 1 for the connection's first publish, 2 after it unpublished and published again
};
// The hub travels in the decision, not its name: whoever decides opens it from the registry in
// step with closing it (a broadcast that ends), so an answer that is still on its way to the
// loop cannot bring an ended hub back as a new, orphaned one.
struct publish_decision {
  std::shared_ptr<fanout::hub> hub; // accepted: where the media goes (viewers resolve to it); null: refused
  std::string reason;               // sent as the BadName description when refused
};
struct play_request {
  std::uint64_t session_id = 0;
  std::string app;
  std::string playback_id;
  std::string peer_address;
};
struct play_decision {
  std::shared_ptr<fanout::hub> hub; // null: no such stream
};
struct ingest_stats {
  std::string video_codec, audio_codec;
  int width = 0, height = 0;
  double fps = 0;
  int bitrate_kbps = 0;
};

class hooks {
public:
  virtual ~hooks() = default;
  virtual void authorize_publish(const publish_request&, std::function<void(publish_decision)> answer) = 0;
  // After an accepted publish: its first video key frame was relayed (ACTIVE_PREP -> ACTIVE).
  virtual void on_first_keyframe(std::uint64_t session_id) = 0;
  virtual void on_stats(std::uint64_t session_id, const ingest_stats&) = 0; // every stats_interval
  // Once per accepted publish, however it ended (unpublish, socket closed, timeout, kicked).
  virtual void on_publish_end(std::uint64_t session_id, std::string_view reason) = 0;
  virtual void resolve_play(const play_request&, std::function<void(play_decision)> answer) = 0;
};

} // namespace onair::media::rtmp
