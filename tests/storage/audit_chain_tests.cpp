// The audit chains: every stored event linked into its app's chain, signed checkpoints of the
// heads, and the verifier that names the first position where a stored trail was tampered with
// (a byte changed, an event deleted, two swapped, the end cut off, a checkpoint forged).
#include <boost/test/unit_test.hpp>

#include <rocksdb/db.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "storage/audit_chain.hpp"
#include "storage/audit_verify.hpp"
#include "storage/cloud_events.hpp"
#include "storage/event_store.hpp"
#include "temp_dir.hpp"

using namespace onair::storage;
using namespace onair::storage::audit;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct audited_store {
  onair::testing::temp_dir dir{"onair-audit"};
  std::unique_ptr<event_store> store;

  explicit audited_store(std::uint64_t checkpoint_every = 4) { open(checkpoint_every); }

  void open(std::uint64_t checkpoint_every = 4) {
    event_store::options o;
    o.path = (dir.path / "events").string();
    o.sync = false;
    o.signing_key_path = signing_key_path(dir.path).string();
    o.checkpoint_every = checkpoint_every;
    auto s = event_store::open(o);
    BOOST_REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
    store = std::move(s).value();
  }
  void close() { store.reset(); }

  void append(const std::string& stream, int n) {
    const auto v = store->stream_version(stream);
    BOOST_REQUIRE(v);
    std::vector<new_event> events;
    for (int i = 0; i < n; ++i)
      events.push_back({"video_room.updated", R"({"title":"take )" + std::to_string(i) + R"("})", 1000 + i,
                        R"({"principal":"app:k1"})"});
    auto r = store->append(stream, *v, std::move(events));
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  }

  verifying_key public_key() {
    auto k = verifying_key::from_pem(store ? store->audit_public_key() : read_pub());
    BOOST_REQUIRE_MESSAGE(k.ok(), (k.ok() ? "" : k.error().message));
    return std::move(k).value();
  }
  std::string read_pub() {
    std::ifstream in{signing_key_path(dir.path).string() + ".pub"};
    return {std::istreambuf_iterator<char>{in}, {}};
  }

  verify_report verify() {
    if (!store)
      open();
    const auto key = public_key();
    auto r = verify_store(*store, {.key = &key});
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return std::move(r).value();
  }

  // The raw RocksDB under a closed store: what someone with the disk could change.
  template <class F>
  void tamper(F&& f) {
    close();
    rocksdb::DB* db = nullptr;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const char* name : {"default", "events", "log", "streams", "snapshots", "views", "meta", "keys"})
      cfs.emplace_back(name, rocksdb::ColumnFamilyOptions{});
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    const auto s = rocksdb::DB::Open(rocksdb::DBOptions{}, (dir.path / "events").string(), cfs, &handles, &db);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
    f(*db, handles[2], handles[6]); // log, meta
    for (auto* h : handles)
      db->DestroyColumnFamilyHandle(h);
    delete db;
  }
};

std::string position_key(std::uint64_t p) {
  std::string k;
  for (int shift = 56; shift >= 0; shift -= 8)
    k.push_back(static_cast<char>((p >> shift) & 0xff));
  return k;
}

std::string get(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
  std::string v;
  BOOST_REQUIRE(db.Get({}, cf, key, &v).ok());
  return v;
}

// Positions 1..: app 7's room (3 events), app 9's room (2), app 7's room again (2), a flow (1).
void write_trail(audited_store& a) {
  a.append("video_room/7/42", 3);
  a.append("video_room/9/5", 2);
  a.append("video_room/7/42", 2);
  a.append("flow/7/start-42", 1);
}

} // namespace

BOOST_AUTO_TEST_SUITE(audit_chains)

