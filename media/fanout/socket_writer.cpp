#include "media/fanout/socket_writer.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cerrno>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/util.h>

namespace onair::media::fanout {

void socket_writer::attach(bufferevent* bev) {
  detach();
  out_ = bufferevent_get_output(bev);
  fd_ = bufferevent_getfd(bev);
  drained_ = 0;
  added_ = evbuffer_get_length(out_); // e.g. HTTP headers not written yet
  cb_ = evbuffer_add_cb(out_, &socket_writer::output_cb, this);
  // What is queued leaves in one write as far as the socket takes it. libevent's default, 16 KiB
  // per write event, made a new HTTP-FLV viewer's GOP cache (queued behind the reply's headers)
  // leave in 16 KiB steps, one loop turn each behind every other viewer's writes: under a ramp of
  // 1,000 viewers a second its first frame came 100-250 ms late.
  bufferevent_set_max_single_write(bev, EV_SSIZE_MAX);
}

void socket_writer::detach() {
  if (out_ && cb_)
    evbuffer_remove_cb_entry(out_, cb_);
  out_ = nullptr;
  fd_ = -1;
  cb_ = nullptr;
  inflight_.clear();
}

void socket_writer::output_cb(evbuffer*, const evbuffer_cb_info* info, void* self) {
  auto* w = static_cast<socket_writer*>(self);
  w->drained_ += info->n_deleted;
  while (!w->inflight_.empty() && w->inflight_.front().first <= w->drained_)
    w->inflight_.pop_front();
}

void socket_writer::queue(const std::vector<std::uint8_t>& bytes, std::size_t offset, message_ptr owner) {
  const std::size_t n = bytes.size() - offset;
  if (n == 0)
    return;
  // Added before counting: output_cb sees the addition (n_deleted 0) and must not release owner.
  evbuffer_add_reference(out_, bytes.data() + offset, n, nullptr, nullptr);
  added_ += n;
  inflight_.emplace_back(added_, std::move(owner));
}

socket_writer::serve_result socket_writer::serve(hub& h, cursor& c, std::size_t limit, bytes_of which) {
  serve_result out;
  for (bool more = true; more && queued() < limit;) {
    auto& scratch = loop_scratch();
    scratch.clear();
    const auto r = h.read(c, scratch, limit - queued());
    const auto sent = send(scratch, which);
    scratch.clear();
    out.bytes += sent.bytes;
    out.dropped_frames += r.dropped_frames;
    out.dropped_gops += r.dropped_gops;
    out.closed = r.closed;
    if (sent.error != 0) {
      out.error = sent.error;
      break;
    }
    more = !r.closed && r.more && queued() == 0;
  }
  return out;
}

socket_writer::send_result socket_writer::send(std::vector<message_ptr>& msgs, bytes_of which) {
  send_result r;
  if (!out_ || msgs.empty())
    return r;
  std::size_t i = 0;      // first message not fully sent
  std::size_t offset = 0; // bytes of msgs[i] already sent
  if (queued() == 0) {
    constexpr std::size_t max_iov = 64;
    std::array<iovec, max_iov> iov{};
    while (i < msgs.size()) {
      std::size_t n = 0, total = 0;
      for (std::size_t j = i; j < msgs.size() && n < max_iov; ++j) {
        const auto& b = which(*msgs[j]);
        const std::size_t skip = j == i ? offset : 0;
        iov[n].iov_base = const_cast<std::uint8_t*>(b.data() + skip); // NOLINT: sendmsg does not write
        iov[n].iov_len = b.size() - skip;
        total += iov[n].iov_len;
        ++n;
      }
      msghdr mh{};
      mh.msg_iov = iov.data();
      mh.msg_iovlen = n;
      const ssize_t sent = ::sendmsg(fd_, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent < 0) {
        if (errno == EINTR)
          continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
          break;
        r.error = errno;
        return r;
      }
      direct_ += static_cast<std::uint64_t>(sent);
      r.bytes += static_cast<std::uint64_t>(sent);
      // Advance past what the kernel took.
      auto left = static_cast<std::size_t>(sent);
      while (i < msgs.size()) {
        const std::size_t rest = which(*msgs[i]).size() - offset;
        if (left < rest) {
          offset += left;
          break;
        }
        left -= rest;
        offset = 0;
        ++i;
      }
      if (static_cast<std::size_t>(sent) < total)
        break; // the socket is full: the rest waits in the queue
    }
  }
  for (; i < msgs.size(); ++i, offset = 0) {
    const auto& bytes = which(*msgs[i]); // before msgs[i] is moved into the queue
    r.bytes += bytes.size() - offset;
    queue(bytes, offset, std::move(msgs[i]));
  }
  return r;
}

void socket_writer::copy(std::span<const std::uint8_t> bytes) {
  if (!out_ || bytes.empty())
    return;
  evbuffer_add(out_, bytes.data(), bytes.size());
  added_ += bytes.size();
}

void socket_writer::make_self_contained() {
  if (!out_ || inflight_.empty())
    return;
  // pullup copies every chain, referenced ones included, into one the buffer owns.
  evbuffer_pullup(out_, -1);
  inflight_.clear();
}

} // namespace onair::media::fanout
