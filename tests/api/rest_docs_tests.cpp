// GET /openapi.json matches what the server routes, both ways, and is a valid OpenAPI 3 document
// (checked by @apidevtools/swagger-parser from npm); /docs serves swagger-ui from this server.
#include <set>

#include "api/server.hpp"
#include "harness.hpp"

using namespace onair::test_harness;

namespace {

// The route patterns the server answers, as "METHOD /path/{param}".
std::set<std::string> served_routes() {
  temp_dir dir;
  onair::api::server_config cfg;
  cfg.data_dir = (dir.path() / "data").string();
  cfg.http_listen = "127.0.0.1:0";
  cfg.rtmp_listen = "127.0.0.1:0";
  cfg.kafka = "off";
  onair::api::server srv{cfg};
  auto port = srv.start();
  BOOST_REQUIRE_MESSAGE(port.ok(), (port.ok() ? "" : port.error().message));
  std::set<std::string> out;
  for (const auto& [method, pattern] : srv.routes())
    out.insert(method + " " + pattern);
  srv.stop();
  return out;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

} // namespace

BOOST_AUTO_TEST_SUITE(rest_docs)

BOOST_AUTO_TEST_CASE(every_route_served_is_documented_and_every_documented_route_is_served) {
  temp_dir dir;
  server_process srv{dir.path() / "data"};
  srv.wait_ready();
  auto r = http_call(srv.http().host, srv.http().port, "GET", "/openapi.json");
  BOOST_TEST_REQUIRE(r.status == 200);
  BOOST_TEST(header_of(r, "content-type").rfind("application/json", 0) == 0);
  const auto doc = json::parse(r.body, nullptr, false);
  BOOST_REQUIRE(doc.is_object());
  BOOST_TEST(doc["openapi"].get<std::string>().rfind("3.", 0) == 0);

  std::set<std::string> documented;
  for (const auto& [path, ops] : doc["paths"].items())
    for (const auto& [method, op] : ops.items()) {
      documented.insert(upper(method) + " " + path);
      BOOST_TEST(op.contains("summary"), method << " " << path << " has no summary");
      BOOST_TEST(op.contains("responses"), method << " " << path << " has no responses");
    }
  const auto served = served_routes();
  BOOST_TEST(served.size() > 30u);
  for (const auto& s : served)
    BOOST_TEST(documented.contains(s), s << " is served but not in /openapi.json");
  for (const auto& d : documented)
    BOOST_TEST(served.contains(d), d << " is in /openapi.json but not served");
}

BOOST_AUTO_TEST_CASE(the_document_is_valid_openapi) {
  // Validated by a real OpenAPI parser (npm, installed by ops/deps beside swagger-ui).
  const fs::path web = fs::path{ONAIR_SOURCE_DIR} / "api" / "web";
  BOOST_REQUIRE_MESSAGE(fs::exists(web / "node_modules" / "@apidevtools" / "swagger-parser"),
                        "npm packages missing under " << web << ": run ops/deps");
  temp_dir dir;
  server_process srv{dir.path() / "data"};
  srv.wait_ready();
  auto r = http_call(srv.http().host, srv.http().port, "GET", "/openapi.json");
  BOOST_TEST_REQUIRE(r.status == 200);
  const auto served_doc = dir.path() / "openapi.json";
  std::ofstream{served_doc} << r.body;
  const auto script = "const p = require('" + (web / "node_modules" / "@apidevtools" / "swagger-parser").string() +
                      "'); p.validate(process.argv[1]).then(a => console.log('valid ' + Object.keys(a.paths).length))"
                      ".catch(e => { console.error(e.message); process.exit(1); });";
  const auto out = dir.path() / "node.out";
  const auto cmd = "node -e \"" + script + "\" '" + served_doc.string() + "' > '" + out.string() + "' 2>&1";
  const int rc = std::system(cmd.c_str());
  BOOST_TEST(rc == 0, "swagger-parser: " << read_file(out));
  BOOST_TEST(contains(read_file(out), "valid "), read_file(out));
}

BOOST_AUTO_TEST_CASE(docs_render_with_swagger_ui_served_by_onair) {
  temp_dir dir;
  server_process srv{dir.path() / "data"};
  srv.wait_ready();
  const auto ep = srv.http();
  auto page = http_call(ep.host, ep.port, "GET", "/docs");
  BOOST_TEST_REQUIRE(page.status == 200, page.body);
  BOOST_TEST(header_of(page, "content-type").rfind("text/html", 0) == 0);
  BOOST_TEST(contains(page.body, "/docs/swagger-ui-bundle.js"));
  BOOST_TEST(!contains(page.body, "https://"), "no CDN");
  for (const char* f : {"swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css", "onair-docs.js"}) {
    auto a = http_call(ep.host, ep.port, "GET", std::string{"/docs/"} + f);
    BOOST_TEST(a.status == 200, f);
    BOOST_TEST(!a.body.empty(), f);
  }
  BOOST_TEST(contains(http_call(ep.host, ep.port, "GET", "/docs/onair-docs.js").body, "/openapi.json"));
  // Only the listed files: no path tricks reach the disk.
  BOOST_TEST(http_call(ep.host, ep.port, "GET", "/docs/..%2f..%2fCMakeLists.txt").status == 404);
  BOOST_TEST(http_call(ep.host, ep.port, "GET", "/docs/package.json").status == 404);
}

BOOST_AUTO_TEST_SUITE_END()
