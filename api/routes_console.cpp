// GET /console and /console/...: the user console, a single-page app built by Vite from
// api/console into web_dir/console (ops/deps builds it). Every file of the build is read once at
// start and served from memory: no disk reads on the loop, and nothing outside the build can be
// asked for. A path that names no file and looks like none of them (no extension) is one of the
// app's own routes (/console/rooms/12) and gets index.html, which routes it in the browser.
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

// Vite names what it emits under assets/ by content hash: such a name never changes meaning.
constexpr std::string_view hashed_prefix = "assets/";
// No single file of a build is near this; a bigger one is not what Vite writes.
constexpr std::uintmax_t max_file_bytes = 16u << 20;

struct console_file {
  std::string content_type;
  std::string cache_control;
  std::string body;
};

using console_files = std::unordered_map<std::string, console_file>;

std::string content_type_of(const fs::path& p) {
  static const std::unordered_map<std::string, std::string> types{
      {".html", "text/html; charset=utf-8"},
      {".js", "application/javascript; charset=utf-8"},
      {".mjs", "application/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".md", "text/markdown; charset=utf-8"},
  };
  auto it = types.find(p.extension().string());
  return it == types.end() ? "application/octet-stream" : it->second;
}

std::optional<std::string> read_whole(const fs::path& p) {
  std::ifstream in{p, std::ios::binary};
  if (!in)
    return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// relative name ("index.html", "assets/index-3f2a.js") → file, for every regular file of the build.
console_files load_build(const fs::path& dir) {
  console_files out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return out;
  for (auto it = fs::recursive_directory_iterator{dir, ec}; !ec && it != fs::recursive_directory_iterator{};
       it.increment(ec)) {
    if (!it->is_regular_file(ec))
      continue;
    if (it->file_size(ec) > max_file_bytes) {
      spdlog::warn("console file too big, not served file={}", it->path().string());
      continue;
    }
    const auto name = fs::relative(it->path(), dir, ec).generic_string();
    auto body = read_whole(it->path());
    if (ec || !body) {
      spdlog::warn("console file unreadable file={}", it->path().string());
      continue;
    }
    const bool hashed = name.starts_with(hashed_prefix);
    out.emplace(name, console_file{content_type_of(it->path()),
                                   name == "index.html" ? "no-cache"
                                   : hashed             ? "public, max-age=31536000, immutable"
                                                        : "public, max-age=3600",
                                   std::move(*body)});
  }
  if (ec)
    spdlog::warn("console build not fully read dir={} error={}", dir.string(), ec.message());
  return out;
}

http_response file_response(const console_file& f) {
  http_response r;
  r.content_type = f.content_type;
  r.body = f.body;
  r.headers.emplace_back("Cache-Control", f.cache_control);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  if (f.content_type.starts_with("text/html")) {
    // Scripts and styles only from the build; players may fetch media from wherever the API says
    // it is played (a proxy in front can put /play on another host), and hls.js runs a blob worker.
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src * data: blob:; media-src * blob:; connect-src *; worker-src 'self' blob:; "
                           "object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
  }
  return r;
}

// The file a request path under /console names, or the app's page for one of its routes.
void serve(const console_files& files, const std::string& name, const responder& respond) {
  const auto index = files.find("index.html");
  if (index == files.end())
    return respond(error_response(503, "CONSOLE_UNAVAILABLE",
                                  "the console is not built on this server (ops/deps builds it into the web folder)"));
  if (name.empty())
    return respond(file_response(index->second));
  if (auto it = files.find(name); it != files.end())
    return respond(file_response(it->second));
  const bool looks_like_file = name.starts_with(hashed_prefix) || fs::path{name}.has_extension();
  if (looks_like_file)
    return respond(error_response(404, "NOT_FOUND", "no such file under /console"));
  respond(file_response(index->second));
}

} // namespace

void install_console_routes(http_server& http, const std::string& web_dir) {
  const fs::path dir = fs::path{web_dir} / "console";
  auto files = std::make_shared<const console_files>(load_build(dir));
  if (files->contains("index.html"))
    spdlog::info("console loaded dir={} files={}", dir.string(), files->size());
  else
    spdlog::warn("console not built dir={} (ops/deps builds it; /console answers 503)", dir.string());

  for (const char* page : {"/console", "/console/"})
    http.route("GET", page, [files](const http_request&, responder respond) { serve(*files, {}, respond); });
  // The router matches whole segments: one route per depth. Vite's build and the app's own
  // routes (/console/rooms/12) are two deep at most.
  http.route("GET", "/console/{file}", [files](const http_request& req, responder respond) {
    serve(*files, req.params.at("file"), respond);
  });
  http.route("GET", "/console/{folder}/{file}", [files](const http_request& req, responder respond) {
    serve(*files, req.params.at("folder") + "/" + req.params.at("file"), respond);
  });
}

} // namespace onair::api
