// The RocksDB event store (see event_store.hpp for the contract).
//
// Column families:
//   events    stream '\0' be64(version) -> be64(position)   (index into the log)
//   log       be64(position)            -> record           (each record's bytes stored once)
//   streams   stream                    -> be64(version)
//   snapshots stream                    -> be64(version) data
//   views     opaque read-model keys
//   meta      "last_position", "id_high_water", "chain/" be64(chain) -> audit chain head
//   keys      the members' data keys (storage/rocksdb_key_ring.hpp), never part of the log
//
// Every record is a link of its app's audit chain (storage/audit_chain.hpp): the committer gives
// it the chain's next sequence number, the previous link's hash and its own, and keeps each
// chain's head in meta in the same batch. Every checkpoint_every events of a chain, or
// checkpoint_interval after its first unsigned one, it appends a signed checkpoint of the head.
//
// One committer thread owns every append: it gathers what is queued, checks versions against an
// in-memory cache of stream versions, stages events and their projections in one
// WriteBatchWithIndex and writes it with one fsync. Only then are the callers answered, from a
// second thread, so that waking them overlaps with the next batch.
#include "storage/event_store.hpp"

#include "storage/audit_chain.hpp"
#include "storage/rocksdb_key_ring.hpp"

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/write_batch_with_index.h>
#include <rocksdb/write_batch.h>

#include <pthread.h>

#include <spdlog/spdlog.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>

namespace onair::storage {
namespace {

using domain::error_code;
using domain::make_error;

constexpr std::string_view last_position_key = "last_position";
constexpr std::string_view id_high_water_key = "id_high_water";
constexpr std::int64_t id_block = 1024; // ids reserved per durable write
constexpr char record_format_v1 = 1; // before audit chains
constexpr char record_format = 2;
constexpr std::string_view chain_key_prefix = "chain/";

// A RocksDB failure met where the interface has no error channel (kv_reader, projector staging).
struct storage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

rocksdb::Slice slice(std::string_view s) { return {s.data(), s.size()}; }
std::string_view view(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

void put_be64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}
std::string be64(std::uint64_t v) {
  std::string out;
  put_be64(out, v);
  return out;
}
bool get_be64(std::string_view in, std::uint64_t& v) {
  if (in.size() < 8) return false;
  v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return true;
}

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
bool get_varint(std::string_view& in, std::uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    auto byte = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}
void put_bytes(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}
bool get_bytes(std::string_view& in, std::string& out) {
  std::uint64_t n = 0;
  if (!get_varint(in, n) || n > in.size()) return false;
  out.assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}
std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

// format, stream, version, time_ms, type, meta, chain_seq, prev_hash, hash, then the data (opaque
// JSON) up to the end. Format 1 (before audit chains) has no meta and no chain fields.
std::string encode_record(const event_record& r) {
  std::string out;
  out.reserve(96 + r.stream.size() + r.type.size() + r.meta.size() + r.data.size());
  out.push_back(record_format);
  put_bytes(out, r.stream);
  put_varint(out, static_cast<std::uint64_t>(r.version));
  put_varint(out, zigzag(r.time_ms));
  put_bytes(out, r.type);
  put_bytes(out, r.meta);
  put_varint(out, r.chain_seq);
  out.append(reinterpret_cast<const char*>(r.prev_hash.data()), r.prev_hash.size());
  out.append(reinterpret_cast<const char*>(r.hash.data()), r.hash.size());
  out.append(r.data);
  return out;
}
bool get_digest(std::string_view& in, sha256_digest& d) {
  if (in.size() < d.size()) return false;
  std::copy_n(in.begin(), d.size(), reinterpret_cast<char*>(d.data()));
  in.remove_prefix(d.size());
  return true;
}
bool decode_record(std::uint64_t position, std::string_view in, event_record& r) {
  if (in.empty() || (in.front() != record_format && in.front() != record_format_v1)) return false;
  const bool chained = in.front() == record_format;
  in.remove_prefix(1);
  std::uint64_t version = 0, time = 0;
  if (!get_bytes(in, r.stream) || !get_varint(in, version) || !get_varint(in, time) || !get_bytes(in, r.type))
    return false;
  if (chained &&
      (!get_bytes(in, r.meta) || !get_varint(in, r.chain_seq) || !get_digest(in, r.prev_hash) || !get_digest(in, r.hash)))
    return false;
  r.version = static_cast<std::int64_t>(version);
  r.time_ms = unzigzag(time);
  r.position = position;
  r.data.assign(in);
  return true;
}

std::string chain_key(std::int64_t chain) {
  std::string key{chain_key_prefix};
  put_be64(key, static_cast<std::uint64_t>(chain));
  return key;
}
std::string encode_chain_head(const event_store::chain_head& h) {
  std::string out = be64(h.seq);
  put_be64(out, h.position);
  out.append(reinterpret_cast<const char*>(h.hash.data()), h.hash.size());
  put_be64(out, h.signed_seq);
  return out;
}
bool decode_chain_head(std::string_view in, event_store::chain_head& h) {
  if (!get_be64(in, h.seq)) return false;
  in.remove_prefix(8);
  if (!get_be64(in, h.position)) return false;
  in.remove_prefix(8);
  if (!get_digest(in, h.hash)) return false;
  return get_be64(in, h.signed_seq);
}

std::string stream_prefix(std::string_view stream) {
  std::string key(stream);
  key.push_back('\0');
  return key;
}
std::string event_key(std::string_view stream, std::int64_t version) {
  std::string key = stream_prefix(stream);
  put_be64(key, static_cast<std::uint64_t>(version));
  return key;
}

bool starts_with(const rocksdb::Slice& key, std::string_view prefix) { return view(key).starts_with(prefix); }

// The smallest key greater than every key starting with prefix; none when prefix is all 0xff.
std::optional<std::string> prefix_successor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(s.back());
    if (last != 0xff) {
      ++last;
      return s;
    }
    s.pop_back();
  }
  return std::nullopt;
}

