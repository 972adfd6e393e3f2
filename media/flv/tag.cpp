#include "media/flv/tag.hpp"

#include <string_view>

namespace onair::media::flv {

namespace {
std::uint32_t be24(const std::uint8_t* p) { return std::uint32_t{p[0]} << 16 | std::uint32_t{p[1]} << 8 | p[2]; }

struct bit_reader {
  std::vector<std::uint8_t> rbsp; // emulation prevention removed
  std::size_t bit = 0;
  bool overrun = false;

  unsigned u(int n) {
    unsigned v = 0;
    for (int i = 0; i < n; ++i) {
      if (bit >= rbsp.size() * 8) {
        overrun = true;
        return 0;
      }
      v = v << 1 | ((rbsp[bit / 8] >> (7 - bit % 8)) & 1u);
      ++bit;
    }
    return v;
  }
  unsigned ue() {
    int zeros = 0;
    while (!overrun && u(1) == 0) {
      if (++zeros > 31) {
        overrun = true;
        return 0;
      }
    }
    if (zeros == 0)
      return 0;
    return ((1u << zeros) - 1) + u(zeros);
  }
  int se() {
    const unsigned k = ue();
    return (k & 1) ? static_cast<int>((k + 1) / 2) : -static_cast<int>(k / 2);
  }
};

void skip_scaling_list(bit_reader& br, int size) {
  std::int64_t last = 8, next = 8; // delta_scale is untrusted: no int overflow
  for (int j = 0; j < size && !br.overrun; ++j) {
    if (next != 0)
      next = ((last + br.se()) % 256 + 256) % 256;
    last = next == 0 ? last : next;
  }
}
} // namespace

reader::result reader::consume(std::span<const std::uint8_t> in) {
  result r;
  std::size_t pos = 0;
  if (!header_done_) {
    if (in.size() < 13)
      return r;
    if (in[0] != 'F' || in[1] != 'L' || in[2] != 'V') {
      r.error = "flv: bad signature";
      return r;
    }
    const std::uint32_t offset = std::uint32_t{in[5]} << 24 | be24(in.data() + 6);
    if (offset != 9) {
      r.error = "flv: unexpected header size " + std::to_string(offset);
      return r;
    }
    pos = 13; // header + PreviousTagSize0
    header_done_ = true;
  }
  while (in.size() - pos >= 11) {
    const std::uint8_t* p = in.data() + pos;
    const std::uint8_t type = p[0] & 0x1F;
    if (p[0] & 0x20) {
      r.error = "flv: encrypted tags are not supported";
      break;
    }
    if (type != tag_type::audio && type != tag_type::video && type != tag_type::script) {
      r.error = "flv: unknown tag type " + std::to_string(type);
      break;
    }
    const std::uint32_t size = be24(p + 1);
    if (size > max_tag_size_) {
      r.error = "flv: tag of " + std::to_string(size) + " bytes exceeds the limit";
      break;
    }
    if (in.size() - pos < 11 + std::size_t{size} + 4)
      break;
    tag t;
    t.type = type;
    t.timestamp = be24(p + 4) | std::uint32_t{p[7]} << 24;
    t.payload = std::make_shared<std::vector<std::uint8_t>>(p + 11, p + 11 + size);
    r.tags.push_back(std::move(t));
    pos += 11 + std::size_t{size} + 4; // PreviousTagSize is not trusted, only skipped
  }
  r.used = r.error.empty() ? pos : 0;
  return r;
}

namespace {

constexpr unsigned ex_mod_ex = 7;

// Skips enhanced-RTMP ModEx prefixes (a modifier's size, its data, then the next packet type in
// the low nibble) from b[at]; `packet_type` is the one read so far. False when b is cut short.
bool skip_mod_ex(std::span<const std::uint8_t> b, std::size_t& at, unsigned& packet_type) {
  while (packet_type == ex_mod_ex) {
    if (at >= b.size())
      return false;
    std::size_t size = std::size_t{b[at++]} + 1;
    if (size == 256) {
      if (at + 2 > b.size())
        return false;
      size = (std::size_t{b[at]} << 8 | b[at + 1]) + 1;
      at += 2;
    }
    if (size + 1 > b.size() - at) // the modifier's data, then [modifier type:4 | packet type:4]
      return false;
    at += size;
    packet_type = b[at++] & 0x0F;
  }
  return true;
}

// The codec's FourCC at b[at], after a Multitrack wrapper when packet_type is `multitrack` (its own
// code: video 6, audio 5): then the packet type inside replaces packet_type, and the first track's
// FourCC and id are read. `at` is left at the (first track's) payload, `end` at its end (the
// packet's, but for many tracks). Multitrack types: 0 one track, 1 many tracks of one codec, 2
// many tracks of many codecs (the FourCC then leads each track, the first one included; so it is
// at the same place for all three).
bool read_codec(std::span<const std::uint8_t> b, std::size_t& at, std::size_t& end, unsigned& packet_type,
                std::string& fourcc, std::uint8_t& track, unsigned multitrack) {
  end = b.size();
  const bool wrapped = packet_type == multitrack;
  unsigned multitrack_type = 0;
  if (wrapped) {
    if (at >= b.size())
      return false;
    multitrack_type = b[at] >> 4;
    packet_type = b[at++] & 0x0F;
    if (multitrack_type > 2 || packet_type == multitrack || packet_type == ex_mod_ex)
      return false; // unknown, or nested
  }
  if (b.size() - at < 4)
    return false;
  fourcc.assign(reinterpret_cast<const char*>(b.data() + at), 4);
  at += 4;
  if (!wrapped)
    return true;
  if (at >= b.size())
    return false;
  track = b[at++];
  if (multitrack_type != 0) { // each track's size follows its id
    if (b.size() - at < 3)
      return false;
    const std::size_t size = be24(b.data() + at);
    at += 3;
    if (size > b.size() - at)
      return false;
    end = at + size;
  }
  return true;
}

struct fourcc_name {
  std::string_view fourcc, name;
};
constexpr fourcc_name video_codecs[] = {
    {"avc1", "h264"}, {"hvc1", "hevc"}, {"av01", "av1"}, {"vp09", "vp9"}, {"vp08", "vp8"}};
constexpr fourcc_name audio_codecs[] = {{"mp4a", "aac"}, {"Opus", "opus"}, {"fLaC", "flac"},
                                        {"ac-3", "ac3"}, {"ec-3", "eac3"}, {".mp3", "mp3"}};

// The codec's name for a FourCC in `names`; an unknown one is named by its FourCC.
std::string codec_of(const std::string& fourcc, std::span<const fourcc_name> names) {
  for (const auto& n : names)
    if (n.fourcc == fourcc)
      return std::string{n.name};
  return fourcc;
}

} // namespace

std::optional<video_info> parse_video(std::span<const std::uint8_t> b) {
  if (b.empty())
    return std::nullopt;
  video_info v;
  const std::uint8_t first = b[0];
  if (first & 0x80) {
    // Enhanced RTMP: [1|frame type:3|packet type:4], ModEx prefixes, then a FourCC (or a
    // Multitrack wrapper), then per packet type.
    enum : unsigned { sequence_start, coded_frames, sequence_end, coded_frames_x, metadata, mpeg2ts_sequence_start, multitrack };
    v.enhanced = true;
    const unsigned frame_type = (first >> 4) & 7;
    unsigned packet_type = first & 0x0F;
    std::size_t at = 1;
    if (!skip_mod_ex(b, at, packet_type))
      return std::nullopt;
    if (frame_type == 5 && packet_type != metadata) {
      v.command_frame = true; // a video command (one byte), no FourCC
      return v;
    }
    std::string fourcc;
    std::size_t end = 0;
    if (!read_codec(b, at, end, packet_type, fourcc, v.track, multitrack))
      return std::nullopt;
    v.codec = codec_of(fourcc, video_codecs);
    v.sequence_header = packet_type == sequence_start || packet_type == mpeg2ts_sequence_start;
    v.codec_metadata = packet_type == metadata;
    v.end_of_sequence = packet_type == sequence_end;
    v.keyframe = frame_type == 1 && (packet_type == coded_frames || packet_type == coded_frames_x);
    if (packet_type == coded_frames && (fourcc == "avc1" || fourcc == "hvc1")) {
      if (end - at < 3)
        return std::nullopt;
      v.composition_offset = static_cast<std::int32_t>(be24(b.data() + at) << 8) >> 8;
      at += 3;
    }
    v.data = b.subspan(at, end - at); // the first track's, not the tracks after it
    if (v.sequence_header)
      v.config = v.data;
    return v;
  }
  const unsigned frame_type = first >> 4;
  const unsigned codec_id = first & 0x0F;
  static const char* const names[] = {"", "", "flv1", "screen", "vp6", "vp6a", "screen2", "h264", "", "", "", "", "hevc"};
  v.codec = codec_id < 13 && names[codec_id][0] ? names[codec_id] : "codec" + std::to_string(codec_id);
  if (frame_type == 5) {
    v.command_frame = true; // video info/command frame: one byte after the header, not media
    return v;
  }
  if (codec_id == 7 || codec_id == 12) {
    if (b.size() < 5)
      return std::nullopt;
    v.sequence_header = b[1] == 0;
    v.end_of_sequence = b[1] == 2;
    v.composition_offset = static_cast<std::int32_t>(be24(b.data() + 2) << 8) >> 8;
    v.keyframe = frame_type == 1 && b[1] == 1;
    v.data = b.subspan(5);
    if (v.sequence_header)
      v.config = v.data;
  } else {
    v.keyframe = frame_type == 1;
    v.data = b.subspan(1);
  }
  return v;
}

std::optional<audio_info> parse_audio(std::span<const std::uint8_t> b) {
  if (b.empty())
    return std::nullopt;
  audio_info a;
  const unsigned format = b[0] >> 4;
  if (format == 9) {
    // Enhanced RTMP: [9|packet type:4], ModEx prefixes, then a FourCC (or a Multitrack wrapper).
    // The legacy rate/size/channel bits are not there; the codec's own config says.
    enum : unsigned { sequence_start, coded_frames, sequence_end, multichannel_config = 4, multitrack };
    a.enhanced = true;
    unsigned packet_type = b[0] & 0x0F;
    std::size_t at = 1;
    if (!skip_mod_ex(b, at, packet_type))
      return std::nullopt;
    std::string fourcc;
    std::size_t end = 0;
    if (!read_codec(b, at, end, packet_type, fourcc, a.track, multitrack))
      return std::nullopt;
    a.codec = codec_of(fourcc, audio_codecs);
    a.sequence_header = packet_type == sequence_start;
    a.codec_metadata = packet_type == multichannel_config;
    a.data = b.subspan(at, end - at);
    return a;
  }
  static const int rates[] = {5512, 11025, 22050, 44100};
  a.sample_rate = rates[(b[0] >> 2) & 3];
  a.channels = (b[0] & 1) ? 2 : 1;
  a.bits = (b[0] & 2) ? 16 : 8;
  // Some formats fix their rate and channels whatever the flags say (FLV 10.1, E.4.2.1).
  const auto fixed = [&a](int rate, int channels = 0) {
    a.sample_rate = rate;
    if (channels)
      a.channels = channels;
  };
  switch (format) {
  case 0: // "platform endian": little-endian on every platform that made FLV
  case 3:
    a.codec = "pcm";
    break;
  case 1:
    a.codec = "adpcm";
    break;
  case 2:
    a.codec = "mp3";
    break;
  case 14:
    a.codec = "mp3";
    fixed(8000);
    break;
  case 4:
    a.codec = "nellymoser";
    fixed(16000, 1);
    break;
  case 5:
    a.codec = "nellymoser";
    fixed(8000, 1);
    break;
  case 6:
    a.codec = "nellymoser";
    break;
  case 7:
    a.codec = "g711a";
    fixed(8000);
    break;
  case 8:
    a.codec = "g711u";
    fixed(8000);
    break;
  case 10:
    a.codec = "aac";
    break;
  case 11:
    a.codec = "speex";
    fixed(16000, 1);
    break;
  case 13:
    a.codec = "opus";
    break;
  default:
    a.codec = "codec" + std::to_string(format);
  }
  a.data = b.subspan(1);
  if (format == 10) {
    if (b.size() < 2)
      return std::nullopt;
    a.data = b.subspan(2);
    a.sequence_header = b[1] == 0;
    if (a.sequence_header && b.size() >= 4) {
      // AudioSpecificConfig: object type:5, frequency index:4, channel config:4
      static const int aac_rates[] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                      22050, 16000, 12000, 11025, 8000,  7350};
      const unsigned idx = (b[2] & 0x07) << 1 | b[3] >> 7;
      if (idx < 13)
        a.sample_rate = aac_rates[idx];
      a.channels = (b[3] >> 3) & 0x0F;
    }
  }
  return a;
}

