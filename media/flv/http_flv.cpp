#include "media/flv/http_flv.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <spdlog/spdlog.h>

#include "media/fanout/socket_writer.hpp"
#include "media/flv/output.hpp"
#include "media/flv/tag.hpp"
#include "media/net/event_loop.hpp"

namespace onair::media::flv {

namespace {

// Owns itself: deleted when its connection goes (the client leaves, or the connection closes after
// the stream's end).
class http_viewer final : public fanout::viewer {
public:
  http_viewer(net::event_loop& loop, evhttp_request* req, std::shared_ptr<fanout::hub> hub, counters* stats,
              http_viewer_options opts)
      : hub_{std::move(hub)}, stats_{stats}, opts_{opts}, loop_{loop}, req_{req},
        conn_{evhttp_request_get_connection(req)} {}

  [[nodiscard]] fanout::viewer_protocol protocol() const override { return fanout::viewer_protocol::http_flv; }

  void start(const close_watch& watch) {
    evkeyvalq* headers = evhttp_request_get_output_headers(req_);
    evhttp_add_header(headers, "Content-Type", "video/x-flv");
    evhttp_add_header(headers, "Access-Control-Allow-Origin", "*");
    evhttp_add_header(headers, "Cache-Control", "no-cache");
    // The connection ends with the stream. HTTP/1.0 has no other way to end a body of unknown
    // length, and a live stream ends only with the broadcast: there is no later request worth
    // keeping the connection for. evhttp decides from the request's Connection header alone
    // whether to promise keep-alive (to an HTTP/1.0 client that asked for it it would, with a
    // Content-Length: 0 the stream then runs past) and whether to close after the reply, so the
    // request is made to ask for the close; evhttp then says Connection: close in the reply.
    evkeyvalq* asked = evhttp_request_get_input_headers(req_);
    evhttp_remove_header(asked, "Connection");
    evhttp_add_header(asked, "Connection", "close");
    if (watch)
      watch([this] { client_left(); });
    else
      evhttp_connection_set_closecb(conn_, &http_viewer::close_cb, this);
    evhttp_send_reply_start(req_, 200, "OK");
    // HTTP/1.1 clients get chunks; HTTP/1.0 ones the bare stream, ended by closing.
    const char* te = evhttp_find_header(headers, "Transfer-Encoding");
    chunked_ = te != nullptr && evutil_ascii_strcasecmp(te, "chunked") == 0;
    bufferevent* bev = evhttp_connection_get_bufferevent(conn_);
    // Each flush carries whole frames and must leave at once: with Nagle's algorithm a frame
    // written while the previous one is still unacknowledged would wait for that ack.
    const int one = 1;
    setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // The viewer sends nothing more: only writes may time out.
    const timeval write_tv{static_cast<time_t>(opts_.write_timeout.count()), 0};
    bufferevent_set_timeouts(bev, nullptr, &write_tv);
    // The FLV file header goes through evhttp, which from then on calls chunk_sent each time the
    // connection's output drains; the tags go through the shared writer.
    std::vector<std::uint8_t> h;
    write_file_header(h, true, true);
    evbuffer* first = evbuffer_new();
    evbuffer_add(first, h.data(), h.size());
    evhttp_send_reply_chunk_with_cb(req_, first, &http_viewer::chunk_sent, this);
    evbuffer_free(first);
    if (stats_)
      counters::add(stats_->bytes_out, h.size());
    writer_.attach(bev);
    // The viewer has nothing more to say, but evhttp goes on reading while the reply streams (to
    // see the close) into an input buffer that nothing empties: what comes is dropped here, and a
    // viewer that sends more than a little is closed.
    input_ = bufferevent_get_input(bev);
    input_cb_ = evbuffer_add_cb(input_, &http_viewer::input_cb, this);
    drop_input(); // what came right after the request
    hub_->subscribe(loop_, this);
    on_data();
  }

  void on_data() override {
    if (done_ || failed_)
      return;
    // Up to out_buffer queued; resumed by chunk_sent once the socket drains.
    const auto which = chunked_ ? &http_chunk_of : &tag_of;
    const auto r = writer_.serve(*hub_, cursor_, opts_.out_buffer, which);
    if (r.error != 0) {
      // evhttp sees the broken connection on its side and calls close_cb.
      failed_ = true;
      spdlog::debug("http-flv: hub={} viewer write failed: {}", hub_->name(), evutil_socket_error_to_string(r.error));
    }
    if (stats_ && r.bytes > 0)
      counters::add(stats_->bytes_out, r.bytes);
    if (r.closed)
      finish();
  }

private:
  static void chunk_sent(evhttp_connection*, void* self) { static_cast<http_viewer*>(self)->on_data(); }

  static void close_cb(evhttp_connection*, void* self) { static_cast<http_viewer*>(self)->client_left(); }

  static void input_cb(evbuffer*, const evbuffer_cb_info* info, void* self) {
    if (info->n_added > 0)
      static_cast<http_viewer*>(self)->drop_input();
  }

