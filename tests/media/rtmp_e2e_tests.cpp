// End to end against the real ffmpeg/ffprobe CLIs: publish a generated clip over RTMP, read it
// back over RTMP and HTTP-FLV, a refused key next to a running publish, a late joiner, a kick.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <event2/http.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "eventually.hpp"
#include "media/flv/http_flv.hpp"
#include "media/net/event_loop.hpp"
#include "media/rtmp/chunk.hpp"
#include "media/rtmp/handshake.hpp"
#include "media/rtmp/server.hpp"
#include "media/rtmp/amf0.hpp"

using namespace onair::media;
using namespace std::chrono_literals;

namespace {

struct run_result {
  int rc = -1;
  std::string output;
};

run_result run(const std::string& cmd) {
  run_result r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p)
    return r;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0)
    r.output.append(buf, n);
  const int status = pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

bool have_ffmpeg() { return run("ffmpeg -version").rc == 0 && run("ffprobe -version").rc == 0; }

using onair::testing::eventually;

// This process's socket whose peer is `client` (the server's end of a loopback connection), or -1.
int server_end_of(const sockaddr_in& client) {
  DIR* d = opendir("/proc/self/fd");
  if (!d)
    return -1;
  int found = -1;
  while (dirent* e = readdir(d)) {
    const int fd = std::atoi(e->d_name);
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    if (fd > 2 && getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0 && peer.sin_family == AF_INET &&
        peer.sin_port == client.sin_port && peer.sin_addr.s_addr == client.sin_addr.s_addr) {
      found = fd;
      break;
    }
  }
  closedir(d);
  return found;
}

// Accepts key "good" into hub "hub-good" (answering from another thread, as actors do);
// playback id "pgood" resolves to it.
struct test_hooks : rtmp::hooks {
  explicit test_hooks(fanout::registry& r) : hubs{r} {}
  fanout::registry& hubs;
  std::mutex mu;
  std::vector<std::string> refused;
  std::map<std::uint64_t, std::string> accepted; // session -> key
  std::set<std::uint64_t> first_key;
  std::map<std::uint64_t, std::string> ended;
  std::vector<rtmp::ingest_stats> stats;

  std::function<void()> held; // key "held": accepted when the test calls this
  void authorize_publish(const rtmp::publish_request& req, std::function<void(rtmp::publish_decision)> answer) override {
    if (req.stream_key == "held") {
      std::lock_guard lock{mu};
      accepted[req.session_id] = req.stream_key;
      held = [this, answer = std::move(answer)] { answer({hubs.find_or_create("hub-good"), ""}); };
      return;
    }
    std::thread([this, req, answer = std::move(answer)] {
      const bool ok = req.stream_key == "good";
      {
        std::lock_guard lock{mu};
        if (ok)
          accepted[req.session_id] = req.stream_key;
        else
          refused.push_back(req.stream_key);
      }
      answer(ok ? rtmp::publish_decision{hubs.find_or_create("hub-good"), ""} : rtmp::publish_decision{nullptr, "unknown key"});
    }).detach();
  }
  int first_keys = 0; // calls, over every publish
  void on_first_keyframe(std::uint64_t id) override {
    std::lock_guard lock{mu};
    first_key.insert(id);
    ++first_keys;
  }
  void on_stats(std::uint64_t, const rtmp::ingest_stats& s) override {
    std::lock_guard lock{mu};
    stats.push_back(s);
  }
  int ends = 0; // calls, over every publish
  void on_publish_end(std::uint64_t id, std::string_view reason) override {
    std::lock_guard lock{mu};
    ended[id] = std::string{reason};
    ++ends;
  }
  void resolve_play(const rtmp::play_request& req, std::function<void(rtmp::play_decision)> answer) override {
    answer({req.playback_id == "pgood" ? hubs.find_or_create("hub-good") : nullptr});
  }

  template <class F> auto with(F f) {
    std::lock_guard lock{mu};
    return f();
  }
};

