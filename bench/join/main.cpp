// Time to first frame while Start/End Live flows run. One live stream is on (the run script
// publishes it with the ffmpeg CLI); viewers join it one after the other, RTMP play and HTTP-FLV
// GET in turn, each timed from connect() to its first video frame (the GOP cache's key frame).
// First with nothing else going on (the baseline), then while `--flows` workers each drive
// broadcasts of their own through the REST API, back to back:
//
//   publish (RTMP, a sequence header and a key frame) → key ACTIVE → create a room → Start Live
//   → the publisher leaves → key INACTIVE_LIVE → End Live → again
//
// so Start Live and End Live flows, and the publishers' connects, viewables and disconnects, are
// always in flight on the server, as many at once as there are workers.
//
//   bench_join --api http://H:P --auth "Basic …" --ingest rtmp://H:P/live --clip tiny.flv
//              --play-rtmp URL --play-flv URL [--flows 100] [--seconds 30] [--every-ms 50]
//              [--warmup 3]
// Prints RESULT lines (key=value) for the run script to tabulate.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "media/flv/tag.hpp"
#include "media/rtmp/amf0.hpp"
#include "media/rtmp/chunk.hpp"
#include "media/rtmp/handshake.hpp"

namespace {

namespace rtmp = onair::media::rtmp;
namespace amf0 = onair::media::rtmp::amf0;
namespace flv = onair::media::flv;
using bytes = std::vector<std::uint8_t>;
using json = nlohmann::json;
using steady = std::chrono::steady_clock;

double ms_since(steady::time_point t0) { return std::chrono::duration<double, std::milli>(steady::now() - t0).count(); }

struct url {
  std::string host;
  std::uint16_t port = 0;
  std::string path; // "/app/name" or "/play/x.flv"
  std::string app, name;
};

// rtmp://H:P/app/name or http://H:P/path
std::optional<url> parse_url(const std::string& s) {
  const auto scheme = s.find("://");
  if (scheme == std::string::npos)
    return std::nullopt;
  const auto slash = s.find('/', scheme + 3);
  const std::string hostport = s.substr(scheme + 3, slash - scheme - 3);
  const auto colon = hostport.rfind(':');
  if (colon == std::string::npos)
    return std::nullopt;
  url u;
  u.host = hostport.substr(0, colon);
  u.port = static_cast<std::uint16_t>(std::stoi(hostport.substr(colon + 1)));
  u.path = slash == std::string::npos ? "/" : s.substr(slash);
  const auto second = u.path.find('/', 1);
  u.app = u.path.substr(1, second == std::string::npos ? std::string::npos : second - 1);
  u.name = second == std::string::npos ? "" : u.path.substr(second + 1);
  return u;
}

// ---------------------------------------------------------------- a blocking socket with deadlines
class conn {
public:
  conn() = default;
  conn(const conn&) = delete;
  conn& operator=(const conn&) = delete;
  ~conn() { close(); }

  bool open(const url& u, steady::time_point deadline) {
    close();
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0)
      return fail("socket");
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(u.port);
    ::inet_pton(AF_INET, u.host.c_str(), &a.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      if (errno != EINPROGRESS)
        return fail("connect");
      if (!wait(POLLOUT, deadline))
        return false;
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        errno = err;
        return fail("connect");
      }
    }
    return true;
  }
  void close() {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }
  [[nodiscard]] bool is_open() const { return fd_ >= 0; }

  bool send_all(std::span<const std::uint8_t> b, steady::time_point deadline) {
    while (!b.empty()) {
      const ssize_t n = ::send(fd_, b.data(), b.size(), MSG_NOSIGNAL);
      if (n > 0) {
        b = b.subspan(static_cast<std::size_t>(n));
      } else if (n < 0 && errno == EAGAIN) {
        if (!wait(POLLOUT, deadline))
          return false;
      } else {
        return fail("send");
      }
    }
    return true;
  }
  bool send_all(const std::string& s, steady::time_point deadline) {
    return send_all({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}, deadline);
  }
  // Appends what arrives to `to`; false on EOF, error or the deadline.
  bool recv_some(bytes& to, steady::time_point deadline) {
    std::uint8_t buf[64 * 1024];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        to.insert(to.end(), buf, buf + n);
        return true;
      }
      if (n == 0) {
        error_ = "closed by the server";
        return false;
      }
      if (errno != EAGAIN && errno != EINTR)
        return fail("recv");
      if (!wait(POLLIN, deadline))
        return false;
    }
  }
  [[nodiscard]] const std::string& error() const { return error_; }

