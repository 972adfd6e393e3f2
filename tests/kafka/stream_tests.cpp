// The stream as its readers meet it: kcat (a real external client, Debian's) on the embedded
// broker, `onair events tail`, /metrics, /readyz and /v2/admin/kafka, and --kafka off.
#include "kafka_harness.hpp"

#include <fstream>
#include <optional>

using namespace onair::test_kafka;

namespace {

// Runs a program (found on PATH) to completion; stdout and stderr into strings.
run_result run_program(const std::vector<std::string>& args) {
  temp_dir io;
  const auto out = io.path() / "stdout", err = io.path() / "stderr";
  const auto& a = args;
  const pid_t pid = spawn_program(args, out, err, child_environment({}), /*search_path=*/true);
  child_guard child{pid};
  auto code = wait_exit(pid, process_deadline);
  if (code)
    child.reaped();
  run_result r{code.value_or(-1), read_file(out), read_file(err)};
  BOOST_REQUIRE_MESSAGE(code.has_value(), a[0] << " did not finish in time: " << r);
  return r;
}

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty())
      continue;
    auto j = json::parse(line, nullptr, false);
    BOOST_REQUIRE_MESSAGE(!j.is_discarded(), "not JSON: " << line);
    out.push_back(std::move(j));
  }
  return out;
}

// Some traffic: members (member, stream key, flow events), rooms, a renamed member.
void some_traffic(const app_client& app, int members) {
  for (int i = 0; i < members; ++i)
    BOOST_REQUIRE_EQUAL(app.member("m" + std::to_string(i)), 201);
  for (int i = 0; i < members; i += 3)
    BOOST_REQUIRE_EQUAL(app.room("m" + std::to_string(i)), 201);
  BOOST_REQUIRE_EQUAL(app.member("m0", "Renamed"), 200);
}

std::string header(const json& kcat_msg, const std::string& name) {
  const auto& h = kcat_msg["headers"];
  for (std::size_t i = 0; i + 1 < h.size(); i += 2)
    if (h[i] == name)
      return h[i + 1].get<std::string>();
  return {};
}

} // namespace

BOOST_AUTO_TEST_SUITE(kafka_stream)

BOOST_AUTO_TEST_CASE(kcat_reads_every_event_from_the_embedded_broker_in_order_per_key_as_cloud_events) {
  temp_dir dir;
  const auto data = dir.path() / "data";
  server_process srv{data}; // --kafka embedded is the default
  srv.wait_ready();
  auto app = app_client::from_banner(srv);
  some_traffic(app, 12);
  const auto k = wait_published(srv, data);
  BOOST_TEST(k["mode"] == "embedded");
  const auto bootstrap = k["bootstrap"].get<std::string>();
  BOOST_TEST(contains(srv.stdout_text(), bootstrap), "the banner names the bootstrap address:\n" << srv.stdout_text());

  auto r = run_program({"kcat", "-b", bootstrap, "-C", "-t", "onair.events", "-o", "beginning", "-e", "-q", "-J"});
  BOOST_REQUIRE_MESSAGE(r.code == 0, r);
  const auto msgs = json_lines(r.out);

  // The same objects as the app's audit feed, each once.
  auto feed = http_call(srv.http().host, srv.http().port, "GET", "/v2/apps/me/events?limit=1000",
                        {{"Authorization", app.authorization}});
  BOOST_REQUIRE_EQUAL(feed.status, 200);
  const auto events = json::parse(feed.body)["events"];
  BOOST_TEST(events.size() > 20u);
  BOOST_TEST(msgs.size() == events.size());
  std::map<std::string, json> by_id;
  for (const auto& e : events)
    by_id[e["id"].get<std::string>()] = e;

  std::map<std::string, std::uint64_t> last_position_of_key;
  std::set<std::string> seen;
  for (const auto& m : msgs) {
    auto ev = json::parse(m["payload"].get<std::string>(), nullptr, false);
    BOOST_REQUIRE_MESSAGE(ev.is_object(), m.dump());
    const auto id = ev["id"].get<std::string>();
    BOOST_TEST(seen.insert(id).second, "duplicate " << id);
    BOOST_TEST(by_id.count(id) == 1u, "not in the feed: " << m.dump());
    BOOST_TEST(ev == by_id[id]);
    // CloudEvents 1.0 fields.
    BOOST_TEST(ev["specversion"] == "1.0");
    for (const char* f : {"id", "source", "type", "subject", "time", "datacontenttype"})
      BOOST_TEST((ev.contains(f) && ev[f].is_string()), f << " in " << ev.dump());
    BOOST_TEST(ev["type"].get<std::string>().rfind("onair.", 0) == 0u);
    BOOST_TEST(ev["data"]["position"].get<std::uint64_t>() == std::stoull(id));
    // Headers and key.
    BOOST_TEST(header(m, "type") == ev["type"].get<std::string>());
    BOOST_TEST(header(m, "position") == id);
    // who, and the event's link of its app's chain, as CloudEvents binary-mode headers too
    BOOST_TEST(header(m, "ce_onairhash") == ev.value("onairhash", "?"), m.dump());
    if (ev.contains("onairprincipal"))
      BOOST_TEST(header(m, "ce_onairprincipal") == ev["onairprincipal"].get<std::string>(), m.dump());
    const auto key = m["key"].get<std::string>();
    const auto source = ev["source"].get<std::string>(); // /apps/{app}/{category}/{id}
    const auto cat_at = source.find('/', 6);
    BOOST_TEST(key == source.substr(cat_at + 1, source.find('/', cat_at + 1) - cat_at - 1) + "/" +
                          source.substr(6, cat_at - 6) + "/" + ev["subject"].get<std::string>());
    // Per key, the log's order.
    const auto pos = std::stoull(id);
    BOOST_TEST(pos > last_position_of_key[key], "key " << key << " out of order at " << pos);
    last_position_of_key[key] = pos;
    if (ev["data"].contains("streamKey") && !ev["data"]["streamKey"].is_null())
      BOOST_TEST(ev["data"]["streamKey"] == "***", "a stream key value leaked: " << m.dump());
  }
  BOOST_TEST(srv.stop() == 0, srv.stderr_text());
}