BOOST_AUTO_TEST_CASE(given_events_of_two_apps_when_written_then_each_app_has_a_chain_of_its_own) {
  audited_store a{1000};
  write_trail(a);
  std::vector<event_record> log;
  BOOST_REQUIRE(a.store->scan_log(0, [&](std::uint64_t, const event_record* r) {
    BOOST_REQUIRE(r);
    log.push_back(*r);
    return true;
  }));
  BOOST_REQUIRE_EQUAL(log.size(), 8u);
  // App 7's events are 1, 2, 3 then 4, 5 of its chain; app 9's 1, 2; the flow is chain 0's first.
  BOOST_TEST(log[0].chain_seq == 1u);
  BOOST_TEST(log[3].chain_seq == 1u);
  BOOST_TEST(log[5].chain_seq == 4u);
  BOOST_TEST(log[7].chain_seq == 1u);
  BOOST_TEST(chain_of(log[7].stream) == 0);
  BOOST_TEST((log[5].prev_hash == log[2].hash)); // linked over app 9's events in between
  BOOST_TEST((log[0].prev_hash == sha256_digest{}));
  BOOST_TEST(log[0].meta == R"({"principal":"app:k1"})");
  const auto r = a.verify();
  BOOST_TEST(r.ok());
  BOOST_TEST(r.events == 8u);
  BOOST_TEST(r.chains.at(7).seq == 5u);
  BOOST_TEST(r.chains.at(9).seq == 2u);
}

BOOST_AUTO_TEST_CASE(given_checkpoint_every_four_when_a_chain_grows_then_signed_heads_are_written_and_verify) {
  audited_store a{4};
  a.append("video_room/7/42", 5); // 5 events: a checkpoint of event 5 follows as event 6
  const auto events = a.store->read_stream(checkpoint_stream(7));
  BOOST_REQUIRE(events);
  BOOST_REQUIRE_EQUAL(events->size(), 1u);
  const auto c = checkpoint::from_json(events->front().data);
  BOOST_REQUIRE(c);
  BOOST_TEST(c->chain == 7);
  BOOST_TEST(c->seq == 5u);
  BOOST_TEST(c->position == 5u);
  BOOST_TEST(a.public_key().verify(c->message(), c->signature));
  BOOST_TEST(!a.public_key().verify(c->message() + "x", c->signature));
  const auto r = a.verify();
  BOOST_TEST(r.ok(), (r.broken ? r.broken->what : ""));
  BOOST_TEST(r.checkpoints == 1u);
  BOOST_TEST(r.chains.at(7).signed_seq == 6u);
}

BOOST_AUTO_TEST_CASE(given_fewer_events_than_a_checkpoint_when_verified_then_they_verify_as_linked_but_unsigned) {
  audited_store a{1000};
  write_trail(a);
  a.close();
  const auto r = a.verify();
  BOOST_TEST(r.ok(), (r.broken ? r.broken->what : ""));
  BOOST_TEST(r.checkpoints == 0u);
  BOOST_TEST(r.chains.at(7).seq == 5u);
  BOOST_TEST(r.chains.at(7).signed_seq == 0u);
}

BOOST_AUTO_TEST_CASE(given_the_interval_passed_when_the_store_is_idle_then_a_checkpoint_is_written) {
  audited_store a{1000};
  a.close();
  event_store::options o;
  o.path = (a.dir.path / "events").string();
  o.sync = false;
  o.signing_key_path = signing_key_path(a.dir.path).string();
  o.checkpoint_interval = 200ms;
  a.store = std::move(event_store::open(o)).value();
  a.append("video_room/7/42", 1);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (a.store->stream_version(checkpoint_stream(7)).value() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms); // the committer's own timer is what is tested
  BOOST_TEST(a.store->stream_version(checkpoint_stream(7)).value() == 1);
}

BOOST_AUTO_TEST_CASE(given_one_byte_of_a_stored_event_changed_when_verified_then_its_position_is_named) {
  audited_store a{1000};
  write_trail(a);
  a.tamper([](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* log, rocksdb::ColumnFamilyHandle*) {
    auto v = get(db, log, position_key(2));
    v[v.size() - 3] ^= 0x01; // in the data: "take 1" becomes "take 0"
    BOOST_REQUIRE(db.Put({}, log, position_key(2), v).ok());
  });
  const auto r = a.verify();
  BOOST_REQUIRE(r.broken);
  BOOST_TEST(r.broken->position == 2u);
  BOOST_TEST(r.broken->what.find("do not match its hash") != std::string::npos, r.broken->what);
}

BOOST_AUTO_TEST_CASE(given_a_stored_event_deleted_when_verified_then_its_position_is_named) {
  audited_store a{1000};
  write_trail(a);
  a.tamper([](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* log, rocksdb::ColumnFamilyHandle*) {
    BOOST_REQUIRE(db.Delete({}, log, position_key(4)).ok());
  });
  const auto r = a.verify();
  BOOST_REQUIRE(r.broken);
  BOOST_TEST(r.broken->position == 4u);
  BOOST_TEST(r.broken->what.find("missing") != std::string::npos, r.broken->what);
}

