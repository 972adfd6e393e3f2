#include "media/vod/recording_playlist.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "media/cmaf/playlist.hpp"
#include "media/record/checkpoint.hpp"

namespace onair::media::vod {
namespace {

constexpr std::uint64_t max_moov = 8u << 20; // what an init of a few tracks could never exceed
constexpr std::uint64_t max_moof = 4u << 20;

std::uint32_t be32(std::span<const std::uint8_t> b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) | (std::uint32_t{b[at + 2]} << 8) | b[at + 3];
}
std::uint64_t be64(std::span<const std::uint8_t> b, std::size_t at) {
  return (std::uint64_t{be32(b, at)} << 32) | be32(b, at + 4);
}

struct box {
  std::uint32_t type = 0;
  std::size_t body = 0, end = 0; // within the buffer
};

std::uint32_t fourcc(const char (&s)[5]) {
  return (std::uint32_t(std::uint8_t(s[0])) << 24) | (std::uint32_t(std::uint8_t(s[1])) << 16) |
         (std::uint32_t(std::uint8_t(s[2])) << 8) | std::uint8_t(s[3]);
}

// The boxes directly inside [from, to) of a buffer; stops at the first that does not fit.
std::vector<box> children(std::span<const std::uint8_t> b, std::size_t from, std::size_t to) {
  std::vector<box> out;
  std::size_t at = from;
  while (at + 8 <= to) {
    std::uint64_t size = be32(b, at);
    std::size_t header = 8;
    if (size == 1) {
      if (at + 16 > to)
        break;
      size = be64(b, at + 8);
      header = 16;
    } else if (size == 0) {
      size = to - at;
    }
    if (size < header || size > to - at)
      break;
    out.push_back(box{be32(b, at + 4), at + header, at + static_cast<std::size_t>(size)});
    at += static_cast<std::size_t>(size);
  }
  return out;
}

const box* find(const std::vector<box>& boxes, std::uint32_t type) {
  for (const auto& x : boxes)
    if (x.type == type)
      return &x;
  return nullptr;
}

struct track {
  std::uint32_t timescale = 0;
  bool video = false;
};

// Track id → timescale and kind, from a moov's body.
std::map<std::uint32_t, track> tracks_of(std::span<const std::uint8_t> moov) {
  std::map<std::uint32_t, track> out;
  for (const auto& trak : children(moov, 0, moov.size())) {
    if (trak.type != fourcc("trak"))
      continue;
    const auto in_trak = children(moov, trak.body, trak.end);
    const auto* tkhd = find(in_trak, fourcc("tkhd"));
    const auto* mdia = find(in_trak, fourcc("mdia"));
    if (!tkhd || !mdia || tkhd->end - tkhd->body < 24)
      continue;
    const bool v1 = moov[tkhd->body] == 1;
    if (v1 && tkhd->end - tkhd->body < 24)
      continue;
    const std::uint32_t id = be32(moov, tkhd->body + (v1 ? 20 : 12));
    const auto in_mdia = children(moov, mdia->body, mdia->end);
    const auto* mdhd = find(in_mdia, fourcc("mdhd"));
    const auto* hdlr = find(in_mdia, fourcc("hdlr"));
    if (!mdhd || mdhd->end - mdhd->body < 24)
      continue;
    const bool m1 = moov[mdhd->body] == 1;
    track t;
    t.timescale = be32(moov, mdhd->body + (m1 ? 20 : 12));
    t.video = hdlr && hdlr->end - hdlr->body >= 12 && be32(moov, hdlr->body + 8) == fourcc("vide");
    if (t.timescale > 0)
      out[id] = t;
  }
  return out;
}

// A moof's start on the timeline: its video traf's tfdt (else its first traf's), in seconds.
std::optional<double> start_of(std::span<const std::uint8_t> moof, const std::map<std::uint32_t, track>& tracks) {
  std::optional<double> first, video;
  for (const auto& traf : children(moof, 0, moof.size())) {
    if (traf.type != fourcc("traf"))
      continue;
    const auto in_traf = children(moof, traf.body, traf.end);
    const auto* tfhd = find(in_traf, fourcc("tfhd"));
    const auto* tfdt = find(in_traf, fourcc("tfdt"));
    if (!tfhd || !tfdt || tfhd->end - tfhd->body < 8 || tfdt->end - tfdt->body < 8)
      continue;
    const auto it = tracks.find(be32(moof, tfhd->body + 4));
    if (it == tracks.end())
      continue;
    const bool v1 = moof[tfdt->body] == 1;
    if (v1 && tfdt->end - tfdt->body < 12)
      continue;
    const std::uint64_t t = v1 ? be64(moof, tfdt->body + 4) : be32(moof, tfdt->body + 4);
    const double s = static_cast<double>(t) / it->second.timescale;
    if (!first)
      first = s;
    if (it->second.video && !video)
      video = s;
  }
  return video ? video : first;
}

std::optional<std::vector<std::uint8_t>> read_box(const read_at& read, std::uint64_t offset, std::uint64_t size) {
  std::vector<std::uint8_t> b(static_cast<std::size_t>(size));
  if (!b.empty() && !read(offset, b))
    return std::nullopt;
  return b;
}

} // namespace