private:
  bool wait(short what, steady::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
    if (left <= 0) {
      error_ = "timed out";
      return false;
    }
    pollfd p{fd_, what, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left));
    if (r == 0) {
      error_ = "timed out";
      return false;
    }
    return r > 0 || fail("poll");
  }
  bool fail(const char* what) {
    error_ = std::string{what} + ": " + std::strerror(errno);
    return false;
  }

  int fd_ = -1;
  std::string error_;
};

// ---------------------------------------------------------------- HTTP/1.1 (keep-alive) client
struct http_reply {
  int status = 0;
  std::string body;
};

class http_client {
public:
  http_client(url base, std::string auth) : base_{std::move(base)}, auth_{std::move(auth)} {}

  std::optional<http_reply> call(const std::string& method, const std::string& path, const std::string& body = {}) {
    for (int attempt = 0; attempt < 2; ++attempt) { // a keep-alive connection the server closed: once more
      const auto deadline = steady::now() + std::chrono::seconds(30);
      if (!c_.is_open() && !c_.open(base_, deadline))
        continue;
      std::string req = method + " " + path + " HTTP/1.1\r\nHost: " + base_.host + "\r\nAuthorization: " + auth_ +
                        "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
      if (!body.empty())
        req += "Content-Type: application/json\r\n";
      req += "\r\n" + body;
      if (!c_.send_all(req, deadline)) {
        c_.close();
        continue;
      }
      if (auto r = read_reply(deadline))
        return r;
      c_.close();
    }
    error_ = c_.error();
    return std::nullopt;
  }
  [[nodiscard]] const std::string& error() const { return error_; }

private:
  std::optional<http_reply> read_reply(steady::time_point deadline) {
    std::size_t head_end = std::string::npos;
    while ((head_end = find(in_, "\r\n\r\n")) == std::string::npos)
      if (!c_.recv_some(in_, deadline))
        return std::nullopt;
    std::string head(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(head_end));
    in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(head_end + 4));
    http_reply r;
    if (head.size() < 12)
      return std::nullopt;
    r.status = std::stoi(head.substr(9, 3));
    std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
    if (head.find("transfer-encoding: chunked") != std::string::npos) {
      for (;;) {
        std::size_t eol = 0;
        while ((eol = find(in_, "\r\n")) == std::string::npos)
          if (!c_.recv_some(in_, deadline))
            return std::nullopt;
        const std::size_t n = std::stoul(std::string(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(eol)), nullptr, 16);
        while (in_.size() < eol + 2 + n + 2)
          if (!c_.recv_some(in_, deadline))
            return std::nullopt;
        r.body.append(in_.begin() + static_cast<std::ptrdiff_t>(eol + 2),
                      in_.begin() + static_cast<std::ptrdiff_t>(eol + 2 + n));
        in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(eol + 2 + n + 2));
        if (n == 0)
          break;
      }
    } else {
      std::size_t len = 0;
      if (const auto at = head.find("content-length:"); at != std::string::npos)
        len = std::stoul(head.substr(at + 15));
      while (in_.size() < len)
        if (!c_.recv_some(in_, deadline))
          return std::nullopt;
      r.body.assign(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(len));
      in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(len));
    }
    if (head.find("connection: close") != std::string::npos)
      c_.close();
    return r;
  }
  static std::size_t find(const bytes& b, std::string_view what) {
    const auto it = std::search(b.begin(), b.end(), what.begin(), what.end());
    return it == b.end() ? std::string::npos : static_cast<std::size_t>(it - b.begin());
  }

  url base_;
  std::string auth_;
  conn c_;
  bytes in_;
  std::string error_;
};

// ---------------------------------------------------------------- RTMP client steps
constexpr std::uint32_t out_chunk = 4096;

void command(bytes& out, std::uint32_t stream_id, const std::vector<amf0::value>& v) {
  bytes body;
  amf0::encode_all(body, v);
  rtmp::write_message(out, 3, rtmp::msg_type::command_amf0, stream_id, 0, body, out_chunk);
}

