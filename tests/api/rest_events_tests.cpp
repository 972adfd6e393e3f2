// The audit trail of api.md ("Events (beyond)"): GET /v2/apps/me/events (CloudEvents, paged by
// position), its Server-Sent Events stream, and GET /metrics — all through the real binary.
#include "feed_client.hpp"
#include "sse_client.hpp"

using namespace onair::test_harness;

namespace {

using reply = api_reply;

using client = feed_client;
using served = feed_server;

const std::string feed = "/v2/apps/me/events";

} // namespace

BOOST_AUTO_TEST_SUITE(rest_events)

BOOST_AUTO_TEST_CASE(feed_lists_the_apps_events_in_commit_order_as_cloud_events_without_secrets) {
  served s;
  auto a = s.app("events-a");
  a.member("alice");
  a.member("bob");
  a.room("alice");
  const auto key = a.get("/v2/apps/me/members/alice/stream-key");
  BOOST_REQUIRE_MESSAGE(key.status == 200, key);
  const auto key_value = key.body["streamKey"].get<std::string>();
  BOOST_REQUIRE(!key_value.empty());

  auto r = a.get(feed);
  BOOST_REQUIRE_MESSAGE(r.status == 200, r);
  BOOST_REQUIRE(r.body["events"].is_array());
  const auto& events = r.body["events"];
  BOOST_REQUIRE_GE(events.size(), 3u);
  BOOST_TEST(r.body["next"] == std::stoull(events.back()["id"].get<std::string>()));
  BOOST_TEST(!contains(r.raw, key_value), "the stream key value leaked: " << r.raw);

  std::uint64_t previous = 0;
  std::set<std::string> subjects, types;
  for (const auto& e : events) {
    BOOST_TEST(e["specversion"] == "1.0");
    const auto position = std::stoull(e["id"].get<std::string>());
    BOOST_TEST(position > previous, "out of order: " << e.dump());
    previous = position;
    const auto type = e["type"].get<std::string>();
    BOOST_TEST(type.rfind("onair.", 0) == 0, type);
    const auto category = type.substr(6, type.find('.', 6) - 6);
    BOOST_TEST(category != "app");
    BOOST_TEST(category != "flow");
    BOOST_TEST(e["source"] == "/apps/" + std::to_string(a.app_id) + "/" + category + "/" + e["subject"].get<std::string>(),
               e.dump());
    BOOST_TEST(is_iso_ms(e["time"]), e.dump());
    BOOST_TEST(e["datacontenttype"] == "application/json");
    BOOST_REQUIRE(e["data"].is_object());
    BOOST_TEST(e["data"]["position"] == position);
    BOOST_TEST(e["data"]["version"].get<std::int64_t>() >= 1);
    for (const char* secret : {"streamKey", "newStreamKey"})
      if (e["data"].contains(secret))
        BOOST_TEST(e["data"][secret] == "***", e.dump());
    subjects.insert(e["subject"].get<std::string>());
    types.insert(type);
  }
  BOOST_TEST(subjects.count("alice") == 1u);
  BOOST_TEST(subjects.count("bob") == 1u);
  BOOST_TEST(types.count("onair.stream_key.created") == 1u, r.raw);

  // Without credentials: 401.
  BOOST_TEST(a.call("GET", feed, {}, {}, false).status == 401);
}

BOOST_AUTO_TEST_CASE(each_app_sees_only_its_own_events) {
  served s;
  auto a = s.app("events-a");
  auto b = s.app("events-b");
  a.member("alice");
  b.member("carol");
  a.member("bob");
  for (const auto* c : {&a, &b}) {
    const auto events = c->all();
    BOOST_REQUIRE(!events.empty());
    const auto prefix = "/apps/" + std::to_string(c->app_id) + "/";
    for (const auto& e : events)
      BOOST_TEST(e["source"].get<std::string>().rfind(prefix, 0) == 0, e.dump());
  }
  std::set<std::string> a_subjects, b_subjects;
  for (const auto& e : a.all())
    a_subjects.insert(e["subject"].get<std::string>());
  for (const auto& e : b.all())
    b_subjects.insert(e["subject"].get<std::string>());
  BOOST_TEST(a_subjects.count("alice") == 1u);
  BOOST_TEST(a_subjects.count("carol") == 0u);
  BOOST_TEST(b_subjects.count("carol") == 1u);
  BOOST_TEST(b_subjects.count("alice") == 0u);
}

