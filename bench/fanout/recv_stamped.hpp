// One recvmsg() with the kernel's arrival stamp of the bytes (SO_TIMESTAMPNS on the socket): how
// the load generator's viewers read, and the kernel floor's reader too, so both cost the same.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <ctime>
#include <span>

namespace onair::bench {

struct stamped_read {
  ssize_t n = -1;      // recvmsg's result (errno is recvmsg's when negative)
  timespec arrival{};  // CLOCK_REALTIME, when stamped
  bool stamped = false;
};

inline stamped_read recv_stamped(int fd, std::span<std::uint8_t> buf, int flags = 0) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
  iovec iov{buf.data(), buf.size()};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control;
  mh.msg_controllen = sizeof control;
  stamped_read r;
  r.n = recvmsg(fd, &mh, flags);
  for (cmsghdr* c = CMSG_FIRSTHDR(&mh); r.n > 0 && c != nullptr; c = CMSG_NXTHDR(&mh, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      std::memcpy(&r.arrival, CMSG_DATA(c), sizeof r.arrival);
      r.stamped = true;
    }
  return r;
}

} // namespace onair::bench
