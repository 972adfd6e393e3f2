#include "media/cmaf/http.hpp"

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <utility>

#include <event2/http.h>

#include "media/cmaf/playlist.hpp"
#include "media/net/event_loop.hpp"

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

// Text shared by every player that asks for it (a playlist), by reference; counted.
void send_shared_text(net::media_reply& reply, const char* type, const std::shared_ptr<const std::string>& body,
                      http_counters* c) {
  reply.send(200, type, "no-cache", {net::piece_of(body)});
  if (c)
    c->bytes_out.fetch_add(body->size(), std::memory_order_relaxed);
}

const char* media_type(const stream& s, std::size_t rendition) {
  return s.desc(rendition).kind == track_kind::audio ? "audio/mp4" : "video/mp4";
}

constexpr const char* immutable = "public, max-age=31536000, immutable";

void send_objects(net::media_reply& reply, const stream& s, std::size_t rendition, std::vector<net::body_piece> parts,
                  http_counters* c) {
  const auto n = net::size_of(parts);
  reply.send(200, media_type(s, rendition), immutable, std::move(parts));
  if (c)
    c->bytes_out.fetch_add(n, std::memory_order_relaxed);
}

// A reply that waits for the packager: answered once, on the loop, by whichever comes first of
// the part (or the stream's end) and the deadline.
struct pending : std::enable_shared_from_this<pending> {
  net::event_loop& loop;
  std::shared_ptr<net::media_reply> out;
  std::shared_ptr<stream> s;
  std::function<void(net::media_reply&)> reply; // on the loop
  stream::waiter_ptr waiter;
  bool answered = false;
  pending(net::event_loop& l, std::shared_ptr<net::media_reply> o, std::shared_ptr<stream> st)
      : loop(l), out(std::move(o)), s(std::move(st)) {}

  void start(std::size_t rendition, std::int64_t msn, int part, std::chrono::milliseconds limit, http_counters* c);

  // The deadline came first.
  void expire() {
    if (std::exchange(answered, true))
      return;
    stream::cancel(waiter);
    net::send_text(*out, 503, "not yet available, try again\n");
  }
};

// The deadlines of the replies waiting on one loop, kept on its thread: one timer for the
// earliest instead of one per reply, and a reply answered in time is let go at once rather than
// held by its timer. Every reply of a loop waits the same time (the server's http_options), so
// they expire in the order they began.
class deadlines {
public:
  using clock = std::chrono::steady_clock;

  static void add(net::event_loop& loop, const std::shared_ptr<pending>& p, std::chrono::milliseconds limit) {
    thread_local deadlines mine;
    mine.queue_.emplace_back(clock::now() + limit, p);
    if (!std::exchange(mine.armed_, true))
      arm(loop, mine, limit);
  }

private:
  static void arm(net::event_loop& loop, deadlines& d, clock::duration after) {
    loop.post_after(after, [&loop, &d] { d.sweep(loop); });
  }

  void sweep(net::event_loop& loop) {
    const auto now = clock::now();
    while (!queue_.empty() && queue_.front().first <= now) {
      auto p = queue_.front().second.lock();
      queue_.pop_front();
      if (p)
        p->expire();
    }
    if (queue_.empty())
      armed_ = false;
    else
      arm(loop, *this, queue_.front().first - now);
  }

  std::deque<std::pair<clock::time_point, std::weak_ptr<pending>>> queue_;
  bool armed_ = false;
};

// Not make_shared: the deadlines hold a weak reference for the whole wait, which would keep a
// joint allocation's memory (the object's with the count's) long after the reply was answered.
std::shared_ptr<pending> make_pending(net::event_loop& loop, std::shared_ptr<net::media_reply> out,
                                      std::shared_ptr<stream> s) {
  return std::shared_ptr<pending>(new pending(loop, std::move(out), std::move(s)));
}