BOOST_AUTO_TEST_CASE(metrics_readyz_and_admin_show_the_publisher) {
  temp_dir dir;
  const auto data = dir.path() / "data";
  server_process srv{data};
  srv.wait_ready();
  auto app = app_client::from_banner(srv);
  some_traffic(app, 3);
  const auto k = wait_published(srv, data);
  BOOST_TEST(k["topic"] == "onair.events");
  BOOST_TEST(k["publishedTotal"].get<int>() > 0);
  auto metrics = srv.get("/metrics");
  BOOST_TEST(metrics.status == 200);
  for (const char* m : {"onair_kafka_publish_lag_events 0", "onair_kafka_publish_lag_seconds ",
                        "onair_kafka_published_position ", "onair_kafka_broker_reachable 1"})
    BOOST_TEST(contains(metrics.body, m), m << " not in:\n" << metrics.body);
  auto ready = json::parse(srv.get("/readyz").body);
  BOOST_TEST(ready["status"] == "READY");
  BOOST_TEST(ready["kafka"] == "ok");
  // Not for strangers.
  BOOST_TEST(srv.get("/v2/admin/kafka").status == 404);
  BOOST_TEST(srv.stop() == 0);
}

// The operator verifies every app's trail as the topic holds it, and a message forged into the
// topic (a room's title changed, produced again with kcat) is named by its position.
BOOST_AUTO_TEST_CASE(audit_verify_checks_the_trails_on_the_topic_and_names_a_forged_message) {
  temp_dir dir;
  const auto data = dir.path() / "data";
  server_process srv{data};
  srv.wait_ready();
  auto app = app_client::from_banner(srv);
  some_traffic(app, 6);
  const auto bootstrap = wait_published(srv, data)["bootstrap"].get<std::string>();
  const auto verified = run_onair({"audit", "verify", "--json", "--kafka", bootstrap, "--data-dir", data.string()});
  BOOST_REQUIRE_MESSAGE(verified.code == 0, verified);
  const auto report = json::parse(verified.out);
  BOOST_TEST(report.value("ok", false), report.dump());
  BOOST_TEST(report.value("events", 0) >= 15, report.dump()); // 6 members and their keys, 2 rooms, a rename
  BOOST_TEST(report.value("signaturesChecked", false), report.dump());

  std::optional<onair::storage::kafka::message> room;
  for (const auto& m : read_whole_topic(bootstrap))
    if (m.type == "onair.video_room.created" && !room)
      room = m;
  BOOST_REQUIRE(room);
  auto forged = json::parse(room->value);
  forged["data"]["title"] = "Forged";
  const auto file = dir.path() / "forged.txt";
  std::ofstream{file} << room->key << "\t" << forged.dump() << "\n";
  const auto produced = run_program({"kcat", "-P", "-b", bootstrap, "-t", "onair.events", "-K", "\t", "-H",
                                     "type=" + room->type, "-H", "position=" + std::to_string(room->position), "-l",
                                     file.string()});
  BOOST_REQUIRE_MESSAGE(produced.code == 0, produced);
  const auto broken = run_onair({"audit", "verify", "--json", "--kafka", bootstrap, "--data-dir", data.string()});
  BOOST_TEST(broken.code == 3, broken);
  const auto named = json::parse(broken.out);
  BOOST_TEST(!named.value("ok", true));
  BOOST_TEST(named["broken"]["position"] == room->position, named.dump());
  BOOST_TEST(srv.stop() == 0);
}

