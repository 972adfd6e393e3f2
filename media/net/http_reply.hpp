#pragma once
// How the media's HTTP replies leave (CMAF parts, VOD files): whole and at once.
struct evhttp_request;

namespace onair::net {

// No Nagle on the request's connection, and writes of up to 1 MiB in one go: a reply written in
// several pieces would otherwise wait, piece after piece, for the client's delayed ACK (some 40 ms
// each on a reused connection), and sendfile would be capped by the bufferevent's 16 KiB write.
void send_at_once(evhttp_request* req);

} // namespace onair::net
