// The audit trail's query (api/event_filter.hpp) on its own: what each parameter accepts and
// refuses, what it matches, and the bounded scan of a log on disk.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <filesystem>
#include <random>

#include "actors/runtime.hpp"
#include "api/event_filter.hpp"
#include "domain/time.hpp"

using namespace onair;
using api::event_filter;
using api::event_filter_params;
using nlohmann::json;

namespace {

event_filter parsed(const event_filter_params& p) {
  auto f = api::parse_event_filter(p);
  BOOST_REQUIRE_MESSAGE(f.ok(), (f.ok() ? std::string{} : f.error().message));
  return *f;
}

// The field a refused query names, empty when it was accepted.
std::string refused(const event_filter_params& p) {
  auto f = api::parse_event_filter(p);
  if (f.ok())
    return {};
  BOOST_TEST(domain::to_string(f.error().code) == "INVALID_PARAMETER");
  BOOST_TEST(f.error().message.rfind(f.error().field + " ", 0) == 0, "the message leads with the name: " << f.error().message);
  return f.error().field;
}

storage::event_record record(std::string stream, std::string type, std::int64_t time_ms, std::uint64_t position = 1) {
  storage::event_record r;
  r.stream = std::move(stream);
  r.version = 1;
  r.position = position;
  r.type = std::move(type);
  r.data = R"({"x":1})";
  r.time_ms = time_ms;
  return r;
}

json with_principal(const std::string& principal) { return json{{"type", "onair.member.registered"}, {"onairprincipal", principal}}; }

const std::int64_t t0 = domain::parse_iso8601("2026-11-24T09:30:00Z")->ms;

} // namespace

BOOST_AUTO_TEST_SUITE(event_filter_unit)

BOOST_AUTO_TEST_CASE(no_parameters_match_everything) {
  const auto f = parsed({});
  BOOST_TEST(api::matches_record(f, record("video_room/1/42", "video_room.created", t0)));
  BOOST_TEST(api::matches_event(f, json::object()));
}

BOOST_AUTO_TEST_CASE(type_takes_the_cloud_event_type_the_stored_type_or_a_family) {
  const auto room_created = record("video_room/1/42", "video_room.created", t0);
  const auto room_live = record("video_room/1/42", "video_room.live_started", t0);
  const auto member = record("member/1/alice", "member.registered", t0);
  for (const char* type : {"onair.video_room.created", "video_room.created"}) {
    const auto f = parsed({.type = type});
    BOOST_TEST(api::matches_record(f, room_created), type);
    BOOST_TEST(!api::matches_record(f, room_live), type);
  }
  for (const char* family : {"video_room.*", "onair.video_room.*"}) {
    const auto f = parsed({.type = family});
    BOOST_TEST(api::matches_record(f, room_created), family);
    BOOST_TEST(api::matches_record(f, room_live), family);
    BOOST_TEST(!api::matches_record(f, member), family);
  }
  // A family is whole names: video_room.* is not video_roomx.
  BOOST_TEST(!api::matches_record(parsed({.type = "video_room.*"}), record("video_roomx/1/1", "video_roomx.created", t0)));
  // Several values: any.
  const auto any = parsed({.type = "member.registered,video_room.created"});
  BOOST_TEST(api::matches_record(any, room_created));
  BOOST_TEST(api::matches_record(any, member));
  BOOST_TEST(!api::matches_record(any, room_live));

  for (const char* bad : {"", "video_room..created", "Video_room.created", "video_room.*.x", "*", "onair.*", "onair.",
                          "video room", "a,", ",a", "video_room.created;drop", "video_room*"})
    BOOST_TEST(refused({.type = bad}) == "type", "'" << bad << "' was accepted");
}

BOOST_AUTO_TEST_CASE(aggregate_takes_a_kind_or_one_aggregate) {
  const auto room42 = record("video_room/1/42", "video_room.created", t0);
  const auto room7 = record("video_room/1/7", "video_room.created", t0);
  const auto member = record("member/1/alice", "member.registered", t0);
  const auto kind = parsed({.aggregate = "video_room"});
  BOOST_TEST(api::matches_record(kind, room42));
  BOOST_TEST(api::matches_record(kind, room7));
  BOOST_TEST(!api::matches_record(kind, member));
  const auto one = parsed({.aggregate = "video_room/42"});
  BOOST_TEST(api::matches_record(one, room42));
  BOOST_TEST(!api::matches_record(one, room7));
  BOOST_TEST(!api::matches_record(parsed({.aggregate = "member/42"}), room42)); // the kind counts too
  const auto two = parsed({.aggregate = "video_room/7,member/alice"});
  BOOST_TEST(api::matches_record(two, room7));
  BOOST_TEST(api::matches_record(two, member));
  BOOST_TEST(!api::matches_record(two, room42));
  // An id may hold '/': everything after the kind is the id.
  BOOST_TEST(api::matches_record(parsed({.aggregate = "member/a/b"}), record("member/1/a/b", "member.registered", t0)));

  for (const char* bad : {"", "/42", "video_room/", "Video_room", "video-room", "a,,b"})
    BOOST_TEST(refused({.aggregate = bad}) == "aggregate", "'" << bad << "' was accepted");
}

