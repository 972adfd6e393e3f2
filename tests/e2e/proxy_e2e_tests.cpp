// onair as it is deployed: `cmake --install` of this build (binary, browser assets, systemd unit,
// sample config) started from its prefix, and behind the nginx example of ops/nginx (TLS, HTTP/2)
// with an API read, an event stream, HTTP-FLV and an LL-HLS blocking reload going through it.
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "api/config.hpp"
#include "e2e.hpp"

namespace {

const fs::path source_dir{ONAIR_SOURCE_DIR};

struct shell_result {
  int code = -1;
  std::string out;
  std::string err;
};

// A shell command run to its end, its output kept in dir/name.out and dir/name.err.
shell_result shell(const std::string& cmd, const fs::path& dir, const std::string& name) {
  const auto out = dir / (name + ".out"), err = dir / (name + ".err");
  const int st = std::system((cmd + " >'" + out.string() + "' 2>'" + err.string() + "'").c_str());
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, read_file(out), read_file(err)};
}

// A program's path: on PATH, or in an sbin folder a normal user's PATH may lack.
std::string program_path(const std::string& name) {
  std::vector<std::string> dirs;
  std::istringstream path{std::getenv("PATH") ? std::getenv("PATH") : ""};
  for (std::string d; std::getline(path, d, ':');)
    dirs.push_back(d);
  dirs.insert(dirs.end(), {"/usr/sbin", "/sbin"});
  for (const auto& d : dirs)
    if (!d.empty() && ::access((fs::path{d} / name).c_str(), X_OK) == 0)
      return (fs::path{d} / name).string();
  return {};
}

// A free port on 127.0.0.1 for a server that cannot bind port 0 and say which it got (nginx).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  BOOST_REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                     ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  BOOST_REQUIRE_MESSAGE(bound, "no free port on 127.0.0.1: " << std::strerror(errno));
  return ntohs(addr.sin_port);
}

bool accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// Every `from` in text made `to`; a `from` the text lacks fails the test, so an edit of the
// example that drops a placeholder is caught here rather than as an nginx that will not start.
std::string substitute(std::string text, const std::string& from, const std::string& to) {
  BOOST_REQUIRE_MESSAGE(contains(text, from), "ops/nginx/onair.conf no longer has '" << from << "'");
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out{p, std::ios::binary};
  out << text;
  BOOST_REQUIRE_MESSAGE(out.good(), "cannot write " << p);
}

// "[veryfast]" in a setting's help line: its default as a value, when it is one.
std::string default_in_help(const std::string& help) {
  const auto open = help.find('[');
  const auto close = help.find(']', open);
  return open == std::string::npos || close == std::string::npos ? std::string{} : help.substr(open + 1, close - open - 1);
}

// ---- an installed onair

// `onair serve` started from an install prefix; the harness's server_process starts the build's.
class installed_server {
public:
  installed_server(const fs::path& prefix, const fs::path& data) : data_(data) {
    child_ = std::make_unique<child_guard>(spawn_program(
        {(prefix / "bin" / "onair").string(), "serve", "--config", (prefix / "etc" / "onair" / "onair.conf").string(),
         "--data-dir", data.string(), "--http-listen", "127.0.0.1:0", "--rtmp-listen", "127.0.0.1:0", "--kafka", "off"},
        io_.path() / "stdout", io_.path() / "stderr", child_environment({})));
    BOOST_REQUIRE_MESSAGE(eventually([&] {
                            int st = 0;
                            if (::waitpid(child_->pid(), &st, WNOHANG) == child_->pid()) {
                              child_->reaped();
                              return true;
                            }
                            return fs::exists(data_ / "server.json") && contains(stdout_text(), "onair is serving");
                          }, start_deadline) && child_->pid() > 0,
                          "the installed onair did not start:\n" << stdout_text() << stderr_text());
    http_ = parse_endpoint(json::parse(read_file(data_ / "server.json"))["http"].get<std::string>());
  }

  int stop() {
    ::kill(child_->pid(), SIGTERM);
    const auto code = wait_exit(child_->pid(), process_deadline);
    BOOST_REQUIRE_MESSAGE(code.has_value(), "the installed onair did not stop on SIGTERM:\n" << stderr_text());
    child_->reaped();
    return *code;
  }

