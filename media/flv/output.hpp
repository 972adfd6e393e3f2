#pragma once
// What HTTP-FLV viewers are sent of a hub's messages: each message as an FLV tag, and the same
// tag framed as one HTTP/1.1 chunk, each made once on first use and shared by every viewer (two
// fanout::wire_formats of this output's own).
#include <cstdint>
#include <vector>

#include "media/fanout/hub.hpp"

namespace onair::media::flv {

// The tag and its PreviousTagSize.
[[nodiscard]] const std::vector<std::uint8_t>& tag_of(const fanout::message& m);
// The tag as one HTTP/1.1 chunk: "size CRLF tag CRLF".
[[nodiscard]] const std::vector<std::uint8_t>& http_chunk_of(const fanout::message& m);

} // namespace onair::media::flv
