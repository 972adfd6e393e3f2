// Querying the audit trail (issue 21, point 4) through the real binary: the feed and its SSE
// stream filtered by type, aggregate, principal and time range, resumable, another app's events
// never shown; and `onair audit export`, the same query written as NDJSON.
#include "feed_client.hpp"
#include "sse_client.hpp"

#include <fstream>

using namespace onair::test_harness;

namespace {

using client = feed_client;
using served = feed_server;

const std::string feed = "/v2/apps/me/events";

// The app's history: members, a room with a title change, and another app's member in between.
struct history {
  served s;
  client a = s.app("filter-a");
  client b = s.app("filter-b");
  json room;
  json everything; // a's feed, unfiltered

  history() {
    a.member("alice");
    b.member("carol");
    room = a.room("alice", "First");
    a.member("bob");
    a.room("bob", "Second");
    everything = a.all();
    BOOST_REQUIRE_GE(everything.size(), 6u);
  }

  // The events of `everything` that pred takes, in order.
  template <class Pred>
  json expected(Pred pred) const {
    json out = json::array();
    for (const auto& e : everything)
      if (pred(e))
        out.push_back(e);
    return out;
  }
  std::string room_subject() const {
    for (const auto& e : everything)
      if (e["type"] == "onair.video_room.created")
        return e["subject"].get<std::string>();
    BOOST_FAIL("no room was created");
    return {};
  }
};

std::string category_of(const json& e) {
  const auto type = e["type"].get<std::string>();
  return type.substr(6, type.find('.', 6) - 6);
}

std::vector<std::string> ids_of(const json& events) {
  std::vector<std::string> ids;
  for (const auto& e : events)
    ids.push_back(e["id"].get<std::string>());
  return ids;
}

std::vector<std::string> ids_of(const std::vector<sse_event>& events) {
  std::vector<std::string> ids;
  for (const auto& e : events)
    ids.push_back(e.id);
  return ids;
}

} // namespace

BOOST_AUTO_TEST_SUITE(event_filter)

BOOST_AUTO_TEST_CASE(type_takes_exact_types_both_spellings_families_and_lists) {
  history h;
  const auto rooms_created = h.expected([](const json& e) { return e["type"] == "onair.video_room.created"; });
  BOOST_REQUIRE_EQUAL(rooms_created.size(), 2u);
  BOOST_TEST(h.a.all("type=onair.video_room.created") == rooms_created);
  BOOST_TEST(h.a.all("type=video_room.created") == rooms_created);

  const auto room_family = h.expected([](const json& e) { return category_of(e) == "video_room"; });
  BOOST_TEST(h.a.all("type=video_room.*") == room_family);
  BOOST_TEST(h.a.all("type=onair.video_room.*") == room_family);

  const auto members_or_rooms = h.expected([](const json& e) {
    return e["type"] == "onair.member.registered" || e["type"] == "onair.video_room.created";
  });
  BOOST_TEST(h.a.all("type=member.registered,onair.video_room.created") == members_or_rooms);
  BOOST_TEST(h.a.all("type=member.registered%2Cvideo_room.created") == members_or_rooms); // an encoded comma
  BOOST_TEST(h.a.all("type=video_room.no_such_thing").empty());
  // Never another app's: carol registered between alice and the room.
  for (const auto& e : h.a.all("type=member.registered"))
    BOOST_TEST(e["subject"] != "carol");
}

BOOST_AUTO_TEST_CASE(aggregate_takes_a_kind_or_one_aggregate) {
  history h;
  const auto subject = h.room_subject();
  const auto rooms = h.expected([](const json& e) { return category_of(e) == "video_room"; });
  BOOST_REQUIRE_GE(rooms.size(), 2u);
  BOOST_TEST(h.a.all("aggregate=video_room") == rooms);
  const auto one = h.expected([&](const json& e) { return category_of(e) == "video_room" && e["subject"] == subject; });
  BOOST_REQUIRE(!one.empty());
  BOOST_TEST(one.size() < rooms.size());
  BOOST_TEST(h.a.all("aggregate=video_room/" + subject) == one);
  const auto alice_and_room = h.expected([&](const json& e) {
    return (category_of(e) == "video_room" && e["subject"] == subject) ||
           (category_of(e) == "member" && e["subject"] == "alice");
  });
  BOOST_TEST(h.a.all("aggregate=video_room/" + subject + ",member/alice") == alice_and_room);
  BOOST_TEST(h.a.all("aggregate=member/carol").empty(), "another app's member");
}

