#include "media/flv/output.hpp"

#include <cstdio>

#include "media/flv/tag.hpp"

namespace onair::media::flv {

namespace {
std::uint8_t type_of(frame_kind k) {
  return k == frame_kind::audio ? tag_type::audio : k == frame_kind::video ? tag_type::video : tag_type::script;
}

void make_tag(const fanout::message& m, std::vector<std::uint8_t>& out) {
  const std::span<const std::uint8_t> body =
      m.payload ? std::span<const std::uint8_t>{*m.payload} : std::span<const std::uint8_t>{};
  write_tag(out, type_of(m.kind), m.timestamp, body);
}

void make_http_chunk(const fanout::message& m, std::vector<std::uint8_t>& out) {
  const auto& tag = tag_of(m);
  char size_line[24];
  const int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", tag.size());
  out.reserve(static_cast<std::size_t>(n) + tag.size() + 2);
  out.insert(out.end(), size_line, size_line + n);
  out.insert(out.end(), tag.begin(), tag.end());
  out.push_back('\r');
  out.push_back('\n');
}

const fanout::wire_format tags{&make_tag};
const fanout::wire_format http_chunks{&make_http_chunk};
} // namespace

const std::vector<std::uint8_t>& tag_of(const fanout::message& m) { return m.encoded(tags); }
const std::vector<std::uint8_t>& http_chunk_of(const fanout::message& m) { return m.encoded(http_chunks); }

} // namespace onair::media::flv
