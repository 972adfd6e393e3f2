// The `onair` binary as an operator meets it: serve, app create/list, rebuild-views, flags,
// settings precedence, the health and admin endpoints. Each test runs the real binary in its own
// temporary folder; no test waits a fixed time: servers are awaited through server.json.
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
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
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

namespace {

constexpr auto process_deadline = 60s;
constexpr auto start_deadline = 60s;

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

std::string read_file(const fs::path& p) {
  std::ifstream in{p};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The child's environment: ours without any ONAIR_* (so the host cannot leak settings in), plus extras.
std::vector<std::string> child_environment(const std::vector<std::pair<std::string, std::string>>& extra) {
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
pid_t spawn_onair(const std::vector<std::string>& args, const fs::path& out, const fs::path& err,
                  const spawn_options& opts = {}) {
  std::vector<std::string> argv_s{ONAIR_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  auto env_s = child_environment(opts.env);
  std::vector<char*> envp;
  for (auto& e : env_s)
    envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv_s[0].c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  BOOST_REQUIRE_MESSAGE(rc == 0, "cannot start " << ONAIR_BINARY << ": " << std::strerror(rc));
  return pid;
}

// The exit code of pid (128+signal when killed by one), or nothing once the deadline passed.
std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds deadline) {
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

std::ostream& operator<<(std::ostream& os, const run_result& r) {
  return os << "exit " << r.code << "\n--- stdout\n" << r.out << "\n--- stderr\n" << r.err;
}

// Runs `onair args...` to completion (killed past the deadline).
run_result run_onair(const std::vector<std::string>& args, const spawn_options& opts = {}) {
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

http_reply http_call(const std::string& host, int port, const std::string& method, const std::string& path,
                     const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  BOOST_REQUIRE(fd >= 0);
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } close_fd{fd};
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  BOOST_REQUIRE(::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) == 1);
  BOOST_REQUIRE_MESSAGE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0,
                        "connect " << host << ":" << port << ": " << std::strerror(errno));
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
                    "\r\nConnection: close\r\nContent-Length: 0\r\n";
  for (const auto& [k, v] : headers)
    req += k + ": " + v + "\r\n";
  req += "\r\n";
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
  return r;
}

// ---- `onair serve` in the background
struct endpoint {
  std::string host;
  int port = 0;
};

endpoint parse_endpoint(const std::string& hostport) {
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
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    child_ = std::make_unique<child_guard>(spawn_onair(args, out_, err_, opts));
  }

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
  }

  // SIGTERM and the exit code.
  int stop() {
    ::kill(child_->pid(), SIGTERM);
    auto code = wait_exit(child_->pid(), process_deadline);
    BOOST_REQUIRE_MESSAGE(code.has_value(), "onair serve did not stop on SIGTERM:\n" << stderr_text());
    child_->reaped();
    return *code;
  }

  // SIGKILL: no cleanup, server.json and admin.token stay behind.
  void kill_hard() { child_->kill_now(); }

  http_reply get(const std::string& path, const std::vector<std::pair<std::string, std::string>>& headers = {}) const {
    return http_call(http_.host, http_.port, "GET", path, headers);
  }

  [[nodiscard]] const json& info() const { return info_; }
  [[nodiscard]] const endpoint& http() const { return http_; }
  [[nodiscard]] std::string stdout_text() const { return read_file(out_); }
  [[nodiscard]] std::string stderr_text() const { return read_file(err_); }

private:
  static bool has_listen_setting(const spawn_options& opts) {
    for (const auto& [k, v] : opts.env)
      if (k == "ONAIR_HTTP_LISTEN" || k == "ONAIR_CONFIG")
        return true;
    return false;
  }

  fs::path data_dir_;
  temp_dir io_;
  fs::path out_, err_;
  std::unique_ptr<child_guard> child_;
  json info_;
  endpoint http_;
};

