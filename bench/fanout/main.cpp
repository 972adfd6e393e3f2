// Fan-out load generator: in one process and one libevent loop, an RTMP publisher that sends a
// pre-encoded FLV clip in real time (looped, timestamps kept monotonic) and many RTMP and HTTP-FLV
// viewers that count bytes and frames, time to first frame, stalls and publish->play delay.
//
// Delay: the publisher appends to every H.264 frame one SEI NAL unit (user_data_unregistered,
// a fixed UUID then the send time as 16 hex digits of this process's steady clock in µs). Servers
// relay payloads unchanged, so a viewer reads the send time back from the frame it receives:
// delay = receive time - send time, whatever the server does to timestamps. The receive time is
// the kernel's arrival stamp of the bytes (SO_TIMESTAMPNS), so that this one process reading
// thousands of sockets one after the other does not add its own queueing to the server's delay;
// the delay to the moment this process parsed the frame is reported too (read_delay).
//
//   bench_fanout --clip clip.flv --publish rtmp://H:P/app/key --play-file FILE
//                [--rtmp N] [--flv N] [--ramp PER_S] [--settle S] [--window S] [--pids P1,P2] [--label NAME]
// FILE appears once the publish is on (the run script writes it): line 1 the RTMP play URL,
// line 2 the HTTP-FLV URL (may be empty). --pids: server processes whose CPU and RSS are read.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "media/flv/tag.hpp"
#include "media/rtmp/amf0.hpp"
#include "media/rtmp/chunk.hpp"
#include "media/rtmp/handshake.hpp"

#include "bench/fanout/recv_stamped.hpp"

namespace {

namespace rtmp = onair::media::rtmp;
namespace amf0 = onair::media::rtmp::amf0;
namespace flv = onair::media::flv;
using bytes = std::vector<std::uint8_t>;

std::uint64_t now_us() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

// The kernel stamps received data with CLOCK_REALTIME (SO_TIMESTAMPNS); this maps such a stamp
// onto now_us()'s steady clock. The offset between the two clocks is taken again every 10 ms:
// while the system clock is being slewed it drifts (seen here at 5 ms per second, which over a
// 15 s window made a 0.3 ms delay read as up to 75 ms), and a stamp is never more than a read
// loop's pass older than the moment it is mapped.
std::uint64_t steady_from_realtime(const timespec& ts) {
  static std::int64_t offset_us = 0;
  static std::uint64_t taken_us = 0;
  const std::uint64_t now = now_us();
  if (taken_us == 0 || now - taken_us > 10'000) {
    timespec real{};
    clock_gettime(CLOCK_REALTIME, &real);
    const std::uint64_t after = now_us();
    // The steady time halfway across the realtime read.
    offset_us = std::int64_t{real.tv_sec} * 1'000'000 + real.tv_nsec / 1000 - static_cast<std::int64_t>((now + after) / 2);
    taken_us = after;
  }
  const std::int64_t real_us = std::int64_t{ts.tv_sec} * 1'000'000 + ts.tv_nsec / 1000;
  return static_cast<std::uint64_t>(std::max<std::int64_t>(0, real_us - offset_us));
}

constexpr char sei_uuid[17] = "onair-fanout-ts!";
constexpr std::size_t sei_tail = 4 + 36; // length prefix + NAL

void append_sei(bytes& out, std::uint64_t t) {
  const std::uint8_t len[4] = {0, 0, 0, 36};
  out.insert(out.end(), len, len + 4);
  out.push_back(0x06); // SEI
  out.push_back(0x05); // user_data_unregistered
  out.push_back(0x20); // 32 bytes
  out.insert(out.end(), sei_uuid, sei_uuid + 16);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(t));
  out.insert(out.end(), hex, hex + 16);
  out.push_back(0x80); // rbsp trailing bits
}

// The send time, when the frame carries our SEI at its end.
bool read_sei(std::span<const std::uint8_t> p, std::uint64_t& t) {
  if (p.size() < 5 + sei_tail)
    return false;
  const std::uint8_t* e = p.data() + p.size();
  if (e[-1] != 0x80 || std::memcmp(e - 33, sei_uuid, 16) != 0)
    return false;
  t = 0;
  for (const std::uint8_t* h = e - 17; h < e - 1; ++h) {
    const int d = *h <= '9' ? *h - '0' : *h - 'a' + 10;
    t = t << 4 | static_cast<std::uint64_t>(d);
  }
  return true;
}

struct url {
  std::string host;
  std::uint16_t port = 0;
  std::string app, name, path;
};

// rtmp://H:P/app/name or http://H:P/path
bool parse_url(const std::string& s, url& u) {
  const auto scheme = s.find("://");
  if (scheme == std::string::npos)
    return false;
  const auto slash = s.find('/', scheme + 3);
  const std::string hostport = s.substr(scheme + 3, slash - scheme - 3);
  const auto colon = hostport.rfind(':');
  u.host = hostport.substr(0, colon);
  u.port = static_cast<std::uint16_t>(colon == std::string::npos ? (s.rfind("rtmp", 0) == 0 ? 1935 : 80)
                                                                   : std::stoi(hostport.substr(colon + 1)));
  u.path = slash == std::string::npos ? "/" : s.substr(slash);
  const auto second = u.path.find('/', 1);
  u.app = u.path.substr(1, second == std::string::npos ? std::string::npos : second - 1);
  u.name = second == std::string::npos ? "" : u.path.substr(second + 1);
  return !u.host.empty();
}