std::optional<dimensions> avc_dimensions(std::span<const std::uint8_t> avcc) {
  if (avcc.size() < 8 || (avcc[5] & 0x1F) == 0)
    return std::nullopt;
  const std::size_t sps_len = std::size_t{avcc[6]} << 8 | avcc[7];
  if (sps_len < 4 || avcc.size() < 8 + sps_len)
    return std::nullopt;
  bit_reader br;
  const auto sps = avcc.subspan(8, sps_len);
  for (std::size_t i = 1; i < sps.size(); ++i) { // skip the NAL header byte
    if (i >= 3 && sps[i] == 3 && sps[i - 1] == 0 && sps[i - 2] == 0 && br.rbsp.size() >= 2 &&
        br.rbsp[br.rbsp.size() - 1] == 0 && br.rbsp[br.rbsp.size() - 2] == 0)
      continue;
    br.rbsp.push_back(sps[i]);
  }
  const unsigned profile = br.u(8);
  br.u(16); // constraint flags, level
  br.ue();  // sps id
  unsigned chroma = 1;
  if (profile == 100 || profile == 110 || profile == 122 || profile == 244 || profile == 44 || profile == 83 ||
      profile == 86 || profile == 118 || profile == 128 || profile == 138 || profile == 139 || profile == 134) {
    chroma = br.ue();
    if (chroma == 3)
      br.u(1);
    br.ue();
    br.ue();
    br.u(1);
    if (br.u(1))
      for (int i = 0; i < (chroma != 3 ? 8 : 12) && !br.overrun; ++i)
        if (br.u(1))
          skip_scaling_list(br, i < 6 ? 16 : 64);
  }
  br.ue(); // log2_max_frame_num
  const unsigned poc_type = br.ue();
  if (poc_type == 0) {
    br.ue();
  } else if (poc_type == 1) {
    br.u(1);
    br.se();
    br.se();
    const unsigned n = br.ue();
    for (unsigned i = 0; i < n && i < 256 && !br.overrun; ++i)
      br.se();
  }
  br.ue(); // max_num_ref_frames
  br.u(1);
  const unsigned w_mbs = br.ue() + 1;
  const unsigned h_units = br.ue() + 1;
  const unsigned frame_mbs_only = br.u(1);
  if (!frame_mbs_only)
    br.u(1);
  br.u(1);
  unsigned cl = 0, cr = 0, ct = 0, cb = 0;
  if (br.u(1)) {
    cl = br.ue();
    cr = br.ue();
    ct = br.ue();
    cb = br.ue();
  }
  if (br.overrun || w_mbs > 1024 || h_units > 1024)
    return std::nullopt;
  const unsigned crop_x = chroma == 0 || chroma == 3 ? 1 : 2;
  const unsigned crop_y = (chroma == 1 ? 2 : 1) * (2 - frame_mbs_only);
  const long w = static_cast<long>(w_mbs * 16) - static_cast<long>(crop_x) * (cl + cr);
  const long h = static_cast<long>((2 - frame_mbs_only) * h_units * 16) - static_cast<long>(crop_y) * (ct + cb);
  if (w <= 0 || h <= 0)
    return std::nullopt;
  return dimensions{static_cast<int>(w), static_cast<int>(h)};
}

