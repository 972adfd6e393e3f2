// The read models: lists in every order and page, app isolation, lookups that follow reissues,
// work sets that follow state, and rebuild-views giving back exactly what the projection wrote.
// Events come from the real deciders, encoded as the store keeps them, so the views see what the
// actors would append.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "domain/aggregate.hpp"
#include "domain/validation.hpp"
#include "storage/codec.hpp"
#include "storage/event_store.hpp"
#include "storage/view_hooks.hpp"
#include "storage/views.hpp"

using namespace onair;
using namespace onair::storage;
namespace d = onair::domain;

namespace {

class temp_dir {
public:
  temp_dir() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("onair-views-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  [[nodiscard]] std::string str() const { return path_.string(); }

private:
  std::filesystem::path path_;
};

// 2026-11-24T09:30:00.000Z
constexpr std::int64_t t0_ms = 1795512600000;

d::timestamp at(std::int64_t seconds) { return d::timestamp{t0_ms + seconds * 1000}; }

// A command's context at t0 + seconds; fresh values derived from n (unique per n).
d::context ctx(std::int64_t seconds, int n = 1) {
  const auto s = std::to_string(n);
  return d::context{.now = at(seconds),
                    .new_id = 100 + n,
                    .new_id_2 = 200 + n,
                    .new_secret = "secret-" + s,
                    .new_public_id = "public-" + s,
                    .new_uuid = "00000000-0000-4000-8000-" + std::string(12 - s.size(), '0') + s};
}

using key_values = std::map<std::string, std::string>;

std::string describe_difference(const key_values& expected, const key_values& actual) {
  std::ostringstream os;
  for (const auto& [k, v] : expected) {
    auto it = actual.find(k);
    if (it == actual.end())
      os << "missing " << k << " = " << v << "\n";
    else if (it->second != v)
      os << "differs " << k << ":\n  expected " << v << "\n  actual   " << it->second << "\n";
  }
  for (const auto& [k, v] : actual)
    if (!expected.count(k))
      os << "extra " << k << " = " << v << "\n";
  return os.str();
}

struct views_fixture {
  views_fixture() {
    event_store::options opts;
    opts.path = dir.str();
    opts.sync = false;
    auto s = event_store::open(opts);
    BOOST_REQUIRE_MESSAGE(s.ok(), "open: " << (s.ok() ? "" : s.error().message));
    store = std::move(s).value();
    store->set_projector(make_projector());
  }

  [[nodiscard]] const kv_reader& views() const { return store->views(); }

  // The aggregate's state folded from its stream in the store (a codec round trip as well).
  template <class A>
  typename A::state load(d::app_id app, const std::string& id, std::int64_t* version = nullptr) {
    auto recs = store->read_stream(d::stream_id{A::category, app, id}.str());
    BOOST_REQUIRE(recs.ok());
    auto s = A::initial_state();
    for (const auto& rec : *recs) {
      auto ev = decode_event<typename A::event>(rec.type, rec.data);
      BOOST_REQUIRE_MESSAGE(ev.ok(), rec.type << ": " << (ev.ok() ? "" : ev.error().message));
      s = A::evolve(std::move(s), *ev);
    }
    if (version)
      *version = static_cast<std::int64_t>(recs->size());
    return s;
  }

  // decide() on the stored state, append what it yields, return the new state.
  template <class A>
  typename A::state exec(d::app_id app, const std::string& id, const typename A::command& cmd, const d::context& c) {
    std::int64_t version = 0;
    auto s = load<A>(app, id, &version);
    auto evs = A::decide(cmd, s, c);
    BOOST_REQUIRE_MESSAGE(evs.ok(), A::category << "/" << app << "/" << id << ": "
                                                << (evs.ok() ? "" : evs.error().message));
    std::vector<new_event> batch;
    for (const auto& e : *evs) {
      batch.push_back(encode_event(e));
      s = A::evolve(std::move(s), e);
    }
    if (!batch.empty()) {
      auto r = store->append(d::stream_id{A::category, app, id}.str(), version, std::move(batch));
      BOOST_REQUIRE_MESSAGE(r.ok(), "append: " << (r.ok() ? "" : r.error().message));
    }
    return s;
  }

