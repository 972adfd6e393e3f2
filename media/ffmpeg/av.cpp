#include "media/ffmpeg/av.hpp"

#include <algorithm>
#include <cstdarg>
#include <new>
#include <optional>
#include <string_view>

#include <spdlog/spdlog.h>

#include "media/flv/tag.hpp"

namespace onair::media::ffmpeg {
namespace {

// FFmpeg's own messages go to onair's log, not to stderr: its errors (most are recovered from, a
// damaged frame skipped) as warnings, its warnings at debug, the rest not at all.
void log_line(void* avcl, int level, const char* fmt, va_list args) {
  if (level > AV_LOG_WARNING)
    return;
  const auto spd = level <= AV_LOG_ERROR ? spdlog::level::warn : spdlog::level::debug;
  if (!spdlog::should_log(spd))
    return;
  char line[1024];
  thread_local int print_prefix = 1;
  const int n = av_log_format_line2(avcl, level, fmt, args, line, sizeof line, &print_prefix);
  if (n <= 0)
    return;
  std::string_view text{line, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof line - 1)};
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.remove_suffix(1);
  if (!text.empty())
    spdlog::log(spd, "ffmpeg: {}", text);
}

[[maybe_unused]] const bool log_routed = [] {
  av_log_set_callback(&log_line);
  return true;
}();

} // namespace

std::string error_text(int rc) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  if (av_strerror(rc, buf, sizeof buf) < 0)
    return "ffmpeg error " + std::to_string(rc);
  return buf;
}

domain::error error_of(int rc, std::string_view what) {
  return domain::make_error(domain::error_code::internal, std::string{what} + ": " + error_text(rc));
}

AVCodecID codec_id_of(media::codec c) noexcept {
  switch (c) {
  case codec::h264:
    return AV_CODEC_ID_H264;
  case codec::hevc:
    return AV_CODEC_ID_HEVC;
  case codec::av1:
    return AV_CODEC_ID_AV1;
  case codec::vp9:
    return AV_CODEC_ID_VP9;
  case codec::vp8:
    return AV_CODEC_ID_VP8;
  case codec::aac:
    return AV_CODEC_ID_AAC;
  case codec::opus:
    return AV_CODEC_ID_OPUS;
  case codec::mp3:
    return AV_CODEC_ID_MP3;
  case codec::flac:
    return AV_CODEC_ID_FLAC;
  case codec::ac3:
    return AV_CODEC_ID_AC3;
  case codec::eac3:
    return AV_CODEC_ID_EAC3;
  case codec::pcm: // 16-bit; 8-bit FLV PCM is AV_CODEC_ID_PCM_U8 (the tag's flags say)
    return AV_CODEC_ID_PCM_S16LE;
  case codec::adpcm:
    return AV_CODEC_ID_ADPCM_SWF;
  case codec::nellymoser:
    return AV_CODEC_ID_NELLYMOSER;
  case codec::g711a:
    return AV_CODEC_ID_PCM_ALAW;
  case codec::g711u:
    return AV_CODEC_ID_PCM_MULAW;
  case codec::speex:
    return AV_CODEC_ID_SPEEX;
  case codec::none:
  case codec::other:
    break;
  }
  return AV_CODEC_ID_NONE;
}

namespace {
// The AVBufferRef's opaque: a heap copy of the shared_ptr that keeps the payload alive.
void release_payload(void* opaque, std::uint8_t*) {
  delete static_cast<std::shared_ptr<const std::vector<std::uint8_t>>*>(opaque);
}
} // namespace

