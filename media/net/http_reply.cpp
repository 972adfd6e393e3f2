#include "media/net/http_reply.hpp"

#include <string>

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

void send_text(media_reply& reply, int status, std::string_view text) {
  auto body = std::make_shared<const std::string>(text);
  reply.send(status, "text/plain; charset=utf-8", "no-cache", {piece_of(body)});
}

const char* reason_phrase(int status) {
  switch (status) {
  case 200: return "OK";
  case 204: return "No Content";
  case 206: return "Partial Content";
  case 304: return "Not Modified";
  case 400: return "Bad Request";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 413: return "Content Too Large";
  case 414: return "URI Too Long";
  case 416: return "Range Not Satisfiable";
  case 417: return "Expectation Failed";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 503: return "Service Unavailable";
  case 505: return "HTTP Version Not Supported";
  default: return "Unknown";
  }
}

} // namespace onair::net