// The value after `label` on a line of the text output ("  apiSecret: XYZ"), empty when absent.
std::string printed_value(const std::string& out, const std::string& label) {
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

json parse_json_output(const run_result& r) {
  auto j = json::parse(r.out, nullptr, false);
  BOOST_REQUIRE_MESSAGE(!j.is_discarded(), "not JSON: " << r);
  return j;
}

json create_app(const fs::path& data_dir, const std::string& name) {
  auto r = run_onair({"app", "create", "--name", name, "--json", "--data-dir", data_dir.string()});
  BOOST_REQUIRE_MESSAGE(r.code == 0, r);
  auto app = parse_json_output(r);
  BOOST_TEST(app["name"] == name);
  return app;
}

json list_apps(const fs::path& data_dir) {
  auto r = run_onair({"app", "list", "--json", "--data-dir", data_dir.string()});
  BOOST_REQUIRE_MESSAGE(r.code == 0, r);
  auto apps = parse_json_output(r);
  BOOST_REQUIRE(apps.is_array());
  return apps;
}

// No listing ever shows a secret, its hash, salt or the signing key.
void check_no_secrets(const json& apps) {
  for (const auto& a : apps) {
    for (const char* field : {"apiSecret", "secretHash", "secretSalt", "signingKey", "secret", "hash"})
      BOOST_TEST(!a.contains(field), "app list shows " << field << ": " << a.dump());
    BOOST_TEST(a.contains("apiKey"));
    BOOST_TEST(a.contains("id"));
  }
}

std::set<std::string> names_of(const json& apps) {
  std::set<std::string> names;
  for (const auto& a : apps)
    names.insert(a["name"].get<std::string>());
  return names;
}

void check_credentials(const json& app) {
  BOOST_REQUIRE(app.contains("apiKey") && app["apiKey"].is_string());
  BOOST_REQUIRE(app.contains("apiSecret") && app["apiSecret"].is_string());
  BOOST_TEST(!app["apiKey"].get<std::string>().empty());
  BOOST_TEST(app["apiSecret"].get<std::string>().size() >= 32u);
}

} // namespace

BOOST_AUTO_TEST_SUITE(cli)

BOOST_AUTO_TEST_CASE(serve_starts_prints_first_app_once_and_stops_cleanly_on_sigterm) {
  temp_dir dir;
  const auto data = dir.path() / "data";
  std::string first_key;
  {
    server_process srv{data};
    srv.wait_ready();
    const auto out = srv.stdout_text();
    BOOST_TEST(contains(out, "A first app was created"), out);
    first_key = printed_value(out, "apiKey:");
    const auto secret = printed_value(out, "apiSecret:");
    BOOST_TEST(!first_key.empty(), out);
    BOOST_TEST(secret.size() >= 32u, out);
    BOOST_TEST(out.find("apiSecret: ") == out.rfind("apiSecret: "), "the secret is printed more than once:\n" << out);

    BOOST_TEST(srv.http().host == "127.0.0.1");
    BOOST_TEST(srv.info()["pid"].get<int>() > 0);
    auto health = srv.get("/healthz");
    BOOST_TEST(health.status == 200);
    auto body = json::parse(health.body, nullptr, false);
    BOOST_TEST(body == json({{"status", "UP"}}), health.body);
    auto ready = srv.get("/readyz");
    BOOST_TEST(ready.status == 200, ready.body);
    auto ready_body = json::parse(ready.body, nullptr, false);
    BOOST_TEST(ready_body.value("status", "") == "READY", ready.body);
    BOOST_TEST(ready_body.value("eventLogPosition", 0) > 0, ready.body); // the first app is in the log

    BOOST_TEST(srv.stop() == 0, srv.stderr_text());
    BOOST_TEST(!fs::exists(data / "server.json"));
    BOOST_TEST(!fs::exists(data / "admin.token"));
  }
  {
    server_process again{data};
    again.wait_ready();
    const auto out = again.stdout_text();
    BOOST_TEST(!contains(out, "first app"), out);
    BOOST_TEST(printed_value(out, "apiSecret:").empty(), out);
    BOOST_TEST(printed_value(out, "apiKey:").empty(), out);
    BOOST_TEST(again.get("/healthz").status == 200);
    BOOST_TEST(again.stop() == 0, again.stderr_text());
    BOOST_TEST(!fs::exists(data / "server.json"));
  }
  const auto apps = list_apps(data);
  BOOST_TEST(apps.size() == 1u, apps.dump());
  BOOST_TEST(apps[0]["name"] == "first-app");
  BOOST_TEST(apps[0]["apiKey"] == first_key);
  check_no_secrets(apps);
}

