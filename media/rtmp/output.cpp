#include "media/rtmp/output.hpp"

#include "media/rtmp/chunk.hpp"

namespace onair::media::rtmp {

namespace {
std::uint8_t type_of(frame_kind k) {
  return k == frame_kind::audio ? msg_type::audio : k == frame_kind::video ? msg_type::video : msg_type::data_amf0;
}
std::uint32_t csid_of(frame_kind k) { return k == frame_kind::audio ? 4 : k == frame_kind::video ? 6 : 5; }

void make_chunks(const fanout::message& m, std::vector<std::uint8_t>& out) {
  const std::span<const std::uint8_t> body =
      m.payload ? std::span<const std::uint8_t>{*m.payload} : std::span<const std::uint8_t>{};
  write_message(out, csid_of(m.kind), type_of(m.kind), media_stream_id, m.timestamp, body, out_chunk_size);
}

const fanout::wire_format chunked{&make_chunks};
} // namespace

const std::vector<std::uint8_t>& chunks_of(const fanout::message& m) { return m.encoded(chunked); }

} // namespace onair::media::rtmp
