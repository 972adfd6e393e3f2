#include "actors/playback_index.hpp"

#include <vector>

#include <spdlog/spdlog.h>

#include "actors/runtime.hpp"
#include "actors/stream_names.hpp"
#include "storage/views.hpp"

namespace onair::actors {

using domain::stream_key_aggregate;
using domain::video_room_aggregate;

namespace {

// The events that can change what plays: a key's state or preview id, a room going on or off air
// (LIVE ↔ LIVE_INACTIVE plays the same key). Stats, errors and settings, the frequent ones, are not.
bool changes_key(std::string_view type) {
  return type == domain::publisher_connected::type || type == domain::stream_viewable::type ||
         type == domain::publisher_disconnected::type || type == domain::live_attached::type ||
         type == domain::live_detached::type || type == domain::force_ended::type ||
         type == domain::key_reissued::type || type == domain::key_revoked::type;
}
bool changes_room(std::string_view type) {
  return type == domain::live_started::type || type == domain::live_ended::type;
}

} // namespace

void playback_index::put(domain::app_id app, const domain::stream_key& key) {
  std::lock_guard lock{mu_};
  put_locked(app, key);
}

void playback_index::put(domain::app_id app, const domain::video_room& room) {
  std::lock_guard lock{mu_};
  put_locked(app, room);
}

void playback_index::put_locked(domain::app_id app, const domain::stream_key& key) {
  const id k{app, key.id};
  if (!key.exists || key.state == domain::key_state::inactive)
    return forget_key_locked(k);
  auto& e = keys_[k];
  if (e.preview_id != key.preview_id) {
    if (!e.preview_id.empty())
      by_playback_id_.erase(e.preview_id);
    e.preview_id = key.preview_id;
    by_playback_id_[e.preview_id] = named{false, k};
  }
  e.state = key.state;
  e.live_room_id = key.live_room_id;
}

void playback_index::put_locked(domain::app_id app, const domain::video_room& room) {
  const id r{app, room.id};
  if (!room.exists || !domain::is_on_air(room.state))
    return forget_room_locked(r);
  auto& e = rooms_[r];
  if (e.public_id != room.public_id) {
    if (!e.public_id.empty())
      by_playback_id_.erase(e.public_id);
    e.public_id = room.public_id;
    by_playback_id_[e.public_id] = named{true, r};
  }
  e.key_id = room.stream_key_id;
}

void playback_index::forget_key_locked(const id& k) {
  if (auto it = keys_.find(k); it != keys_.end()) {
    by_playback_id_.erase(it->second.preview_id);
    keys_.erase(it);
  }
}

void playback_index::forget_room_locked(const id& r) {
  if (auto it = rooms_.find(r); it != rooms_.end()) {
    by_playback_id_.erase(it->second.public_id);
    rooms_.erase(it);
  }
}

std::optional<playback_index::stream> playback_index::find(std::string_view playback_id) const {
  std::lock_guard lock{mu_};
  const auto n = by_playback_id_.find(std::string{playback_id});
  if (n == by_playback_id_.end())
    return std::nullopt;
  const auto app = n->second.of.first;
  if (n->second.room) {
    const auto& r = rooms_.at(n->second.of);
    if (!r.key_id)
      return std::nullopt;
    const auto k = keys_.find({app, *r.key_id});
    if (k == keys_.end() || !domain::is_live(k->second.state) || k->second.live_room_id != n->second.of.second)
      return std::nullopt;
    return stream{app, *r.key_id};
  }
  if (!domain::is_viewable(keys_.at(n->second.of).state))
    return std::nullopt;
  return stream{app, n->second.of.second};
}

std::optional<domain::key_state> playback_index::key_state(domain::app_id app, std::int64_t key_id) const {
  std::lock_guard lock{mu_};
  const auto it = keys_.find({app, key_id});
  if (it == keys_.end())
    return std::nullopt;
  return it->second.state;
}

std::size_t playback_index::size() const {
  std::lock_guard lock{mu_};
  return keys_.size() + rooms_.size();
}

void playback_index::load(const storage::kv_reader& views) {
  {
    std::lock_guard lock{mu_};
    loading_ = true;
  }
  // Read with no lock held; merged below.
  std::vector<std::pair<domain::app_id, domain::stream_key>> keys;
  std::vector<std::pair<domain::app_id, domain::video_room>> rooms;
  for (const auto& e : storage::members_of(views, "active_key"))
    if (auto v = storage::get_view<stream_key_aggregate>(views, e.where.app, e.where.id))
      keys.emplace_back(e.where.app, std::move(v->state));
  for (const auto& e : storage::members_of(views, "live_room"))
    if (auto v = storage::get_view<video_room_aggregate>(views, e.where.app, e.where.id))
      rooms.emplace_back(e.where.app, std::move(v->state));
  std::lock_guard lock{mu_};
  for (const auto& [app, k] : keys)
    if (!touched_keys_.contains({app, k.id}))
      put_locked(app, k);
  for (const auto& [app, r] : rooms)
    if (!touched_rooms_.contains({app, r.id}))
      put_locked(app, r);
  loading_ = false;
  touched_keys_.clear();
  touched_rooms_.clear();
  spdlog::info("playback index loaded keys={} rooms={}", keys_.size(), rooms_.size());
}

void playback_index::follow(runtime& rt, const std::shared_ptr<playback_index>& self) {
  // The views outlive every observer call: the store closes after the last actor has stopped.
  rt.observe([weak = std::weak_ptr<playback_index>{self}, &views = rt.views()](std::string_view stream,
                                                                                std::string_view type) {
    if (auto index = weak.lock())
      index->on_durable(views, stream, type);
  });
}

// On the aggregate's actor thread, before its command is answered: one read of a view just
// written (the memtable), then a short lock.
void playback_index::on_durable(const storage::kv_reader& views, std::string_view stream, std::string_view type) {
  if (changes_key(type)) {
    const auto k = parse_stream(stream, stream_key_aggregate::category);
    if (!k)
      return;
    auto v = storage::get_view<stream_key_aggregate>(views, k->first, std::to_string(k->second));
    if (!v)
      spdlog::warn("playback index: no view of key app={} key={} after {}: it plays nothing", k->first, k->second, type);
    std::lock_guard lock{mu_};
    if (loading_)
      touched_keys_.insert(*k);
    if (v)
      put_locked(k->first, v->state);
    else
      forget_key_locked(*k);
  } else if (changes_room(type)) {
    const auto r = parse_stream(stream, video_room_aggregate::category);
    if (!r)
      return;
    auto v = storage::get_view<video_room_aggregate>(views, r->first, std::to_string(r->second));
    if (!v)
      spdlog::warn("playback index: no view of room app={} room={} after {}: it plays nothing", r->first, r->second, type);
    std::lock_guard lock{mu_};
    if (loading_)
      touched_rooms_.insert(*r);
    if (v)
      put_locked(r->first, v->state);
    else
      forget_room_locked(*r);
  }
}

} // namespace onair::actors