bytes c0c1() {
  bytes b(1 + rtmp::handshake_size, 0);
  b[0] = 3;
  for (std::size_t i = 9; i < b.size(); ++i)
    b[i] = static_cast<std::uint8_t>(i * 31);
  return b; // time 0, version 0: the simple handshake
}

bytes connect_command(const url& u) {
  bytes out;
  const std::uint8_t cs[4] = {0, 0, out_chunk >> 8 & 0xFF, 0};
  rtmp::write_message(out, 2, rtmp::msg_type::set_chunk_size, 0, 0, cs, out_chunk);
  command(out, 0,
          {amf0::make_string("connect"), amf0::make_number(1),
           amf0::make_object({{"app", amf0::make_string(u.app)},
                              {"type", amf0::make_string("nonprivate")},
                              {"flashVer", amf0::make_string("FMLE/3.0 (compatible; onair-bench)")},
                              {"tcUrl", amf0::make_string("rtmp://" + u.host + ":" + std::to_string(u.port) + "/" + u.app)}})});
  return out;
}

// An RTMP session up to the point where the caller's commands take over: handshake and connect
// sent; `next` hands every message read after that to the caller until it says stop.
class rtmp_client {
public:
  // The handshake, then connect; false (with error()) on failure.
  bool start(const url& u, steady::time_point deadline) {
    if (!c_.open(u, deadline) || !c_.send_all(c0c1(), deadline))
      return false;
    constexpr std::size_t s = 1 + 2 * rtmp::handshake_size;
    while (in_.size() < s)
      if (!c_.recv_some(in_, deadline))
        return false;
    bytes out(in_.begin() + 1, in_.begin() + 1 + static_cast<std::ptrdiff_t>(rtmp::handshake_size)); // C2 = S1
    in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(s));
    const bytes cmd = connect_command(u);
    out.insert(out.end(), cmd.begin(), cmd.end());
    return c_.send_all(out, deadline);
  }
  // Calls on(message) for each message until it returns false; false on a read failure.
  template <class F>
  bool read_until(F&& on, steady::time_point deadline) {
    for (;;) {
      while (!in_.empty()) {
        auto r = reader_.consume(in_);
        if (!r.error.empty()) {
          error_ = r.error;
          return false;
        }
        in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(r.used));
        for (const auto& m : r.messages)
          if (!on(m))
            return true;
        if (r.used == 0)
          break;
      }
      if (!c_.recv_some(in_, deadline))
        return false;
    }
  }
  bool send(const bytes& b, steady::time_point deadline) { return c_.send_all(b, deadline); }
  [[nodiscard]] std::string error() const { return error_.empty() ? c_.error() : error_; }
  void close() { c_.close(); }

private:
  conn c_;
  bytes in_;
  rtmp::chunk_reader reader_;
  std::string error_;
};

struct command_seen {
  std::string name;
  double txn = 0;
  std::vector<amf0::value> values;
};
std::optional<command_seen> as_command(const rtmp::message& m) {
  if (m.type_id != rtmp::msg_type::command_amf0)
    return std::nullopt;
  auto d = amf0::decode_all(m.bytes());
  if (d.values.size() < 2 || !d.values[0].is_string())
    return std::nullopt;
  return command_seen{d.values[0].string, d.values[1].number, std::move(d.values)};
}
bool refused(const command_seen& c, std::string& why) {
  if (c.name == "_error" || (c.name == "onStatus" && c.values.size() >= 4 && c.values[3].get_string("level") == "error")) {
    why = "refused: " + (c.values.size() >= 4 ? c.values[3].get_string("code") : c.name);
    return true;
  }
  return false;
}

// A frame, not a sequence header: legacy AVC NALU packet (or any non-AVC video).
bool is_frame(std::span<const std::uint8_t> v) { return v.size() >= 2 && !((v[0] & 0x0F) == 7 && v[1] != 1); }

// ---------------------------------------------------------------- joins
struct join_result {
  bool ok = false;
  double ms = 0;
  std::string error;
};