  [[nodiscard]] http_reply get(const std::string& path) const { return http_call(http_.host, http_.port, "GET", path); }
  [[nodiscard]] std::string stdout_text() const { return read_file(io_.path() / "stdout"); }
  [[nodiscard]] std::string stderr_text() const { return read_file(io_.path() / "stderr"); }

private:
  fs::path data_;
  temp_dir io_;
  std::unique_ptr<child_guard> child_;
  endpoint http_;
};

// ---- nginx with the example config

struct nginx_installed {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
    boost::test_tools::assertion_result r{!program_path("nginx").empty()};
    r.message() << "nginx is not installed (ops/deps installs it): the reverse-proxy example is not tested";
    return r;
  }
};

// A self-signed certificate for 127.0.0.1, the CA a client is given to trust it.
struct certificate {
  fs::path cert, key;
};

certificate make_certificate(const fs::path& dir) {
  certificate c{dir / "cert.pem", dir / "key.pem"};
  const auto r = shell("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
                       "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout '" + c.key.string() +
                       "' -out '" + c.cert.string() + "'",
                       dir, "openssl");
  BOOST_REQUIRE_MESSAGE(r.code == 0, "openssl could not make a certificate: " << r.err);
  return c;
}

// nginx in the foreground, one process (no workers to outlive it), as whoever runs the test: the
// example config with only its ports and paths made the test's, inside a minimal nginx.conf.
class nginx_proxy {
public:
  nginx_proxy(const fs::path& dir, int upstream_port, const certificate& tls) : dir_(dir) {
    https_port = free_port();
    do
      http_port = free_port();
    while (http_port == https_port);
    auto site = read_file(source_dir / "ops" / "nginx" / "onair.conf");
    site = substitute(site, "server 127.0.0.1:8080;", "server 127.0.0.1:" + std::to_string(upstream_port) + ";");
    site = substitute(site, "listen 443 ssl http2;", "listen 127.0.0.1:" + std::to_string(https_port) + " ssl http2;");
    site = substitute(site, "listen 80;", "listen 127.0.0.1:" + std::to_string(http_port) + ";");
    site = substitute(site, "/etc/ssl/onair/fullchain.pem", tls.cert.string());
    site = substitute(site, "/etc/ssl/onair/privkey.pem", tls.key.string());
    site = substitute(site, "/var/log/nginx/onair.access.log", (dir / "access.log").string());
    write_file(dir / "onair.conf", site);
    // Debian's nginx keeps its temp folders under /var/lib/nginx: here they are the test's.
    std::string temps;
    for (const char* t : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"})
      temps += std::string{"  "} + t + "_temp_path " + (dir / t).string() + ";\n";
    write_file(dir / "nginx.conf", "events { worker_connections 256; }\nhttp {\n" + temps + "  include " +
                                       (dir / "onair.conf").string() + ";\n}\n");
    const auto error_log = (dir / "error.log").string();
    child_ = std::make_unique<child_guard>(spawn_program(
        {program_path("nginx"), "-p", dir.string(), "-c", (dir / "nginx.conf").string(), "-e", error_log, "-g",
         "daemon off; master_process off; pid " + (dir / "nginx.pid").string() + "; error_log " + error_log + " info;"},
        dir / "nginx.out", dir / "nginx.err", child_environment({})));
    BOOST_REQUIRE_MESSAGE(eventually([&] {
                            int st = 0;
                            if (::waitpid(child_->pid(), &st, WNOHANG) == child_->pid()) {
                              child_->reaped();
                              return true;
                            }
                            return accepts(https_port) && accepts(http_port);
                          }) && child_->pid() > 0,
                          "nginx did not start with the example config:\n" << read_file(dir / "nginx.err")
                                                                            << read_file(dir / "error.log") << site);
  }

  [[nodiscard]] std::string base() const { return "https://127.0.0.1:" + std::to_string(https_port); }
  [[nodiscard]] std::string error_log() const { return read_file(dir_ / "error.log"); }

  int https_port = 0;
  int http_port = 0;

private:
  fs::path dir_;
  std::unique_ptr<child_guard> child_;
};

struct curl_reply {
  int code = -1;           // curl's exit code
  std::string http_version; // "2" over HTTP/2
  int status = 0;
  std::string head;
  std::string body;
  std::string errors;
};

inline std::ostream& operator<<(std::ostream& os, const curl_reply& r) {
  return os << "curl exit " << r.code << ", HTTP/" << r.http_version << " " << r.status << "\n" << r.head << "\n"
            << r.body << r.errors;
}

// A request with curl, trusting only the test's certificate, over HTTP/2 where TLS offers it.
curl_reply curl(const fs::path& dir, const certificate& tls, const std::string& url, const std::string& extra = {}) {
  const auto head = dir / "curl.head", body = dir / "curl.body";
  const auto r = shell("curl -sS --http2 --max-time 20 --cacert '" + tls.cert.string() + "' -D '" + head.string() +
                           "' -o '" + body.string() + "' -w '%{http_version} %{http_code}' " + extra + " '" + url + "'",
                       dir, "curl");
  curl_reply out{r.code, {}, 0, read_file(head), read_file(body), r.err};
  std::istringstream in{r.out};
  in >> out.http_version >> out.status;
  return out;
}

std::string authorization_header(const live_server& s) { return "-H 'Authorization: " + s.api->authorization + "'"; }

} // namespace