int connect_to(const url& u) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // Arrival times from the kernel: the delay a viewer sees, without this process's own queueing.
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(u.port);
  inet_pton(AF_INET, u.host.c_str(), &a.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

constexpr std::uint32_t out_chunk = 4096;

void command(bytes& out, std::uint32_t stream_id, const std::vector<amf0::value>& v) {
  bytes body;
  amf0::encode_all(body, v);
  rtmp::write_message(out, 3, rtmp::msg_type::command_amf0, stream_id, 0, body, out_chunk);
}
void control(bytes& out, std::uint8_t type, std::span<const std::uint8_t> p) {
  rtmp::write_message(out, 2, type, 0, 0, p, out_chunk);
}
void be32(bytes& out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 24));
  out.push_back(static_cast<std::uint8_t>(v >> 16));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
std::uint32_t get_be32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

bytes c0c1() {
  bytes b(1 + rtmp::handshake_size, 0);
  b[0] = 3;
  std::mt19937 rng{42};
  for (std::size_t i = 9; i < b.size(); ++i)
    b[i] = static_cast<std::uint8_t>(rng());
  return b; // time 0, version 0: the simple handshake
}

bytes connect_command(const url& u) {
  bytes out;
  const std::uint8_t cs[4] = {0, 0, out_chunk >> 8 & 0xFF, 0};
  control(out, rtmp::msg_type::set_chunk_size, cs);
  const std::string tc = "rtmp://" + u.host + ":" + std::to_string(u.port) + "/" + u.app;
  command(out, 0,
          {amf0::make_string("connect"), amf0::make_number(1),
           amf0::make_object({{"app", amf0::make_string(u.app)},
                              {"type", amf0::make_string("nonprivate")},
                              {"flashVer", amf0::make_string("FMLE/3.0 (compatible; onair-bench)")},
                              {"tcUrl", amf0::make_string(tc)},
                              {"fpad", amf0::make_bool(false)},
                              {"capabilities", amf0::make_number(15)},
                              {"audioCodecs", amf0::make_number(3191)},
                              {"videoCodecs", amf0::make_number(252)},
                              {"videoFunction", amf0::make_number(1)}})});
  return out;
}

// ---------------------------------------------------------------- measurement
struct window_stats {
  bool open = false;
  std::vector<std::uint32_t> delays_us;      // send → arrival at the viewer's socket (kernel stamp)
  std::vector<std::uint32_t> read_delays_us; // send → parsed by this process (adds its own queueing)
};
window_stats g_window;

struct viewer {
  bool is_flv = false;
  int fd = -1;
  event* ev = nullptr;
  enum class st { connecting, handshake, commands, playing, http_header, body, failed } state = st::connecting;
  std::string fail_reason;
  bytes pend; // unconsumed input
  rtmp::chunk_reader reader;
  flv::reader freader;
  std::uint32_t ack_window = 0;
  std::uint64_t received = 0, acked_at = 0;
  // HTTP chunked body
  bool chunked = false;
  std::size_t chunk_left = 0;
  int chunk_crlf = 0; // CRLF bytes still to skip after a chunk
  bytes body;
  // figures
  std::uint64_t t_connect = 0, t_first_video = 0, t_first_key = 0, t_last_video = 0;
  std::uint64_t t_arrival = 0; // kernel arrival stamp of the bytes being parsed (0: none)
  // Time to first frame by step: RTMP handshake answered, connect answered, createStream answered
  // (play sent), first media message; HTTP-FLV: reply headers, first tag. And the first key
  // frame's kernel arrival stamp.
  std::uint64_t t_step[4] = {0, 0, 0, 0}, t_key_arrival = 0;
  std::uint64_t video_frames = 0, audio_frames = 0;
  std::uint64_t w_bytes0 = 0, w_frames0 = 0, w_max_gap = 0;
  bool w_stalled = false;
  std::string w_why;
};

struct config {
  std::string clip, publish, play_file, label = "server";
  unsigned rtmp_viewers = 100, flv_viewers = 0;
  double ramp = 1000, settle = 2, window = 15;
  std::vector<int> pids;
};

struct proc_sample {
  double cpu_s = 0;
  std::uint64_t rss_kib = 0;
};
proc_sample sample(const std::vector<int>& pids) {
  proc_sample s;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  for (int pid : pids) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(f, line);
    const auto rp = line.rfind(')');
    if (rp == std::string::npos)
      continue;
    std::istringstream is(line.substr(rp + 2));
    std::string field;
    std::vector<std::string> v;
    while (is >> field)
      v.push_back(field);
    if (v.size() > 13)
      s.cpu_s += (std::stod(v[11]) + std::stod(v[12])) / tick; // utime, stime (fields 14, 15)
    std::ifstream st("/proc/" + std::to_string(pid) + "/status");
    while (std::getline(st, line))
      if (line.rfind("VmRSS:", 0) == 0)
        s.rss_kib += std::stoull(line.substr(6));
  }
  return s;
}
double self_cpu() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

class bench {
public:
  explicit bench(config c) : cfg_{std::move(c)}, base_{new_base()} {}
  ~bench() {
    for (auto& v : viewers_)
      if (v->ev)
        event_free(v->ev);
    if (pub_)
      bufferevent_free(pub_);
    for (event* e : {tick_, pub_timer_, ramp_timer_})
      if (e)
        event_free(e);
    event_base_free(base_);
  }

