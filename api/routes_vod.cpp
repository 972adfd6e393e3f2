// VOD files: /vod/{videoPostId}/{file} and /vod/{videoPostId}/{folder}/{file}, from the archive
// folder {vod_dir}/{app}/{videoPostId}/ that the archiver renames into place once complete, so a
// file there never changes: strong validators, a year of caching, byte ranges. The body goes
// from the file to the socket with sendfile (an evbuffer file segment), never through memory.
// Lookups and opens run off the loop (runtime::post); thumbnails asked with ?time=&width= are
// made from original.mp4 on a thread of their own, a few waiting at most.
#include "api/routes.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <spdlog/spdlog.h>

#include "api/http_conditions.hpp"
#include "api/rest.hpp"
#include "api/work_pool.hpp"
#include "media/ffmpeg/thumbnail.hpp"
#include "media/net/http_reply.hpp"
#include "media/vod/recording_playlist.hpp"
#include "storage/views.hpp"

namespace onair::api {
namespace {

namespace fs = std::filesystem;

constexpr const char* immutable = "public, max-age=31536000, immutable";
constexpr const char* one_day = "public, max-age=86400";
// Where a post's recording parts are served from, beside its archive: /vod/{id}/rec/part-0001.mp4.
constexpr std::string_view recording_folder = "rec";
// Thumbnails waiting for the thumbnail thread, beyond which a request is told to come back.
constexpr int max_waiting_thumbnails = 8;

// An open file, closed unless handed on (to an evbuffer file segment).
class file_handle {
public:
  file_handle() = default;
  explicit file_handle(int fd) : fd_(fd) {}
  file_handle(file_handle&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  file_handle& operator=(file_handle&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~file_handle() { reset(); }

  [[nodiscard]] int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset() {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }

private:
  int fd_ = -1;
};

// A file of a post's archive, opened, with what its validators are made of.
struct vod_file {
  file_handle fd;
  std::uint64_t size = 0;
  std::string etag;          // strong: "size-mtime_ns-inode" in hex
  std::string last_modified; // IMF-fixdate
};

// What an answer depends on, copied off the request for the trip off the loop and back.
struct conditions {
  bool head = false;
  std::string if_none_match, if_modified_since, range, if_range;

  explicit conditions(const http_request& req)
      : head(req.method == "HEAD"), if_none_match(req.header("if-none-match")),
        if_modified_since(req.header("if-modified-since")), range(req.header("range")),
        if_range(req.header("if-range")) {}
};

// [A-Za-z0-9._-]+ and neither "." nor "..": a name inside the post's folder, never above it.
bool valid_name(std::string_view s) {
  if (s.empty() || s == "." || s == "..")
    return false;
  for (const char c : s)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
          c == '-'))
      return false;
  return true;
}

std::optional<std::int64_t> post_id_of(std::string_view s) {
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || ptr != s.data() + s.size() || v <= 0)
    return std::nullopt;
  return v;
}

const char* content_type_of(std::string_view name) {
  const auto dot = name.rfind('.');
  const auto ext = dot == std::string_view::npos ? std::string_view{} : name.substr(dot);
  if (ext == ".m3u8")
    return "application/vnd.apple.mpegurl";
  if (ext == ".mpd")
    return "application/dash+xml";
  if (ext == ".mp4")
    return "video/mp4";
  if (ext == ".m4s")
    return "video/iso.segment";
  if (ext == ".jpg")
    return "image/jpeg";
  return "application/octet-stream";
}

std::string hex(std::uint64_t v) {
  char buf[17];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, 16);
  return std::string{buf, end};
}

// Not modified since the client's copy: If-None-Match, or else If-Modified-Since.
bool not_modified(const conditions& c, const std::string& etag, std::time_t mtime) {
  if (!c.if_none_match.empty())
    return none_match_hits(c.if_none_match, etag);
  if (c.if_modified_since.empty())
    return false;
  const auto since = parse_http_date(c.if_modified_since);
  return since && mtime <= *since;
}

// If-Range: the range holds only for the same file, named by its ETag (compared strongly) or
// its exact Last-Modified date; otherwise the whole file goes.
bool range_applies(const conditions& c, const vod_file& f) {
  if (c.if_range.empty())
    return true;
  if (c.if_range.front() == '"')
    return c.if_range == f.etag;
  return c.if_range == f.last_modified;
}

// Every answer here, errors included, may be read by pages of any origin, Range headers and all.
void add_cors(evkeyvalq* h) {
  evhttp_add_header(h, "Access-Control-Allow-Origin", "*");
  evhttp_add_header(h, "Access-Control-Expose-Headers", "Content-Length, Content-Range, ETag, Accept-Ranges");
}

