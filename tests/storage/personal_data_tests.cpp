// Members' personal data sealed under a key of theirs (crypto-shredding): nothing personal in the
// stored bytes, everything back for readers while the key lives, erased everywhere — events,
// views, a rebuild, the feed — once it is destroyed, with the audit chain still whole and the key
// gone from every file of the store.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "domain/member.hpp"
#include "domain/video_room.hpp"
#include "storage/audit_chain.hpp"
#include "storage/audit_verify.hpp"
#include "storage/cloud_events.hpp"
#include "storage/codec.hpp"
#include "storage/event_store.hpp"
#include "storage/personal_data.hpp"
#include "storage/views.hpp"
#include "temp_dir.hpp"

using namespace onair;
using namespace onair::storage;
namespace d = onair::domain;
namespace fs = std::filesystem;
using lookup = personal::key_ring::lookup;

namespace {

constexpr d::app_id app = 7;
constexpr std::string_view email = "alice.private@example.com";

struct sealed_store {
  onair::testing::temp_dir dir{"onair-personal"};
  std::unique_ptr<event_store> store;

  sealed_store() { open(); }
  void open() {
    event_store::options o;
    o.path = (dir.path / "events").string();
    o.signing_key_path = audit::signing_key_path(dir.path).string();
    o.checkpoint_every = 3;
    auto s = event_store::open(o);
    BOOST_REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
    store = std::move(s).value();
    store->set_projector(make_projector());
  }
  personal::key_ring& keys() { return store->personal_keys(); }

  // Appends an aggregate's events as its actor does: encoded, then sealed.
  template <class A>
  void append(const std::string& id, const std::vector<typename A::event>& events) {
    const auto stream = d::stream_id{A::category, app, id}.str();
    auto version = store->stream_version(stream);
    BOOST_REQUIRE(version.ok());
    std::vector<new_event> batch;
    for (const auto& e : events) {
      auto sealed = personal::encode_sealed_event(keys(), A::category, app, id, typename A::event{e});
      BOOST_REQUIRE_MESSAGE(sealed.ok(), (sealed.ok() ? "" : sealed.error().message));
      batch.push_back(std::move(sealed).value());
      batch.back().meta = R"({"principal":"app:k1"})";
    }
    auto r = store->append(stream, *version, std::move(batch));
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  }

  // Alice registers, is renamed, and owns room 42.
  void alice_and_her_room() {
    append<d::member_aggregate>(
        "alice", {d::member_registered{.id = 101,
                                       .app_user_id = "alice",
                                       .app_user_name = "Alice Liddell",
                                       .app_user_profile_img_url = "https://img.example/alice.png",
                                       .email = std::string{email},
                                       .custom_type = "vip",
                                       .custom_data = {{"phone", "+44 20 7946 0000"}},
                                       .stream_key_id = 201,
                                       .at = d::timestamp{1000}},
                  d::member_updated{.app_user_name = "Alice L.", .at = d::timestamp{2000}}});
    append<d::video_room_aggregate>("42", {d::room_created{.id = 42,
                                                           .title = "Tea party",
                                                           .app_user_id = "alice",
                                                           .app_user_name = "Alice L.",
                                                           .at = d::timestamp{3000}}});
  }

  // The log less the audit checkpoints the store signs every third event.
  std::vector<event_record> log(bool with_checkpoints = false) {
    auto all = store->read_all(0, 1000);
    BOOST_REQUIRE(all.ok());
    std::vector<event_record> out;
    for (auto& r : *all)
      if (with_checkpoints || r.type != audit::checkpoint_type)
        out.push_back(std::move(r));
    return out;
  }

  audit::verify_report verify() {
    auto key = audit::verifying_key::from_pem(store->audit_public_key());
    BOOST_REQUIRE(key.ok());
    auto r = audit::verify_store(*store, {.key = &*key});
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return std::move(r).value();
  }

  std::vector<nlohmann::json> feed(bool with_checkpoints = false) {
    std::vector<nlohmann::json> out;
    for (const auto& r : log(with_checkpoints))
      if (auto ce = to_cloud_event(r, app, &keys()))
        out.push_back(std::move(*ce));
    return out;
  }
};

bool any_contains(const std::vector<event_record>& log, std::string_view text) {
  for (const auto& r : log)
    if (r.data.find(text) != std::string::npos)
      return true;
  return false;
}

std::string whole_file(const fs::path& p) {
  std::ifstream in{p, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, {}};
}

} // namespace

BOOST_AUTO_TEST_SUITE(personal_data)