  void drop_input() {
    const std::size_t n = evbuffer_get_length(input_);
    if (n == 0)
      return;
    evbuffer_drain(input_, n); // calls input_cb again, with nothing added
    input_bytes_ += n;
    if (input_bytes_ <= opts_.max_input || closing_)
      return;
    closing_ = true;
    failed_ = true; // nothing more is written either
    char* addr = nullptr;
    ev_uint16_t port = 0;
    evhttp_connection_get_peer(conn_, &addr, &port);
    spdlog::warn("http-flv: hub={} peer={} viewer closed: it sent {} bytes after its request, more than the {} allowed",
                 hub_->name(), addr ? addr : "", input_bytes_, opts_.max_input);
    bufferevent_disable(evhttp_connection_get_bufferevent(conn_), EV_READ);
    // Freed from the loop, not from inside libevent's read of this connection. The viewer is
    // still there then: it is deleted only by a task posted after its connection went (queued
    // after this one), or off the loop once the loop has stopped (and this task with it).
    loop_.post([this] {
      if (!left_)
        evhttp_connection_free(conn_); // client_left follows, through the close callback
    });
  }

  // The connection is going away (the client left, it failed, it closed after the stream's end,
  // or the server frees it).
  void client_left() {
    left_ = true;
    evbuffer_remove_cb_entry(input_, input_cb_);
    if (!done_) {
      done_ = true;
      writer_.detach(); // the connection's buffer is still there; nothing more is written from it
      // A client that leaves mid-reply makes evhttp detach the unfinished request from the
      // connection and leave it to us (libevent 2.1 evhttp_connection_incoming_fail); when it is
      // still attached (evhttp_free at shutdown), evhttp frees it with the connection.
      if (evhttp_request_get_connection(req_) == nullptr)
        evhttp_request_free(req_);
      hub_->unsubscribe(loop_, this);
    }
    spdlog::debug("http-flv: hub={} viewer left", hub_->name());
    // On the loop, deleting later: evhttp may still reference the callback argument in this call
    // (and if the loop stops first, stop() deletes it). Off it, the loop has stopped and the
    // connection is being freed by whoever stopped it (http_server::stop frees its connections
    // after joining the loops), and nothing of this viewer runs any more.
    if (loop_.in_loop_thread())
      loop_.post_release([v = this] { delete v; });
    else
      delete this;
  }

  // The hub closed: the reply ends. The viewer stays until the connection closes after the last
  // bytes (client_left), dropping what the client sends until then.
  void finish() {
    done_ = true;
    hub_->unsubscribe(loop_, this);
    // evhttp writes the rest of the reply: what is queued must not point into messages this
    // viewer no longer holds.
    writer_.make_self_contained();
    writer_.detach();
    evhttp_send_reply_end(req_); // evhttp frees the request once it is written (maybe now)
    req_ = nullptr;
  }

  // What on_data() touches comes first, right after the fanout::viewer base: the hub prefetches
  // those lines of the next viewer while it serves this one (hub::serve).
  bool chunked_ = true;
  bool done_ = false;   // nothing more is written: the stream ended or the client left
  bool failed_ = false; // a write failed, or the client sent too much
  bool closing_ = false;
  bool left_ = false;   // the connection went (client_left)
  std::shared_ptr<fanout::hub> hub_;
  counters* stats_;
  http_viewer_options opts_;
  fanout::cursor cursor_;
  fanout::socket_writer writer_;
  net::event_loop& loop_;
  evhttp_request* req_;
  evhttp_connection* conn_;
  evbuffer* input_ = nullptr;
  evbuffer_cb_entry* input_cb_ = nullptr;
  std::size_t input_bytes_ = 0;
};

} // namespace

void serve_http_flv(net::event_loop& loop, evhttp_request* req, std::shared_ptr<fanout::hub> hub, close_watch watch,
                    counters* stats, http_viewer_options opts) {
  if (!hub) {
    // Readable by the page that asked, like the stream would have been (evhttp_send_error would
    // drop the header: it replaces the reply's headers with its own).
    evkeyvalq* headers = evhttp_request_get_output_headers(req);
    evhttp_add_header(headers, "Content-Type", "text/plain; charset=utf-8");
    evhttp_add_header(headers, "Access-Control-Allow-Origin", "*");
    evbuffer* body = evbuffer_new();
    evbuffer_add_printf(body, "no such stream\n");
    evhttp_send_reply(req, HTTP_NOTFOUND, "Not Found", body);
    evbuffer_free(body);
    return;
  }
  auto* v = new http_viewer(loop, req, std::move(hub), stats, opts);
  v->start(watch);
}

std::function<void(std::shared_ptr<fanout::hub>)> serve_http_flv_later(net::event_loop& loop, evhttp_request* req,
                                                                      close_watch watch, counters* stats,
                                                                      http_viewer_options opts) {
  return [&loop, req, watch = std::move(watch), stats, opts](std::shared_ptr<fanout::hub> hub) mutable {
    loop.post([&loop, req, watch = std::move(watch), stats, opts, hub = std::move(hub)]() mutable {
      // evhttp let the connection go meanwhile (a timeout): it detached the request, which the
      // reply it still waits for frees, and the watch would name a connection that is no more.
      // A client that simply left is found by the viewer's first write.
      if (evhttp_request_get_connection(req) == nullptr)
        return evhttp_send_reply(req, HTTP_NOTFOUND, "Gone", nullptr);
      serve_http_flv(loop, req, std::move(hub), std::move(watch), stats, opts);
    });
  };
}

} // namespace onair::media::flv
