#pragma once
// Black-box harness for tests of the real `onair` binary: temp folders, child processes, a small
// HTTP/1.1 client, and `onair serve` in the background awaited through its server.json.
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

extern char** environ;

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

namespace onair::test_harness {

inline constexpr auto process_deadline = 60s;
inline constexpr auto start_deadline = 60s;

class temp_dir {
public:
  temp_dir() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    path_ = fs::temp_directory_path() /
            ("onair-cli-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  [[nodiscard]] const fs::path& path() const { return path_; }
  [[nodiscard]] std::string str() const { return path_.string(); }

private:
  fs::path path_;
};

inline std::string read_file(const fs::path& p) {
  std::ifstream in{p};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The child's environment: ours without any ONAIR_* (so the host cannot leak settings in), plus extras.
inline std::vector<std::string> child_environment(const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e)
    if (std::strncmp(*e, "ONAIR_", 6) != 0)
      env.emplace_back(*e);
  for (const auto& [k, v] : extra)
    env.push_back(k + "=" + v);
  return env;
}

struct spawn_options {
  std::vector<std::pair<std::string, std::string>> env;
};

// Starts ONAIR_BINARY with args, stdout and stderr into files. Returns the pid.
// Starts argv[0] (a path, or with search_path a name looked up on PATH) with stdin from /dev/null
// and stdout/stderr into files.
inline pid_t spawn_program(std::vector<std::string> argv_s, const fs::path& out, const fs::path& err,
                           const std::vector<std::string>& env_s, bool search_path = false) {
  std::vector<char*> argv;
  for (auto& a : argv_s)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  auto env_copy = env_s;
  std::vector<char*> envp;
  for (auto& e : env_copy)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = -1;
  const int rc = search_path ? posix_spawnp(&pid, argv_s[0].c_str(), &fa, nullptr, argv.data(), envp.data())
                             : posix_spawn(&pid, argv_s[0].c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  BOOST_REQUIRE_MESSAGE(rc == 0, "cannot start " << argv_s[0] << ": " << std::strerror(rc));
  return pid;
}

inline pid_t spawn_onair(const std::vector<std::string>& args, const fs::path& out, const fs::path& err,
                         const spawn_options& opts = {}) {
  std::vector<std::string> argv_s{ONAIR_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  return spawn_program(std::move(argv_s), out, err, child_environment(opts.env));
}

// The exit code of pid (128+signal when killed by one), or nothing once the deadline passed.
inline std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    int st = 0;
    const pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == pid)
      return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (r < 0)
      return -1;
    if (std::chrono::steady_clock::now() >= until)
      return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
}

// A child that is killed and reaped when the guard goes, whatever the test did.
class child_guard {
public:
  explicit child_guard(pid_t pid = -1) : pid_(pid) {}
  ~child_guard() { kill_now(); }
  child_guard(const child_guard&) = delete;
  child_guard& operator=(const child_guard&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  void reaped() { pid_ = -1; }
  void kill_now() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
      pid_ = -1;
    }
  }

private:
  pid_t pid_;
};

struct run_result {
  int code = -1;
  std::string out;
  std::string err;
};

inline std::ostream& operator<<(std::ostream& os, const run_result& r) {
  return os << "exit " << r.code << "\n--- stdout\n" << r.out << "\n--- stderr\n" << r.err;
}

// Runs `onair args...` to completion (killed past the deadline).
inline run_result run_onair(const std::vector<std::string>& args, const spawn_options& opts = {}) {
  temp_dir io;
  const auto out = io.path() / "stdout", err = io.path() / "stderr";
  child_guard child{spawn_onair(args, out, err, opts)};
  auto code = wait_exit(child.pid(), process_deadline);
  if (code)
    child.reaped();
  else
    child.kill_now();
  run_result r{code.value_or(-1), read_file(out), read_file(err)};
  BOOST_REQUIRE_MESSAGE(code.has_value(), "onair did not finish in time: " << r);
  return r;
}

// ---- a tiny HTTP/1.1 client
struct http_reply {
  int status = 0;
  std::string head;
  std::string body;
};

// Every exchange with a running `onair serve`, one JSON line each, appended to the file named by
// ONAIR_API_EXCHANGES (unset: nothing is kept). tests/api/contract/validate.mjs checks them against
// /openapi.json. In-process test servers are left out: their routes are the test's, not the API's.
class exchange_log {
public:
  static exchange_log& instance() {
    static exchange_log log;
    return log;
  }
  ~exchange_log() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  exchange_log(const exchange_log&) = delete;
  exchange_log& operator=(const exchange_log&) = delete;

