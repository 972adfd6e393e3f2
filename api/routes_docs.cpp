// GET /openapi.json and /docs. The swagger-ui files are read once at start from the npm install
// under web_dir (ops/deps runs `npm ci` there) and served from memory: no disk reads on the loop,
// and only the files listed here can be asked for.
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "api/routes.hpp"

namespace onair::api {

namespace {

namespace fs = std::filesystem;

struct asset {
  std::string content_type;
  std::string body;
};

std::optional<std::string> read_whole(const fs::path& p) {
  std::ifstream in{p, std::ios::binary};
  if (!in)
    return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string content_type_of(const std::string& name) {
  const auto ext = fs::path{name}.extension().string();
  if (ext == ".html")
    return "text/html; charset=utf-8";
  if (ext == ".js")
    return "application/javascript; charset=utf-8";
  if (ext == ".css")
    return "text/css; charset=utf-8";
  if (ext == ".png")
    return "image/png";
  return "application/octet-stream";
}

// name → asset, from web_dir/docs (ours) and swagger-ui-dist (npm).
std::unordered_map<std::string, asset> load_assets(const fs::path& web_dir) {
  const fs::path ours = web_dir / "docs";
  const fs::path dist = web_dir / "node_modules" / "swagger-ui-dist";
  const std::pair<const char*, fs::path> files[] = {
      {"index.html", ours},        {"onair-docs.js", ours},
      {"swagger-ui.css", dist},    {"swagger-ui-bundle.js", dist},
      {"swagger-ui-standalone-preset.js", dist}, {"favicon-32x32.png", dist},
      {"favicon-16x16.png", dist},
  };
  std::unordered_map<std::string, asset> out;
  for (const auto& [name, dir] : files) {
    if (auto body = read_whole(dir / name))
      out.emplace(name, asset{content_type_of(name), std::move(*body)});
    else
      spdlog::warn("docs asset missing file={} (run ops/deps to install swagger-ui from npm)", (dir / name).string());
  }
  return out;
}

http_response asset_response(const asset& a) {
  http_response r;
  r.content_type = a.content_type;
  r.body = a.body;
  r.headers.emplace_back("Cache-Control", "public, max-age=3600");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return r;
}

} // namespace

void install_docs_routes(http_server& http, const std::string& web_dir) {
  http.route("GET", "/openapi.json", [](const http_request&, responder respond) {
    http_response r;
    r.body = std::string{openapi_document()};
    r.headers.emplace_back("Access-Control-Allow-Origin", "*");
    respond(std::move(r));
  });

  auto assets = std::make_shared<const std::unordered_map<std::string, asset>>(load_assets(web_dir));
  const auto serve = [assets](const std::string& name, const responder& respond) {
    auto it = assets->find(name);
    if (it == assets->end())
      return respond(error_response(name == "index.html" ? 503 : 404, name == "index.html" ? "DOCS_UNAVAILABLE" : "NOT_FOUND",
                                    name == "index.html" ? "swagger-ui is not installed on this server (ops/deps installs it)"
                                                         : "no such file under /docs"));
    respond(asset_response(it->second));
  };
  http.route("GET", "/docs", [serve](const http_request&, responder respond) { serve("index.html", respond); });
  http.route("GET", "/docs/{file}", [serve](const http_request& req, responder respond) {
    serve(req.params.at("file"), respond);
  });
}

} // namespace onair::api