// Sends resp (status, type, headers, body) on a request whose CORS headers are set: no body for
// HEAD (its length said instead) nor for 304.
void finish(evhttp_request* req, const http_response& resp, bool head) {
  evkeyvalq* h = evhttp_request_get_output_headers(req);
  if (!resp.content_type.empty() && resp.status != 304)
    evhttp_add_header(h, "Content-Type", resp.content_type.c_str());
  for (const auto& [k, v] : resp.headers)
    evhttp_add_header(h, k.c_str(), v.c_str());
  if (head || resp.status == 304) {
    if (head && resp.status != 304)
      evhttp_add_header(h, "Content-Length", std::to_string(resp.body.size()).c_str());
    return evhttp_send_reply(req, resp.status, nullptr, nullptr);
  }
  evbuffer* body = evbuffer_new();
  evbuffer_add(body, resp.body.data(), resp.body.size());
  evhttp_send_reply(req, resp.status, nullptr, body);
  evbuffer_free(body);
}

// An answer made in memory (errors, generated thumbnails), with CORS.
void send_plain(evhttp_request* req, const http_response& resp, bool head) {
  net::send_at_once(req);
  add_cors(evhttp_request_get_output_headers(req));
  finish(req, resp, head);
}

http_response not_found(const std::string& message) { return error_response(404, "NOT_FOUND", message); }

// The file's bytes [first, first + length) as a buffer that sends them with sendfile, taking the
// descriptor over; null if libevent cannot (the descriptor is closed then).
evbuffer* file_body(file_handle fd, std::uint64_t first, std::uint64_t length) {
  evbuffer_file_segment* seg = evbuffer_file_segment_new(fd.get(), static_cast<ev_off_t>(first),
                                                         static_cast<ev_off_t>(length), EVBUF_FS_CLOSE_ON_FREE);
  if (seg == nullptr)
    return nullptr;
  fd.release();
  evbuffer* body = evbuffer_new();
  // Segments added to a buffer that drains to a socket are sent with sendfile; to any other they
  // would be mapped or read in first. evhttp moves the chain on to the connection's buffer as is.
  evbuffer_set_flags(body, EVBUFFER_FLAG_DRAINS_TO_FD);
  const int added = evbuffer_add_file_segment(body, seg, 0, static_cast<ev_off_t>(length));
  evbuffer_file_segment_free(seg); // the buffer holds its own reference
  if (added != 0) {
    evbuffer_free(body);
    return nullptr;
  }
  return body;
}

// The answer for an open file: 304, 416, 206 or 200, the body a file segment.
void send_file(evhttp_request* req, vod_file f, const std::string& name, const conditions& c, std::time_t mtime,
               const char* cache_control = immutable) {
  net::send_at_once(req);
  evkeyvalq* h = evhttp_request_get_output_headers(req);
  add_cors(h);
  evhttp_add_header(h, "Accept-Ranges", "bytes");
  const bool fresh = not_modified(c, f.etag, mtime);
  byte_range r{0, f.size == 0 ? 0 : f.size - 1};
  auto ranged = range_answer::whole;
  if (!fresh && !c.range.empty() && range_applies(c, f))
    ranged = parse_range(c.range, f.size, r);
  if (ranged == range_answer::unsatisfiable) {
    evhttp_add_header(h, "Content-Range", ("bytes */" + std::to_string(f.size)).c_str());
    return finish(req,
                  error_response(416, "INVALID_PARAMETER",
                                 "range '" + c.range + "' is not within the file's " + std::to_string(f.size) + " bytes",
                                 "Range"),
                  c.head);
  }
  const std::uint64_t length = f.size == 0 ? 0 : r.last - r.first + 1;
  evbuffer* body = nullptr;
  if (!fresh && !c.head && length > 0) {
    body = file_body(std::move(f.fd), r.first, length);
    if (body == nullptr) {
      spdlog::error("vod: cannot send {} ({} bytes from {})", name, length, r.first);
      return finish(req, error_response(500, "INTERNAL_ERROR", "internal error"), c.head);
    }
  }
  evhttp_add_header(h, "ETag", f.etag.c_str());
  evhttp_add_header(h, "Last-Modified", f.last_modified.c_str());
  evhttp_add_header(h, "Cache-Control", cache_control);
  if (fresh)
    return evhttp_send_reply(req, 304, nullptr, nullptr);
  evhttp_add_header(h, "Content-Type", content_type_of(name));
  if (ranged == range_answer::partial)
    evhttp_add_header(h, "Content-Range",
                      ("bytes " + std::to_string(r.first) + "-" + std::to_string(r.last) + "/" + std::to_string(f.size))
                          .c_str());
  const int status = ranged == range_answer::partial ? 206 : 200;
  if (body == nullptr) { // HEAD, or nothing to send: the length is said, not implied
    evhttp_add_header(h, "Content-Length", std::to_string(length).c_str());
    return evhttp_send_reply(req, status, nullptr, nullptr);
  }
  evhttp_send_reply(req, status, nullptr, body);
  evbuffer_free(body);
}

