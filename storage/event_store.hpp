#pragma once
// The event store: the source of truth. Streams of events per aggregate, one global log in commit
// order, snapshots, and a key-value space for read models, all in one RocksDB database.
//
// Appends are group-committed: concurrent appends from many actors are gathered by one committer
// thread into a single RocksDB write with one fsync; each caller is answered only after that write
// is durable. Read models (views) are written in the same atomic batch as the events they derive
// from, so a view never runs ahead of or behind the log, through any crash.
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.hpp"

namespace onair::storage {

namespace personal {
class key_ring; // storage/personal_data.hpp
}

using domain::result;
using domain::status;

struct new_event {
  std::string type;      // e.g. "stream_key.publisher_connected"
  std::string data;      // JSON object
  std::int64_t time_ms = 0;
  std::string meta;      // JSON object (who asked, from where, in which request) or empty
};

using sha256_digest = std::array<std::uint8_t, 32>;

struct event_record {
  std::string stream;        // "category/app/id"
  std::int64_t version = 0;  // 1-based position within the stream
  std::uint64_t position = 0; // 1-based position in the global log, commit order
  std::string type;
  std::string data;
  std::int64_t time_ms = 0;
  std::string meta;
  // Its place in its app's audit chain (storage/audit_chain.hpp): the 1-based sequence number, the
  // hash of the chain's previous event and its own. chain_seq 0: written before chains existed.
  std::uint64_t chain_seq = 0;
  sha256_digest prev_hash{};
  sha256_digest hash{};
};

struct append_result {
  std::int64_t version = 0;          // stream version after the append
  std::uint64_t first_position = 0;  // global positions given to the appended events
  std::uint64_t last_position = 0;
};

// One stream's share of an append that spans several streams (see append_all_async).
struct stream_append {
  std::string stream;
  std::int64_t expected_version = 0; // 0: the stream must not exist yet
  std::vector<new_event> events;
};

struct snapshot {
  std::int64_t version = 0;
  std::string data;
};

// Reads and writes of the read-model key space. Keys are opaque bytes; order is bytewise.
class kv_reader {
public:
  virtual ~kv_reader() = default;
  [[nodiscard]] virtual std::optional<std::string> get(std::string_view key) const = 0;
  // Calls f(key, value) for each key starting with prefix, in order (reverse: descending)
  // until f returns false.
  virtual void scan(std::string_view prefix, const std::function<bool(std::string_view, std::string_view)>& f,
                    bool reverse = false) const = 0;
  // The keys that seal the members' personal data in the views (storage/personal_data.hpp): readers
  // open what they read with them, the projector seals what it writes. Null: views kept as they are.
  [[nodiscard]] virtual personal::key_ring* personal_keys() const { return nullptr; }
};

class kv_writer : public kv_reader {
public:
  // Reads through a writer see its own uncommitted puts and deletes.
  virtual void put(std::string_view key, std::string_view value) = 0;
  virtual void del(std::string_view key) = 0;
};

// Called on the committer thread for each appended event, in commit order, before the batch is
// written; what it writes lands atomically with the events.
using projector = std::function<void(const event_record&, kv_writer&)>;

class event_store {
public:
  struct options {
    std::string path;
    bool sync = true;          // fsync every commit (false only for throwaway tests)
    bool group_commit = true;  // false: one synced write per append (the benchmark's baseline)
    std::size_t max_batch = 1024; // appends gathered into one write at most
    // The Ed25519 key that signs audit checkpoints (storage/audit_chain.hpp), made there if
    // missing; empty: no checkpoints (the chains are kept all the same).
    std::string signing_key_path{};
    std::uint64_t checkpoint_every = 1000;                    // events of a chain
    std::chrono::milliseconds checkpoint_interval{60000};     // or this long after its first unsigned one
    // Read only: the store as it was when opened, beside a server that holds it for writing (the
    // audit verifier, exports). Every write fails; no checkpoint is signed.
    bool read_only = false;
  };

