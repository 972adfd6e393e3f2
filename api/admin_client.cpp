#include "api/admin_client.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "api/http_server.hpp"

namespace onair::api {

namespace fs = std::filesystem;
using domain::error_code;
using domain::make_error;

std::optional<admin_client> admin_client::find(const std::string& data_dir) {
  std::ifstream info_file{fs::path{data_dir} / "server.json"};
  std::ifstream token_file{fs::path{data_dir} / "admin.token"};
  if (!info_file || !token_file)
    return std::nullopt;
  std::stringstream ss;
  ss << info_file.rdbuf();
  auto info = nlohmann::json::parse(ss.str(), nullptr, false);
  if (info.is_discarded() || !info.contains("pid") || !info.contains("http"))
    return std::nullopt;
  const auto pid = info["pid"].get<int>();
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno == ESRCH)) // a server that died without cleaning up
    return std::nullopt;
  auto addr = parse_listen_address(info["http"].get<std::string>());
  if (!addr)
    return std::nullopt;
  admin_client c;
  c.host_ = addr->host == "0.0.0.0" ? "127.0.0.1" : addr->host == "::" ? "::1" : addr->host;
  c.port_ = addr->port;
  std::string token;
  std::getline(token_file, token);
  c.credentials_ = "X-Onair-Admin-Token: " + token + "\r\n";
  return c;
}

admin_client admin_client::at(std::string host, int port, const std::string& authorization) {
  admin_client c;
  c.host_ = std::move(host);
  c.port_ = port;
  if (!authorization.empty())
    c.credentials_ = "Authorization: " + authorization + "\r\n";
  return c;
}

domain::result<admin_reply> admin_client::call(const std::string& method, const std::string& path,
                                               const std::string& body) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host_.c_str(), std::to_string(port_).c_str(), &hints, &res) != 0 || !res)
    return make_error(error_code::internal, "cannot resolve " + host_);
  const int fd = ::socket(res->ai_family, SOCK_STREAM, 0);
  const bool connected = fd >= 0 && ::connect(fd, res->ai_addr, res->ai_addrlen) == 0;
  freeaddrinfo(res);
  if (!connected) {
    if (fd >= 0)
      ::close(fd);
    return make_error(error_code::internal, "cannot reach the server at " + host_ + ":" + std::to_string(port_) +
                                                ": " + std::strerror(errno));
  }
  timeval tv{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: " + host_ + "\r\nConnection: close\r\n" +
                    credentials_ + "Content-Type: application/json\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body;
  for (std::size_t sent = 0; sent < req.size();) {
    const auto n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      return make_error(error_code::internal, "sending to the server failed");
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string resp;
  char buf[8192];
  for (;;) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0)
      break;
    resp.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const auto head_end = resp.find("\r\n\r\n");
  if (resp.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos || resp.size() < 12)
    return make_error(error_code::internal, "the server's answer was not HTTP");
  admin_reply out;
  out.status = std::atoi(resp.c_str() + 9);
  out.body = resp.substr(head_end + 4);
  // Chunked bodies are not expected from these endpoints (evhttp sends Content-Length).
  return out;
}

} // namespace onair::api