  // A port can serve again after a restart: each serving() is undone by one gone().
  void serving(int port) {
    const std::lock_guard lock{mutex_};
    onair_ports_.insert(port);
  }
  void gone(int port) {
    const std::lock_guard lock{mutex_};
    if (auto it = onair_ports_.find(port); it != onair_ports_.end())
      onair_ports_.erase(it);
  }

  void record(int port, const std::string& method, const std::string& target,
              const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body,
              const http_reply& reply) {
    if (fd_ < 0)
      return;
    {
      const std::lock_guard lock{mutex_};
      if (!onair_ports_.contains(port))
        return;
    }
    json line{{"test", current_test()}, {"method", method}, {"target", target}};
    auto& request_headers = line["requestHeaders"] = json::object();
    for (const auto& [k, v] : headers)
      request_headers[lower(k)] = v;
    line["requestBody"] = body;
    line["status"] = reply.status;
    auto& response_headers = line["responseHeaders"] = json::object();
    std::istringstream in{reply.head};
    std::string field;
    std::getline(in, field); // the status line
    while (std::getline(in, field)) {
      if (!field.empty() && field.back() == '\r')
        field.pop_back();
      const auto colon = field.find(':');
      if (colon == std::string::npos)
        continue;
      const auto name = lower(field.substr(0, colon));
      const auto v = field.find_first_not_of(' ', colon + 1);
      const auto value = v == std::string::npos ? std::string{} : field.substr(v);
      auto& slot = response_headers[name];
      slot = slot.is_string() ? slot.get<std::string>() + ", " + value : value;
    }
    // Media bytes (video, playlists, pages, scripts) are not schema material: only their size is kept.
    const auto type = response_headers.value("content-type", "");
    const auto media = lower(type.substr(0, type.find(';')));
    const bool text = media.ends_with("json") || media == "text/event-stream" || media == "text/plain";
    if (text)
      line["responseBody"] = reply.body;
    line["responseBytes"] = reply.body.size();
    auto bytes = line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    // One write per line on an O_APPEND descriptor: lines from threads and processes never interleave.
    for (std::size_t done = 0; done < bytes.size();) {
      const auto n = ::write(fd_, bytes.data() + done, bytes.size() - done);
      BOOST_REQUIRE_MESSAGE(n > 0, "cannot append to ONAIR_API_EXCHANGES: " << std::strerror(errno));
      done += static_cast<std::size_t>(n);
    }
  }

private:
  exchange_log() {
    if (const char* path = std::getenv("ONAIR_API_EXCHANGES"); path && *path) {
      fd_ = ::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (fd_ < 0)
        throw std::system_error{errno, std::generic_category(), std::string{"ONAIR_API_EXCHANGES "} + path};
    }
  }

  static std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
  }
  static std::string current_test() {
    namespace utf = boost::unit_test;
    return utf::framework::test_in_progress() ? utf::framework::current_test_case().full_name() : std::string{};
  }

  std::mutex mutex_;
  std::multiset<int> onair_ports_;
  int fd_ = -1;
};

// A TCP connection to host:port (an IPv4 literal) whose sends and receives time out after 10 s;
// send_buffer > 0 sets SO_SNDBUF before connecting. The caller closes it.
inline int connect_tcp(const std::string& host, int port, int send_buffer = 0) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  BOOST_REQUIRE(fd >= 0);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (send_buffer > 0)
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  BOOST_REQUIRE(::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) == 1);
  BOOST_REQUIRE_MESSAGE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0,
                        "connect " << host << ":" << port << ": " << std::strerror(errno));
  return fd;
}