  // ---- shorthands for the aggregates used below
  d::video_room room(d::app_id app, std::int64_t id, const std::string& title, std::int64_t seconds, int n) {
    return exec<d::video_room_aggregate>(app, std::to_string(id),
                                         d::create_room{.id = id,
                                                        .type = d::room_type::broadcast_rtmp,
                                                        .title = title,
                                                        .member_id = 1,
                                                        .app_user_id = "alice",
                                                        .scheduled_at = at(3600)},
                                         ctx(seconds, n));
  }
  d::video_room room_do(d::app_id app, std::int64_t id, const d::video_room_aggregate::command& cmd,
                        std::int64_t seconds, int n = 1) {
    return exec<d::video_room_aggregate>(app, std::to_string(id), cmd, ctx(seconds, n));
  }
  d::stream_key key_do(d::app_id app, std::int64_t id, const d::stream_key_aggregate::command& cmd,
                       std::int64_t seconds, int n = 1) {
    return exec<d::stream_key_aggregate>(app, std::to_string(id), cmd, ctx(seconds, n));
  }
  d::member member_do(d::app_id app, const std::string& user, const d::member_aggregate::command& cmd,
                      std::int64_t seconds, int n = 1) {
    return exec<d::member_aggregate>(app, user, cmd, ctx(seconds, n));
  }
  d::flow flow_do(d::app_id app, std::int64_t id, const d::flow_aggregate::command& cmd, std::int64_t seconds) {
    return exec<d::flow_aggregate>(app, std::to_string(id), cmd, ctx(seconds));
  }

  [[nodiscard]] key_values all_views() const {
    key_values out;
    views().scan("", [&](std::string_view k, std::string_view v) {
      out.emplace(std::string{k}, std::string{v});
      return true;
    });
    return out;
  }

  [[nodiscard]] bool in_set(std::string_view set, d::app_id app, const std::string& id) const {
    for (const auto& e : members_of(views(), set))
      if (e.where.app == app && e.where.id == id)
        return true;
    return false;
  }

