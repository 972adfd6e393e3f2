#include "media/rtmp/chunk.hpp"

#include <algorithm>

namespace onair::media::rtmp {

namespace {
std::uint32_t be24(const std::uint8_t* p) { return std::uint32_t{p[0]} << 16 | std::uint32_t{p[1]} << 8 | p[2]; }
std::uint32_t be32(const std::uint8_t* p) { return std::uint32_t{p[0]} << 24 | be24(p + 1); }
std::uint32_t le32(const std::uint8_t* p) {
  return std::uint32_t{p[3]} << 24 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[1]} << 8 | p[0];
}
constexpr std::uint32_t ext_marker = 0xFFFFFF;
} // namespace

chunk_reader::stream* chunk_reader::find(std::uint32_t csid, std::string& error) {
  for (auto& s : streams_)
    if (s.csid == csid)
      return &s;
  if (streams_.size() >= lim_.max_chunk_streams) {
    error = "chunk: too many chunk streams";
    return nullptr;
  }
  // current_ points into streams_; growth would move it, but current_ is only kept while a
  // chunk's data is pending and find() is only called between chunks.
  streams_.push_back(stream{});
  streams_.back().csid = csid;
  return &streams_.back();
}

void chunk_reader::apply_control(const message& m, std::string& error) {
  const auto b = m.bytes();
  if (m.type_id == msg_type::set_chunk_size) {
    if (b.size() < 4) {
      error = "chunk: short Set Chunk Size";
      return;
    }
    const std::uint32_t size = be32(b.data()) & 0x7FFFFFFF;
    if (size < 1) {
      error = "chunk: chunk size 0";
      return;
    }
    // 1 to 2^31-1 are valid; past 0xFFFFFF all are one, as no message is larger. Memory is bounded
    // by the message size limit, not by this.
    chunk_size_ = std::min<std::uint32_t>(size, 0xFFFFFF);
  } else if (m.type_id == msg_type::abort) {
    if (b.size() < 4) {
      error = "chunk: short Abort";
      return;
    }
    const std::uint32_t csid = be32(b.data());
    for (auto& s : streams_)
      if (s.csid == csid)
        s.partial.reset();
  }
}

chunk_reader::result chunk_reader::consume(std::span<const std::uint8_t> in, std::size_t max_messages) {
  result r;
  std::size_t pos = 0;
  while (pos < in.size() && r.error.empty()) {
    if (current_ == nullptr) {
      // Basic header (1-3 bytes), message header (11/7/3/0), optional extended timestamp.
      const std::uint8_t* p = in.data() + pos;
      const std::size_t avail = in.size() - pos;
      const unsigned fmt = p[0] >> 6;
      std::uint32_t csid = p[0] & 0x3F;
      std::size_t hdr = 1;
      if (csid == 0) {
        if (avail < 2)
          break;
        csid = 64u + p[1];
        hdr = 2;
      } else if (csid == 1) {
        if (avail < 3)
          break;
        csid = 64u + p[1] + 256u * p[2];
        hdr = 3;
      }
      static constexpr std::size_t msg_hdr[4] = {11, 7, 3, 0};
      if (avail < hdr + msg_hdr[fmt])
        break;
      std::string err;
      stream* s = find(csid, err);
      if (!s) {
        r.error = err;
        break;
      }
      const std::uint8_t* h = p + hdr;
      const bool continuing = s->partial != nullptr;
      if (fmt != 3 && continuing) {
        r.error = "chunk: new header on csid " + std::to_string(csid) + " before its message ended";
        break;
      }
      if (fmt != 0 && !s->has_header) {
        r.error = "chunk: format " + std::to_string(fmt) + " on csid " + std::to_string(csid) + " without a previous header";
        break;
      }
      std::uint32_t ts_field = 0;
      if (fmt <= 2)
        ts_field = be24(h);
      const bool extended = fmt <= 2 ? ts_field == ext_marker : s->extended;
      const std::size_t total_hdr = hdr + msg_hdr[fmt] + (extended ? 4 : 0);
      if (avail < total_hdr)
        break;
      const std::uint32_t ts_value = extended ? be32(p + hdr + msg_hdr[fmt]) : ts_field;
      if (fmt == 0) {
        s->timestamp = ts_value;
        s->delta = ts_value; // a type 3 right after type 0 repeats it as its delta (RTMP 1.0 5.3.1.2.4)
        s->length = be24(h + 3);
        s->type_id = h[6];
        s->stream_id = le32(h + 7);
      } else if (fmt == 1) {
        s->delta = ts_value;
        s->timestamp += s->delta;
        s->length = be24(h + 3);
        s->type_id = h[6];
      } else if (fmt == 2) {
        s->delta = ts_value;
        s->timestamp += s->delta;
      } else if (!continuing) {
        // Type 3 starting a new message repeats the previous delta (its extended field, when
        // there is one, repeats the same value), as ffmpeg's reader and writer have it.
        s->timestamp += extended ? ts_value : s->delta;
      }
      if (fmt <= 2)
        s->extended = extended;
      s->has_header = true;
      if (s->length > lim_.max_message_size) {
        r.error = "chunk: message of " + std::to_string(s->length) + " bytes exceeds the limit";
        break;
      }
      pos += total_hdr;
      bytes_read_ += total_hdr;
      if (!continuing) {
        s->partial = std::make_shared<std::vector<std::uint8_t>>();
        // The length is only a claim: reserve a little and grow with what really arrives, so a
        // header cannot make us allocate megabytes up front.
        s->partial->reserve(std::min<std::uint32_t>(s->length, 64 * 1024));
      }
      std::size_t buffered = 0;
      for (const auto& other : streams_)
        buffered += other.partial ? other.partial->size() : 0;
      if (buffered > lim_.max_buffered) {
        r.error = "chunk: too much unfinished message data across chunk streams";
        break;
      }
      current_ = s;
      chunk_remaining_ = std::min<std::uint32_t>(chunk_size_, s->length - static_cast<std::uint32_t>(s->partial->size()));
    }
    // Chunk data: take what has arrived, possibly less than the chunk.
    stream* s = current_;
    const std::size_t take = std::min<std::size_t>(chunk_remaining_, in.size() - pos);
    s->partial->insert(s->partial->end(), in.begin() + static_cast<std::ptrdiff_t>(pos),
                       in.begin() + static_cast<std::ptrdiff_t>(pos + take));
    pos += take;
    bytes_read_ += take;
    chunk_remaining_ -= static_cast<std::uint32_t>(take);
    if (chunk_remaining_ > 0)
      break; // need more
    current_ = nullptr;
    if (s->partial->size() == s->length) {
      message m{s->csid, s->type_id, s->stream_id, s->timestamp, std::move(s->partial)};
      s->partial.reset();
      if (m.type_id == msg_type::set_chunk_size || m.type_id == msg_type::abort) {
        apply_control(m, r.error); // before the next chunk is parsed: it changes how that parses
      } else {
        r.messages.push_back(std::move(m));
        if (r.messages.size() >= max_messages)
          break;
      }
    }
  }
  r.used = pos;
  return r;
}