inline http_reply http_call(const std::string& host, int port, const std::string& method, const std::string& path,
                     const std::vector<std::pair<std::string, std::string>>& headers = {},
                     const std::string& body = {}) {
  const int fd = connect_tcp(host, port);
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } close_fd{fd};
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
                    "\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  for (const auto& [k, v] : headers)
    req += k + ": " + v + "\r\n";
  req += "\r\n";
  req += body;
  BOOST_REQUIRE(::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
  std::string resp;
  char buf[4096];
  for (;;) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0)
      break;
    resp.append(buf, static_cast<std::size_t>(n));
  }
  const auto head_end = resp.find("\r\n\r\n");
  BOOST_REQUIRE_MESSAGE(resp.rfind("HTTP/1.", 0) == 0 && head_end != std::string::npos,
                        "not an HTTP answer: '" << resp << "'");
  http_reply r;
  r.status = std::atoi(resp.c_str() + 9);
  r.head = resp.substr(0, head_end);
  r.body = resp.substr(head_end + 4);
  exchange_log::instance().record(port, method, path, headers, body, r);
  return r;
}

// ---- `onair serve` in the background
struct endpoint {
  std::string host;
  int port = 0;
};

inline endpoint parse_endpoint(const std::string& hostport) {
  const auto colon = hostport.rfind(':');
  BOOST_REQUIRE(colon != std::string::npos);
  return {hostport.substr(0, colon), std::stoi(hostport.substr(colon + 1))};
}

class server_process {
public:
  explicit server_process(const fs::path& data_dir, std::vector<std::string> extra_args = {},
                          spawn_options opts = {}, bool with_data_dir_flag = true)
      : data_dir_(data_dir), out_(io_.path() / "stdout"), err_(io_.path() / "stderr") {
    std::vector<std::string> args{"serve"};
    if (with_data_dir_flag) {
      args.push_back("--data-dir");
      args.push_back(data_dir.string());
    }
    // Port 0 on 127.0.0.1 unless the test chose the address some other way.
    const auto named = [&](const char* flag) {
      return std::find(extra_args.begin(), extra_args.end(), flag) != extra_args.end();
    };
    if (!named("--http-listen") && !named("--config") && !has_listen_setting(opts)) {
      args.push_back("--http-listen");
      args.push_back("127.0.0.1:0");
    }
    if (!named("--rtmp-listen") && !named("--config") && !has_rtmp_setting(opts)) {
      args.push_back("--rtmp-listen");
      args.push_back("127.0.0.1:0");
    }
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    child_ = std::make_unique<child_guard>(spawn_onair(args, out_, err_, opts));
  }
  ~server_process() { unlog(); }
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  // Waits for server.json and the "serving" banner (printed after any first app), then reads the address.
  void wait_ready() {
    const auto until = std::chrono::steady_clock::now() + start_deadline;
    const auto info_path = data_dir_ / "server.json";
    for (;;) {
      if (fs::exists(info_path) && contains(stdout_text(), "onair is serving"))
        break;
      int st = 0;
      if (::waitpid(child_->pid(), &st, WNOHANG) == child_->pid()) {
        child_->reaped();
        BOOST_FAIL("onair serve exited before it was ready:\n" << stdout_text() << "\n" << stderr_text());
      }
      if (std::chrono::steady_clock::now() >= until)
        BOOST_FAIL("onair serve not ready in time:\n" << stdout_text() << "\n" << stderr_text());
      std::this_thread::sleep_for(10ms);
    }
    info_ = json::parse(read_file(info_path));
    BOOST_REQUIRE(info_.contains("http") && info_["http"].is_string());
    http_ = parse_endpoint(info_["http"].get<std::string>());
    BOOST_REQUIRE_GT(http_.port, 0);
    unlog();
    exchange_log::instance().serving(logged_port_ = http_.port);
  }

