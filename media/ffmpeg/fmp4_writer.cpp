#include "media/ffmpeg/fmp4_writer.hpp"

#include <algorithm>

#include "media/ffmpeg/av.hpp"

namespace onair::media::ffmpeg {

namespace {
constexpr int io_buffer_size = 64 * 1024;

domain::error fail(std::string message) {
  return domain::make_error(domain::error_code::invalid_parameter, std::move(message));
}

// AudioSpecificConfig: object type (5 bits, 31: escape), frequency index (4 bits, 15: explicit
// 24-bit rate), channel configuration (4 bits).
bool read_asc(std::span<const std::uint8_t> asc, int& rate, int& channels) {
  static constexpr int rates[] = {96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350};
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < 8; ++i)
    bits = bits << 8 | (i < asc.size() ? asc[i] : 0);
  int at = 0;
  const auto take = [&](int n) {
    const auto v = static_cast<int>((bits >> (64 - at - n)) & ((1u << n) - 1));
    at += n;
    return v;
  };
  if (asc.size() < 2)
    return false;
  if (take(5) == 31)
    take(6);
  const int index = take(4);
  if (index == 15) {
    if (asc.size() < 5)
      return false;
    rate = take(24);
  } else if (index < 13) {
    rate = rates[index];
  } else {
    return false;
  }
  channels = take(4);
  if (channels == 7)
    channels = 8;
  return rate > 0 && channels > 0 && channels <= 8;
}

// An MPEG audio frame header: sync (11 bits), version (2: 3 MPEG-1, 2 MPEG-2, 0 MPEG-2.5),
// layer (2), protection (1); bitrate (4), rate index (2), padding, private; channel mode (2: 3 mono).
bool read_mpeg_audio_header(std::span<const std::uint8_t> frame, int& rate, int& channels) {
  static constexpr int rates[3][3] = {{44100, 48000, 32000}, {22050, 24000, 16000}, {11025, 12000, 8000}};
  if (frame.size() < 4 || frame[0] != 0xff || (frame[1] & 0xe0) != 0xe0)
    return false;
  const int version = (frame[1] >> 3) & 3, layer = (frame[1] >> 1) & 3, index = (frame[2] >> 2) & 3;
  if (version == 1 || layer == 0 || index == 3)
    return false;
  rate = rates[version == 3 ? 0 : version == 2 ? 1 : 2][index];
  channels = ((frame[3] >> 6) & 3) == 3 ? 1 : 2;
  return true;
}
} // namespace

bool recordable(media::codec c) noexcept {
  switch (c) {
  case codec::h264:
  case codec::hevc:
  case codec::av1:
  case codec::aac:
  case codec::opus:
  case codec::mp3:
    return true;
  default:
    return false;
  }
}

domain::result<track_params> describe_video(const fanout::message& header, const fanout::message& key) {
  track_params t;
  t.codec = header.codec;
  const auto config = header.data();
  t.config.assign(config.begin(), config.end());
  const AVCodecID id = codec_id_of(t.codec);
  if (id == AV_CODEC_ID_NONE)
    return fail("video codec " + std::string{to_string(t.codec)} + " cannot be recorded");
  if (t.config.empty())
    return fail("video " + std::string{to_string(t.codec)} + " without a configuration record");
  parser_context parser{av_parser_init(id)};
  codec_context ctx{avcodec_alloc_context3(nullptr)};
  if (!parser || !ctx)
    return fail("no libavcodec parser for " + std::string{to_string(t.codec)});
  parser->flags |= PARSER_FLAG_COMPLETE_FRAMES;
  ctx->codec_id = id;
  ctx->codec_type = AVMEDIA_TYPE_VIDEO;
  // Parsers read ahead up to the padding: both buffers are copied with it (once per part).
  ctx->extradata = static_cast<std::uint8_t*>(av_mallocz(t.config.size() + AV_INPUT_BUFFER_PADDING_SIZE));
  if (!ctx->extradata)
    throw std::bad_alloc{};
  std::copy(t.config.begin(), t.config.end(), ctx->extradata);
  ctx->extradata_size = static_cast<int>(t.config.size());
  const auto frame = key.data();
  std::vector<std::uint8_t> padded(frame.size() + AV_INPUT_BUFFER_PADDING_SIZE, 0);
  std::copy(frame.begin(), frame.end(), padded.begin());
  std::uint8_t* out = nullptr;
  int out_size = 0;
  av_parser_parse2(parser.get(), ctx.get(), &out, &out_size, padded.data(), static_cast<int>(frame.size()),
                   AV_NOPTS_VALUE, AV_NOPTS_VALUE, 0);
  t.width = parser->width > 0 ? parser->width : ctx->width;
  t.height = parser->height > 0 ? parser->height : ctx->height;
  if (t.width <= 0 || t.height <= 0)
    return fail("video " + std::string{to_string(t.codec)} + ": no dimensions in its configuration and key frame");
  return t;
}

