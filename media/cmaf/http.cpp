#include "media/cmaf/http.hpp"

#include <charconv>
#include <chrono>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "media/cmaf/playlist.hpp"
#include "media/net/event_loop.hpp"
#include "media/net/http_reply.hpp"

namespace onair::media::cmaf {
namespace {

constexpr const char* playlist_type = "application/vnd.apple.mpegurl";
constexpr const char* mpd_type = "application/dash+xml";

template <class T>
bool parse_number(std::string_view text, T& out) {
  // Canonical only ("7", not "007"): one object, one URL.
  if (text.empty() || text[0] < '0' || text[0] > '9' || (text.size() > 1 && text[0] == '0'))
    return false;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), out);
  return r.ec == std::errc{} && r.ptr == text.data() + text.size() && out >= 0;
}

void common_headers(evhttp_request* req, const char* type, const char* cache) {
  net::send_at_once(req);
  evkeyvalq* h = evhttp_request_get_output_headers(req);
  evhttp_add_header(h, "Content-Type", type);
  evhttp_add_header(h, "Access-Control-Allow-Origin", "*");
  evhttp_add_header(h, "Cache-Control", cache);
}

// Sends text and counts it.
void send_text(evhttp_request* req, const char* type, const std::string& body, http_counters* c) {
  common_headers(req, type, "no-cache");
  evbuffer* b = evbuffer_new();
  evbuffer_add(b, body.data(), body.size());
  evhttp_send_reply(req, HTTP_OK, "OK", b);
  evbuffer_free(b);
  if (c)
    c->bytes_out.fetch_add(body.size(), std::memory_order_relaxed);
}

// The same for a text shared by every player that asks for it (a playlist), by reference.
void send_shared_text(evhttp_request* req, const char* type, const std::shared_ptr<const std::string>& body,
                      http_counters* c) {
  common_headers(req, type, "no-cache");
  evbuffer* b = evbuffer_new();
  auto* keep = new std::shared_ptr<const std::string>{body};
  evbuffer_add_reference(b, body->data(), body->size(),
                         [](const void*, std::size_t, void* arg) { delete static_cast<std::shared_ptr<const std::string>*>(arg); },
                         keep);
  evhttp_send_reply(req, HTTP_OK, "OK", b);
  evbuffer_free(b);
  if (c)
    c->bytes_out.fetch_add(body->size(), std::memory_order_relaxed);
}

// Adds shared bytes to an evbuffer by reference: the buffer keeps them alive, nothing is copied.
void add_shared(evbuffer* b, const bytes_ptr& bytes) {
  if (!bytes || bytes->empty())
    return;
  auto* keep = new bytes_ptr{bytes};
  evbuffer_add_reference(b, bytes->data(), bytes->size(),
                         [](const void*, std::size_t, void* arg) { delete static_cast<bytes_ptr*>(arg); }, keep);
}

const char* media_type(const stream& s, std::size_t rendition) {
  return s.desc(rendition).kind == track_kind::audio ? "audio/mp4" : "video/mp4";
}

constexpr const char* immutable = "public, max-age=31536000, immutable";

void send_objects(evhttp_request* req, const stream& s, std::size_t rendition, const std::vector<bytes_ptr>& parts,
                  http_counters* c) {
  common_headers(req, media_type(s, rendition), immutable);
  evbuffer* b = evbuffer_new();
  std::size_t n = 0;
  for (const auto& p : parts) {
    add_shared(b, p);
    n += p ? p->size() : 0;
  }
  evhttp_send_reply(req, HTTP_OK, "OK", b);
  evbuffer_free(b);
  if (c)
    c->bytes_out.fetch_add(n, std::memory_order_relaxed);
}

// A reply that waits for the packager: answered once, on the loop, by whichever comes first of
// the part (or the stream's end) and the deadline.
struct pending : std::enable_shared_from_this<pending> {
  net::event_loop& loop;
  evhttp_request* req;
  std::shared_ptr<stream> s;
  std::function<void(evhttp_request*)> reply; // on the loop, the request still ours
  stream::waiter_ptr waiter;
  bool answered = false;
  pending(net::event_loop& l, evhttp_request* r, std::shared_ptr<stream> st) : loop(l), req(r), s(std::move(st)) {}

  void start(std::size_t rendition, std::int64_t msn, int part, std::chrono::milliseconds limit, http_counters* c) {
    if (c)
      c->blocked.fetch_add(1, std::memory_order_relaxed);
    auto self = shared_from_this();
    loop.post_after(limit, [self] {
      if (self->answered)
        return;
      self->answered = true;
      stream::cancel(self->waiter);
      answer_text(self->req, 503, "Service Unavailable", "not yet available, try again\n");
    });
    waiter = s->when(rendition, msn, part, [self] {
      self->loop.post([self] {
        if (self->answered)
          return;
        self->answered = true;
        // The client went meanwhile: evhttp left the request to us, and a reply frees it.
        if (evhttp_request_get_connection(self->req) == nullptr)
          return evhttp_send_reply(self->req, HTTP_NOTFOUND, "Gone", nullptr);
        self->reply(self->req);
      });
    });
  }
};

