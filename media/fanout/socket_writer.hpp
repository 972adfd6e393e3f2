#pragma once
// Sends the shared serialisations of fan-out messages to one viewer's socket without copying them.
//
// While nothing is queued, what a viewer is due goes straight to the socket in one sendmsg() over
// the shared buffers: no copy, no buffer chain, no write event to register and unregister (that
// was two epoll_ctl calls per frame per viewer through a bufferevent). Only what the socket does
// not take is queued, by reference, in the bufferevent's output, which libevent drains when the
// socket is writable again; the messages it points into are kept alive until their last byte
// leaves. Bytes of the connection's own (control messages) go through the same queue, so the
// order on the wire is always the order of the calls.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <utility>
#include <vector>

#include "media/fanout/hub.hpp"

struct bufferevent;
struct evbuffer;
struct evbuffer_cb_entry;
struct evbuffer_cb_info;

namespace onair::media::fanout {

class socket_writer {
public:
  // Which serialisation of a message goes on this socket (RTMP chunks, FLV tags, …).
  using bytes_of = const std::vector<std::uint8_t>& (*)(const message&);

  socket_writer() = default;
  socket_writer(const socket_writer&) = delete;
  socket_writer& operator=(const socket_writer&) = delete;
  ~socket_writer() { detach(); }

  // Starts writing to bev's socket (its output buffer is watched for drained bytes). From then on
  // only this writer may add to that output buffer: queued() is counted here, not asked of it.
  void attach(bufferevent* bev);
  // Stops watching and lets go of the queued messages. Call before freeing the bufferevent, after
  // dropping or copying (make_self_contained) what it still holds.
  void detach();

  struct send_result {
    int error = 0;           // errno of a socket that failed (the caller closes the connection)
    std::uint64_t bytes = 0; // handed over: written to the socket or queued
  };
  // Sends msgs, in order, after anything queued. The queued messages are moved from.
  send_result send(std::vector<message_ptr>& msgs, bytes_of which);
  struct serve_result {
    int error = 0;           // as send_result
    std::uint64_t bytes = 0; // as send_result
    bool closed = false;     // the hub was closed: the caller ends the viewer once flushed
    std::uint64_t dropped_frames = 0, dropped_gops = 0; // a slow viewer skipped to a newer key frame
  };
  // Reads what h has for the viewer at c and sends it, until `limit` bytes are queued. A read stops
  // at its budget; while the socket takes all of it, this reads on (a new viewer's GOP cache larger
  // than one read), rather than leave the rest for the next frame's wake-up.
  serve_result serve(hub& h, cursor& c, std::size_t limit, bytes_of which);
  // Queues bytes of the connection's own, copied.
  void copy(std::span<const std::uint8_t> bytes);
  // Bytes waiting in the output buffer.
  [[nodiscard]] std::size_t queued() const { return static_cast<std::size_t>(added_ - drained_); }
  // Copies what is still queued into the output buffer itself, so that it no longer points into
  // shared messages: the connection can then finish writing after its owner is gone.
  void make_self_contained();

  // Total bytes handed to the kernel directly, for tests.
  [[nodiscard]] std::uint64_t direct_bytes() const { return direct_; }

private:
  static void output_cb(evbuffer*, const evbuffer_cb_info* info, void* self);
  void queue(const std::vector<std::uint8_t>& bytes, std::size_t offset, message_ptr owner);

  // Kept here: the viewer's bufferevent is cold in the cache when a frame is fanned out.
  // out_ is null while detached.
  evbuffer* out_ = nullptr;
  int fd_ = -1;
  evbuffer_cb_entry* cb_ = nullptr;
  // Every byte added to the output buffer counts in added_ (what was there at attach too), every
  // byte written from it in drained_; a message leaves inflight_ once drained_ passes the offset where its bytes end.
  std::uint64_t added_ = 0, drained_ = 0, direct_ = 0;
  std::deque<std::pair<std::uint64_t, message_ptr>> inflight_;
};

} // namespace onair::media::fanout