  // SIGTERM and the exit code.
  int stop() {
    unlog();
    ::kill(child_->pid(), SIGTERM);
    auto code = wait_exit(child_->pid(), process_deadline);
    BOOST_REQUIRE_MESSAGE(code.has_value(), "onair serve did not stop on SIGTERM:\n" << stderr_text());
    child_->reaped();
    return *code;
  }

  // SIGKILL: no cleanup, server.json and admin.token stay behind.
  void kill_hard() {
    unlog();
    child_->kill_now();
  }

  http_reply get(const std::string& path, const std::vector<std::pair<std::string, std::string>>& headers = {}) const {
    return http_call(http_.host, http_.port, "GET", path, headers);
  }

  [[nodiscard]] const json& info() const { return info_; }
  [[nodiscard]] const endpoint& http() const { return http_; }
  [[nodiscard]] std::string stdout_text() const { return read_file(out_); }
  [[nodiscard]] std::string stderr_text() const { return read_file(err_); }

private:
  void unlog() {
    if (logged_port_ > 0)
      exchange_log::instance().gone(std::exchange(logged_port_, 0));
  }
  static bool has_env(const spawn_options& opts, const char* a, const char* b) {
    for (const auto& [k, v] : opts.env)
      if (k == a || k == b)
        return true;
    return false;
  }
  static bool has_listen_setting(const spawn_options& opts) { return has_env(opts, "ONAIR_HTTP_LISTEN", "ONAIR_CONFIG"); }
  static bool has_rtmp_setting(const spawn_options& opts) { return has_env(opts, "ONAIR_RTMP_LISTEN", "ONAIR_CONFIG"); }

  fs::path data_dir_;
  temp_dir io_;
  fs::path out_, err_;
  std::unique_ptr<child_guard> child_;
  json info_;
  endpoint http_;
  int logged_port_ = 0; // the port exchange_log records answers from
};

// The value after `label` on a line of the text output ("  apiSecret: XYZ"), empty when absent.
// ---- the REST API as an app sees it
inline std::string base64(const std::string& in) {
  static constexpr char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (const unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += table[(acc >> bits) & 63];
    }
  }
  if (bits > 0)
    out += table[(acc << (6 - bits)) & 63];
  while (out.size() % 4 != 0)
    out += '=';
  return out;
}

inline std::string basic_auth(const std::string& key, const std::string& secret) {
  return "Basic " + base64(key + ":" + secret);
}

// A header's value in a response head (case-insensitive name), empty when absent.
inline std::string header_of(const std::string& head, std::string name) {
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  std::istringstream in{head};
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    const auto colon = line.find(':');
    if (colon == std::string::npos)
      continue;
    auto k = line.substr(0, colon);
    std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
    if (k == name) {
      const auto v = line.find_first_not_of(' ', colon + 1);
      return v == std::string::npos ? std::string{} : line.substr(v);
    }
  }
  return {};
}
inline std::string header_of(const http_reply& r, const std::string& name) { return header_of(r.head, name); }

// 2026-11-24T09:30:00.000Z
inline bool is_iso_ms(const json& v) {
  if (!v.is_string())
    return false;
  const auto& s = v.get_ref<const std::string&>();
  return s.size() == 24 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' &&
         s[19] == '.' && s.back() == 'Z';
}

using headers_t = std::vector<std::pair<std::string, std::string>>;

struct api_reply {
  int status = 0;
  std::string head;
  json body; // discarded when not JSON
  std::string raw;
  [[nodiscard]] std::string header(const std::string& name) const { return header_of(head, name); }
};
inline std::ostream& operator<<(std::ostream& os, const api_reply& r) { return os << r.status << " " << r.raw; }

// One app's (or member's) view of a running server: full paths, its Authorization header.
struct api_client {
  endpoint http;
  std::string authorization; // empty: none sent

  api_client(endpoint e, std::string auth) : http(std::move(e)), authorization(std::move(auth)) {}
  api_client(endpoint e, const std::string& key, const std::string& secret)
      : http(std::move(e)), authorization(basic_auth(key, secret)) {}