BOOST_AUTO_TEST_CASE(app_create_and_list_with_the_server_running_and_stopped) {
  temp_dir dir;
  const auto data = dir.path() / "data";
  json online;
  {
    server_process srv{data};
    srv.wait_ready();
    online = create_app(data, "online-app");
    check_credentials(online);
    // It went through the server (the folder admits one process, so a direct open would fail).
    const auto apps = list_apps(data);
    BOOST_TEST(names_of(apps) == (std::set<std::string>{"first-app", "online-app"}));
    check_no_secrets(apps);
    BOOST_TEST(srv.stop() == 0, srv.stderr_text());
  }
  const auto offline = create_app(data, "offline-app");
  check_credentials(offline);
  BOOST_TEST(online["apiKey"] != offline["apiKey"]);
  BOOST_TEST(online["apiSecret"] != offline["apiSecret"]);
  BOOST_TEST(online["id"] != offline["id"]);

  const auto apps = list_apps(data);
  BOOST_TEST(names_of(apps) == (std::set<std::string>{"first-app", "online-app", "offline-app"}));
  check_no_secrets(apps);
  std::set<std::string> keys;
  for (const auto& a : apps)
    keys.insert(a["apiKey"].get<std::string>());
  BOOST_TEST(keys.size() == apps.size());
  BOOST_TEST(keys.count(online["apiKey"].get<std::string>()) == 1u);
  BOOST_TEST(keys.count(offline["apiKey"].get<std::string>()) == 1u);

  // The text listing shows the names and no secret.
  auto text = run_onair({"app", "list", "--data-dir", data.string()});
  BOOST_REQUIRE_MESSAGE(text.code == 0, text);
  BOOST_TEST(contains(text.out, "online-app"), text.out);
  BOOST_TEST(contains(text.out, "offline-app"), text.out);
  BOOST_TEST(!contains(text.out, online["apiSecret"].get<std::string>()), text.out);
  BOOST_TEST(!contains(text.out, offline["apiSecret"].get<std::string>()), text.out);
}

BOOST_AUTO_TEST_CASE(a_second_server_on_a_busy_folder_is_refused_and_leaves_the_first_alone) {
  temp_dir dir;
  const auto data = dir.path() / "data";
  server_process srv{data};
  srv.wait_ready();
  const auto info = read_file(data / "server.json");
  const auto token = read_file(data / "admin.token");

  auto second = run_onair({"serve", "--data-dir", data.string(), "--http-listen", "127.0.0.1:0"});
  BOOST_TEST(second.code == 1, second);
  BOOST_TEST(read_file(data / "server.json") == info);
  BOOST_TEST(read_file(data / "admin.token") == token);
  BOOST_TEST(srv.get("/healthz").status == 200);
  BOOST_TEST(list_apps(data).size() == 1u);
  BOOST_TEST(srv.stop() == 0);
}

BOOST_AUTO_TEST_CASE(a_killed_server_leaves_files_the_cli_sees_through) {
  temp_dir dir;
  const auto data = dir.path() / "data";
  {
    server_process srv{data};
    srv.wait_ready();
    create_app(data, "before-the-crash");
    srv.kill_hard();
  }
  BOOST_REQUIRE(fs::exists(data / "server.json")); // no cleanup after SIGKILL
  // The pid in server.json is gone: the CLI opens the folder directly.
  BOOST_TEST(names_of(list_apps(data)) == (std::set<std::string>{"first-app", "before-the-crash"}));
  auto rebuilt = run_onair({"rebuild-views", "--data-dir", data.string()});
  BOOST_TEST(rebuilt.code == 0, rebuilt);
  // And a new server takes the folder over without another first app.
  server_process again{data};
  again.wait_ready();
  BOOST_TEST(printed_value(again.stdout_text(), "apiSecret:").empty(), again.stdout_text());
  BOOST_TEST(again.get("/healthz").status == 200);
  BOOST_TEST(list_apps(data).size() == 2u);
  BOOST_TEST(again.stop() == 0);
  BOOST_TEST(!fs::exists(data / "server.json"));
}