void write_file_header(std::vector<std::uint8_t>& out, bool audio, bool video) {
  const std::uint8_t flags = static_cast<std::uint8_t>((audio ? 4 : 0) | (video ? 1 : 0));
  const std::uint8_t h[13] = {'F', 'L', 'V', 1, flags, 0, 0, 0, 9, 0, 0, 0, 0};
  out.insert(out.end(), h, h + 13);
}

void write_tag(std::vector<std::uint8_t>& out, std::uint8_t type, std::uint32_t ts, std::span<const std::uint8_t> payload) {
  const auto n = static_cast<std::uint32_t>(payload.size());
  out.reserve(out.size() + n + tag_overhead);
  const std::uint8_t h[11] = {type,
                              static_cast<std::uint8_t>(n >> 16),
                              static_cast<std::uint8_t>(n >> 8),
                              static_cast<std::uint8_t>(n),
                              static_cast<std::uint8_t>(ts >> 16),
                              static_cast<std::uint8_t>(ts >> 8),
                              static_cast<std::uint8_t>(ts),
                              static_cast<std::uint8_t>(ts >> 24),
                              0,
                              0,
                              0};
  out.insert(out.end(), h, h + 11);
  out.insert(out.end(), payload.begin(), payload.end());
  const std::uint32_t prev = n + 11;
  for (int s = 24; s >= 0; s -= 8)
    out.push_back(static_cast<std::uint8_t>(prev >> s));
}

} // namespace onair::media::flv
