#pragma once
// RTMP ingest and playback decided by the aggregates: the media server's hooks, answered through
// the stream-key actors (publish accepted or refused, first key frame, stats, publisher gone) and
// the read models (which hub a playback id plays).
//
// Hubs are named after the stream key ("key/{app}/{id}"), so a publisher that reconnects within a
// broadcast feeds the same hub and its viewers play on. A hub is closed when its key goes back to
// INACTIVE (preview over, broadcast ended, forced end); a key that is force-ended, reissued or
// revoked while publishing has its publisher cut.
//
// The hooks are called on event-loop threads; what they read (the views, RocksDB) and ask (the
// key's actor) is done on the runtime's threads, and the answer comes from there.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "actors/runtime.hpp"
#include "domain/output_mode.hpp"
#include "media/fanout/hub.hpp"
#include "media/rtmp/hooks.hpp"

namespace onair::media::rtmp {
class server;
}

namespace onair::actors {

struct ingest_guard;

class ingest final : public media::rtmp::hooks {
public:
  ingest(runtime& rt, media::fanout::registry& hubs);
  ~ingest() override;
  ingest(const ingest&) = delete;
  ingest& operator=(const ingest&) = delete;

  // The server whose publishers are cut when their key is ended from elsewhere (set once started).
  void attach(media::rtmp::server* server);

  // A publish accepted: where its media goes and in which mode. What attaches in-process
  // consumers as a stream starts (the CMAF transcoder when the mode includes CMAF) watches these;
  // the watcher runs on a runtime thread before the publisher is answered, so it sees the first
  // frame. Set before the server starts.
  struct stream_started {
    domain::app_id app = 0;
    std::int64_t key_id = 0;
    domain::output_mode mode = domain::output_mode::rtmp;
    std::string session; // the key's session id (what mark_viewable and report_key_error name)
    std::shared_ptr<media::fanout::hub> hub;
  };
  void watch_streams(std::function<void(const stream_started&)> watcher);
  // Asked before a publish is put to the key, with the mode it would get: a reason to refuse it
  // (capacity), told to the encoder and kept as the key's error; nullopt admits it. Set before
  // the server starts. Called on a runtime thread.
  using admission = std::function<std::optional<std::string>(domain::app_id, std::int64_t key_id, domain::output_mode)>;
  void admit_streams(admission admit);

  void authorize_publish(const media::rtmp::publish_request& req,
                         std::function<void(media::rtmp::publish_decision)> answer) override;
  void on_first_keyframe(std::uint64_t session_id) override;
  void on_stats(std::uint64_t session_id, const media::rtmp::ingest_stats& stats) override;
  void on_publish_end(std::uint64_t session_id, std::string_view reason) override;
  void resolve_play(const media::rtmp::play_request& req,
                    std::function<void(media::rtmp::play_decision)> answer) override;

  // The hub a playback id plays now, for HTTP-FLV as for RTMP play: the key's while it is
  // ACTIVE/ACTIVE_LIVE (by its preview id), or while its room is LIVE/LIVE_INACTIVE (by the room's
  // playback id; a paused room's hub is opened for its publisher to come back to). Null: nothing
  // plays there. Reads the views: answers from a runtime thread, never on the caller's.
  using hub_ptr = std::shared_ptr<media::fanout::hub>;
  void open_playback(std::string playback_id, std::function<void(hub_ptr)> answer);

  // The hub of a key whose room is on air (ACTIVE_LIVE, ACTIVE_LIVE_PREP, INACTIVE_LIVE), opened
  // in step with closing it, for an in-process consumer (the recorder); null otherwise. Reads the
  // views: not on an event loop.
  [[nodiscard]] hub_ptr open_live_hub(domain::app_id app, std::int64_t key_id);

  [[nodiscard]] static std::string hub_name(domain::app_id app, std::int64_t key_id);

  // The key a playback id plays now (see open_playback), without opening its hub. Reads the
  // views: not on an event loop.
  [[nodiscard]] std::optional<std::pair<domain::app_id, std::int64_t>> playback_key(const std::string& playback_id);

private:
  struct publishing {
    domain::app_id app = 0;
    std::int64_t key_id = 0;
    std::string session; // the key's session id (domain)
    domain::output_mode mode = domain::output_mode::rtmp; // in force for this publish
  };
  [[nodiscard]] std::optional<publishing> find(std::uint64_t session_id) const;
  void on_durable(std::string_view stream, std::string_view type);
  void decide_publish(const media::rtmp::publish_request& req, std::function<void(media::rtmp::publish_decision)> answer);
  void close_hub(domain::app_id app, std::int64_t key_id);
  // open_playback's work, on the calling thread (blocks on the views: not on an event loop).
  [[nodiscard]] hub_ptr open_playback_now(const std::string& playback_id);

  runtime& rt_;
  media::fanout::registry& hubs_;
  std::string boot_; // makes session ids unique across restarts
  mutable std::mutex mu_;
  std::map<std::uint64_t, publishing> sessions_;                          // accepted publishes
  std::map<std::pair<domain::app_id, std::int64_t>, std::uint64_t> by_key_; // key → its session
  media::rtmp::server* server_ = nullptr;
  std::vector<std::function<void(const stream_started&)>> watchers_; // set before the server starts
  admission admit_;
  // Held while a player's hub is opened against the views and while a hub is closed: a hub is
  // opened only when the views, read under it, say it plays, and once closed stays closed (a
  // player whose lookup read the views just before its broadcast ended gets the closed hub, and
  // ends; it never reopens one nobody will close).
  std::mutex hubs_mu_;
  std::shared_ptr<ingest_guard> guard_; // the runtime's observer outlives us and checks it
};

} // namespace onair::actors
