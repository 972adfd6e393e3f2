#pragma once
// What RTMP players are sent of a hub's messages: each message chunked once, on first use, into
// bytes every player shares (a fanout::wire_format of this output's own).
#include <cstdint>
#include <vector>

#include "media/fanout/hub.hpp"

namespace onair::media::rtmp {

// Output framing shared by every player: the session announces this chunk size and always
// answers createStream with this stream id, so one serialisation fits every player.
inline constexpr std::uint32_t out_chunk_size = 4096;
inline constexpr std::uint32_t media_stream_id = 1;

// The message as RTMP chunks (type-0 header, then type-3 continuations), made once and shared.
[[nodiscard]] const std::vector<std::uint8_t>& chunks_of(const fanout::message& m);

} // namespace onair::media::rtmp