std::string publish_cmd(std::uint16_t port, const std::string& key, int seconds) {
  return "ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc2=size=640x360:rate=25 -f lavfi -i sine "
         "-c:v libx264 -preset ultrafast -g 25 -c:a aac -t " +
         std::to_string(seconds) + " -f flv rtmp://127.0.0.1:" + std::to_string(port) + "/live/" + key;
}

struct fixture {
  counters stats;
  fanout::registry hubs{{}, &stats};
  test_hooks hooks{hubs};
  std::unique_ptr<rtmp::server> server;
  // tune: changes to the test server's settings (limits, timeouts) before it starts.
  explicit fixture(const std::function<void(rtmp::server_config&)>& tune = {}) {
    rtmp::server_config cfg;
    cfg.address = "127.0.0.1";
    cfg.port = 0;
    cfg.loops = 2;
    cfg.stats_interval = 1s;
    if (tune)
      tune(cfg);
    server = std::make_unique<rtmp::server>(cfg, hooks, stats);
    server->start();
  }
  ~fixture() { server->stop(); }
  std::string url(const std::string& path) const { return "rtmp://127.0.0.1:" + std::to_string(server->port()) + path; }
};

// A TCP connection to the RTMP server (receive buffer `rcvbuf`, 0: the default) past a simple
// handshake: C0+C1 sent, S0+S1+S2 read, C2 sent.
int rtmp_connect(std::uint16_t port, int rcvbuf = 0) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (rcvbuf > 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  std::vector<std::uint8_t> hello(1 + rtmp::handshake_size, 0);
  hello[0] = 3;
  BOOST_REQUIRE(send(fd, hello.data(), hello.size(), 0) == static_cast<ssize_t>(hello.size()));
  std::vector<std::uint8_t> s012(1 + 2 * rtmp::handshake_size);
  for (std::size_t got = 0; got < s012.size();) {
    const auto n = recv(fd, s012.data() + got, s012.size() - got, 0);
    BOOST_REQUIRE(n > 0);
    got += static_cast<std::size_t>(n);
  }
  const std::vector<std::uint8_t> c2(rtmp::handshake_size, 0);
  BOOST_REQUIRE(send(fd, c2.data(), c2.size(), 0) == static_cast<ssize_t>(c2.size()));
  return fd;
}

// A player on a raw socket (receive buffer `rcvbuf`, 0: the default): handshake, connect,
// createStream and play sent; the caller reads what follows.
int raw_player(std::uint16_t port, const std::string& playback_id, int rcvbuf = 0) {
  const int fd = rtmp_connect(port, rcvbuf);
  std::vector<std::uint8_t> req;
  auto cmd = [&](std::uint32_t stream, std::vector<rtmp::amf0::value> vs) {
    std::vector<std::uint8_t> body;
    rtmp::amf0::encode_all(body, vs);
    rtmp::write_message(req, 3, rtmp::msg_type::command_amf0, stream, 0, body, 128);
  };
  using namespace rtmp::amf0;
  cmd(0, {make_string("connect"), make_number(1), make_object({{"app", make_string("play")}})});
  cmd(0, {make_string("createStream"), make_number(2), make_null()});
  cmd(1, {make_string("play"), make_number(3), make_null(), make_string(playback_id)});
  BOOST_REQUIRE(send(fd, req.data(), req.size(), 0) == static_cast<ssize_t>(req.size()));
  return fd;
}