// A segment still being written (LL-DASH): its parts as they come, in one chunked reply.
struct segment_stream : std::enable_shared_from_this<segment_stream> {
  net::event_loop& loop;
  evhttp_request* req;
  std::shared_ptr<stream> s;
  std::size_t rendition;
  std::int64_t msn;
  int next = 0;
  http_counters* counters;
  segment_stream(net::event_loop& l, evhttp_request* r, std::shared_ptr<stream> st, std::size_t rd, std::int64_t m,
                 http_counters* c)
      : loop(l), req(r), s(std::move(st)), rendition(rd), msn(m), counters(c) {}

  void start() {
    common_headers(req, media_type(*s, rendition), immutable);
    evhttp_send_reply_start(req, HTTP_OK, "OK");
    more();
  }

  void more() {
    if (evhttp_request_get_connection(req) == nullptr) // the client left
      return evhttp_send_reply_end(req);
    auto seg = s->find_segment(rendition, msn);
    if (!seg)
      return evhttp_send_reply_end(req); // slid out of the window, or the stream ended without it
    evbuffer* b = evbuffer_new();
    std::size_t n = 0;
    for (; static_cast<std::size_t>(next) < seg->parts.size(); ++next) {
      add_shared(b, seg->parts[next].bytes);
      n += seg->parts[next].bytes->size();
    }
    if (n > 0) {
      evhttp_send_reply_chunk(req, b);
      if (counters)
        counters->bytes_out.fetch_add(n, std::memory_order_relaxed);
    }
    evbuffer_free(b);
    if (seg->complete || s->ended())
      return evhttp_send_reply_end(req);
    auto self = shared_from_this();
    s->when(rendition, msn, next, [self] { self->loop.post([self] { self->more(); }); });
  }
};

} // namespace

void answer_text(evhttp_request* req, int status, const char* reason, const std::string& body) {
  evkeyvalq* h = evhttp_request_get_output_headers(req);
  evhttp_add_header(h, "Content-Type", "text/plain; charset=utf-8");
  evhttp_add_header(h, "Access-Control-Allow-Origin", "*");
  evhttp_add_header(h, "Cache-Control", "no-cache");
  evbuffer* b = evbuffer_new();
  evbuffer_add(b, body.data(), body.size());
  evhttp_send_reply(req, status, reason, b);
  evbuffer_free(b);
}

request_target parse_target(const stream& s, const std::string& file) {
  request_target t;
  using k = request_target::kind;
  auto rendition_of = [&s](std::string_view id, std::size_t& out) {
    for (std::size_t i = 0; i < s.rendition_count(); ++i)
      if (s.desc(i).id == id) {
        out = i;
        return true;
      }
    return false;
  };
  if (file == "index.m3u8") {
    t.what = k::master;
    return t;
  }
  if (file == "manifest.mpd") {
    t.what = k::mpd;
    return t;
  }
  std::string_view f{file};
  if (f.ends_with(".m3u8")) {
    if (rendition_of(f.substr(0, f.size() - 5), t.rendition))
      t.what = k::media_playlist;
    return t;
  }
  const auto& prefix = s.options().uri_prefix;
  if (!f.starts_with(prefix))
    return t;
  f.remove_prefix(prefix.size());
  const auto slash = f.find('/');
  if (slash == std::string_view::npos || !rendition_of(f.substr(0, slash), t.rendition))
    return t;
  f.remove_prefix(slash + 1);
  if (f == "init.mp4") {
    t.what = k::init;
    return t;
  }
  if (!f.ends_with(".m4s"))
    return t;
  f.remove_suffix(4);
  const auto dot = f.find('.');
  if (dot == std::string_view::npos) {
    if (parse_number(f, t.msn))
      t.what = k::segment;
    return t;
  }
  if (parse_number(f.substr(0, dot), t.msn) && parse_number(f.substr(dot + 1), t.part))
    t.what = k::part;
  return t;
}

namespace {

// The stream's audience hears of the player behind a request (its address and User-Agent).
void hear_player(evhttp_request* req, const stream& s, request_target::kind what) {
  std::string_view address;
  if (evhttp_connection* conn = evhttp_request_get_connection(req)) {
    char* peer = nullptr;
    ev_uint16_t port = 0;
    evhttp_connection_get_peer(conn, &peer, &port);
    if (peer)
      address = peer;
  }
  const char* agent = evhttp_find_header(evhttp_request_get_input_headers(req), "User-Agent");
  std::optional<player_protocol> asked;
  if (what == request_target::kind::master || what == request_target::kind::media_playlist)
    asked = player_protocol::hls;
  else if (what == request_target::kind::mpd)
    asked = player_protocol::dash;
  s.players().heard(audience::fingerprint(address, agent ? agent : ""), asked, audience::clock::now());
}

} // namespace