void scan_iterator(rocksdb::Iterator& it, std::string_view prefix,
                   const std::function<bool(std::string_view, std::string_view)>& f, bool reverse) {
  if (!reverse) {
    for (it.Seek(slice(prefix)); it.Valid() && starts_with(it.key(), prefix); it.Next())
      if (!f(view(it.key()), view(it.value()))) break;
  } else {
    if (auto succ = prefix_successor(prefix)) {
      it.Seek(*succ);
      if (it.Valid()) it.Prev();
      else if (it.status().ok()) it.SeekToLast();
    } else {
      it.SeekToLast();
    }
    for (; it.Valid() && starts_with(it.key(), prefix); it.Prev())
      if (!f(view(it.key()), view(it.value()))) break;
  }
  if (!it.status().ok()) throw storage_error("views: scan failed: " + it.status().ToString());
}

void check(const rocksdb::Status& s, std::string_view what) {
  if (!s.ok()) throw storage_error(fmt::format("{}: {}", what, s.ToString()));
}

domain::error storage_failure(std::string message) {
  return make_error(error_code::storage_failure, std::move(message));
}

// Views as committed in the database.
class db_kv_reader final : public kv_reader {
public:
  db_kv_reader(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, personal::key_ring* keys)
      : db_(db), cf_(cf), keys_(keys) {}
  personal::key_ring* personal_keys() const override { return keys_; }

  std::optional<std::string> get(std::string_view key) const override {
    std::string value;
    auto s = db_->Get(rocksdb::ReadOptions(), cf_, slice(key), &value);
    if (s.IsNotFound()) return std::nullopt;
    check(s, "views: get failed");
    return value;
  }
  void scan(std::string_view prefix, const std::function<bool(std::string_view, std::string_view)>& f,
            bool reverse) const override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_));
    scan_iterator(*it, prefix, f, reverse);
  }

private:
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* cf_;
  personal::key_ring* keys_;
};

// Views through an uncommitted batch: reads see the batch's own puts and deletes.
class batch_kv_writer final : public kv_writer {
public:
  batch_kv_writer(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, rocksdb::WriteBatchWithIndex& batch,
                  personal::key_ring* keys)
      : db_(db), cf_(cf), batch_(batch), keys_(keys) {}
  personal::key_ring* personal_keys() const override { return keys_; }

  std::optional<std::string> get(std::string_view key) const override {
    std::string value;
    auto s = batch_.GetFromBatchAndDB(db_, rocksdb::ReadOptions(), cf_, slice(key), &value);
    if (s.IsNotFound()) return std::nullopt;
    check(s, "views: get failed");
    return value;
  }
  void scan(std::string_view prefix, const std::function<bool(std::string_view, std::string_view)>& f,
            bool reverse) const override {
    rocksdb::ReadOptions ro;
    std::unique_ptr<rocksdb::Iterator> it(batch_.NewIteratorWithBase(cf_, db_->NewIterator(ro, cf_), &ro));
    scan_iterator(*it, prefix, f, reverse);
  }
  void put(std::string_view key, std::string_view value) override {
    check(batch_.Put(cf_, slice(key), slice(value)), "views: put failed");
  }
  void del(std::string_view key) override { check(batch_.Delete(cf_, slice(key)), "views: delete failed"); }

private:
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* cf_;
  rocksdb::WriteBatchWithIndex& batch_;
  personal::key_ring* keys_;
};

class rocksdb_event_store final : public event_store {
public:
  static result<std::unique_ptr<event_store>> open(const options& opts);
  ~rocksdb_event_store() override;

  void append_async(std::string stream, std::int64_t expected_version, std::vector<new_event> events,
                    append_callback done) override;
  result<append_result> append(std::string stream, std::int64_t expected_version,
                               std::vector<new_event> events) override;
  void append_all_async(std::vector<stream_append> parts, append_all_callback done) override;

  result<std::vector<event_record>> read_stream(std::string_view stream, std::int64_t from_version) override;
  result<std::vector<event_record>> read_all(std::uint64_t after, std::size_t limit) override;
  result<std::int64_t> stream_version(std::string_view stream) override;
  std::uint64_t last_position() const override { return last_position_.load(std::memory_order_acquire); }
  std::uint64_t wal_syncs() const override { return statistics_->getTickerCount(rocksdb::WAL_FILE_SYNCED); }
  status scan_log(std::uint64_t after,
                  const std::function<bool(std::uint64_t position, const event_record* rec)>& f) override;
  result<std::vector<std::pair<std::int64_t, chain_head>>> chain_heads() override;
  std::string audit_public_key() const override { return signer_ ? signer_->public_pem() : std::string{}; }
  result<std::vector<std::string>> list_streams(std::string_view prefix) override;

  status save_snapshot(std::string_view stream, const snapshot& snap) override;
  result<std::optional<snapshot>> load_snapshot(std::string_view stream) override;

  void set_projector(projector p) override;
  const kv_reader& views() const override { return *views_reader_; }
  status write_views(const std::function<void(kv_writer&)>& f) override;
  status clear_views() override;

  result<std::int64_t> reserve_ids(std::int64_t count) override;
  personal::key_ring& personal_keys() override { return *keys_; }

private:
  // One caller's append: one part, or several that commit together.
  struct pending_append {
    std::vector<stream_append> parts;
    append_all_callback done;
  };
  // What one batch changes, applied to the in-memory state only once the write is durable.
  struct staged_batch {
    rocksdb::WriteBatchWithIndex batch{rocksdb::BytewiseComparator(), 0, /*overwrite_key=*/true};
    std::unordered_map<std::string, std::int64_t> versions;
    std::unordered_map<std::int64_t, chain_head> chains; // heads the batch moved
    std::uint64_t position = 0;
  };

