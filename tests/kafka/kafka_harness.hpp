#pragma once
// What the Kafka tests share: the dev broker as its own process, an app client that survives a
// killed server, waiting until the publisher caught up, and the event-by-event comparison of
// the topic with the store.
#include "api/harness.hpp"

#include <map>
#include <mutex>

#include "storage/cloud_events.hpp"
#include "storage/event_store.hpp"
#include "storage/kafka/kafka.hpp"

namespace onair::test_kafka {

using namespace onair::test_harness;

// An HTTP call that reports failure instead of failing the test (the server may be killed
// under it): the status, or 0 when there was no answer.
inline int try_http(const endpoint& at, const std::string& method, const std::string& path,
                    const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return 0;
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } close_fd{fd};
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(at.port));
  if (::inet_pton(AF_INET, at.host.c_str(), &addr.sin_addr) != 1 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return 0;
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: " + at.host + "\r\nConnection: close\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n";
  for (const auto& [k, v] : headers)
    req += k + ": " + v + "\r\n";
  req += "\r\n" + body;
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
    return 0;
  char buf[512];
  const auto n = ::recv(fd, buf, sizeof buf, 0);
  if (n < 12 || std::strncmp(buf, "HTTP/1.", 7) != 0)
    return 0;
  return std::atoi(buf + 9);
}

struct app_client {
  endpoint http;
  std::string authorization;

  static app_client from_banner(const server_process& srv) {
    const auto out = srv.stdout_text();
    const auto key = printed_value(out, "apiKey:"), secret = printed_value(out, "apiSecret:");
    BOOST_REQUIRE_MESSAGE(!key.empty() && !secret.empty(), "no first app in the banner:\n" << out);
    return app_client{srv.http(), "Basic " + base64(key + ":" + secret)};
  }

  [[nodiscard]] int post(const std::string& path, const json& body) const {
    return try_http(http, "POST", path, {{"Authorization", authorization}, {"Content-Type", "application/json"}},
                    body.dump());
  }
  // Registers or updates a member (member, stream key and flow events): 201 or 200 when accepted.
  [[nodiscard]] int member(const std::string& id, const std::string& name = "") const {
    return post("/v2/apps/me/members", json{{"appUserId", id}, {"appUserName", name.empty() ? "Name of " + id : name}});
  }
  [[nodiscard]] int room(const std::string& owner) const {
    return post("/v2/apps/me/video-rooms", json{{"type", "BROADCAST_RTMP"},
                                                {"title", "Launch of " + owner},
                                                {"appUserId", owner},
                                                {"scheduledAt", "2026-12-01T18:00:00.000Z"}});
  }
};

inline json admin_get(const server_process& srv, const fs::path& data_dir, const std::string& path) {
  const auto token = read_file(data_dir / "admin.token");
  auto r = http_call(srv.http().host, srv.http().port, "GET", path, {{"X-Onair-Admin-Token", token}});
  BOOST_REQUIRE_MESSAGE(r.status == 200, path << ": " << r.status << " " << r.body);
  return json::parse(r.body);
}

// Waits until every durable event is acknowledged by Kafka; returns the last status seen.
inline json wait_published(const server_process& srv, const fs::path& data_dir,
                           std::chrono::seconds deadline = std::chrono::seconds{60}) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    auto k = admin_get(srv, data_dir, "/v2/admin/kafka");
    if (k.value("lagEvents", 1) == 0 && k.value("publishedPosition", 0) == k.value("logPosition", -1))
      return k;
    if (std::chrono::steady_clock::now() >= until)
      BOOST_FAIL("the publisher did not catch up: " << k.dump());
    std::this_thread::sleep_for(20ms);
  }
}

// Waits until `pred` holds of a GET's JSON body.
template <class Pred>
json wait_json(const server_process& srv, const std::string& path, Pred pred, std::chrono::seconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    auto r = srv.get(path);
    auto j = json::parse(r.body, nullptr, false);
    if (!j.is_discarded() && pred(j))
      return j;
    if (std::chrono::steady_clock::now() >= until)
      BOOST_FAIL(path << " never matched: " << r.status << " " << r.body);
    std::this_thread::sleep_for(20ms);
  }
}

// Reads until `text` is in the file (a child's stdout), up to a deadline.
inline void wait_output(const fs::path& file, const std::string& text, std::size_t times = 1,
                        std::chrono::seconds deadline = std::chrono::seconds{30}) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    const auto out = read_file(file);
    std::size_t n = 0;
    for (auto at = out.find(text); at != std::string::npos; at = out.find(text, at + 1))
      ++n;
    if (n >= times)
      return;
    if (std::chrono::steady_clock::now() >= until)
      BOOST_FAIL("'" << text << "' x" << times << " not printed in time:\n" << out);
    std::this_thread::sleep_for(10ms);
  }
}