BOOST_AUTO_TEST_CASE(from_is_inclusive_to_exclusive_and_filters_combine_with_and) {
  history h;
  // The times of the events, ISO strings of one form: they order as the instants do.
  const auto& ev = h.everything;
  const auto first_room = std::find_if(ev.begin(), ev.end(), [](const json& e) { return category_of(e) == "video_room"; });
  BOOST_REQUIRE((first_room != ev.end()));
  const auto from = (*first_room)["time"].get<std::string>();
  const auto to = ev.back()["time"].get<std::string>();
  const auto in_range = [&](const json& e) {
    const auto t = e["time"].get<std::string>();
    return t >= from && t < to;
  };
  BOOST_TEST(h.a.all("from=" + from + "&to=" + to) == h.expected(in_range));
  BOOST_TEST(h.a.all("from=" + from) == h.expected([&](const json& e) { return e["time"].get<std::string>() >= from; }));
  BOOST_TEST(h.a.all("to=" + to) == h.expected([&](const json& e) { return e["time"].get<std::string>() < to; }));
  // The same instant with an offset (the '+' encoded, as a query needs it).
  const auto far = std::string{"2001-01-01T01:00:00%2B01:00"};
  BOOST_TEST(h.a.all("from=" + far) == ev);
  BOOST_TEST(h.a.all("to=" + far).empty());

  // AND: the room family, in the range.
  BOOST_TEST(h.a.all("type=video_room.*&from=" + from + "&to=" + to) ==
             h.expected([&](const json& e) { return in_range(e) && category_of(e) == "video_room"; }));
  BOOST_TEST(h.a.all("type=member.*&aggregate=video_room").empty());
}

BOOST_AUTO_TEST_CASE(pages_keep_the_query_and_resume_after_the_cursor) {
  history h;
  const auto members = h.expected([](const json& e) { return category_of(e) == "member"; });
  BOOST_REQUIRE_GE(members.size(), 2u);
  // One event a page: each answer's `next` is where the next page starts, with the same query.
  json paged = json::array();
  std::uint64_t after = 0;
  for (int pages = 0; pages < 100; ++pages) {
    auto r = h.a.get(feed + "?type=member.*&limit=1&after=" + std::to_string(after));
    BOOST_REQUIRE_MESSAGE(r.status == 200, r);
    BOOST_TEST(r.body["events"].size() <= 1u);
    for (const auto& e : r.body["events"]) {
      BOOST_TEST(r.body["next"] == std::stoull(e["id"].get<std::string>()), "a full page ends at its event");
      paged.push_back(e);
    }
    after = r.body["next"].get<std::uint64_t>();
    if (!r.body["more"].get<bool>())
      break;
  }
  BOOST_TEST(paged == members);
  // Past the end: nothing, the same place, no more.
  auto end = h.a.get(feed + "?type=member.*&after=" + std::to_string(after));
  BOOST_TEST(end.body["events"].empty());
  BOOST_TEST(end.body["next"] == after);
  BOOST_TEST(end.body["more"] == false);

  // A page that finds fewer than its limit answers the position it reached, past the last match.
  auto r = h.a.get(feed + "?type=member.registered&limit=1000");
  BOOST_REQUIRE(r.status == 200);
  BOOST_TEST(r.body["next"].get<std::uint64_t>() >= std::stoull(h.everything.back()["id"].get<std::string>()));
  BOOST_TEST(r.body["more"] == false);
}

