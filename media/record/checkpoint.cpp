#include "media/record/checkpoint.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>

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

constexpr std::array<std::uint8_t, 12> tag{'o', 'n', 'a', 'i', 'r', ':', 'c', 'k', 'p', 't', ':', '1'};

std::uint64_t be(std::span<const std::uint8_t> b) {
  std::uint64_t v = 0;
  for (auto c : b)
    v = v << 8 | c;
  return v;
}

} // namespace


std::vector<std::uint8_t> encode_box(const checkpoint& c) {
  std::vector<std::uint8_t> out;
  out.reserve(checkpoint_box_size);
  for (int i = 3; i >= 0; --i) // box size, big-endian as every box header is
    out.push_back(static_cast<std::uint8_t>(checkpoint_box_size >> (8 * i)));
  for (const char c : {'f', 'r', 'e', 'e'})
    out.push_back(static_cast<std::uint8_t>(c));
  for (const auto c : tag)
    out.push_back(c);
  put(out, c.next_fragment, 4);
  put(out, c.bytes, 8);
  put(out, static_cast<std::uint64_t>(c.start_ms), 8);
  put(out, static_cast<std::uint64_t>(c.end_ms), 8);
  put(out, fnv1a(std::span<const std::uint8_t>{out}.subspan(8)), 4);
  return out;
}

std::optional<checkpoint> last_checkpoint(const read_at& read, std::uint64_t file_size) {
  std::optional<checkpoint> last;
  std::uint64_t at = 0;
  std::array<std::uint8_t, checkpoint_box_size> buf{};
  while (file_size - at >= 8) {
    if (!read(at, std::span{buf}.first(8)))
      break;
    std::uint64_t size = be(std::span{buf}.first(4));
    std::uint64_t header = 8;
    if (size == 1) { // a 64-bit size follows the type
      if (file_size - at < 16 || !read(at + 8, std::span{buf}.subspan(8, 8)))
        break;
      size = be(std::span{buf}.subspan(8, 8));
      header = 16;
    }
    if (size < header || size > file_size - at)
      break; // size 0 ("to the end") is never written here; a box past the end is the torn tail
    const bool free_box = std::equal(buf.begin() + 4, buf.begin() + 8, "free");
    if (free_box && header == 8 && size == checkpoint_box_size && read(at, std::span{buf})) {
      const std::span<const std::uint8_t> box{buf};
      reader r{box.subspan(8 + tag.size())};
      checkpoint c;
      c.next_fragment = static_cast<std::uint32_t>(r.get(4));
      c.bytes = r.get(8);
      c.start_ms = static_cast<std::int64_t>(r.get(8));
      c.end_ms = static_cast<std::int64_t>(r.get(8));
      const auto sum = static_cast<std::uint32_t>(r.get(4));
      if (r.ok && std::equal(tag.begin(), tag.end(), box.begin() + 8) &&
          sum == fnv1a(box.subspan(8, checkpoint_box_size - 12)) && c.bytes == at + size)
        last = c;
    }
    at += size;
  }
  return last;
}

std::optional<checkpoint> last_checkpoint(const std::filesystem::path& part) {
  const int fd = ::open(part.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return std::nullopt;
  struct stat st {};
  std::optional<checkpoint> c;
  if (::fstat(fd, &st) == 0)
    c = last_checkpoint(
        [fd](std::uint64_t at, std::span<std::uint8_t> out) {
          return ::pread(fd, out.data(), out.size(), static_cast<off_t>(at)) == static_cast<ssize_t>(out.size());
        },
        static_cast<std::uint64_t>(st.st_size));
  ::close(fd);
  return c;
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