domain::result<track_params> describe_audio(const fanout::message& header) {
  track_params t;
  t.codec = header.codec;
  const auto config = header.data();
  t.config.assign(config.begin(), config.end());
  switch (t.codec) {
  case codec::aac:
    if (!read_asc(config, t.sample_rate, t.channels))
      return fail("aac: unreadable AudioSpecificConfig");
    return t;
  case codec::opus:
    // OpusHead: magic (8), version, channel count, pre-skip (2), input rate (4, LE), …; Opus runs at 48 kHz.
    if (config.size() < 19 || !std::equal(config.begin(), config.begin() + 8, "OpusHead"))
      return fail("opus: no OpusHead");
    t.channels = config[9];
    t.sample_rate = 48000;
    if (t.channels == 0)
      return fail("opus: no channels");
    return t;
  case codec::mp3:
    // Configured by its frames: the header is one, and MP4 takes no configuration record for it.
    t.config.clear();
    if (!read_mpeg_audio_header(config, t.sample_rate, t.channels))
      return fail("mp3: no frame header");
    return t;
  default:
    return fail("audio codec " + std::string{to_string(t.codec)} + " cannot be recorded");
  }
}

struct fmp4_writer::impl {
  byte_sink* sink = nullptr;
  bool continuation = false;
  domain::error sink_error;
  bool sink_failed = false;
  io_context io;
  output_context ctx;
  int video = -1, audio = -1; // stream indexes
  bool finished = false;
  std::uint32_t first_fragment = 1;
  packet pkt{av_packet_alloc()}; // reused for every sample

  // Every byte the muxer flushes; a continuation drops the init segment (the file has it).
  static int on_write(void* opaque, std::uint8_t* buf, int size, AVIODataMarkerType type, std::int64_t) {
    auto* self = static_cast<impl*>(opaque);
    if (self->continuation && type == AVIO_DATA_MARKER_HEADER)
      return size;
    if (self->sink_failed)
      return AVERROR(EIO);
    if (auto st = self->sink->write({buf, static_cast<std::size_t>(size)}); !st) {
      self->sink_failed = true;
      self->sink_error = st.error();
      return AVERROR(EIO);
    }
    return size;
  }

  domain::error error(int rc, std::string_view what) const {
    if (sink_failed)
      return domain::make_error(sink_error.code, std::string{what} + ": " + sink_error.message, sink_error.field);
    return error_of(rc, what);
  }
};

fmp4_writer::fmp4_writer(std::unique_ptr<impl> p) : impl_{std::move(p)} {}
fmp4_writer::~fmp4_writer() = default;

domain::result<std::unique_ptr<fmp4_writer>> fmp4_writer::open(byte_sink& out, std::optional<track_params> video,
                                                               std::optional<track_params> audio, fmp4_options opts) {
  if (!video && !audio)
    return fail("fmp4: a recording needs a video or an audio track");
  auto p = std::make_unique<impl>();
  if (!p->pkt)
    throw std::bad_alloc{};
  p->sink = &out;
  p->continuation = opts.continuation;
  p->first_fragment = opts.first_fragment;
  AVFormatContext* raw = nullptr;
  if (const int rc = avformat_alloc_output_context2(&raw, nullptr, "mp4", nullptr); rc < 0)
    return error_of(rc, "fmp4: allocating the mp4 muxer");
  p->ctx.reset(raw);
  auto* buffer = static_cast<std::uint8_t*>(av_malloc(io_buffer_size));
  if (!buffer)
    throw std::bad_alloc{};
  p->io.reset(avio_alloc_context(buffer, io_buffer_size, 1, p.get(), nullptr, nullptr, nullptr));
  if (!p->io) {
    av_free(buffer);
    throw std::bad_alloc{};
  }
  p->io->write_data_type = &impl::on_write;
  p->io->seekable = 0;
  p->ctx->pb = p->io.get();
  p->ctx->flags |= AVFMT_FLAG_CUSTOM_IO;
  // Timestamps are onair's, non-negative: the muxer must not shift a track's first sample to 0.
  p->ctx->avoid_negative_ts = AVFMT_AVOID_NEG_TS_MAKE_NON_NEGATIVE;

  const auto add = [&](const track_params& t, AVMediaType type) -> domain::result<int> {
    AVStream* st = avformat_new_stream(p->ctx.get(), nullptr);
    if (!st)
      throw std::bad_alloc{};
    AVCodecParameters* par = st->codecpar;
    par->codec_type = type;
    par->codec_id = codec_id_of(t.codec);
    if (par->codec_id == AV_CODEC_ID_NONE || !recordable(t.codec))
      return fail("fmp4: codec " + std::string{to_string(t.codec)} + " cannot be recorded");
    par->extradata = static_cast<std::uint8_t*>(av_mallocz(t.config.size() + AV_INPUT_BUFFER_PADDING_SIZE));
    if (!par->extradata)
      throw std::bad_alloc{};
    std::copy(t.config.begin(), t.config.end(), par->extradata);
    par->extradata_size = static_cast<int>(t.config.size());
    if (type == AVMEDIA_TYPE_VIDEO) {
      par->width = t.width;
      par->height = t.height;
      par->codec_tag = 0;
    } else {
      par->sample_rate = t.sample_rate;
      av_channel_layout_default(&par->ch_layout, t.channels);
      // Samples per frame: AAC 1024, MP3 1152 (MPEG-1) or 576, Opus 960 (20 ms).
      par->frame_size = t.codec == codec::aac ? 1024 : t.codec == codec::mp3 ? (t.sample_rate >= 32000 ? 1152 : 576) : 960;
    }
    st->time_base = AVRational{1, 1000};
    return st->index;
  };
  if (video) {
    auto i = add(*video, AVMEDIA_TYPE_VIDEO);
    if (!i)
      return i.error();
    p->video = *i;
  }
  if (audio) {
    auto i = add(*audio, AVMEDIA_TYPE_AUDIO);
    if (!i)
      return i.error();
    p->audio = *i;
  }
  AVDictionary* o = nullptr;
  // frag_discont: the first fragment's decode time is its first sample's (a continuation's
  // timeline goes on from the file's), with no edit list to shift it.
  av_dict_set(&o, "movflags", "frag_keyframe+empty_moov+default_base_moof+frag_discont+skip_trailer", 0);
  av_dict_set_int(&o, "frag_duration", opts.fragment_ms * 1000, 0);
  av_dict_set_int(&o, "fragment_index", opts.first_fragment, 0);
  av_dict_set_int(&o, "use_editlist", 0, 0);
  const int rc = avformat_write_header(p->ctx.get(), &o);
  av_dict_free(&o);
  if (rc < 0)
    return p->error(rc, "fmp4: writing the init segment");
  avio_flush(p->ctx->pb);
  if (p->sink_failed)
    return p->error(AVERROR(EIO), "fmp4: writing the init segment");
  return std::unique_ptr<fmp4_writer>{new fmp4_writer{std::move(p)}};
}

