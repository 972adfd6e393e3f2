#pragma once
// HTTP-FLV playback: serves one viewer on an evhttp request from a fanout::hub - `video/x-flv`
// with CORS (chunked for HTTP/1.1, a bare stream for HTTP/1.0), the FLV header, the GOP cache,
// then live tags - until the client leaves or the hub closes; the connection closes with it.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

#include "media/fanout/counters.hpp"
#include "media/fanout/hub.hpp"

struct evhttp_request;

namespace onair::net {
class event_loop;
}

namespace onair::media::flv {

struct http_viewer_options {
  std::size_t out_buffer = 1024 * 1024; // bytes queued on the socket before this viewer waits
  std::chrono::seconds write_timeout{30}; // a viewer whose socket takes nothing this long is closed
  std::size_t max_input = 64 * 1024;      // bytes a viewer may send after its request (dropped) before it is closed
};

// How the viewer hears that its client left, from whoever owns the connection's close callback
// (evhttp has one per connection): watch(fn) has fn run once when the connection goes, on the loop
// thread or, once the loop has stopped, on the thread freeing the connection; watch(nullptr) takes
// it back. The HTTP server's raw routes get one (api::close_watch). Empty: the viewer sets the
// connection's close callback itself, for a bare evhttp that tracks nothing of its own.
using close_watch = std::function<void(std::function<void()> fn)>;

// Call on `loop`'s thread; the evhttp serving `req` must run on loop.base(). Takes over the
// request (it is answered and finished here, whatever happens).
void serve_http_flv(net::event_loop& loop, evhttp_request* req, std::shared_ptr<fanout::hub> hub,
                    close_watch watch, counters* stats = nullptr, http_viewer_options opts = {});

// The same for a hub found later, off the loop (the lookup reads a database): call on `loop`'s
// thread, then call the returned function once, from any thread, with the hub (null: 404). The
// viewer starts back on the loop; a client that left meanwhile is let go. `loop` must outlive
// that call.
[[nodiscard]] std::function<void(std::shared_ptr<fanout::hub>)>
serve_http_flv_later(net::event_loop& loop, evhttp_request* req, close_watch watch, counters* stats = nullptr,
                     http_viewer_options opts = {});

} // namespace onair::media::flv