join_result join_rtmp(const url& u) {
  const auto t0 = steady::now();
  const auto deadline = t0 + std::chrono::seconds(15);
  rtmp_client c;
  join_result out;
  if (!c.start(u, deadline))
    return {false, 0, c.error()};
  bool got = false;
  const bool read = c.read_until(
      [&](const rtmp::message& m) {
        if (m.type_id == rtmp::msg_type::video && is_frame(m.bytes())) {
          got = true;
          out.ms = ms_since(t0);
          return false;
        }
        auto cmd = as_command(m);
        if (!cmd)
          return true;
        if (refused(*cmd, out.error))
          return false;
        bytes next;
        if (cmd->name == "_result" && cmd->txn == 1) {
          command(next, 0, {amf0::make_string("createStream"), amf0::make_number(2), amf0::make_null()});
        } else if (cmd->name == "_result" && cmd->txn == 2 && cmd->values.size() >= 4) {
          const auto sid = static_cast<std::uint32_t>(cmd->values[3].number);
          command(next, sid, {amf0::make_string("play"), amf0::make_number(0), amf0::make_null(),
                              amf0::make_string(u.name), amf0::make_number(-1000)});
        }
        return next.empty() || c.send(next, deadline);
      },
      deadline);
  out.ok = got;
  if (!got && out.error.empty())
    out.error = read ? "no frame" : c.error();
  return out;
}

join_result join_flv(const url& u) {
  const auto t0 = steady::now();
  const auto deadline = t0 + std::chrono::seconds(15);
  conn c;
  if (!c.open(u, deadline) ||
      !c.send_all("GET " + u.path + " HTTP/1.1\r\nHost: " + u.host + "\r\nUser-Agent: onair-bench\r\n\r\n", deadline))
    return {false, 0, c.error()};
  bytes in;
  std::size_t head_end = std::string::npos;
  const std::string_view crlf2 = "\r\n\r\n";
  while ((head_end = static_cast<std::size_t>(std::search(in.begin(), in.end(), crlf2.begin(), crlf2.end()) - in.begin())) == in.size())
    if (!c.recv_some(in, deadline))
      return {false, 0, c.error()};
  std::string head(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(head_end));
  if (head.rfind("HTTP/1.1 200", 0) != 0)
    return {false, 0, head.substr(0, head.find('\r'))};
  std::transform(head.begin(), head.end(), head.begin(), [](unsigned char ch) { return std::tolower(ch); });
  const bool chunked = head.find("transfer-encoding: chunked") != std::string::npos;
  in.erase(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(head_end + 4));
  bytes body;
  flv::reader reader;
  for (;;) {
    if (!chunked) {
      body.insert(body.end(), in.begin(), in.end());
      in.clear();
    } else {
      // Whole chunks only: "<hex>\r\n" data "\r\n".
      for (;;) {
        const std::string_view eol = "\r\n";
        const auto at = std::search(in.begin(), in.end(), eol.begin(), eol.end());
        if (at == in.end())
          break;
        const auto line = static_cast<std::size_t>(at - in.begin());
        const std::size_t n = std::stoul(std::string(in.begin(), at), nullptr, 16);
        if (n == 0)
          return {false, 0, "stream ended"};
        if (in.size() < line + 2 + n + 2)
          break;
        body.insert(body.end(), in.begin() + static_cast<std::ptrdiff_t>(line + 2),
                    in.begin() + static_cast<std::ptrdiff_t>(line + 2 + n));
        in.erase(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(line + 2 + n + 2));
      }
    }
    auto r = reader.consume(body);
    if (!r.error.empty())
      return {false, 0, r.error};
    body.erase(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(r.used));
    for (const auto& t : r.tags)
      if (t.type == flv::tag_type::video && is_frame(*t.payload))
        return {true, ms_since(t0), {}};
    if (!c.recv_some(in, deadline))
      return {false, 0, c.error()};
  }
}

// ---------------------------------------------------------------- flows
struct tiny_clip {
  bytes sequence_header, key_frame;
};

