// /vod/{videoPostId}/… over HTTP: an http_server with the VOD routes on a runtime in this process,
// a video post made through its aggregate, and its archive folder written as the archiver leaves
// it (complete, renamed into place). Whole files, byte ranges, validators, HEAD, CORS, 404s for
// unknown and deleted posts and for every way out of the folder, and thumbnails made on demand
// from a real MP4. The last case checks that `onair serve` installs the routes.
#include <boost/test/unit_test.hpp>

#include <future>
#include <map>
#include <set>

#include "actors/runtime.hpp"
#include "api/routes.hpp"
#include "api/server.hpp"
#include "file_probe.hpp"
#include "harness.hpp"

using namespace onair::test_harness;
using onair::testing::shell_output;

namespace {

namespace domain = onair::domain;
namespace api = onair::api;
namespace actors = onair::actors;

std::string pattern_bytes(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

void write_file(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream{p, std::ios::binary} << bytes;
}

// Width and height from a JPEG's frame header; {0, 0} when it is not a JPEG.
std::pair<int, int> jpeg_size(const std::string& j) {
  const auto b = [&j](std::size_t i) { return static_cast<unsigned char>(j[i]); };
  if (j.size() < 4 || b(0) != 0xFF || b(1) != 0xD8 || b(j.size() - 2) != 0xFF || b(j.size() - 1) != 0xD9)
    return {0, 0};
  std::size_t i = 2;
  while (i + 4 <= j.size() && b(i) == 0xFF) {
    const auto marker = b(i + 1);
    if (marker >= 0xC0 && marker <= 0xC3 && i + 9 <= j.size())
      return {(b(i + 7) << 8) | b(i + 8), (b(i + 5) << 8) | b(i + 6)};
    i += 2 + ((b(i + 2) << 8) | b(i + 3));
  }
  return {0, 0};
}

// The answers' CORS, whatever their status.
void check_cors(const http_reply& r) {
  BOOST_TEST(header_of(r, "Access-Control-Allow-Origin") == "*", r.head);
  const auto exposed = header_of(r, "Access-Control-Expose-Headers");
  for (const char* h : {"Content-Length", "Content-Range", "ETag"})
    BOOST_TEST(contains(exposed, h), h << " not exposed: " << r.head);
}

void check_json_error(const http_reply& r, int status, const std::string& code) {
  BOOST_TEST(r.status == status, r.head << "\n" << r.body);
  const auto j = json::parse(r.body, nullptr, false);
  BOOST_REQUIRE_MESSAGE(j.is_object(), "not a JSON error: " << r.body);
  BOOST_TEST(j.value("errorCode", "") == code, r.body);
  BOOST_TEST(j.value("status", 0) == status, r.body);
  BOOST_TEST(header_of(r, "Content-Type") == "application/json", r.head);
  check_cors(r);
}

// The VOD routes on their own http_server, over a runtime on a fresh data folder.
struct vod_server {
  temp_dir dir;
  fs::path data = dir.path() / "data";
  std::unique_ptr<actors::runtime> rt;
  std::unique_ptr<api::rest_context> ctx;
  std::unique_ptr<api::http_server> http; // last: stopped before what its routes use
  int port = 0;
  static constexpr domain::app_id app = 7;

  vod_server() {
    actors::runtime::options o;
    o.data_dir = data.string();
    o.sync = false;
    auto r = actors::runtime::open(o);
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    rt = std::move(r).value();
    ctx = std::make_unique<api::rest_context>(api::rest_context{*rt, "", ""});
    ctx->vod_dir = (data / "vod").string();
    http = std::make_unique<api::http_server>(api::http_server::options{});
    api::install_vod_routes(*http, *ctx);
    auto p = http->start();
    BOOST_REQUIRE(p.ok());
    port = *p;
  }
  ~vod_server() { http.reset(); }

  std::int64_t create_post() {
    auto id = rt->next_id();
    BOOST_REQUIRE(id.ok());
    domain::create_post c;
    c.id = *id;
    c.room_id = 1;
    c.title = "launch";
    auto r = rt->ask_sync<domain::video_post_aggregate>({app, std::to_string(*id)}, c, onair::domain::provenance::system("test"));
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return *id;
  }
  void delete_post(std::int64_t id) {
    auto r = rt->ask_sync<domain::video_post_aggregate>({app, std::to_string(id)}, domain::delete_post{}, onair::domain::provenance::system("test"));
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  }
  // The archive as the archiver leaves it: written aside, then renamed into place whole.
  fs::path publish_archive(std::int64_t id, const std::map<std::string, std::string>& files) {
    const auto aside = data / "vod" / ".tmp" / std::to_string(id);
    for (const auto& [name, bytes] : files)
      write_file(aside / name, bytes);
    const auto folder = data / "vod" / std::to_string(app) / std::to_string(id);
    fs::create_directories(folder.parent_path());
    fs::rename(aside, folder);
    return folder;
  }

  http_reply call(const std::string& method, const std::string& path, const headers_t& headers = {}) const {
    return http_call("127.0.0.1", port, method, path, headers);
  }
  http_reply get(const std::string& path, const headers_t& headers = {}) const { return call("GET", path, headers); }
};

// An MP4 from the ffmpeg CLI (2 s, 320x180, a key frame a second), made once.
const std::string& source_mp4() {
  static temp_dir dir;
  static const std::string bytes = [] {
    const auto f = dir.path() / "original.mp4";
    const auto cmd = "ffmpeg -v error -y -f lavfi -i testsrc2=size=320x180:rate=30 -t 2 -c:v libx264 -preset "
                     "ultrafast -g 30 -pix_fmt yuv420p -movflags +faststart " +
                     f.string() + " 2>&1";
    BOOST_REQUIRE_MESSAGE(shell_output(cmd).empty(), "ffmpeg encodes the source");
    return read_file(f);
  }();
  return bytes;
}

// A post with its whole archive: the files and their bytes.
struct archived_post : vod_server {
  std::int64_t id = create_post();
  std::map<std::string, std::string> files{
      {"index.m3u8", "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-STREAM-INF:BANDWIDTH=800000\nv0.m3u8\n"},
      {"v0.m3u8", "#EXTM3U\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MAP:URI=\"v0/init.mp4\"\n#EXTINF:2.0,\nv0/00001.m4s\n"},
      {"v1.m3u8", "#EXTM3U\n"},
      {"a.m3u8", "#EXTM3U\n"},
      {"manifest.mpd", "<?xml version=\"1.0\"?><MPD type=\"static\"/>\n"},
      {"original.mp4", source_mp4()},
      {"thumbnail.jpg", "\xFF\xD8 stored thumbnail \xFF\xD9"},
      {"v0/init.mp4", pattern_bytes(700, 1)},
      {"v0/00001.m4s", pattern_bytes(5000, 2)},
      {"v0/00002.m4s", pattern_bytes(3 << 20, 3)}, // past the 1 MiB single write: sendfile in several
      {"a/init.mp4", pattern_bytes(600, 4)},
      {"a/00001.m4s", pattern_bytes(900, 5)},
  };
  fs::path folder = publish_archive(id, files);
  std::string base = "/vod/" + std::to_string(id) + "/";
};

} // namespace

BOOST_AUTO_TEST_SUITE(vod_routes)

BOOST_FIXTURE_TEST_CASE(every_file_whole_with_its_type_validators_and_cors, archived_post) {
  const std::map<std::string, std::string> types{{".m3u8", "application/vnd.apple.mpegurl"},
                                                 {".mpd", "application/dash+xml"},
                                                 {".mp4", "video/mp4"},
                                                 {".m4s", "video/iso.segment"},
                                                 {".jpg", "image/jpeg"}};
  std::set<std::string> etags;
  for (const auto& [name, bytes] : files) {
    const auto r = get(base + name);
    BOOST_TEST_CONTEXT(name) {
      BOOST_TEST(r.status == 200, r.head);
      BOOST_TEST((r.body == bytes));
      BOOST_TEST(header_of(r, "Content-Length") == std::to_string(bytes.size()));
      BOOST_TEST(header_of(r, "Content-Type") == types.at(name.substr(name.rfind('.'))));
      BOOST_TEST(header_of(r, "Cache-Control") == "public, max-age=31536000, immutable");
      BOOST_TEST(header_of(r, "Accept-Ranges") == "bytes");
      const auto etag = header_of(r, "ETag");
      BOOST_TEST((etag.size() > 2 && etag.front() == '"' && etag.back() == '"'), etag);
      etags.insert(etag);
      BOOST_TEST(header_of(r, "Last-Modified").ends_with(" GMT"), r.head);
      check_cors(r);
      // The same file, the same validator.
      BOOST_TEST(header_of(get(base + name), "ETag") == etag);
    }
  }
  BOOST_TEST(etags.size() == files.size(), "each file has its own ETag");
}

BOOST_FIXTURE_TEST_CASE(byte_ranges, archived_post) {
  const auto& mp4 = files.at("original.mp4");
  const auto size = mp4.size();
  const auto whole = std::to_string(size);
  struct row {
    std::string range;
    std::size_t first, last;
  };
  for (const auto& [range, first, last] : std::vector<row>{{"bytes=0-99", 0, 99},
                                                            {"bytes=100-", 100, size - 1},
                                                            {"bytes=-10", size - 10, size - 1},
                                                            {"bytes=5-5", 5, 5},
                                                            {"bytes=10-999999999", 10, size - 1},
                                                            {"bytes=-999999999", 0, size - 1},
                                                            {"bytes=0-99999999999999999999999", 0, size - 1}}) {
    const auto r = get(base + "original.mp4", {{"Range", range}});
    BOOST_TEST_CONTEXT(range) {
      BOOST_TEST(r.status == 206, r.head);
      BOOST_TEST(header_of(r, "Content-Range") ==
                 "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" + whole);
      BOOST_TEST(header_of(r, "Content-Length") == std::to_string(last - first + 1));
      BOOST_TEST((r.body == mp4.substr(first, last - first + 1)));
      BOOST_TEST(header_of(r, "Content-Type") == "video/mp4");
      check_cors(r);
    }
  }
  // Deep in a large file.
  const auto& big = files.at("v0/00002.m4s");
  const auto far = get(base + "v0/00002.m4s", {{"Range", "bytes=2000000-2100099"}});
  BOOST_TEST(far.status == 206);
  BOOST_TEST((far.body == big.substr(2'000'000, 100'100)));

  // Past the end, or an empty suffix: 416 with the size.
  for (const auto& range : {"bytes=" + whole + "-", "bytes=" + whole + "-" + whole, std::string{"bytes=-0"}}) {
    const auto r = get(base + "original.mp4", {{"Range", range}});
    BOOST_TEST_CONTEXT(range) {
      check_json_error(r, 416, "INVALID_PARAMETER");
      BOOST_TEST(header_of(r, "Content-Range") == "bytes */" + whole);
    }
  }
  // Malformed, several ranges, another unit, last before first: ignored, the whole file.
  for (const char* range : {"bytes=abc", "bytes=1-2,4-5", "items=0-1", "bytes=9-2", "bytes=", "bytes=-", "0-10"}) {
    const auto r = get(base + "original.mp4", {{"Range", range}});
    BOOST_TEST_CONTEXT(range) {
      BOOST_TEST(r.status == 200, r.head);
      BOOST_TEST(r.body.size() == size);
      BOOST_TEST(header_of(r, "Content-Range").empty());
    }
  }
  // If-Range: honoured, by ETag (strong) or by the exact Last-Modified date.
  const auto plain = get(base + "original.mp4");
  const auto etag = header_of(plain, "ETag");
  const auto date = header_of(plain, "Last-Modified");
  BOOST_TEST(get(base + "original.mp4", {{"Range", "bytes=0-9"}, {"If-Range", etag}}).status == 206);
  BOOST_TEST(get(base + "original.mp4", {{"Range", "bytes=0-9"}, {"If-Range", date}}).status == 206);
  const auto changed = get(base + "original.mp4", {{"Range", "bytes=0-9"}, {"If-Range", "\"elsewhere\""}});
  BOOST_TEST(changed.status == 200);
  BOOST_TEST(changed.body.size() == size);
  BOOST_TEST(get(base + "original.mp4", {{"Range", "bytes=0-9"}, {"If-Range", "W/" + etag}}).status == 200);
}

BOOST_FIXTURE_TEST_CASE(validators_answer_not_modified, archived_post) {
  const auto first = get(base + "v0/00001.m4s");
  const auto etag = header_of(first, "ETag");
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"If-None-Match", etag},
           {"If-None-Match", "W/" + etag},
           {"If-None-Match", "\"x\", " + etag},
           {"If-None-Match", "*"},
           {"If-Modified-Since", header_of(first, "Last-Modified")}}) {
    const auto r = get(base + "v0/00001.m4s", {{name, value}});
    BOOST_TEST_CONTEXT(name << ": " << value) {
      BOOST_TEST(r.status == 304, r.head);
      BOOST_TEST(r.body.empty());
      BOOST_TEST(header_of(r, "ETag") == etag);
      BOOST_TEST(header_of(r, "Cache-Control") == "public, max-age=31536000, immutable");
      check_cors(r);
    }
  }
  BOOST_TEST(get(base + "v0/00001.m4s", {{"If-None-Match", "\"other\""}}).status == 200);
  BOOST_TEST(get(base + "v0/00001.m4s", {{"If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"}}).status == 200);
  // Another file's ETag is not this one's.
  const auto other = header_of(get(base + "v0/init.mp4"), "ETag");
  BOOST_TEST(get(base + "v0/00001.m4s", {{"If-None-Match", other}}).status == 200);
}

BOOST_FIXTURE_TEST_CASE(head_has_the_headers_without_the_body, archived_post) {
  const auto size = std::to_string(files.at("original.mp4").size());
  auto r = call("HEAD", base + "original.mp4");
  BOOST_TEST(r.status == 200, r.head);
  BOOST_TEST(r.body.empty());
  BOOST_TEST(header_of(r, "Content-Length") == size);
  BOOST_TEST(header_of(r, "Content-Type") == "video/mp4");
  BOOST_TEST(!header_of(r, "ETag").empty());
  check_cors(r);

  r = call("HEAD", base + "original.mp4", {{"Range", "bytes=0-99"}});
  BOOST_TEST(r.status == 206, r.head);
  BOOST_TEST(r.body.empty());
  BOOST_TEST(header_of(r, "Content-Length") == "100");
  BOOST_TEST(header_of(r, "Content-Range") == "bytes 0-99/" + size);

  r = call("HEAD", base + "nothing.mp4");
  BOOST_TEST(r.status == 404, r.head);
  BOOST_TEST(r.body.empty());
  check_cors(r);
}

BOOST_FIXTURE_TEST_CASE(unknown_deleted_missing_and_outside_answer_404_with_cors, archived_post) {
  const auto sid = std::to_string(id);
  // A file beside the post's folder and one beside the VOD folder: never reachable.
  write_file(folder.parent_path() / "secret.txt", "TOP-SECRET app");
  write_file(data / "vod" / "secret.txt", "TOP-SECRET vod");
  write_file(data / "secret.txt", "TOP-SECRET data");

  check_json_error(get("/vod/999999/index.m3u8"), 404, "VIDEO_POST_NOT_FOUND");
  check_json_error(get("/vod/999999/v0/init.mp4"), 404, "VIDEO_POST_NOT_FOUND");
  check_json_error(get(base + "missing.m3u8"), 404, "NOT_FOUND");
  check_json_error(get(base + "v2/init.mp4"), 404, "NOT_FOUND");
  check_json_error(get(base + "v0"), 404, "NOT_FOUND"); // a folder
  for (const auto& path : {std::string{"/vod/0/index.m3u8"}, std::string{"/vod/-1/index.m3u8"},
                           std::string{"/vod/abc/index.m3u8"}, std::string{"/vod/%2e%2e/index.m3u8"},
                           std::string{"/vod/+1/index.m3u8"}, base + "..", base + ".", base + "%2e%2e",
                           base + "%2E%2E", base + "../secret.txt", base + "..%2fsecret.txt",
                           base + "%2e%2e%2fsecret.txt", base + "%2e%2e/secret.txt", base + "..%2f..%2fsecret.txt", base + "%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.txt",
                           base + "v0/%2e%2e%2f%2e%2e%2fsecret.txt", base + "v0%2f..%2f..%2fsecret.txt",
                           base + "index%2em3u8%2f", base + "a%20b.m3u8", base + "index.m3u8%00.jpg%2f",
                           base + "~", "/vod/" + sid + "/%2fetc%2fpasswd"}) {
    const auto r = get(path);
    BOOST_TEST_CONTEXT(path) {
      BOOST_TEST(r.status == 404, r.head);
      BOOST_TEST(!contains(r.body, "TOP-SECRET"));
      check_cors(r);
    }
  }
  // Deeper than any route: the server's own 404.
  for (const auto& path : {base + "../../secret.txt", base + "v0/../../secret.txt", base + "%2e%2e/%2e%2e/secret.txt"}) {
    const auto r = get(path);
    BOOST_TEST(r.status == 404, path << ": " << r.head);
    BOOST_TEST(!contains(r.body, "TOP-SECRET"), path);
  }
  // Deleted: 404 though its files are still there.
  BOOST_TEST(get(base + "index.m3u8").status == 200);
  delete_post(id);
  check_json_error(get(base + "index.m3u8"), 404, "VIDEO_POST_NOT_FOUND");
  check_json_error(get(base + "thumbnail.jpg?width=100"), 404, "VIDEO_POST_NOT_FOUND");
}

BOOST_FIXTURE_TEST_CASE(cors_preflight, archived_post) {
  for (const auto& path : {base + "original.mp4", base + "v0/00001.m4s"}) {
    const auto r = call("OPTIONS", path,
                        {{"Origin", "https://player.example"},
                         {"Access-Control-Request-Method", "GET"},
                         {"Access-Control-Request-Headers", "range"}});
    BOOST_TEST_CONTEXT(path) {
      BOOST_TEST(r.status == 204, r.head);
      BOOST_TEST(header_of(r, "Access-Control-Allow-Origin") == "*");
      const auto methods = header_of(r, "Access-Control-Allow-Methods");
      BOOST_TEST(contains(methods, "GET"), methods);
      BOOST_TEST(contains(methods, "HEAD"), methods);
      BOOST_TEST(header_of(r, "Access-Control-Allow-Headers") == "range");
    }
  }
}

BOOST_FIXTURE_TEST_CASE(thumbnails_on_demand, archived_post) {
  // No query: the stored one.
  BOOST_TEST((get(base + "thumbnail.jpg").body == files.at("thumbnail.jpg")));
  BOOST_TEST((get(base + "thumbnail.jpg?v=2").body == files.at("thumbnail.jpg")));

  auto r = get(base + "thumbnail.jpg?time=1.5&width=160");
  BOOST_TEST(r.status == 200, r.head);
  BOOST_TEST(header_of(r, "Content-Type") == "image/jpeg");
  BOOST_TEST((jpeg_size(r.body) == std::pair{160, 90}));
  BOOST_TEST(header_of(r, "Content-Length") == std::to_string(r.body.size()));
  BOOST_TEST(header_of(r, "Cache-Control") == "public, max-age=86400");
  check_cors(r);
  const auto etag = header_of(r, "ETag");
  BOOST_TEST(!etag.empty());
  const auto again = get(base + "thumbnail.jpg?time=1.5&width=160", {{"If-None-Match", etag}});
  BOOST_TEST(again.status == 304, again.head);
  BOOST_TEST(again.body.empty());
  // Other options, another picture and another ETag.
  const auto other = get(base + "thumbnail.jpg?time=0.5&width=160");
  BOOST_TEST(other.status == 200);
  BOOST_TEST(header_of(other, "ETag") != etag);
  BOOST_TEST((other.body != r.body));

  BOOST_TEST((jpeg_size(get(base + "thumbnail.jpg?time=1").body) == std::pair{320, 180}));
  BOOST_TEST((jpeg_size(get(base + "thumbnail.jpg?width=100").body) == std::pair{100, 56}));
  BOOST_TEST((jpeg_size(get(base + "thumbnail.jpg?width=9999").body) == std::pair{320, 180})); // not upscaled
  BOOST_TEST((jpeg_size(get(base + "thumbnail.jpg?time=3600").body) == std::pair{320, 180}));  // the last picture

  r = call("HEAD", base + "thumbnail.jpg?width=160");
  BOOST_TEST(r.status == 200, r.head);
  BOOST_TEST(r.body.empty());
  BOOST_TEST(std::atoi(header_of(r, "Content-Length").c_str()) > 0);

  for (const auto& [query, field] : std::vector<std::pair<std::string, std::string>>{
           {"time=1.5&width=abc", "width"},
           {"width=0", "width"},
           {"width=-5", "width"},
           {"width=1.5", "width"},
           {"width=", "width"},
           {"time=abc", "time"},
           {"time=-1", "time"},
           {"time=1.", "time"},
           {"time=.5", "time"},
           {"time=1e3", "time"},
           {"time=", "time"},
           {"time=99999999999", "time"}}) {
    const auto bad = get(base + "thumbnail.jpg?" + query);
    BOOST_TEST_CONTEXT(query) {
      check_json_error(bad, 400, "INVALID_PARAMETER");
      BOOST_TEST(json::parse(bad.body, nullptr, false).value("field", "") == field, bad.body);
    }
  }

  // A post whose archive has no original.
  const auto bare = create_post();
  publish_archive(bare, {{"index.m3u8", "#EXTM3U\n"}});
  check_json_error(get("/vod/" + std::to_string(bare) + "/thumbnail.jpg?width=100"), 404, "NOT_FOUND");
  check_json_error(get("/vod/" + std::to_string(bare) + "/thumbnail.jpg"), 404, "NOT_FOUND");
}

BOOST_AUTO_TEST_CASE(onair_serve_installs_the_vod_routes) {
  temp_dir dir;
  api::server_config cfg;
  cfg.data_dir = (dir.path() / "data").string();
  cfg.http_listen = "127.0.0.1:0";
  cfg.rtmp_listen = "127.0.0.1:0";
  cfg.kafka = "off";
  api::server srv{cfg};
  auto port = srv.start();
  BOOST_REQUIRE_MESSAGE(port.ok(), (port.ok() ? "" : port.error().message));
  const auto routes = srv.routes();
  for (const auto& route : {std::pair<std::string, std::string>{"GET", "/vod/{id}/{file}"},
                            {"HEAD", "/vod/{id}/{file}"},
                            {"GET", "/vod/{id}/{folder}/{file}"},
                            {"HEAD", "/vod/{id}/{folder}/{file}"}})
    BOOST_TEST((std::find(routes.begin(), routes.end(), route) != routes.end()), route.first << " " << route.second);
  check_json_error(http_call("127.0.0.1", *port, "GET", "/vod/424242/index.m3u8"), 404, "VIDEO_POST_NOT_FOUND");
  const auto pre = http_call("127.0.0.1", *port, "OPTIONS", "/vod/424242/v0/00001.m4s",
                             {{"Origin", "https://player.example"}, {"Access-Control-Request-Method", "GET"}});
  BOOST_TEST(pre.status == 204, pre.head);
  srv.stop();
}

BOOST_AUTO_TEST_SUITE_END()