BOOST_AUTO_TEST_CASE(after_and_limit_page_through_the_feed_and_bad_values_name_the_field) {
  served s;
  auto a = s.app("events-a");
  for (const auto* name : {"m1", "m2", "m3"})
    a.member(name);
  const auto everything = a.get(feed).body["events"];
  BOOST_REQUIRE_GE(everything.size(), 4u);

  json paged = json::array();
  std::uint64_t after = 0;
  for (int pages = 0; pages < 100; ++pages) {
    auto r = a.get(feed + "?limit=2&after=" + std::to_string(after));
    BOOST_REQUIRE_MESSAGE(r.status == 200, r);
    const auto& page = r.body["events"];
    BOOST_TEST(page.size() <= 2u);
    if (page.empty()) {
      BOOST_TEST(r.body["next"] == after); // nothing new: resume from the same place
      break;
    }
    BOOST_TEST(r.body["next"] == std::stoull(page.back()["id"].get<std::string>()));
    for (const auto& e : page)
      paged.push_back(e);
    after = r.body["next"].get<std::uint64_t>();
  }
  BOOST_TEST(paged == everything);

  // after = a position: only what follows it.
  const auto middle = std::stoull(everything[1]["id"].get<std::string>());
  auto r = a.get(feed + "?after=" + std::to_string(middle));
  BOOST_REQUIRE(r.status == 200);
  BOOST_REQUIRE_EQUAL(r.body["events"].size(), everything.size() - 2);
  BOOST_TEST(r.body["events"][0] == everything[2]);

  check_error(a.get(feed + "?limit=0"), 400, "INVALID_PARAMETER", "limit");
  check_error(a.get(feed + "?limit=1001"), 400, "INVALID_PARAMETER", "limit");
  check_error(a.get(feed + "?limit=ten"), 400, "INVALID_PARAMETER", "limit");
  check_error(a.get(feed + "?after=-1"), 400, "INVALID_PARAMETER", "after");
  check_error(a.get(feed + "?after=x"), 400, "INVALID_PARAMETER", "after");
  BOOST_TEST(a.get(feed + "?limit=1000").status == 200);
}

BOOST_AUTO_TEST_CASE(the_stream_sends_existing_then_new_events_and_resumes_after_last_event_id) {
  served s;
  auto a = s.app("events-a");
  auto b = s.app("events-b");
  a.member("alice");
  const auto existing = a.all();
  BOOST_REQUIRE(!existing.empty());

  std::string last_before;
  {
    sse_client sse{s.srv.http(), "/v2/apps/me/events/stream", a.authorization};
    BOOST_REQUIRE_MESSAGE(sse.read_until([&](const auto& evs) { return evs.size() >= existing.size(); }),
                          "existing events did not arrive; head: " << sse.head());
    BOOST_TEST(contains(sse.head(), "200"));
    BOOST_TEST(contains(sse.head(), "text/event-stream"));
    for (std::size_t i = 0; i < existing.size(); ++i) {
      BOOST_TEST(sse.events()[i].id == existing[i]["id"].get<std::string>());
      BOOST_TEST(sse.events()[i].type == existing[i]["type"].get<std::string>());
      BOOST_TEST(sse.events()[i].data == existing[i]);
    }
    last_before = sse.events().back().id;

    b.member("carol"); // another app's: never on this stream
    a.member("dave");
    const auto has_dave = [](const std::vector<sse_event>& evs) {
      return std::any_of(evs.begin(), evs.end(), [](const sse_event& e) { return e.data.value("subject", "") == "dave"; });
    };
    BOOST_REQUIRE_MESSAGE(sse.read_until(has_dave), "dave's events did not arrive");
    for (const auto& e : sse.events()) {
      BOOST_TEST(e.data.value("subject", "") != "carol");
      BOOST_TEST(e.data["source"].get<std::string>().rfind("/apps/" + std::to_string(a.app_id) + "/", 0) == 0);
    }
  }

  // Resumed after the last event seen before dave: dave's events only, nothing earlier.
  sse_client again{s.srv.http(), "/v2/apps/me/events/stream", a.authorization, last_before};
  BOOST_REQUIRE(again.read_until([](const auto& evs) {
    return std::any_of(evs.begin(), evs.end(), [](const sse_event& e) { return e.data.value("subject", "") == "dave"; });
  }));
  for (const auto& e : again.events())
    BOOST_TEST(std::stoull(e.id) > std::stoull(last_before), e.id);
  BOOST_TEST(again.events().front().data.value("subject", "") == "dave");

  // Bad credentials: a plain 401, no stream.
  auto r = http_call(s.srv.http().host, s.srv.http().port, "GET", "/v2/apps/me/events/stream",
                     {{"Authorization", "Basic " + base64("nope:nope")}});
  BOOST_TEST(r.status == 401);
}