void serve(net::event_loop& loop, evhttp_request* req, std::shared_ptr<stream> s, const std::string& file,
           const std::map<std::string, std::string>& query, const std::string& time_url, http_counters* counters,
           http_options opts) {
  if (counters)
    counters->requests.fetch_add(1, std::memory_order_relaxed);
  if (!s)
    return answer_text(req, 404, "Not Found", "no such stream\n");
  const auto t = parse_target(*s, file);
  using k = request_target::kind;
  if (t.what != k::bad)
    hear_player(req, *s, t.what);
  switch (t.what) {
  case k::bad:
    return answer_text(req, 404, "Not Found", "no such file in this stream\n");
  case k::master:
    return send_shared_text(req, playlist_type, s->memo(stream::master_memo, master_playlist), counters);
  case k::mpd:
    return send_text(req, mpd_type, dash_manifest(s->view(), time_url, wall_clock_ms()), counters);
  case k::init: {
    auto init = s->init(t.rendition);
    if (!init)
      return answer_text(req, 404, "Not Found", "no init segment yet\n");
    return send_objects(req, *s, t.rendition, {init}, counters);
  }
  case k::media_playlist: {
    const auto get = [&query](const char* name) -> const std::string* {
      auto it = query.find(name);
      return it == query.end() ? nullptr : &it->second;
    };
    const auto* msn_text = get("_HLS_msn");
    const auto* part_text = get("_HLS_part");
    const auto* skip_text = get("_HLS_skip");
    const bool skip = skip_text && (*skip_text == "YES" || *skip_text == "v2");
    const std::size_t r = t.rendition;
    // Every player of the rendition asks for the same text after each part: made once per change.
    auto reply = [s, r, skip, counters](evhttp_request* rq) {
      send_shared_text(rq, playlist_type,
                       s->memo(r * 2 + (skip ? 1 : 0), [r, skip](const stream_view& v) { return media_playlist(v, r, skip); }),
                       counters);
    };
    if (!msn_text) {
      if (part_text)
        return answer_text(req, 400, "Bad Request", "_HLS_part without _HLS_msn\n");
      return reply(req);
    }
    std::int64_t msn = 0;
    int part = -1;
    if (!parse_number(*msn_text, msn) || (part_text && !parse_number(*part_text, part)))
      return answer_text(req, 400, "Bad Request", "_HLS_msn and _HLS_part must be whole numbers\n");
    const auto v = s->view();
    if (msn > v.renditions[r].next_msn + 2)
      return answer_text(req, 400, "Bad Request", "_HLS_msn is beyond the next segment\n");
    auto p = std::make_shared<pending>(loop, req, s);
    p->reply = reply;
    return p->start(r, msn, part, opts.max_block, counters);
  }
  case k::part: {
    if (auto found = s->find_part(t.rendition, t.msn, t.part))
      return send_objects(req, *s, t.rendition, {found->bytes}, counters);
    const auto v = s->view();
    const auto& rv = v.renditions[t.rendition];
    // Only the part that comes next (the preload hint) or the first of the next segment is waited for.
    const bool next = (t.msn == rv.next_msn && t.part >= rv.next_part && t.part <= rv.next_part + 1) ||
                      (t.msn == rv.next_msn + 1 && t.part == 0);
    if (!next || v.ended)
      return answer_text(req, 404, "Not Found", "no such part\n");
    auto p = std::make_shared<pending>(loop, req, s);
    const std::size_t r = t.rendition;
    p->reply = [s, r, msn = t.msn, part = t.part, counters](evhttp_request* rq) {
      if (auto found = s->find_part(r, msn, part))
        return send_objects(rq, *s, r, {found->bytes}, counters);
      // The segment ended before this part: it will never exist (the playlist moved on).
      answer_text(rq, 404, "Not Found", "no such part: its segment ended before it\n");
    };
    return p->start(r, t.msn, t.part, opts.max_block, counters);
  }
  case k::segment: {
    auto seg = s->find_segment(t.rendition, t.msn);
    if (seg && seg->complete) {
      std::vector<bytes_ptr> parts;
      for (const auto& p : seg->parts)
        parts.push_back(p.bytes);
      return send_objects(req, *s, t.rendition, parts, counters);
    }
    if (seg)
      return std::make_shared<segment_stream>(loop, req, s, t.rendition, t.msn, counters)->start();
    const auto v = s->view();
    const auto& rv = v.renditions[t.rendition];
    if (v.ended || t.msn < rv.next_msn || t.msn > rv.next_msn + 1)
      return answer_text(req, 404, "Not Found", "no such segment\n");
    // The segment about to begin (LL-DASH asks for it ahead of time): it streams from its first part.
    auto p = std::make_shared<pending>(loop, req, s);
    const std::size_t r = t.rendition;
    p->reply = [s, r, msn = t.msn, counters, &loop](evhttp_request* rq) {
      if (!s->find_segment(r, msn))
        return answer_text(rq, 404, "Not Found", "no such segment\n");
      std::make_shared<segment_stream>(loop, rq, s, r, msn, counters)->start();
    };
    return p->start(r, t.msn, 0, opts.max_block, counters);
  }
  }
}

} // namespace onair::media::cmaf