  [[nodiscard]] api_reply call(const std::string& method, const std::string& path, const std::string& body = {},
                               headers_t extra = {}, bool with_auth = true) const {
    headers_t h;
    if (with_auth && !authorization.empty())
      h.emplace_back("Authorization", authorization);
    if (!body.empty())
      h.emplace_back("Content-Type", "application/json");
    h.insert(h.end(), extra.begin(), extra.end());
    auto r = http_call(http.host, http.port, method, path, h, body);
    return api_reply{r.status, r.head, json::parse(r.body, nullptr, false), r.body};
  }
  [[nodiscard]] api_reply get(const std::string& path, headers_t extra = {}) const {
    return call("GET", path, {}, std::move(extra));
  }
  [[nodiscard]] api_reply post(const std::string& path, const json& body, headers_t extra = {}) const {
    return call("POST", path, body.is_null() ? std::string{} : body.dump(), std::move(extra));
  }
  [[nodiscard]] api_reply patch(const std::string& path, const json& body, headers_t extra = {}) const {
    return call("PATCH", path, body.dump(), std::move(extra));
  }
  [[nodiscard]] api_reply del(const std::string& path) const { return call("DELETE", path); }

  // A member through the members API (the product's own path).
  json member(const std::string& app_user_id) const {
    auto r = post("/v2/apps/me/members", json{{"appUserId", app_user_id}, {"appUserName", "Name of " + app_user_id}});
    BOOST_REQUIRE_MESSAGE(r.status == 201 || r.status == 200, "member " << app_user_id << ": " << r);
    return r.body;
  }
  json room(const std::string& owner, const std::string& title = "Launch") const {
    auto r = post("/v2/apps/me/video-rooms", room_body(owner, title));
    BOOST_REQUIRE_MESSAGE(r.status == 201, "room: " << r);
    return r.body;
  }
  static json room_body(const std::string& owner, const std::string& title = "Launch") {
    return json{{"type", "BROADCAST_RTMP"},
                {"title", title},
                {"appUserId", owner},
                {"scheduledAt", "2026-11-24T09:30:00.000Z"}};
  }
};

// The error body of api.md: status, code, message and the field where one is named.
inline void check_error(const api_reply& r, int status, const std::string& code, const std::string& field = {}) {
  BOOST_TEST(r.status == status, "expected " << status << " " << code << ", got " << r);
  BOOST_REQUIRE_MESSAGE(r.body.is_object(), "error body is not a JSON object: " << r);
  BOOST_TEST(r.body.value("errorCode", "") == code, r);
  BOOST_TEST(r.body.value("status", 0) == status, r);
  BOOST_TEST(!r.body.value("errorMessage", "").empty(), r);
  if (!field.empty())
    BOOST_TEST(r.body.value("field", "") == field, "the error does not name " << field << ": " << r);
}

inline std::string printed_value(const std::string& out, const std::string& label) {
  std::istringstream in{out};
  std::string line;
  while (std::getline(in, line)) {
    const auto b = line.find_first_not_of(' ');
    if (b == std::string::npos || line.compare(b, label.size(), label) != 0)
      continue;
    const auto v = line.find_first_not_of(' ', b + label.size());
    return v == std::string::npos ? std::string{} : line.substr(v);
  }
  return {};
}

inline json parse_json_output(const run_result& r) {
  auto j = json::parse(r.out, nullptr, false);
  BOOST_REQUIRE_MESSAGE(!j.is_discarded(), "not JSON: " << r);
  return j;
}

inline json create_app(const fs::path& data_dir, const std::string& name) {
  auto r = run_onair({"app", "create", "--name", name, "--json", "--data-dir", data_dir.string()});
  BOOST_REQUIRE_MESSAGE(r.code == 0, r);
  auto app = parse_json_output(r);
  BOOST_TEST(app["name"] == name);
  return app;
}

inline json list_apps(const fs::path& data_dir) {
  auto r = run_onair({"app", "list", "--json", "--data-dir", data_dir.string()});
  BOOST_REQUIRE_MESSAGE(r.code == 0, r);
  auto apps = parse_json_output(r);
  BOOST_REQUIRE(apps.is_array());
  return apps;
}

} // namespace onair::test_harness
