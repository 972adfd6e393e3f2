// fuzz-libs: onair_api
// Raw bytes as an HTTP client would send them, through the whole server: evhttp's request parsing,
// our router, authentication, JSON parsing and DTO mapping, the actors and the views. One server
// runs for the whole fuzzing session (data in a temp folder); each input is one TCP connection,
// written whole, half-closed, and read until the server closes it.
//
// "@AUTH@" in an input is replaced by a valid `Basic` credential of the session's app, and
// "@BEARER@" by a member's access token, so inputs reach the handlers behind authentication.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <openssl/evp.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "api/server.hpp"

namespace {

struct session {
  std::filesystem::path dir;
  std::unique_ptr<onair::api::server> srv;
  std::uint16_t port = 0;
  std::string auth;
  std::string bearer;
};

session* the_session = nullptr;

// The oracle: a handler that threw (the server turns it into a 500 and logs "handler failed") is a
// finding. Status lines in the answer cannot be trusted for this: bodies may echo the request.
class abort_on_handler_failure final : public spdlog::sinks::base_sink<std::mutex> {
protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const std::string_view text{msg.payload.data(), msg.payload.size()};
    if (text.find("handler failed") != std::string_view::npos) {
      std::fprintf(stderr, "handler failure: %.*s\n", static_cast<int>(text.size()), text.data());
      std::abort();
    }
  }
  void flush_() override {}
};

std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
}

// libFuzzer's timers (SIGALRM) may interrupt any of the calls below: EINTR is retried, never a finding.
int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0)
    return fd;
  if (errno == EINTR) { // the connection goes on in the background: wait for it
    pollfd p{fd, POLLOUT, 0};
    int rc = 0;
    while ((rc = ::poll(&p, 1, 10'000)) < 0 && errno == EINTR) {
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (rc == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
      return fd;
  }
  ::close(fd);
  return -1;
}

// Sends one request over a fresh connection and returns what came back.
std::string round_trip(std::uint16_t port, const std::string& bytes) {
  const int fd = connect_to(port);
  if (fd < 0) { // the server stopped listening: that is a finding
    std::perror("connect to the server under test");
    std::abort();
  }
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break; // the server may close early on bad input
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string got;
  char buf[16384];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    // The server answers or closes well within its own timeouts; 10 s means it hangs.
    int ready = 0;
    while ((ready = ::poll(&p, 1, 10'000)) < 0 && errno == EINTR) {
    }
    if (ready <= 0) {
      std::fprintf(stderr, "the server neither answered nor closed in 10 s\n");
      std::abort();
    }
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  // Reset rather than close: tens of thousands of connections a minute would otherwise leave the
  // server side in TIME_WAIT and run out of ephemeral ports.
  linger lg{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  ::close(fd);
  return got;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("fuzz", std::make_shared<abort_on_handler_failure>()));
  spdlog::set_level(spdlog::level::err);
  auto* s = new session;
  s->dir = std::filesystem::temp_directory_path() / ("onair-fuzz-http-" + std::to_string(::getpid()));
  std::filesystem::remove_all(s->dir);
  onair::api::server_config cfg;
  cfg.data_dir = (s->dir / "data").string();
  cfg.http_listen = "127.0.0.1:0";
  cfg.rtmp_listen = "127.0.0.1:0";
  cfg.kafka = "off";
  s->srv = std::make_unique<onair::api::server>(cfg);
  auto port = s->srv->start();
  if (!port)
    std::abort();
  s->port = *port;
  auto app = onair::api::create_app_sync(s->srv->runtime(), "fuzz");
  if (!app)
    std::abort();
  s->auth = "Basic " + base64((*app)["apiKey"].get<std::string>() + ":" + (*app)["apiSecret"].get<std::string>());
  // A member and its access token, through the API itself.
  const std::string login = R"({"appUserId":"fuzzer"})";
  const auto reply = round_trip(s->port, "POST /v2/apps/me/members/login HTTP/1.1\r\nHost: x\r\nAuthorization: " + s->auth +
                                           "\r\nContent-Type: application/json\r\nContent-Length: " +
                                           std::to_string(login.size()) + "\r\n\r\n" + login);
  const auto at = reply.find("\"accessToken\":\"");
  if (at != std::string::npos) {
    const auto start = at + 15;
    s->bearer = "Bearer " + reply.substr(start, reply.find('"', start) - start);
  }
  the_session = s;
  // At exit only the folder goes: the server is left running (still reachable, so no leak), since
  // tearing the actor system down from inside exit() races CAF's own static destructors.
  std::atexit([] {
    if (the_session)
      std::filesystem::remove_all(the_session->dir);
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  replace_all(bytes, "@AUTH@", the_session->auth);
  replace_all(bytes, "@BEARER@", the_session->bearer);
  (void)round_trip(the_session->port, bytes);
  return 0;
}
