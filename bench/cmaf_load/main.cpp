// LL-HLS load generator: N clients play one rendition of a live CMAF stream the way hls.js does in
// low-latency mode, over one keep-alive HTTP/1.1 connection each, in one epoll thread:
//   loop { blocking reload of the media playlist for the next part (_HLS_msn/_HLS_part, and
//          _HLS_skip=YES once, as hls.js asks for delta updates), then GET that part }
// (--hint: GET the preload-hinted part, which the server holds until it exists, then a reload for
// the part just received to learn the next hint.) Each client fetches the init segment once.
// Clients ACK as the kernel does by default (delayed ACKs), as a browser's socket does; --quickack
// ACKs every read at once (TCP_QUICKACK), which shows what a server loses to Nagle's algorithm
// when it writes one answer in several sends without TCP_NODELAY.
//
// One more client, the observer, plays the same rendition from onair the same way and mirrors
// what it receives into --mirror-dir (each part, then the playlist as onair served it, then the
// init segment), so that a static server (nginx) can serve the same bytes. Clients of a mirror
// (--mirror http://H:P: the same paths there) cannot block on the static server, so each one
// waits in this process until the observer has mirrored its next part, then asks as above.
//
// Delivery delay of a part = the kernel's arrival stamp of its last byte at a client − the time
// the part came to exist. That time is the earliest arrival, at any client of onair (the
// observer included), of an answer that showed the part: a blocking reload answers the moment a
// part exists, so the first of those answers is within a loopback round trip of its creation.
// The observer's own answer alone would not do: it is one of N+1 waiters answered in turn, and
// could be the last. Delays are computed at the end, against the earliest stamp seen.
//
//   bench_cmaf_load --play http://H:P/play/ID/index.m3u8 [--rendition v1] [--clients N]
//                   [--mirror http://H:P --mirror-dir DIR] [--hint] [--no-skip] [--quickack] [--ramp PER_S]
//                   [--settle S] [--window S] [--pids P,..] [--serving-threads NAME,..]
//                   [--aux-pids P,.. --aux-threads NAME,..] [--parts-log FILE] [--label NAME]
// --pids: server processes whose CPU is read over the window; --serving-threads: the names of the
// threads that serve HTTP, reported apart (onair's event loops are all named "onair": its HTTP
// loops and its RTMP loops, which take the publish); --aux-pids: other processes whose CPU over the
// window is reported (onair while nginx serves: its transcode, ingest and the observer), and
// their --aux-threads apart.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bench/fanout/recv_stamped.hpp"