BOOST_AUTO_TEST_CASE(principal_matches_the_onairprincipal_attribute_whole_or_by_kind) {
  const auto alice = parsed({.principal = "member:alice"});
  BOOST_TEST(api::matches_event(alice, with_principal("member:alice")));
  BOOST_TEST(!api::matches_event(alice, with_principal("member:alice2")));
  BOOST_TEST(!api::matches_event(alice, with_principal("app:alice")));
  BOOST_TEST(!api::matches_event(alice, json{{"type", "onair.member.registered"}}), "no principal: no match");
  BOOST_TEST(!api::matches_event(alice, json{{"onairprincipal", 42}}));

  const auto members = parsed({.principal = "member:*"});
  BOOST_TEST(api::matches_event(members, with_principal("member:alice")));
  BOOST_TEST(api::matches_event(members, with_principal("member:bob")));
  BOOST_TEST(!api::matches_event(members, with_principal("membership:x")));
  BOOST_TEST(!api::matches_event(members, with_principal("system:ingest")));

  const auto op = parsed({.principal = "operator"});
  BOOST_TEST(api::matches_event(op, with_principal("operator")));
  BOOST_TEST(!api::matches_event(op, with_principal("operator2")));
  BOOST_TEST(api::matches_event(parsed({.principal = "operator:*"}), with_principal("operator")));

  const auto either = parsed({.principal = "system:ingest,app:*"});
  BOOST_TEST(api::matches_event(either, with_principal("system:ingest")));
  BOOST_TEST(api::matches_event(either, with_principal("app:k1")));
  BOOST_TEST(!api::matches_event(either, with_principal("system:recovery")));

  // The principal is not on the record: matches_record leaves it to matches_event.
  BOOST_TEST(api::matches_record(alice, record("member/1/alice", "member.registered", t0)));

  for (const char* bad : {"", "alice", "member:", "member:a*", "*", "robot:x", "member:**", "*:x"})
    BOOST_TEST(refused({.principal = bad}) == "principal", "'" << bad << "' was accepted");
}

BOOST_AUTO_TEST_CASE(a_time_range_keeps_from_and_drops_to) {
  const auto f = parsed({.from = "2026-11-24T09:30:00Z", .to = "2026-11-24T10:30:00.5+00:00"});
  BOOST_TEST(!api::matches_record(f, record("member/1/a", "member.registered", t0 - 1)));
  BOOST_TEST(api::matches_record(f, record("member/1/a", "member.registered", t0)));
  BOOST_TEST(api::matches_record(f, record("member/1/a", "member.registered", t0 + 3'600'499)));
  BOOST_TEST(!api::matches_record(f, record("member/1/a", "member.registered", t0 + 3'600'500)));
  // Offsets: 10:30+01:00 is 09:30Z.
  const auto offset = parsed({.from = "2026-11-24T10:30:00+01:00"});
  BOOST_TEST(api::matches_record(offset, record("member/1/a", "member.registered", t0)));
  BOOST_TEST(!api::matches_record(offset, record("member/1/a", "member.registered", t0 - 1)));
  // Only one side.
  BOOST_TEST(api::matches_record(parsed({.to = "2026-11-24T09:30:00.001Z"}), record("member/1/a", "x.y", t0)));
  BOOST_TEST(!api::matches_record(parsed({.to = "2026-11-24T09:30:00Z"}), record("member/1/a", "x.y", t0)));

  for (const char* bad : {"", "yesterday", "2026-11-24", "2026-11-24T09:30:00", "2026-13-01T00:00:00Z", "1700000000"})
    BOOST_TEST(refused({.from = bad}) == "from", "'" << bad << "' was accepted");
  BOOST_TEST(refused({.to = "2026-11-24 09:30:00Z"}) == "to");
  // An empty or backwards range is a mistake, said on `to`.
  BOOST_TEST(refused({.from = "2026-11-24T09:30:00Z", .to = "2026-11-24T09:30:00Z"}) == "to");
  BOOST_TEST(refused({.from = "2026-11-24T09:30:00Z", .to = "2026-11-24T10:30:00+01:00"}) == "to");
  BOOST_TEST(refused({.from = "2026-11-24T09:30:00Z", .to = "2026-11-24T09:29:59Z"}) == "to");
}