void pending::start(std::size_t rendition, std::int64_t msn, int part, std::chrono::milliseconds limit,
                    http_counters* c) {
  if (c)
    c->blocked.fetch_add(1, std::memory_order_relaxed);
  auto self = shared_from_this();
  deadlines::add(loop, self, limit);
  waiter = s->when(rendition, msn, part, [self] {
    self->loop.post([self] {
      if (std::exchange(self->answered, true))
        return;
      if (!self->out->gone()) // the client may have left meanwhile
        self->reply(*self->out);
    });
  });
}

// A segment still being written (LL-DASH): its parts as they come, in one chunked reply.
struct segment_stream : std::enable_shared_from_this<segment_stream> {
  net::event_loop& loop;
  std::shared_ptr<net::media_reply> out;
  std::shared_ptr<stream> s;
  std::size_t rendition;
  std::int64_t msn;
  int next = 0;
  http_counters* counters;
  segment_stream(net::event_loop& l, std::shared_ptr<net::media_reply> o, std::shared_ptr<stream> st, std::size_t rd,
                 std::int64_t m, http_counters* c)
      : loop(l), out(std::move(o)), s(std::move(st)), rendition(rd), msn(m), counters(c) {}

  void start() {
    out->start(200, media_type(*s, rendition), immutable);
    more();
  }

  void more() {
    if (out->gone()) // the client left
      return out->end();
    auto seg = s->find_segment(rendition, msn);
    if (!seg)
      return out->end(); // slid out of the window, or the stream ended without it
    std::vector<net::body_piece> pieces;
    std::size_t n = 0;
    for (; static_cast<std::size_t>(next) < seg->parts.size(); ++next) {
      pieces.push_back(net::piece_of(seg->parts[next].bytes));
      n += seg->parts[next].bytes->size();
    }
    if (n > 0) {
      out->chunk(std::move(pieces));
      if (counters)
        counters->bytes_out.fetch_add(n, std::memory_order_relaxed);
    }
    if (seg->complete || s->ended())
      return out->end();
    auto self = shared_from_this();
    s->when(rendition, msn, next, [self] { self->loop.post([self] { self->more(); }); });
  }
};

} // namespace

std::optional<std::string> query_value(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) != name)
      continue;
    // Decoded as evhttp decodes a query ("+" a space), by its own decoder.
    const std::string raw{eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1)};
    std::size_t size = 0;
    char* decoded = evhttp_uridecode(raw.c_str(), 1, &size);
    if (decoded == nullptr)
      return raw;
    std::string value{decoded, size};
    std::free(decoded);
    return value;
  }
  return std::nullopt;
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
void hear_player(const player_request& req, const stream& s, request_target::kind what) {
  std::optional<player_protocol> asked;
  if (what == request_target::kind::master || what == request_target::kind::media_playlist)
    asked = player_protocol::hls;
  else if (what == request_target::kind::mpd)
    asked = player_protocol::dash;
  s.players().heard(audience::fingerprint(req.peer, req.user_agent), asked, audience::clock::now());
}

} // namespace