BOOST_AUTO_TEST_CASE(bad_values_are_400_naming_the_parameter) {
  served s;
  auto a = s.app("filter-a");
  const std::vector<std::pair<std::string, std::string>> bad{
      {"type=", "type"},
      {"type=Video_room.created", "type"},
      {"type=*", "type"},
      {"type=video_room.*.x", "type"},
      {"type=a,,b", "type"},
      {"aggregate=video_room/", "aggregate"},
      {"aggregate=video-room", "aggregate"},
      {"principal=alice", "principal"},
      {"principal=member:a*", "principal"},
      {"principal=robot:x", "principal"},
      {"from=yesterday", "from"},
      {"from=2026-11-24T09:30:00", "from"},
      {"to=2026-11-24", "to"},
      {"from=2026-11-24T09:30:00Z&to=2026-11-24T09:30:00Z", "to"},
  };
  for (const auto& [query, field] : bad) {
    check_error(a.get(feed + "?" + query), 400, "INVALID_PARAMETER", field);
    auto r = http_call(s.srv.http().host, s.srv.http().port, "GET", feed + "/stream?" + query,
                       {{"Authorization", a.authorization}});
    BOOST_TEST(r.status == 400, query << " on the stream: " << r.status << " " << r.body);
    BOOST_TEST(contains(r.body, "\"field\":\"" + field + "\""), r.body);
  }
}

BOOST_AUTO_TEST_CASE(the_stream_sends_only_what_the_query_takes_and_resumes_with_it) {
  history h;
  const auto rooms = h.expected([](const json& e) { return category_of(e) == "video_room"; });
  BOOST_REQUIRE_GE(rooms.size(), 2u);
  const std::string target = feed + "/stream?type=video_room.*";
  std::string last_room;
  {
    sse_client sse{h.s.srv.http(), target, h.a.authorization};
    BOOST_REQUIRE_MESSAGE(sse.read_until([&](const auto& evs) { return evs.size() >= rooms.size(); }),
                          "the rooms' events did not come; head: " << sse.head());
    sse.read_for(300ms); // nothing else is sent
    BOOST_REQUIRE_EQUAL(sse.events().size(), rooms.size());
    for (std::size_t i = 0; i < rooms.size(); ++i)
      BOOST_TEST(sse.events()[i].data == rooms[i]);
    last_room = sse.events().back().id;

    // Live: a member (not taken), another app's room (never), then a room of this app.
    h.a.member("dave");
    h.b.room("carol", "Theirs");
    const auto third = h.a.room("dave", "Third");
    BOOST_REQUIRE(sse.read_until([&](const auto& evs) { return evs.size() > rooms.size(); }));
    sse.read_for(300ms);
    for (std::size_t i = rooms.size(); i < sse.events().size(); ++i) {
      const auto& e = sse.events()[i].data;
      BOOST_TEST(category_of(e) == "video_room", e.dump());
      BOOST_TEST(e["source"].get<std::string>().rfind("/apps/" + std::to_string(h.a.app_id) + "/", 0) == 0, e.dump());
    }
  }
  // Resumed after the last room seen before, by Last-Event-ID or by after: the third room's only.
  const auto later_rooms = [&] {
    json out = json::array();
    for (const auto& e : h.a.all("type=video_room.*"))
      if (std::stoull(e["id"].get<std::string>()) > std::stoull(last_room))
        out.push_back(e);
    return out;
  }();
  BOOST_REQUIRE(!later_rooms.empty());
  for (const bool by_header : {true, false}) {
    sse_client again{h.s.srv.http(), by_header ? target : target + "&after=" + last_room, h.a.authorization,
                     by_header ? last_room : std::string{}};
    BOOST_REQUIRE(again.read_until([&](const auto& evs) { return evs.size() >= later_rooms.size(); }));
    again.read_for(300ms);
    BOOST_REQUIRE_EQUAL(again.events().size(), later_rooms.size());
    for (std::size_t i = 0; i < later_rooms.size(); ++i)
      BOOST_TEST(again.events()[i].data == later_rooms[i]);
  }

  // Filters combine on the stream too: one room, from its first event on.
  const auto subject = h.room_subject();
  const auto one = h.expected([&](const json& e) { return category_of(e) == "video_room" && e["subject"] == subject; });
  sse_client single{h.s.srv.http(), feed + "/stream?aggregate=video_room/" + subject + "&from=" +
                                        one.front()["time"].get<std::string>(), h.a.authorization};
  BOOST_REQUIRE(single.read_until([&](const auto& evs) { return evs.size() >= one.size(); }));
  single.read_for(300ms);
  BOOST_TEST(json(ids_of(single.events())) == json(ids_of(one)));
}