// An RTMP client on a raw socket, past the (simple) handshake: what it sends is up to the test.
class raw_client {
public:
  explicit raw_client(std::uint16_t port) : fd_{rtmp_connect(port)} {
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~raw_client() { ::close(fd_); }
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  void command(std::uint32_t stream, std::vector<rtmp::amf0::value> vs) {
    std::vector<std::uint8_t> body, out;
    rtmp::amf0::encode_all(body, vs);
    rtmp::write_message(out, 3, rtmp::msg_type::command_amf0, stream, 0, body, 128);
    send_all(out);
  }
  void video(std::uint32_t ts, std::vector<std::uint8_t> body) {
    std::vector<std::uint8_t> out;
    rtmp::write_message(out, 6, 9, 1, ts, body, 128);
    send_all(out);
  }
  // Reads until `text` has come `times` times in what the server sent (or 10 s passed, or it closed).
  bool read_until(const std::string& text, int times = 1) {
    for (;;) {
      int seen = 0;
      for (auto at = got_.find(text); at != std::string::npos; at = got_.find(text, at + 1))
        ++seen;
      if (seen >= times)
        return true;
      char buf[4096];
      const auto n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0)
        return false;
      got_.append(buf, static_cast<std::size_t>(n));
    }
  }
  void forget_read() { got_.clear(); }

private:
  void send_all(const std::vector<std::uint8_t>& b) {
    BOOST_REQUIRE(send(fd_, b.data(), b.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(b.size()));
  }
  int fd_;
  std::string got_;
};

} // namespace

BOOST_AUTO_TEST_SUITE(rtmp_e2e)