BOOST_AUTO_TEST_CASE(given_a_member_and_its_room_when_stored_then_no_personal_value_is_in_the_stored_bytes) {
  sealed_store s;
  s.alice_and_her_room();
  const auto log = s.log();
  BOOST_REQUIRE_EQUAL(log.size(), 3u);
  // A short text may lie in the sealed base64 by chance ("+44" once did, 1 run in some hundreds):
  // the phone is looked for with its spaces, which base64 never writes.
  for (const auto text : {std::string_view{"Alice"}, email, std::string_view{"alice.png"},
                          std::string_view{"+44 20 7946"}})
    BOOST_TEST(!any_contains(log, text), text << " is stored in the clear");
  BOOST_TEST(any_contains(log, "Tea party")); // the room's own fields are not the member's
  BOOST_TEST(any_contains(log, "\"customType\":\"vip\""));
  const auto first = nlohmann::json::parse(log[0].data);
  BOOST_TEST(first["personalData"]["fields"].dump() ==
             R"(["appUserName","appUserProfileImgUrl","email","customData"])");
  BOOST_TEST(first["personalData"]["keyId"].get<std::string>().size() == 32u);
}

BOOST_AUTO_TEST_CASE(given_sealed_data_when_read_through_views_and_feed_then_it_is_shown_whole) {
  sealed_store s;
  s.alice_and_her_room();
  const auto member = get_view<d::member_aggregate>(s.store->views(), app, "alice");
  BOOST_REQUIRE(member);
  BOOST_TEST(member->state.app_user_name == "Alice L.");
  BOOST_TEST(member->state.email == email);
  BOOST_TEST(member->state.custom_data.at("phone") == "+44 20 7946 0000");
  const auto room = get_view<d::video_room_aggregate>(s.store->views(), app, "42");
  BOOST_REQUIRE(room);
  BOOST_TEST(room->state.app_user_name == "Alice L.");
  BOOST_TEST(room->state.title == "Tea party");

  const auto feed = s.feed();
  BOOST_REQUIRE_EQUAL(feed.size(), 3u);
  BOOST_TEST(feed[0]["data"]["email"] == email);
  BOOST_TEST(feed[0]["data"]["personalData"]["erased"] == false);
  BOOST_TEST(!feed[0]["data"]["personalData"].contains("sealed"));
}

BOOST_AUTO_TEST_CASE(given_a_view_folded_from_one_event_when_stored_then_it_keeps_that_events_box_and_a_changed_one_gets_its_own) {
  sealed_store s;
  s.alice_and_her_room();
  const auto log = s.log();
  BOOST_REQUIRE_EQUAL(log.size(), 3u);
  const auto stored_view = [&s](std::string_view category, std::string_view id) {
    auto raw = s.store->views().get(keys::view(category, app, id));
    BOOST_REQUIRE(raw);
    return nlohmann::json::parse(*raw)["state"]["personalData"];
  };
  // The room's name is the one its created event sealed: the view holds the same box.
  const auto room_event = nlohmann::json::parse(log[2].data)["personalData"];
  BOOST_TEST(stored_view(d::video_room_aggregate::category, "42") == room_event);
  // Alice's view holds her registration's fields with the new name: a box of its own, under her key.
  const auto registered = nlohmann::json::parse(log[0].data)["personalData"];
  const auto member = stored_view(d::member_aggregate::category, "alice");
  BOOST_TEST(member["keyId"] == registered["keyId"]);
  BOOST_TEST(member["sealed"] != registered["sealed"]);
  BOOST_TEST(member["sealed"] != nlohmann::json::parse(log[1].data)["personalData"]["sealed"]);
  const auto opened = get_view<d::member_aggregate>(s.store->views(), app, "alice");
  BOOST_REQUIRE(opened);
  BOOST_TEST(opened->state.app_user_name == "Alice L.");
  BOOST_TEST(opened->state.email == email);
}