// A post by its id alone, with its app; nothing when unknown or deleted.
struct found_post {
  domain::app_id app = 0;
  domain::video_post post;
};
std::optional<found_post> find_post(const rest_context& ctx, std::int64_t post_id) {
  if (ctx.vod_dir.empty())
    return std::nullopt;
  const auto id = std::to_string(post_id);
  const auto& views = ctx.rt.views();
  const auto where = storage::find_by(views, "video_post", id);
  if (!where)
    return std::nullopt;
  auto post = storage::get_view<domain::video_post_aggregate>(views, where->app, id);
  if (!post || !post->state.present())
    return std::nullopt;
  return found_post{where->app, std::move(post->state)};
}

// The post's archive folder, or why there is none (the post unknown or deleted: 404).
std::optional<fs::path> post_folder(const rest_context& ctx, std::int64_t post_id) {
  const auto p = find_post(ctx, post_id);
  if (!p)
    return std::nullopt;
  return fs::path{ctx.vod_dir} / std::to_string(p->app) / std::to_string(post_id);
}

// Opens one file of a post's archive (off the loop): the file, or the error answer.
struct opened {
  std::optional<vod_file> file;
  fs::path path;
  std::time_t mtime = 0;
  http_response error;
};

// Opens a file (off the loop): the file, or the error answer (`what` names it in a 404).
opened open_file(const fs::path& path, const std::string& what) {
  opened out;
  out.path = path;
  file_handle fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
  struct stat st {};
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    const int err = errno;
    if (fd.get() >= 0 || err == ENOENT || err == ENOTDIR || err == ELOOP || err == EISDIR) {
      out.error = not_found(what);
    } else {
      spdlog::error("vod: cannot open {}: {}", path.string(), std::strerror(err));
      out.error = error_of(domain::make_error(domain::error_code::storage_failure, "cannot open " + path.string()));
    }
    return out;
  }
  const std::uint64_t mtime_ns =
      static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(st.st_mtim.tv_nsec);
  vod_file f;
  f.fd = std::move(fd);
  f.size = static_cast<std::uint64_t>(st.st_size);
  f.etag = "\"" + hex(f.size) + "-" + hex(mtime_ns) + "-" + hex(static_cast<std::uint64_t>(st.st_ino)) + "\"";
  f.last_modified = http_date(st.st_mtim.tv_sec);
  out.mtime = st.st_mtim.tv_sec;
  out.file = std::move(f);
  return out;
}

opened open_vod_file(const rest_context& ctx, std::int64_t post_id, const std::string& relative) {
  const auto folder = post_folder(ctx, post_id);
  if (!folder) {
    opened out;
    out.error = error_response(404, "VIDEO_POST_NOT_FOUND", "video post " + std::to_string(post_id) + " not found");
    return out;
  }
  return open_file(*folder / relative, "video post " + std::to_string(post_id) + " has no " + relative);
}

// The recording a post is made from: its parts on disk, as the broadcast's view lists them.
struct post_recording {
  bool archiving = false;     // the post is ARCHIVING: its index.m3u8 is the recording's
  bool complete = false;      // the recorder is done: the parts no longer change
  fs::path folder;
  std::vector<media::vod::recorded_part> parts;
};

std::optional<post_recording> recording_of(const rest_context& ctx, std::int64_t post_id) {
  const auto p = find_post(ctx, post_id);
  if (!p)
    return std::nullopt;
  const auto b = storage::get_view<domain::broadcast_aggregate>(ctx.rt.views(), p->app, std::to_string(p->post.broadcast_id));
  if (!b || b->state.recording.path.empty())
    return std::nullopt;
  post_recording r;
  r.archiving = p->post.state == domain::post_state::archiving;
  r.complete = b->state.recording.state == domain::recording_state::complete ||
               b->state.recording.state == domain::recording_state::failed;
  r.folder = fs::path{ctx.vod_dir}.parent_path() / b->state.recording.path;
  for (const auto& part : b->state.recording.parts)
    r.parts.push_back({r.folder / part.file, std::string{recording_folder} + "/" + part.file,
                       static_cast<double>(part.end_ms) / 1000});
  return r;
}

