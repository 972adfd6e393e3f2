// Synced appends per second with 1, 8 and 64 concurrent writers, group commit vs one fsync per
// append. Each writer appends one small event at a time to its own stream and waits for the ack,
// as an actor does. Every case runs on a fresh store in a fresh directory.
//
//   bench_event_store [--seconds 3] [--dir PATH] [--writers 1,8,64] [--modes group,single]
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "storage/event_store.hpp"

#ifndef ONAIR_BENCH_DEFAULT_DIR
#define ONAIR_BENCH_DEFAULT_DIR "."
#endif

namespace {

using clock_type = std::chrono::steady_clock;
using onair::storage::event_store;
using onair::storage::new_event;

struct config {
  double seconds = 3.0;
  std::string dir = ONAIR_BENCH_DEFAULT_DIR;
  std::vector<int> writers{1, 8, 64};
  std::vector<std::string> modes{"group", "single"};
};

struct outcome {
  std::string mode;
  int writers = 0;
  double appends_per_s = 0;
  double p50_us = 0;
  double p99_us = 0;
  std::size_t failures = 0;
};

[[noreturn]] void usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s [--seconds S] [--dir PATH] [--writers 1,8,64] [--modes group,single]\n", argv0);
  std::exit(2);
}

template <class T, class F>
std::vector<T> split(const std::string& s, F convert) {
  std::vector<T> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(convert(item));
  return out;
}

config parse(int argc, char** argv) {
  config c;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) usage(argv[0]);
    const std::string value = argv[++i];
    if (arg == "--seconds") c.seconds = std::stod(value);
    else if (arg == "--dir") c.dir = value;
    else if (arg == "--writers") c.writers = split<int>(value, [](const std::string& v) { return std::stoi(v); });
    else if (arg == "--modes") c.modes = split<std::string>(value, [](const std::string& v) { return v; });
    else usage(argv[0]);
  }
  for (const auto& m : c.modes)
    if (m != "group" && m != "single") usage(argv[0]);
  if (c.seconds <= 0 || c.writers.empty() || c.modes.empty()) usage(argv[0]);
  return c;
}

std::string filesystem_of(const std::string& dir) {
  struct statfs s{};
  if (::statfs(dir.c_str(), &s) != 0) return "unknown";
  switch (static_cast<unsigned long>(s.f_type)) {
  case 0xEF53: return "ext4";
  case 0x58465342: return "xfs";
  case 0x9123683E: return "btrfs";
  case 0x01021994: return "tmpfs";
  case 0x794c7630: return "overlayfs";
  case 0x2FC12FC1: return "zfs";
  default: {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%lx", static_cast<unsigned long>(s.f_type));
    return buf;
  }
  }
}

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto i = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

outcome run_case(const config& c, const std::string& mode, int writers) {
  const auto path = std::filesystem::path(c.dir) /
                    ("es-bench-" + mode + "-" + std::to_string(writers) + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(path);
  outcome out{mode, writers};
  {
    event_store::options opts;
    opts.path = path.string();
    opts.sync = true;
    opts.group_commit = mode == "group";
    auto opened = event_store::open(opts);
    if (!opened.ok()) {
      std::fprintf(stderr, "open %s: %s\n", opts.path.c_str(), opened.error().message.c_str());
      std::exit(1);
    }
    auto store = std::move(opened).value();

    std::vector<std::vector<double>> latencies(static_cast<std::size_t>(writers));
    std::atomic<std::size_t> failures{0};
    std::atomic<bool> go{false};
    const auto duration = std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(c.seconds));
    clock_type::time_point deadline;
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w)
      threads.emplace_back([&, w] {
        const std::string stream = "bench/writer-" + std::to_string(w);
        auto& lat = latencies[static_cast<std::size_t>(w)];
        lat.reserve(1 << 16);
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        for (std::int64_t version = 0;;) {
          const auto start = clock_type::now();
          if (start >= deadline) break;
          auto r = store->append(stream, version,
                                 {new_event{"bench.appended", R"({"writer":)" + std::to_string(w) + R"(,"n":)" +
                                                                  std::to_string(version + 1) + "}",
                                            version + 1, {}}});
          const auto end = clock_type::now();
          if (!r.ok()) {
            ++failures;
            break;
          }
          version = r->version;
          if (end <= deadline) lat.push_back(std::chrono::duration<double, std::micro>(end - start).count());
        }
      });
    deadline = clock_type::now() + duration;
    go.store(true, std::memory_order_release);
    for (auto& t : threads) t.join();

    std::vector<double> all;
    for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
    std::sort(all.begin(), all.end());
    out.appends_per_s = static_cast<double>(all.size()) / c.seconds;
    out.p50_us = percentile(all, 0.50);
    out.p99_us = percentile(all, 0.99);
    out.failures = failures.load();
  }
  std::filesystem::remove_all(path);
  return out;
}

} // namespace

int main(int argc, char** argv) {
  const config c = parse(argc, argv);
  std::filesystem::create_directories(c.dir);
  const auto fs = filesystem_of(c.dir);

  std::string command;
  for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);
  std::printf("command: %s\n", command.c_str());
  std::printf("machine: %u hardware threads; dir %s (%s); %.1f s per case; synced (fsync) writes\n",
              std::thread::hardware_concurrency(), std::filesystem::absolute(c.dir).c_str(), fs.c_str(), c.seconds);
  if (fs == "tmpfs") std::printf("warning: tmpfs ignores fsync; the numbers say nothing about durability cost\n");
  std::printf("\n| mode   | writers | appends/s | p50 ack (ms) | p99 ack (ms) |\n");
  std::printf("|--------|--------:|----------:|-------------:|-------------:|\n");
  std::fflush(stdout);

  std::vector<outcome> results;
  for (const auto& mode : c.modes)
    for (int w : c.writers) {
      auto r = run_case(c, mode, w);
      std::printf("| %-6s | %7d | %9.0f | %12.2f | %12.2f |%s\n", r.mode.c_str(), r.writers, r.appends_per_s,
                  r.p50_us / 1000.0, r.p99_us / 1000.0,
                  r.failures ? (" " + std::to_string(r.failures) + " failed").c_str() : "");
      std::fflush(stdout);
      results.push_back(r);
    }

  const int top = *std::max_element(c.writers.begin(), c.writers.end());
  double group = 0, single = 0;
  for (const auto& r : results)
    if (r.writers == top) (r.mode == "group" ? group : single) = r.appends_per_s;
  if (group > 0 && single > 0) std::printf("\ngroup/single at %d writers: %.1fx\n", top, group / single);
  for (const auto& r : results)
    if (r.failures) return 1;
  return 0;
}
