#pragma once
// A raw Server-Sent Events client for the API tests: one loopback socket, a GET of `target` with
// the app's Authorization (and Last-Event-ID), the chunked body decoded as it comes into the
// events a browser's EventSource would dispatch (blocks with data).
#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include "harness.hpp"

namespace onair::test_harness {

struct sse_event {
  std::string id;
  std::string type;
  json data;
};

class sse_client {
public:
  sse_client(const endpoint& http, const std::string& target, const std::string& authorization,
             const std::string& last_event_id = {}) {
    fd_ = connect_tcp(http.host, http.port);
    timeval tv{0, 100'000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string req = "GET " + target + " HTTP/1.1\r\nHost: " + http.host +
                      "\r\nAccept: text/event-stream\r\nAuthorization: " + authorization + "\r\n";
    if (!last_event_id.empty())
      req += "Last-Event-ID: " + last_event_id + "\r\n";
    req += "\r\n";
    BOOST_REQUIRE(::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
  }
  ~sse_client() { ::close(fd_); }
  sse_client(const sse_client&) = delete;
  sse_client& operator=(const sse_client&) = delete;

  // Reads until pred(events so far) holds or the deadline passes; returns whether it held.
  template <class Pred>
  bool read_until(Pred pred, std::chrono::milliseconds deadline = std::chrono::seconds{10}) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (!pred(events_)) {
      if (std::chrono::steady_clock::now() >= until)
        return false;
      char buf[4096];
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0)
        return pred(events_);
      if (n > 0) {
        raw_.append(buf, static_cast<std::size_t>(n));
        decode();
      }
    }
    return true;
  }
  // Reads for a while, whatever comes.
  void read_for(std::chrono::milliseconds d) {
    read_until([](const auto&) { return false; }, d);
  }

  [[nodiscard]] const std::vector<sse_event>& events() const { return events_; }
  [[nodiscard]] const std::string& head() const { return head_; }

private:
  void decode() {
    if (head_.empty()) {
      const auto end = raw_.find("\r\n\r\n");
      if (end == std::string::npos)
        return;
      head_ = raw_.substr(0, end);
      raw_.erase(0, end + 4);
    }
    for (;;) { // chunked transfer coding: "<hex>\r\n<bytes>\r\n"
      const auto line_end = raw_.find("\r\n");
      if (line_end == std::string::npos)
        break;
      const auto size = std::stoul(raw_.substr(0, line_end), nullptr, 16);
      if (raw_.size() < line_end + 2 + size + 2)
        break;
      body_ += raw_.substr(line_end + 2, size);
      raw_.erase(0, line_end + 2 + size + 2);
    }
    for (auto end = body_.find("\n\n"); end != std::string::npos; end = body_.find("\n\n")) {
      std::istringstream in{body_.substr(0, end)};
      body_.erase(0, end + 2);
      sse_event e;
      std::string line;
      bool data = false; // a bare id (a quiet filtered stream's keep-alive) dispatches nothing
      while (std::getline(in, line)) {
        if (line.rfind("id: ", 0) == 0)
          e.id = line.substr(4);
        else if (line.rfind("event: ", 0) == 0)
          e.type = line.substr(7);
        else if (line.rfind("data: ", 0) == 0)
          e.data = json::parse(line.substr(6), nullptr, false), data = true;
      }
      if (data)
        events_.push_back(std::move(e));
    }
  }

  int fd_ = -1;
  std::string raw_, head_, body_;
  std::vector<sse_event> events_;
};

} // namespace onair::test_harness