// A file of the post's recording (rec/part-0001.mp4): one of its parts, nothing else.
void serve_recording_part(const rest_context& ctx, std::int64_t post_id, const std::string& file, opened& out,
                          bool& complete) {
  const auto rec = recording_of(ctx, post_id);
  const auto named = [&](const media::vod::recorded_part& p) { return p.file.filename() == file; };
  if (!rec || std::none_of(rec->parts.begin(), rec->parts.end(), named)) {
    out.error = not_found("video post " + std::to_string(post_id) + " has no recording part " + file);
    return;
  }
  complete = rec->complete;
  out = open_file(rec->folder / file, "video post " + std::to_string(post_id) + " has no recording part " + file);
}

// While the post is ARCHIVING, its index.m3u8: the recording as it lies on disk (nothing once the
// archive is there, or when nothing is recorded).
std::optional<http_response> recording_index(const rest_context& ctx, std::int64_t post_id) {
  const auto rec = recording_of(ctx, post_id);
  if (!rec || !rec->archiving)
    return std::nullopt;
  auto text = media::vod::recording_playlist(rec->parts);
  if (!text)
    return std::nullopt;
  http_response r;
  r.content_type = "application/vnd.apple.mpegurl";
  r.body = std::move(*text);
  // The same URL is the archive's master playlist once ARCHIVED: never kept.
  r.headers = {{"Cache-Control", "no-store"}};
  return r;
}

// ?time=S (seconds, decimal) and ?width=W of an on-demand thumbnail; bad values name the parameter.
domain::result<media::ffmpeg::thumbnail_options> thumbnail_query(const http_request& req) {
  media::ffmpeg::thumbnail_options o;
  if (auto it = req.query.find("time"); it != req.query.end()) {
    const std::string_view s = it->second;
    const auto dot = s.find('.');
    const auto whole = s.substr(0, dot);
    const auto frac = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
    std::uint32_t seconds = 0; // up to 9 digits: some 31 years
    const auto [ptr, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
    const bool digits_only = frac.find_first_not_of("0123456789") == std::string_view::npos;
    if (whole.empty() || whole.size() > 9 || ec != std::errc{} || ptr != whole.data() + whole.size() ||
        (dot != std::string_view::npos && frac.empty()) || !digits_only)
      return domain::make_error(domain::error_code::invalid_parameter,
                                "time must be a number of seconds, e.g. 12 or 12.5", "time");
    std::int64_t ms = 0; // the first three decimals; finer is below any picture's duration
    for (std::size_t i = 0; i < 3; ++i)
      ms = ms * 10 + (i < frac.size() ? frac[i] - '0' : 0);
    o.time_ms = static_cast<std::int64_t>(seconds) * 1000 + ms;
  }
  if (auto it = req.query.find("width"); it != req.query.end()) {
    const auto w = parse_positive_id(it->second, "width");
    if (!w || *w > 1'000'000)
      return domain::make_error(domain::error_code::invalid_parameter, "width must be a positive number of pixels",
                                "width");
    o.width = static_cast<int>(*w); // past the source's width or the maximum: the smaller of them
  }
  return o;
}

// The thumbnail thread and how many wait for it (declared first: the pool's last tasks use it).
struct thumbnail_jobs {
  std::atomic<int> waiting{0};
  work_pool pool{1, "onair-thumb"};
};

// A thumbnail of the post's original.mp4 (off the loop). Its ETag is the source's and the
// options': a client that has it is answered 304 before anything is decoded.
http_response make_thumbnail(const rest_context& ctx, std::int64_t post_id, const media::ffmpeg::thumbnail_options& o,
                             const conditions& c) {
  auto src = open_vod_file(ctx, post_id, "original.mp4");
  if (!src.file)
    return src.error;
  const auto& tag = src.file->etag;
  http_response r;
  r.headers = {{"ETag", tag.substr(0, tag.size() - 1) + "-t" + std::to_string(o.time_ms) + "-w" +
                            std::to_string(o.width) + "\""},
               {"Cache-Control", one_day}};
  if (!c.if_none_match.empty() && none_match_hits(c.if_none_match, r.headers[0].second)) {
    r.status = 304;
    r.content_type.clear();
    return r;
  }
  src.file->fd.reset(); // thumbnail() opens it by its path
  auto jpeg = media::ffmpeg::thumbnail(src.path, o);
  if (!jpeg) {
    if (jpeg.error().code == domain::error_code::video_post_not_found)
      return not_found("video post " + std::to_string(post_id) + " has no original.mp4");
    spdlog::error("vod: thumbnail failed: {}", jpeg.error().message);
    return error_response(500, "INTERNAL_ERROR", "the thumbnail could not be made");
  }
  r.content_type = "image/jpeg";
  r.body.assign(jpeg->begin(), jpeg->end());
  return r;
}

// Hands an answer made off the loop back to it; a client gone meanwhile has its request freed.
void answer_on(net::event_loop& loop, evhttp_request* raw, std::function<void(evhttp_request*)> send) {
  loop.post([raw, send = std::move(send)] {
    if (evhttp_request_get_connection(raw) == nullptr)
      return evhttp_request_free(raw);
    send(raw);
  });
}

} // namespace