BOOST_AUTO_TEST_CASE(admin_endpoint_answers_404_without_the_token) {
  temp_dir dir;
  const auto data = dir.path() / "data";
  server_process srv{data};
  srv.wait_ready();
  const auto token = read_file(data / "admin.token");
  BOOST_REQUIRE(!token.empty());

  BOOST_TEST(srv.get("/v2/admin/apps").status == 404);
  BOOST_TEST(srv.get("/v2/admin/apps", {{"X-Onair-Admin-Token", "not-the-token"}}).status == 404);
  BOOST_TEST(srv.get("/v2/admin/apps", {{"X-Onair-Admin-Token", token + "x"}}).status == 404);
  BOOST_TEST(srv.get("/v2/admin/apps", {{"X-Onair-Admin-Token", ""}}).status == 404);
  auto no_post = http_call(srv.http().host, srv.http().port, "POST", "/v2/admin/apps");
  BOOST_TEST(no_post.status == 404);

  auto ok = srv.get("/v2/admin/apps", {{"X-Onair-Admin-Token", token}});
  BOOST_TEST(ok.status == 200, ok.body);
  auto body = json::parse(ok.body, nullptr, false);
  BOOST_REQUIRE(!body.is_discarded() && body.contains("content"));
  BOOST_TEST(body["content"].size() == 1u);
  check_no_secrets(body["content"]);
  BOOST_TEST(srv.stop() == 0);
}

