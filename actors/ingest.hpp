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
// The hooks are called on event-loop threads. A player is answered at once, from memory (the
// playback index, kept from durable events): its join reads no RocksDB and waits for no thread a
// flow can hold. A publish's key is looked up in the views on the ingest's own lookup thread, then
// put to the key's actor in the key's lane (runtime::key_command), and answered from there.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "actors/playback_index.hpp"
#include "actors/runtime.hpp"
#include "domain/provenance.hpp"
#include "domain/ingest_audit.hpp"
#include "domain/output_mode.hpp"
#include "media/fanout/hub.hpp"
#include "media/rtmp/hooks.hpp"

namespace onair::media::rtmp {
class server;
}

namespace onair::actors {

struct ingest_guard;
class ingest_lookups;

class ingest final : public media::rtmp::hooks {
public:
  ingest(runtime& rt, media::fanout::registry& hubs);
  ~ingest() override;
  ingest(const ingest&) = delete;
  ingest& operator=(const ingest&) = delete;

  // The server whose publishers are cut when their key is ended from elsewhere (set once started).
  // Detached (null) as the server stops: returns once the publishes it asked about are put to
  // their keys, so that draining the runtime then finishes them.
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
  // the server starts. Called on the ingest's lookup thread.
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
  // plays there. From memory: answers at once, on the caller's thread (an event loop may ask).
  using hub_ptr = std::shared_ptr<media::fanout::hub>;
  void open_playback(std::string playback_id, std::function<void(hub_ptr)> answer);

  // The hub of a key whose room is on air (ACTIVE_LIVE, ACTIVE_LIVE_PREP, INACTIVE_LIVE), opened
  // in step with closing it, for an in-process consumer (the recorder); null otherwise. From memory.
  [[nodiscard]] hub_ptr open_live_hub(domain::app_id app, std::int64_t key_id);

  [[nodiscard]] static std::string hub_name(domain::app_id app, std::int64_t key_id);

  // A publisher's ingest as last measured (every stats interval) with its fan-out's health, kept
  // in memory: telemetry. Only what an auditor cares about becomes an event (domain/ingest_audit.hpp).
  struct live_sample {
    domain::app_id app = 0;
    std::int64_t key_id = 0;
    std::string session;
    domain::ingest_info ingest; // the measured fields (codecs, size, fps, bitrate)
    domain::timestamp at{};
    media::fanout::hub::health fanout{};
  };
  [[nodiscard]] std::optional<live_sample> live_stats(domain::app_id app, std::int64_t key_id) const;
  // Told of every sample (the telemetry topic). Set before the server starts; runs on an event
  // loop, so it must not block.
  void watch_samples(std::function<void(const live_sample&)> sink);
  // The latest sample of every publisher as Prometheus gauges (onair_ingest_*), by app and key.
  [[nodiscard]] std::string prometheus_text() const;

  // The key a playback id plays now (see open_playback), without opening its hub. From memory.
  [[nodiscard]] std::optional<std::pair<domain::app_id, std::int64_t>> playback_key(const std::string& playback_id);

private:
  struct publishing {
    domain::app_id app = 0;
    std::int64_t key_id = 0;
    std::string session; // the key's session id (domain)
    domain::output_mode mode = domain::output_mode::rtmp; // in force for this publish
    std::string peer{};                // the encoder's address
    domain::ingest_audit audit{};      // which of its samples are recorded
    std::optional<live_sample> live{}; // its latest sample
    // What the ingest records for this publisher acts for its session, from its address.
    [[nodiscard]] domain::provenance who() const { return provenance_of(session, peer); }
  };
  [[nodiscard]] static domain::provenance provenance_of(const std::string& session, const std::string& peer) {
    auto p = domain::provenance::system("rtmp-ingest", session);
    p.client_ip = peer;
    return p;
  }
  [[nodiscard]] std::optional<publishing> find(std::uint64_t session_id) const;
  void on_durable(std::string_view stream, std::string_view type);
  void decide_publish(const media::rtmp::publish_request& req, std::function<void(media::rtmp::publish_decision)> answer);
  void close_hub(domain::app_id app, std::int64_t key_id);
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
  std::vector<std::function<void(const live_sample&)>> sample_watchers_; // set before the server starts
  // Held while a player's hub is opened against the index and while a hub is closed: a hub is
  // opened only when the index, read under it, says it plays, and once closed stays closed (a
  // player who read the index just before its broadcast ended gets the closed hub, and ends; it
  // never reopens one nobody will close). The index changes before the hub is closed: its
  // observer runs first, and a publisher's end is answered after the observers have run.
  std::mutex hubs_mu_;
  std::shared_ptr<playback_index> index_; // the runtime's observer outlives us and holds it weakly
  std::unique_ptr<ingest_lookups> lookups_;
  std::shared_ptr<ingest_guard> guard_; // the runtime's observer outlives us and checks it
};

} // namespace onair::actors
