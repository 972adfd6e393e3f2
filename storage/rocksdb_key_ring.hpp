#pragma once
// The key ring of storage/personal_data.hpp in the event store's own RocksDB database, in a column
// family of its own ("keys") that is never part of the log, its snapshots, views or exports:
//   k/{keyId}                  the key's 32 bytes
//   m/{app, 16 hex}/{appUserId}  the member's current keyId, or "" once erased
// Internal to storage/: the event store makes it when it opens.
#include <memory>
#include <vector>

#include "storage/personal_data.hpp"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
} // namespace rocksdb

namespace onair::storage::personal {

// `all`: every column family of the database, flushed when a key is destroyed. keys null: a store
// opened read only from before the key space (every key is missing).
[[nodiscard]] std::unique_ptr<key_ring> make_rocksdb_key_ring(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* keys,
                                                               std::vector<rocksdb::ColumnFamilyHandle*> all,
                                                               bool sync);

} // namespace onair::storage::personal