BOOST_AUTO_TEST_CASE(bad_flags_exit_2_with_a_clear_message) {
  temp_dir dir;
  const auto data = (dir.path() / "data").string();
  struct bad_case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<bad_case> cases{
      {{"serve", "--data-dir", data, "--nope", "x"}, "unknown flag --nope"},
      {{"serve", "--data-dir", data, "--nope"}, "--nope"},
      {{"serve", "--data-dir", data, "--http-listen", "nonsense"}, "http-listen"},
      {{"serve", "--data-dir", data, "--kafka", ""}, "kafka"},
      {{"serve", "--data-dir", data, "stray"}, "unexpected argument 'stray'"},
      {{"app", "create", "--data-dir", data}, "--name"},
      {{"app", "create", "--data-dir", data, "--bogus"}, "unknown option '--bogus'"},
      {{"app", "list", "--data-dir", data, "--name", "x"}, "unknown option '--name'"},
      {{"app", "frobnicate"}, "unknown app command 'frobnicate'"},
      {{"rebuild-views", "--json", "--data-dir", data}, "unknown option '--json'"},
      {{"bogus"}, "unknown command 'bogus'"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("onair " << [&] {
      std::string s;
      for (const auto& a : c.args)
        s += "'" + a + "' ";
      return s;
    }()) {
      auto r = run_onair(c.args);
      BOOST_TEST(r.code == 2, r);
      BOOST_TEST(contains(r.err, "onair: "), r);
      BOOST_TEST(contains(r.err, c.message), r);
      BOOST_TEST(contains(r.err, "--help"), r);
    }
  }
  // None of them touched the data folder.
  BOOST_TEST(!fs::exists(data));
  // No command at all: the overview, exit 2.
  auto none = run_onair({});
  BOOST_TEST(none.code == 2, none);
  BOOST_TEST(contains(none.out, "Usage: onair COMMAND"), none);
}

BOOST_AUTO_TEST_CASE(help_exits_0_and_names_every_option) {
  struct help_case {
    std::vector<std::string> args;
    std::vector<std::string> options;
  };
  const std::vector<help_case> cases{
      {{"serve", "--help"},
       {"--data-dir", "--http-listen", "--rtmp-listen", "--public-host", "--kafka", "--log-level", "--config",
        "ONAIR_DATA_DIR", "ONAIR_HTTP_LISTEN", "ONAIR_RTMP_LISTEN", "ONAIR_PUBLIC_HOST", "ONAIR_KAFKA",
        "ONAIR_LOG_LEVEL", "ONAIR_CONFIG"}},
      {{"app", "create", "--help"}, {"--name", "--json", "--data-dir"}},
      {{"app", "list", "--help"}, {"--json", "--data-dir"}},
      {{"rebuild-views", "--help"}, {"--data-dir"}},
      {{"help", "serve"}, {"--data-dir", "--http-listen", "--kafka", "--config"}},
      {{"--help"}, {"serve", "app create", "app list", "rebuild-views"}},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("onair " << c.args[0] << (c.args.size() > 1 ? " " + c.args[1] : "")) {
      auto r = run_onair(c.args);
      BOOST_TEST(r.code == 0, r);
      BOOST_TEST(contains(r.out, "Usage: onair"), r);
      for (const auto& o : c.options)
        BOOST_TEST(contains(r.out, o), "help does not mention " << o << ":\n" << r.out);
    }
  }
}

BOOST_AUTO_TEST_CASE(http_listen_precedence_flag_then_env_then_config_file) {
  temp_dir dir;
  const auto data = dir.path() / "data";
  const auto config = dir.path() / "onair.conf";
  {
    std::ofstream f{config};
    f << "# test settings\n"
      << "http-listen = 127.0.0.3:0\n"
      << "log-level = warn\n";
  }
  const auto started_on = [&](std::vector<std::string> args, spawn_options opts) {
    server_process srv{data, std::move(args), std::move(opts)};
    srv.wait_ready();
    const auto host = srv.http().host;
    BOOST_TEST(srv.get("/healthz").status == 200);
    BOOST_TEST(srv.stop() == 0, srv.stderr_text());
    return host;
  };
  const spawn_options env_and_file{{{"ONAIR_HTTP_LISTEN", "127.0.0.2:0"}}};

  BOOST_TEST(started_on({"--config", config.string(), "--http-listen", "127.0.0.1:0"}, env_and_file) == "127.0.0.1");
  BOOST_TEST(started_on({"--config", config.string()}, env_and_file) == "127.0.0.2");
  BOOST_TEST(started_on({"--config", config.string()}, {}) == "127.0.0.3");
  // The config file named by ONAIR_CONFIG, too; the flag --config beats it.
  BOOST_TEST(started_on({}, spawn_options{{{"ONAIR_CONFIG", config.string()}}}) == "127.0.0.3");
  {
    const auto other = dir.path() / "other.conf";
    std::ofstream{other} << "http-listen = 127.0.0.4:0\n";
    BOOST_TEST(started_on({"--config", other.string()}, spawn_options{{{"ONAIR_CONFIG", config.string()}}}) ==
               "127.0.0.4");
  }

  // A CLI command reaches a server on a non-default loopback address through server.json.
  server_process srv{data, {"--config", config.string()}, {}};
  srv.wait_ready();
  BOOST_TEST(srv.http().host == "127.0.0.3");
  const auto created = create_app(data, "via-127-0-0-3");
  check_credentials(created);
  BOOST_TEST(names_of(list_apps(data)).count("via-127-0-0-3") == 1u);
  BOOST_TEST(srv.stop() == 0);

  // A bad value in the file is a usage error naming the file and line.
  const auto bad = dir.path() / "bad.conf";
  std::ofstream{bad} << "\n# comment\nhttp-listen = nowhere\n";
  auto r = run_onair({"serve", "--data-dir", data.string(), "--config", bad.string()});
  BOOST_TEST(r.code == 2, r);
  BOOST_TEST(contains(r.err, bad.string() + ":3"), r);
}

BOOST_AUTO_TEST_CASE(rebuild_views_on_a_stopped_server_and_refused_while_one_runs) {
  temp_dir dir;
  const auto data = dir.path() / "data";
  {
    server_process srv{data};
    srv.wait_ready();
    create_app(data, "second-app");
    auto refused = run_onair({"rebuild-views", "--data-dir", data.string()});
    BOOST_TEST(refused.code == 1, refused);
    BOOST_TEST(contains(refused.err, "stop it first"), refused);
    // The refusal touched nothing: the running server still answers and lists both apps.
    BOOST_TEST(srv.get("/healthz").status == 200);
    BOOST_TEST(list_apps(data).size() == 2u);
    BOOST_TEST(srv.stop() == 0, srv.stderr_text());
  }
  const auto before = list_apps(data);
  auto rebuilt = run_onair({"rebuild-views", "--data-dir", data.string()});
  BOOST_TEST(rebuilt.code == 0, rebuilt);
  BOOST_TEST(contains(rebuilt.out, "views rebuilt"), rebuilt);
  const auto after = list_apps(data);
  BOOST_TEST(after == before, "before: " << before.dump() << "\nafter: " << after.dump());
  BOOST_TEST(names_of(after) == (std::set<std::string>{"first-app", "second-app"}));

  // And the server starts on the rebuilt folder without creating another first app.
  server_process again{data};
  again.wait_ready();
  BOOST_TEST(printed_value(again.stdout_text(), "apiSecret:").empty(), again.stdout_text());
  BOOST_TEST(again.stop() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
