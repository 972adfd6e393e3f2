#include "storage/rocksdb_key_ring.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include "storage/crypto.hpp"

namespace onair::storage::personal {
namespace {

using domain::error_code;
using domain::make_error;

constexpr std::size_t key_id_bytes = 16;

std::string hex_of(const unsigned char* p, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(digits[p[i] >> 4]);
    out.push_back(digits[p[i] & 0xf]);
  }
  return out;
}

std::string member_entry(domain::app_id app, std::string_view app_user_id) {
  return fmt::format("m/{:016x}/{}", static_cast<std::uint64_t>(app), app_user_id);
}
std::string key_entry(std::string_view key_id) { return "k/" + std::string{key_id}; }

domain::error failure(std::string what, const rocksdb::Status& s) {
  return make_error(error_code::storage_failure, "key ring: " + what + ": " + s.ToString());
}

} // namespace

class rocksdb_key_ring_impl final : public rocksdb_key_ring {
public:
  rocksdb_key_ring_impl(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                        std::vector<rocksdb::ColumnFamilyHandle*> all, bool sync)
      : db_(db), cf_(cf), all_(std::move(all)) {
    // A new key waits for the store's next write (see the header). Destroying a key is a write of
    // its own, synced.
    destroy_.sync = sync;
  }

  new_keys stage_new_keys(rocksdb::WriteBatch& batch) override {
    new_keys out;
    if (!cf_)
      return out;
    out.hold_ = std::shared_lock(writes_mu_);
    {
      std::unique_lock lock(mu_);
      out.keys_.swap(pending_);
    }
    for (const auto& [entry, key] : out.keys_) {
      auto s = batch.Put(cf_, key_entry(key.id),
                         rocksdb::Slice(reinterpret_cast<const char*>(key.bytes.data()), key.bytes.size()));
      if (s.ok())
        s = batch.Put(cf_, entry, key.id);
      if (!s.ok()) { // the store then writes nothing; the keys wait for its next write
        settle(std::move(out), false);
        throw std::runtime_error("key ring: staging a new key: " + s.ToString());
      }
    }
    return out;
  }

  void settle(new_keys keys, bool written) override {
    if (written || keys.keys_.empty())
      return;
    std::unique_lock lock(mu_);
    pending_.insert(pending_.begin(), std::make_move_iterator(keys.keys_.begin()),
                    std::make_move_iterator(keys.keys_.end()));
  }

  result<member_key> key_of(domain::app_id app, std::string_view app_user_id, lookup how) override {
    if (!cf_) // a store from before the key space, opened read only
      return how == lookup::existing ? result<member_key>{member_key{}}
                                     : make_error(error_code::storage_failure, "key ring: no key space (read only)");
    const auto entry = member_entry(app, app_user_id);
    if (auto known = cached(entry, how))
      return *known;
    // One member's keys are made and destroyed one at a time; other members' in parallel.
    std::lock_guard member_lock(stripe_of(entry));
    if (auto known = cached(entry, how))
      return *known;
    std::string current;
    auto s = db_->Get(rocksdb::ReadOptions(), cf_, entry, &current);
    if (!s.ok() && !s.IsNotFound())
      return failure("reading " + entry, s);
    if (s.ok() && !current.empty()) {
      std::unique_lock lock(mu_);
      auto key = load_locked(current);
      if (!key)
        return make_error(error_code::storage_failure, "key ring: the key of " + entry + " is missing or damaged");
      members_[entry] = current;
      return member_key{std::move(*key), false};
    }
    const bool erased = s.ok(); // "" marks an erasure
    if (how == lookup::existing || (erased && how != lookup::renew)) {
      if (erased) {
        std::unique_lock lock(mu_);
        members_[entry] = "";
      }
      return member_key{std::nullopt, erased};
    }
    data_key key;
    unsigned char id[key_id_bytes];
    if (!crypto::random_bytes(id, sizeof id) || !crypto::random_bytes(key.bytes.data(), key.bytes.size()))
      return make_error(error_code::internal, "key ring: no random bytes for a new key");
    key.id = hex_of(id, sizeof id);
    std::unique_lock lock(mu_);
    members_[entry] = key.id;
    keys_[key.id] = key;
    pending_.emplace_back(entry, key);
    return member_key{std::move(key), false};
  }

  std::optional<data_key> find(std::string_view key_id) const override {
    if (key_id.empty() || !cf_)
      return std::nullopt;
    {
      std::shared_lock lock(mu_);
      if (auto it = keys_.find(std::string{key_id}); it != keys_.end())
        return it->second;
    }
    // Read under the writer's lock, so that a key being destroyed is not cached again behind it.
    std::unique_lock lock(mu_);
    return load_locked(std::string{key_id});
  }

