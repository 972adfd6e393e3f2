// For analytics consumers: the topic alone is enough to rebuild a read model. The store's own
// projector (storage/views) is fed the CloudEvents read back from Kafka, and what it builds equals
// the read model onair built from RocksDB — for everything the stream carries (apps and flows are
// internal and not published; stream key values are redacted to "***" on the stream, so the
// lookup by key value is the one view a consumer cannot have; members' personal data is sealed in
// onair's views and shown opened on the stream, so the views are compared as they read).
#include "kafka_harness.hpp"

#include "domain/time.hpp"
#include "storage/personal_data.hpp"
#include "storage/views.hpp"

using namespace onair::test_kafka;

namespace {

// A read model in memory.
class memory_views : public onair::storage::kv_writer {
public:
  std::optional<std::string> get(std::string_view key) const override {
    auto it = kv_.find(std::string{key});
    return it == kv_.end() ? std::nullopt : std::optional<std::string>{it->second};
  }
  void scan(std::string_view prefix, const std::function<bool(std::string_view, std::string_view)>& f,
            bool reverse) const override {
    std::vector<std::pair<std::string, std::string>> hits;
    for (auto it = kv_.lower_bound(std::string{prefix}); it != kv_.end() && it->first.rfind(prefix, 0) == 0; ++it)
      hits.emplace_back(*it);
    if (reverse)
      std::reverse(hits.begin(), hits.end());
    for (const auto& [k, v] : hits)
      if (!f(k, v))
        return;
  }
  void put(std::string_view key, std::string_view value) override { kv_[std::string{key}] = std::string{value}; }
  void del(std::string_view key) override { kv_.erase(std::string{key}); }
  [[nodiscard]] const std::map<std::string, std::string>& all() const { return kv_; }

private:
  std::map<std::string, std::string> kv_;
};

// A CloudEvent back into the stored event it came from (secrets stay "***").
onair::storage::event_record to_record(const json& ev) {
  onair::storage::event_record rec;
  const auto source = ev["source"].get<std::string>(); // /apps/{app}/{category}/{id}
  const auto app_end = source.find('/', 6);
  const auto cat_end = source.find('/', app_end + 1);
  rec.stream = source.substr(app_end + 1, cat_end - app_end - 1) + "/" + source.substr(6, app_end - 6) + "/" +
               source.substr(cat_end + 1);
  auto data = ev["data"];
  rec.version = data["version"].get<std::int64_t>();
  rec.position = data["position"].get<std::uint64_t>();
  data.erase("version");
  data.erase("position");
  rec.data = data.dump();
  rec.type = ev["type"].get<std::string>().substr(std::string{"onair."}.size());
  auto t = onair::domain::parse_iso8601(ev["time"].get<std::string>());
  BOOST_REQUIRE(t.has_value());
  rec.time_ms = t->ms;
  return rec;
}

// What a consumer of the stream can rebuild: not the internal aggregates, not the key-value lookup.
bool comparable(const std::string& key) {
  for (const char* internal : {"v/app/", "c/app/", "m/app/", "v/flow/", "c/flow/", "m/flow/", "s/open_flow/",
                               "x/app_id/", "x/key_value/", "kafka/"})
    if (key.rfind(internal, 0) == 0)
      return false;
  return true;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

json body_of(const http_reply& r) { return json::parse(r.body, nullptr, false); }

} // namespace

BOOST_AUTO_TEST_SUITE(kafka_rebuild)

BOOST_AUTO_TEST_CASE(read_model_rebuilt_from_the_topic_alone_equals_the_one_built_from_rocksdb) {
  temp_dir dir;
  const auto data = dir.path() / "data";
  std::vector<onair::storage::kafka::message> topic;
  {
    server_process srv{data};
    srv.wait_ready();
    auto app = app_client::from_banner(srv);
    const std::vector<std::pair<std::string, std::string>> auth{{"Authorization", app.authorization},
                                                                {"Content-Type", "application/json"}};
    auto call = [&](const std::string& method, const std::string& path, const json& body = nullptr) {
      return http_call(srv.http().host, srv.http().port, method, path, auth, body.is_null() ? "" : body.dump());
    };
    for (int i = 0; i < 8; ++i)
      BOOST_REQUIRE_EQUAL(app.member("a" + std::to_string(i)), 201);
    std::vector<std::int64_t> rooms;
    for (int i = 0; i < 8; i += 2) {
      auto r = call("POST", "/v2/apps/me/video-rooms",
                    json{{"type", "BROADCAST_RTMP"}, {"title", "Room " + std::to_string(i)}, {"appUserId", "a" + std::to_string(i)},
                         {"scheduledAt", "2026-12-01T18:00:00.000Z"}});
      BOOST_REQUIRE_MESSAGE(r.status == 201, r.body);
      rooms.push_back(body_of(r)["id"].get<std::int64_t>());
    }
    BOOST_REQUIRE_EQUAL(call("POST", "/v2/apps/me/video-rooms/" + std::to_string(rooms[0]) +
                                         "/rtmp-broadcast/state/cancelled").status, 200);
    BOOST_REQUIRE_EQUAL(app.member("a1", "Renamed"), 200);
    auto key = call("GET", "/v2/apps/me/members/a3/stream-key");
    BOOST_REQUIRE_MESSAGE(key.status == 200, key.body);
    auto reissue = call("POST", "/v2/apps/me/stream-keys/" + std::to_string(body_of(key)["id"].get<std::int64_t>()) +
                                    "/reissue");
    BOOST_REQUIRE_MESSAGE(reissue.status == 200, reissue.body);
    auto del = call("DELETE", "/v2/apps/me/members/a5");
    BOOST_REQUIRE_MESSAGE(del.status == 200 || del.status == 204, del.status << " " << del.body);

    const auto k = wait_published(srv, data);
    topic = read_whole_topic(k["bootstrap"].get<std::string>());
    BOOST_TEST(srv.stop() == 0);
  }
  BOOST_REQUIRE_GT(topic.size(), 20u);

  // From the topic alone, in log order (the position every event carries).
  std::sort(topic.begin(), topic.end(), [](const auto& a, const auto& b) { return a.position < b.position; });
  memory_views from_topic;
  const auto project = onair::storage::make_projector();
  for (const auto& m : topic)
    project(to_record(json::parse(m.value)), from_topic);

  // From RocksDB: the read model onair keeps, secrets redacted as the stream has them.
  onair::storage::event_store::options so;
  so.path = (data / "events").string();
  auto store = onair::storage::event_store::open(so);
  if (!store)
    BOOST_FAIL("open store: " << store.error().message);
  std::vector<std::string> secrets;
  std::uint64_t after = 0;
  for (;;) {
    auto batch = (*store)->read_all(after, 4096);
    BOOST_REQUIRE(batch.ok());
    if (batch->empty())
      break;
    for (const auto& rec : *batch) {
      after = rec.position;
      auto d = json::parse(rec.data, nullptr, false);
      for (const char* f : {"streamKey", "newStreamKey"})
        if (d.is_object() && d.contains(f) && d[f].is_string() && !d[f].get<std::string>().empty())
          secrets.push_back(d[f].get<std::string>());
    }
  }
  BOOST_TEST(secrets.size() >= 8u);
  std::map<std::string, std::string> from_store;
  (*store)->views().scan("", [&](std::string_view k, std::string_view v) {
    std::string key{k}, value{v};
    // A member's personal data is sealed in onair's views and opened on the stream: compare what
    // onair's views read as (storage/personal_data.hpp).
    if (auto doc = json::parse(value, nullptr, false); doc.is_object() && doc.contains("state")) {
      onair::storage::personal::open(&(*store)->personal_keys(), doc["state"]);
      if (doc["state"].is_object())
        doc["state"].erase(std::string{onair::storage::personal::marker});
      value = doc.dump();
    }
    for (const auto& s : secrets) {
      key = replace_all(key, s, "***");
      value = replace_all(value, s, "***");
    }
    if (comparable(key))
      from_store[key] = value;
    return true;
  });
  std::map<std::string, std::string> rebuilt;
  for (const auto& [k, v] : from_topic.all())
    if (comparable(k))
      rebuilt[k] = v;

  BOOST_TEST(from_store.size() > 20u);
  std::size_t shown = 0;
  for (const auto& [k, v] : from_store) {
    auto it = rebuilt.find(k);
    if (it == rebuilt.end() || it->second != v) {
      if (++shown <= 5)
        BOOST_ERROR("view " << k << " = " << v << "\n  rebuilt from the topic: "
                            << (it == rebuilt.end() ? std::string{"(missing)"} : it->second));
    }
  }
  for (const auto& [k, v] : rebuilt)
    if (!from_store.count(k) && ++shown <= 10)
      BOOST_ERROR("only rebuilt from the topic: " << k << " = " << v);
  BOOST_TEST(shown == 0u);
  BOOST_TEST(rebuilt.size() == from_store.size());
}

BOOST_AUTO_TEST_SUITE_END()