  explicit rocksdb_event_store(options opts) : opts_(std::move(opts)) {}
  status open_db();
  // Every write that may hold sealed data goes through here: it carries the members' keys made
  // since the last write (storage/rocksdb_key_ring.hpp), and gives them back if it fails.
  rocksdb::Status write_with_new_keys(const rocksdb::WriteOptions& wo, rocksdb::WriteBatch& batch);
  void run_committer();
  void run_notifier();
  // Which chains get a signed checkpoint with a batch: those it brought to checkpoint_every
  // unsigned events, and also those unsigned for an interval (the timer). None at a stop: the
  // Kafka publisher has stopped by then, and the next start's interval signs what is left.
  enum class checkpoints : std::uint8_t { by_count, unsigned_an_interval };
  void commit(std::vector<pending_append>& appends, checkpoints which = checkpoints::by_count);
  void stage_checkpoints(staged_batch& staged, kv_writer& views, const projector& proj, checkpoints which);
  [[nodiscard]] bool checkpoint_due_by_time() const;
  [[nodiscard]] chain_head head_of(std::int64_t chain, const staged_batch& staged) const;
  result<std::vector<append_result>> stage(pending_append& a, staged_batch& staged, kv_writer& views,
                                           const projector& proj);
  result<append_result> stage_part(stream_append& a, staged_batch& staged, kv_writer& views, const projector& proj);
  result<std::int64_t> current_version(const std::string& stream, const staged_batch& staged);
  void close_db();

  options opts_;
  rocksdb::DB* db_ = nullptr;
  // Counters only (no timers: they would cost on every write).
  std::shared_ptr<rocksdb::Statistics> statistics_ = rocksdb::CreateDBStatistics();
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* events_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* log_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* streams_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* snapshots_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* views_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* keys_cf_ = nullptr;
  std::unique_ptr<personal::rocksdb_key_ring> keys_;
  std::unique_ptr<db_kv_reader> views_reader_;

  std::atomic<std::uint64_t> last_position_{0};

  // Audit chains: heads as durable (the committer's; chains_mu_ for other readers), the signing
  // key, and when each chain's oldest unsigned event was written (in memory: after a restart
  // the interval starts again).
  mutable std::mutex chains_mu_;
  std::unordered_map<std::int64_t, chain_head> chains_;
  std::unordered_map<std::int64_t, std::chrono::steady_clock::time_point> unsigned_since_;
  std::optional<audit::signing_key> signer_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<pending_append> queue_;
  bool stopping_ = false;

  std::mutex projector_mu_;
  projector projector_;
  // Serialises every writer of the views (committer batches, write_views, clear_views), so a
  // projector's read-modify-write never interleaves with a rebuild.
  std::mutex views_mu_;

  std::mutex ids_mu_;
  std::int64_t next_id_ = 1;
  std::int64_t id_limit_ = 1; // exclusive; [next_id_, id_limit_) is durably reserved

  // Answers leave the committer through a second thread, so waking the callers (a syscall each)
  // overlaps with the next batch's write instead of delaying it. Order is kept: one FIFO.
  struct answer {
    append_all_callback done;
    std::optional<result<std::vector<append_result>>> outcome;
    std::string stream;
  };
  std::mutex answers_mu_;
  std::condition_variable answers_cv_;
  std::vector<answer> answers_;
  bool answers_closed_ = false;

  std::unordered_map<std::string, std::int64_t> versions_; // committer thread only
  std::thread committer_;
  std::thread notifier_;
};

result<std::unique_ptr<event_store>> rocksdb_event_store::open(const options& opts) {
  if (opts.path.empty()) return make_error(error_code::invalid_parameter, "event store: empty path", "path");
  std::unique_ptr<rocksdb_event_store> store(new rocksdb_event_store(opts));
  if (store->opts_.max_batch == 0) store->opts_.max_batch = 1;
  if (auto s = store->open_db(); !s) return std::move(s).error();
  store->notifier_ = std::thread([s = store.get()] { s->run_notifier(); });
  store->committer_ = std::thread([s = store.get()] { s->run_committer(); });
  return std::unique_ptr<event_store>(std::move(store));
}