BOOST_AUTO_TEST_CASE(given_an_event_deleted_and_the_positions_renumbered_when_verified_then_the_gap_in_its_chain_is_named) {
  // Position 2 removed and 3..8 moved down one, as someone hiding the deletion would.
  audited_store a{1000};
  write_trail(a);
  a.tamper([](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* log, rocksdb::ColumnFamilyHandle*) {
    for (std::uint64_t p = 2; p < 8; ++p)
      BOOST_REQUIRE(db.Put({}, log, position_key(p), get(db, log, position_key(p + 1))).ok());
    BOOST_REQUIRE(db.Delete({}, log, position_key(8)).ok());
  });
  const auto r = a.verify();
  BOOST_REQUIRE(r.broken);
  BOOST_TEST(r.broken->position == 2u);
  BOOST_TEST(r.broken->chain == 7);
}

BOOST_AUTO_TEST_CASE(given_two_stored_events_swapped_when_verified_then_the_first_is_named) {
  audited_store a{1000};
  write_trail(a);
  a.tamper([](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* log, rocksdb::ColumnFamilyHandle*) {
    const auto two = get(db, log, position_key(2)), three = get(db, log, position_key(3));
    BOOST_REQUIRE(db.Put({}, log, position_key(2), three).ok());
    BOOST_REQUIRE(db.Put({}, log, position_key(3), two).ok());
  });
  const auto r = a.verify();
  BOOST_REQUIRE(r.broken);
  BOOST_TEST(r.broken->position == 2u);
  BOOST_TEST(r.broken->what.find("out of order") != std::string::npos, r.broken->what);
}

BOOST_AUTO_TEST_CASE(given_the_last_event_of_a_chain_cut_off_when_verified_then_the_missing_head_is_named) {
  audited_store a{1000};
  write_trail(a);
  a.close();
  a.tamper([](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* log, rocksdb::ColumnFamilyHandle*) {
    std::unique_ptr<rocksdb::Iterator> it{db.NewIterator({}, log)};
    it->SeekToLast();
    BOOST_REQUIRE(it->Valid());
    BOOST_REQUIRE(db.Delete({}, log, it->key()).ok());
  });
  const auto r = a.verify();
  BOOST_REQUIRE(r.broken);
  BOOST_TEST(r.broken->what.find("events at its end are missing") != std::string::npos, r.broken->what);
}

BOOST_AUTO_TEST_CASE(given_a_chain_rewritten_from_a_changed_event_on_when_verified_then_its_checkpoint_gives_it_away) {
  // Whoever changes an event can recompute every hash after it, and even write a checkpoint of the
  // new head, but cannot sign it with the data folder's key.
  audited_store a{4};
  a.append("video_room/7/42", 5); // events 1..5, checkpoint 6 signs event 5
  a.close();
  // The same trail with event 3 changed, linked and checkpointed by the same code under another key.
  audited_store forged{4};
  forged.append("video_room/7/42", 2);
  {
    const auto v = forged.store->stream_version("video_room/7/42").value();
    auto r = forged.store->append("video_room/7/42", v,
                                  {new_event{"video_room.updated", R"({"title":"forged"})", 1002, R"({"principal":"app:k1"})"},
                                   new_event{"video_room.updated", R"({"title":"take 3"})", 1003, R"({"principal":"app:k1"})"},
                                   new_event{"video_room.updated", R"({"title":"take 4"})", 1004, R"({"principal":"app:k1"})"}});
    BOOST_REQUIRE(r.ok());
  }
  std::vector<std::string> records;
  forged.tamper([&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* log, rocksdb::ColumnFamilyHandle*) {
    for (std::uint64_t p = 3; p <= 6; ++p)
      records.push_back(get(db, log, position_key(p)));
  });
  a.tamper([&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* log, rocksdb::ColumnFamilyHandle*) {
    for (std::uint64_t p = 3; p <= 6; ++p)
      BOOST_REQUIRE(db.Put({}, log, position_key(p), records[p - 3]).ok());
  });
  const auto r = a.verify();
  BOOST_REQUIRE(r.broken);
  BOOST_TEST(r.broken->position == 6u); // every link holds up to the checkpoint; its signature does not
  BOOST_TEST(r.broken->what.find("signed by key") != std::string::npos, r.broken->what);
}