std::size_t written_size(std::uint32_t csid, std::uint32_t timestamp, std::size_t payload, std::uint32_t chunk_size) {
  const std::size_t basic = csid < 64 ? 1 : csid < 320 ? 2 : 3;
  const std::size_t ext = timestamp >= ext_marker ? 4 : 0;
  const std::size_t chunks = payload == 0 ? 1 : (payload + chunk_size - 1) / chunk_size;
  return basic + 11 + ext + (chunks - 1) * (basic + ext) + payload;
}

void write_message(std::vector<std::uint8_t>& out, std::uint32_t csid, std::uint8_t type_id, std::uint32_t stream_id,
                   std::uint32_t timestamp, std::span<const std::uint8_t> payload, std::uint32_t chunk_size) {
  out.reserve(out.size() + written_size(csid, timestamp, payload.size(), chunk_size));
  auto basic = [&](unsigned fmt) {
    if (csid < 64) {
      out.push_back(static_cast<std::uint8_t>(fmt << 6 | csid));
    } else if (csid < 320) {
      out.push_back(static_cast<std::uint8_t>(fmt << 6));
      out.push_back(static_cast<std::uint8_t>(csid - 64));
    } else {
      out.push_back(static_cast<std::uint8_t>(fmt << 6 | 1));
      out.push_back(static_cast<std::uint8_t>((csid - 64) & 0xFF));
      out.push_back(static_cast<std::uint8_t>((csid - 64) >> 8));
    }
  };
  const bool ext = timestamp >= ext_marker;
  auto put_ext = [&] {
    if (ext)
      for (int s = 24; s >= 0; s -= 8)
        out.push_back(static_cast<std::uint8_t>(timestamp >> s));
  };
  basic(0);
  const std::uint32_t ts_field = ext ? ext_marker : timestamp;
  const auto len = static_cast<std::uint32_t>(payload.size());
  const std::uint8_t hdr[11] = {static_cast<std::uint8_t>(ts_field >> 16), static_cast<std::uint8_t>(ts_field >> 8),
                                static_cast<std::uint8_t>(ts_field),       static_cast<std::uint8_t>(len >> 16),
                                static_cast<std::uint8_t>(len >> 8),       static_cast<std::uint8_t>(len),
                                type_id,
                                static_cast<std::uint8_t>(stream_id),      static_cast<std::uint8_t>(stream_id >> 8),
                                static_cast<std::uint8_t>(stream_id >> 16), static_cast<std::uint8_t>(stream_id >> 24)};
  out.insert(out.end(), hdr, hdr + 11);
  put_ext();
  std::size_t pos = 0;
  for (;;) {
    const std::size_t n = std::min<std::size_t>(chunk_size, payload.size() - pos);
    out.insert(out.end(), payload.begin() + static_cast<std::ptrdiff_t>(pos),
               payload.begin() + static_cast<std::ptrdiff_t>(pos + n));
    pos += n;
    if (pos >= payload.size())
      break;
    basic(3);
    put_ext();
  }
}

} // namespace onair::media::rtmp
