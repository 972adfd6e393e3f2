#include "media/rtmp/server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <atomic>
#include <deque>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <spdlog/spdlog.h>

#include "media/fanout/socket_writer.hpp"
#include "media/net/cores.hpp"
#include "media/net/event_loop.hpp"
#include "media/rtmp/output.hpp"
#include "media/rtmp/session.hpp"

namespace onair::media::rtmp {

namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms.count() / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms.count() % 1000) * 1000);
  return tv;
}

std::string peer_string(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
  else if (sa->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
  return buf;
}

class connection;

// What a connection is, for the per-address bounds: it starts pending, and becomes a player or a
// publisher once its play or publish is accepted.
enum class peer_role { pending, player, publisher };

struct address_load {
  unsigned pending = 0, players = 0, publishers = 0;
  unsigned& of(peer_role r) { return r == peer_role::pending ? pending : r == peer_role::player ? players : publishers; }
  [[nodiscard]] bool empty() const { return pending == 0 && players == 0 && publishers == 0; }
};

struct loop_state {
  std::shared_ptr<net::event_loop> loop;
  std::unordered_map<std::uint64_t, std::shared_ptr<connection>> connections; // loop thread only
};

} // namespace

struct server::impl {
  server_config cfg;
  hooks& hooks_;
  counters& stats;
  std::vector<std::unique_ptr<loop_state>> loops;
  evconnlistener* listener = nullptr;
  std::uint16_t bound_port = 0;
  std::atomic<std::uint64_t> next_id{1};
  std::atomic<std::size_t> next_loop{0};
  bool running = false;

  std::mutex mu; // guards the two maps below; never held across I/O or hooks
  std::unordered_map<std::string, address_load> per_address;
  struct where {
    loop_state* ls;
    std::weak_ptr<connection> conn;
  };
  std::unordered_map<std::uint64_t, where> sessions;

  impl(server_config c, hooks& h, counters& s) : cfg{std::move(c)}, hooks_{h}, stats{s} {}
  void on_accept(evutil_socket_t fd, const sockaddr* addr);
  // A connection of `peer` becomes `to` (a player or a publisher); false when that would take
  // its address past max_players_per_address (it stays what it was).
  bool promote(const std::string& peer, peer_role& role, peer_role to);
  void forget(std::uint64_t id, const std::string& peer, peer_role role);
};