// An erasure reaches Kafka as onair.member.erased, keyed by the member's stream like its other
// events, so that a consumer that kept the member's data drops it; what is published after it
// shows the data erased.
BOOST_AUTO_TEST_CASE(an_erased_member_is_announced_on_the_topic_and_later_events_show_its_data_erased) {
  temp_dir dir;
  const auto data = dir.path() / "data";
  server_process srv{data};
  srv.wait_ready();
  auto app = app_client::from_banner(srv);
  BOOST_REQUIRE_EQUAL(app.member("gina", "Gina Private"), 201);
  BOOST_REQUIRE_EQUAL(app.post("/v2/apps/me/members/gina/erase", json::object()), 200);
  const auto k = wait_published(srv, data);
  const auto topic = read_whole_topic(k["bootstrap"].get<std::string>());
  BOOST_TEST(srv.stop() == 0);
  int erased = 0;
  for (const auto& m : topic) {
    const auto ce = json::parse(m.value);
    if (m.type != "onair.member.erased")
      continue;
    ++erased;
    BOOST_TEST(m.key == "member/1/gina");
    BOOST_TEST(ce["data"]["appUserId"] == "gina");
    BOOST_TEST(ce["onairprincipal"].get<std::string>().rfind("app:", 0) == 0u, ce.dump());
    BOOST_TEST(ce["onaircausationid"].get<std::string>().rfind("flow/", 0) == 0u, ce.dump());
  }
  BOOST_TEST(erased == 1);
  // The republished view of the log, as a consumer rebuilding from onair would get it now.
  for (const auto& [rec, ce] : store_log(data))
    if (ce)
      BOOST_TEST(ce->dump().find("Gina Private") == std::string::npos, ce->dump());
}

BOOST_AUTO_TEST_CASE(kafka_off_publishes_nothing) {
  temp_dir dir;
  const auto data = dir.path() / "data";
  server_process srv{data, {"--kafka", "off"}};
  srv.wait_ready();
  auto ready = json::parse(srv.get("/readyz").body);
  BOOST_TEST(ready["kafka"] == "off");
  BOOST_TEST(ready["status"] == "READY");
  BOOST_TEST(!contains(srv.get("/metrics").body, "onair_kafka_"));
  BOOST_TEST(admin_get(srv, data, "/v2/admin/kafka")["mode"] == "off");
  BOOST_TEST(contains(srv.stdout_text(), "Kafka:     off"));
  // events tail cannot read the store of a running server that publishes nowhere: it says so.
  auto tail = run_onair({"events", "tail", "--data-dir", data.string()});
  BOOST_TEST(tail.code == 1);
  BOOST_TEST(contains(tail.err, "--kafka off"), tail);
  BOOST_TEST(srv.stop() == 0);
}