  result<int> destroy(domain::app_id app, std::string_view app_user_id) override {
    if (!cf_)
      return make_error(error_code::storage_failure, "key ring: no key space (read only)");
    const auto entry = member_entry(app, app_user_id);
    int destroyed = 0;
    {
      // No write carrying a new key is under way while the key goes, and none still waiting
      // carries this member's.
      std::unique_lock writes(writes_mu_);
      std::lock_guard member_lock(stripe_of(entry));
      std::string current;
      bool cached_entry = false;
      {
        std::unique_lock lock(mu_);
        std::erase_if(pending_, [&](const auto& p) { return p.first == entry; });
        if (auto it = members_.find(entry); it != members_.end()) {
          current = it->second;
          cached_entry = true;
        }
      }
      rocksdb::Status s;
      if (!cached_entry) {
        s = db_->Get(rocksdb::ReadOptions(), cf_, entry, &current);
        if (!s.ok() && !s.IsNotFound())
          return failure("reading " + entry, s);
      }
      rocksdb::WriteBatch batch;
      if (!current.empty()) {
        batch.Delete(cf_, key_entry(current));
        destroyed = 1;
      }
      batch.Put(cf_, entry, ""); // remembered, so that nothing seals its data again
      if (s = db_->Write(destroy_, &batch); !s.ok())
        return failure("destroying the key of " + entry, s);
      // After the write: a reader that cached the key from the store meanwhile loses it here.
      std::unique_lock lock(mu_);
      if (destroyed)
        keys_.erase(current);
      members_[entry] = "";
    }
    if (destroyed == 0)
      return 0;
    // A deleted key lingers in the memtable, the SST files and the write-ahead log until they are
    // rewritten. Flushing every column family lets RocksDB delete the log files that held it;
    // compacting the key space down to its last level rewrites its files without it.
    for (auto* family : all_)
      if (auto s = db_->Flush(rocksdb::FlushOptions(), family); !s.ok())
        return failure("flushing " + family->GetName(), s);
    rocksdb::CompactRangeOptions compact;
    compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    if (auto s = db_->CompactRange(compact, cf_, nullptr, nullptr); !s.ok())
      return failure("compacting the keys", s);
    return destroyed;
  }

private:
  // What the caches know of a member, when that answers `how`.
  std::optional<member_key> cached(const std::string& entry, lookup how) const {
    std::shared_lock lock(mu_);
    auto it = members_.find(entry);
    if (it == members_.end())
      return std::nullopt;
    if (it->second.empty())
      return how == lookup::renew ? std::nullopt : std::optional<member_key>{member_key{std::nullopt, true}};
    if (auto k = keys_.find(it->second); k != keys_.end())
      return member_key{k->second, false};
    return std::nullopt;
  }
  std::mutex& stripe_of(const std::string& entry) { return stripes_[std::hash<std::string>{}(entry) % stripes_.size()]; }

  std::optional<data_key> load_locked(const std::string& key_id) const {
    if (auto it = keys_.find(key_id); it != keys_.end())
      return it->second;
    std::string bytes;
    auto s = db_->Get(rocksdb::ReadOptions(), cf_, key_entry(key_id), &bytes);
    data_key key;
    if (!s.ok() || bytes.size() != key.bytes.size()) {
      if (!s.ok() && !s.IsNotFound())
        spdlog::error("key ring: reading key {}: {}", key_id, s.ToString());
      return std::nullopt;
    }
    key.id = key_id;
    std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(key.bytes.data()));
    keys_[key_id] = key;
    return key;
  }

  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* cf_;
  std::vector<rocksdb::ColumnFamilyHandle*> all_;
  rocksdb::WriteOptions destroy_;
  std::array<std::mutex, 64> stripes_;
  std::shared_mutex writes_mu_;  // held shared by a write carrying new keys, alone by a destruction
  mutable std::shared_mutex mu_; // the caches and pending_
  std::unordered_map<std::string, std::string> members_;   // entry -> keyId ("" erased)
  mutable std::unordered_map<std::string, data_key> keys_; // keys in use
  std::vector<std::pair<std::string, data_key>> pending_;  // made, not yet written
};

std::unique_ptr<rocksdb_key_ring> make_rocksdb_key_ring(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* keys,
                                                        std::vector<rocksdb::ColumnFamilyHandle*> all, bool sync) {
  return std::make_unique<rocksdb_key_ring_impl>(db, keys, std::move(all), sync);
}

} // namespace onair::storage::personal