BOOST_AUTO_TEST_CASE(given_a_checkpoint_signed_by_another_key_when_verified_then_it_is_refused) {
  audited_store a{4};
  a.append("video_room/7/42", 5);
  a.close();
  audited_store other{4};
  const auto foreign = verifying_key::from_pem(other.store->audit_public_key());
  BOOST_REQUIRE(foreign);
  a.open();
  auto r = verify_store(*a.store, {.key = &*foreign});
  BOOST_REQUIRE(r);
  BOOST_REQUIRE(r->broken);
  BOOST_TEST(r->broken->position == 6u);
  BOOST_TEST(r->broken->what.find("signed by key") != std::string::npos, r->broken->what);
}

BOOST_AUTO_TEST_CASE(given_the_data_folder_when_reopened_then_the_same_key_signs) {
  audited_store a{1000};
  const auto first = a.store->audit_public_key();
  a.close();
  a.open();
  BOOST_TEST(a.store->audit_public_key() == first);
  BOOST_TEST(((fs::status(signing_key_path(a.dir.path)).permissions() & fs::perms::group_read) == fs::perms::none));
}

// From outside: the same trail as one app's feed shows it (CloudEvents), checked with the public key.
namespace {
std::vector<nlohmann::json> feed_of(event_store& store, std::int64_t app) {
  std::vector<nlohmann::json> out;
  BOOST_REQUIRE(store.scan_log(0, [&](std::uint64_t, const event_record* r) {
    if (auto ce = to_cloud_event(*r, app, &store.personal_keys()))
      out.push_back(*ce);
    return true;
  }));
  return out;
}
verify_report verify_shown(const std::vector<nlohmann::json>& feed, const verifying_key& key) {
  shown_verifier v{&key};
  for (const auto& e : feed)
    if (!v.add(e))
      break;
  return v.report();
}
} // namespace

BOOST_AUTO_TEST_CASE(given_an_apps_feed_when_verified_from_outside_then_its_chain_and_checkpoints_hold) {
  audited_store a{4};
  write_trail(a);                 // app 7: 5 events; app 9: 2; a flow
  a.append("stream_key/7/3", 1);  // with a stream key value the feed masks
  {
    const auto v = a.store->stream_version("stream_key/7/3").value();
    BOOST_REQUIRE(a.store->append("stream_key/7/3", v, {new_event{"stream_key.reissued", R"({"newStreamKey":"sk_secret"})", 2000, {}}}).ok());
  }
  const auto feed = feed_of(*a.store, 7);
  BOOST_REQUIRE(!feed.empty());
  for (const auto& e : feed)
    BOOST_TEST(e.dump().find("sk_secret") == std::string::npos);
  const auto key = a.public_key();
  const auto r = verify_shown(feed, key);
  BOOST_TEST(r.ok(), (r.broken ? r.broken->what : ""));
  BOOST_TEST(r.checkpoints >= 1u);
  BOOST_TEST(r.chains.at(7).seq == feed.back().value("onairchainseq", 0u));
}

BOOST_AUTO_TEST_CASE(given_a_shown_event_changed_dropped_or_its_provenance_rewritten_when_verified_then_it_is_named) {
  audited_store a{4};
  write_trail(a);
  const auto feed = feed_of(*a.store, 7);
  const auto key = a.public_key();
  const auto position_of = [](const nlohmann::json& e) { return std::stoull(e["id"].get<std::string>()); };

  auto changed = feed;
  changed[1]["data"]["title"] = "rewritten";
  auto r = verify_shown(changed, key);
  BOOST_REQUIRE(r.broken);
  BOOST_TEST(r.broken->position == position_of(feed[1]));
  BOOST_TEST(r.broken->what.find("not what was stored") != std::string::npos, r.broken->what);

  auto dropped = feed;
  dropped.erase(dropped.begin() + 1);
  r = verify_shown(dropped, key);
  BOOST_REQUIRE(r.broken);
  BOOST_TEST(r.broken->position == position_of(feed[2]));

  auto someone_else = feed;
  someone_else[0]["onairprincipal"] = "member:mallory";
  r = verify_shown(someone_else, key);
  BOOST_REQUIRE(r.broken);
  BOOST_TEST(r.broken->position == position_of(feed[0]));
  BOOST_TEST(r.broken->what.find("do not match its hash") != std::string::npos, r.broken->what);
}

BOOST_AUTO_TEST_SUITE_END()
