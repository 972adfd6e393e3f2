// The kernel's floor for a live fan-out on this machine: what one send() per video frame per viewer
// costs over loopback TCP, with nothing else in the way (no protocol, no parsing, no event library).
// N viewer sockets read by one thread (as the load generator does, with SO_TIMESTAMPNS), W writer
// threads (as onair's event loops) each sending every frame of a 2.44 Mbit/s, 30 fps stream to its
// share of the viewers, one send() per viewer per frame. Prints the writers' CPU seconds per GB
// delivered and how long after the frame's tick each viewer's send returned.
//   bench_fanout_floor --viewers 1000 [--writers 2] [--window 15] [--settle 2] [--bitrate 2440000] [--fps 30]
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "bench/fanout/recv_stamped.hpp"

namespace {

struct options {
  int viewers = 1000;
  int writers = 2;
  double window_s = 15;
  double settle_s = 2;
  double bitrate = 2'440'000;
  double fps = 30;
};

std::uint64_t now_ns(clockid_t clock = CLOCK_MONOTONIC) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "bench_fanout_floor: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

double pct(std::vector<std::uint32_t>& v, double p) {
  if (v.empty())
    return 0;
  const auto k = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// Phases the writers and the reader follow: settle, then the measured window, then stop.
std::atomic<int> g_phase{0}; // 0 settle, 1 window, 2 stop
std::atomic<std::uint64_t> g_received{0};

struct writer_result {
  double cpu_s = 0;
  std::uint64_t short_sends = 0;
  std::vector<std::uint32_t> spread_us; // frame tick -> this viewer's send returned
};

void writer(const std::vector<int>& fds, const options& o, std::uint64_t t0, writer_result& out) {
  const auto frame = static_cast<std::size_t>(o.bitrate / 8 / o.fps);
  std::vector<std::uint8_t> payload(frame, 0x5a);
  const auto period = static_cast<std::uint64_t>(1e9 / o.fps);
  double cpu0 = 0;
  bool measuring = false;
  out.spread_us.reserve(static_cast<std::size_t>(o.window_s * o.fps + 2) * fds.size());
  for (std::uint64_t k = 0;; ++k) {
    const std::uint64_t tick = t0 + k * period;
    const timespec ts{static_cast<time_t>(tick / 1'000'000'000u), static_cast<long>(tick % 1'000'000'000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
    const int phase = g_phase.load(std::memory_order_acquire);
    if (phase == 2)
      break;
    if (phase == 1 && !measuring) {
      measuring = true;
      cpu0 = static_cast<double>(now_ns(CLOCK_THREAD_CPUTIME_ID)) / 1e9;
    }
    for (int fd : fds) {
      const ssize_t n = ::send(fd, payload.data(), payload.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (!measuring)
        continue;
      if (n != static_cast<ssize_t>(payload.size()))
        ++out.short_sends;
      out.spread_us.push_back(static_cast<std::uint32_t>((now_ns() - tick) / 1000));
    }
  }
  if (measuring)
    out.cpu_s = static_cast<double>(now_ns(CLOCK_THREAD_CPUTIME_ID)) / 1e9 - cpu0;
}

void reader(const std::vector<int>& fds) {
  const int ep = epoll_create1(0);
  if (ep < 0)
    die("epoll_create1");
  for (int fd : fds) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
      die("epoll_ctl");
  }
  static std::uint8_t buf[256 * 1024];
  std::vector<epoll_event> evs(1024);
  while (g_phase.load(std::memory_order_acquire) != 2) {
    const int n = epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), 100);
    for (int i = 0; i < n; ++i) {
      const auto r = onair::bench::recv_stamped(evs[static_cast<std::size_t>(i)].data.fd, buf, MSG_DONTWAIT);
      if (r.n > 0)
        g_received.fetch_add(static_cast<std::uint64_t>(r.n), std::memory_order_relaxed);
    }
  }
  close(ep);
}

} // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const double v = std::atof(argv[i + 1]);
    if (k == "--viewers")
      o.viewers = static_cast<int>(v);
    else if (k == "--writers")
      o.writers = std::max(1, static_cast<int>(v));
    else if (k == "--window")
      o.window_s = v;
    else if (k == "--settle")
      o.settle_s = v;
    else if (k == "--bitrate")
      o.bitrate = v;
    else if (k == "--fps")
      o.fps = v;
    else {
      std::fprintf(stderr, "bench_fanout_floor: unknown option %s\n", k.c_str());
      return 2;
    }
  }

  const int lfd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (lfd < 0 || bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(lfd, 4096) != 0 ||
      getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    die("listen on 127.0.0.1");

  std::vector<int> clients, servers;
  const int one = 1;
  for (int i = 0; i < o.viewers; ++i) {
    const int c = socket(AF_INET, SOCK_STREAM, 0);
    if (c < 0 || connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      die("connect");
    setsockopt(c, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one); // as the load generator's viewers
    const int s = accept(lfd, nullptr, nullptr);
    if (s < 0)
      die("accept");
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); // as onair's players
    clients.push_back(c);
    servers.push_back(s);
  }

  std::vector<std::vector<int>> shares(static_cast<std::size_t>(o.writers));
  for (std::size_t i = 0; i < servers.size(); ++i)
    shares[i % shares.size()].push_back(servers[i]);
  std::vector<writer_result> results(shares.size());
  std::thread rd{reader, std::cref(clients)};
  const std::uint64_t t0 = now_ns() + 10'000'000;
  std::vector<std::thread> ws;
  for (std::size_t w = 0; w < shares.size(); ++w)
    ws.emplace_back(writer, std::cref(shares[w]), std::cref(o), t0, std::ref(results[w]));

  std::this_thread::sleep_for(std::chrono::duration<double>(o.settle_s));
  const std::uint64_t bytes0 = g_received.load();
  const std::uint64_t w0 = now_ns();
  g_phase.store(1, std::memory_order_release);
  std::this_thread::sleep_for(std::chrono::duration<double>(o.window_s));
  g_phase.store(2, std::memory_order_release);
  const std::uint64_t bytes = g_received.load() - bytes0;
  const double wall = static_cast<double>(now_ns() - w0) / 1e9;
  for (auto& t : ws)
    t.join();
  rd.join();

  double cpu = 0;
  std::uint64_t short_sends = 0;
  std::vector<std::uint32_t> spread;
  for (auto& r : results) {
    cpu += r.cpu_s;
    short_sends += r.short_sends;
    spread.insert(spread.end(), r.spread_us.begin(), r.spread_us.end());
  }
  const double gb = static_cast<double>(bytes) / 1e9;
  std::printf("RESULT server=floor viewers=%d writers=%d frame_bytes=%zu gbit_s=%.3f writer_cpu_s=%.3f "
              "cpu_s_per_gb=%.3f sends=%zu short_sends=%llu spread_p50_ms=%.2f spread_p99_ms=%.2f\n",
              o.viewers, o.writers, static_cast<std::size_t>(o.bitrate / 8 / o.fps), gb * 8 / wall, cpu,
              gb > 0 ? cpu / gb : 0.0, spread.size(), static_cast<unsigned long long>(short_sends),
              pct(spread, 50) / 1e3, pct(spread, 99) / 1e3);
  for (int fd : clients)
    close(fd);
  for (int fd : servers)
    close(fd);
  close(lfd);
  return 0;
}