std::optional<tiny_clip> load_clip(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  const bytes data{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
  flv::reader r;
  auto res = r.consume(data);
  tiny_clip c;
  for (const auto& t : res.tags) {
    if (t.type != flv::tag_type::video || t.payload->size() < 2)
      continue;
    const auto& p = *t.payload;
    if (c.sequence_header.empty() && (p[0] & 0x0F) == 7 && p[1] == 0)
      c.sequence_header = p;
    else if (c.key_frame.empty() && (p[0] >> 4) == 1 && p[1] == 1)
      c.key_frame = p;
  }
  if (c.sequence_header.empty() || c.key_frame.empty())
    return std::nullopt;
  return c;
}

struct config {
  std::string api, auth, ingest, clip, play_rtmp, play_flv;
  unsigned flows = 100;
  double seconds = 30, warmup = 3;
  int every_ms = 50;
};

struct flow_stats {
  std::mutex mu;
  std::vector<double> start_ms, end_ms;
  std::size_t errors = 0;
  std::string example_error;
  std::atomic<int> in_flight{0}; // Start or End Live calls waiting for their answer
  void error(const std::string& why) {
    std::lock_guard lock{mu};
    ++errors;
    if (example_error.empty())
      example_error = why;
  }
};

class worker {
public:
  worker(const config& cfg, const tiny_clip& clip, flow_stats& stats, std::atomic<bool>& stop, unsigned index)
      : cfg_{cfg}, clip_{clip}, stats_{stats}, stop_{stop}, api_{*parse_url(cfg.api), cfg.auth},
        user_{"join-flows-" + std::to_string(index)} {}

  // The member and its key, before any flow runs.
  bool prepare() {
    auto m = api_.call("POST", "/v2/apps/me/members", json{{"appUserId", user_}, {"appUserName", "Bench " + user_}}.dump());
    if (!m || m->status / 100 != 2)
      return fail("member: " + (m ? m->body : api_.error()));
    auto k = api_.call("GET", "/v2/apps/me/members/" + user_ + "/stream-key");
    if (!k || k->status != 200)
      return fail("stream key: " + (k ? k->body : api_.error()));
    const auto j = json::parse(k->body, nullptr, false);
    if (j.is_discarded() || !j.contains("id") || !j.contains("streamKey"))
      return fail("stream key: " + k->body);
    key_id_ = j["id"].get<std::int64_t>();
    stream_key_ = j["streamKey"].get<std::string>();
    return true;
  }

  void run() {
    while (!stop_.load())
      if (!cycle())
        std::this_thread::sleep_for(std::chrono::milliseconds(100)); // after an error, not to spin
  }

private:
  bool fail(const std::string& why) {
    stats_.error(user_ + ": " + why);
    return false;
  }

  bool publish(rtmp_client& pub) {
    const auto deadline = steady::now() + std::chrono::seconds(30);
    auto u = *parse_url(cfg_.ingest + "/" + stream_key_);
    if (!pub.start(u, deadline))
      return fail("publisher: " + pub.error());
    bytes out;
    command(out, 0, {amf0::make_string("createStream"), amf0::make_number(4), amf0::make_null()});
    if (!pub.send(out, deadline))
      return fail("publisher: " + pub.error());
    std::string why;
    bool started = false;
    pub.read_until(
        [&](const rtmp::message& m) {
          auto c = as_command(m);
          if (!c)
            return true;
          if (refused(*c, why))
            return false;
          if (c->name == "_result" && c->txn == 4 && c->values.size() >= 4) {
            stream_id_ = static_cast<std::uint32_t>(c->values[3].number);
            bytes p;
            command(p, stream_id_, {amf0::make_string("publish"), amf0::make_number(5), amf0::make_null(),
                                    amf0::make_string(stream_key_), amf0::make_string("live")});
            return pub.send(p, deadline);
          }
          if (c->name == "onStatus" && c->values.size() >= 4 &&
              c->values[3].get_string("code") == "NetStream.Publish.Start") {
            started = true;
            return false;
          }
          return true;
        },
        deadline);
    if (!started)
      return fail("publish: " + (why.empty() ? pub.error() : why));
    bytes media;
    rtmp::write_message(media, 6, rtmp::msg_type::video, stream_id_, 0, clip_.sequence_header, out_chunk);
    rtmp::write_message(media, 6, rtmp::msg_type::video, stream_id_, 0, clip_.key_frame, out_chunk);
    return pub.send(media, deadline) || fail("publisher: " + pub.error());
  }

  // Polls the key until it is in `state` (the publisher's effects are asynchronous).
  bool await_key(const std::string& state) {
    const auto deadline = steady::now() + std::chrono::seconds(60);
    while (steady::now() < deadline && !stop_.load()) {
      auto k = api_.call("GET", "/v2/apps/me/stream-keys/" + std::to_string(key_id_));
      if (!k || k->status != 200)
        return fail("stream key: " + (k ? k->body : api_.error()));
      if (k->body.find("\"streamKeyState\":\"" + state + "\"") != std::string::npos)
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return stop_.load() ? false : fail("key never " + state);
  }

  // A Start or End Live call, timed.
  bool flow(const std::string& path, std::vector<double> flow_stats::*into) {
    const auto t0 = steady::now();
    ++stats_.in_flight;
    auto r = api_.call("POST", path);
    --stats_.in_flight;
    const double ms = ms_since(t0);
    if (!r || r->status != 200)
      return fail(path + ": " + (r ? std::to_string(r->status) + " " + r->body : api_.error()));
    std::lock_guard lock{stats_.mu};
    (stats_.*into).push_back(ms);
    return true;
  }

  bool cycle() {
    rtmp_client pub;
    if (!publish(pub) || !await_key("ACTIVE"))
      return false;
    auto room = api_.call("POST", "/v2/apps/me/video-rooms",
                          json{{"type", "BROADCAST_RTMP"}, {"title", "Join bench"}, {"appUserId", user_},
                               {"scheduledAt", "2026-11-24T09:30:00.000Z"}}.dump());
    if (!room || room->status / 100 != 2)
      return fail("room: " + (room ? room->body : api_.error()));
    const auto j = json::parse(room->body, nullptr, false);
    if (j.is_discarded() || !j.contains("id"))
      return fail("room: " + room->body);
    const std::string path = "/v2/apps/me/video-rooms/" + std::to_string(j["id"].get<std::int64_t>()) + "/rtmp-broadcast/state/";
    if (!flow(path + "live", &flow_stats::start_ms))
      return false;
    pub.close();
    if (!await_key("INACTIVE_LIVE"))
      return false;
    return flow(path + "ended", &flow_stats::end_ms);
  }

  const config& cfg_;
  const tiny_clip& clip_;
  flow_stats& stats_;
  std::atomic<bool>& stop_;
  http_client api_;
  std::string user_;
  std::int64_t key_id_ = 0;
  std::string stream_key_;
  std::uint32_t stream_id_ = 1;
};

// ---------------------------------------------------------------- figures
double pct(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  const auto k = std::min(v.size() - 1, static_cast<std::size_t>(p / 100 * static_cast<double>(v.size())));
  return v[k];
}

struct phase_figures {
  std::vector<double> rtmp, flv;
  std::size_t failed = 0;
  std::string example_error;
  std::vector<int> in_flight; // flows awaiting their answer when each join started
};

void report(const char* phase, const phase_figures& f) {
  auto line = [&](const char* kind, const std::vector<double>& v) {
    std::printf("RESULT phase=%s kind=%s n=%zu p50_ms=%.1f p95_ms=%.1f p99_ms=%.1f max_ms=%.1f\n", phase, kind, v.size(),
                pct(v, 50), pct(v, 95), pct(v, 99), v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()));
  };
  line("rtmp", f.rtmp);
  line("flv", f.flv);
  std::vector<double> all = f.rtmp;
  all.insert(all.end(), f.flv.begin(), f.flv.end());
  line("all", all);
  std::vector<double> inflight(f.in_flight.begin(), f.in_flight.end());
  std::printf("RESULT phase=%s kind=joins failed=%zu flows_in_flight_p50=%.0f flows_in_flight_min=%.0f%s%s\n", phase,
              f.failed, pct(inflight, 50), pct(inflight, 0), f.example_error.empty() ? "" : " example_error=",
              f.example_error.c_str());
  std::fflush(stdout);
}

// Joins one after the other, RTMP and HTTP-FLV in turn, one every `every_ms` (or at once when
// the last took longer), for `seconds`.
phase_figures joins(const config& cfg, const url& play_rtmp, const url& play_flv, const flow_stats* flows) {
  phase_figures f;
  const auto end = steady::now() + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(cfg.seconds));
  bool flv_turn = false;
  while (steady::now() < end) {
    const auto next = steady::now() + std::chrono::milliseconds(cfg.every_ms);
    if (flows)
      f.in_flight.push_back(flows->in_flight.load());
    const auto r = flv_turn ? join_flv(play_flv) : join_rtmp(play_rtmp);
    if (r.ok) {
      (flv_turn ? f.flv : f.rtmp).push_back(r.ms);
    } else {
      ++f.failed;
      if (f.example_error.empty())
        f.example_error = std::string{flv_turn ? "flv: " : "rtmp: "} + r.error;
    }
    flv_turn = !flv_turn;
    std::this_thread::sleep_until(next);
  }
  return f;
}

} // namespace