void fill_packet(AVPacket& pkt, const fanout::message& m, std::int64_t dts_ms, std::int64_t pts_ms,
                 std::int64_t duration_ms) {
  av_packet_unref(&pkt);
  AVPacket* p = &pkt;
  const auto data = m.data();
  if (!data.empty()) {
    auto* owner = new std::shared_ptr<const std::vector<std::uint8_t>>{m.payload};
    // FFmpeg's buffers are writable in principle; nothing onair hands them to writes into a
    // packet's data (muxers and decoders read it), so the shared payload stays immutable.
    p->buf = av_buffer_create(const_cast<std::uint8_t*>(data.data()), static_cast<int>(data.size()), &release_payload,
                              owner, AV_BUFFER_FLAG_READONLY);
    if (!p->buf) {
      delete owner;
      throw std::bad_alloc{};
    }
    p->data = p->buf->data;
    p->size = p->buf->size;
  }
  p->dts = dts_ms;
  p->pts = pts_ms;
  p->duration = duration_ms;
  p->time_base = AVRational{1, 1000};
  if (m.keyframe || m.kind == frame_kind::audio)
    p->flags |= AV_PKT_FLAG_KEY;
}

fanout::message_ptr make_message(frame_kind kind, media::codec c, std::span<const std::uint8_t> bytes,
                                 std::int64_t dts_ms, std::int32_t cto_ms, bool key, bool header) {
  media::frame f = make_frame(kind, static_cast<std::uint32_t>(dts_ms), bytes, key, header);
  f.codec = c;
  f.composition_offset_ms = cto_ms;
  f.data_offset = 0;
  f.data_size = static_cast<std::uint32_t>(bytes.size());
  return std::make_shared<const fanout::message>(f, static_cast<std::uint32_t>(dts_ms), dts_ms);
}

bool same_config(const fanout::message_ptr& a, const fanout::message_ptr& b) {
  if (!a || !b)
    return a == b;
  const auto x = a->data(), y = b->data();
  return a->codec == b->codec && std::equal(x.begin(), x.end(), y.begin(), y.end());
}

codec_context open_decoder(const fanout::message& config, std::string& why) {
  AVCodecID id = codec_id_of(config.codec);
  // A legacy FLV audio codec (PCM, G.711, …): its tag's flags tell the rate, channels and sample
  // size that its bytes do not.
  std::optional<flv::audio_info> legacy;
  if (config.kind == frame_kind::audio && flv_legacy_audio(config.codec)) {
    if (config.payload)
      legacy = flv::parse_audio(*config.payload);
    if (!legacy || legacy->enhanced || legacy->sample_rate <= 0 || legacy->channels <= 0) {
      why = std::string{to_string(config.codec)} + " without the FLV flags that tell its format";
      return nullptr;
    }
    if (config.codec == codec::pcm && legacy->bits == 8)
      id = AV_CODEC_ID_PCM_U8;
  }
  const AVCodec* codec = id == AV_CODEC_ID_NONE ? nullptr : avcodec_find_decoder(id);
  if (!codec) {
    why = "no decoder for " + std::string{to_string(config.codec)};
    return nullptr;
  }
  codec_context ctx{avcodec_alloc_context3(codec)};
  if (legacy) {
    ctx->sample_rate = legacy->sample_rate;
    av_channel_layout_default(&ctx->ch_layout, legacy->channels);
  }
  // A codec FLV gives no configuration record (MP3) is configured by its first frame, whose
  // bytes are not extradata.
  const auto data = config.sequence_header ? config.data() : std::span<const std::uint8_t>{};
  if (!data.empty()) {
    ctx->extradata = static_cast<std::uint8_t*>(av_mallocz(data.size() + AV_INPUT_BUFFER_PADDING_SIZE));
    if (!ctx->extradata)
      throw std::bad_alloc{};
    std::copy(data.begin(), data.end(), ctx->extradata);
    ctx->extradata_size = static_cast<int>(data.size());
  }
  ctx->pkt_timebase = AVRational{1, 1000};
  ctx->thread_count = 1;
  if (const int rc = avcodec_open2(ctx.get(), codec, nullptr); rc < 0) {
    why = std::string{to_string(config.codec)} + " decoder: " + error_text(rc);
    return nullptr;
  }
  return ctx;
}

} // namespace onair::media::ffmpeg