status rocksdb_event_store::open_db() {
  std::error_code ec;
  std::filesystem::create_directories(opts_.path, ec);
  if (ec) return storage_failure(fmt::format("event store {}: cannot create directory: {}", opts_.path, ec.message()));

  rocksdb::Options db_opts;
  db_opts.create_if_missing = true;
  db_opts.create_missing_column_families = true;
  db_opts.keep_log_file_num = 4;
  statistics_->set_stats_level(rocksdb::StatsLevel::kExceptTimers);
  db_opts.statistics = statistics_;
  rocksdb::ColumnFamilyOptions cf_opts;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  std::vector<std::string> existing; // read only: a store from before the key space has none
  if (opts_.read_only) {
    if (auto ls = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(db_opts), opts_.path, &existing); !ls.ok())
      return storage_failure(fmt::format("event store {}: cannot read it: {}", opts_.path, ls.ToString()));
  }
  // The key ring is read by point lookups only, most of them misses (a member's first key): a
  // Bloom filter over each table file and over the memtable answers those without a search.
  rocksdb::ColumnFamilyOptions keys_opts;
  {
    rocksdb::BlockBasedTableOptions table;
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    keys_opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    keys_opts.memtable_prefix_bloom_size_ratio = 0.05;
    keys_opts.memtable_whole_key_filtering = true;
  }
  for (const char* name : {"default", "events", "log", "streams", "snapshots", "views", "meta", "keys"})
    if (!opts_.read_only || std::find(existing.begin(), existing.end(), name) != existing.end())
      cfs.emplace_back(name, std::string_view{name} == "keys" ? keys_opts : cf_opts);
  // Read only beside a writer: every table file is opened now (max_open_files -1, the default), so
  // the writer's compactions cannot take one away mid-read; the log's unflushed tail is replayed
  // up to its last whole record.
  auto s = opts_.read_only
               ? rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(db_opts), opts_.path, cfs, &handles_, &db_)
               : rocksdb::DB::Open(rocksdb::DBOptions(db_opts), opts_.path, cfs, &handles_, &db_);
  if (!s.ok()) return storage_failure(fmt::format("event store {}: open failed: {}", opts_.path, s.ToString()));
  for (std::size_t i = 0; i < cfs.size(); ++i) {
    const auto& name = cfs[i].name;
    auto* h = handles_[i];
    if (name == "events") events_cf_ = h;
    else if (name == "log") log_cf_ = h;
    else if (name == "streams") streams_cf_ = h;
    else if (name == "snapshots") snapshots_cf_ = h;
    else if (name == "views") views_cf_ = h;
    else if (name == "meta") meta_cf_ = h;
    else if (name == "keys") keys_cf_ = h;
  }
  if (!events_cf_ || !log_cf_ || !streams_cf_ || !snapshots_cf_ || !views_cf_ || !meta_cf_)
    return storage_failure(fmt::format("event store {}: not an onair event store (column families missing)", opts_.path));
  keys_ = personal::make_rocksdb_key_ring(db_, keys_cf_, handles_, opts_.sync);
  views_reader_ = std::make_unique<db_kv_reader>(db_, views_cf_, keys_.get());

  // The log's last key is the truth; meta's copy is a cross-check.
  std::uint64_t last = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log_cf_));
    it->SeekToLast();
    if (it->Valid() && !get_be64(view(it->key()), last))
      return storage_failure(fmt::format("event store {}: corrupt log key", opts_.path));
    if (!it->status().ok())
      return storage_failure(fmt::format("event store {}: reading the log failed: {}", opts_.path,
                                         it->status().ToString()));
  }
  std::string value;
  s = db_->Get(rocksdb::ReadOptions(), meta_cf_, slice(last_position_key), &value);
  std::uint64_t meta_last = 0;
  if (s.ok() && get_be64(value, meta_last) && meta_last != last)
    spdlog::warn("event store {}: meta last_position {} differs from the log's {}", opts_.path, meta_last, last);
  last_position_.store(last, std::memory_order_release);

  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_cf_));
    for (it->Seek(slice(chain_key_prefix)); it->Valid() && starts_with(it->key(), chain_key_prefix); it->Next()) {
      std::uint64_t chain = 0;
      chain_head head;
      if (!get_be64(view(it->key()).substr(chain_key_prefix.size()), chain) || !decode_chain_head(view(it->value()), head))
        return storage_failure(fmt::format("event store {}: corrupt audit chain head", opts_.path));
      chains_.emplace(static_cast<std::int64_t>(chain), head);
    }
    if (!it->status().ok())
      return storage_failure(fmt::format("event store {}: reading the audit chains failed: {}", opts_.path,
                                         it->status().ToString()));
  }
  if (!opts_.signing_key_path.empty() && !opts_.read_only) {
    auto key = audit::signing_key::load_or_create(opts_.signing_key_path);
    if (!key) return std::move(key).error();
    signer_ = std::move(key).value();
  }

  s = db_->Get(rocksdb::ReadOptions(), meta_cf_, slice(id_high_water_key), &value);
  if (s.ok()) {
    std::uint64_t hw = 0;
    if (!get_be64(value, hw)) return storage_failure(fmt::format("event store {}: corrupt id high-water", opts_.path));
    next_id_ = id_limit_ = std::max<std::int64_t>(1, static_cast<std::int64_t>(hw));
  } else if (!s.IsNotFound()) {
    return storage_failure(fmt::format("event store {}: reading the id high-water failed: {}", opts_.path,
                                       s.ToString()));
  }
  return domain::ok_status();
}

void rocksdb_event_store::close_db() {
  if (db_ == nullptr) return;
  views_reader_.reset();
  keys_.reset();
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  handles_.clear();
  if (auto s = db_->Close(); !s.ok()) spdlog::error("event store {}: close failed: {}", opts_.path, s.ToString());
  delete db_;
  db_ = nullptr;
}

rocksdb_event_store::~rocksdb_event_store() {
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (committer_.joinable()) committer_.join();
  {
    std::lock_guard lock(answers_mu_);
    answers_closed_ = true;
  }
  answers_cv_.notify_all();
  if (notifier_.joinable()) notifier_.join();
  close_db();
}

void rocksdb_event_store::append_async(std::string stream, std::int64_t expected_version,
                                       std::vector<new_event> events, append_callback done) {
  std::vector<stream_append> parts;
  parts.push_back({std::move(stream), expected_version, std::move(events)});
  append_all_async(std::move(parts), [done = std::move(done)](result<std::vector<append_result>> r) {
    if (r)
      done(r->front());
    else
      done(std::move(r).error());
  });
}

void rocksdb_event_store::append_all_async(std::vector<stream_append> parts, append_all_callback done) {
  if (parts.empty())
    return done(make_error(error_code::invalid_parameter, "append: no streams", "parts"));
  std::string first = parts.front().stream;
  if (opts_.read_only)
    return done(storage_failure(fmt::format("append to {}: event store {} is open read only", first, opts_.path)));
  {
    std::lock_guard lock(queue_mu_);
    if (!stopping_) {
      queue_.push_back({std::move(parts), std::move(done)});
      queue_cv_.notify_one();
      return;
    }
  }
  done(storage_failure(fmt::format("append to {}: event store {} is closing", first, opts_.path)));
}

