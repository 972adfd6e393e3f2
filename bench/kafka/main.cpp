// End-to-end publish rate and lag of the Kafka publisher: a synced RocksDB event store, writers
// appending as actors do (one event at a time, waiting for the durable ack), and the publisher
// copying the log to the topic (idempotent producer, acks=all). Three cases:
//   backlog   N events already in the log, then the publisher starts: its drain rate
//   sustained writers at full speed for S seconds: append rate, publish rate, lag while it runs
//   paced     writers at a fixed total rate (--rate): lag at a load the broker keeps up with
// The broker is the embedded one (in this process, sharing the CPUs) unless --kafka HOST:PORT.
//
//   bench_kafka [--seconds 5] [--writers 8] [--backlog 50000] [--rate 2000] [--kafka HOST:PORT] [--dir PATH]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "storage/kafka/kafka.hpp"

#ifndef ONAIR_BENCH_DEFAULT_DIR
#define ONAIR_BENCH_DEFAULT_DIR "."
#endif

namespace {

namespace kafka = onair::storage::kafka;
using onair::storage::event_store;
using onair::storage::new_event;
using clock_type = std::chrono::steady_clock;

struct config {
  double seconds = 5;
  int writers = 8;
  std::size_t backlog = 50000;
  double rate = 2000;
  std::string kafka;
  std::string dir = ONAIR_BENCH_DEFAULT_DIR;
};

[[noreturn]] void usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s [--seconds S] [--writers N] [--backlog N] [--rate R] [--kafka HOST:PORT] [--dir PATH]\n",
               argv0);
  std::exit(2);
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A member-like event of about 300 bytes of JSON, in a category the stream publishes.
new_event make_event(int writer, std::uint64_t n) {
  new_event e;
  e.type = "member.updated";
  e.time_ms = now_ms();
  e.data = R"({"appUserId":"w)" + std::to_string(writer) + "-" + std::to_string(n) +
           R"(","appUserName":"Benchmark member with a name of some length","appUserProfileImgUrl":"https://cdn.example.com/profiles/0123456789abcdef.png","customType":"viewer","customData":{"tier":"gold","region":"eu-west"},"email":"member@example.com","at":"2026-11-24T09:30:00.000Z"})";
  return e;
}

struct run {
  std::unique_ptr<event_store> store;
  std::unique_ptr<kafka::embedded_broker> broker;
  std::string brokers;
  std::string topic;
};

run open_run(const config& c, const std::string& name) {
  run r;
  const auto path = std::filesystem::path{c.dir} / ("bench-kafka-" + name);
  std::filesystem::remove_all(path);
  event_store::options so;
  so.path = path.string();
  auto store = event_store::open(so);
  if (!store) {
    std::fprintf(stderr, "cannot open %s: %s\n", so.path.c_str(), store.error().message.c_str());
    std::exit(1);
  }
  r.store = std::move(*store);
  r.topic = "bench." + name + "." + std::to_string(now_ms());
  if (c.kafka.empty()) {
    auto b = kafka::embedded_broker::start(r.topic, 3);
    if (!b) {
      std::fprintf(stderr, "embedded broker: %s\n", b.error().message.c_str());
      std::exit(1);
    }
    r.broker = std::move(*b);
    r.brokers = r.broker->bootstrap();
  } else {
    r.brokers = c.kafka;
  }
  return r;
}

std::unique_ptr<kafka::publisher> start_publisher(run& r) {
  kafka::publisher::options po;
  po.client.brokers = r.brokers;
  po.client.topic = r.topic;
  return kafka::publisher::start(*r.store, po);
}