void install_vod_routes(http_server& http, rest_context& ctx) {
  auto jobs = std::make_shared<thumbnail_jobs>();
  auto serve = [&ctx, jobs](const http_request& req, evhttp_request* raw, net::event_loop& loop,
                            const std::string& folder, const std::string& file) {
    conditions c{req};
    const auto id = post_id_of(req.params.at("id"));
    // The router hands names decoded, and a %00 would cut one short: such a path names nothing.
    if (!id || !valid_name(file) || (!folder.empty() && !valid_name(folder)) ||
        req.path.find("%00") != std::string::npos)
      return send_plain(raw, not_found("no VOD file at " + req.path), c.head);

    const bool made = folder.empty() && file == "thumbnail.jpg" &&
                      (req.query.contains("time") || req.query.contains("width"));
    if (!made) {
      ctx.rt.post([&ctx, &loop, raw, id = *id, relative = folder.empty() ? file : folder + "/" + file,
                   c = std::move(c)] {
        auto o = std::make_shared<opened>();
        bool stable = true;
        if (relative.starts_with(std::string{recording_folder} + "/"))
          serve_recording_part(ctx, id, relative.substr(std::string_view{recording_folder}.size() + 1), *o, stable);
        else
          *o = open_vod_file(ctx, id, relative);
        if (!o->file && relative == "index.m3u8" && o->error.status == 404)
          if (auto playlist = recording_index(ctx, id)) {
            auto resp = std::make_shared<http_response>(std::move(*playlist));
            return answer_on(loop, raw, [resp, head = c.head](evhttp_request* req) { send_plain(req, *resp, head); });
          }
        answer_on(loop, raw, [o, relative, c, stable](evhttp_request* req) {
          if (!o->file)
            return send_plain(req, o->error, c.head);
          send_file(req, std::move(*o->file), relative, c, o->mtime, stable ? immutable : "no-cache");
        });
      });
      return;
    }
    auto opts = thumbnail_query(req);
    if (!opts)
      return send_plain(raw, error_of(opts.error()), c.head);
    if (jobs->waiting.fetch_add(1) >= max_waiting_thumbnails) {
      jobs->waiting.fetch_sub(1);
      auto busy = error_response(503, "SERVICE_UNAVAILABLE", "too many thumbnails are being made; try again");
      busy.headers.emplace_back("Retry-After", "1");
      return send_plain(raw, busy, c.head);
    }
    jobs->pool.post([&ctx, &loop, raw, j = jobs.get(), id = *id, o = *opts, c = std::move(c)] {
      j->waiting.fetch_sub(1);
      auto resp = std::make_shared<http_response>(make_thumbnail(ctx, id, o, c));
      answer_on(loop, raw, [resp, head = c.head](evhttp_request* req) { send_plain(req, *resp, head); });
    });
  };

  http.cross_origin("/vod/{id}/{file}");
  http.cross_origin("/vod/{id}/{folder}/{file}");
  for (const char* method : {"GET", "HEAD"}) {
    http.raw_route(method, "/vod/{id}/{file}",
                   [serve](const http_request& req, evhttp_request* raw, net::event_loop& loop, close_watch) {
                     serve(req, raw, loop, {}, req.params.at("file"));
                   });
    http.raw_route(method, "/vod/{id}/{folder}/{file}",
                   [serve](const http_request& req, evhttp_request* raw, net::event_loop& loop, close_watch) {
                     serve(req, raw, loop, req.params.at("folder"), req.params.at("file"));
                   });
  }
}

} // namespace onair::api
