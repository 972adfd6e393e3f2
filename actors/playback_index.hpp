#pragma once
// What a playback id plays, from memory, so that a viewer's join reads no RocksDB and waits for
// no thread a flow can hold. A key plays by its preview id while it is viewable (ACTIVE,
// ACTIVE_LIVE); a room plays its key by the room's playback id while it is on air (LIVE,
// LIVE_INACTIVE) and the key is still attached to it (End Live detaches the key before it ends
// the room: from then on the room plays nothing).
//
// Only what can play is held: keys that are not INACTIVE and rooms on air, i.e. the members of the
// views' `active_key` and `live_room` sets, loaded from them once (load), then kept in step with
// the durable events of keys and rooms (follow). So it holds what the local views hold and no
// more; its size is that of the broadcasts on, not of the keys ever made.
//
// In step: the runtime tells observers of an event once it is durable, before the command that
// made it is answered, and an aggregate's next command waits for that. The index re-reads the
// aggregate's view there (written in the same batch as the event, so it is the state just
// committed), so it changes in the order the aggregate's events do, and before anyone who learns
// of the change from the aggregate: a key that becomes viewable is played at once, and one that
// stops is refused before its hub is closed (see ingest).
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "domain/stream_key.hpp"
#include "domain/video_room.hpp"

namespace onair::storage {
class kv_reader;
}

namespace onair::actors {

class runtime;

class playback_index {
public:
  struct stream {
    domain::app_id app = 0;
    std::int64_t key_id = 0;
    friend bool operator==(const stream&, const stream&) = default;
  };

  // What a key or room is now (from its view or its events); safe from any thread.
  void put(domain::app_id app, const domain::stream_key& key);
  void put(domain::app_id app, const domain::video_room& room);

  // The key a playback id plays now; nothing when it plays nothing (or is unknown).
  [[nodiscard]] std::optional<stream> find(std::string_view playback_id) const;
  // A key's state while it is not INACTIVE; nothing for an INACTIVE or unknown key.
  [[nodiscard]] std::optional<domain::key_state> key_state(domain::app_id app, std::int64_t key_id) const;
  // Keys and rooms held.
  [[nodiscard]] std::size_t size() const;

  // Reads the keys and rooms that can play from the views; what follow() applied meanwhile is
  // newer and is kept.
  void load(const storage::kv_reader& views);
  // Applies the runtime's durable key and room events from now on, for as long as `self` lives.
  // Call before load(), so that nothing committed in between is missed.
  static void follow(runtime& rt, const std::shared_ptr<playback_index>& self);

private:
  using id = std::pair<domain::app_id, std::int64_t>;
  struct key_entry {
    std::string preview_id;
    domain::key_state state = domain::key_state::inactive;
    std::optional<std::int64_t> live_room_id;
  };
  struct room_entry {
    std::string public_id;
    std::optional<std::int64_t> key_id;
  };
  // The aggregate a playback id names.
  struct named {
    bool room = false;
    id of;
  };
  void on_durable(const storage::kv_reader& views, std::string_view stream, std::string_view type);
  void put_locked(domain::app_id app, const domain::stream_key& key);
  void put_locked(domain::app_id app, const domain::video_room& room);
  void forget_key_locked(const id& k);
  void forget_room_locked(const id& r);

  mutable std::mutex mu_;
  std::map<id, key_entry> keys_;   // not INACTIVE
  std::map<id, room_entry> rooms_; // on air
  std::unordered_map<std::string, named> by_playback_id_;
  // While load() reads: what follow() applied, which the load must not overwrite.
  bool loading_ = false;
  std::set<id> touched_keys_, touched_rooms_;
};

} // namespace onair::actors