BOOST_AUTO_TEST_CASE(parameters_combine_with_and) {
  const auto f = parsed({.type = "video_room.*", .aggregate = "video_room/42", .from = "2026-11-24T09:30:00Z"});
  BOOST_TEST(api::matches_record(f, record("video_room/1/42", "video_room.created", t0)));
  BOOST_TEST(!api::matches_record(f, record("video_room/1/7", "video_room.created", t0)));
  BOOST_TEST(!api::matches_record(f, record("video_room/1/42", "video_room.created", t0 - 1)));
  BOOST_TEST(!api::matches_record(f, record("member/1/42", "member.registered", t0)));
}

BOOST_AUTO_TEST_CASE(a_parameter_takes_a_bounded_number_of_values) {
  std::string many = "a";
  for (int i = 0; i < 32; ++i)
    many += ",a";
  BOOST_TEST(refused({.type = many}) == "type");
  BOOST_TEST(refused({.type = many.substr(2)}).empty());
}

BOOST_AUTO_TEST_CASE(filtered_cloud_events_keep_other_apps_out_and_apply_the_filter) {
  const auto f = parsed({.type = "member.registered"});
  const auto mine = record("member/1/alice", "member.registered", t0);
  const auto theirs = record("member/2/carol", "member.registered", t0);
  BOOST_TEST(api::filtered_cloud_event(f, mine, domain::app_id{1}, nullptr).has_value());
  BOOST_TEST(!api::filtered_cloud_event(f, theirs, domain::app_id{1}, nullptr).has_value());
  BOOST_TEST(api::filtered_cloud_event(f, theirs, std::nullopt, nullptr).has_value()); // the operator's: every app
  BOOST_TEST(!api::filtered_cloud_event(f, record("member/1/alice", "member.renamed", t0), domain::app_id{1}, nullptr).has_value());
  // A principal filter takes nothing from events without provenance.
  BOOST_TEST(!api::filtered_cloud_event(parsed({.principal = "member:*"}), mine, domain::app_id{1}, nullptr).has_value());
}