BOOST_AUTO_TEST_CASE(principal_takes_who_caused_each_event) {
  history h;
  // Every event says who caused it; the members and rooms here were asked for by the app itself.
  for (const auto& e : h.everything)
    BOOST_TEST(e.contains("onairprincipal"), e.dump());
  const auto by = [&](const std::string& principal) {
    return h.expected([&](const json& e) { return e.value("onairprincipal", "") == principal; });
  };
  const auto first = h.everything.front()["onairprincipal"].get<std::string>();
  BOOST_REQUIRE(!by(first).empty());
  BOOST_TEST(h.a.all("principal=" + first) == by(first));
  const auto kind = first.substr(0, first.find(':'));
  BOOST_TEST(h.a.all("principal=" + kind + ":*") ==
             h.expected([&](const json& e) {
               const auto p = e.value("onairprincipal", "");
               return p == kind || p.rfind(kind + ":", 0) == 0;
             }));
  BOOST_TEST(h.a.all("principal=member:nobody-at-all").empty());
  BOOST_TEST(h.a.all("principal=" + first + "&type=video_room.*") ==
             h.expected([&](const json& e) { return e.value("onairprincipal", "") == first && category_of(e) == "video_room"; }));

  sse_client sse{h.s.srv.http(), feed + "/stream?principal=" + first, h.a.authorization};
  BOOST_REQUIRE(sse.read_until([&](const auto& evs) { return evs.size() >= by(first).size(); }));
  for (const auto& e : sse.events())
    BOOST_TEST(e.data.value("onairprincipal", "") == first);
}

// Until then: a principal filter is accepted and takes nothing (no event says who caused it).
BOOST_AUTO_TEST_CASE(a_principal_filter_takes_only_events_that_say_who) {
  history h;
  const auto with_principal = h.expected([](const json& e) { return e.contains("onairprincipal"); });
  const auto members = h.a.all("principal=member:*");
  for (const auto& e : members)
    BOOST_TEST(e.value("onairprincipal", "").rfind("member:", 0) == 0, e.dump());
  BOOST_TEST(members.size() <= with_principal.size());
}

// ---- onair audit export

struct exported {
  run_result run;
  std::vector<json> events;
};

exported audit_export(const std::vector<std::string>& args) {
  std::vector<std::string> all{"audit", "export"};
  all.insert(all.end(), args.begin(), args.end());
  exported out{run_onair(all), {}};
  std::istringstream lines{out.run.out};
  std::string line;
  while (std::getline(lines, line)) {
    auto j = json::parse(line, nullptr, false);
    BOOST_REQUIRE_MESSAGE(j.is_object(), "not one JSON object a line: '" << line << "'\n" << out.run);
    out.events.push_back(std::move(j));
  }
  return out;
}