double wait_drained(const kafka::publisher& p, std::uint64_t target) {
  const auto t0 = clock_type::now();
  while (p.stats().published_position < target)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

void backlog_case(const config& c) {
  auto r = open_run(c, "backlog");
  for (std::size_t i = 0; i < c.backlog;) {
    std::vector<new_event> batch;
    for (int j = 0; j < 100 && i < c.backlog; ++j, ++i)
      batch.push_back(make_event(0, i));
    if (!r.store->append("member/1/backlog-" + std::to_string(i), 0, std::move(batch))) {
      std::fprintf(stderr, "append failed\n");
      std::exit(1);
    }
  }
  const auto t0 = clock_type::now();
  auto p = start_publisher(r);
  wait_drained(*p, r.store->last_position());
  const double s = std::chrono::duration<double>(clock_type::now() - t0).count();
  std::printf("| backlog   | %7zu events in the log | publish %8.0f events/s | drained in %.2f s (incl. connect + tail read) |\n",
              c.backlog, static_cast<double>(c.backlog) / s, s);
}

struct load_result {
  std::uint64_t appended = 0;
  double seconds = 0;
  std::vector<double> lag_s;        // sampled every 10 ms
  std::vector<std::uint64_t> lag_n;
  double drain_s = 0;
};

// Writers append for c.seconds (paced at `rate` events/s in total when > 0) while the publisher runs.
load_result load_case(const config& c, const std::string& name, double rate) {
  auto r = open_run(c, name);
  auto p = start_publisher(r);
  while (p->stats().state != "publishing")
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> appended{0};
  std::vector<std::thread> ws;
  const auto t0 = clock_type::now();
  for (int w = 0; w < c.writers; ++w)
    ws.emplace_back([&, w] {
      const double per_writer = rate / c.writers;
      for (std::uint64_t n = 0; !stop.load(); ++n) {
        if (rate > 0) {
          const auto due = t0 + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(n / per_writer));
          std::this_thread::sleep_until(due);
        }
        // One stream per writer, appended at its expected version, as an actor does.
        if (r.store->append("member/1/w" + std::to_string(w), static_cast<std::int64_t>(n), {make_event(w, n)}))
          ++appended;
      }
    });
  load_result out;
  const auto until = t0 + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(c.seconds));
  while (clock_type::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
    const auto s = p->stats();
    out.lag_s.push_back(s.lag_seconds);
    out.lag_n.push_back(s.lag_events);
  }
  stop = true;
  for (auto& t : ws)
    t.join();
  out.seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
  out.appended = appended.load();
  out.drain_s = wait_drained(*p, r.store->last_position());
  return out;
}

template <class T>
T pct(std::vector<T> v, double q) {
  if (v.empty())
    return T{};
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

void print_load(const char* name, const load_result& r) {
  const double total_s = r.seconds + r.drain_s;
  std::printf("| %-9s | append %8.0f events/s | publish %8.0f events/s | lag p50 %6.1f ms, p99 %7.1f ms, max %7.1f ms | "
              "lag p99 %6llu events | drain after stop %.2f s |\n",
              name, static_cast<double>(r.appended) / r.seconds, static_cast<double>(r.appended) / total_s,
              pct(r.lag_s, 0.5) * 1000, pct(r.lag_s, 0.99) * 1000, pct(r.lag_s, 1.0) * 1000,
              static_cast<unsigned long long>(pct(r.lag_n, 0.99)), r.drain_s);
}

} // namespace

int main(int argc, char** argv) {
  config c;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc)
      usage(argv[0]);
    const std::string v = argv[++i];
    if (a == "--seconds") c.seconds = std::stod(v);
    else if (a == "--writers") c.writers = std::stoi(v);
    else if (a == "--backlog") c.backlog = std::stoul(v);
    else if (a == "--rate") c.rate = std::stod(v);
    else if (a == "--kafka") c.kafka = v;
    else if (a == "--dir") c.dir = v;
    else usage(argv[0]);
  }
  spdlog::set_level(spdlog::level::warn);
  std::string cmd;
  for (int i = 0; i < argc; ++i)
    cmd += std::string{i ? " " : ""} + argv[i];
  std::printf("command: %s\nmachine: %u hardware threads; broker: %s; store synced (fsync); acks=all, idempotent\n",
              cmd.c_str(), std::thread::hardware_concurrency(),
              c.kafka.empty() ? "embedded (librdkafka mock, in this process)" : c.kafka.c_str());
  std::printf("seconds %.1f, writers %d, backlog %zu, paced rate %.0f events/s\n\n", c.seconds, c.writers, c.backlog, c.rate);
  backlog_case(c);
  print_load("sustained", load_case(c, "sustained", 0));
  print_load("paced", load_case(c, "paced", c.rate));
  return 0;
}