// `onair dev-broker` in its own process, so that it outlives killed servers.
class dev_broker {
public:
  dev_broker() : out_(io_.path() / "stdout"), err_(io_.path() / "stderr") {
    child_ = std::make_unique<child_guard>(spawn_onair({"dev-broker"}, out_, err_));
    wait_output(out_, "bootstrap: ");
    bootstrap_ = printed_value(read_file(out_), "bootstrap:");
    BOOST_REQUIRE_MESSAGE(bootstrap_.rfind("127.0.0.1:", 0) == 0, read_file(out_));
  }
  [[nodiscard]] const std::string& bootstrap() const { return bootstrap_; }
  void down() {
    ::kill(child_->pid(), SIGUSR1);
    wait_output(out_, "broker down", ++downs_);
  }
  void up() {
    ::kill(child_->pid(), SIGUSR2);
    wait_output(out_, "broker up", ++ups_);
  }

private:
  temp_dir io_;
  fs::path out_, err_;
  std::unique_ptr<child_guard> child_;
  std::string bootstrap_;
  std::size_t downs_ = 0, ups_ = 0;
};

inline std::vector<storage::kafka::message> read_whole_topic(const std::string& bootstrap,
                                                             const std::string& topic = "onair.events") {
  storage::kafka::client_options c;
  c.brokers = bootstrap;
  c.topic = topic;
  std::vector<storage::kafka::message> out;
  auto r = storage::kafka::read_topic(c, {}, [&](const storage::kafka::message& m) {
    out.push_back(m);
    return true;
  });
  if (!r)
    BOOST_FAIL("reading the topic: " << r.error().message);
  return out;
}

// Every event of the store in the data folder (server stopped), in log order, with its CloudEvent
// as the publisher makes it (personal data opened with the store's keys; none: not public).
struct stored_event {
  storage::event_record rec;
  std::optional<json> cloud_event;
};
inline std::vector<stored_event> store_log(const fs::path& data_dir) {
  storage::event_store::options so;
  so.path = (data_dir / "events").string();
  auto store = storage::event_store::open(so);
  if (!store)
    BOOST_FAIL("open store: " << store.error().message);
  std::vector<stored_event> all;
  for (;;) {
    auto batch = (*store)->read_all(all.empty() ? 0 : all.back().rec.position, 4096);
    BOOST_REQUIRE(batch.ok());
    if (batch->empty())
      return all;
    for (auto& rec : *batch) {
      auto ce = storage::to_cloud_event(rec, std::nullopt, &(*store)->personal_keys());
      all.push_back({std::move(rec), std::move(ce)});
    }
  }
}

// The topic holds exactly the store's public events: each once, the same CloudEvent, keyed by
// its stream, with its type and position headers, each partition in log order.
inline void check_topic_equals_store(const std::vector<storage::kafka::message>& topic,
                                     const std::vector<stored_event>& log) {
  std::map<std::uint64_t, const storage::kafka::message*> by_position;
  std::size_t duplicates = 0;
  for (const auto& m : topic) {
    if (!by_position.emplace(m.position, &m).second)
      ++duplicates;
  }
  BOOST_TEST(duplicates == 0u, duplicates << " positions are in the topic more than once");
  std::size_t expected = 0, missing = 0, different = 0;
  for (const auto& [rec, ev] : log) {
    if (!ev)
      continue;
    ++expected;
    auto it = by_position.find(rec.position);
    if (it == by_position.end()) {
      if (++missing <= 5)
        BOOST_ERROR("position " << rec.position << " (" << rec.stream << " " << rec.type << ") is not in the topic");
      continue;
    }
    const auto& m = *it->second;
    if (json::parse(m.value, nullptr, false) != *ev || m.key != rec.stream || m.type != (*ev)["type"]) {
      if (++different <= 5)
        BOOST_ERROR("position " << rec.position << " differs: key " << m.key << " value " << m.value << " expected "
                                << ev->dump());
    }
  }
  BOOST_TEST(missing == 0u);
  BOOST_TEST(different == 0u);
  BOOST_TEST(topic.size() == expected, "topic " << topic.size() << " messages, store " << expected << " public events");
  // Per partition, offsets and positions rise together: per-key order is the log's.
  std::map<std::int32_t, std::pair<std::int64_t, std::uint64_t>> last;
  std::size_t out_of_order = 0;
  for (const auto& m : topic) {
    auto [it, fresh] = last.emplace(m.partition, std::make_pair(m.offset, m.position));
    if (!fresh) {
      if (m.offset > it->second.first && m.position <= it->second.second)
        ++out_of_order;
      it->second = {m.offset, m.position};
    }
  }
  BOOST_TEST(out_of_order == 0u);
}

} // namespace onair::test_kafka