namespace {

using usec = std::int64_t; // CLOCK_REALTIME µs: the clock of the kernel's arrival stamps

usec real_us() {
  timespec t{};
  clock_gettime(CLOCK_REALTIME, &t);
  return std::int64_t{t.tv_sec} * 1'000'000 + t.tv_nsec / 1000;
}
usec stamp_us(const timespec& t) { return std::int64_t{t.tv_sec} * 1'000'000 + t.tv_nsec / 1000; }

// A part's place in the stream, ordered: segment number × 64 + part index (a 2 s segment has 6).
using part_key = std::int64_t;
constexpr part_key key_of(std::int64_t msn, std::int64_t part) { return msn * 64 + part; }
std::int64_t msn_of(part_key k) { return k / 64; }
std::int64_t part_of(part_key k) { return k % 64; }

struct endpoint {
  std::string host;
  std::uint16_t port = 80;
};

// http://H:P/path -> endpoint, path
bool parse_http_url(const std::string& s, endpoint& e, std::string& path) {
  constexpr std::string_view scheme = "http://";
  if (s.rfind(scheme, 0) != 0)
    return false;
  const auto slash = s.find('/', scheme.size());
  const std::string hostport = s.substr(scheme.size(), slash - scheme.size());
  const auto colon = hostport.rfind(':');
  e.host = hostport.substr(0, colon);
  if (colon != std::string::npos)
    e.port = static_cast<std::uint16_t>(std::stoi(hostport.substr(colon + 1)));
  path = slash == std::string::npos ? "/" : s.substr(slash);
  return !e.host.empty();
}

template <class T>
bool to_number(std::string_view s, T& out) {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc{} && r.ptr == s.data() + s.size();
}

// "folder/v1/12.3.m4s" -> key, and the folder "folder/v1/"
bool parse_part_uri(std::string_view uri, part_key& k, std::string_view* dir = nullptr) {
  const auto slash = uri.rfind('/');
  std::string_view f = uri.substr(slash == std::string_view::npos ? 0 : slash + 1);
  if (!f.ends_with(".m4s"))
    return false;
  f.remove_suffix(4);
  const auto dot = f.find('.');
  std::int64_t msn = 0, part = 0;
  if (dot == std::string_view::npos || !to_number(f.substr(0, dot), msn) || !to_number(f.substr(dot + 1), part) ||
      part >= 64)
    return false;
  k = key_of(msn, part);
  if (dir)
    *dir = uri.substr(0, slash == std::string_view::npos ? 0 : slash + 1);
  return true;
}

std::string_view quoted_uri(std::string_view line) {
  const auto b = line.find("URI=\"");
  if (b == std::string_view::npos)
    return {};
  const auto e = line.find('"', b + 5);
  return e == std::string_view::npos ? std::string_view{} : line.substr(b + 5, e - b - 5);
}

// What a client needs of an LL-HLS media playlist: its parts, the preload hint, the init segment.
struct playlist {
  std::vector<part_key> parts;
  part_key hint = -1;
  std::string dir, map; // folder of the parts ("folder/v1/"), init segment URI
  // First listed part at or after k (-1: none).
  part_key first_from(part_key k) const {
    for (part_key p : parts)
      if (p >= k)
        return p;
    return -1;
  }
};

playlist parse_playlist(std::string_view text) {
  playlist pl;
  std::size_t at = 0;
  while (at < text.size()) {
    auto end = text.find('\n', at);
    if (end == std::string_view::npos)
      end = text.size();
    const std::string_view line = text.substr(at, end - at);
    at = end + 1;
    if (line.size() < 10 || line[0] != '#')
      continue;
    part_key k = 0;
    std::string_view dir;
    if (line.starts_with("#EXT-X-PART:")) {
      if (parse_part_uri(quoted_uri(line), k, &dir)) {
        pl.parts.push_back(k);
        if (pl.dir.empty())
          pl.dir = dir;
      }
    } else if (line.starts_with("#EXT-X-PRELOAD-HINT:") && line.find("TYPE=PART") != std::string_view::npos) {
      if (parse_part_uri(quoted_uri(line), k, &dir)) {
        pl.hint = k;
        pl.dir = dir;
      }
    } else if (line.starts_with("#EXT-X-MAP:")) {
      pl.map = quoted_uri(line);
    }
  }
  return pl;
}

// ---------------------------------------------------------------- CPU of processes and threads
double ticks_to_s(double ticks) { return ticks / static_cast<double>(sysconf(_SC_CLK_TCK)); }

// utime + stime (fields 14, 15) of a /proc/.../stat line, in clock ticks.
double stat_ticks(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  std::getline(f, line);
  const auto rp = line.rfind(')');
  if (rp == std::string::npos)
    return 0;
  std::istringstream is(line.substr(rp + 2));
  std::string field;
  double v = 0;
  for (int i = 3; is >> field; ++i) {
    if (i == 14 || i == 15)
      v += std::stod(field);
    if (i == 15)
      break;
  }
  return v;
}

struct cpu_sample {
  double all_s = 0;     // every thread of the processes
  double serving_s = 0; // the threads named in --serving-threads (all when none are named)
  std::map<std::string, double> by_name; // CPU s per thread name (threads that ended are left out)
};

cpu_sample sample_cpu(const std::vector<int>& pids, const std::vector<std::string>& serving) {
  cpu_sample s;
  for (int pid : pids) {
    const std::string base = "/proc/" + std::to_string(pid);
    // The process's own line counts the threads that ended too.
    const double all = ticks_to_s(stat_ticks(base + "/stat"));
    s.all_s += all;
    if (serving.empty())
      s.serving_s += all;
    if (DIR* d = opendir((base + "/task").c_str())) {
      while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.')
          continue;
        const std::string t = base + "/task/" + e->d_name;
        std::ifstream cf(t + "/comm");
        std::string comm;
        std::getline(cf, comm);
        const double cpu = ticks_to_s(stat_ticks(t + "/stat"));
        s.by_name[comm] += cpu;
        if (std::find(serving.begin(), serving.end(), comm) != serving.end())
          s.serving_s += cpu;
      }
      closedir(d);
    }
  }
  return s;
}

// "name 1.23, name 0.45, ..." : the busiest thread names between two samples.
std::string busiest(const cpu_sample& a, const cpu_sample& b, std::size_t n) {
  std::vector<std::pair<double, std::string>> v;
  for (const auto& [name, cpu] : b.by_name) {
    const auto it = a.by_name.find(name);
    const double d = cpu - (it == a.by_name.end() ? 0.0 : it->second);
    if (d > 0.005)
      v.emplace_back(d, name);
  }
  std::sort(v.rbegin(), v.rend());
  std::string out;
  for (std::size_t i = 0; i < v.size() && i < n; ++i) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s%s %.2f", i ? ", " : "", v[i].second.c_str(), v[i].first);
    out += buf;
  }
  return out;
}

double self_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// ---------------------------------------------------------------- configuration and figures
struct config {
  std::string play, rendition = "v1", mirror, mirror_dir, label = "server", parts_log;
  unsigned clients = 100;
  double ramp = 500, settle = 3, window = 20;
  bool skip = true, hint = false, quickack = false;
  std::vector<int> pids, aux_pids;
  std::vector<std::string> serving_threads, aux_threads;
};

struct counters {
  std::uint64_t requests = 0, bytes = 0, parts = 0, part_bytes = 0, ok = 0, s503 = 0, s404 = 0, s400 = 0,
                other = 0, conn_errors = 0, early = 0, resyncs = 0;
  counters operator-(const counters& o) const {
    counters c;
    c.requests = requests - o.requests, c.bytes = bytes - o.bytes, c.parts = parts - o.parts;
    c.part_bytes = part_bytes - o.part_bytes, c.ok = ok - o.ok, c.s503 = s503 - o.s503, c.s404 = s404 - o.s404;
    c.s400 = s400 - o.s400, c.other = other - o.other, c.conn_errors = conn_errors - o.conn_errors;
    c.early = early - o.early, c.resyncs = resyncs - o.resyncs;
    return c;
  }
};