int main(int argc, char** argv) {
  config cfg;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--api")
      cfg.api = v;
    else if (k == "--auth")
      cfg.auth = v;
    else if (k == "--ingest")
      cfg.ingest = v;
    else if (k == "--clip")
      cfg.clip = v;
    else if (k == "--play-rtmp")
      cfg.play_rtmp = v;
    else if (k == "--play-flv")
      cfg.play_flv = v;
    else if (k == "--flows")
      cfg.flows = static_cast<unsigned>(std::stoul(v));
    else if (k == "--seconds")
      cfg.seconds = std::stod(v);
    else if (k == "--warmup")
      cfg.warmup = std::stod(v);
    else if (k == "--every-ms")
      cfg.every_ms = std::stoi(v);
    else {
      std::fprintf(stderr, "bench_join: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  const auto play_rtmp = parse_url(cfg.play_rtmp);
  const auto play_flv = parse_url(cfg.play_flv);
  const auto clip = load_clip(cfg.clip);
  if (!parse_url(cfg.api) || !parse_url(cfg.ingest) || !play_rtmp || !play_flv || !clip) {
    std::fprintf(stderr, "bench_join: needs --api, --auth, --ingest, --clip (with an H.264 key frame), --play-rtmp, --play-flv\n");
    return 2;
  }

  std::printf("baseline: joins for %.0f s, nothing else running\n", cfg.seconds);
  std::fflush(stdout);
  report("baseline", joins(cfg, *play_rtmp, *play_flv, nullptr));

  flow_stats stats;
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<worker>> workers;
  for (unsigned i = 0; i < cfg.flows; ++i) {
    workers.push_back(std::make_unique<worker>(cfg, *clip, stats, stop, i));
    if (!workers.back()->prepare()) {
      std::fprintf(stderr, "bench_join: %s\n", stats.example_error.c_str());
      return 1;
    }
  }
  std::vector<std::thread> threads;
  for (auto& w : workers)
    threads.emplace_back([&w] { w->run(); });
  std::this_thread::sleep_for(std::chrono::duration<double>(cfg.warmup));
  std::size_t start0 = 0, end0 = 0;
  {
    std::lock_guard lock{stats.mu};
    start0 = stats.start_ms.size();
    end0 = stats.end_ms.size();
  }
  std::printf("with flows: %u workers driving Start/End Live, joins for %.0f s\n", cfg.flows, cfg.seconds);
  std::fflush(stdout);
  const auto t0 = steady::now();
  const auto during = joins(cfg, *play_rtmp, *play_flv, &stats);
  const double secs = ms_since(t0) / 1000;
  std::vector<double> start_ms, end_ms;
  {
    std::lock_guard lock{stats.mu};
    start_ms.assign(stats.start_ms.begin() + static_cast<std::ptrdiff_t>(start0), stats.start_ms.end());
    end_ms.assign(stats.end_ms.begin() + static_cast<std::ptrdiff_t>(end0), stats.end_ms.end());
  }
  stop = true;
  report("flows", during);
  std::printf("RESULT kind=flows workers=%u seconds=%.1f start_live=%zu end_live=%zu per_s=%.1f start_p50_ms=%.0f "
              "start_p99_ms=%.0f end_p50_ms=%.0f end_p99_ms=%.0f errors=%zu%s%s\n",
              cfg.flows, secs, start_ms.size(), end_ms.size(), static_cast<double>(start_ms.size() + end_ms.size()) / secs,
              pct(start_ms, 50), pct(start_ms, 99), pct(end_ms, 50), pct(end_ms, 99), stats.errors,
              stats.example_error.empty() ? "" : " example_error=", stats.example_error.c_str());
  std::fflush(stdout);
  for (auto& t : threads)
    t.join();
  return 0;
}