BOOST_AUTO_TEST_CASE(publish_play_refuse_late_join_and_http_flv) {
  BOOST_REQUIRE_MESSAGE(have_ffmpeg(), "ffmpeg/ffprobe not installed (ops/deps installs them)");
  fixture f;
  BOOST_REQUIRE(f.server->port() != 0);
  auto publisher = std::async(std::launch::async, [&] { return run(publish_cmd(f.server->port(), "good", 7)); });
  BOOST_REQUIRE_MESSAGE(eventually([&] { return f.hooks.with([&] { return !f.hooks.first_key.empty(); }); }, 20s),
                        "no key frame from the publisher");
  const std::uint64_t good_session = f.hooks.with([&] { return *f.hooks.first_key.begin(); });
  auto hub = f.hubs.find("hub-good");
  BOOST_REQUIRE(hub);

  // A refused key: BadName and closed, the running publish undisturbed.
  const auto bad = run(publish_cmd(f.server->port(), "bad", 2));
  BOOST_TEST(bad.rc != 0);
  BOOST_TEST(f.hooks.with([&] { return f.hooks.refused.size(); }) == 1u);
  BOOST_TEST(hub->publishing());

  // Read it back over RTMP.
  const auto probe = run("timeout 30 ffprobe -v error -show_entries stream=codec_name,width,height -of compact " +
                         f.url("/play/pgood"));
  BOOST_TEST_MESSAGE("ffprobe rtmp: " << probe.output);
  BOOST_TEST(probe.rc == 0);
  BOOST_TEST(probe.output.find("codec_name=h264|width=640|height=360") != std::string::npos);
  BOOST_TEST(probe.output.find("codec_name=aac") != std::string::npos);

  // A late joiner's first video frame is a key frame (GOP cache).
  const auto late = run("timeout 30 ffprobe -v error -select_streams v:0 -show_entries frame=key_frame,pict_type "
                        "-read_intervals %+#3 -of compact " +
                        f.url("/play/pgood"));
  BOOST_TEST_MESSAGE("ffprobe late joiner: " << late.output);
  BOOST_TEST(late.output.rfind("frame|key_frame=1|pict_type=I", 0) == 0);

  // An unknown playback id is refused.
  const auto missing = run("timeout 30 ffprobe -v error " + f.url("/play/nope"));
  BOOST_TEST(missing.rc != 0);

  // HTTP-FLV from the same hub on a bare evhttp.
  onair::net::event_loop http_loop;
  evhttp* http = evhttp_new(http_loop.base());
  evhttp_set_timeout(http, 1); // a viewer sends nothing after its request: that must not end it
  evhttp_bound_socket* sock = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
  BOOST_REQUIRE(sock);
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  getsockname(evhttp_bound_socket_get_fd(sock), reinterpret_cast<sockaddr*>(&addr), &len);
  struct route {
    onair::net::event_loop* loop;
    fanout::registry* hubs;
    counters* stats;
  } r{&http_loop, &f.hubs, &f.stats};
  evhttp_set_gencb(
      http,
      [](evhttp_request* req, void* arg) {
        auto* rt = static_cast<route*>(arg);
        const std::string uri = evhttp_request_get_uri(req);
        // No close_watch: nothing else tracks this bare evhttp's connections.
        flv::serve_http_flv(*rt->loop, req, uri == "/play/pgood.flv" ? rt->hubs->find("hub-good") : nullptr, {},
                            rt->stats);
      },
      &r);
  http_loop.start();
  const std::string flv_url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/play/pgood.flv";
  const auto flv_probe = run("timeout 30 ffprobe -v error -show_entries stream=codec_name,width,height -of compact " + flv_url);
  BOOST_TEST_MESSAGE("ffprobe http-flv: " << flv_probe.output);
  BOOST_TEST(flv_probe.output.find("codec_name=h264|width=640|height=360") != std::string::npos);
  BOOST_TEST(flv_probe.output.find("codec_name=aac") != std::string::npos);
  const auto headers = run("timeout 10 curl -s -D - -o /dev/null --max-time 1 " + flv_url);
  BOOST_TEST(headers.output.find("Content-Type: video/x-flv") != std::string::npos);
  BOOST_TEST(headers.output.find("Access-Control-Allow-Origin: *") != std::string::npos);
  BOOST_TEST(headers.output.find("Transfer-Encoding: chunked") != std::string::npos);
  // Frames leave at once: the viewer's socket has Nagle's algorithm off. A raw client reads the
  // start of the reply, then the server's end of its connection is looked up in this process.
  {
    const int c = socket(AF_INET, SOCK_STREAM, 0);
    BOOST_REQUIRE(c >= 0);
    BOOST_REQUIRE(connect(c, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
    const std::string get = "GET /play/pgood.flv HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    BOOST_REQUIRE(send(c, get.data(), get.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(get.size()));
    timeval tv{10, 0};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char head[64];
    BOOST_REQUIRE(recv(c, head, sizeof head, 0) > 0);
    sockaddr_in local{};
    socklen_t len = sizeof local;
    getsockname(c, reinterpret_cast<sockaddr*>(&local), &len);
    const int server_fd = server_end_of(local);
    BOOST_REQUIRE(server_fd >= 0);
    int nodelay = 0;
    socklen_t optlen = sizeof nodelay;
    BOOST_TEST(getsockopt(server_fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &optlen) == 0);
    BOOST_TEST(nodelay != 0);
    close(c);
  }
  // A viewer outlives the server's read timeout (1 s here): curl is stopped by its own --max-time.
  const auto long_viewer = run("timeout 10 curl -s -o /dev/null --max-time 3 " + flv_url + "; echo rc=$?");
  BOOST_TEST(long_viewer.output.find("rc=28") != std::string::npos, long_viewer.output);
  // An HTTP/1.0 client gets the bare stream (no chunk framing, ended by closing): the FLV header,
  // PreviousTagSize0, then a tag (script 0x12, video 0x09 or audio 0x08).
  const auto bare = run("timeout 10 curl -s --http1.0 --max-time 1 " + flv_url + " | head -c 14 | od -An -tx1");
  BOOST_TEST_MESSAGE("HTTP/1.0 body starts: " << bare.output);
  const std::string flv_start = " 46 4c 56 01 05 00 00 00 09 00 00 00 00 ";
  BOOST_TEST(bare.output.rfind(flv_start, 0) == 0u);
  const std::string first_tag = bare.output.size() >= flv_start.size() + 2 ? bare.output.substr(flv_start.size(), 2) : "";
  BOOST_TEST((first_tag == "12" || first_tag == "09" || first_tag == "08"), "first tag type " << first_tag);
  BOOST_TEST(eventually([&] { return hub->viewer_count() == 0; }, 10s)); // every viewer left cleanly

  const auto pub = publisher.get();
  BOOST_TEST_MESSAGE("publisher: rc=" << pub.rc << " " << pub.output);
  BOOST_TEST(pub.rc == 0);
  BOOST_TEST(eventually([&] { return f.hooks.with([&] { return f.hooks.ended.count(good_session) == 1; }); }, 10s));
  BOOST_TEST(!hub->publishing());
  f.hooks.with([&] {
    BOOST_REQUIRE(!f.hooks.stats.empty());
    const auto& s = f.hooks.stats.back();
    BOOST_TEST(s.video_codec == "h264");
    BOOST_TEST(s.audio_codec == "aac");
    BOOST_TEST(s.width == 640);
    BOOST_TEST(s.height == 360);
    BOOST_TEST(s.bitrate_kbps > 0);
    return 0;
  });
  BOOST_TEST(f.stats.bytes_out.load() > 0u);
  BOOST_TEST(f.stats.publish_rejected.load() == 1u);
  http_loop.post([&] { evhttp_free(http); });
  http_loop.stop();
}

BOOST_AUTO_TEST_CASE(viewer_keeps_playing_through_a_publisher_reconnect) {
  BOOST_REQUIRE_MESSAGE(have_ffmpeg(), "ffmpeg/ffprobe not installed (ops/deps installs them)");
  fixture f;
  auto first = std::async(std::launch::async, [&] { return run(publish_cmd(f.server->port(), "good", 3)); });
  BOOST_REQUIRE(eventually([&] { return f.hooks.with([&] { return !f.hooks.first_key.empty(); }); }, 20s));
  auto viewer = std::async(std::launch::async, [&] {
    return run("timeout 60 ffprobe -v error -select_streams v:0 -show_entries packet=dts_time -of csv=p=0 "
               "-read_intervals %+6 " +
               f.url("/play/pgood"));
  });
  BOOST_TEST(first.get().rc == 0);
  // The encoder restarts at timestamp 0; the viewer must not see time go backwards.
  const auto second = run(publish_cmd(f.server->port(), "good", 6));
  BOOST_TEST(second.rc == 0);
  const auto v = viewer.get();
  BOOST_TEST(v.rc == 0);
  std::vector<double> dts;
  std::istringstream lines{v.output};
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line.find_first_not_of("0123456789.") == std::string::npos)
      dts.push_back(std::stod(line));
  BOOST_REQUIRE(dts.size() > 50u);
  bool monotonic = true;
  for (std::size_t i = 1; i < dts.size(); ++i)
    monotonic = monotonic && dts[i] >= dts[i - 1];
  BOOST_TEST(monotonic);
  BOOST_TEST(dts.back() - dts.front() > 4.0); // spans both publishes
  BOOST_TEST(f.hooks.with([&] { return f.hooks.ended.size(); }) == 2u);
}

BOOST_AUTO_TEST_CASE(slow_viewer_drops_gops_while_the_publisher_and_other_viewers_go_on) {
  BOOST_REQUIRE_MESSAGE(have_ffmpeg(), "ffmpeg/ffprobe not installed (ops/deps installs them)");
  counters stats;
  fanout::hub_options ho;
  ho.max_lag_ms = 1000;
  fanout::registry hubs{ho, &stats};
  test_hooks hooks{hubs};
  rtmp::server_config cfg;
  cfg.address = "127.0.0.1";
  cfg.port = 0;
  cfg.loops = 2;
  cfg.viewer_out_buffer = 32 * 1024;
  cfg.socket_send_buffer = 16 * 1024;
  rtmp::server srv{cfg, hooks, stats};
  srv.start();
  auto publisher = std::async(std::launch::async, [&] { return run(publish_cmd(srv.port(), "good", 10)); });
  BOOST_REQUIRE(eventually([&] { return hooks.with([&] { return !hooks.first_key.empty(); }); }, 20s));

  // A raw player that reads far slower than the stream's bitrate.
  const int fd = raw_player(srv.port(), "pgood", 4096);
  std::atomic<bool> stop_reading{false};
  std::thread slow([&] {
    std::uint8_t buf[2048];
    while (!stop_reading) {
      if (recv(fd, buf, sizeof buf, MSG_DONTWAIT) == 0)
        break;
      std::this_thread::sleep_for(25ms); // ~80 KB/s
    }
  });

  // Another player meanwhile gets the stream normally.
  const auto probe = run("timeout 30 ffprobe -v error -show_entries stream=codec_name,width,height -of compact "
                         "rtmp://127.0.0.1:" + std::to_string(srv.port()) + "/play/pgood");
  BOOST_TEST(probe.output.find("codec_name=h264|width=640|height=360") != std::string::npos);
  BOOST_TEST(eventually([&] { return stats.dropped_gops.load() > 0; }, 15s));
  BOOST_TEST_MESSAGE("dropped GOPs " << stats.dropped_gops.load() << ", frames " << stats.dropped_frames.load());
  const auto pub = publisher.get(); // the publisher ran at its own pace to the end
  BOOST_TEST(pub.rc == 0);
  stop_reading = true;
  slow.join();
  ::close(fd);
  srv.stop();
}

BOOST_AUTO_TEST_CASE(a_new_viewer_gets_a_gop_cache_larger_than_one_read_without_waiting_for_a_frame) {
  // Given a 300 KB GOP in the cache, no publisher sending any more, and reads of 32 KiB
  counters stats;
  fanout::registry hubs{{}, &stats};
  test_hooks hooks{hubs};
  rtmp::server_config cfg;
  cfg.address = "127.0.0.1";
  cfg.port = 0;
  cfg.viewer_out_buffer = 32 * 1024;
  rtmp::server srv{cfg, hooks, stats};
  srv.start();
  auto h = hubs.find_or_create("hub-good");
  h->begin_publish();
  h->publish(make_frame(frame_kind::video, 0, std::vector<std::uint8_t>(40, 0x17), false, true));
  std::size_t gop = 0;
  for (int i = 0; i < 6; ++i) {
    const std::vector<std::uint8_t> body(50 * 1000, i == 0 ? 0x17 : 0x27);
    h->publish(make_frame(frame_kind::video, static_cast<std::uint32_t>(i * 33), body, i == 0));
    gop += body.size();
  }
  // When a player starts
  const int fd = raw_player(srv.port(), "pgood");
  // Then it gets the whole GOP at once, not 32 KiB per frame that never comes
  std::size_t got = 0;
  BOOST_TEST(eventually([&] {
    std::uint8_t buf[65536];
    for (ssize_t n; (n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0;)
      got += static_cast<std::size_t>(n);
    return got > gop;
  }, 5s), "received " << got << " of a " << gop << "-byte GOP");
  ::close(fd);
  srv.stop();
}

BOOST_AUTO_TEST_CASE(disconnect_publisher_cuts_a_running_publish) {
  BOOST_REQUIRE_MESSAGE(have_ffmpeg(), "ffmpeg/ffprobe not installed (ops/deps installs them)");
  fixture f;
  auto publisher = std::async(std::launch::async, [&] { return run(publish_cmd(f.server->port(), "good", 30)); });
  BOOST_REQUIRE(eventually([&] { return f.hooks.with([&] { return !f.hooks.first_key.empty(); }); }, 20s));
  const std::uint64_t id = f.hooks.with([&] { return *f.hooks.first_key.begin(); });
  f.server->disconnect_publisher(id);
  BOOST_TEST(eventually([&] { return f.hooks.with([&] { return f.hooks.ended.count(id) == 1; }); }, 5s));
  BOOST_REQUIRE(publisher.wait_for(15s) == std::future_status::ready);
  BOOST_TEST(publisher.get().rc != 0);
}

BOOST_AUTO_TEST_CASE(listen_spec_parsing) {
  rtmp::server_config c;
  BOOST_TEST(rtmp::parse_listen("127.0.0.1:1935", c));
  BOOST_TEST(c.address == "127.0.0.1");
  BOOST_TEST(c.port == 1935);
  BOOST_TEST(rtmp::parse_listen("[::1]:0", c));
  BOOST_TEST(c.address == "::1");
  BOOST_TEST(rtmp::parse_listen(":1936", c));
  BOOST_TEST(c.address == "0.0.0.0");
  BOOST_TEST(!rtmp::parse_listen("1935", c));
  BOOST_TEST(!rtmp::parse_listen("h:99999", c));
  BOOST_TEST(!rtmp::parse_listen("h:x", c));
}

BOOST_AUTO_TEST_CASE(per_address_limit_and_handshake_timeout) {
  fixture f{[](rtmp::server_config& c) {
    c.loops = 1;
    c.max_pending_per_address = 2;
    c.handshake_timeout = 300ms;
  }};
  auto& srv = *f.server;
  auto& stats = f.stats;
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(srv.port());
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BOOST_REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    fds.push_back(fd);
  }
  BOOST_TEST(eventually([&] { return stats.connections_refused.load() == 1u; }, 5s));
  // Silent clients are dropped by the handshake timeout.
  BOOST_TEST(eventually([&] { return stats.timeouts.load() == 2u && srv.connection_count() == 0; }, 5s));
  for (int fd : fds)
    ::close(fd);
}

// Players are bounded per address apart from connections that have not published or played yet:
// an office behind one NAT fills the player bound, not the (small) pending one.
BOOST_AUTO_TEST_CASE(players_per_address_are_bounded_apart_from_pending_connections) {
  using namespace rtmp::amf0;
  fixture f{[](rtmp::server_config& c) {
    c.max_pending_per_address = 2;
    c.max_players_per_address = 3;
  }};
  auto& srv = *f.server;
  auto& stats = f.stats;
  auto play = [&](raw_client& c) {
    c.command(0, {make_string("connect"), make_number(1), make_object({{"app", make_string("play")}})});
    c.command(0, {make_string("createStream"), make_number(2), make_null()});
    c.command(1, {make_string("play"), make_number(3), make_null(), make_string("pgood")});
  };
  // Given three players from 127.0.0.1, more than the pending bound
  std::vector<std::unique_ptr<raw_client>> players;
  for (int i = 0; i < 3; ++i) {
    players.push_back(std::make_unique<raw_client>(srv.port()));
    play(*players.back());
    BOOST_REQUIRE_MESSAGE(players.back()->read_until("NetStream.Play.Start"), "player " << i << " not accepted");
  }
  // When a fourth plays, then it is refused with the reason, and the connection closes
  {
    raw_client fourth{srv.port()};
    play(fourth);
    BOOST_TEST(fourth.read_until("too many players from this address"));
    BOOST_TEST(eventually([&] { return srv.connection_count() == 3u; }, 5s));
  }
  BOOST_TEST(stats.connections_refused.load() == 1u);
  // The players did not use up the pending bound: two more connections are still taken
  raw_client pending_a{srv.port()}, pending_b{srv.port()};
  BOOST_TEST(eventually([&] { return srv.connection_count() == 5u; }, 5s));
  // And once a player leaves, another one is accepted
  players.pop_back();
  BOOST_TEST(eventually([&] { return srv.connection_count() == 4u; }, 5s));
  play(pending_a);
  BOOST_TEST(pending_a.read_until("NetStream.Play.Start"));
}

BOOST_AUTO_TEST_CASE(garbage_and_silence_close_the_connection) {
  fixture f;
  const std::string port = std::to_string(f.server->port());
  // Wrong handshake version, then a valid C0C1 followed by a malformed chunk stream.
  run("head -c 2000 /dev/urandom | (printf '\\006'; cat) | timeout 5 curl -s --max-time 2 telnet://127.0.0.1:" + port +
      " >/dev/null");
  BOOST_TEST(eventually([&] { return f.server->connection_count() == 0; }, 5s));
  BOOST_TEST(f.stats.protocol_errors.load() >= 1u);
}

BOOST_AUTO_TEST_CASE(an_encoder_publishes_again_on_the_same_connection_after_it_unpublished) {
  using namespace rtmp::amf0;
  fixture f;
  auto counts = [&] { return f.hooks.with([&] { return std::pair{f.hooks.first_keys, f.hooks.ends}; }); };
  // Given an encoder publishing a key frame on its connection
  raw_client enc{f.server->port()};
  enc.command(0, {make_string("connect"), make_number(1), make_object({{"app", make_string("live")}})});
  enc.command(0, {make_string("createStream"), make_number(2), make_null()});
  enc.command(1, {make_string("publish"), make_number(3), make_null(), make_string("good"), make_string("live")});
  BOOST_REQUIRE(enc.read_until("NetStream.Publish.Start"));
  enc.video(0, {0x17, 1, 0, 0, 0, 1, 2});
  BOOST_REQUIRE(eventually([&] { return counts().first == 1; }));
  // When it stops and starts again without reconnecting
  enc.command(0, {make_string("FCUnpublish"), make_number(4), make_null(), make_string("good")});
  enc.command(0, {make_string("deleteStream"), make_number(5), make_null(), make_number(1)});
  BOOST_REQUIRE(eventually([&] { return counts().second == 1; }));
  BOOST_TEST(!f.hubs.find("hub-good")->publishing());
  enc.forget_read();
  enc.command(0, {make_string("createStream"), make_number(6), make_null()});
  enc.command(1, {make_string("publish"), make_number(7), make_null(), make_string("good"), make_string("live")});
  BOOST_REQUIRE(enc.read_until("NetStream.Publish.Start"));
  enc.video(40, {0x17, 1, 0, 0, 0, 3, 4});
  // Then the second publish is accepted and relayed on the same hub, reported as a publish of its own
  BOOST_TEST(eventually([&] { return counts().first == 2; }), "first key frames reported: " << counts().first);
  BOOST_TEST(f.hubs.find("hub-good")->publishing());
  BOOST_TEST(f.hooks.with([&] { return f.hooks.ended.begin()->second; }) == "unpublished");
  BOOST_TEST(f.server->connection_count() == 1u);
}

BOOST_AUTO_TEST_CASE(an_encoder_that_unpublishes_while_its_key_is_decided_is_never_started) {
  using namespace rtmp::amf0;
  fixture f;
  // Given an encoder whose publish is being decided
  raw_client enc{f.server->port()};
  enc.command(0, {make_string("connect"), make_number(1), make_object({{"app", make_string("live")}})});
  enc.command(0, {make_string("createStream"), make_number(2), make_null()});
  enc.command(1, {make_string("publish"), make_number(3), make_null(), make_string("held"), make_string("live")});
  BOOST_REQUIRE(eventually([&] { return f.hooks.with([&] { return static_cast<bool>(f.hooks.held); }); }));
  // When it stops before the answer, and then the answer accepts it
  enc.command(0, {make_string("FCUnpublish"), make_number(4), make_null(), make_string("held")});
  BOOST_REQUIRE(enc.read_until("_result", 3)); // connect's, createStream's, FCUnpublish's: the stop was read
  f.hooks.with([&] { return f.hooks.held; })();
  // Then the publish is ended at once (the key hears of it), and nothing publishes to the hub
  BOOST_TEST(eventually([&] { return f.hooks.with([&] { return f.hooks.ends; }) == 1; }));
  BOOST_TEST(f.hooks.with([&] { return f.hooks.ended.begin()->second; }) == "unpublished before the publish was accepted");
  BOOST_TEST(!f.hubs.find("hub-good")->publishing());
  BOOST_TEST(f.server->connection_count() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