BOOST_AUTO_TEST_SUITE(install_e2e)

BOOST_AUTO_TEST_CASE(the_sample_config_has_every_setting_with_the_default_serve_help_shows) {
  // `# key = value` lines, the form a reader uncomments.
  const auto sample = read_file(source_dir / "ops" / "onair.conf.sample");
  const std::regex setting_line{R"(^#\s?([a-z0-9-]+) =(?: (.*))?$)"};
  std::map<std::string, std::string> shown;
  std::string uncommented;
  std::istringstream in{sample};
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_match(line, m, setting_line))
      continue;
    BOOST_TEST(shown.emplace(m[1], m[2]).second, "ops/onair.conf.sample shows " << m[1] << " twice");
    if (m[2].length() > 0)
      uncommented += std::string{m[1]} + " = " + std::string{m[2]} + "\n";
  }

  std::set<std::string> keys;
  for (const auto& s : onair::api::settings()) {
    const std::string key = s.key;
    if (key == "config") // names the file itself
      continue;
    keys.insert(key);
    const auto it = shown.find(key);
    BOOST_TEST_CONTEXT(key << " (help: " << s.help << ")") {
      BOOST_TEST_REQUIRE((it != shown.end()), "ops/onair.conf.sample has no `# " << key << " = ...` line");
      // A default that is a value is shown as it; one that is a rule ("the usable cores") is said
      // in the comment above an empty line.
      const auto help_default = default_in_help(s.help);
      const bool is_value = !help_default.empty() && help_default.find(' ') == std::string::npos;
      BOOST_TEST(it->second == (is_value ? help_default : std::string{}));
    }
  }
  for (const auto& [key, value] : shown)
    BOOST_TEST(keys.contains(key), "ops/onair.conf.sample shows " << key << ", which is no setting");

  // Uncommented, the sample is a config file onair takes.
  temp_dir dir;
  write_file(dir.path() / "onair.conf", uncommented);
  const auto loaded = onair::api::load_server_config({"--config", (dir.path() / "onair.conf").string()}, {});
  BOOST_TEST(loaded.ok(), (loaded.ok() ? std::string{} : loaded.error().message) << "\n" << uncommented);
}

BOOST_AUTO_TEST_CASE(a_binary_in_the_build_tree_reads_the_assets_of_its_source_tree) {
  // This test binary has no share/onair/web beside it, as the build's onair has none.
  const auto cfg = onair::api::load_server_config({}, {});
  BOOST_TEST_REQUIRE(cfg.ok());
  BOOST_TEST(cfg->web_dir == (source_dir / "api" / "web").string());
  const auto named = onair::api::load_server_config({"--web-dir", "/srv/onair-web"}, {});
  BOOST_TEST_REQUIRE(named.ok());
  BOOST_TEST(named->web_dir == "/srv/onair-web");
}

