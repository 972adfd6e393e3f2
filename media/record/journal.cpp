#include "media/record/journal.hpp"

namespace onair::media::record {

namespace {

void put(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

struct reader {
  std::span<const std::uint8_t> in;
  std::size_t at = 0;
  bool ok = true;
  std::uint64_t get(int bytes) {
    if (in.size() - at < static_cast<std::size_t>(bytes)) {
      ok = false;
      return 0;
    }
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
      v |= std::uint64_t{in[at + i]} << (8 * i);
    at += bytes;
    return v;
  }
};

std::uint32_t fnv1a(std::span<const std::uint8_t> b) {
  std::uint32_t h = 2166136261u;
  for (auto c : b)
    h = (h ^ c) * 16777619u;
  return h;
}

constexpr std::uint32_t journal_magic = 0x314a524f; // "ORJ1"

} // namespace


std::vector<std::uint8_t> encode(const checkpoint& c) {
  std::vector<std::uint8_t> out;
  put(out, journal_magic, 4);
  put(out, c.part, 4);
  put(out, c.next_fragment, 4);
  put(out, c.bytes, 8);
  put(out, static_cast<std::uint64_t>(c.start_ms), 8);
  put(out, static_cast<std::uint64_t>(c.end_ms), 8);
  put(out, fnv1a(out), 4);
  return out;
}

std::vector<checkpoint> decode_journal(std::span<const std::uint8_t> bytes) {
  std::vector<checkpoint> out;
  for (std::size_t at = 0; at + journal_record <= bytes.size(); at += journal_record) {
    const std::span<const std::uint8_t> rec{bytes.data() + at, journal_record};
    reader r{rec};
    checkpoint c;
    if (r.get(4) != journal_magic)
      break;
    c.part = static_cast<std::uint32_t>(r.get(4));
    c.next_fragment = static_cast<std::uint32_t>(r.get(4));
    c.bytes = r.get(8);
    c.start_ms = static_cast<std::int64_t>(r.get(8));
    c.end_ms = static_cast<std::int64_t>(r.get(8));
    if (static_cast<std::uint32_t>(r.get(4)) != fnv1a(rec.first(journal_record - 4)))
      break;
    out.push_back(c);
  }
  return out;
}

std::vector<std::uint8_t> encode(const tracks& t) {
  std::vector<std::uint8_t> out;
  for (const auto* p : {&t.first, &t.second}) {
    put(out, p->has_value() ? 1 : 0, 1);
    if (!*p)
      continue;
    const auto& v = **p;
    put(out, static_cast<std::uint8_t>(v.codec), 1);
    put(out, v.config.size(), 4);
    out.insert(out.end(), v.config.begin(), v.config.end());
    for (int x : {v.width, v.height, v.sample_rate, v.channels})
      put(out, static_cast<std::uint32_t>(x), 4);
  }
  put(out, fnv1a(out), 4);
  return out;
}

std::optional<tracks> decode_tracks(std::span<const std::uint8_t> in) {
  if (in.size() < 4)
    return std::nullopt;
  reader r{in.first(in.size() - 4)};
  reader sum{in.last(4)};
  if (static_cast<std::uint32_t>(sum.get(4)) != fnv1a(in.first(in.size() - 4)))
    return std::nullopt;
  tracks t;
  for (auto* p : {&t.first, &t.second}) {
    if (r.get(1) == 0)
      continue;
    ffmpeg::track_params v;
    v.codec = static_cast<media::codec>(r.get(1));
    const auto n = r.get(4);
    if (!r.ok || n > r.in.size() - r.at)
      return std::nullopt;
    v.config.assign(r.in.begin() + static_cast<std::ptrdiff_t>(r.at), r.in.begin() + static_cast<std::ptrdiff_t>(r.at + n));
    r.at += n;
    v.width = static_cast<int>(r.get(4));
    v.height = static_cast<int>(r.get(4));
    v.sample_rate = static_cast<int>(r.get(4));
    v.channels = static_cast<int>(r.get(4));
    *p = std::move(v);
  }
  if (!r.ok)
    return std::nullopt;
  return t;
}

} // namespace onair::media::record