// A part received by a client in the window.
struct delivery {
  part_key key;
  usec arrived;     // kernel stamp of its last byte
  usec revealed;    // kernel stamp of the reload answer that listed it (reload mode)
  usec asked;       // when its request was sent
};

double pct(std::vector<double>& v, double p) {
  if (v.empty())
    return 0;
  const auto k = std::min(v.size() - 1, static_cast<std::size_t>(p / 100 * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}
double max_of(const std::vector<double>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }

// ---------------------------------------------------------------- clients
struct client {
  enum class req : std::uint8_t { none, playlist, init, reload, part };
  int id = 0;
  bool observer = false, to_mirror = false;
  int fd = -1;
  bool connected = false, want_out = false;
  std::string out;
  std::size_t out_off = 0;
  // the request in flight
  req pending = req::none;
  part_key asked_key = -1;
  usec asked_at = 0;
  // its answer, being read
  bool in_body = false, close_after = false;
  std::string head, body;
  int status = 0;
  std::size_t content_length = 0, body_got = 0;
  // playback
  bool have_init = false, started = false, waiting = false;
  part_key target = -1, hint = -1, after = -1; // after: the part to ask for once this one is in
  std::string part_dir, init_path; // the parts' folder below /play/ID/ ("folder/v1/"), the init's path
  usec revealed = 0; // stamp of the reload answer that listed the part being fetched
  std::uint64_t parts = 0;
};

class load {
public:
  explicit load(config c) : cfg_{std::move(c)} {}

  int run() {
    std::string path;
    if (!parse_http_url(cfg_.play, onair_, path) || !path.ends_with("/index.m3u8"))
      return usage("--play must be http://H:P/play/ID/index.m3u8");
    dir_path_ = path.substr(0, path.size() - std::string_view{"index.m3u8"}.size());
    if (!cfg_.mirror.empty()) {
      std::string ignored;
      if (!parse_http_url(cfg_.mirror, mirror_, ignored) || cfg_.mirror_dir.empty())
        return usage("--mirror needs http://H:P and --mirror-dir");
    }
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    auto obs = std::make_unique<client>();
    obs->observer = true;
    obs->id = -1;
    observer_ = obs.get();
    clients_.push_back(std::move(obs));
    start(*observer_);
    t_start_ = real_us();
    loop();
    return result_;
  }

private:
  static int usage(const char* why) {
    std::fprintf(stderr, "bench_cmaf_load: %s\n", why);
    return 2;
  }

  // ------------------------------------------------------------ the loop and its phases
  enum class phase { observer, ramp, settle, window, done };

  void loop() {
    std::vector<epoll_event> evs(1024);
    while (phase_ != phase::done) {
      const int n = epoll_wait(ep_, evs.data(), static_cast<int>(evs.size()), 5);
      for (int i = 0; i < n; ++i) {
        auto* c = static_cast<client*>(evs[static_cast<std::size_t>(i)].data.ptr);
        const auto ev = evs[static_cast<std::size_t>(i)].events;
        if (ev & EPOLLOUT)
          on_writable(*c);
        if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
          on_readable(*c);
      }
      tick();
    }
  }

  void tick() {
    const usec now = real_us();
    if (now < next_tick_)
      return;
    next_tick_ = now + 10'000;
    drain_retries();
    switch (phase_) {
    case phase::observer:
      // Clients start once the observer plays (and the mirror has its first part).
      if (observer_->parts > 0) {
        phase_ = phase::ramp;
        t_ramp_ = now;
        std::printf("observer playing %s%s (rendition %s); starting %u clients at %.0f/s%s\n", cfg_.play.c_str(),
                    cfg_.mirror.empty() ? "" : ", mirroring", cfg_.rendition.c_str(), cfg_.clients, cfg_.ramp,
                    cfg_.mirror.empty() ? "" : (" against " + cfg_.mirror).c_str());
        std::fflush(stdout);
      } else if (now - t_start_ > 30'000'000) {
        fail("the observer received no part in 30 s");
      }
      return;
    case phase::ramp: {
      const double secs = static_cast<double>(now - t_ramp_) / 1e6;
      const auto want = std::min<std::size_t>(cfg_.clients, static_cast<std::size_t>(secs * cfg_.ramp) + 1);
      while (clients_.size() - 1 < want) {
        auto c = std::make_unique<client>();
        c->id = static_cast<int>(clients_.size());
        c->to_mirror = !cfg_.mirror.empty();
        client& ref = *c;
        clients_.push_back(std::move(c));
        start(ref);
      }
      if (clients_.size() - 1 == cfg_.clients) {
        phase_ = phase::settle;
        t_ramp_end_ = now;
      }
      return;
    }
    case phase::settle: {
      if (!t_all_playing_) {
        std::size_t playing = 0;
        for (std::size_t i = 1; i < clients_.size(); ++i)
          playing += clients_[i]->parts > 0;
        if (playing == cfg_.clients)
          t_all_playing_ = now;
        else if (now - t_ramp_end_ > 15'000'000)
          t_all_playing_ = now, std::printf("only %zu of %u clients have a part after 15 s\n", playing, cfg_.clients);
      }
      if (t_all_playing_ && now - t_all_playing_ >= static_cast<usec>(cfg_.settle * 1e6))
        open_window(now);
      return;
    }
    case phase::window:
      if (now - t_window_ >= static_cast<usec>(cfg_.window * 1e6))
        close_window(now);
      return;
    case phase::done:
      return;
    }
  }

  void open_window(usec now) {
    phase_ = phase::window;
    t_window_ = now;
    w_server0_ = sample_cpu(cfg_.pids, cfg_.serving_threads);
    w_aux0_ = sample_cpu(cfg_.aux_pids, cfg_.aux_threads);
    w_self0_ = self_cpu_s();
    w_counts0_ = counts_;
    w_observer_parts0_ = observer_->parts;
    deliveries_.reserve(static_cast<std::size_t>(cfg_.clients * cfg_.window * 4));
    std::printf("window open: %u clients, %.0f s\n", cfg_.clients, cfg_.window);
    std::fflush(stdout);
  }

  void close_window(usec now) {
    const auto server1 = sample_cpu(cfg_.pids, cfg_.serving_threads);
    const auto aux1 = sample_cpu(cfg_.aux_pids, cfg_.aux_threads);
    const double self1 = self_cpu_s();
    const double secs = static_cast<double>(now - t_window_) / 1e6;
    phase_ = phase::done;
    const counters w = counts_ - w_counts0_;
    const std::uint64_t observed = observer_->parts - w_observer_parts0_;
    // Delays, against the earliest time each part was seen to exist.
    std::vector<double> delay, reload, turnaround, fetch, after_mirror;
    std::uint64_t unknown = 0, over100 = 0, over500 = 0;
    for (const auto& d : deliveries_) {
      const auto e = existed_.find(d.key);
      if (e == existed_.end()) {
        ++unknown;
        continue;
      }
      const double ms = static_cast<double>(d.arrived - e->second) / 1e3;
      delay.push_back(ms);
      over100 += ms > 100;
      over500 += ms > 500;
      if (d.revealed) {
        reload.push_back(static_cast<double>(d.revealed - e->second) / 1e3);
        turnaround.push_back(static_cast<double>(d.asked - d.revealed) / 1e3);
      }
      fetch.push_back(static_cast<double>(d.arrived - d.asked) / 1e3);
      if (const auto m = mirrored_at_.find(d.key); m != mirrored_at_.end())
        after_mirror.push_back(static_cast<double>(d.arrived - m->second) / 1e3);
    }
    const double gb = static_cast<double>(w.bytes) / 1e9;
    const double server_s = server1.all_s - w_server0_.all_s, serving_s = server1.serving_s - w_server0_.serving_s;
    const double aux_s = aux1.all_s - w_aux0_.all_s, aux_serving_s = aux1.serving_s - w_aux0_.serving_s;
    const double self_s = self1 - w_self0_;
    const double gbit_s = static_cast<double>(w.bytes) * 8 / 1e9 / secs;
    std::printf("%s: %u clients, %.1f s: %llu parts (%.1f%% of %llu the observer saw x clients), %.3f GB "
                "(%.3f Gbit/s, %.1f KB/part, %llu requests, %.0f/s)\n",
                cfg_.label.c_str(), cfg_.clients, secs, static_cast<unsigned long long>(w.parts),
                observed ? 100.0 * static_cast<double>(w.parts) / static_cast<double>(observed * cfg_.clients) : 0.0,
                static_cast<unsigned long long>(observed), gb, gbit_s,
                w.parts ? static_cast<double>(w.part_bytes) / static_cast<double>(w.parts) / 1e3 : 0.0,
                static_cast<unsigned long long>(w.requests), static_cast<double>(w.requests) / secs);
    std::printf("  answers: %llu 200, %llu 503, %llu 404, %llu 400, %llu other; %llu connection errors, %llu early "
                "answers (target not listed, no later hint), %llu resyncs\n",
                static_cast<unsigned long long>(w.ok), static_cast<unsigned long long>(w.s503),
                static_cast<unsigned long long>(w.s404), static_cast<unsigned long long>(w.s400),
                static_cast<unsigned long long>(w.other), static_cast<unsigned long long>(w.conn_errors),
                static_cast<unsigned long long>(w.early), static_cast<unsigned long long>(w.resyncs));
    std::printf("  delivery delay after the part existed, ms: p50 %.1f p95 %.1f p99 %.1f max %.1f; > 100 ms: %llu, "
                "> 500 ms: %llu; no existence time: %llu\n",
                pct(delay, 50), pct(delay, 95), pct(delay, 99), max_of(delay), static_cast<unsigned long long>(over100),
                static_cast<unsigned long long>(over500), static_cast<unsigned long long>(unknown));
    if (!reload.empty())
      std::printf("  of which, p50/p99 ms: reload answered %.1f/%.1f after the part existed; this process's "
                  "turnaround (answer's arrival to the part's request) %.1f/%.1f\n",
                  pct(reload, 50), pct(reload, 99), pct(turnaround, 50), pct(turnaround, 99));
    std::printf("  part request to its last byte, ms: p50 %.1f p99 %.1f\n", pct(fetch, 50), pct(fetch, 99));
    per_part();
    if (!cfg_.mirror.empty())
      std::printf("  after the part was mirrored, ms: p50 %.1f p99 %.1f (mirroring: the observer's reload answer, "
                  "its part request, the file writes)\n",
                  pct(after_mirror, 50), pct(after_mirror, 99));
    std::printf("  CPU s over the window: server %.2f (%.3f s/GB)", server_s, gb > 0 ? server_s / gb : 0.0);
    if (!cfg_.serving_threads.empty())
      std::printf(", its serving threads %.2f (%.3f s/GB)", serving_s, gb > 0 ? serving_s / gb : 0.0);
    std::printf("; this generator %.2f (%.0f%% of a core)", self_s, 100 * self_s / secs);
    std::printf("\n  server threads by CPU s: %s", busiest(w_server0_, server1, 8).c_str());
    if (!cfg_.aux_pids.empty())
      std::printf("\n  others (onair: transcode, ingest, observer) %.2f: %s", aux_s, busiest(w_aux0_, aux1, 8).c_str());
    std::printf("\n");
    std::printf("RESULT server=%s clients=%u window_s=%.2f parts=%llu observed=%llu bytes=%llu part_bytes=%llu "
                "requests=%llu ok=%llu s503=%llu s404=%llu s400=%llu other=%llu conn_errors=%llu early=%llu "
                "delay_p50=%.2f delay_p95=%.2f delay_p99=%.2f delay_max=%.2f over100=%llu reload_p99=%.2f "
                "turnaround_p50=%.2f turnaround_p99=%.2f fetch_p50=%.2f fetch_p99=%.2f mirror_p99=%.2f "
                "server_cpu_s=%.3f serving_cpu_s=%.3f gen_cpu_s=%.3f aux_cpu_s=%.3f aux_serving_cpu_s=%.3f\n",
                cfg_.label.c_str(), cfg_.clients, secs, static_cast<unsigned long long>(w.parts),
                static_cast<unsigned long long>(observed), static_cast<unsigned long long>(w.bytes),
                static_cast<unsigned long long>(w.part_bytes), static_cast<unsigned long long>(w.requests),
                static_cast<unsigned long long>(w.ok), static_cast<unsigned long long>(w.s503),
                static_cast<unsigned long long>(w.s404), static_cast<unsigned long long>(w.s400),
                static_cast<unsigned long long>(w.other), static_cast<unsigned long long>(w.conn_errors),
                static_cast<unsigned long long>(w.early), pct(delay, 50), pct(delay, 95), pct(delay, 99),
                max_of(delay), static_cast<unsigned long long>(over100), pct(reload, 99), pct(turnaround, 50),
                pct(turnaround, 99), pct(fetch, 50), pct(fetch, 99), pct(after_mirror, 99), server_s, serving_s,
                self_s, aux_s, aux_serving_s);
    std::fflush(stdout);
  }

  // Per part delivered in the window: when it came to exist (s after the window opened), the
  // clients that got it, their delay p50 and max, and the latest reload answer that showed it.
  // Prints the slowest five; --parts-log writes them all.
  void per_part() const {
    struct row {
      part_key key;
      double at, p50, max, reload;
      std::size_t n;
    };
    std::map<part_key, std::vector<double>> delays;
    std::map<part_key, double> last_reload;
    for (const auto& d : deliveries_)
      if (const auto e = existed_.find(d.key); e != existed_.end()) {
        delays[d.key].push_back(static_cast<double>(d.arrived - e->second) / 1e3);
        if (d.revealed)
          last_reload[d.key] = std::max(last_reload[d.key], static_cast<double>(d.revealed - e->second) / 1e3);
      }
    std::vector<row> rows;
    for (auto& [k, v] : delays)
      rows.push_back({k, static_cast<double>(existed_.at(k) - t_window_) / 1e6, pct(v, 50), max_of(v), last_reload[k],
                      v.size()});
    if (!cfg_.parts_log.empty())
      if (std::FILE* f = std::fopen(cfg_.parts_log.c_str(), "w")) {
        std::fprintf(f, "# part existed_s clients delay_p50_ms delay_max_ms last_reload_answer_ms\n");
        for (const auto& r : rows)
          std::fprintf(f, "%lld.%lld %.3f %zu %.1f %.1f %.1f\n", static_cast<long long>(msn_of(r.key)),
                       static_cast<long long>(part_of(r.key)), r.at, r.n, r.p50, r.max, r.reload);
        std::fclose(f);
      }
    std::sort(rows.begin(), rows.end(), [](const row& a, const row& b) { return a.max > b.max; });
    std::printf("  slowest parts (part: existed at s, clients, delay p50/max ms):");
    for (std::size_t i = 0; i < rows.size() && i < 5; ++i)
      std::printf("%s %lld.%lld: %.2f, %zu, %.0f/%.0f", i ? ";" : "", static_cast<long long>(msn_of(rows[i].key)),
                  static_cast<long long>(part_of(rows[i].key)), rows[i].at, rows[i].n, rows[i].p50, rows[i].max);
    std::printf("\n");
  }

  void fail(const std::string& why) {
    std::fprintf(stderr, "bench_cmaf_load: %s\n", why.c_str());
    result_ = 1;
    phase_ = phase::done;
  }

  // ------------------------------------------------------------ connections
  const endpoint& server_of(const client& c) const { return c.to_mirror ? mirror_ : onair_; }

  void connect_client(client& c) {
    const auto& e = server_of(c);
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(c.fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one); // arrival stamps from the kernel
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(e.port);
    inet_pton(AF_INET, e.host.c_str(), &a.sin_addr);
    if (connect(c.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
      fail(std::string{"connect: "} + std::strerror(errno));
      return;
    }
    c.connected = false;
    c.want_out = true;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.ptr = &c;
    epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
  }

  void drop_connection(client& c) {
    if (c.fd >= 0) {
      epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
      close(c.fd);
    }
    c.fd = -1;
    c.connected = false;
    c.out.clear();
    c.out_off = 0;
    c.in_body = false; // the answer read last (c.body) stays for its handler
    c.head.clear();
  }

  void set_out_interest(client& c, bool want) {
    if (c.want_out == want)
      return;
    c.want_out = want;
    epoll_event ev{};
    ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
    ev.data.ptr = &c;
    epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void flush(client& c) {
    while (c.out_off < c.out.size()) {
      const ssize_t n = send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
          return set_out_interest(c, true);
        return connection_lost(c);
      }
      c.out_off += static_cast<std::size_t>(n);
    }
    c.out.clear();
    c.out_off = 0;
    set_out_interest(c, false);
  }

  void on_writable(client& c) {
    if (!c.connected) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0)
        return connection_lost(c);
      c.connected = true;
    }
    flush(c);
  }

  // From the live edge again at the next tick, on a new connection.
  void connection_lost(client& c) {
    if (!c.observer)
      ++counts_.conn_errors;
    drop_connection(c);
    c.pending = client::req::none;
    retry_later(c);
  }

  void send_get(client& c, client::req what, const std::string& path, part_key key) {
    if (c.fd < 0)
      connect_client(c);
    const auto& e = server_of(c);
    c.pending = what;
    c.asked_key = key;
    c.asked_at = real_us();
    c.out += "GET " + path + " HTTP/1.1\r\nHost: " + e.host + ":" + std::to_string(e.port) +
             "\r\nUser-Agent: onair-bench-cmaf-load\r\nAccept: */*\r\n\r\n";
    if (c.connected)
      flush(c);
  }

  // ------------------------------------------------------------ reading answers
  void on_readable(client& c) {
    if (c.fd < 0) // lost while its write was handled
      return;
    static std::uint8_t buf[256 * 1024];
    const auto rd = onair::bench::recv_stamped(c.fd, buf);
    if (rd.n < 0) {
      if (errno != EAGAIN && errno != EINTR)
        connection_lost(c);
      return;
    }
    if (rd.n == 0) {
      // The server closed: between answers (an idle keep-alive) it reconnects at the next request.
      if (c.pending == client::req::none) {
        drop_connection(c);
        return;
      }
      return connection_lost(c);
    }
    // ACK at once: no sender's Nagle wait behind this client's delayed ACK. Always for the
    // observer: the mirror must not lag behind onair for that.
    if (cfg_.quickack || c.observer) {
      const int one = 1;
      setsockopt(c.fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
    }
    const usec stamp = rd.stamped ? stamp_us(rd.arrival) : real_us();
    if (!c.observer)
      counts_.bytes += static_cast<std::uint64_t>(rd.n);
    std::string_view in{reinterpret_cast<const char*>(buf), static_cast<std::size_t>(rd.n)};
    while (!in.empty() && c.fd >= 0) {
      if (!c.in_body) {
        const std::size_t old = c.head.size();
        c.head.append(in);
        const auto end = c.head.find("\r\n\r\n", old >= 3 ? old - 3 : 0);
        if (end == std::string::npos) {
          if (c.head.size() > 16384)
            return connection_lost(c);
          return;
        }
        in.remove_prefix(end + 4 - old);
        c.head.resize(end + 4);
        if (!parse_head(c))
          return connection_lost(c);
        c.in_body = true;
        c.body.clear();
        c.body_got = 0;
      }
      const std::size_t take = std::min(in.size(), c.content_length - c.body_got);
      if (keep_body(c))
        c.body.append(in.substr(0, take));
      c.body_got += take;
      in.remove_prefix(take);
      if (c.body_got == c.content_length) {
        c.in_body = false;
        c.head.clear();
        on_answer(c, stamp);
      }
    }
  }

  static bool keep_body(const client& c) {
    return c.status == 200 && (c.pending != client::req::part || c.observer) &&
           (c.pending != client::req::init || c.observer);
  }

  static bool parse_head(client& c) {
    std::string_view h{c.head};
    if (!h.starts_with("HTTP/1.1 ") && !h.starts_with("HTTP/1.0 "))
      return false;
    if (!to_number(h.substr(9, 3), c.status))
      return false;
    c.content_length = 0;
    c.close_after = h.starts_with("HTTP/1.0 ");
    std::size_t at = h.find("\r\n") + 2;
    while (at < h.size()) {
      const auto end = h.find("\r\n", at);
      std::string line{h.substr(at, end - at)};
      at = end + 2;
      std::transform(line.begin(), line.end(), line.begin(), [](unsigned char ch) { return std::tolower(ch); });
      if (line.rfind("content-length:", 0) == 0) {
        auto v = std::string_view{line}.substr(15);
        while (!v.empty() && v.front() == ' ')
          v.remove_prefix(1);
        if (!to_number(v, c.content_length))
          return false;
      } else if (line.rfind("connection:", 0) == 0) {
        c.close_after = line.find("close") != std::string::npos;
      } else if (line.rfind("transfer-encoding:", 0) == 0) {
        return false; // parts and playlists come whole, with a length
      }
    }
    return true;
  }

  void count_status(const client& c) {
    if (c.observer)
      return;
    ++counts_.requests;
    switch (c.status) {
    case 200: ++counts_.ok; break;
    case 503: ++counts_.s503; break;
    case 404: ++counts_.s404; break;
    case 400: ++counts_.s400; break;
    default: ++counts_.other; break;
    }
  }

  void on_answer(client& c, usec stamp) {
    const auto what = c.pending;
    c.pending = client::req::none;
    count_status(c);
    if (c.close_after)
      drop_connection(c); // reconnects at the next request
    switch (what) {
    case client::req::none:
      return connection_lost(c); // an answer to nothing
    case client::req::playlist:
      return on_playlist(c);
    case client::req::init:
      if (c.status != 200)
        return retry_later(c);
      c.have_init = true;
      if (c.observer)
        mirror_file(c.init_path, c.body);
      return next(c);
    case client::req::reload:
      return on_reload(c, stamp);
    case client::req::part:
      return on_part(c, stamp);
    }
  }

  // ------------------------------------------------------------ playing
  void start(client& c) { resync(c); }

  // From the live edge again: the plain playlist, then its hint.
  void resync(client& c) {
    if (phase_ == phase::done)
      return;
    if (c.started && !c.observer)
      ++counts_.resyncs;
    c.started = true;
    c.target = -1;
    send_get(c, client::req::playlist, dir_path_ + cfg_.rendition + ".m3u8", -1);
  }

  void retry_later(client& c) { retry_.push_back(&c); }

  void on_playlist(client& c) {
    const auto pl = parse_playlist(c.status == 200 ? std::string_view{c.body} : std::string_view{});
    if (pl.hint < 0 || pl.map.empty())
      return retry_later(c);
    c.hint = pl.hint;
    c.target = pl.hint;
    c.part_dir = pl.dir;
    if (!c.have_init) {
      c.init_path = dir_path_ + pl.map; // relative to the playlist, as the parts are
      return send_get(c, client::req::init, c.init_path, -1);
    }
    next(c);
  }

  std::string reload_path(part_key k) const {
    return dir_path_ + cfg_.rendition + ".m3u8?_HLS_msn=" + std::to_string(msn_of(k)) +
           "&_HLS_part=" + std::to_string(part_of(k)) + (cfg_.skip ? "&_HLS_skip=YES" : "");
  }
  std::string part_path(const client& c, part_key k) const {
    return dir_path_ + c.part_dir + std::to_string(msn_of(k)) + "." + std::to_string(part_of(k)) + ".m4s";
  }

  // The next request of the play loop, for c.target.
  void next(client& c) {
    if (phase_ == phase::done)
      return;
    if (c.to_mirror && mirrored_ < c.target) {
      c.waiting = true; // until the observer has mirrored it
      waiting_.push_back(&c);
      return;
    }
    if (cfg_.hint && !c.observer)
      send_get(c, client::req::part, part_path(c, c.target), c.target);
    else
      send_get(c, client::req::reload, reload_path(c.target), c.target);
  }

  void saw(part_key k, usec stamp) {
    auto [it, fresh] = existed_.try_emplace(k, stamp);
    if (!fresh && stamp < it->second)
      it->second = stamp;
  }

  void on_reload(client& c, usec stamp) {
    if (c.status == 503 || c.status == 404) // a blocking reload that waited too long: again
      return c.status == 404 ? resync(c) : next(c);
    if (c.status != 200)
      return resync(c);
    const auto pl = parse_playlist(c.body);
    if (c.observer)
      observer_playlist_ = c.body;
    if (pl.hint >= 0)
      c.hint = pl.hint;
    if (!pl.dir.empty())
      c.part_dir = pl.dir;
    if (cfg_.hint && !c.observer) {
      // Asked for the part just received: the next one is the first listed after it, else the hint.
      const part_key after = pl.first_from(c.asked_key + 1);
      c.target = after >= 0 ? after : c.hint;
      return next(c);
    }
    const part_key k = pl.first_from(c.target);
    if (k < 0) {
      // The segment ended before the part asked for: the next one is the hint.
      if (c.hint > c.target)
        c.target = c.hint;
      else if (!c.observer)
        ++counts_.early;
      return next(c);
    }
    if (!c.to_mirror)
      saw(k, stamp);
    c.revealed = stamp;
    // After this part, the next one listed (a client behind takes every part in turn, as hls.js
    // does), else the hint.
    const part_key after = pl.first_from(k + 1);
    c.after = after >= 0 ? after : std::max(c.hint, k + 1);
    send_get(c, client::req::part, part_path(c, k), k);
  }

  void on_part(client& c, usec stamp) {
    const part_key k = c.asked_key;
    if (c.status == 404 && cfg_.hint && !c.observer)
      // A held part that never came (its segment ended first): the playlist names the next one.
      return send_get(c, client::req::reload, reload_path(k), k);
    if (c.status != 200)
      return resync(c);
    ++c.parts;
    if (!c.observer) {
      ++counts_.parts;
      counts_.part_bytes += c.body_got;
      if (phase_ == phase::window)
        deliveries_.push_back({k, stamp, cfg_.hint ? 0 : c.revealed, c.asked_at});
      if (cfg_.hint && !c.to_mirror)
        saw(k, stamp);
    } else {
      on_observed(c, k);
    }
    if (cfg_.hint && !c.observer) {
      // Learn the next hint: a reload for the part just received answers at once.
      return send_get(c, client::req::reload, reload_path(k), k);
    }
    c.target = c.after;
    next(c);
  }

  // ------------------------------------------------------------ the mirror
  void on_observed(client& c, part_key k) {
    if (!cfg_.mirror_dir.empty()) {
      mirror_file(part_path(c, k), c.body);
      mirror_file(dir_path_ + cfg_.rendition + ".m3u8", observer_playlist_);
      mirrored_files_.push_back(part_path(c, k));
      while (mirrored_files_.size() > 120) { // 20 segments of parts: far behind any client
        unlink((cfg_.mirror_dir + mirrored_files_.front()).c_str());
        mirrored_files_.pop_front();
      }
    }
    mirrored_ = k;
    mirrored_at_[k] = real_us();
    // Clients of the mirror waiting for this part (or one before it) go on.
    std::vector<client*> still;
    auto waiting = std::move(waiting_);
    waiting_.clear();
    for (client* w : waiting) {
      if (w->target <= k) {
        w->waiting = false;
        // A hinted part that never came (its segment ended first): the one just mirrored is next.
        if (!mirrored_at_.contains(w->target))
          w->target = k;
        next(*w);
      } else {
        still.push_back(w);
      }
    }
    waiting_.insert(waiting_.end(), still.begin(), still.end());
  }

  // Writes a file of the mirror whole, then renames it into place: nginx never serves half of one.
  void mirror_file(const std::string& url_path, const std::string& data) {
    if (cfg_.mirror_dir.empty())
      return;
    const std::string path = cfg_.mirror_dir + url_path;
    const auto slash = path.rfind('/');
    const std::string dir = path.substr(0, slash);
    if (!made_dirs_.contains(dir)) {
      for (std::size_t at = 1; at <= dir.size(); ++at)
        if (at == dir.size() || dir[at] == '/')
          mkdir(dir.substr(0, at).c_str(), 0755);
      made_dirs_.insert(dir);
    }
    const std::string tmp = path + ".tmp";
    const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size()) || close(fd) != 0 ||
        rename(tmp.c_str(), path.c_str()) != 0)
      fail("cannot write the mirror's " + path + ": " + std::strerror(errno));
  }

  // Clients that lost their connection, or whose init segment failed, start again at the next tick.
  void drain_retries() {
    auto r = std::move(retry_);
    retry_.clear();
    for (client* c : r)
      resync(*c);
  }

private:
  config cfg_;
  endpoint onair_, mirror_;
  std::string dir_path_; // "/play/ID/"
  int ep_ = -1;
  int result_ = 0;
  phase phase_ = phase::observer;
  std::vector<std::unique_ptr<client>> clients_; // [0] is the observer
  client* observer_ = nullptr;
  std::string observer_playlist_;
  std::vector<client*> waiting_, retry_;
  part_key mirrored_ = -1;
  std::deque<std::string> mirrored_files_;
  std::set<std::string> made_dirs_;
  std::unordered_map<part_key, usec> existed_, mirrored_at_;
  std::vector<delivery> deliveries_;
  counters counts_, w_counts0_;
  std::uint64_t w_observer_parts0_ = 0;
  cpu_sample w_server0_, w_aux0_;
  double w_self0_ = 0;
  usec t_start_ = 0, t_ramp_ = 0, t_ramp_end_ = 0, t_all_playing_ = 0, t_window_ = 0, next_tick_ = 0;
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string p;
  while (std::getline(ss, p, ','))
    if (!p.empty())
      out.push_back(p);
  return out;
}

} // namespace