BOOST_AUTO_TEST_CASE(given_a_destroyed_key_when_read_anywhere_then_the_fields_are_erased_and_the_chain_still_verifies) {
  sealed_store s;
  s.alice_and_her_room();
  const auto before = s.log();
  auto destroyed = s.keys().destroy(app, "alice");
  BOOST_REQUIRE(destroyed.ok());
  BOOST_TEST(*destroyed == 1);

  // The stored bytes are untouched, so the chains and their signed checkpoints still hold.
  const auto after = s.log();
  BOOST_REQUIRE_EQUAL(after.size(), before.size());
  for (std::size_t i = 0; i < after.size(); ++i)
    BOOST_TEST(after[i].data == before[i].data);
  const auto report = s.verify();
  BOOST_TEST(report.ok(), (report.broken ? report.broken->what : ""));
  BOOST_TEST(report.checkpoints >= 1u);

  // The feed marks the fields erased and shows none of them; checked from outside, it verifies.
  const auto feed = s.feed();
  for (const auto& ce : feed)
    for (const auto text : {std::string_view{"Alice"}, email, std::string_view{"alice.png"}})
      BOOST_TEST(ce.dump().find(text) == std::string::npos, text << " shown after erasure: " << ce.dump());
  BOOST_TEST(feed[0]["data"]["personalData"]["erased"] == true);
  BOOST_TEST(!feed[0]["data"].contains("email"));
  BOOST_TEST(feed[0]["data"]["customType"] == "vip");
  audit::shown_verifier from_outside{nullptr};
  for (const auto& ce : s.feed(/*with_checkpoints=*/true))
    BOOST_TEST(from_outside.add(ce));
  BOOST_TEST(from_outside.report().ok());

  // The views written before the erasure read as erased; so does a rebuild from the log.
  BOOST_TEST(get_view<d::video_room_aggregate>(s.store->views(), app, "42")->state.app_user_name.empty());
  BOOST_TEST(get_view<d::member_aggregate>(s.store->views(), app, "alice")->state.email.empty());
  auto rebuilt = rebuild_views(*s.store);
  BOOST_REQUIRE(rebuilt.ok());
  const auto room = get_view<d::video_room_aggregate>(s.store->views(), app, "42");
  BOOST_REQUIRE(room);
  BOOST_TEST(room->state.app_user_name.empty());
  BOOST_TEST(room->state.title == "Tea party");
  const auto member = get_view<d::member_aggregate>(s.store->views(), app, "alice");
  BOOST_REQUIRE(member);
  BOOST_TEST(member->state.email.empty());
  BOOST_TEST(member->state.app_user_name.empty());
  BOOST_TEST(member->state.custom_type == "vip");
}

BOOST_AUTO_TEST_CASE(given_a_destroyed_key_when_the_store_files_are_searched_then_the_key_is_in_none_of_them) {
  sealed_store s;
  s.alice_and_her_room();
  const auto key = s.keys().key_of(app, "alice", lookup::existing);
  BOOST_REQUIRE(key.ok() && key->key);
  const std::string raw(reinterpret_cast<const char*>(key->key->bytes.data()), key->key->bytes.size());
  // More work after the key was made, so the log files that held it are not the newest.
  for (int i = 0; i < 5; ++i) {
    auto v = s.store->stream_version("note/7/x");
    BOOST_REQUIRE(v.ok());
    BOOST_REQUIRE(s.store->append("note/7/x", *v, {{"note.written", R"({"n":)" + std::to_string(i) + "}", 4000 + i, {}}}).ok());
  }
  BOOST_REQUIRE(s.keys().destroy(app, "alice").ok());
  s.store.reset(); // closed: every file as it stays on disk
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(s.dir.path / "events")) {
    if (!entry.is_regular_file())
      continue;
    ++files;
    BOOST_TEST(whole_file(entry.path()).find(raw) == std::string::npos,
               "the destroyed key is still in " << entry.path().filename());
  }
  BOOST_TEST(files > 0);
  s.open();
  BOOST_TEST(!s.keys().find(key->key->id).has_value());
}

BOOST_AUTO_TEST_CASE(given_the_ring_when_asked_then_keys_are_made_kept_across_a_restart_and_not_remade_after_erasure) {
  sealed_store s;
  auto none = s.keys().key_of(app, "bob", lookup::existing);
  BOOST_REQUIRE(none.ok());
  BOOST_TEST(!none->key.has_value());
  BOOST_TEST(!none->erased);

  auto made = s.keys().key_of(app, "bob", lookup::create);
  BOOST_REQUIRE(made.ok() && made->key);
  s.append<d::video_room_aggregate>("7", {d::room_created{.id = 7, .title = "Bob's", .app_user_id = "bob",
                                                                .app_user_name = "Bob", .at = d::timestamp{1000}}});
  s.store.reset();
  s.open();
  auto again = s.keys().key_of(app, "bob", lookup::existing);
  BOOST_REQUIRE(again.ok() && again->key);
  BOOST_TEST(again->key->id == made->key->id);
  BOOST_TEST((again->key->bytes == made->key->bytes));
  BOOST_TEST(!s.keys().key_of(8, "bob", lookup::existing)->key.has_value()); // another app's bob

  BOOST_REQUIRE(s.keys().destroy(app, "bob").ok());
  BOOST_TEST(*s.keys().destroy(app, "bob") == 0); // twice: nothing left
  auto erased = s.keys().key_of(app, "bob", lookup::create);
  BOOST_REQUIRE(erased.ok());
  BOOST_TEST(!erased->key.has_value()); // nothing seals bob's data again…
  BOOST_TEST(erased->erased);
  s.store.reset();
  s.open();
  BOOST_TEST(s.keys().key_of(app, "bob", lookup::create)->erased); // …after a restart either
  auto renewed = s.keys().key_of(app, "bob", lookup::renew);         // but a new registration has its own key
  BOOST_REQUIRE(renewed.ok() && renewed->key);
  BOOST_TEST(renewed->key->id != made->key->id);
}