  temp_dir dir;
  std::unique_ptr<event_store> store;
};

template <class State>
std::vector<std::int64_t> ids_of(const page<State>& p) {
  std::vector<std::int64_t> ids;
  for (const auto& v : p.content)
    ids.push_back(v.state.id);
  return ids;
}

using ids = std::vector<std::int64_t>;

page<d::video_room> rooms(const kv_reader& r, d::app_id app, int page_no, int size, sort_order sort,
                          const std::function<bool(const d::video_room&)>& keep = {}) {
  return list_views<d::video_room_aggregate>(r, app, page_request{page_no, size, sort}, keep);
}

// Where a lookup points, as "app/id" (or "none"), for readable comparisons.
std::string target(const kv_reader& r, std::string_view index, std::string_view value) {
  auto l = find_by(r, index, value);
  return l ? std::to_string(l->app) + "/" + l->id : std::string{"none"};
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(views_suite, views_fixture)

BOOST_AUTO_TEST_CASE(rooms_list_in_every_sort_order) {
  for (std::int64_t id = 1; id <= 5; ++id)
    room(1, id, "room " + std::to_string(id), id * 10, static_cast<int>(id));
  // Change two rooms later, room 2 last: the last-modified order differs from the creation order.
  room_do(1, 4, d::patch_room{.title = "room 4 renamed"}, 90);
  room_do(1, 2, d::patch_room{.description = "now with a description"}, 100);

  const auto& r = views();
  BOOST_TEST(ids_of(rooms(r, 1, 0, 20, sort_order::created_at_asc)) == (ids{1, 2, 3, 4, 5}),
             boost::test_tools::per_element());
  BOOST_TEST(ids_of(rooms(r, 1, 0, 20, sort_order::created_at_desc)) == (ids{5, 4, 3, 2, 1}),
             boost::test_tools::per_element());
  BOOST_TEST(ids_of(rooms(r, 1, 0, 20, sort_order::last_modified_at_asc)) == (ids{1, 3, 5, 4, 2}),
             boost::test_tools::per_element());
  BOOST_TEST(ids_of(rooms(r, 1, 0, 20, sort_order::last_modified_at_desc)) == (ids{2, 4, 5, 3, 1}),
             boost::test_tools::per_element());

  // The default request: newest first, every room counted.
  auto def = list_views<d::video_room_aggregate>(r, 1, page_request{});
  BOOST_TEST(ids_of(def) == (ids{5, 4, 3, 2, 1}), boost::test_tools::per_element());
  BOOST_TEST(def.total_elements == 5);

  // Entries carry their stream version and current state.
  auto lm = rooms(r, 1, 0, 1, sort_order::last_modified_at_desc);
  BOOST_REQUIRE_EQUAL(lm.content.size(), 1u);
  BOOST_TEST(lm.content[0].version == 2);
  BOOST_TEST(lm.content[0].state.description == "now with a description");
  BOOST_TEST(lm.content[0].state.last_modified_at.ms == at(100).ms);

  // Changing a room again moves it in the last-modified order only (its old entry is gone).
  room_do(1, 1, d::patch_room{.title = "room 1 renamed"}, 200);
  BOOST_TEST(ids_of(rooms(r, 1, 0, 20, sort_order::last_modified_at_desc)) == (ids{1, 2, 4, 5, 3}),
             boost::test_tools::per_element());
  BOOST_TEST(rooms(r, 1, 0, 20, sort_order::last_modified_at_asc).total_elements == 5);
  BOOST_TEST(ids_of(rooms(r, 1, 0, 20, sort_order::created_at_asc)) == (ids{1, 2, 3, 4, 5}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(pagination_edges) {
  for (std::int64_t id = 1; id <= 7; ++id)
    room(1, id, "room " + std::to_string(id), id, static_cast<int>(id));
  const auto& r = views();

  auto p0 = rooms(r, 1, 0, 3, sort_order::created_at_asc);
  auto p1 = rooms(r, 1, 1, 3, sort_order::created_at_asc);
  auto p2 = rooms(r, 1, 2, 3, sort_order::created_at_asc);
  auto p3 = rooms(r, 1, 3, 3, sort_order::created_at_asc);
  auto far = rooms(r, 1, 1000, 3, sort_order::created_at_asc);
  BOOST_TEST(ids_of(p0) == (ids{1, 2, 3}), boost::test_tools::per_element());
  BOOST_TEST(ids_of(p1) == (ids{4, 5, 6}), boost::test_tools::per_element());
  BOOST_TEST(ids_of(p2) == (ids{7}), boost::test_tools::per_element()); // the last, partial page
  BOOST_TEST(p3.content.empty());                                         // just past the end
  BOOST_TEST(far.content.empty());
  for (const auto* p : {&p0, &p1, &p2, &p3, &far})
    BOOST_TEST(p->total_elements == 7);

  // Newest first: the last page holds the oldest.
  BOOST_TEST(ids_of(rooms(r, 1, 2, 3, sort_order::created_at_desc)) == (ids{1}), boost::test_tools::per_element());
  BOOST_TEST(ids_of(rooms(r, 1, 1, 3, sort_order::last_modified_at_desc)) == (ids{4, 3, 2}),
             boost::test_tools::per_element());

  // A page exactly as large as the list, larger, and of one.
  BOOST_TEST(rooms(r, 1, 0, 7, sort_order::created_at_asc).content.size() == 7u);
  BOOST_TEST(rooms(r, 1, 1, 7, sort_order::created_at_asc).content.empty());
  BOOST_TEST(rooms(r, 1, 0, 100, sort_order::created_at_asc).content.size() == 7u);
  BOOST_TEST(ids_of(rooms(r, 1, 6, 1, sort_order::created_at_asc)) == (ids{7}), boost::test_tools::per_element());
  BOOST_TEST(rooms(r, 1, 7, 1, sort_order::created_at_asc).content.empty());

  // No rooms at all.
  auto none = rooms(r, 2, 0, 20, sort_order::created_at_desc);
  BOOST_TEST(none.content.empty());
  BOOST_TEST(none.total_elements == 0);
}

BOOST_AUTO_TEST_CASE(keep_filters_before_paging_and_counting) {
  for (std::int64_t id = 1; id <= 6; ++id)
    room(1, id, id % 2 ? "odd" : "even", id, static_cast<int>(id));
  room_do(1, 3, d::cancel_room{}, 50);
  room_do(1, 5, d::cancel_room{}, 60);
  const auto& r = views();

  const auto scheduled = [](const d::video_room& v) { return v.state == d::room_state::scheduled; };
  auto all = rooms(r, 1, 0, 20, sort_order::created_at_asc, scheduled);
  BOOST_TEST(ids_of(all) == (ids{1, 2, 4, 6}), boost::test_tools::per_element());
  BOOST_TEST(all.total_elements == 4);

  auto second = rooms(r, 1, 1, 3, sort_order::created_at_asc, scheduled);
  BOOST_TEST(ids_of(second) == (ids{6}), boost::test_tools::per_element());
  BOOST_TEST(second.total_elements == 4);

  const auto odd_cancelled = [](const d::video_room& v) {
    return v.title == "odd" && v.state == d::room_state::cancelled;
  };
  auto oc = rooms(r, 1, 0, 20, sort_order::last_modified_at_desc, odd_cancelled);
  BOOST_TEST(ids_of(oc) == (ids{5, 3}), boost::test_tools::per_element());
  BOOST_TEST(oc.total_elements == 2);

  auto nothing = rooms(r, 1, 0, 20, sort_order::created_at_desc, [](const d::video_room&) { return false; });
  BOOST_TEST(nothing.content.empty());
  BOOST_TEST(nothing.total_elements == 0);
}

BOOST_AUTO_TEST_CASE(apps_never_see_each_others_rooms) {
  // The same room ids in apps 1, 2 and 17 (0x11: a prefix clash would show with 1).
  for (std::int64_t id = 1; id <= 3; ++id)
    room(1, id, "app1 room " + std::to_string(id), id, static_cast<int>(id));
  for (std::int64_t id = 1; id <= 2; ++id)
    room(2, id, "app2 room " + std::to_string(id), 10 + id, static_cast<int>(10 + id));
  room(17, 1, "app17 room 1", 20, 20);
  const auto& r = views();

  for (auto sort : {sort_order::created_at_asc, sort_order::created_at_desc, sort_order::last_modified_at_asc,
                    sort_order::last_modified_at_desc}) {
    auto a1 = rooms(r, 1, 0, 20, sort);
    BOOST_TEST(a1.total_elements == 3);
    for (const auto& v : a1.content)
      BOOST_TEST(v.state.title.rfind("app1 ", 0) == 0u, v.state.title);
    auto a2 = rooms(r, 2, 0, 20, sort);
    BOOST_TEST(a2.total_elements == 2);
    for (const auto& v : a2.content)
      BOOST_TEST(v.state.title.rfind("app2 ", 0) == 0u, v.state.title);
    auto a17 = rooms(r, 17, 0, 20, sort);
    BOOST_TEST(a17.total_elements == 1);
    BOOST_TEST(rooms(r, 3, 0, 20, sort).total_elements == 0);
  }

  auto v1 = get_view<d::video_room_aggregate>(r, 1, "1");
  auto v2 = get_view<d::video_room_aggregate>(r, 2, "1");
  BOOST_REQUIRE(v1.has_value());
  BOOST_REQUIRE(v2.has_value());
  BOOST_TEST(v1->state.title == "app1 room 1");
  BOOST_TEST(v2->state.title == "app2 room 1");
  BOOST_TEST(!get_view<d::video_room_aggregate>(r, 2, "3").has_value());
  BOOST_TEST(!get_view<d::video_room_aggregate>(r, 3, "1").has_value());
  // A view of another category under the same id is not a room.
  BOOST_TEST(!get_view<d::stream_key_aggregate>(r, 1, "1").has_value());
}

BOOST_AUTO_TEST_CASE(get_view_follows_version_and_state) {
  const auto& r = views();
  BOOST_TEST(!get_view<d::video_room_aggregate>(r, 1, "9").has_value());
  auto created = room(1, 9, "first title", 1, 1);
  auto v = get_view<d::video_room_aggregate>(r, 1, "9");
  BOOST_REQUIRE(v.has_value());
  BOOST_TEST(v->version == 1);
  BOOST_TEST((v->state == created));

  auto patched = room_do(1, 9, d::patch_room{.title = "second title", .custom_data = d::custom_data_map{{"k", "v"}}},
                         2);
  auto cancelled = room_do(1, 9, d::cancel_room{}, 3);
  v = get_view<d::video_room_aggregate>(r, 1, "9");
  BOOST_REQUIRE(v.has_value());
  BOOST_TEST(v->version == 3);
  BOOST_TEST((v->state == cancelled));
  BOOST_TEST(v->state.title == "second title");
  BOOST_TEST(v->state.custom_data.at("k") == "v");
  BOOST_TEST((v->state.state == d::room_state::cancelled));
  // A command that yields nothing leaves the view as it was.
  room_do(1, 9, d::cancel_room{}, 4);
  BOOST_TEST(get_view<d::video_room_aggregate>(r, 1, "9")->version == 3);
  (void)patched;
}

BOOST_AUTO_TEST_CASE(member_lookups_and_the_pending_key_set) {
  const auto& r = views();
  auto alice = member_do(1, "alice", d::upsert_member{.app_user_id = "alice", .app_user_name = "Alice"}, 1, 1);
  BOOST_REQUIRE_EQUAL(alice.id, 101);
  BOOST_REQUIRE_EQUAL(alice.stream_key_id, 201);
  BOOST_TEST(target(r, "member_id", encode_located(1, "101")) == "1/alice");
  BOOST_TEST(target(r, "member_id", encode_located(2, "101")) == "none"); // ids are per app
  // Registered, its key not created yet: pending.
  BOOST_TEST(in_set("pending_key", 1, "201"));
  auto pending = members_of(r, "pending_key");
  BOOST_REQUIRE_EQUAL(pending.size(), 1u);
  BOOST_TEST(pending[0].value == "alice");

  // An update is not a registration: lookups and sets unchanged.
  member_do(1, "alice", d::upsert_member{.app_user_id = "alice", .app_user_name = "Alice B."}, 2, 2);
  BOOST_TEST(target(r, "member_id", encode_located(1, "101")) == "1/alice");
  BOOST_TEST(members_of(r, "pending_key").size() == 1u);

  // The key is created: no longer pending; found by its value and preview id.
  auto key = key_do(1, 201, d::create_key{.id = 201, .member_id = 101, .app_user_id = "alice"}, 3, 3);
  BOOST_TEST(!in_set("pending_key", 1, "201"));
  BOOST_TEST(members_of(r, "pending_key").empty());
  BOOST_TEST(target(r, "key_value", key.value) == "1/201");
  BOOST_TEST(target(r, "preview", key.preview_id) == "1/201");

  // Deleted and registered again: a new id and key; the old id no longer leads to the member.
  member_do(1, "alice", d::delete_member{}, 4, 4);
  auto again = member_do(1, "alice", d::upsert_member{.app_user_id = "alice"}, 5, 5);
  BOOST_REQUIRE_EQUAL(again.id, 105);
  BOOST_TEST(target(r, "member_id", encode_located(1, "101")) == "none");
  BOOST_TEST(target(r, "member_id", encode_located(1, "105")) == "1/alice");
  BOOST_TEST(in_set("pending_key", 1, "205"));

  // Members of the same appUserId in two apps are two members.
  member_do(2, "alice", d::upsert_member{.app_user_id = "alice"}, 6, 6);
  BOOST_TEST(target(r, "member_id", encode_located(2, "106")) == "2/alice");
  auto m1 = list_views<d::member_aggregate>(r, 1, page_request{});
  auto m2 = list_views<d::member_aggregate>(r, 2, page_request{});
  BOOST_TEST(m1.total_elements == 1);
  BOOST_TEST(m2.total_elements == 1);
  BOOST_TEST(m1.content.at(0).state.id == 105);
}

BOOST_AUTO_TEST_CASE(stream_key_lookups_follow_reissues_and_the_active_set_follows_state) {
  const auto& r = views();
  auto k = key_do(1, 7, d::create_key{.id = 7, .member_id = 1, .app_user_id = "alice"}, 1, 1);
  BOOST_TEST(k.value == "secret-1");
  BOOST_TEST(target(r, "key_value", "secret-1") == "1/7");
  BOOST_TEST(target(r, "preview", "public-1") == "1/7");
  BOOST_TEST(!in_set("active_key", 1, "7"));

  // Reissued while idle: the old value and preview lead nowhere, the new ones to the key.
  k = key_do(1, 7, d::reissue_key{}, 2, 2);
  BOOST_TEST(target(r, "key_value", "secret-1") == "none");
  BOOST_TEST(target(r, "preview", "public-1") == "none");
  BOOST_TEST(target(r, "key_value", "secret-2") == "1/7");
  BOOST_TEST(target(r, "preview", "public-2") == "1/7");

  // A publisher: active (prep, then viewable).
  key_do(1, 7, d::connect_publisher{.presented_value = "secret-2", .session_id = "s1"}, 3);
  BOOST_TEST(in_set("active_key", 1, "7"));
  key_do(1, 7, d::mark_viewable{.session_id = "s1"}, 4);
  BOOST_TEST(in_set("active_key", 1, "7"));
  // Gone: inactive again.
  k = key_do(1, 7, d::disconnect_publisher{.session_id = "s1", .reason = "bye"}, 5);
  BOOST_TEST((k.state == d::key_state::inactive));
  BOOST_TEST(!in_set("active_key", 1, "7"));

  // Live, then the publisher drops: INACTIVE_LIVE is still in the set (it holds a live room).
  key_do(1, 7, d::connect_publisher{.presented_value = "secret-2", .session_id = "s2"}, 6);
  key_do(1, 7, d::mark_viewable{.session_id = "s2"}, 7);
  key_do(1, 7, d::attach_live{.room_id = 40}, 8);
  k = key_do(1, 7, d::disconnect_publisher{.session_id = "s2"}, 9);
  BOOST_TEST((k.state == d::key_state::inactive_live));
  BOOST_TEST(in_set("active_key", 1, "7"));
  k = key_do(1, 7, d::detach_live{.room_id = 40}, 10);
  BOOST_TEST((k.state == d::key_state::inactive));
  BOOST_TEST(!in_set("active_key", 1, "7"));

  // Forced end while publishing: out of the set, and the value reissued.
  key_do(1, 7, d::connect_publisher{.presented_value = "secret-2", .session_id = "s3"}, 11);
  BOOST_TEST(in_set("active_key", 1, "7"));
  k = key_do(1, 7, d::force_end{.reason = "operator"}, 12, 3);
  BOOST_TEST(k.value == "secret-3");
  BOOST_TEST(!in_set("active_key", 1, "7"));
  BOOST_TEST(target(r, "key_value", "secret-2") == "none");
  BOOST_TEST(target(r, "preview", "public-2") == "none");
  BOOST_TEST(target(r, "key_value", "secret-3") == "1/7");
  BOOST_TEST(target(r, "preview", "public-3") == "1/7");

  // Revoked while publishing: out of the set; its value still identifies it (ingest refuses it).
  key_do(1, 7, d::connect_publisher{.presented_value = "secret-3", .session_id = "s4"}, 13);
  BOOST_TEST(in_set("active_key", 1, "7"));
  k = key_do(1, 7, d::revoke_key{}, 14);
  BOOST_TEST(k.revoked);
  BOOST_TEST(!in_set("active_key", 1, "7"));
  BOOST_TEST(target(r, "key_value", "secret-3") == "1/7");

  // Another app's key is another entry.
  key_do(2, 7, d::create_key{.id = 7, .member_id = 1, .app_user_id = "alice"}, 15, 9);
  BOOST_TEST(target(r, "key_value", "secret-9") == "2/7");
  key_do(2, 7, d::connect_publisher{.presented_value = "secret-9", .session_id = "x"}, 16);
  BOOST_TEST(in_set("active_key", 2, "7"));
  BOOST_TEST(!in_set("active_key", 1, "7"));
}

BOOST_AUTO_TEST_CASE(live_room_set_and_public_lookup_follow_the_room) {
  const auto& r = views();
  auto live = room(1, 30, "live", 1, 30);
  BOOST_TEST(target(r, "room_public", live.public_id) == "1/30");
  BOOST_TEST(!in_set("live_room", 1, "30"));

  room_do(1, 30, d::start_live{.stream_key_id = 7, .broadcast_id = 500}, 2);
  BOOST_TEST(in_set("live_room", 1, "30"));
  room_do(1, 30, d::publisher_lost{}, 3);
  BOOST_TEST(in_set("live_room", 1, "30")); // LIVE_INACTIVE is still on air
  room_do(1, 30, d::publisher_back{}, 4);
  BOOST_TEST(in_set("live_room", 1, "30"));
  room_do(1, 30, d::publisher_lost{}, 5);
  auto ended = room_do(1, 30, d::end_live{.video_post_id = 600}, 6);
  BOOST_TEST((ended.state == d::room_state::ended));
  BOOST_TEST(!in_set("live_room", 1, "30"));
  room_do(1, 30, d::mark_vod_archived{.vod_url = "file:///vod/30.mp4"}, 7);
  BOOST_TEST(!in_set("live_room", 1, "30"));
  BOOST_TEST(target(r, "room_public", live.public_id) == "1/30"); // a room's public id never changes

  // Forced end straight from LIVE.
  room(1, 31, "forced", 10, 31);
  room_do(1, 31, d::start_live{.stream_key_id = 8, .broadcast_id = 501}, 11);
  BOOST_TEST(in_set("live_room", 1, "31"));
  room_do(1, 31, d::end_live{.forced = true, .video_post_id = 601}, 12);
  BOOST_TEST(!in_set("live_room", 1, "31"));

  // A cancelled room was never on air.
  auto cancelled = room(2, 32, "cancelled", 20, 32);
  room_do(2, 32, d::cancel_room{}, 21);
  BOOST_TEST(!in_set("live_room", 2, "32"));
  BOOST_TEST(target(r, "room_public", cancelled.public_id) == "2/32");
  BOOST_TEST(members_of(r, "live_room").empty());
}

BOOST_AUTO_TEST_CASE(open_flow_set_follows_the_flow_status) {
  const auto& r = views();
  const d::flow_params p{.room_id = 30, .stream_key_id = 7, .broadcast_id = 500, .member_id = 1,
                         .app_user_id = "alice"};
  flow_do(1, 900, d::begin_flow{.kind = d::flow_kind::start_live, .params = p}, 1);
  flow_do(1, 901, d::begin_flow{.kind = d::flow_kind::start_live, .params = p}, 2);
  flow_do(2, 900, d::begin_flow{.kind = d::flow_kind::end_live, .params = p}, 3);
  BOOST_TEST(in_set("open_flow", 1, "900"));
  BOOST_TEST(in_set("open_flow", 1, "901"));
  BOOST_TEST(in_set("open_flow", 2, "900"));
  BOOST_TEST(members_of(r, "open_flow").size() == 3u);

  // Steps done, still running; then completed.
  flow_do(1, 900, d::complete_step{d::flow_step::attach_key}, 4);
  flow_do(1, 900, d::complete_step{d::flow_step::start_broadcast}, 5);
  BOOST_TEST(in_set("open_flow", 1, "900"));
  auto done = flow_do(1, 900, d::complete_step{d::flow_step::start_room}, 6);
  BOOST_TEST((done.status == d::flow_status::completed));
  BOOST_TEST(!in_set("open_flow", 1, "900"));

  // Failed.
  flow_do(1, 901, d::fail_flow{.error_code = "STREAM_KEY_STATE_NOT_ACTIVE", .error_message = "idle key"}, 7);
  BOOST_TEST(!in_set("open_flow", 1, "901"));
  // The other app's flow, untouched.
  BOOST_TEST(in_set("open_flow", 2, "900"));
  BOOST_TEST(members_of(r, "open_flow").size() == 1u);
  auto fv = get_view<d::flow_aggregate>(r, 1, "901");
  BOOST_REQUIRE(fv.has_value());
  BOOST_TEST((fv->state.status == d::flow_status::failed));
  BOOST_TEST(fv->state.error_message == "idle key");
}

BOOST_AUTO_TEST_CASE(apps_are_found_by_id_in_partition_zero) {
  const auto& r = views();
  auto created = exec<d::app_aggregate>(0, "key-abc",
                                        d::create_app{.name = "demo", .api_key = "key-abc", .secret_hash = "h",
                                                      .secret_salt = "s", .signing_key = "k"},
                                        ctx(1, 7));
  BOOST_TEST(created.id == 107);
  BOOST_TEST(target(r, "app_id", "107") == "0/key-abc");
  BOOST_TEST(target(r, "app_id", "108") == "none");
  auto v = get_view<d::app_aggregate>(r, 0, "key-abc");
  BOOST_REQUIRE(v.has_value());
  BOOST_TEST(v->state.name == "demo");
  auto apps = list_views<d::app_aggregate>(r, 0, page_request{});
  BOOST_TEST(apps.total_elements == 1);
}

BOOST_AUTO_TEST_CASE(rebuild_gives_back_exactly_the_incremental_views) {
  // A history touching every hook: apps, members (one deleted and back), keys reissued and
  // live, rooms in every state, flows open, completed and failed, over three apps.
  exec<d::app_aggregate>(0, "key-a", d::create_app{.name = "a", .api_key = "key-a"}, ctx(0, 1));
  exec<d::app_aggregate>(0, "key-b", d::create_app{.name = "b", .api_key = "key-b"}, ctx(0, 2));
  exec<d::app_aggregate>(0, "key-a", d::change_app_settings{.default_mode = d::output_mode::cmaf}, ctx(1, 3));
  for (d::app_id app : {1, 2, 17}) {
    const int base = static_cast<int>(app) * 100;
    auto m = member_do(app, "alice", d::upsert_member{.app_user_id = "alice"}, 1, base + 1);
    key_do(app, m.stream_key_id, d::create_key{.id = m.stream_key_id, .member_id = m.id, .app_user_id = "alice"}, 2,
           base + 2);
    member_do(app, "bob", d::upsert_member{.app_user_id = "bob", .email = "bob@example.com"}, 3, base + 3);
    key_do(app, m.stream_key_id, d::reissue_key{}, 4, base + 4);
    auto k = load<d::stream_key_aggregate>(app, std::to_string(m.stream_key_id));
    key_do(app, m.stream_key_id, d::connect_publisher{.presented_value = k.value, .session_id = "s"}, 5);
    key_do(app, m.stream_key_id, d::mark_viewable{.session_id = "s"}, 6);
    for (std::int64_t id = 1; id <= 4; ++id)
      room(app, id, "room " + std::to_string(id), 10 + id, base + 10 + static_cast<int>(id));
    key_do(app, m.stream_key_id, d::attach_live{.room_id = 1}, 20);
    room_do(app, 1, d::start_live{.stream_key_id = m.stream_key_id, .broadcast_id = 1}, 21);
    room_do(app, 2, d::cancel_room{}, 22);
    room_do(app, 3, d::start_live{.stream_key_id = 99, .broadcast_id = 2}, 23);
    room_do(app, 3, d::end_live{.forced = true, .video_post_id = 3}, 24);
    room_do(app, 3, d::mark_vod_failed{.message = "disk full"}, 25);
    room_do(app, 4, d::patch_room{.title = "renamed", .scheduled_at = at(7200)}, 26);
    member_do(app, "bob", d::delete_member{}, 27, base + 27);
    member_do(app, "bob", d::upsert_member{.app_user_id = "bob"}, 28, base + 28);
    const d::flow_params p{.room_id = 1, .stream_key_id = m.stream_key_id, .broadcast_id = 1};
    flow_do(app, 1, d::begin_flow{.kind = d::flow_kind::start_live, .params = p}, 29);
    flow_do(app, 1, d::complete_step{d::flow_step::attach_key}, 30);
    flow_do(app, 2, d::begin_flow{.kind = d::flow_kind::end_live, .params = p}, 31);
    flow_do(app, 2, d::fail_flow{.error_code = "X", .error_message = "y"}, 32);
    exec<d::broadcast_aggregate>(app, "3",
                                 d::start_broadcast{.id = 3, .room_id = 3, .stream_key_id = 99, .member_id = 1},
                                 ctx(33));
    exec<d::broadcast_aggregate>(app, "3", d::ingest_session_started{"s9"}, ctx(34));
    exec<d::broadcast_aggregate>(app, "3", d::end_broadcast{.forced = true}, ctx(35));
    exec<d::video_post_aggregate>(app, "3", d::create_post{.id = 3, .room_id = 3, .room_title = "room 3"}, ctx(36));
    exec<d::video_post_aggregate>(app, "3", d::report_progress{.percent = 40}, ctx(37));
  }

  const auto incremental = all_views();
  BOOST_TEST_REQUIRE(!incremental.empty());
  BOOST_TEST(members_of(views(), "open_flow").size() == 3u);
  BOOST_TEST(members_of(views(), "active_key").size() == 3u);
  BOOST_TEST(members_of(views(), "live_room").size() == 3u);
  for (d::app_id app : {1, 2, 17}) // bob registered again, its key not created yet
    BOOST_TEST(in_set("pending_key", app, std::to_string(200 + app * 100 + 28)));
  BOOST_TEST(list_views<d::broadcast_aggregate>(views(), 17, page_request{}).total_elements == 1);
  BOOST_TEST(list_views<d::video_post_aggregate>(views(), 17, page_request{}).total_elements == 1);

  // Something stale in the views is dropped by the rebuild.
  auto junk = store->write_views([](kv_writer& w) {
    w.put("v/video_room/0000000000000001/stale", "{}");
    w.put("x/key_value/stale", encode_located(1, "1"));
  });
  BOOST_REQUIRE(junk.ok());
  BOOST_TEST(all_views().size() == incremental.size() + 2);

  std::uint64_t progress_calls = 0, progress_last = 0, progress_at = 0;
  auto replayed = rebuild_views(*store, [&](std::uint64_t at_pos, std::uint64_t last) {
    ++progress_calls;
    BOOST_TEST(at_pos >= progress_at);
    progress_at = at_pos;
    progress_last = last;
  });
  BOOST_REQUIRE_MESSAGE(replayed.ok(), (replayed.ok() ? "" : replayed.error().message));
  BOOST_TEST(*replayed == store->last_position());
  BOOST_TEST(progress_calls >= 1u);
  BOOST_TEST(progress_at == store->last_position());
  BOOST_TEST(progress_last == store->last_position());

  const auto rebuilt = all_views();
  BOOST_TEST(rebuilt.size() == incremental.size());
  const auto diff = describe_difference(incremental, rebuilt);
  BOOST_TEST(diff.empty(), "rebuilt views differ from the incremental ones:\n" << diff);

  // A second rebuild is a no-op, and the views keep following new events afterwards.
  BOOST_REQUIRE(rebuild_views(*store).ok());
  BOOST_TEST(describe_difference(incremental, all_views()).empty());
  room(1, 50, "after the rebuild", 100, 5000);
  BOOST_TEST(rooms(views(), 1, 0, 1, sort_order::created_at_desc).content.at(0).state.id == 50);
}

BOOST_AUTO_TEST_CASE(rebuild_of_an_empty_log_leaves_no_views) {
  auto junk = store->write_views([](kv_writer& w) { w.put("c/video_room/0000000000000001/x/1", ""); });
  BOOST_REQUIRE(junk.ok());
  auto replayed = rebuild_views(*store);
  BOOST_REQUIRE(replayed.ok());
  BOOST_TEST(*replayed == 0u);
  BOOST_TEST(all_views().empty());
}

BOOST_AUTO_TEST_SUITE_END()