BOOST_AUTO_TEST_CASE(audit_export_writes_the_range_as_ndjson_with_progress) {
  temp_dir dir;
  const auto data = dir.path() / "data";
  json a_events, b_events, a_rooms;
  std::int64_t a_id = 0;
  std::string from, to;
  {
    server_process srv{data};
    srv.wait_ready();
    auto ca = create_app(data, "export-a");
    auto cb = create_app(data, "export-b");
    a_id = ca["id"].get<std::int64_t>();
    client a{srv.http(), basic_auth(ca["apiKey"].get<std::string>(), ca["apiSecret"].get<std::string>()), a_id};
    client b{srv.http(), basic_auth(cb["apiKey"].get<std::string>(), cb["apiSecret"].get<std::string>()),
             cb["id"].get<std::int64_t>()};
    a.member("alice");
    b.member("carol");
    a.room("alice");
    a.member("bob");
    a_events = a.all();
    b_events = b.all();
    a_rooms = a.all("type=video_room.*");
    from = a_events.front()["time"].get<std::string>();
    to = "2999-01-01T00:00:00Z";
    BOOST_REQUIRE_EQUAL(srv.stop(), 0);
  }
  const auto dd = data.string();

  // Every app by default; the feed's objects, in log order.
  auto all = audit_export({"--from", "2000-01-01T00:00:00Z", "--to", to, "--data-dir", dd});
  BOOST_REQUIRE_MESSAGE(all.run.code == 0, all.run);
  std::set<std::string> ids;
  std::uint64_t previous = 0;
  for (const auto& e : all.events) {
    const auto position = std::stoull(e["id"].get<std::string>());
    BOOST_TEST(position > previous);
    previous = position;
    ids.insert(e["id"].get<std::string>());
  }
  for (const auto* app_events : {&a_events, &b_events})
    for (const auto& e : *app_events)
      BOOST_TEST(ids.count(e["id"].get<std::string>()) == 1u, e.dump());
  // What the app's feed showed is exported as it was shown (the server may add events as it stops).
  const auto seen = std::stoull(a_events.back()["id"].get<std::string>());
  for (const auto& e : all.events)
    if (e["source"].get<std::string>().rfind("/apps/" + std::to_string(a_id) + "/", 0) == 0 &&
        std::stoull(e["id"].get<std::string>()) <= seen)
      BOOST_TEST((std::find(a_events.begin(), a_events.end(), e) != a_events.end()), "not the feed's object: " << e.dump());
  // Progress on stderr, ending at the last position, 100 %.
  BOOST_TEST(contains(all.run.err, "audit export: " + std::to_string(all.events.size()) + " events"), all.run);
  BOOST_TEST(contains(all.run.err, "(100%), done"), all.run);

  // One app, one family of types, from its first event: exactly the feed's answer to the same query.
  auto rooms = audit_export({"--from", from, "--to", to, "--app", std::to_string(a_id), "--type", "video_room.*",
                             "--data-dir", dd});
  BOOST_REQUIRE_MESSAGE(rooms.run.code == 0, rooms.run);
  BOOST_TEST(json(rooms.events) == a_rooms);
  // Aggregate, and a repeated option adding values.
  auto members = audit_export({"--from", from, "--to", to, "--app", std::to_string(a_id), "--aggregate",
                               "member/alice", "--aggregate=member/bob", "--data-dir", dd});
  BOOST_REQUIRE_MESSAGE(members.run.code == 0, members.run);
  json expected_members = json::array();
  for (const auto& e : a_events)
    if (category_of(e) == "member")
      expected_members.push_back(e);
  BOOST_TEST(json(members.events) == expected_members);
  // `to` is exclusive: up to the first event's own time, nothing.
  auto none = audit_export({"--from", "2000-01-01T00:00:00Z", "--to", from, "--app", std::to_string(a_id),
                            "--data-dir", dd});
  BOOST_REQUIRE_MESSAGE(none.run.code == 0, none.run);
  for (const auto& e : none.events)
    BOOST_TEST(e["time"].get<std::string>() < from);
  // A principal filter: only the events a member asked for (here none: the app made everything).
  auto by_member = audit_export({"--from", from, "--to", to, "--principal", "member:*", "--data-dir", dd});
  BOOST_REQUIRE_MESSAGE(by_member.run.code == 0, by_member.run);
  for (const auto& e : by_member.events)
    BOOST_TEST(e.value("onairprincipal", "").rfind("member:", 0) == 0, e.dump());

  // --out: the file, whole, and nothing left over.
  const auto file = dir.path() / "trail.ndjson";
  auto to_file = run_onair({"audit", "export", "--from", from, "--to", to, "--app", std::to_string(a_id), "--type",
                            "video_room.*", "--out", file.string(), "--data-dir", dd});
  BOOST_REQUIRE_MESSAGE(to_file.code == 0, to_file);
  BOOST_TEST(to_file.out.empty());
  BOOST_TEST(read_file(file) == rooms.run.out);
  BOOST_TEST(!fs::exists(file.string() + ".partial"));
}