BOOST_AUTO_TEST_CASE(given_a_new_key_when_the_store_writes_next_then_the_key_lands_in_that_write_and_not_before) {
  sealed_store s;
  // A key is not a write of its own: made and never used, it is gone with the process…
  auto unused = s.keys().key_of(app, "carol", lookup::create);
  BOOST_REQUIRE(unused.ok() && unused->key);
  s.store.reset();
  s.open();
  BOOST_TEST(!s.keys().key_of(app, "carol", lookup::existing)->key.has_value());
  BOOST_TEST(!s.keys().find(unused->key->id).has_value());
  // …while the write of what it sealed carries it, with one sync for both.
  const auto syncs = s.store->wal_syncs();
  s.append<d::member_aggregate>("carol", {d::member_registered{.id = 103,
                                                               .app_user_id = "carol",
                                                               .email = "carol@example.com",
                                                               .stream_key_id = 203,
                                                               .at = d::timestamp{1000}}});
  BOOST_TEST(s.store->wal_syncs() <= syncs + 1);
  const auto key = s.keys().key_of(app, "carol", lookup::existing);
  BOOST_REQUIRE(key.ok() && key->key);
  s.store.reset();
  s.open();
  BOOST_TEST(s.keys().key_of(app, "carol", lookup::existing)->key->id == key->key->id);
  BOOST_TEST(get_view<d::member_aggregate>(s.store->views(), app, "carol")->state.email == "carol@example.com");
  // A key destroyed before any write carried it stays destroyed: the next write does not bring it back.
  auto dave = s.keys().key_of(app, "dave", lookup::create);
  BOOST_REQUIRE(dave.ok() && dave->key);
  BOOST_REQUIRE(s.keys().destroy(app, "dave").ok());
  s.append<d::video_room_aggregate>("8", {d::room_created{.id = 8, .title = "Carol's", .app_user_id = "carol",
                                                                .app_user_name = "Carol", .at = d::timestamp{2000}}});
  s.store.reset();
  s.open();
  BOOST_TEST(!s.keys().find(dave->key->id).has_value());
  BOOST_TEST(s.keys().key_of(app, "dave", lookup::create)->erased);
}

BOOST_AUTO_TEST_CASE(given_an_erased_member_when_its_data_is_sealed_again_then_it_is_dropped_not_stored) {
  sealed_store s;
  s.alice_and_her_room();
  BOOST_REQUIRE(s.keys().destroy(app, "alice").ok());
  // An actor that still held the name in memory snapshots its room.
  auto state = to_json_value(d::video_room{.id = 42, .app_user_id = "alice", .app_user_name = "Alice L."});
  BOOST_REQUIRE(personal::seal(s.keys(), "video_room", app, "42", state, lookup::create).ok());
  BOOST_TEST(state.dump().find("Alice") == std::string::npos);
  BOOST_TEST(state["personalData"]["erased"] == true);
  // A new registration of the same appUserId is sealed under a new key and reads back.
  s.append<d::member_aggregate>("alice", {d::member_registered{.id = 102,
                                                               .app_user_id = "alice",
                                                               .app_user_name = "Alice Again",
                                                               .stream_key_id = 202,
                                                               .at = d::timestamp{9000}}});
  BOOST_TEST(get_view<d::member_aggregate>(s.store->views(), app, "alice")->state.app_user_name == "Alice Again");
  BOOST_TEST(s.feed().front()["data"]["personalData"]["erased"] == true); // the first registration stays erased
}

BOOST_AUTO_TEST_CASE(given_a_damaged_box_or_an_object_from_before_sealing_when_opened_then_neither_throws) {
  sealed_store s;
  s.alice_and_her_room();
  auto data = nlohmann::json::parse(s.log()[0].data);
  auto damaged = data;
  auto& box = damaged["personalData"]["sealed"].get_ref<std::string&>();
  box[box.size() / 2] = box[box.size() / 2] == 'A' ? 'B' : 'A';
  personal::open(&s.keys(), damaged);
  BOOST_TEST(damaged["personalData"]["unreadable"] == true);
  BOOST_TEST(!damaged.contains("email"));
  auto truncated = data;
  truncated["personalData"]["sealed"] = "QUJD";
  personal::open(&s.keys(), truncated);
  BOOST_TEST(truncated["personalData"]["unreadable"] == true);

  auto legacy = nlohmann::json{{"appUserId", "carol"}, {"appUserName", "Carol"}};
  personal::open(&s.keys(), legacy);
  BOOST_TEST(legacy == (nlohmann::json{{"appUserId", "carol"}, {"appUserName", "Carol"}}));
  personal::open(nullptr, data); // no ring: left sealed
  BOOST_TEST(data["personalData"].contains("sealed"));
}

BOOST_AUTO_TEST_SUITE_END()
