#pragma once
// An app's audit feed as the API tests read it: a client that knows its app and pages through
// GET /v2/apps/me/events (with a query) to its end, a server on a fresh data folder that makes
// apps for it, and one that has one app and calls the API as anyone.
#include <string>

#include "harness.hpp"

namespace onair::test_harness {

struct feed_client : api_client {
  std::int64_t app_id = 0;
  feed_client(endpoint e, std::string auth, std::int64_t app) : api_client(std::move(e), std::move(auth)), app_id(app) {}

  // Every event the query takes, page by page, following `next` while `more` says so; each page
  // keeps the query.
  json all(const std::string& query = {}, int limit = 1000) const {
    json out = json::array();
    std::uint64_t after = 0;
    for (int pages = 0; pages < 1000; ++pages) {
      auto r = get("/v2/apps/me/events?limit=" + std::to_string(limit) + "&after=" + std::to_string(after) +
                   (query.empty() ? "" : "&" + query));
      BOOST_REQUIRE_MESSAGE(r.status == 200, query << ": " << r);
      BOOST_REQUIRE(r.body["more"].is_boolean());
      for (const auto& e : r.body["events"])
        out.push_back(e);
      const auto next = r.body["next"].get<std::uint64_t>();
      BOOST_TEST(next >= after);
      after = next;
      if (!r.body["more"].get<bool>())
        return out;
    }
    BOOST_FAIL("the feed did not end");
    return out;
  }
};

struct feed_server {
  temp_dir dir;
  fs::path data = dir.path() / "data";
  server_process srv{data};

  feed_server() { srv.wait_ready(); }

  feed_client app(const std::string& name) {
    auto a = create_app(data, name);
    return feed_client{srv.http(), basic_auth(a["apiKey"].get<std::string>(), a["apiSecret"].get<std::string>()),
                       a["id"].get<std::int64_t>()};
  }
};

// A server on a fresh data folder with one app, calling the API with any credentials and headers.
struct one_app_server {
  temp_dir dir;
  fs::path data = dir.path() / "data";
  server_process srv{data};
  json app;
  std::string auth;

  explicit one_app_server(const std::string& name) {
    srv.wait_ready();
    app = create_app(data, name);
    auth = basic_auth(app["apiKey"].get<std::string>(), app["apiSecret"].get<std::string>());
  }

  http_reply call(const std::string& method, const std::string& path, const std::string& authorization,
                  const json& body = nullptr, std::vector<std::pair<std::string, std::string>> headers = {}) {
    headers.emplace_back("Authorization", authorization);
    if (!body.is_null())
      headers.emplace_back("Content-Type", "application/json");
    return http_call(srv.http().host, srv.http().port, method, path, headers, body.is_null() ? "" : body.dump());
  }

  // The app's feed, every event.
  json feed() const { return feed_client{srv.http(), auth, app["id"].get<std::int64_t>()}.all(); }
};

} // namespace onair::test_harness