BOOST_AUTO_TEST_CASE(events_tail_reads_kafka_while_served_and_the_store_when_stopped) {
  temp_dir dir;
  const auto data = dir.path() / "data";
  std::vector<json> from_kafka;
  {
    server_process srv{data};
    srv.wait_ready();
    auto app = app_client::from_banner(srv);
    some_traffic(app, 6);
    wait_published(srv, data);
    // --follow prints what comes next, as it comes.
    temp_dir io;
    child_guard follower{spawn_onair({"events", "tail", "--follow", "--type", "member.registered", "--data-dir",
                                      data.string()},
                                     io.path() / "out", io.path() / "err")};
    wait_output(io.path() / "out", "\"appUserId\":\"m5\""); // among the last ones, before new ones
    BOOST_REQUIRE_EQUAL(app.member("late-comer"), 201);
    wait_output(io.path() / "out", "\"appUserId\":\"late-comer\"");
    follower.kill_now();
    wait_published(srv, data);
    auto r = run_onair({"events", "tail", "--from-beginning", "--data-dir", data.string()});
    BOOST_REQUIRE_MESSAGE(r.code == 0, r);
    from_kafka = json_lines(r.out);
    BOOST_REQUIRE_GT(from_kafka.size(), 10u);
    for (std::size_t i = 1; i < from_kafka.size(); ++i)
      BOOST_TEST(std::stoull(from_kafka[i - 1]["id"].get<std::string>()) <
                 std::stoull(from_kafka[i]["id"].get<std::string>()));
    auto last_kafka = run_onair({"events", "tail", "--data-dir", data.string()});
    BOOST_REQUIRE_MESSAGE(last_kafka.code == 0, last_kafka);
    const auto last10 = json_lines(last_kafka.out);
    BOOST_REQUIRE_EQUAL(last10.size(), 10u);
    BOOST_TEST(last10.front() == from_kafka[from_kafka.size() - 10]);
    BOOST_TEST(last10.back() == from_kafka.back());
    auto rooms = run_onair({"events", "tail", "--from-beginning", "--type", "video_room.created", "--data-dir",
                            data.string()});
    BOOST_REQUIRE_MESSAGE(rooms.code == 0, rooms);
    const auto room_events = json_lines(rooms.out);
    BOOST_TEST(room_events.size() == 2u, rooms.out);
    for (const auto& e : room_events)
      BOOST_TEST(e["type"] == "onair.video_room.created");
    BOOST_TEST(srv.stop() == 0);
  }
  auto all = run_onair({"events", "tail", "--from-beginning", "--data-dir", data.string()});
  BOOST_REQUIRE_MESSAGE(all.code == 0, all);
  const auto from_store = json_lines(all.out);
  BOOST_TEST(from_store.size() == from_kafka.size());
  std::set<std::string> a, b;
  for (const auto& e : from_kafka)
    a.insert(e.dump());
  for (const auto& e : from_store)
    b.insert(e.dump());
  BOOST_TEST((a == b), "Kafka and the store disagree");
  // Without --from-beginning: the last 10 of the log.
  auto last = run_onair({"events", "tail", "--data-dir", data.string()});
  BOOST_REQUIRE_MESSAGE(last.code == 0, last);
  const auto last_events = json_lines(last.out);
  BOOST_REQUIRE_EQUAL(last_events.size(), 10u);
  BOOST_TEST(last_events.back() == from_store.back());
  auto follow = run_onair({"events", "tail", "--follow", "--data-dir", data.string()});
  BOOST_TEST(follow.code == 2, follow);
}

BOOST_AUTO_TEST_CASE(kafka_config_passes_librdkafka_settings_through_and_refuses_bad_ones) {
  temp_dir dir;
  const auto data = dir.path() / "data";
  const auto good = dir.path() / "kafka.properties", bad = dir.path() / "bad.properties";
  {
    std::ofstream{good} << "# pass-through settings (SASL/TLS would go here)\nclient.id = onair-test\n"
                           "security.protocol = plaintext\n";
    std::ofstream{bad} << "sasl.mechanismz = PLAIN\n";
  }
  {
    server_process srv{data, {"--kafka-config", good.string()}};
    srv.wait_ready();
    auto app = app_client::from_banner(srv);
    BOOST_REQUIRE_EQUAL(app.member("x"), 201);
    wait_published(srv, data);
    BOOST_TEST(srv.stop() == 0);
  }
  auto refused = run_onair({"serve", "--data-dir", data.string(), "--http-listen", "127.0.0.1:0", "--kafka-config",
                            bad.string()});
  BOOST_TEST(refused.code != 0, refused);
  BOOST_TEST(contains(refused.out + refused.err, "sasl.mechanismz"), refused);
}

BOOST_AUTO_TEST_SUITE_END()