// ---- the bounded scan, over a store on disk
struct store_on_disk {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("onair-filter-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()));
  std::unique_ptr<storage::event_store> store;

  store_on_disk() {
    storage::event_store::options o;
    o.path = dir.string();
    o.sync = false;
    store = std::move(storage::event_store::open(o)).value();
  }
  ~store_on_disk() {
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  void append(const std::string& stream, const std::string& type, int count) {
    auto version = store->stream_version(stream).value();
    std::vector<storage::new_event> events;
    for (int i = 0; i < count; ++i) {
      storage::new_event e;
      e.type = type;
      e.data = R"({"n":1})";
      e.time_ms = t0 + i;
      events.push_back(std::move(e));
    }
    BOOST_REQUIRE(store->append(stream, version, std::move(events)).ok());
  }
};

BOOST_AUTO_TEST_CASE(a_scan_stops_at_its_bound_and_answers_the_position_it_reached) {
  store_on_disk s;
  s.append("member/1/alice", "member.registered", 1);     // position 1
  s.append("member/2/carol", "member.renamed", 1200);     // 2..1201: another app's
  s.append("video_room/1/42", "video_room.created", 1);   // 1202
  s.append("member/1/bob", "member.registered", 3);       // 1203..1205
  const auto everything = parsed({});
  const auto rooms = parsed({.type = "video_room.*"});

  // Bounded at 1000 records: app 1's first event, then nothing up to the bound.
  auto p = api::scan_events(*s.store, 0, everything, domain::app_id{1}, 100, 1000);
  BOOST_REQUIRE(p.ok());
  BOOST_TEST(p->events.size() == 1u);
  BOOST_TEST(p->next == 1000u);
  BOOST_TEST(p->more);
  // Resumed: the room and bob's, then the end of the log.
  p = api::scan_events(*s.store, p->next, everything, domain::app_id{1}, 100, 1000);
  BOOST_REQUIRE(p.ok());
  BOOST_TEST(p->events.size() == 4u);
  BOOST_TEST(p->next == 1205u);
  BOOST_TEST(!p->more);

  // A filter that matches nothing in the bound: an empty page that still moves on.
  p = api::scan_events(*s.store, 0, rooms, domain::app_id{1}, 100, 600);
  BOOST_REQUIRE(p.ok());
  BOOST_TEST(p->events.empty());
  BOOST_TEST(p->next == 600u);
  BOOST_TEST(p->more);
  p = api::scan_events(*s.store, 1000, rooms, domain::app_id{1}, 100, 600);
  BOOST_REQUIRE(p.ok());
  BOOST_REQUIRE_EQUAL(p->events.size(), 1u);
  BOOST_TEST(p->events[0]["id"] == "1202");
  BOOST_TEST(p->next == 1205u);
  BOOST_TEST(!p->more);

  // A full page stops at its last event; after the end of the log, nothing more.
  p = api::scan_events(*s.store, 1201, everything, domain::app_id{1}, 2, 1000);
  BOOST_REQUIRE(p.ok());
  BOOST_TEST(p->events.size() == 2u);
  BOOST_TEST(p->next == 1203u);
  BOOST_TEST(p->more);
  p = api::scan_events(*s.store, 1205, everything, domain::app_id{1}, 2, 1000);
  BOOST_REQUIRE(p.ok());
  BOOST_TEST(p->events.empty());
  BOOST_TEST(p->next == 1205u);
  BOOST_TEST(!p->more);

  // The operator's scan: every app.
  p = api::scan_events(*s.store, 0, parsed({.type = "member.renamed"}), std::nullopt, 5000, 5000);
  BOOST_REQUIRE(p.ok());
  BOOST_TEST(p->events.size() == 1200u);
}

// The operator's page (GET /v2/admin/events, behind the server's admin check): the feed's query
// over every app, or one app's with `app`.
BOOST_AUTO_TEST_CASE(the_admin_page_answers_every_apps_events_with_the_last_position) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("onair-admin-events-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()));
  {
    actors::runtime::options o;
    o.data_dir = dir.string();
    o.sync = false;
    auto rt = std::move(actors::runtime::open(o)).value();
    const auto base = rt->store().last_position();
    for (const auto* stream : {"member/1/alice", "member/2/carol", "video_room/1/42"}) {
      storage::new_event e;
      e.type = std::string{stream}.starts_with("member") ? "member.registered" : "video_room.created";
      e.data = "{}";
      e.time_ms = t0;
      BOOST_REQUIRE(rt->store().append(stream, 0, {e}).ok());
    }
    const auto handler = api::admin_events_handler(*rt);
    const auto ask = [&handler](std::map<std::string, std::string> query) {
      api::http_request req;
      req.method = "GET";
      req.path = "/v2/admin/events";
      req.query = std::move(query);
      api::http_response answer;
      handler(req, [&answer](api::http_response r) { answer = std::move(r); });
      return answer;
    };
    const auto after = std::to_string(base);
    auto r = ask({{"after", after}, {"type", "member.*"}});
    BOOST_TEST(r.status == 200, r.body);
    auto body = json::parse(r.body);
    BOOST_REQUIRE_EQUAL(body["events"].size(), 2u);
    BOOST_TEST(body["events"][0]["subject"] == "alice");
    BOOST_TEST(body["events"][1]["subject"] == "carol");
    BOOST_TEST(body["lastPosition"] == base + 3);
    BOOST_TEST(body["next"] == base + 3);
    BOOST_TEST(body["more"] == false);

    body = json::parse(ask({{"after", after}, {"app", "2"}}).body);
    BOOST_REQUIRE_EQUAL(body["events"].size(), 1u);
    BOOST_TEST(body["events"][0]["subject"] == "carol");
    body = json::parse(ask({{"after", after}, {"limit", "1"}}).body);
    BOOST_REQUIRE_EQUAL(body["events"].size(), 1u);
    BOOST_TEST(body["more"] == true);

    for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
             {"app", "0"}, {"app", "x"}, {"type", "*"}, {"from", "today"}, {"limit", "0"}, {"after", "-1"}}) {
      r = ask({{name, value}});
      BOOST_TEST(r.status == 400, name << "=" << value);
      BOOST_TEST(json::parse(r.body).value("field", "") == name, r.body);
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

BOOST_AUTO_TEST_SUITE_END()
