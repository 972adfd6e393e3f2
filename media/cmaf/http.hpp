#pragma once
// A live CMAF stream over HTTP, answered through a media reply (media/net/http_reply.hpp), from its
// packager: the HLS master and media playlists (blocking reload on _HLS_msn/_HLS_part, delta
// updates on _HLS_skip), the DASH MPD, init segments, segments and parts. A part asked for before it exists (the preload hint) waits
// for it; a segment still being written is sent as its parts come, with chunked transfer (LL-DASH).
// CORS on every answer; playlists and the MPD are not cached, media objects are immutable.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "media/cmaf/packager.hpp"
#include "media/net/http_reply.hpp"

namespace onair::net {
class event_loop;
}

namespace onair::media::cmaf {

struct http_options {
  // The longest a blocking playlist reload or a part request waits before 503: three target
  // durations, as the LL-HLS spec asks of servers.
  std::chrono::milliseconds max_block{6000};
};

struct http_counters {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> bytes_out{0};
  std::atomic<std::uint64_t> blocked{0}; // replies that waited for a part
};

// What a request asks of the stream's folder: "index.m3u8", "v0.m3u8", "manifest.mpd", or, under
// the stream's uri_prefix, "v0/init.mp4", "v0/12.m4s", "v0/12.3.m4s".
struct request_target {
  enum class kind : std::uint8_t { master, media_playlist, mpd, init, segment, part, bad } what = kind::bad;
  std::size_t rendition = 0;
  std::int64_t msn = 0;
  int part = 0;
};
// file: the path below /play/{id}/ (the prefix folder included for media objects).
[[nodiscard]] request_target parse_target(const stream& s, const std::string& file);

// Who asks, as the HTTP layer read it (views valid for the call only).
struct player_request {
  std::string_view file;       // below /play/{id}/ (the prefix folder included for media objects)
  std::string_view query;      // the target's query, undecoded ("" if none)
  std::string_view time_url;   // the absolute URL of the server's clock, for the MPD's UTCTiming
  std::string_view peer;       // the client's address
  std::string_view user_agent; // "" if none
};

// A query parameter's value, percent-decoded (nullopt when absent).
[[nodiscard]] std::optional<std::string> query_value(std::string_view query, std::string_view name);

// Call on `loop`'s thread, the loop that owns the request's connection; the reply is made there,
// now or once what it asks for exists. s null: 404.
void serve(net::event_loop& loop, const player_request& req, std::shared_ptr<stream> s,
           std::shared_ptr<net::media_reply> reply, http_counters* counters, http_options opts = {});

} // namespace onair::media::cmaf