domain::status fmp4_writer::write(frame_kind track, const fanout::message& m, std::int64_t dts_ms, std::int64_t pts_ms,
                                  std::int64_t duration_ms) {
  auto& p = *impl_;
  if (p.finished)
    return fail("fmp4: written after finish");
  const int index = track == frame_kind::video ? p.video : track == frame_kind::audio ? p.audio : -1;
  if (index < 0)
    return fail("fmp4: no such track in this file");
  AVPacket* pkt = p.pkt.get();
  fill_packet(*pkt, m, dts_ms, pts_ms, duration_ms);
  pkt->stream_index = index;
  av_packet_rescale_ts(pkt, AVRational{1, 1000}, p.ctx->streams[index]->time_base);
  const int rc = av_write_frame(p.ctx.get(), pkt);
  av_packet_unref(pkt); // the shared payload is let go now, not at the next sample
  if (rc < 0)
    return p.error(rc, "fmp4: writing a sample");
  // Whatever the muxer completed (a fragment) reaches the sink now, whole.
  avio_flush(p.ctx->pb);
  if (p.sink_failed)
    return p.error(AVERROR(EIO), "fmp4: writing a fragment");
  return domain::ok_status();
}

domain::status fmp4_writer::finish() {
  auto& p = *impl_;
  if (p.finished)
    return domain::ok_status();
  p.finished = true;
  if (const int rc = av_write_trailer(p.ctx.get()); rc < 0)
    return p.error(rc, "fmp4: writing the last fragment");
  avio_flush(p.ctx->pb);
  if (p.sink_failed)
    return p.error(AVERROR(EIO), "fmp4: writing the last fragment");
  return domain::ok_status();
}

domain::status fmp4_writer::flush() {
  auto& p = *impl_;
  if (p.finished)
    return domain::ok_status();
  // A null packet asks a muxer that can (AVFMT_ALLOW_FLUSH; mp4 can) to write out what it holds.
  if (const int rc = av_write_frame(p.ctx.get(), nullptr); rc < 0)
    return p.error(rc, "fmp4: flushing a fragment");
  avio_flush(p.ctx->pb);
  if (p.sink_failed)
    return p.error(AVERROR(EIO), "fmp4: flushing a fragment");
  return domain::ok_status();
}

std::uint32_t fmp4_writer::next_fragment() const {
  // The muxer's fragment_index option is its running count: the next moof's sequence number.
  std::int64_t n = 0;
  if (av_opt_get_int(impl_->ctx->priv_data, "fragment_index", 0, &n) < 0 || n <= 0)
    return impl_->first_fragment;
  return static_cast<std::uint32_t>(n);
}

} // namespace onair::media::ffmpeg
