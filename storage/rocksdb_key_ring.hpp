#pragma once
// The key ring of storage/personal_data.hpp in the event store's own RocksDB database, in a column
// family of its own ("keys") that is never part of the log, its snapshots, views or exports:
//   k/{keyId}                  the key's 32 bytes
//   m/{app, 16 hex}/{appUserId}  the member's current keyId, or "" once erased
// Internal to storage/: the event store makes it when it opens.
//
// A new key is not written on its own. It waits in memory, and the store's next write of anything
// (the committer's batch of events and views, a snapshot, a rebuild of the views) carries it in
// the same atomic batch. A key is made before anything is sealed under it, and whatever is sealed
// under it reaches the store in that write or a later one, so the key is durable no later than
// what it sealed, and a member's registration costs no write of its own.
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "storage/personal_data.hpp"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
} // namespace rocksdb

namespace onair::storage::personal {

class rocksdb_key_ring : public key_ring {
public:
  // The keys made since the last write of the store, taken for one write. While it is held a
  // destruction waits, so that the write cannot bring back a key destroyed behind it.
  class new_keys {
  public:
    new_keys() = default;
    [[nodiscard]] bool empty() const { return keys_.empty(); }

  private:
    friend class rocksdb_key_ring_impl;
    std::shared_lock<std::shared_mutex> hold_;
    std::vector<std::pair<std::string, data_key>> keys_; // member entry, key
  };

  // Puts the keys made since the last write into batch (with the keys column family's handle).
  [[nodiscard]] virtual new_keys stage_new_keys(rocksdb::WriteBatch& batch) = 0;
  // After the write that carried them: a failed write gives them back, for the next one.
  virtual void settle(new_keys keys, bool written) = 0;
};

// `all`: every column family of the database, flushed when a key is destroyed. keys null: a store
// opened read only from before the key space (every key is missing).
[[nodiscard]] std::unique_ptr<rocksdb_key_ring> make_rocksdb_key_ring(rocksdb::DB* db,
                                                                      rocksdb::ColumnFamilyHandle* keys,
                                                                      std::vector<rocksdb::ColumnFamilyHandle*> all,
                                                                      bool sync);

} // namespace onair::storage::personal