  using append_callback = std::function<void(result<append_result>)>;
  using append_all_callback = std::function<void(result<std::vector<append_result>>)>;

  static result<std::unique_ptr<event_store>> open(const options& opts);
  virtual ~event_store() = default;

  // Appends events to a stream iff it is at expected_version (0: the stream must not exist yet).
  // done() runs on the store's answering thread (one thread, in commit order) once the events are
  // durable, or with VERSION_CONFLICT / STORAGE_FAILURE. Must not block.
  virtual void append_async(std::string stream, std::int64_t expected_version, std::vector<new_event> events,
                            append_callback done) = 0;
  // The same, waiting for the result.
  virtual result<append_result> append(std::string stream, std::int64_t expected_version,
                                       std::vector<new_event> events) = 0;
  // Appends to several streams atomically: every part lands in the same durable write, or none
  // does (the error names the first part that failed). Each part checks its own expected version;
  // a stream appears in one part at most. The results are in the order of the parts. It exists for
  // the one command that creates two aggregates at once (a member and its stream key), so that the
  // pair costs one commit and no crash can separate them.
  virtual void append_all_async(std::vector<stream_append> parts, append_all_callback done) = 0;

  // Events of one stream with version >= from_version, in order.
  virtual result<std::vector<event_record>> read_stream(std::string_view stream, std::int64_t from_version = 1) = 0;
  // Up to limit events of the global log with position > after, in commit order.
  virtual result<std::vector<event_record>> read_all(std::uint64_t after, std::size_t limit) = 0;
  // Current version of a stream (0 when it has no events).
  virtual result<std::int64_t> stream_version(std::string_view stream) = 0;
  // Position of the last committed event (0 when the log is empty).
  [[nodiscard]] virtual std::uint64_t last_position() const = 0;
  // Syncs of the write-ahead log to disk so far (RocksDB's own count): every acknowledged append
  // of a store with `sync` was followed by one before its answer. Tests and /metrics read it.
  [[nodiscard]] virtual std::uint64_t wal_syncs() const = 0;
  // The log as stored, for the audit verifier: every position after `after` in order with its
  // record, or null where the bytes do not decode, until f returns false.
  virtual status scan_log(std::uint64_t after,
                          const std::function<bool(std::uint64_t position, const event_record* rec)>& f) = 0;
  // The head of every audit chain as the store keeps it: chain -> (sequence number, hash).
  struct chain_head {
    std::uint64_t seq = 0;
    std::uint64_t position = 0;
    sha256_digest hash{};
    std::uint64_t signed_seq = 0; // the chain's latest checkpoint event
  };
  [[nodiscard]] virtual result<std::vector<std::pair<std::int64_t, chain_head>>> chain_heads() = 0;
  // The public half of the checkpoint key in PEM (empty without one).
  [[nodiscard]] virtual std::string audit_public_key() const = 0;
  // Streams whose name starts with prefix, in order (e.g. every "stream_key/" stream).
  virtual result<std::vector<std::string>> list_streams(std::string_view prefix) = 0;

  virtual status save_snapshot(std::string_view stream, const snapshot& snap) = 0;
  virtual result<std::optional<snapshot>> load_snapshot(std::string_view stream) = 0;

  // Read models.
  virtual void set_projector(projector p) = 0;
  [[nodiscard]] virtual const kv_reader& views() const = 0;
  // Runs f over a writer and commits what it wrote in one synced batch (rebuilds, id blocks).
  virtual status write_views(const std::function<void(kv_writer&)>& f) = 0;
  // Drops every view key (for rebuild-views).
  virtual status clear_views() = 0;

  // The members' data keys, kept apart from the log (storage/personal_data.hpp).
  [[nodiscard]] virtual personal::key_ring& personal_keys() = 0;

  // Reserves `count` ids durably and returns the first; ids are never handed out twice, across
  // restarts and crashes (gaps are fine). Kept apart from the views, so a rebuild keeps it.
  virtual result<std::int64_t> reserve_ids(std::int64_t count) = 0;
};

} // namespace onair::storage