BOOST_AUTO_TEST_CASE(metrics_expose_the_process_in_prometheus_text) {
  served s;
  auto a = s.app("events-a");
  a.member("alice");
  BOOST_REQUIRE(a.get(feed).status == 200);
  BOOST_REQUIRE(s.srv.get("/no/such/route").status == 404);

  auto m = s.srv.get("/metrics");
  BOOST_REQUIRE_MESSAGE(m.status == 200, m.body);
  BOOST_TEST(contains(m.head, "text/plain"));
  for (const char* name : {"onair_http_requests_total", "onair_http_request_duration_seconds_bucket",
                           "onair_http_request_duration_seconds_sum", "onair_http_request_duration_seconds_count",
                           "onair_events_appended_total", "onair_actors_alive", "onair_http_open_connections",
                           "# TYPE onair_http_request_duration_seconds histogram"})
    BOOST_TEST(contains(m.body, name), name << " missing:\n" << m.body);
  BOOST_TEST(contains(m.body, "onair_http_requests_total{route=\"/v2/apps/me/events\",method=\"GET\",status=\"200\"} 1\n"),
             m.body);
  BOOST_TEST(contains(m.body, "onair_http_requests_total{route=\"/v2/apps/me/members\",method=\"POST\",status=\"201\"} 1\n"),
             m.body);
  BOOST_TEST(contains(m.body, "route=\"unmatched\",method=\"GET\",status=\"404\"} 1\n"), m.body);
  BOOST_TEST(contains(m.body, "onair_http_request_duration_seconds_count{route=\"/v2/apps/me/events\"} 1\n"), m.body);
  BOOST_TEST(!contains(m.body, "/no/such/route"), "raw paths must not become labels");
  const auto appended = m.body.find("\nonair_events_appended_total ");
  BOOST_REQUIRE(appended != std::string::npos);
  BOOST_TEST(std::stoull(m.body.substr(appended + 29)) > 0u);

  // Durability, as the server runs: every acknowledged write was followed by a WAL sync.
  const auto wal_syncs = [&] {
    const auto text = s.srv.get("/metrics").body;
    const auto at = text.find("\nonair_store_wal_syncs_total ");
    BOOST_REQUIRE_MESSAGE(at != std::string::npos, "onair_store_wal_syncs_total missing:\n" << text);
    return std::stoull(text.substr(at + 29));
  };
  for (int i = 0; i < 5; ++i) {
    const auto before = wal_syncs();
    a.member("synced-" + std::to_string(i));
    BOOST_TEST(wal_syncs() > before, "member " << i << " acknowledged without a WAL sync");
  }

  // Counted once more after another request.
  BOOST_REQUIRE(a.get(feed).status == 200);
  auto again = s.srv.get("/metrics");
  BOOST_TEST(contains(again.body, "onair_http_requests_total{route=\"/v2/apps/me/events\",method=\"GET\",status=\"200\"} 2\n"),
             again.body);
}

BOOST_AUTO_TEST_SUITE_END()