void serve(net::event_loop& loop, const player_request& req, std::shared_ptr<stream> s,
           std::shared_ptr<net::media_reply> reply, http_counters* counters, http_options opts) {
  if (counters)
    counters->requests.fetch_add(1, std::memory_order_relaxed);
  if (!s)
    return net::send_text(*reply, 404, "no such stream\n");
  const auto t = parse_target(*s, std::string{req.file});
  using k = request_target::kind;
  if (t.what != k::bad)
    hear_player(req, *s, t.what);
  switch (t.what) {
  case k::bad:
    return net::send_text(*reply, 404, "no such file in this stream\n");
  case k::master:
    return send_shared_text(*reply, playlist_type, s->memo(stream::master_memo, master_playlist), counters);
  case k::mpd: {
    auto mpd = std::make_shared<const std::string>(dash_manifest(s->view(), std::string{req.time_url}, wall_clock_ms()));
    return send_shared_text(*reply, mpd_type, mpd, counters);
  }
  case k::init: {
    auto init = s->init(t.rendition);
    if (!init)
      return net::send_text(*reply, 404, "no init segment yet\n");
    return send_objects(*reply, *s, t.rendition, {net::piece_of(init)}, counters);
  }
  case k::media_playlist: {
    const auto msn_text = query_value(req.query, "_HLS_msn");
    const auto part_text = query_value(req.query, "_HLS_part");
    const auto skip_text = query_value(req.query, "_HLS_skip");
    const bool skip = skip_text && (*skip_text == "YES" || *skip_text == "v2");
    const std::size_t r = t.rendition;
    // Every player of the rendition asks for the same text after each part: made once per change.
    auto answer = [s, r, skip, counters](net::media_reply& out) {
      send_shared_text(out, playlist_type,
                       s->memo(r * 2 + (skip ? 1 : 0), [r, skip](const stream_view& v) { return media_playlist(v, r, skip); }),
                       counters);
    };
    if (!msn_text) {
      if (part_text)
        return net::send_text(*reply, 400, "_HLS_part without _HLS_msn\n");
      return answer(*reply);
    }
    std::int64_t msn = 0;
    int part = -1;
    if (!parse_number(*msn_text, msn) || (part_text && !parse_number(*part_text, part)))
      return net::send_text(*reply, 400, "_HLS_msn and _HLS_part must be whole numbers\n");
    if (msn > s->live_edge(r).next_msn + 2)
      return net::send_text(*reply, 400, "_HLS_msn is beyond the next segment\n");
    auto p = make_pending(loop, std::move(reply), s);
    p->reply = answer;
    return p->start(r, msn, part, opts.max_block, counters);
  }
  case k::part: {
    if (auto found = s->find_part(t.rendition, t.msn, t.part))
      return send_objects(*reply, *s, t.rendition, {net::piece_of(found->bytes)}, counters);
    const auto rv = s->live_edge(t.rendition);
    // Only the part that comes next (the preload hint) or the first of the next segment is waited for.
    const bool next = (t.msn == rv.next_msn && t.part >= rv.next_part && t.part <= rv.next_part + 1) ||
                      (t.msn == rv.next_msn + 1 && t.part == 0);
    if (!next || rv.ended)
      return net::send_text(*reply, 404, "no such part\n");
    auto p = make_pending(loop, std::move(reply), s);
    const std::size_t r = t.rendition;
    p->reply = [s, r, msn = t.msn, part = t.part, counters](net::media_reply& out) {
      if (auto found = s->find_part(r, msn, part))
        return send_objects(out, *s, r, {net::piece_of(found->bytes)}, counters);
      // The segment ended before this part: it will never exist (the playlist moved on).
      net::send_text(out, 404, "no such part: its segment ended before it\n");
    };
    return p->start(r, t.msn, t.part, opts.max_block, counters);
  }
  case k::segment: {
    auto seg = s->find_segment(t.rendition, t.msn);
    if (seg && seg->complete) {
      std::vector<net::body_piece> parts;
      parts.reserve(seg->parts.size());
      for (const auto& p : seg->parts)
        parts.push_back(net::piece_of(p.bytes));
      return send_objects(*reply, *s, t.rendition, std::move(parts), counters);
    }
    if (seg)
      return std::make_shared<segment_stream>(loop, std::move(reply), s, t.rendition, t.msn, counters)->start();
    const auto rv = s->live_edge(t.rendition);
    if (rv.ended || t.msn < rv.next_msn || t.msn > rv.next_msn + 1)
      return net::send_text(*reply, 404, "no such segment\n");
    // The segment about to begin (LL-DASH asks for it ahead of time): it streams from its first part.
    auto p = make_pending(loop, reply, s);
    const std::size_t r = t.rendition;
    p->reply = [s, r, msn = t.msn, counters, &loop, reply](net::media_reply& out) {
      if (!s->find_segment(r, msn))
        return net::send_text(out, 404, "no such segment\n");
      std::make_shared<segment_stream>(loop, reply, s, r, msn, counters)->start();
    };
    return p->start(r, t.msn, 0, opts.max_block, counters);
  }
  }
}

} // namespace onair::media::cmaf
