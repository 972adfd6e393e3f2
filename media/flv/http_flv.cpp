#include "media/flv/http_flv.hpp"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <spdlog/spdlog.h>

#include "media/flv/tag.hpp"
#include "media/net/event_loop.hpp"

namespace onair::media::flv {

namespace {

void release_message(const void*, size_t, void* holder) { delete static_cast<fanout::message_ptr*>(holder); }

// Owns itself: deleted when the client goes or the hub ends.
class http_viewer final : public fanout::viewer {
public:
  http_viewer(net::event_loop& loop, evhttp_request* req, std::shared_ptr<fanout::hub> hub, counters* stats,
              http_viewer_options opts)
      : loop_{loop}, req_{req}, conn_{evhttp_request_get_connection(req)}, hub_{std::move(hub)}, stats_{stats},
        opts_{opts} {}

  void start() {
    evkeyvalq* headers = evhttp_request_get_output_headers(req_);
    evhttp_add_header(headers, "Content-Type", "video/x-flv");
    evhttp_add_header(headers, "Access-Control-Allow-Origin", "*");
    evhttp_add_header(headers, "Cache-Control", "no-cache");
    evhttp_connection_set_closecb(conn_, &http_viewer::close_cb, this);
    evhttp_send_reply_start(req_, 200, "OK");
    hub_->subscribe(loop_, this);
    on_data();
  }

  void on_data() override {
    if (done_)
      return;
    bufferevent* bev = evhttp_connection_get_bufferevent(conn_);
    const std::size_t queued = bev ? evbuffer_get_length(bufferevent_get_output(bev)) : 0;
    if (queued >= opts_.out_buffer)
      return; // resumed by chunk_sent once the socket drains
    scratch_.clear();
    const auto r = hub_->read(cursor_, scratch_, opts_.out_buffer - queued);
    if (scratch_.empty() && !r.closed && header_sent_)
      return;
    evbuffer* chunk = evbuffer_new();
    std::size_t bytes = 0;
    if (!header_sent_) {
      header_sent_ = true;
      std::vector<std::uint8_t> h;
      write_file_header(h, true, true);
      evbuffer_add(chunk, h.data(), h.size());
      bytes += h.size();
    }
    for (auto& m : scratch_) {
      const auto& tag = m->flv();
      auto* holder = new fanout::message_ptr(std::move(m));
      if (evbuffer_add_reference(chunk, tag.data(), tag.size(), &release_message, holder) != 0) {
        delete holder;
        break;
      }
      bytes += tag.size();
    }
    scratch_.clear();
    if (stats_)
      counters::add(stats_->bytes_out, bytes);
    // One chunk per wake-up: the messages ready now go out in one write.
    if (evbuffer_get_length(chunk) > 0)
      evhttp_send_reply_chunk_with_cb(req_, chunk, &http_viewer::chunk_sent, this);
    evbuffer_free(chunk);
    if (r.closed)
      finish();
  }

private:
  static void chunk_sent(evhttp_connection*, void* self) { static_cast<http_viewer*>(self)->on_data(); }

  static void close_cb(evhttp_connection*, void* self) {
    auto* v = static_cast<http_viewer*>(self);
    v->done_ = true;
    // A client that leaves mid-reply makes evhttp detach the unfinished request from the
    // connection and leave it to us (libevent 2.1 evhttp_connection_incoming_fail); when it is
    // still attached (evhttp_free at shutdown), evhttp frees it with the connection.
    if (evhttp_request_get_connection(v->req_) == nullptr)
      evhttp_request_free(v->req_);
    v->hub_->unsubscribe(v->loop_, v);
    spdlog::debug("http-flv: hub={} viewer left", v->hub_->name());
    // Deleting later: evhttp may still reference the callback argument in this call.
    v->loop_.post([v] { delete v; });
  }

  void finish() {
    done_ = true;
    hub_->unsubscribe(loop_, this);
    evhttp_connection_set_closecb(conn_, nullptr, nullptr);
    evhttp_send_reply_end(req_);
    loop_.post([v = this] { delete v; });
  }

  net::event_loop& loop_;
  evhttp_request* req_;
  evhttp_connection* conn_;
  std::shared_ptr<fanout::hub> hub_;
  counters* stats_;
  http_viewer_options opts_;
  fanout::cursor cursor_;
  std::vector<fanout::message_ptr> scratch_;
  bool header_sent_ = false;
  bool done_ = false;
};

} // namespace

void serve_http_flv(net::event_loop& loop, evhttp_request* req, std::shared_ptr<fanout::hub> hub, counters* stats,
                    http_viewer_options opts) {
  if (!hub) {
    evhttp_send_error(req, HTTP_NOTFOUND, "no such stream");
    return;
  }
  auto* v = new http_viewer(loop, req, std::move(hub), stats, opts);
  v->start();
}

} // namespace onair::media::flv