BOOST_AUTO_TEST_CASE(cmake_install_puts_the_files_in_place_and_the_installed_binary_serves_its_own_assets) {
  temp_dir dir;
  const auto prefix = dir.path() / "prefix";
  const auto install = shell(std::string{"'"} + ONAIR_CMAKE + "' --install '" + ONAIR_BUILD_DIR + "' --prefix '" +
                                 prefix.string() + "'",
                             dir.path(), "install");
  BOOST_TEST_REQUIRE(install.code == 0, "cmake --install failed: " << install.out << install.err);

  const auto web = prefix / "share" / "onair" / "web";
  const auto unit = prefix / "lib" / "systemd" / "system" / "onair.service";
  const auto config = prefix / "etc" / "onair" / "onair.conf";
  for (const auto& p : {prefix / "bin" / "onair", web / "docs" / "index.html",
                        web / "node_modules" / "swagger-ui-dist" / "swagger-ui-bundle.js", unit, config})
    BOOST_TEST_REQUIRE(fs::is_regular_file(p), p << " is not installed:\n" << install.out);
  BOOST_TEST(::access((prefix / "bin" / "onair").c_str(), X_OK) == 0);
  BOOST_TEST(read_file(config) == read_file(source_dir / "ops" / "onair.conf.sample"));

  // The unit starts this install's binary with this install's config, hardened.
  const auto service = read_file(unit);
  BOOST_TEST(contains(service, "\nExecStart=" + (prefix / "bin" / "onair").string() + " serve --config " +
                                   config.string() + " --data-dir /var/lib/onair\n"),
             service);
  for (const char* line : {"User=onair", "StateDirectory=onair", "ProtectSystem=strict", "ProtectHome=yes",
                           "NoNewPrivileges=yes", "PrivateTmp=yes", "PrivateDevices=yes",
                           "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "LimitNOFILE=1048576",
                           "Restart=on-failure"})
    BOOST_TEST(contains(service, std::string{"\n"} + line + "\n"), "the unit lacks " << line);
  if (const auto analyze = program_path("systemd-analyze"); !analyze.empty()) {
    // It warns about keys it does not know and still exits 0.
    const auto verify = shell("'" + analyze + "' verify '" + unit.string() + "'", dir.path(), "verify");
    BOOST_TEST(verify.code == 0, verify.err);
    BOOST_TEST((verify.out + verify.err).empty(), "systemd-analyze verify: " << verify.out << verify.err);
  } else {
    BOOST_TEST_MESSAGE("systemd-analyze is not installed: the unit is not verified");
  }

  // What the installed server serves under /docs is the installed copy, although this build's
  // source tree is still there to fall back on.
  const std::string mark = "<!-- the installed copy -->\n";
  {
    std::ofstream out{web / "docs" / "index.html", std::ios::app};
    out << mark;
  }
  installed_server srv{prefix, dir.path() / "data"};
  const auto index = srv.get("/docs");
  BOOST_TEST_REQUIRE(index.status == 200, index.body);
  BOOST_TEST(contains(index.body, mark), "/docs is not served from " << web << ":\n" << index.body);
  const std::regex asset_ref{R"re((?:href|src)="/docs/([^"]+)")re"};
  int assets = 0;
  for (std::sregex_iterator it{index.body.begin(), index.body.end(), asset_ref}, end; it != end; ++it, ++assets) {
    const std::string name = (*it)[1];
    const auto installed = fs::exists(web / "docs" / name) ? web / "docs" / name
                                                           : web / "node_modules" / "swagger-ui-dist" / name;
    const auto r = srv.get("/docs/" + name);
    BOOST_TEST(r.status == 200, name);
    BOOST_TEST((r.body == read_file(installed)), name << " is not the installed " << installed);
  }
  BOOST_TEST(assets >= 4);
  BOOST_TEST(!contains(srv.stdout_text() + srv.stderr_text(), "docs asset missing"), srv.stdout_text());
  BOOST_TEST(srv.stop() == 0, srv.stderr_text());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(proxy_e2e)

BOOST_AUTO_TEST_CASE(the_nginx_example_serves_the_api_events_http_flv_and_ll_hls_over_tls_and_http2,
                     *boost::unit_test::precondition(nginx_installed{})) {
  live_server s{{"--kafka", "off", "--x264-preset", "ultrafast"}};
  temp_dir dir;
  const auto tls = make_certificate(dir.path());
  nginx_proxy proxy{dir.path(), s.srv.http().port, tls};

  // The API over HTTP/2, the same answer as from onair itself; a request id goes through and back.
  const auto me = curl(dir.path(), tls, proxy.base() + "/v2/apps/me",
                       authorization_header(s) + " -H 'X-Request-Id: proxy-e2e-1'");
  BOOST_TEST_REQUIRE(me.code == 0, me << proxy.error_log());
  BOOST_TEST(me.http_version == "2", me);
  BOOST_TEST(me.status == 200, me);
  BOOST_TEST(json::parse(me.body, nullptr, false) == s.api->get("/v2/apps/me").body, me);
  BOOST_TEST(header_of(me.head, "x-request-id") == "proxy-e2e-1", me.head);
  BOOST_TEST(!header_of(curl(dir.path(), tls, proxy.base() + "/healthz").head, "x-request-id").empty(),
             "nginx makes a request id when the client sends none");
  // Plain HTTP only redirects; the operator endpoints are not reachable through the proxy.
  const auto plain = curl(dir.path(), tls, "http://127.0.0.1:" + std::to_string(proxy.http_port) + "/v2/apps/me");
  BOOST_TEST(plain.status == 301, plain);
  BOOST_TEST(header_of(plain.head, "location").starts_with("https://"), plain.head);
  BOOST_TEST(curl(dir.path(), tls, proxy.base() + "/v2/admin/apps").status == 404);

  // Server-Sent Events: the app's event arrives while the stream stays open. (Over HTTP/2, nginx
  // 1.22 sends the response headers only with the first bytes of the body, so the stream's
  // opening is not something to wait for.)
  const auto events_head = dir.path() / "events.head";
  background events{"exec curl -sSN --http2 --max-time 30 --cacert '" + tls.cert.string() + "' -D '" +
                        events_head.string() + "' " + authorization_header(s) + " '" + proxy.base() +
                        "/v2/apps/me/events/stream'",
                    dir.path() / "events.log"};
  const auto k = s.key_of("proxied");
  const auto key_id = k["id"].get<std::int64_t>();
  BOOST_TEST(eventually([&] { return contains(events.output(), "event: onair.member.registered\ndata: {"); }),
             events.output() << proxy.error_log());
  BOOST_TEST(events.running(), "the event stream ended: " << events.output());
  BOOST_TEST(header_of(read_file(events_head), "content-type") == "text/event-stream", read_file(events_head));
  events.kill_now();

  // One publisher, straight to onair over RTMP, viewable as HTTP-FLV and as LL-HLS.
  background pub{publish(ingest_url(k) + "?mode=RTMP_CMAF", 40), dir.path() / "pub.log"};
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(key_id, "ACTIVE"); }, 30s),
                     "key never ACTIVE: " << s.key(key_id).dump() << pub.output());
  const auto active = s.key(key_id);
  const auto path_of = [](const std::string& url) { return url.substr(url.find("/play/")); };

  // HTTP-FLV through nginx, the certificate checked: frames arrive.
  const auto flv_url = proxy.base() + path_of(active["httpFlvPlayUrl"].get<std::string>());
  const auto probed = shell("timeout 30 ffprobe -v error -tls_verify 1 -ca_file '" + tls.cert.string() +
                                "' -of json -show_streams -show_packets -read_intervals %+2 '" + flv_url + "'",
                            dir.path(), "ffprobe");
  probe_result flv{probed.code, json::parse(probed.out, nullptr, false), probed.err};
  check_media(flv, "HTTP-FLV through nginx");
  int video_packets = 0;
  for (const auto& p : flv.out.value("packets", json::array()))
    video_packets += p.value("codec_type", "") == "video";
  BOOST_TEST(video_packets > 10, "video packets through nginx: " << video_packets);

  // LL-HLS: a blocking reload for the part the playlist hints at waits on onair, and its answer
  // comes through nginx.
  const auto master = path_of(active["cmafHlsPlayUrl"].get<std::string>());
  const auto playlist = master.substr(0, master.rfind('/')) + "/v0.m3u8";
  std::smatch hint;
  std::string media;
  BOOST_TEST_REQUIRE(eventually([&] {
                       media = http_call(s.srv.http().host, s.srv.http().port, "GET", playlist).body;
                       return std::regex_search(media, hint, std::regex{R"(PRELOAD-HINT:TYPE=PART,URI="[^"]*/(\d+)\.(\d+)\.m4s")"});
                     }, 30s),
                     playlist << ": " << media);
  const std::string msn = hint[1], part = hint[2];
  const auto blocked = curl(dir.path(), tls, proxy.base() + playlist + "?_HLS_msn=" + msn + "&_HLS_part=" + part);
  BOOST_TEST(blocked.http_version == "2", blocked);
  BOOST_TEST(blocked.status == 200, blocked);
  BOOST_TEST(contains(blocked.body, "/" + msn + "." + part + ".m4s\""), blocked);
  BOOST_TEST(!contains(proxy.error_log(), "upstream timed out"), proxy.error_log());
}

BOOST_AUTO_TEST_SUITE_END()