int main(int argc, char** argv) {
  config cfg;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--hint") {
      cfg.hint = true;
      continue;
    }
    if (k == "--no-skip") {
      cfg.skip = false;
      continue;
    }
    if (k == "--quickack") {
      cfg.quickack = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s needs a value\n", k.c_str());
      return 2;
    }
    const std::string v = argv[++i];
    if (k == "--play")
      cfg.play = v;
    else if (k == "--rendition")
      cfg.rendition = v;
    else if (k == "--clients")
      cfg.clients = static_cast<unsigned>(std::stoul(v));
    else if (k == "--mirror")
      cfg.mirror = v;
    else if (k == "--mirror-dir")
      cfg.mirror_dir = v;
    else if (k == "--ramp")
      cfg.ramp = std::stod(v);
    else if (k == "--settle")
      cfg.settle = std::stod(v);
    else if (k == "--window")
      cfg.window = std::stod(v);
    else if (k == "--parts-log")
      cfg.parts_log = v;
    else if (k == "--label")
      cfg.label = v;
    else if (k == "--serving-threads")
      cfg.serving_threads = split(v);
    else if (k == "--aux-threads")
      cfg.aux_threads = split(v);
    else if (k == "--pids" || k == "--aux-pids")
      for (const auto& p : split(v))
        (k == "--pids" ? cfg.pids : cfg.aux_pids).push_back(std::stoi(p));
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  if (cfg.play.empty()) {
    std::fprintf(stderr,
                 "usage: bench_cmaf_load --play http://H:P/play/ID/index.m3u8 [--rendition v1] [--clients N] "
                 "[--mirror http://H:P --mirror-dir DIR] [--hint] [--no-skip] [--quickack] [--ramp PER_S] [--settle S] "
                 "[--window S] [--pids P,..] [--serving-threads NAME,..] [--aux-pids P,.. --aux-threads NAME,..] [--parts-log FILE] [--label L]\n");
    return 2;
  }
  load l{cfg};
  return l.run();
}