  int run() {
    if (!load_clip())
      return 1;
    if (!parse_url(cfg_.publish, pub_url_)) {
      std::fprintf(stderr, "bad --publish URL\n");
      return 1;
    }
    start_publisher();
    tick_ = setup_event(base_, -1, EV_PERSIST, &bench::tick_cb, this);
    const timeval tv{0, 100'000};
    event_add(tick_, &tv);
    t_start_ = now_us();
    event_base_dispatch(base_);
    return result_;
  }

private:
  // ------------------------------------------------------------ clip
  struct clip_tag {
    std::uint8_t type;
    std::uint32_t ts;
    bool once; // metadata and sequence headers: sent on the first loop only
    std::shared_ptr<bytes> payload;
  };

  bool load_clip() {
    std::ifstream f(cfg_.clip, std::ios::binary);
    const bytes data{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
    flv::reader r;
    auto res = r.consume(data);
    if (!res.error.empty() || res.tags.empty()) {
      std::fprintf(stderr, "cannot read clip %s: %s\n", cfg_.clip.c_str(), res.error.c_str());
      return false;
    }
    std::uint32_t last_video = 0, prev = 0;
    for (auto& t : res.tags) {
      const auto& p = *t.payload;
      bool once = t.type == flv::tag_type::script;
      if (t.type == flv::tag_type::video && p.size() > 1 && (p[0] & 0x0F) == 7 && p[1] == 0)
        once = true;
      if (t.type == flv::tag_type::audio && p.size() > 1 && (p[0] >> 4) == 10 && p[1] == 0)
        once = true;
      if (t.type == flv::tag_type::video && !once) {
        frame_step_ = t.timestamp > prev && prev ? t.timestamp - prev : frame_step_;
        prev = t.timestamp;
        last_video = std::max(last_video, t.timestamp);
      }
      clip_.push_back(clip_tag{t.type, t.timestamp, once, t.payload});
    }
    clip_ms_ = last_video + frame_step_;
    video_fps_ = 1000.0 / frame_step_;
    std::printf("clip: %zu tags, %.1f s, ~%.0f fps video\n", clip_.size(), clip_ms_ / 1000.0, video_fps_);
    return true;
  }

  // Two priorities: the publisher, the timers and viewers still setting up (prio_setup) run before
  // viewers that already play (prio_playing). A real viewer is its own process; here one thread
  // reads every socket, and without this a connecting viewer's four RTMP round trips would each
  // wait behind a pass over thousands of playing sockets, which is this process's lag, not the
  // server's time to first frame. (Re-polling within a pass, event_config_set_max_dispatch_interval,
  // cut that wait further but cost this thread enough CPU to delay the server's sends.)
  static constexpr int prio_setup = 0, prio_playing = 1;
  static event_base* new_base() {
    event_base* b = event_base_new();
    event_base_priority_init(b, 2);
    return b;
  }
  static event* setup_event(event_base* base, evutil_socket_t fd, short what, event_callback_fn cb, void* arg) {
    event* e = event_new(base, fd, what, cb, arg);
    event_priority_set(e, prio_setup);
    return e;
  }

  // ------------------------------------------------------------ publisher
  void start_publisher() {
    const int fd = connect_to(pub_url_);
    pub_ = bufferevent_socket_new(base_, fd, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_priority_set(pub_, prio_setup);
    bufferevent_setcb(pub_, &bench::pub_read_cb, nullptr, &bench::pub_event_cb, this);
    bufferevent_enable(pub_, EV_READ | EV_WRITE);
    const auto hs = c0c1();
    bufferevent_write(pub_, hs.data(), hs.size());
  }
  static void pub_event_cb(bufferevent*, short what, void* self) {
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
      static_cast<bench*>(self)->fail("publisher connection lost");
  }
  static void pub_read_cb(bufferevent* bev, void* self) {
    auto* b = static_cast<bench*>(self);
    evbuffer* in = bufferevent_get_input(bev);
    if (!b->pub_hs_done_) {
      if (evbuffer_get_length(in) < 1 + 2 * rtmp::handshake_size)
        return;
      const auto* p = evbuffer_pullup(in, 1 + 2 * rtmp::handshake_size);
      bufferevent_write(bev, p + 1, rtmp::handshake_size); // C2 = S1
      evbuffer_drain(in, 1 + 2 * rtmp::handshake_size);
      b->pub_hs_done_ = true;
      bytes out = connect_command(b->pub_url_);
      command(out, 0, {amf0::make_string("releaseStream"), amf0::make_number(2), amf0::make_null(),
                       amf0::make_string(b->pub_url_.name)});
      command(out, 0, {amf0::make_string("FCPublish"), amf0::make_number(3), amf0::make_null(),
                       amf0::make_string(b->pub_url_.name)});
      command(out, 0, {amf0::make_string("createStream"), amf0::make_number(4), amf0::make_null()});
      bufferevent_write(bev, out.data(), out.size());
    }
    const std::size_t len = evbuffer_get_length(in);
    if (len == 0)
      return;
    auto r = b->pub_reader_.consume({evbuffer_pullup(in, -1), len});
    evbuffer_drain(in, r.used);
    if (!r.error.empty())
      return b->fail("publisher: " + r.error);
    for (auto& m : r.messages) {
      if (m.type_id != rtmp::msg_type::command_amf0)
        continue;
      const auto d = amf0::decode_all(m.bytes());
      if (d.values.size() < 2 || !d.values[0].is_string())
        continue;
      const auto& name = d.values[0].string;
      if (name == "_result" && d.values[1].number == 4 && d.values.size() >= 4) {
        b->pub_stream_ = static_cast<std::uint32_t>(d.values[3].number);
        bytes out;
        command(out, b->pub_stream_, {amf0::make_string("publish"), amf0::make_number(5), amf0::make_null(),
                                      amf0::make_string(b->pub_url_.name), amf0::make_string("live")});
        bufferevent_write(bev, out.data(), out.size());
      } else if (name == "onStatus" && d.values.size() >= 4) {
        const std::string code = d.values[3].get_string("code");
        if (code == "NetStream.Publish.Start" && !b->publishing_) {
          b->publishing_ = true;
          b->pub_start_ = now_us();
          std::printf("publishing to %s\n", b->cfg_.publish.c_str());
          std::fflush(stdout);
          b->pub_timer_ = setup_event(b->base_, -1, 0, &bench::pub_timer_cb, b);
          b->pump();
        } else if (d.values[3].get_string("level") == "error") {
          return b->fail("publish refused: " + code);
        }
      }
    }
  }
  static void pub_timer_cb(evutil_socket_t, short, void* self) { static_cast<bench*>(self)->pump(); }

  // Sends every tag that is due, then sleeps until the next one.
  void pump() {
    for (;;) {
      if (pub_index_ == clip_.size()) {
        pub_index_ = 0;
        ++pub_loop_;
      }
      const auto& t = clip_[pub_index_];
      if (t.once && pub_loop_ > 0) {
        ++pub_index_;
        continue;
      }
      const std::uint32_t ts = t.ts + static_cast<std::uint32_t>(pub_loop_ * clip_ms_);
      const std::uint64_t due = pub_start_ + std::uint64_t{ts} * 1000;
      const std::uint64_t now = now_us();
      if (due > now) {
        const std::uint64_t wait = due - now;
        const timeval tv{static_cast<time_t>(wait / 1'000'000), static_cast<suseconds_t>(wait % 1'000'000)};
        evtimer_add(pub_timer_, &tv);
        return;
      }
      bytes payload;
      std::uint8_t type = t.type;
      if (t.type == flv::tag_type::script) {
        amf0::encode(payload, amf0::make_string("@setDataFrame"));
        payload.insert(payload.end(), t.payload->begin(), t.payload->end());
        type = rtmp::msg_type::data_amf0;
      } else {
        payload = *t.payload;
        const bool avc_nalu = t.type == flv::tag_type::video && payload.size() > 5 && (payload[0] & 0x0F) == 7 &&
                              payload[1] == 1;
        if (avc_nalu)
          append_sei(payload, now_us());
        if (t.type == flv::tag_type::video)
          ++published_video_;
      }
      pub_out_.clear();
      rtmp::write_message(pub_out_, t.type == flv::tag_type::audio ? 4 : 6, type, pub_stream_, ts, payload, out_chunk);
      bufferevent_write(pub_, pub_out_.data(), pub_out_.size());
      ++pub_index_;
    }
  }

  // ------------------------------------------------------------ phases
  static void tick_cb(evutil_socket_t, short, void* self) { static_cast<bench*>(self)->tick(); }
  void tick() {
    const std::uint64_t now = now_us();
    if (phase_ == phase::wait_url) {
      if (!publishing_) {
        if (now - t_start_ > 20'000'000)
          fail("publish did not start in 20 s");
        return;
      }
      std::ifstream f(cfg_.play_file);
      std::string rtmp_url, flv_url;
      if (!f || !std::getline(f, rtmp_url) || rtmp_url.empty())
        return;
      std::getline(f, flv_url);
      if (!parse_url(rtmp_url, play_url_) || (cfg_.flv_viewers > 0 && !parse_url(flv_url, flv_url_)))
        return fail("bad play URLs in " + cfg_.play_file);
      // Server memory with the publish on and no viewers: the base of RSS per viewer.
      before_ = sample(cfg_.pids);
      phase_ = phase::ramp;
      t_ramp_ = now;
      ramp_timer_ = setup_event(base_, -1, EV_PERSIST, &bench::ramp_cb, this);
      const timeval tv{0, 10'000};
      event_add(ramp_timer_, &tv);
      std::printf("play %s%s%s\n", rtmp_url.c_str(), cfg_.flv_viewers ? " and " : "",
                  cfg_.flv_viewers ? flv_url.c_str() : "");
      std::fflush(stdout);
    } else if (phase_ == phase::settle) {
      std::size_t started = 0;
      for (auto& v : viewers_)
        started += v->t_first_key != 0 || v->state == viewer::st::failed;
      if (started == viewers_.size() && t_all_started_ == 0)
        t_all_started_ = now;
      const bool settled = t_all_started_ && now - t_all_started_ >= static_cast<std::uint64_t>(cfg_.settle * 1e6);
      if (settled || now - t_ramp_end_ > 15'000'000)
        open_window();
    } else if (phase_ == phase::window) {
      if (now - t_window_ >= static_cast<std::uint64_t>(cfg_.window * 1e6))
        close_window();
    }
  }

  static void ramp_cb(evutil_socket_t, short, void* self) { static_cast<bench*>(self)->ramp(); }
  void ramp() {
    const std::size_t total = cfg_.rtmp_viewers + cfg_.flv_viewers;
    const double secs = static_cast<double>(now_us() - t_ramp_) / 1e6;
    const auto target = std::min(total, static_cast<std::size_t>(secs * cfg_.ramp) + 1);
    while (viewers_.size() < target) {
      // Interleave the kinds so both see the same server state.
      const bool flv = flv_started_ < cfg_.flv_viewers &&
                       (rtmp_started_ >= cfg_.rtmp_viewers ||
                        std::uint64_t{flv_started_} * cfg_.rtmp_viewers < std::uint64_t{rtmp_started_} * cfg_.flv_viewers);
      (flv ? flv_started_ : rtmp_started_)++;
      start_viewer(flv);
    }
    if (viewers_.size() == total) {
      event_del(ramp_timer_);
      phase_ = phase::settle;
      t_ramp_end_ = now_us();
    }
  }

  void open_window() {
    phase_ = phase::window;
    t_window_ = now_us();
    w_server0_ = sample(cfg_.pids);
    w_self0_ = self_cpu();
    w_published0_ = published_video_;
    g_window.open = true;
    g_window.delays_us.reserve(viewers_.size() * static_cast<std::size_t>(cfg_.window * video_fps_ * 1.2));
    g_window.read_delays_us.reserve(g_window.delays_us.capacity());
    for (auto& v : viewers_) {
      v->w_bytes0 = v->received;
      v->w_frames0 = v->video_frames;
      v->t_last_video = std::max(v->t_last_video, t_window_);
    }
    std::printf("window open: %zu viewers, %.1f s\n", viewers_.size(), cfg_.window);
    std::fflush(stdout);
  }

  static std::uint32_t pct(std::vector<std::uint32_t>& v, double p) {
    if (v.empty())
      return 0;
    const auto k = std::min(v.size() - 1, static_cast<std::size_t>(p / 100 * static_cast<double>(v.size())));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
  }

  void close_window() {
    const std::uint64_t now = now_us();
    g_window.open = false;
    const auto server1 = sample(cfg_.pids);
    const double self1 = self_cpu();
    const double secs = static_cast<double>(now - t_window_) / 1e6;
    const auto published = published_video_ - w_published0_;
    std::uint64_t bytes_w = 0;
    std::size_t held[2] = {0, 0}, count[2] = {0, 0}, failed = 0;
    std::vector<std::uint32_t> ttff[2];
    std::string example;
    for (auto& v : viewers_) {
      const int k = v->is_flv ? 1 : 0;
      ++count[k];
      bytes_w += v->received - v->w_bytes0;
      if (v->t_first_key)
        ttff[k].push_back(static_cast<std::uint32_t>(v->t_first_key - v->t_connect));
      if (v->state == viewer::st::failed) {
        ++failed;
        if (example.empty())
          example = "failed: " + v->fail_reason;
        continue;
      }
      if (now - v->t_last_video > 1'000'000)
        v->w_stalled = true, v->w_why = "no frame for > 1 s at the end";
      const auto frames = v->video_frames - v->w_frames0;
      if (frames * 10 < published * 9)
        v->w_stalled = true, v->w_why = "got " + std::to_string(frames) + " of " + std::to_string(published) + " frames";
      if (!v->w_stalled)
        ++held[k];
      else if (example.empty())
        example = "stalled: " + v->w_why;
    }
    auto& d = g_window.delays_us;
    const double gb = static_cast<double>(bytes_w) / 1e9;
    const double cpu = server1.cpu_s - w_server0_.cpu_s;
    const std::size_t total = viewers_.size();
    const double rss_per_viewer_kib =
        total ? static_cast<double>(server1.rss_kib) - static_cast<double>(before_.rss_kib) : 0;
    std::printf("RESULT server=%s rtmp=%zu flv=%zu held_rtmp=%zu held_flv=%zu failed=%zu window_s=%.1f "
                "published_frames=%llu gbit_s=%.3f bytes=%llu cpu_s=%.2f cpu_s_per_gb=%.3f "
                "rss_before_mib=%.1f rss_mib=%.1f rss_per_viewer_kib=%.1f "
                "ttff_rtmp_p50_ms=%.1f ttff_rtmp_p99_ms=%.1f ttff_flv_p50_ms=%.1f ttff_flv_p99_ms=%.1f "
                "delay_p50_ms=%.2f delay_p99_ms=%.2f delay_max_ms=%.1f delay_samples=%zu read_delay_p50_ms=%.2f "
                "read_delay_p99_ms=%.2f loadgen_cpu_s=%.2f\n",
                cfg_.label.c_str(), count[0], count[1], held[0], held[1], failed, secs,
                static_cast<unsigned long long>(published), static_cast<double>(bytes_w) * 8 / secs / 1e9,
                static_cast<unsigned long long>(bytes_w), cpu, gb > 0 ? cpu / gb : 0, before_.rss_kib / 1024.0,
                server1.rss_kib / 1024.0, rss_per_viewer_kib / static_cast<double>(std::max<std::size_t>(1, total)),
                pct(ttff[0], 50) / 1e3, pct(ttff[0], 99) / 1e3, pct(ttff[1], 50) / 1e3, pct(ttff[1], 99) / 1e3,
                pct(d, 50) / 1e3, pct(d, 99) / 1e3, d.empty() ? 0.0 : *std::max_element(d.begin(), d.end()) / 1e3,
                d.size(), pct(g_window.read_delays_us, 50) / 1e3, pct(g_window.read_delays_us, 99) / 1e3,
                self1 - w_self0_);
    // Where time to first frame went: each step's share, p50/p99 over the viewers of each kind.
    for (int k = 0; k < 2; ++k) {
      static const char* const names[2][5] = {
          {"handshake", "connect", "createStream", "play to first media", "to key frame"},
          {"reply headers", "", "", "headers to first tag", "to key frame"}};
      std::vector<std::uint32_t> step[6];
      for (auto& v : viewers_) {
        if (v->is_flv != (k == 1) || !v->t_first_key)
          continue;
        std::uint64_t prev = v->t_connect;
        for (int i = 0; i < 5; ++i) {
          const std::uint64_t t = i < 4 ? v->t_step[i] : v->t_first_key;
          if (t == 0)
            continue;
          step[i].push_back(static_cast<std::uint32_t>(t - prev));
          prev = t;
        }
        if (v->t_key_arrival && v->t_first_key > v->t_key_arrival)
          step[5].push_back(static_cast<std::uint32_t>(v->t_first_key - v->t_key_arrival));
      }
      if (step[4].empty())
        continue;
      std::printf("time to first frame by step, %s p50/p99 ms:", k ? "HTTP-FLV" : "RTMP");
      for (int i = 0; i < 5; ++i)
        if (!step[i].empty())
          std::printf(" %s %.1f/%.1f;", names[k][i], pct(step[i], 50) / 1e3, pct(step[i], 99) / 1e3);
      std::printf(" key frame's arrival to its parse %.1f/%.1f\n", pct(step[5], 50) / 1e3, pct(step[5], 99) / 1e3);
    }
    if (!example.empty())
      std::printf("example of a viewer not held: %s\n", example.c_str());
    std::fflush(stdout);
    event_base_loopbreak(base_);
  }

  void fail(const std::string& why) {
    std::fprintf(stderr, "bench_fanout: %s\n", why.c_str());
    result_ = 1;
    event_base_loopbreak(base_);
  }

  // ------------------------------------------------------------ viewers
  void start_viewer(bool is_flv) {
    auto v = std::make_unique<viewer>();
    v->is_flv = is_flv;
    v->t_connect = now_us();
    v->fd = connect_to(is_flv ? flv_url_ : play_url_);
    if (v->fd < 0) {
      v->state = viewer::st::failed;
      v->fail_reason = std::string{"connect: "} + std::strerror(errno);
    } else {
      v->ev = setup_event(base_, v->fd, EV_WRITE, &bench::connected_cb, v.get());
      event_add(v->ev, nullptr);
    }
    viewers_.push_back(std::move(v));
  }

  static void fail_viewer(viewer& v, std::string why) {
    if (v.state == viewer::st::failed)
      return;
    v.state = viewer::st::failed;
    v.fail_reason = std::move(why);
    if (g_window.open)
      v.w_stalled = true, v.w_why = v.fail_reason;
    if (v.ev)
      event_del(v.ev);
    close(v.fd);
  }

  static void send_bytes(viewer& v, std::span<const std::uint8_t> b) {
    const ssize_t n = send(v.fd, b.data(), b.size(), MSG_NOSIGNAL);
    if (n != static_cast<ssize_t>(b.size()))
      fail_viewer(v, "short send");
  }

  static void connected_cb(evutil_socket_t fd, short, void* ctx) {
    auto& v = *static_cast<viewer*>(ctx);
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0)
      return fail_viewer(v, std::string{"connect: "} + std::strerror(err));
    event_base* base = event_get_base(v.ev);
    event_free(v.ev);
    v.ev = setup_event(base, fd, EV_READ | EV_PERSIST, &bench::read_cb, &v);
    event_add(v.ev, nullptr);
    if (v.is_flv) {
      const std::string req = "GET " + g_self->flv_url_.path + " HTTP/1.1\r\nHost: " + g_self->flv_url_.host +
                              "\r\nUser-Agent: onair-bench\r\nAccept: */*\r\n\r\n";
      v.state = viewer::st::http_header;
      send_bytes(v, {reinterpret_cast<const std::uint8_t*>(req.data()), req.size()});
    } else {
      v.state = viewer::st::handshake;
      static const bytes hs = c0c1();
      send_bytes(v, hs);
    }
  }

  static void read_cb(evutil_socket_t fd, short, void* ctx) {
    auto& v = *static_cast<viewer*>(ctx);
    static std::uint8_t buf[256 * 1024];
    const auto rd = onair::bench::recv_stamped(fd, buf);
    const ssize_t n = rd.n;
    v.t_arrival = rd.stamped ? steady_from_realtime(rd.arrival) : 0;
    if (n == 0)
      return fail_viewer(v, "server closed the connection");
    if (n < 0) {
      if (errno != EAGAIN && errno != EINTR)
        fail_viewer(v, std::string{"recv: "} + std::strerror(errno));
      return;
    }
    v.received += static_cast<std::uint64_t>(n);
    std::span<const std::uint8_t> in{buf, static_cast<std::size_t>(n)};
    if (v.is_flv)
      g_self->on_flv_bytes(v, in);
    else
      g_self->on_rtmp_bytes(v, in);
  }

  void on_rtmp_bytes(viewer& v, std::span<const std::uint8_t> in) {
    bool from_pend = false;
    if (!v.pend.empty() || v.state == viewer::st::handshake) {
      v.pend.insert(v.pend.end(), in.begin(), in.end());
      in = v.pend;
      from_pend = true;
    }
    if (v.state == viewer::st::handshake) {
      constexpr std::size_t s = 1 + 2 * rtmp::handshake_size;
      if (in.size() < s)
        return;
      v.t_step[0] = now_us();
      send_bytes(v, in.subspan(1, rtmp::handshake_size)); // C2 = S1
      const bytes cmd = connect_command(play_url_);
      send_bytes(v, cmd);
      v.state = viewer::st::commands;
      in = in.subspan(s);
    }
    while (!in.empty() && v.state != viewer::st::failed) {
      auto r = v.reader.consume(in);
      if (!r.error.empty())
        return fail_viewer(v, r.error);
      for (auto& m : r.messages)
        on_rtmp_message(v, m);
      if (r.used == 0)
        break;
      in = in.subspan(r.used);
    }
    if (v.state == viewer::st::failed)
      return;
    if (from_pend) {
      bytes rest(in.begin(), in.end());
      v.pend.swap(rest);
    } else {
      v.pend.assign(in.begin(), in.end());
    }
    if (v.ack_window && v.received - v.acked_at >= v.ack_window) {
      v.acked_at = v.received;
      bytes out, p;
      be32(p, static_cast<std::uint32_t>(v.received));
      control(out, rtmp::msg_type::ack, p);
      send_bytes(v, out);
    }
  }

  void on_rtmp_message(viewer& v, const rtmp::message& m) {
    const auto b = m.bytes();
    if (!v.t_step[3] && (m.type_id == rtmp::msg_type::video || m.type_id == rtmp::msg_type::audio))
      v.t_step[3] = now_us();
    switch (m.type_id) {
    case rtmp::msg_type::video:
      return on_video(v, b);
    case rtmp::msg_type::audio:
      ++v.audio_frames;
      return;
    case rtmp::msg_type::window_ack_size:
      if (b.size() >= 4)
        v.ack_window = get_be32(b.data());
      return;
    case rtmp::msg_type::user_control:
      if (b.size() >= 6 && b[0] == 0 && b[1] == 6) { // PingRequest -> PingResponse
        bytes out, p{0, 7};
        p.insert(p.end(), b.begin() + 2, b.begin() + 6);
        control(out, rtmp::msg_type::user_control, p);
        send_bytes(v, out);
      }
      return;
    case rtmp::msg_type::command_amf0: {
      const auto d = amf0::decode_all(b);
      if (d.values.size() < 2 || !d.values[0].is_string())
        return;
      const auto& name = d.values[0].string;
      bytes out;
      if (name == "_result" && d.values[1].number == 1) {
        v.t_step[1] = now_us();
        command(out, 0, {amf0::make_string("createStream"), amf0::make_number(2), amf0::make_null()});
        send_bytes(v, out);
      } else if (name == "_result" && d.values[1].number == 2 && d.values.size() >= 4) {
        const auto sid = static_cast<std::uint32_t>(d.values[3].number);
        v.t_step[2] = now_us();
        command(out, sid, {amf0::make_string("play"), amf0::make_number(0), amf0::make_null(),
                           amf0::make_string(play_url_.name), amf0::make_number(-1000)});
        bytes p{0, 3}; // SetBufferLength stream 1000 ms
        be32(p, sid);
        be32(p, 1000);
        control(out, rtmp::msg_type::user_control, p);
        send_bytes(v, out);
        v.state = viewer::st::playing;
      } else if ((name == "onStatus" && d.values.size() >= 4 && d.values[3].get_string("level") == "error") ||
                 name == "_error") {
        fail_viewer(v, "refused: " + (d.values.size() >= 4 ? d.values[3].get_string("code") : name));
      }
      return;
    }
    default:
      return;
    }
  }

  void on_video(viewer& v, std::span<const std::uint8_t> b) {
    if (b.size() < 2 || (b[0] & 0x0F) != 7 || b[1] != 1)
      return; // sequence headers, end of sequence, other codecs
    const std::uint64_t now = now_us();
    ++v.video_frames;
    if (!v.t_first_video)
      v.t_first_video = now;
    if (!v.t_first_key && (b[0] >> 4) == 1) {
      v.t_first_key = now;
      v.t_key_arrival = v.t_arrival;
      event_priority_set(v.ev, prio_playing); // called from its own callback: not active now
    }
    if (!v.t_first_key)
      return; // not decodable yet
    if (g_window.open) {
      const std::uint64_t gap = now - v.t_last_video;
      if (gap > 1'000'000 && !v.w_stalled)
        v.w_stalled = true, v.w_why = "no frame for " + std::to_string(gap / 1000) + " ms";
      std::uint64_t sent = 0;
      if (read_sei(b, sent)) {
        const std::uint64_t delay = now > sent ? now - sent : 0;
        // The stamp is the last segment's of the read (a frame read together with later bytes is
        // given their time: the delay is over-estimated, never under).
        const std::uint64_t arrived = v.t_arrival != 0 ? v.t_arrival : now;
        const std::uint64_t added = arrived > sent ? arrived - sent : 0;
        g_window.delays_us.push_back(static_cast<std::uint32_t>(std::min<std::uint64_t>(added, 0xFFFFFFFF)));
        g_window.read_delays_us.push_back(static_cast<std::uint32_t>(std::min<std::uint64_t>(delay, 0xFFFFFFFF)));
        if (delay > 1'000'000 && !v.w_stalled)
          v.w_stalled = true, v.w_why = "behind real time by " + std::to_string(delay / 1000) + " ms";
      }
    }
    v.t_last_video = now;
  }

  void on_flv_bytes(viewer& v, std::span<const std::uint8_t> in) {
    if (v.state == viewer::st::http_header) {
      v.pend.insert(v.pend.end(), in.begin(), in.end());
      const std::string_view s{reinterpret_cast<const char*>(v.pend.data()), v.pend.size()};
      const auto end = s.find("\r\n\r\n");
      if (end == std::string_view::npos)
        return;
      std::string head{s.substr(0, end)};
      if (head.rfind("HTTP/1.1 200", 0) != 0 && head.rfind("HTTP/1.0 200", 0) != 0)
        return fail_viewer(v, "HTTP " + head.substr(0, head.find('\r')));
      std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
      v.chunked = head.find("transfer-encoding: chunked") != std::string::npos;
      v.state = viewer::st::body;
      v.t_step[0] = now_us();
      const bytes rest(v.pend.begin() + static_cast<std::ptrdiff_t>(end + 4), v.pend.end());
      v.pend.clear();
      return on_flv_bytes(v, rest);
    }
    if (!v.chunked) {
      v.body.insert(v.body.end(), in.begin(), in.end());
    } else {
      // Chunked: "<hex>\r\n" data "\r\n"; pend holds a partial size line.
      std::size_t i = 0;
      while (i < in.size()) {
        if (v.chunk_crlf > 0) {
          --v.chunk_crlf;
          ++i;
        } else if (v.chunk_left > 0) {
          const std::size_t k = std::min(v.chunk_left, in.size() - i);
          v.body.insert(v.body.end(), in.begin() + static_cast<std::ptrdiff_t>(i),
                        in.begin() + static_cast<std::ptrdiff_t>(i + k));
          v.chunk_left -= k;
          i += k;
          if (v.chunk_left == 0)
            v.chunk_crlf = 2;
        } else {
          v.pend.push_back(in[i++]);
          const auto n = v.pend.size();
          if (n >= 2 && v.pend[n - 2] == '\r' && v.pend[n - 1] == '\n') {
            const std::string line(v.pend.begin(), v.pend.end() - 2);
            v.pend.clear();
            v.chunk_left = std::stoul(line, nullptr, 16);
            if (v.chunk_left == 0)
              return fail_viewer(v, "stream ended");
          } else if (n > 32) {
            return fail_viewer(v, "bad chunk size line");
          }
        }
      }
    }
    auto r = v.freader.consume(v.body);
    if (!r.error.empty())
      return fail_viewer(v, r.error);
    v.body.erase(v.body.begin(), v.body.begin() + static_cast<std::ptrdiff_t>(r.used));
    if (!v.t_step[3] && !r.tags.empty())
      v.t_step[3] = now_us();
    for (auto& t : r.tags) {
      if (t.type == flv::tag_type::video)
        on_video(v, *t.payload);
      else if (t.type == flv::tag_type::audio)
        ++v.audio_frames;
    }
  }

public:
  static inline bench* g_self = nullptr;

private:
  enum class phase { wait_url, ramp, settle, window };
  config cfg_;
  event_base* base_;
  int result_ = 0;
  std::vector<clip_tag> clip_;
  std::uint32_t clip_ms_ = 0, frame_step_ = 33;
  double video_fps_ = 30;
  // publisher
  url pub_url_, play_url_, flv_url_;
  bufferevent* pub_ = nullptr;
  bool pub_hs_done_ = false, publishing_ = false;
  rtmp::chunk_reader pub_reader_;
  std::uint32_t pub_stream_ = 1;
  std::uint64_t pub_start_ = 0, pub_loop_ = 0, published_video_ = 0, w_published0_ = 0;
  std::size_t pub_index_ = 0;
  bytes pub_out_;
  event* pub_timer_ = nullptr;
  // phases
  phase phase_ = phase::wait_url;
  event *tick_ = nullptr, *ramp_timer_ = nullptr;
  std::uint64_t t_start_ = 0, t_ramp_ = 0, t_ramp_end_ = 0, t_all_started_ = 0, t_window_ = 0;
  std::size_t rtmp_started_ = 0, flv_started_ = 0;
  std::vector<std::unique_ptr<viewer>> viewers_;
  proc_sample before_, w_server0_;
  double w_self0_ = 0;
};

} // namespace

int main(int argc, char** argv) {
  config cfg;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--clip")
      cfg.clip = v;
    else if (k == "--publish")
      cfg.publish = v;
    else if (k == "--play-file")
      cfg.play_file = v;
    else if (k == "--rtmp")
      cfg.rtmp_viewers = static_cast<unsigned>(std::stoul(v));
    else if (k == "--flv")
      cfg.flv_viewers = static_cast<unsigned>(std::stoul(v));
    else if (k == "--ramp")
      cfg.ramp = std::stod(v);
    else if (k == "--settle")
      cfg.settle = std::stod(v);
    else if (k == "--window")
      cfg.window = std::stod(v);
    else if (k == "--label")
      cfg.label = v;
    else if (k == "--pids") {
      std::stringstream ss(v);
      std::string p;
      while (std::getline(ss, p, ','))
        if (!p.empty())
          cfg.pids.push_back(std::stoi(p));
    } else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  if (cfg.clip.empty() || cfg.publish.empty() || cfg.play_file.empty()) {
    std::fprintf(stderr, "usage: bench_fanout --clip FLV --publish rtmp://H:P/app/key --play-file FILE "
                         "[--rtmp N] [--flv N] [--ramp PER_S] [--settle S] [--window S] [--pids P,..] [--label L]\n");
    return 2;
  }
  bench b{cfg};
  bench::g_self = &b;
  return b.run();
}