std::optional<part_index> index_part(const read_at& read, std::uint64_t whole) {
  part_index out;
  std::map<std::uint32_t, track> tracks;
  std::optional<fragment> open; // a moof waiting for its mdat
  std::uint64_t at = 0;
  while (at + 8 <= whole) {
    std::array<std::uint8_t, 16> h{};
    if (!read(at, std::span{h}.first(8)))
      return std::nullopt;
    std::uint64_t size = be32(h, 0);
    std::uint64_t header = 8;
    const std::uint32_t type = be32(h, 4);
    if (size == 1) {
      if (at + 16 > whole || !read(at + 8, std::span{h}.subspan(8, 8)))
        break;
      size = be64(h, 8);
      header = 16;
    } else if (size == 0) {
      size = whole - at;
    }
    if (size < header || size > whole - at)
      break; // torn, or past what is whole
    if (type == fourcc("moov") && out.init_size == 0) { // a part has one init: the first
      if (size - header > max_moov)
        return std::nullopt;
      auto body = read_box(read, at + header, size - header);
      if (!body)
        return std::nullopt;
      tracks = tracks_of(*body);
      out.init_size = at + size;
    } else if (type == fourcc("moof") && out.init_size > 0) {
      open.reset();
      if (size - header <= max_moof)
        if (auto body = read_box(read, at + header, size - header))
          if (auto s = start_of(*body, tracks))
            open = fragment{at, 0, *s};
    } else if (type == fourcc("mdat") && open) {
      open->size = at + size - open->offset;
      out.fragments.push_back(*open);
      open.reset();
    }
    at += size;
  }
  if (out.init_size == 0)
    return std::nullopt;
  return out;
}

std::optional<std::string> recording_playlist(const std::vector<recorded_part>& parts, double segment_s) {
  struct segment {
    std::uint64_t offset = 0, size = 0;
    double duration = 0;
  };
  struct indexed {
    const recorded_part* part;
    std::uint64_t init_size = 0;
    std::vector<segment> segments;
  };
  std::vector<indexed> found;
  double longest = 0;
  for (const auto& p : parts) {
    const int fd = ::open(p.file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      continue;
    struct stat st {};
    std::uint64_t whole = ::fstat(fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
    // A recorder's part is whole up to its last checkpoint; beyond it may be torn or unsynced.
    if (const auto c = record::last_checkpoint(p.file))
      whole = std::min(whole, c->bytes);
    const auto idx = index_part(
        [fd](std::uint64_t offset, std::span<std::uint8_t> out) {
          std::size_t done = 0;
          while (done < out.size()) {
            const ssize_t n = ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
            if (n <= 0)
              return false;
            done += static_cast<std::size_t>(n);
          }
          return true;
        },
        whole);
    ::close(fd);
    if (!idx || idx->fragments.empty())
      continue;
    indexed ix{&p, idx->init_size, {}};
    const auto& f = idx->fragments;
    segment cur;
    for (std::size_t i = 0; i < f.size(); ++i) {
      double d = i + 1 < f.size() ? f[i + 1].start_s - f[i].start_s : p.end_s - f[i].start_s;
      if (!(d > 0) && i > 0)
        d = f[i].start_s - f[i - 1].start_s; // the part's end not known yet: as long as the one before
      d = std::max(d, 0.001);
      if (cur.size == 0)
        cur.offset = f[i].offset;
      cur.size = f[i].offset + f[i].size - cur.offset;
      cur.duration += d;
      if (cur.duration >= segment_s || i + 1 == f.size()) {
        longest = std::max(longest, cur.duration);
        ix.segments.push_back(cur);
        cur = segment{};
      }
    }
    found.push_back(std::move(ix));
  }
  if (found.empty())
    return std::nullopt;

  std::string out = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:" +
                    std::to_string(static_cast<long>(std::ceil(longest))) +
                    "\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n";
  for (std::size_t i = 0; i < found.size(); ++i) {
    const auto& ix = found[i];
    if (i > 0)
      out += "#EXT-X-DISCONTINUITY\n";
    out += "#EXT-X-MAP:URI=\"" + ix.part->uri + "\",BYTERANGE=\"" + std::to_string(ix.init_size) + "@0\"\n";
    for (const auto& s : ix.segments)
      out += "#EXTINF:" + cmaf::fixed(s.duration, 5) + ",\n#EXT-X-BYTERANGE:" + std::to_string(s.size) + "@" +
             std::to_string(s.offset) + "\n" + ix.part->uri + "\n";
  }
  out += "#EXT-X-ENDLIST\n";
  return out;
}

} // namespace onair::media::vod
