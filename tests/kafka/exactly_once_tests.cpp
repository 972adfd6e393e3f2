// Exactly once in the topic: onair killed with SIGKILL at any moment under write load and
// restarted, and the broker taken down and brought back (also across a server restart), against
// `onair dev-broker` in its own process. Each ends with the topic compared to the store event by
// event.
#include "kafka_harness.hpp"

using namespace onair::test_kafka;

namespace {

// Writers posting members (create or rename) until told to stop; they count what was accepted
// and shrug off a dead server.
class write_load {
public:
  write_load(const app_client& app, const std::string& tag, int threads = 2) {
    for (int t = 0; t < threads; ++t)
      threads_.emplace_back([this, app, tag, t] {
        for (int i = 0; !stop_.load(); ++i) {
          // Every fourth command renames an earlier member: more events per aggregate.
          const auto id = tag + "-" + std::to_string(t) + "-" + std::to_string(i % 4 == 3 ? i - 3 : i);
          const int s = app.member(id, "name " + std::to_string(i));
          if (s == 200 || s == 201)
            ++accepted_;
          else if (s == 0)
            std::this_thread::sleep_for(5ms); // killed: no busy loop until told to stop
        }
      });
  }
  ~write_load() { stop(); }
  int stop() {
    stop_ = true;
    for (auto& t : threads_)
      if (t.joinable())
        t.join();
    return accepted_.load();
  }

private:
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::vector<std::thread> threads_;
};

} // namespace

BOOST_AUTO_TEST_SUITE(kafka_exactly_once)

BOOST_AUTO_TEST_CASE(kill_9_under_write_load_loses_and_duplicates_nothing) {
  dev_broker broker;
  temp_dir dir;
  const auto data = dir.path() / "data";
  const auto seed = std::random_device{}();
  BOOST_TEST_MESSAGE("kill -9 test seed " << seed);
  std::mt19937 rng{seed};
  auto between = [&](int lo, int hi) { return std::chrono::milliseconds{std::uniform_int_distribution<int>{lo, hi}(rng)}; };

  std::optional<app_client> app;
  int accepted = 0, kills = 0;
  constexpr int rounds = 7;
  for (int round = 0; round < rounds; ++round) {
    server_process srv{data, {"--kafka", broker.bootstrap()}};
    if (round % 3 == 2) {
      // Killed while starting: recovery, the topic's tail read, the republish of what was missing.
      std::this_thread::sleep_for(between(30, 400));
      srv.kill_hard();
      ++kills;
      continue;
    }
    srv.wait_ready();
    if (!app)
      app = app_client::from_banner(srv);
    app->http = srv.http();
    write_load load{*app, "r" + std::to_string(round)};
    std::this_thread::sleep_for(between(150, 1200)); // the moment of the kill is the point
    srv.kill_hard();
    ++kills;
    accepted += load.stop();
  }
  BOOST_TEST_MESSAGE("kill -9 test: " << kills << " kills, " << accepted << " commands accepted");
  BOOST_TEST(accepted > 50);

  // A last clean run publishes whatever the kills left behind.
  server_process srv{data, {"--kafka", broker.bootstrap()}};
  srv.wait_ready();
  const auto k = wait_published(srv, data);
  BOOST_TEST_MESSAGE("last start: " << k.dump());
  BOOST_TEST(srv.stop() == 0, srv.stderr_text());

  check_topic_equals_store(read_whole_topic(broker.bootstrap()), store_log(data));
}

BOOST_AUTO_TEST_CASE(broker_down_and_up_again_loses_and_duplicates_nothing_and_readyz_degrades) {
  dev_broker broker;
  temp_dir dir;
  const auto data = dir.path() / "data";
  const std::vector<std::string> args{"--kafka", broker.bootstrap(), "--kafka-max-lag", "1"};
  {
    server_process srv{data, args};
    srv.wait_ready();
    auto app = app_client::from_banner(srv);
    for (int i = 0; i < 10; ++i)
      BOOST_REQUIRE_EQUAL(app.member("before-" + std::to_string(i)), 201);
    wait_published(srv, data);

    // Outage 1: the API keeps accepting commands; the lag shows; /readyz degrades (still 200).
    broker.down();
    for (int i = 0; i < 20; ++i)
      BOOST_REQUIRE_EQUAL(app.member("during-" + std::to_string(i)), 201);
    auto ready = wait_json(srv, "/readyz", [](const json& j) { return j.value("status", "") == "DEGRADED"; },
                           std::chrono::seconds{30});
    BOOST_TEST(ready["kafka"] == "degraded");
    BOOST_TEST(srv.get("/readyz").status == 200);
    const auto k = admin_get(srv, data, "/v2/admin/kafka");
    BOOST_TEST(k["lagEvents"].get<int>() > 0, k.dump());
    BOOST_TEST(k["lagSeconds"].get<double>() > 1.0, k.dump());
    const auto metrics = srv.get("/metrics").body;
    BOOST_TEST(!contains(metrics, "onair_kafka_publish_lag_events 0\n"), metrics);
    for (int i = 0; i < 10; ++i)
      BOOST_REQUIRE_EQUAL(app.member("during-" + std::to_string(i), "renamed"), 200);

    // Back up: publishing resumes by itself.
    broker.up();
    wait_published(srv, data);
    wait_json(srv, "/readyz", [](const json& j) { return j.value("status", "") == "READY"; }, std::chrono::seconds{30});

    // Outage 2, across a server restart: a clean stop with the broker down, a start without it.
    for (int i = 0; i < 10; ++i)
      BOOST_REQUIRE_EQUAL(app.member("second-" + std::to_string(i)), 201);
    broker.down();
    for (int i = 10; i < 20; ++i)
      BOOST_REQUIRE_EQUAL(app.member("second-" + std::to_string(i)), 201);
    BOOST_TEST(srv.stop() == 0, srv.stderr_text());
  }
  server_process srv{data, args};
  srv.wait_ready();
  const auto stuck = admin_get(srv, data, "/v2/admin/kafka");
  BOOST_TEST(stuck["lagEvents"].get<int>() > 0, stuck.dump());
  broker.up();
  const auto k = wait_published(srv, data);
  BOOST_TEST_MESSAGE("after the outages: " << k.dump());
  BOOST_TEST(srv.stop() == 0, srv.stderr_text());

  check_topic_equals_store(read_whole_topic(broker.bootstrap()), store_log(data));
}

BOOST_AUTO_TEST_SUITE_END()