result<append_result> rocksdb_event_store::append(std::string stream, std::int64_t expected_version,
                                                  std::vector<new_event> events) {
  // Shared ownership: the committer may still be inside set_value when the waiter returns.
  auto promise = std::make_shared<std::promise<result<append_result>>>();
  auto answer = promise->get_future();
  append_async(std::move(stream), expected_version, std::move(events),
               [promise](result<append_result> r) { promise->set_value(std::move(r)); });
  return answer.get();
}

void rocksdb_event_store::run_committer() {
  ::pthread_setname_np(::pthread_self(), "onair-commit"); // visible in top, perf and gdb
  const std::size_t batch_limit = opts_.group_commit ? opts_.max_batch : 1;
  std::vector<pending_append> appends;
  for (;;) {
    {
      std::unique_lock lock(queue_mu_);
      // Woken at least once an interval while chains wait for a checkpoint.
      const bool woken = queue_cv_.wait_for(lock, signer_ ? opts_.checkpoint_interval / 4 : std::chrono::hours{24},
                                            [&] { return stopping_ || !queue_.empty(); });
      if (!woken) {
        lock.unlock();
        if (checkpoint_due_by_time()) {
          appends.clear();
          commit(appends, checkpoints::unsigned_an_interval);
        }
        continue;
      }
      if (queue_.empty()) return; // stopping, and everything queued has been answered
      const auto n = std::min(queue_.size(), batch_limit);
      appends.clear();
      for (std::size_t i = 0; i < n; ++i) {
        appends.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    commit(appends);
  }
}

result<std::int64_t> rocksdb_event_store::current_version(const std::string& stream, const staged_batch& staged) {
  if (auto it = staged.versions.find(stream); it != staged.versions.end()) return it->second;
  if (auto it = versions_.find(stream); it != versions_.end()) return it->second;
  std::string value;
  auto s = db_->Get(rocksdb::ReadOptions(), streams_cf_, slice(stream), &value);
  std::int64_t version = 0;
  if (s.ok()) {
    std::uint64_t v = 0;
    if (!get_be64(value, v)) return storage_failure(fmt::format("stream {}: corrupt version record", stream));
    version = static_cast<std::int64_t>(v);
  } else if (!s.IsNotFound()) {
    return storage_failure(fmt::format("stream {}: reading its version failed: {}", stream, s.ToString()));
  }
  versions_.emplace(stream, version);
  return version;
}

result<std::vector<append_result>> rocksdb_event_store::stage(pending_append& a, staged_batch& staged,
                                                              kv_writer& views, const projector& proj) {
  std::vector<append_result> out;
  if (a.parts.size() == 1) { // the common case: a savepoint of its own is enough
    auto r = stage_part(a.parts.front(), staged, views, proj);
    if (!r)
      return std::move(r).error();
    out.push_back(*r);
    return out;
  }
  for (std::size_t i = 0; i < a.parts.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (a.parts[i].stream == a.parts[j].stream)
        return make_error(error_code::invalid_parameter,
                          fmt::format("append: stream {} appears twice in one atomic append", a.parts[i].stream),
                          "stream");
  // Undo for the parts staged before one that fails: the batch's savepoint, the staged versions.
  std::vector<std::pair<std::string, std::optional<std::int64_t>>> prior_versions;
  const auto prior_position = staged.position;
  const auto prior_chains = staged.chains;
  staged.batch.SetSavePoint();
  for (auto& part : a.parts) {
    auto it = staged.versions.find(part.stream);
    prior_versions.emplace_back(part.stream,
                                it == staged.versions.end() ? std::nullopt : std::optional{it->second});
    auto r = stage_part(part, staged, views, proj);
    if (!r) {
      if (auto s = staged.batch.RollbackToSavePoint(); !s.ok())
        spdlog::error("stream {}: rolling back a failed atomic append: {}", part.stream, s.ToString());
      for (auto& [stream, version] : prior_versions) {
        if (version)
          staged.versions[stream] = *version;
        else
          staged.versions.erase(stream);
      }
      staged.position = prior_position;
      staged.chains = prior_chains;
      return std::move(r).error();
    }
    out.push_back(*r);
  }
  if (auto s = staged.batch.PopSavePoint(); !s.ok())
    spdlog::error("stream {}: pop save point: {}", a.parts.front().stream, s.ToString());
  return out;
}

result<append_result> rocksdb_event_store::stage_part(stream_append& a, staged_batch& staged, kv_writer& views,
                                                      const projector& proj) {
  if (a.stream.empty() || a.stream.find('\0') != std::string::npos)
    return make_error(error_code::invalid_parameter, "append: stream name is empty or contains NUL", "stream");
  if (a.events.empty())
    return make_error(error_code::invalid_parameter, fmt::format("append to {}: no events", a.stream), "events");
  auto current = current_version(a.stream, staged);
  if (!current) return std::move(current).error();
  if (*current != a.expected_version)
    return make_error(error_code::version_conflict,
                      fmt::format("stream {}: expected version {}, actual {}", a.stream, a.expected_version, *current));

  auto& batch = staged.batch;
  batch.SetSavePoint();
  const std::uint64_t first = staged.position + 1;
  std::uint64_t position = staged.position;
  std::int64_t version = *current;
  auto fail = [&](domain::error_code code, std::string why) -> result<append_result> {
    if (auto s = batch.RollbackToSavePoint(); !s.ok())
      spdlog::error("stream {}: rolling back a failed append: {}", a.stream, s.ToString());
    return make_error(code, fmt::format("append to {} at version {}: {}", a.stream, *current, why));
  };
  const auto chain = audit::chain_of(a.stream);
  auto head = head_of(chain, staged);
  try {
    event_record rec;
    rec.stream = a.stream;
    for (auto& e : a.events) {
      rec.version = ++version;
      rec.position = ++position;
      rec.type = std::move(e.type);
      rec.data = std::move(e.data);
      rec.time_ms = e.time_ms;
      rec.meta = std::move(e.meta);
      rec.chain_seq = ++head.seq;
      rec.prev_hash = head.hash;
      rec.hash = audit::link_hash(chain, rec);
      head.hash = rec.hash;
      head.position = position;
      check(batch.Put(log_cf_, be64(position), encode_record(rec)), "staging a log record");
      check(batch.Put(events_cf_, event_key(a.stream, version), be64(position)), "staging a stream index entry");
      if (proj) {
        try {
          proj(rec, views);
        } catch (const std::exception& ex) {
          return fail(error_code::internal, fmt::format("projector failed on {} (version {}): {}", rec.type,
                                                        rec.version, ex.what()));
        } catch (...) {
          return fail(error_code::internal, fmt::format("projector failed on {} (version {})", rec.type, rec.version));
        }
      }
    }
    check(batch.Put(streams_cf_, slice(a.stream), be64(static_cast<std::uint64_t>(version))), "staging the version");
  } catch (const std::exception& ex) {
    return fail(error_code::storage_failure, ex.what());
  }
  if (auto s = batch.PopSavePoint(); !s.ok()) spdlog::error("stream {}: pop save point: {}", a.stream, s.ToString());
  staged.versions[a.stream] = version;
  staged.position = position;
  staged.chains[chain] = head;
  return append_result{version, first, position};
}

rocksdb::Status rocksdb_event_store::write_with_new_keys(const rocksdb::WriteOptions& wo, rocksdb::WriteBatch& batch) {
  try {
    auto fresh = keys_->stage_new_keys(batch);
    auto s = db_->Write(wo, &batch);
    keys_->settle(std::move(fresh), s.ok());
    return s;
  } catch (const std::exception& ex) {
    return rocksdb::Status::Aborted(ex.what());
  }
}

void rocksdb_event_store::commit(std::vector<pending_append>& appends, checkpoints which) {
  projector proj;
  {
    std::lock_guard lock(projector_mu_);
    proj = projector_;
  }
  std::vector<std::optional<result<std::vector<append_result>>>> results(appends.size());
  {
    std::lock_guard views_lock(views_mu_);
    staged_batch staged;
    staged.position = last_position_.load(std::memory_order_relaxed);
    batch_kv_writer views(db_, views_cf_, staged.batch, keys_.get());
    bool any = false;
    for (std::size_t i = 0; i < appends.size(); ++i) {
      results[i].emplace(stage(appends[i], staged, views, proj));
      any = any || results[i]->ok();
    }
    if (signer_) {
      stage_checkpoints(staged, views, proj, which);
      any = any || !staged.chains.empty();
    }
    if (any) {
      rocksdb::Status s;
      try {
        check(staged.batch.Put(meta_cf_, slice(last_position_key), be64(staged.position)), "staging last_position");
        for (const auto& [chain, head] : staged.chains)
          check(staged.batch.Put(meta_cf_, chain_key(chain), encode_chain_head(head)), "staging an audit chain head");
        rocksdb::WriteOptions wo;
        wo.sync = opts_.sync;
        s = write_with_new_keys(wo, *staged.batch.GetWriteBatch());
      } catch (const std::exception& ex) {
        s = rocksdb::Status::Aborted(ex.what());
      }
      if (s.ok()) {
        for (auto& [stream, version] : staged.versions) versions_[stream] = version;
        {
          std::lock_guard chains_lock(chains_mu_);
          const auto now = std::chrono::steady_clock::now();
          for (const auto& [chain, head] : staged.chains) {
            chains_[chain] = head;
            if (head.seq == head.signed_seq)
              unsigned_since_.erase(chain);
            else
              unsigned_since_.try_emplace(chain, now);
          }
        }
        last_position_.store(staged.position, std::memory_order_release);
      } else {
        // Nothing of the batch is acknowledged, and the version cache keeps its old values.
        for (std::size_t i = 0; i < appends.size(); ++i)
          if (results[i]->ok())
            results[i].emplace(storage_failure(
                fmt::format("append to {} at version {}: write of a batch of {} appends failed: {}",
                            appends[i].parts.front().stream, appends[i].parts.front().expected_version,
                            appends.size(), s.ToString())));
      }
    }
  }
  {
    std::lock_guard lock(answers_mu_);
    for (std::size_t i = 0; i < appends.size(); ++i)
      answers_.push_back({std::move(appends[i].done), std::move(results[i]), std::move(appends[i].parts.front().stream)});
  }
  answers_cv_.notify_one();
}

void rocksdb_event_store::run_notifier() {
  ::pthread_setname_np(::pthread_self(), "onair-answer");
  std::vector<answer> ready;
  for (;;) {
    {
      std::unique_lock lock(answers_mu_);
      answers_cv_.wait(lock, [&] { return answers_closed_ || !answers_.empty(); });
      if (answers_.empty()) return; // closed, and every answer has been given
      ready.swap(answers_);
    }
    for (auto& a : ready) {
      try {
        a.done(std::move(*a.outcome));
      } catch (const std::exception& ex) {
        spdlog::error("append to {}: callback threw: {}", a.stream, ex.what());
      } catch (...) {
        spdlog::error("append to {}: callback threw", a.stream);
      }
    }
    ready.clear();
  }
}

event_store::chain_head rocksdb_event_store::head_of(std::int64_t chain, const staged_batch& staged) const {
  if (auto it = staged.chains.find(chain); it != staged.chains.end()) return it->second;
  // Only the committer changes chains_; it is the caller.
  if (auto it = chains_.find(chain); it != chains_.end()) return it->second;
  return {};
}

bool rocksdb_event_store::checkpoint_due_by_time() const {
  if (!signer_) return false;
  std::lock_guard lock(chains_mu_);
  const auto now = std::chrono::steady_clock::now();
  return std::any_of(unsigned_since_.begin(), unsigned_since_.end(),
                     [&](const auto& u) { return now - u.second >= opts_.checkpoint_interval; });
}

void rocksdb_event_store::stage_checkpoints(staged_batch& staged, kv_writer& views, const projector& proj,
                                            checkpoints which) {
  // The chains this batch moved reach their count; on the timer, those unsigned for an interval.
  std::vector<std::int64_t> due;
  {
    std::lock_guard lock(chains_mu_);
    const auto now = std::chrono::steady_clock::now();
    for (const auto& [chain, head] : staged.chains)
      if (head.seq - head.signed_seq >= opts_.checkpoint_every) due.push_back(chain);
    if (which != checkpoints::by_count)
      for (const auto& [chain, since] : unsigned_since_)
        if (now - since >= opts_.checkpoint_interval &&
            std::find(due.begin(), due.end(), chain) == due.end())
          due.push_back(chain);
  }
  const auto wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  for (const auto chain : due) {
    const auto head = head_of(chain, staged);
    if (head.seq == head.signed_seq) continue;
    audit::checkpoint c;
    c.chain = chain;
    c.seq = head.seq;
    c.position = head.position;
    c.hash = head.hash;
    c.key_id = signer_->key_id();
    c.signature = signer_->sign(c.message());
    const auto stream = audit::checkpoint_stream(chain);
    auto version = current_version(stream, staged);
    if (!version) {
      spdlog::error("audit chain {}: no checkpoint: {}", chain, version.error().message);
      continue;
    }
    stream_append part{stream, *version, {}};
    part.events.push_back(new_event{std::string{audit::checkpoint_type}, c.to_json(), wall_ms,
                                    R"({"principal":"system:audit"})"});
    auto r = stage_part(part, staged, views, proj);
    if (!r) {
      spdlog::error("audit chain {}: staging a checkpoint failed: {}", chain, r.error().message);
      continue;
    }
    staged.chains[chain].signed_seq = staged.chains[chain].seq;
  }
}

status rocksdb_event_store::scan_log(std::uint64_t after,
                                     const std::function<bool(std::uint64_t, const event_record*)>& f) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log_cf_));
  for (it->Seek(be64(after + 1)); it->Valid(); it->Next()) {
    std::uint64_t pos = 0;
    if (!get_be64(view(it->key()), pos))
      return storage_failure(fmt::format("scan_log after {}: a log key is not a position", after));
    event_record rec;
    const bool ok = decode_record(pos, view(it->value()), rec);
    if (!f(pos, ok ? &rec : nullptr)) break;
  }
  if (!it->status().ok())
    return storage_failure(fmt::format("scan_log after {}: iteration failed: {}", after, it->status().ToString()));
  return domain::ok_status();
}

