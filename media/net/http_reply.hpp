#pragma once
// How the media's HTTP replies leave (CMAF playlists and parts, VOD files): whole and at once.
#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

struct evhttp_request;

namespace onair::net {

// No Nagle on the request's connection, and writes of up to 1 MiB in one go: a reply written in
// several pieces would otherwise wait, piece after piece, for the client's delayed ACK (some 40 ms
// each on a reused connection), and sendfile would be capped by the bufferevent's 16 KiB write.
void send_at_once(evhttp_request* req);

// Bytes of a reply's body, sent by reference: `keep` holds them until the socket has taken them.
struct body_piece {
  const void* data = nullptr;
  std::size_t size = 0;
  std::shared_ptr<const void> keep;
};

// A piece over shared bytes (a packager's part, a memoised playlist): nothing is copied.
template <class Bytes>
[[nodiscard]] body_piece piece_of(const std::shared_ptr<const Bytes>& bytes) {
  return bytes ? body_piece{bytes->data(), bytes->size(), bytes} : body_piece{};
}

// The bytes of a body in pieces.
[[nodiscard]] inline std::size_t size_of(const std::vector<body_piece>& body) {
  std::size_t n = 0;
  for (const auto& p : body)
    n += p.size;
  return n;
}

// The answer to one media request (a playlist, a part), made by whoever serves it, now or later,
// on the thread of the loop that owns the request's connection. Either send() once, or start(),
// any number of chunk() and end(). The HTTP layer writes the status line and the framing
// (Content-Length, or chunked transfer); a HEAD request gets the same head and no body.
class media_reply {
public:
  virtual ~media_reply() = default;
  // content_type and cache_control: the headers' values; every answer also says
  // Access-Control-Allow-Origin: *.
  virtual void send(int status, std::string_view content_type, std::string_view cache_control,
                    std::vector<body_piece> body) = 0;
  virtual void start(int status, std::string_view content_type, std::string_view cache_control) = 0;
  virtual void chunk(std::vector<body_piece> body) = 0;
  virtual void end() = 0;
  // The client went away (or the server stopped): whatever is sent goes nowhere.
  [[nodiscard]] virtual bool gone() const = 0;
};

// A plain-text answer (errors: 400, 404, 503), not cached.
void send_text(media_reply& reply, int status, std::string_view text);

// The reason phrase of the statuses media answers use.
[[nodiscard]] const char* reason_phrase(int status);

} // namespace onair::net