namespace {

class connection final : public std::enable_shared_from_this<connection>,
                         public session::handler,
                         public fanout::viewer {
public:
  connection(server::impl& srv, loop_state& ls, std::uint64_t id, std::string peer)
      : srv_{srv}, ls_{ls}, id_{id}, peer_{std::move(peer)}, session_{*this, make_options(srv.cfg)} {}

  static session_options make_options(const server_config& cfg) {
    session_options o;
    o.limits.max_message_size = cfg.max_message_size;
    o.limits.max_buffered = 2 * std::size_t{cfg.max_message_size};
    return o;
  }

  void open(evutil_socket_t fd) {
    bev_ = bufferevent_socket_new(ls_.loop->base(), fd, BEV_OPT_CLOSE_ON_FREE);
    if (!bev_) {
      evutil_closesocket(fd);
      close("bufferevent allocation failed");
      return;
    }
    bufferevent_setcb(bev_, &connection::read_cb, &connection::write_cb, &connection::event_cb, this);
    writer_.attach(bev_);
    // libevent's default moves 16 KiB per readiness event; a player of a few Mbit/s would then
    // cost a wake-up and a syscall every 16 KiB. Bigger single writes merge more into one writev.
    bufferevent_set_max_single_write(bev_, 256 * 1024);
    bufferevent_set_max_single_read(bev_, 64 * 1024);
    const timeval hs = to_timeval(srv_.cfg.handshake_timeout);
    bufferevent_set_timeouts(bev_, &hs, &hs);
    bufferevent_enable(bev_, EV_READ | EV_WRITE);
    spdlog::debug("rtmp: session={} peer={} connected", id_, peer_);
  }

  void close(std::string_view reason) {
    if (closed_)
      return;
    closed_ = true;
    auto self = shared_from_this(); // the map entry may be the last owner
    if (bev_) {
      // Drop what is still queued now, so no buffer refers to the messages released below.
      evbuffer* out = bufferevent_get_output(bev_);
      evbuffer_drain(out, evbuffer_get_length(out));
      writer_.detach();
      bufferevent_free(bev_);
      bev_ = nullptr;
    }
    if (stats_timer_) {
      event_free(stats_timer_);
      stats_timer_ = nullptr;
    }
    if (viewer_hub_) {
      viewer_hub_->unsubscribe(*ls_.loop, this);
      viewer_hub_.reset();
    }
    end_publish(reason);
    spdlog::info("rtmp: session={} peer={} closed: {}", id_, peer_, reason);
    counters::add(srv_.stats.connections_open, -1);
    srv_.forget(id_, peer_, role_);
    ls_.connections.erase(id_);
  }

  // --- session::handler
  void on_publish(const publish_info& info) override {
    if (info.app != srv_.cfg.publish_app) {
      session_.reject_publish("unknown application " + info.app);
      return;
    }
    publish_request req{id_, info.app, info.stream_key, info.mode, info.tc_url, peer_, ++publishes_};
    spdlog::info("rtmp: session={} peer={} publish app={} mode={}", id_, peer_, info.app, info.mode);
    std::weak_ptr<connection> weak = shared_from_this();
    auto loop = ls_.loop;
    hooks* h = &srv_.hooks_;
    const std::uint64_t id = id_;
    srv_.hooks_.authorize_publish(req, [weak, loop, h, id](publish_decision d) {
      loop->post([weak, h, id, d = std::move(d)] {
        if (auto c = weak.lock(); c && !c->closed_)
          c->on_publish_decision(d);
        else if (d.hub)
          h->on_publish_end(id, "connection closed before the publish was accepted");
      });
    });
  }

  void on_play(const play_info& info) override {
    if (info.app != srv_.cfg.play_app) {
      session_.reject_play("unknown application " + info.app);
      return;
    }
    play_request req{id_, info.app, info.name, peer_};
    spdlog::info("rtmp: session={} peer={} play id={}", id_, peer_, info.name);
    std::weak_ptr<connection> weak = shared_from_this();
    auto loop = ls_.loop;
    srv_.hooks_.resolve_play(req, [weak, loop](play_decision d) {
      loop->post([weak, d = std::move(d)] {
        if (auto c = weak.lock(); c && !c->closed_)
          c->on_play_decision(d);
      });
    });
  }

  void on_media(const frame& f) override {
    if (!publish_hub_)
      return;
    publish_hub_->publish(f, hub_session_);
    if (f.kind == frame_kind::video && f.keyframe && !first_key_) {
      first_key_ = true;
      srv_.hooks_.on_first_keyframe(id_);
    }
  }

  void on_unpublish() override { end_publish("unpublished"); }

  // --- fanout::viewer: the hub has more for this player (on this loop's thread). The hub
  // merges writes: audio and data wait for the next video frame or its merge window.
  void on_data() override { service(); }

  // Sends what the hub has for this player: straight to the socket, or by reference into its
  // queue when the socket is full (fanout::socket_writer).
  void service() {
    if (closed_ || !viewer_hub_ || !bev_)
      return;
    // Up to viewer_out_buffer queued; the write callback resumes once the socket drains.
    const auto r = writer_.serve(*viewer_hub_, cursor_, srv_.cfg.viewer_out_buffer, &chunks_of);
    if (r.dropped_frames > 0)
      spdlog::debug("rtmp: session={} slow viewer skipped {} frames ({} GOPs)", id_, r.dropped_frames, r.dropped_gops);
    if (r.bytes > 0)
      counters::add(srv_.stats.bytes_out, r.bytes);
    if (r.error != 0)
      close(std::string{"socket error: "} + evutil_socket_error_to_string(r.error));
    else if (r.closed)
      close_after_flush("stream ended");
  }

private:
  static void read_cb(bufferevent*, void* ctx) { static_cast<connection*>(ctx)->on_read(); }
  static void write_cb(bufferevent*, void* ctx) { static_cast<connection*>(ctx)->on_writable(); }
  static void event_cb(bufferevent*, short what, void* ctx) {
    auto* c = static_cast<connection*>(ctx);
    if (what & BEV_EVENT_TIMEOUT) {
      counters::add(c->srv_.stats.timeouts);
      c->close(c->session_.handshake_done() ? "idle timeout" : "handshake timeout");
    } else if (what & BEV_EVENT_EOF) {
      c->close("peer closed");
    } else if (what & BEV_EVENT_ERROR) {
      c->close(std::string{"socket error: "} + evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    }
  }

  void on_read() {
    auto self = shared_from_this();
    evbuffer* in = bufferevent_get_input(bev_);
    const bool was_handshaking = !session_.handshake_done();
    for (;;) {
      if (closed_ || draining_)
        return;
      const std::size_t len = evbuffer_get_length(in);
      if (len == 0)
        break;
      const auto* data = evbuffer_pullup(in, -1);
      auto r = session_.consume({data, len});
      counters::add(srv_.stats.bytes_in, r.used);
      evbuffer_drain(in, r.used);
      flush_session();
      if (!r.error.empty()) {
        counters::add(srv_.stats.protocol_errors);
        spdlog::warn("rtmp: session={} peer={} protocol error: {}", id_, peer_, r.error);
        close(r.error);
        return;
      }
      if (session_.closing()) {
        close_after_flush("refused");
        return;
      }
      if (r.used == 0)
        break;
    }
    if (was_handshaking && session_.handshake_done() && bev_) {
      const timeval idle = to_timeval(srv_.cfg.idle_timeout);
      bufferevent_set_timeouts(bev_, &idle, &idle);
    }
  }

  void on_writable() {
    auto self = shared_from_this();
    if (draining_) {
      if (evbuffer_get_length(bufferevent_get_output(bev_)) == 0)
        close(drain_reason_);
      return;
    }
    service(); // the socket drained: refill now, no reason to wait for the merge window
  }

  void flush_session() {
    auto& out = session_.output();
    if (out.empty() || !bev_)
      return;
    counters::add(srv_.stats.bytes_out, out.size());
    writer_.copy(out);
    out.clear();
  }

  // Lets the last replies (BadName, StreamNotFound) reach the peer, then closes.
  void close_after_flush(std::string reason) {
    if (closed_ || draining_)
      return;
    draining_ = true;
    drain_reason_ = std::move(reason);
    bufferevent_disable(bev_, EV_READ);
    bufferevent_setwatermark(bev_, EV_WRITE, 0, 0);
    const timeval t = to_timeval(std::chrono::milliseconds{2000});
    bufferevent_set_timeouts(bev_, nullptr, &t);
    if (evbuffer_get_length(bufferevent_get_output(bev_)) == 0) {
      // Nothing left to write: close from the loop, not from inside the caller's stack.
      auto weak = weak_from_this();
      ls_.loop->post([weak] {
        if (auto c = weak.lock())
          c->close(c->drain_reason_);
      });
    }
  }

  void on_publish_decision(const publish_decision& d) {
    if (!d.hub) {
      counters::add(srv_.stats.publish_rejected);
      spdlog::info("rtmp: session={} peer={} publish refused: {}", id_, peer_, d.reason);
      session_.reject_publish(d.reason.empty() ? "refused" : d.reason);
      flush_session();
      close_after_flush("publish refused");
      return;
    }
    if (!session_.accept_publish()) {
      // The encoder stopped while its key decided: accepted, and over at once.
      spdlog::info("rtmp: session={} peer={} unpublished before its publish was accepted", id_, peer_);
      srv_.hooks_.on_publish_end(id_, "unpublished before the publish was accepted");
      return;
    }
    srv_.promote(peer_, role_, peer_role::publisher); // a publisher is bounded by its stream key
    publish_hub_ = d.hub;
    hub_session_ = publish_hub_->begin_publish();
    first_key_ = false; // a connection may publish again after an unpublish
    flush_session();
    counters::add(srv_.stats.publish_sessions_total);
    counters::add(srv_.stats.publishers_active);
    spdlog::info("rtmp: session={} peer={} publishing to hub={}", id_, peer_, d.hub->name());
    stats_timer_ = event_new(ls_.loop->base(), -1, EV_PERSIST, &connection::stats_cb, this);
    const timeval every = to_timeval(srv_.cfg.stats_interval);
    event_add(stats_timer_, &every);
    last_stats_ = std::chrono::steady_clock::now();
  }

  void on_play_decision(const play_decision& d) {
    if (!d.hub) {
      spdlog::info("rtmp: session={} peer={} play: not found", id_, peer_);
      session_.reject_play("no such stream");
      flush_session();
      close_after_flush("play refused");
      return;
    }
    if (!srv_.promote(peer_, role_, peer_role::player)) {
      counters::add(srv_.stats.connections_refused);
      spdlog::warn("rtmp: session={} peer={} play refused: {} players from this address already", id_, peer_,
                   srv_.cfg.max_players_per_address);
      session_.reject_play("too many players from this address");
      flush_session();
      close_after_flush("players per address");
      return;
    }
    session_.accept_play();
    flush_session();
    viewer_hub_ = d.hub; // closed already if its broadcast ended meanwhile: the player ends
    // Players may be silent for long; what matters is that our writes make progress.
    const timeval idle = to_timeval(srv_.cfg.idle_timeout);
    bufferevent_set_timeouts(bev_, nullptr, &idle);
    bufferevent_setwatermark(bev_, EV_WRITE, srv_.cfg.viewer_out_buffer / 2, 0);
    viewer_hub_->subscribe(*ls_.loop, this);
    service(); // the GOP cache at once
  }

  static void stats_cb(evutil_socket_t, short, void* ctx) { static_cast<connection*>(ctx)->report_stats(); }

  void report_stats() {
    const auto now = std::chrono::steady_clock::now();
    const double secs = std::chrono::duration<double>(now - last_stats_).count();
    const auto& t = session_.totals();
    ingest_stats s;
    s.video_codec = t.video_codec;
    s.audio_codec = t.audio_codec;
    s.width = t.width;
    s.height = t.height;
    if (secs > 0) {
      s.fps = static_cast<double>(t.video_frames - last_frames_) / secs;
      s.bitrate_kbps = static_cast<int>(static_cast<double>(t.media_bytes - last_bytes_) * 8 / 1000 / secs);
    }
    if (s.fps == 0)
      s.fps = t.metadata_fps;
    last_stats_ = now;
    last_frames_ = t.video_frames;
    last_bytes_ = t.media_bytes;
    srv_.hooks_.on_stats(id_, s);
  }

  void end_publish(std::string_view reason) {
    if (!publish_hub_)
      return;
    publish_hub_->end_publish(hub_session_);
    publish_hub_.reset();
    counters::add(srv_.stats.publishers_active, -1);
    if (stats_timer_) {
      event_free(stats_timer_);
      stats_timer_ = nullptr;
    }
    srv_.hooks_.on_publish_end(id_, reason);
  }

  // What service() touches comes first, right after the fanout::viewer base: the hub prefetches
  // those lines of the next player while it serves this one (hub::serve).
  server::impl& srv_;
  bufferevent* bev_ = nullptr;
  bool closed_ = false;
  bool draining_ = false;
  std::shared_ptr<fanout::hub> viewer_hub_;
  fanout::cursor cursor_;
  fanout::socket_writer writer_;
  loop_state& ls_;
  const std::uint64_t id_;
  const std::string peer_;
  session session_;
  std::string drain_reason_;
  // publisher
  std::shared_ptr<fanout::hub> publish_hub_;
  std::uint64_t hub_session_ = 0;
  bool first_key_ = false;
  unsigned publishes_ = 0; // publish commands on this connection
  peer_role role_ = peer_role::pending; // guarded by srv_.mu (changed by promote)
  event* stats_timer_ = nullptr;
  std::chrono::steady_clock::time_point last_stats_;
  std::uint64_t last_frames_ = 0, last_bytes_ = 0;
};

void accept_cb(evconnlistener*, evutil_socket_t fd, sockaddr* addr, int, void* ctx) {
  static_cast<server::impl*>(ctx)->on_accept(fd, addr);
}

void accept_error_cb(evconnlistener*, void*) {
  // EMFILE and friends: log and keep listening; connections already open are unaffected.
  spdlog::error("rtmp: accept failed: {}", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

} // namespace

void server::impl::on_accept(evutil_socket_t fd, const sockaddr* addr) {
  const std::string peer = peer_string(addr);
  {
    std::lock_guard lock{mu};
    auto& load = per_address[peer];
    if (load.pending >= cfg.max_pending_per_address) {
      counters::add(stats.connections_refused);
      spdlog::warn("rtmp: peer={} refused: {} connections from this address not yet publishing or playing", peer,
                   load.pending);
      evutil_closesocket(fd);
      return;
    }
    ++load.pending;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (cfg.socket_send_buffer > 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cfg.socket_send_buffer, sizeof cfg.socket_send_buffer);
  const std::uint64_t id = next_id.fetch_add(1);
  loop_state* ls = loops[next_loop.fetch_add(1) % loops.size()].get();
  counters::add(stats.connections_total);
  counters::add(stats.connections_open);
  ls->loop->post([this, ls, fd, id, peer] {
    auto c = std::make_shared<connection>(*this, *ls, id, peer);
    ls->connections.emplace(id, c);
    {
      std::lock_guard lock{mu};
      sessions[id] = where{ls, c};
    }
    c->open(fd);
  });
}

bool server::impl::promote(const std::string& peer, peer_role& role, peer_role to) {
  std::lock_guard lock{mu};
  auto& load = per_address[peer];
  if (role == to)
    return true;
  if (to == peer_role::player && load.players >= cfg.max_players_per_address)
    return false;
  --load.of(role);
  ++load.of(to);
  role = to;
  return true;
}

void server::impl::forget(std::uint64_t id, const std::string& peer, peer_role role) {
  std::lock_guard lock{mu};
  sessions.erase(id);
  auto it = per_address.find(peer);
  if (it == per_address.end())
    return;
  --it->second.of(role);
  if (it->second.empty())
    per_address.erase(it);
}

bool parse_listen(const std::string& spec, server_config& cfg) {
  // "host:port", "[v6]:port" or ":port"
  const auto colon = spec.rfind(':');
  if (colon == std::string::npos)
    return false;
  std::string host = spec.substr(0, colon);
  const std::string port = spec.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    return false;
  const unsigned long p = std::stoul(port);
  if (p > 65535)
    return false;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  cfg.address = host.empty() ? "0.0.0.0" : host;
  cfg.port = static_cast<std::uint16_t>(p);
  return true;
}

server::server(server_config cfg, hooks& h, counters& c) : impl_{std::make_unique<impl>(std::move(cfg), h, c)} {}

server::~server() { stop(); }

void server::start() {
  auto& im = *impl_;
  if (im.running)
    return;
  // spdlog's default logger is created on first use; create it before the loop threads exist.
  (void)spdlog::default_logger_raw();
  const unsigned n = im.cfg.loops ? im.cfg.loops : net::usable_cores().usable;
  for (unsigned i = 0; i < n; ++i) {
    auto ls = std::make_unique<loop_state>();
    ls->loop = std::make_shared<net::event_loop>();
    im.loops.push_back(std::move(ls));
  }
  sockaddr_storage ss{};
  int ss_len = sizeof ss;
  const std::string spec = im.cfg.address + " port " + std::to_string(im.cfg.port);
  // Parsed without the port: libevent's parser refuses port 0, which tests need.
  if (evutil_parse_sockaddr_port(im.cfg.address.c_str(), reinterpret_cast<sockaddr*>(&ss), &ss_len) != 0)
    throw std::runtime_error("rtmp: bad listen address " + im.cfg.address);
  if (ss.ss_family == AF_INET6)
    reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port = htons(im.cfg.port);
  else
    reinterpret_cast<sockaddr_in*>(&ss)->sin_port = htons(im.cfg.port);
  im.listener = evconnlistener_new_bind(im.loops[0]->loop->base(), &accept_cb, &im,
                                        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 1024,
                                        reinterpret_cast<sockaddr*>(&ss), ss_len);
  if (!im.listener) {
    const std::string why = evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR());
    im.loops.clear();
    throw std::runtime_error("rtmp: cannot listen on " + spec + ": " + why);
  }
  evconnlistener_set_error_cb(im.listener, &accept_error_cb);
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof bound;
  getsockname(evconnlistener_get_fd(im.listener), reinterpret_cast<sockaddr*>(&bound), &bound_len);
  im.bound_port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                    : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  for (auto& ls : im.loops)
    ls->loop->start();
  im.running = true;
  spdlog::info("rtmp: listening on {}:{} with {} loops", im.cfg.address, im.bound_port, n);
}

void server::stop() {
  auto& im = *impl_;
  if (!im.running)
    return;
  im.running = false;
  // Listener and connections belong to their loops: tear them down there, then join.
  {
    std::promise<void> done;
    im.loops[0]->loop->post([&] {
      evconnlistener_free(im.listener);
      im.listener = nullptr;
      done.set_value();
    });
    done.get_future().wait();
  }
  for (auto& ls : im.loops) {
    std::promise<void> done;
    ls->loop->post([&] {
      auto conns = ls->connections; // close() erases from the map
      for (auto& [id, c] : conns)
        c->close("server stopping");
      done.set_value();
    });
    done.get_future().wait();
  }
  for (auto& ls : im.loops)
    ls->loop->stop();
  im.loops.clear();
}

std::uint16_t server::port() const { return impl_->bound_port; }

void server::disconnect_publisher(std::uint64_t session_id) {
  std::lock_guard lock{impl_->mu};
  const auto it = impl_->sessions.find(session_id);
  if (it == impl_->sessions.end())
    return;
  it->second.ls->loop->post([weak = it->second.conn] {
    if (auto c = weak.lock())
      c->close("disconnected by the server");
  });
}

std::size_t server::connection_count() const {
  std::lock_guard lock{impl_->mu};
  return impl_->sessions.size();
}

} // namespace onair::media::rtmp