result<std::vector<std::pair<std::int64_t, event_store::chain_head>>> rocksdb_event_store::chain_heads() {
  // From the database, not the committer's memory: what a verifier compares with is what was written.
  std::vector<std::pair<std::int64_t, chain_head>> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_cf_));
  for (it->Seek(slice(chain_key_prefix)); it->Valid() && starts_with(it->key(), chain_key_prefix); it->Next()) {
    std::uint64_t chain = 0;
    chain_head head;
    if (!get_be64(view(it->key()).substr(chain_key_prefix.size()), chain) || !decode_chain_head(view(it->value()), head))
      return storage_failure("chain_heads: a corrupt audit chain head");
    out.emplace_back(static_cast<std::int64_t>(chain), head);
  }
  if (!it->status().ok())
    return storage_failure(fmt::format("chain_heads: iteration failed: {}", it->status().ToString()));
  return out;
}

result<std::vector<event_record>> rocksdb_event_store::read_stream(std::string_view stream,
                                                                   std::int64_t from_version) {
  rocksdb::ReadOptions ro;
  const rocksdb::Snapshot* snap = db_->GetSnapshot();
  ro.snapshot = snap;
  struct release {
    rocksdb::DB* db;
    const rocksdb::Snapshot* s;
    ~release() { db->ReleaseSnapshot(s); }
  } releaser{db_, snap};

  const std::string prefix = stream_prefix(stream);
  std::vector<std::string> keys;
  std::vector<std::uint64_t> positions;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_cf_));
    for (it->Seek(event_key(stream, std::max<std::int64_t>(from_version, 1)));
         it->Valid() && starts_with(it->key(), prefix); it->Next()) {
      std::uint64_t pos = 0;
      if (!get_be64(view(it->value()), pos))
        return storage_failure(fmt::format("read_stream {}: corrupt index entry", stream));
      positions.push_back(pos);
      keys.push_back(be64(pos));
    }
    if (!it->status().ok())
      return storage_failure(fmt::format("read_stream {}: iteration failed: {}", stream, it->status().ToString()));
  }
  std::vector<event_record> out(positions.size());
  if (positions.empty()) return out;
  std::vector<rocksdb::Slice> key_slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(ro, log_cf_, keys.size(), key_slices.data(), values.data(), statuses.data());
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (!statuses[i].ok())
      return storage_failure(fmt::format("read_stream {}: reading log position {} failed: {}", stream,
                                         positions[i], statuses[i].ToString()));
    if (!decode_record(positions[i], view(values[i]), out[i]) || out[i].stream != stream)
      return storage_failure(fmt::format("read_stream {}: corrupt record at log position {}", stream, positions[i]));
  }
  return out;
}