BOOST_AUTO_TEST_CASE(audit_export_refuses_bad_arguments_with_exit_2) {
  temp_dir dir;
  const auto dd = dir.str();
  const std::vector<std::pair<std::vector<std::string>, std::string>> bad{
      {{"--to", "2026-11-24T09:30:00Z"}, "--from"},
      {{"--from", "2026-11-24T09:30:00Z"}, "--to"},
      {{"--from", "yesterday", "--to", "2026-11-24T09:30:00Z"}, "--from must be an RFC 3339 time"},
      {{"--from", "2026-11-24T09:30:00Z", "--to", "2026-11-24T09:00:00Z"}, "--to must be later than from"},
      {{"--from", "2026-11-24T09:30:00Z", "--to", "2026-11-25T09:30:00Z", "--type", "Bad"}, "--type must be"},
      {{"--from", "2026-11-24T09:30:00Z", "--to", "2026-11-25T09:30:00Z", "--principal", "robot:x"}, "--principal must be"},
      {{"--from", "2026-11-24T09:30:00Z", "--to", "2026-11-25T09:30:00Z", "--aggregate", "video_room/"}, "--aggregate must be"},
      {{"--from", "2026-11-24T09:30:00Z", "--to", "2026-11-25T09:30:00Z", "--app", "x"}, "--app needs an app id"},
      {{"--from", "2026-11-24T09:30:00Z", "--to", "2026-11-25T09:30:00Z", "--bogus"}, "unknown option '--bogus'"},
  };
  for (const auto& [args, message] : bad) {
    std::vector<std::string> all{"audit", "export"};
    all.insert(all.end(), args.begin(), args.end());
    all.insert(all.end(), {"--data-dir", dd});
    auto r = run_onair(all);
    BOOST_TEST(r.code == 2, r);
    BOOST_TEST(contains(r.err, message), "expected '" << message << "': " << r);
    BOOST_TEST(r.out.empty(), r);
  }
  // No store there: said, exit 1.
  auto r = run_onair({"audit", "export", "--from", "2026-11-24T09:30:00Z", "--to", "2026-11-25T09:30:00Z",
                      "--data-dir", dd});
  BOOST_TEST(r.code == 1, r);
  BOOST_TEST(contains(r.err, "no event store"), r);

  auto help = run_onair({"audit", "export", "--help"});
  BOOST_TEST(help.code == 0);
  for (const char* flag : {"--from", "--to", "--type", "--aggregate", "--principal", "--app", "--out", "--data-dir"})
    BOOST_TEST(contains(help.out, flag), flag);
  BOOST_TEST(run_onair({"audit"}).code == 2);
  BOOST_TEST(run_onair({"audit", "import"}).code == 2);
}

BOOST_AUTO_TEST_CASE(audit_export_goes_through_a_running_server) {
  served s;
  auto a = s.app("export-a");
  a.member("alice");
  a.room("alice");
  const auto rooms = a.all("type=video_room.*");
  BOOST_REQUIRE(!rooms.empty());
  auto r = audit_export({"--from", "2000-01-01T00:00:00Z", "--to", "2999-01-01T00:00:00Z", "--app",
                         std::to_string(a.app_id), "--type", "video_room.*", "--data-dir", s.data.string()});
  BOOST_REQUIRE_MESSAGE(r.run.code == 0, r.run);
  BOOST_TEST(json(r.events) == rooms);
  BOOST_TEST(contains(r.run.err, "(100%), done"), r.run);
}

BOOST_AUTO_TEST_SUITE_END()
