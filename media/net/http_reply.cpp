#include "media/net/http_reply.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/http.h>

namespace onair::net {

void send_at_once(evhttp_request* req) {
  evhttp_connection* conn = evhttp_request_get_connection(req);
  if (!conn)
    return;
  bufferevent* bev = evhttp_connection_get_bufferevent(conn);
  const int one = 1;
  ::setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  bufferevent_set_max_single_write(bev, 1 << 20);
}

} // namespace onair::net