result<std::vector<event_record>> rocksdb_event_store::read_all(std::uint64_t after, std::size_t limit) {
  std::vector<event_record> out;
  if (limit == 0) return out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log_cf_));
  for (it->Seek(be64(after + 1)); it->Valid() && out.size() < limit; it->Next()) {
    std::uint64_t pos = 0;
    event_record rec;
    if (!get_be64(view(it->key()), pos) || !decode_record(pos, view(it->value()), rec))
      return storage_failure(fmt::format("read_all after {}: corrupt log record", after));
    out.push_back(std::move(rec));
  }
  if (!it->status().ok())
    return storage_failure(fmt::format("read_all after {}: iteration failed: {}", after, it->status().ToString()));
  return out;
}

result<std::int64_t> rocksdb_event_store::stream_version(std::string_view stream) {
  std::string value;
  auto s = db_->Get(rocksdb::ReadOptions(), streams_cf_, slice(stream), &value);
  if (s.IsNotFound()) return std::int64_t{0};
  std::uint64_t v = 0;
  if (!s.ok()) return storage_failure(fmt::format("stream_version {}: {}", stream, s.ToString()));
  if (!get_be64(value, v)) return storage_failure(fmt::format("stream_version {}: corrupt version record", stream));
  return static_cast<std::int64_t>(v);
}

