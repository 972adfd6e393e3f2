#include "media/cmaf/fmp4.hpp"

#include <array>
#include <cstdio>
#include <stdexcept>

namespace onair::media::cmaf {
namespace {

// Big-endian box writing into one buffer; a box's size is patched when it closes.
class writer {
public:
  explicit writer(std::vector<std::uint8_t>& out) : out_(out) {}
  void u8(std::uint32_t v) { out_.push_back(static_cast<std::uint8_t>(v)); }
  void u16(std::uint32_t v) {
    u8(v >> 8);
    u8(v);
  }
  void u24(std::uint32_t v) {
    u8(v >> 16);
    u16(v & 0xffff);
  }
  void u32(std::uint32_t v) {
    u16(v >> 16);
    u16(v & 0xffff);
  }
  void u64(std::uint64_t v) {
    u32(static_cast<std::uint32_t>(v >> 32));
    u32(static_cast<std::uint32_t>(v));
  }
  void zeros(std::size_t n) { out_.insert(out_.end(), n, 0); }
  void bytes(std::span<const std::uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void fourcc(const char (&c)[5]) { out_.insert(out_.end(), c, c + 4); }
  [[nodiscard]] std::size_t open(const char (&type)[5]) {
    const auto at = out_.size();
    u32(0);
    fourcc(type);
    return at;
  }
  [[nodiscard]] std::size_t open_full(const char (&type)[5], std::uint8_t version, std::uint32_t flags) {
    const auto at = open(type);
    u8(version);
    u24(flags);
    return at;
  }
  void close(std::size_t at) { put32(at, static_cast<std::uint32_t>(out_.size() - at)); }
  void put32(std::size_t at, std::uint32_t v) {
    out_[at] = static_cast<std::uint8_t>(v >> 24);
    out_[at + 1] = static_cast<std::uint8_t>(v >> 16);
    out_[at + 2] = static_cast<std::uint8_t>(v >> 8);
    out_[at + 3] = static_cast<std::uint8_t>(v);
  }
  [[nodiscard]] std::size_t size() const { return out_.size(); }
  void matrix() {
    for (std::uint32_t v : {0x00010000u, 0u, 0u, 0u, 0x00010000u, 0u, 0u, 0u, 0x40000000u})
      u32(v);
  }

private:
  std::vector<std::uint8_t>& out_;
};

constexpr std::uint32_t track_id = 1;

// An MPEG-4 descriptor: tag and a 4-byte size (the form every muxer writes and reader takes).
void descriptor(writer& w, std::uint8_t tag, std::size_t size) {
  w.u8(tag);
  w.u8(0x80 | ((size >> 21) & 0x7f));
  w.u8(0x80 | ((size >> 14) & 0x7f));
  w.u8(0x80 | ((size >> 7) & 0x7f));
  w.u8(size & 0x7f);
}

void esds(writer& w, const track_config& t) {
  const auto box = w.open_full("esds", 0, 0);
  const std::size_t dsi = 5 + t.asc.size();
  const std::size_t dcd = 13 + dsi;
  const std::size_t sl = 5 + 1;
  descriptor(w, 0x03, 3 + 5 + dcd + sl); // ES_Descriptor
  w.u16(track_id);
  w.u8(0);
  descriptor(w, 0x04, dcd); // DecoderConfigDescriptor
  w.u8(0x40);               // MPEG-4 audio
  w.u8(0x15);               // audio stream
  w.u24(0);                 // buffer size
  const std::uint32_t bps = static_cast<std::uint32_t>(t.bitrate_kbps) * 1000;
  w.u32(bps);
  w.u32(bps);
  descriptor(w, 0x05, t.asc.size()); // DecoderSpecificInfo: the AudioSpecificConfig
  w.bytes(t.asc);
  descriptor(w, 0x06, 1); // SLConfigDescriptor
  w.u8(0x02);
  w.close(box);
}

void sample_entry(writer& w, const track_config& t) {
  if (t.kind == track_kind::video) {
    const auto avc1 = w.open("avc1");
    w.zeros(6);
    w.u16(1); // data reference index
    w.zeros(16);
    w.u16(static_cast<std::uint32_t>(t.width));
    w.u16(static_cast<std::uint32_t>(t.height));
    w.u32(0x00480000);
    w.u32(0x00480000);
    w.u32(0);
    w.u16(1); // frame count
    w.zeros(32); // compressor name
    w.u16(0x0018);
    w.u16(0xffff);
    const auto avcc = w.open("avcC");
    w.bytes(t.avcc);
    w.close(avcc);
    w.close(avc1);
    return;
  }
  const auto mp4a = w.open("mp4a");
  w.zeros(6);
  w.u16(1);
  w.zeros(8);
  w.u16(static_cast<std::uint32_t>(t.channels));
  w.u16(16);
  w.u32(0);
  w.u32(static_cast<std::uint32_t>(t.sample_rate < 65536 ? t.sample_rate : 0) << 16);
  esds(w, t);
  w.close(mp4a);
}

void empty_table(writer& w, const char (&type)[5], int words) {
  const auto b = w.open_full(type, 0, 0);
  for (int i = 0; i < words; ++i)
    w.u32(0);
  w.close(b);
}

} // namespace

std::string codecs_of(const track_config& t) {
  if (t.kind == track_kind::audio) {
    // The audio object type: the first 5 bits of the AudioSpecificConfig (2: AAC-LC).
    const int aot = t.asc.empty() ? 2 : (t.asc[0] >> 3);
    return "mp4a.40." + std::to_string(aot);
  }
  std::array<char, 16> buf{};
  if (t.avcc.size() >= 4)
    std::snprintf(buf.data(), buf.size(), "avc1.%02x%02x%02x", t.avcc[1], t.avcc[2], t.avcc[3]);
  else
    std::snprintf(buf.data(), buf.size(), "avc1.64001f");
  return buf.data();
}

std::vector<std::uint8_t> init_segment(const track_config& t) {
  std::vector<std::uint8_t> out;
  out.reserve(1024);
  writer w{out};
  const bool video = t.kind == track_kind::video;

  const auto ftyp = w.open("ftyp");
  w.fourcc("iso6");
  w.u32(0);
  w.fourcc("iso6");
  w.fourcc("cmfc");
  w.fourcc("mp41");
  w.close(ftyp);

  const auto moov = w.open("moov");
  const auto mvhd = w.open_full("mvhd", 0, 0);
  w.u32(0);
  w.u32(0);
  w.u32(1000); // movie timescale
  w.u32(0);    // duration: fragmented
  w.u32(0x00010000);
  w.u16(0x0100);
  w.zeros(10);
  w.matrix();
  w.zeros(24);
  w.u32(track_id + 1);
  w.close(mvhd);

  const auto trak = w.open("trak");
  const auto tkhd = w.open_full("tkhd", 0, 0x3); // enabled, in movie
  w.u32(0);
  w.u32(0);
  w.u32(track_id);
  w.u32(0);
  w.u32(0); // duration
  w.zeros(8);
  w.u16(0);                       // layer
  w.u16(0);                       // alternate group
  w.u16(video ? 0 : 0x0100);      // volume
  w.u16(0);
  w.matrix();
  w.u32(video ? static_cast<std::uint32_t>(t.width) << 16 : 0);
  w.u32(video ? static_cast<std::uint32_t>(t.height) << 16 : 0);
  w.close(tkhd);

  const auto mdia = w.open("mdia");
  const auto mdhd = w.open_full("mdhd", 0, 0);
  w.u32(0);
  w.u32(0);
  w.u32(t.timescale);
  w.u32(0);
  w.u16(0x55c4); // "und"
  w.u16(0);
  w.close(mdhd);
  const auto hdlr = w.open_full("hdlr", 0, 0);
  w.u32(0);
  if (video)
    w.fourcc("vide");
  else
    w.fourcc("soun");
  w.zeros(12);
  static constexpr std::string_view video_name{"VideoHandler\0", 13}, sound_name{"SoundHandler\0", 13};
  const auto name = video ? video_name : sound_name;
  w.bytes({reinterpret_cast<const std::uint8_t*>(name.data()), name.size()});
  w.close(hdlr);

  const auto minf = w.open("minf");
  if (video) {
    const auto vmhd = w.open_full("vmhd", 0, 1);
    w.zeros(8);
    w.close(vmhd);
  } else {
    const auto smhd = w.open_full("smhd", 0, 0);
    w.zeros(4);
    w.close(smhd);
  }
  const auto dinf = w.open("dinf");
  const auto dref = w.open_full("dref", 0, 0);
  w.u32(1);
  const auto url = w.open_full("url ", 0, 1); // media in this file
  w.close(url);
  w.close(dref);
  w.close(dinf);
  const auto stbl = w.open("stbl");
  const auto stsd = w.open_full("stsd", 0, 0);
  w.u32(1);
  sample_entry(w, t);
  w.close(stsd);
  empty_table(w, "stts", 1);
  empty_table(w, "stsc", 1);
  empty_table(w, "stsz", 2);
  empty_table(w, "stco", 1);
  w.close(stbl);
  w.close(minf);
  w.close(mdia);
  w.close(trak);

  const auto mvex = w.open("mvex");
  const auto trex = w.open_full("trex", 0, 0);
  w.u32(track_id);
  w.u32(1); // sample description index
  w.u32(0);
  w.u32(0);
  w.u32(0);
  w.close(trex);
  w.close(mvex);
  w.close(moov);
  return out;
}

std::vector<std::uint8_t> chunk(const track_config& t, std::uint32_t sequence, std::span<const sample> samples) {
  if (samples.empty())
    throw std::invalid_argument("cmaf chunk without samples");
  std::size_t payload = 0;
  for (const auto& s : samples)
    payload += s.data.size();
  std::vector<std::uint8_t> out;
  out.reserve(128 + samples.size() * 16 + payload);
  writer w{out};
  const auto moof = w.open("moof");
  const auto mfhd = w.open_full("mfhd", 0, 0);
  w.u32(sequence);
  w.close(mfhd);
  const auto traf = w.open("traf");
  const auto tfhd = w.open_full("tfhd", 0, 0x020000); // default-base-is-moof
  w.u32(track_id);
  w.close(tfhd);
  const auto tfdt = w.open_full("tfdt", 1, 0);
  w.u64(static_cast<std::uint64_t>(samples.front().dts));
  w.close(tfdt);
  const bool video = t.kind == track_kind::video;
  // data offset, durations, sizes, flags; composition offsets (signed, version 1) for video.
  const std::uint32_t flags = 0x1 | 0x100 | 0x200 | 0x400 | (video ? 0x800 : 0);
  const auto trun = w.open_full("trun", video ? 1 : 0, flags);
  w.u32(static_cast<std::uint32_t>(samples.size()));
  const auto data_offset_at = w.size();
  w.u32(0);
  for (const auto& s : samples) {
    w.u32(s.duration);
    w.u32(static_cast<std::uint32_t>(s.data.size()));
    // A sync sample depends on nothing; any other depends on others and is not a sync sample.
    w.u32(s.key || !video ? 0x02000000 : 0x01010000);
    if (video)
      w.u32(static_cast<std::uint32_t>(s.cto));
  }
  w.close(trun);
  w.close(traf);
  w.close(moof);
  w.put32(data_offset_at, static_cast<std::uint32_t>(w.size() - moof + 8));
  const auto mdat = w.open("mdat");
  for (const auto& s : samples)
    w.bytes(s.data);
  w.close(mdat);
  return out;
}

namespace {

// The NAL units of Annex B bytes, start codes stripped.
template <class Fn>
void for_each_nal(std::span<const std::uint8_t> b, Fn fn) {
  const std::size_t n = b.size();
  auto start_after = [&](std::size_t from) -> std::size_t {
    for (std::size_t i = from; i + 2 < n; ++i)
      if (b[i] == 0 && b[i + 1] == 0 && b[i + 2] == 1)
        return i + 3;
    return n;
  };
  std::size_t begin = start_after(0);
  while (begin < n) {
    std::size_t next = start_after(begin);
    std::size_t end = next == n ? n : next - 3;
    while (end > begin && b[end - 1] == 0) // trailing zeros belong to a 4-byte start code
      --end;
    if (end > begin)
      fn(b.subspan(begin, end - begin));
    begin = next;
  }
}

} // namespace

std::vector<std::uint8_t> annexb_to_avcc(std::span<const std::uint8_t> annexb) {
  std::vector<std::uint8_t> out;
  out.reserve(annexb.size() + 16);
  for_each_nal(annexb, [&out](std::span<const std::uint8_t> nal) {
    if ((nal[0] & 0x1f) == 9) // access unit delimiter
      return;
    const auto len = static_cast<std::uint32_t>(nal.size());
    out.push_back(static_cast<std::uint8_t>(len >> 24));
    out.push_back(static_cast<std::uint8_t>(len >> 16));
    out.push_back(static_cast<std::uint8_t>(len >> 8));
    out.push_back(static_cast<std::uint8_t>(len));
    out.insert(out.end(), nal.begin(), nal.end());
  });
  return out;
}

std::optional<std::vector<std::uint8_t>> avcc_from_annexb(std::span<const std::uint8_t> annexb) {
  std::span<const std::uint8_t> sps, pps;
  for_each_nal(annexb, [&](std::span<const std::uint8_t> nal) {
    const int type = nal[0] & 0x1f;
    if (type == 7 && sps.empty())
      sps = nal;
    else if (type == 8 && pps.empty())
      pps = nal;
  });
  if (sps.size() < 4 || pps.empty())
    return std::nullopt;
  std::vector<std::uint8_t> out;
  writer w{out};
  w.u8(1);
  w.u8(sps[1]); // profile
  w.u8(sps[2]); // constraints
  w.u8(sps[3]); // level
  w.u8(0xff);   // 4-byte NAL lengths
  w.u8(0xe1);   // one SPS
  w.u16(static_cast<std::uint32_t>(sps.size()));
  w.bytes(sps);
  w.u8(1); // one PPS
  w.u16(static_cast<std::uint32_t>(pps.size()));
  w.bytes(pps);
  return out;
}

} // namespace onair::media::cmaf