result<std::vector<std::string>> rocksdb_event_store::list_streams(std::string_view prefix) {
  std::vector<std::string> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams_cf_));
  for (it->Seek(slice(prefix)); it->Valid() && starts_with(it->key(), prefix); it->Next())
    out.emplace_back(view(it->key()));
  if (!it->status().ok())
    return storage_failure(fmt::format("list_streams '{}': iteration failed: {}", prefix, it->status().ToString()));
  return out;
}

status rocksdb_event_store::save_snapshot(std::string_view stream, const snapshot& snap) {
  std::string value = be64(static_cast<std::uint64_t>(snap.version));
  value.append(snap.data);
  rocksdb::WriteOptions wo;
  wo.sync = opts_.sync;
  rocksdb::WriteBatch batch;
  auto s = batch.Put(snapshots_cf_, slice(stream), value);
  if (s.ok())
    s = write_with_new_keys(wo, batch);
  if (!s.ok())
    return storage_failure(fmt::format("save_snapshot {} at version {}: {}", stream, snap.version, s.ToString()));
  return domain::ok_status();
}

result<std::optional<snapshot>> rocksdb_event_store::load_snapshot(std::string_view stream) {
  std::string value;
  auto s = db_->Get(rocksdb::ReadOptions(), snapshots_cf_, slice(stream), &value);
  if (s.IsNotFound()) return std::optional<snapshot>{};
  if (!s.ok()) return storage_failure(fmt::format("load_snapshot {}: {}", stream, s.ToString()));
  std::uint64_t version = 0;
  if (!get_be64(value, version)) return storage_failure(fmt::format("load_snapshot {}: corrupt snapshot", stream));
  return std::optional<snapshot>{snapshot{static_cast<std::int64_t>(version), value.substr(8)}};
}

void rocksdb_event_store::set_projector(projector p) {
  std::lock_guard lock(projector_mu_);
  projector_ = std::move(p);
}

status rocksdb_event_store::write_views(const std::function<void(kv_writer&)>& f) {
  std::lock_guard views_lock(views_mu_);
  rocksdb::WriteBatchWithIndex batch(rocksdb::BytewiseComparator(), 0, /*overwrite_key=*/true);
  batch_kv_writer writer(db_, views_cf_, batch, keys_.get());
  try {
    f(writer);
  } catch (const std::exception& ex) {
    return make_error(error_code::internal, fmt::format("write_views: nothing written, the writer threw: {}", ex.what()));
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto s = write_with_new_keys(wo, *batch.GetWriteBatch());
  if (!s.ok()) return storage_failure(fmt::format("write_views: {}", s.ToString()));
  return domain::ok_status();
}

status rocksdb_event_store::clear_views() {
  std::lock_guard views_lock(views_mu_);
  std::string last;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), views_cf_));
    it->SeekToLast();
    if (!it->status().ok()) return storage_failure(fmt::format("clear_views: {}", it->status().ToString()));
    if (!it->Valid()) return domain::ok_status();
    last.assign(view(it->key()));
  }
  // DeleteRange's end is exclusive, so the last key goes separately; "" is the smallest key.
  rocksdb::WriteBatch batch;
  auto s = batch.DeleteRange(views_cf_, rocksdb::Slice(), last);
  if (s.ok()) s = batch.Delete(views_cf_, last);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (s.ok()) s = db_->Write(wo, &batch);
  if (!s.ok()) return storage_failure(fmt::format("clear_views: {}", s.ToString()));
  return domain::ok_status();
}

result<std::int64_t> rocksdb_event_store::reserve_ids(std::int64_t count) {
  if (count <= 0)
    return make_error(error_code::invalid_parameter, fmt::format("reserve_ids: count {} is not positive", count),
                      "count");
  std::lock_guard lock(ids_mu_);
  if (count > id_limit_ - next_id_) {
    const std::int64_t limit = next_id_ + std::max(count, id_block);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    auto s = db_->Put(wo, meta_cf_, slice(id_high_water_key), be64(static_cast<std::uint64_t>(limit)));
    if (!s.ok())
      return storage_failure(fmt::format("reserve_ids({}): persisting high-water {} failed: {}", count, limit,
                                         s.ToString()));
    id_limit_ = limit;
  }
  const std::int64_t first = next_id_;
  next_id_ += count;
  return first;
}

} // namespace

result<std::unique_ptr<event_store>> event_store::open(const options& opts) { return rocksdb_event_store::open(opts); }

} // namespace onair::storage
