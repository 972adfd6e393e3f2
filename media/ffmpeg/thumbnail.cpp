#include "media/ffmpeg/thumbnail.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <string>

#include "media/ffmpeg/av.hpp"

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace onair::media::ffmpeg {
namespace {

using domain::error_code;

struct input_close {
  void operator()(AVFormatContext* c) const noexcept { avformat_close_input(&c); }
};
using input_context = std::unique_ptr<AVFormatContext, input_close>; // avformat_open_input

// 4:2:0 needs both sides even: a width is rounded down (never past the source's), a height to
// the nearest; at least 2.
int even_down(int v) { return std::max(2, v / 2 * 2); }
int even_nearest(double v) { return std::max(2, static_cast<int>(std::lround(v / 2)) * 2); }

domain::error failure(error_code code, const std::filesystem::path& file, const std::string& what) {
  return domain::make_error(code, "thumbnail of " + file.string() + ": " + what);
}

// What an FFmpeg error while opening or reading the file says about it.
error_code code_of(int rc) {
  if (rc == AVERROR(ENOENT))
    return error_code::video_post_not_found;
  if (rc == AVERROR_INVALIDDATA || rc == AVERROR_DEMUXER_NOT_FOUND || rc == AVERROR_STREAM_NOT_FOUND ||
      rc == AVERROR_DECODER_NOT_FOUND)
    return error_code::invalid_parameter;
  return error_code::storage_failure;
}

domain::error failure(int rc, const std::filesystem::path& file, const std::string& what) {
  return failure(code_of(rc), file, what + ": " + error_text(rc));
}

struct source {
  input_context fmt;
  codec_context dec;
  int index = -1; // the video stream
};

domain::result<source> open_source(const std::filesystem::path& file) {
  source s;
  AVFormatContext* raw = nullptr;
  // Local files only: neither the path nor the container may lead to another protocol.
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "protocol_whitelist", "file", 0);
  const int rc = avformat_open_input(&raw, ("file:" + file.string()).c_str(), nullptr, &opts);
  av_dict_free(&opts);
  if (rc < 0)
    return failure(rc, file, "cannot open");
  s.fmt.reset(raw);
  const AVCodec* codec = nullptr;
  s.index = av_find_best_stream(s.fmt.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  // Containers whose header tells the picture size and format (MP4) need no probing of frames.
  const auto described = [&s] {
    const auto* par = s.fmt->streams[s.index]->codecpar;
    return par->width > 0 && par->height > 0 && par->format >= 0;
  };
  if (s.index < 0 || !described()) {
    if (const int info = avformat_find_stream_info(s.fmt.get(), nullptr); info < 0)
      return failure(info, file, "cannot read the stream information");
    s.index = av_find_best_stream(s.fmt.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  }
  if (s.index < 0)
    return failure(error_code::invalid_parameter, file,
                   s.index == AVERROR_DECODER_NOT_FOUND ? "no decoder for its video" : "no video stream");
  for (unsigned i = 0; i < s.fmt->nb_streams; ++i)
    if (static_cast<int>(i) != s.index)
      s.fmt->streams[i]->discard = AVDISCARD_ALL;
  const AVStream* st = s.fmt->streams[s.index];
  s.dec.reset(avcodec_alloc_context3(codec));
  if (!s.dec)
    return failure(error_code::internal, file, "cannot allocate a decoder");
  if (const int p = avcodec_parameters_to_context(s.dec.get(), st->codecpar); p < 0)
    return failure(error_code::internal, file, "decoder parameters: " + error_text(p));
  s.dec->pkt_timebase = st->time_base;
  s.dec->thread_count = 1; // one picture: frame threads would only add delay
  if (const int o = avcodec_open2(s.dec.get(), codec, nullptr); o < 0)
    return failure(error_code::invalid_parameter, file,
                   std::string{"cannot open the "} + codec->name + " decoder: " + error_text(o));
  return s;
}

// The time asked for, in ms from the video's start: -1 picks 10 % in, at most 5 s.
std::int64_t wanted_ms(const source& s, std::int64_t time_ms) {
  if (time_ms >= 0)
    return time_ms;
  const AVStream* st = s.fmt->streams[s.index];
  std::int64_t duration_ms = 0;
  if (s.fmt->duration != AV_NOPTS_VALUE && s.fmt->duration > 0)
    duration_ms = av_rescale(s.fmt->duration, 1000, AV_TIME_BASE);
  else if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
    duration_ms = av_rescale_q(st->duration, st->time_base, AVRational{1, 1000});
  return std::min<std::int64_t>(duration_ms / 10, 5000);
}

// The first picture shown at or after time_ms; the last one when the video ends before.
domain::result<frame> picture_at(source& s, const std::filesystem::path& file, std::int64_t time_ms) {
  const AVStream* st = s.fmt->streams[s.index];
  const std::int64_t start = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0;
  const std::int64_t target = start + av_rescale_q(time_ms, AVRational{1, 1000}, st->time_base);
  // Seek to the key frame at or before the time; where the file cannot seek, decode from the start.
  if (time_ms > 0 && av_seek_frame(s.fmt.get(), s.index, target, AVSEEK_FLAG_BACKWARD) < 0)
    av_seek_frame(s.fmt.get(), s.index, start, AVSEEK_FLAG_BACKWARD);

  frame decoded{av_frame_alloc()};
  frame last{av_frame_alloc()};
  packet pkt{av_packet_alloc()};
  if (!decoded || !last || !pkt)
    return failure(error_code::internal, file, "out of memory");
  bool have = false;
  // Takes what the decoder has; true once a picture at or past the time came out.
  const auto drain = [&] {
    while (avcodec_receive_frame(s.dec.get(), decoded.get()) == 0) {
      av_frame_unref(last.get());
      av_frame_move_ref(last.get(), decoded.get());
      have = true;
      const auto ts = last->best_effort_timestamp != AV_NOPTS_VALUE ? last->best_effort_timestamp : last->pts;
      if (ts != AV_NOPTS_VALUE && ts >= target)
        return true;
    }
    return false;
  };
  bool reached = false;
  while (!reached) {
    const int rc = av_read_frame(s.fmt.get(), pkt.get());
    if (rc == AVERROR_EOF)
      break;
    if (rc < 0)
      return failure(rc, file, "cannot read");
    if (pkt->stream_index != s.index) {
      av_packet_unref(pkt.get());
      continue;
    }
    // A packet the decoder refuses (corrupt) is skipped, as players do.
    if (avcodec_send_packet(s.dec.get(), pkt.get()) == AVERROR(EAGAIN)) {
      reached = drain();
      if (!reached)
        avcodec_send_packet(s.dec.get(), pkt.get());
    }
    av_packet_unref(pkt.get());
    if (!reached)
      reached = drain();
  }
  if (!reached && avcodec_send_packet(s.dec.get(), nullptr) == 0) // the pictures held back for reordering
    drain();
  if (!have)
    return failure(error_code::invalid_parameter, file, "no picture could be decoded");
  return last;
}

// src scaled to width x height, 4:2:0 full range (what JPEG holds).
domain::result<frame> scaled(const AVFrame& src, int width, int height, const std::filesystem::path& file) {
  const auto src_format = static_cast<AVPixelFormat>(src.format);
  scaler sws{sws_getContext(src.width, src.height, src_format, width, height, AV_PIX_FMT_YUV420P,
                            SWS_BICUBIC | SWS_ACCURATE_RND, nullptr, nullptr, nullptr)};
  if (!sws)
    return failure(error_code::internal, file,
                   std::string{"cannot scale "} + (av_get_pix_fmt_name(src_format) ? av_get_pix_fmt_name(src_format) : "?") +
                       " " + std::to_string(src.width) + "x" + std::to_string(src.height));
  const bool src_full = src.color_range == AVCOL_RANGE_JPEG || src_format == AV_PIX_FMT_YUVJ420P ||
                        src_format == AV_PIX_FMT_YUVJ422P || src_format == AV_PIX_FMT_YUVJ444P;
  // The source's matrix (BT.709 for HD) in, JPEG's (BT.601, full range) out.
  sws_setColorspaceDetails(sws.get(), sws_getCoefficients(src.colorspace), src_full ? 1 : 0,
                           sws_getCoefficients(SWS_CS_ITU601), 1, 0, 1 << 16, 1 << 16);
  frame out{av_frame_alloc()};
  if (!out)
    return failure(error_code::internal, file, "out of memory");
  out->width = width;
  out->height = height;
  out->format = AV_PIX_FMT_YUV420P;
  out->color_range = AVCOL_RANGE_JPEG;
  if (const int rc = av_frame_get_buffer(out.get(), 0); rc < 0)
    return failure(error_code::internal, file, "picture buffer: " + error_text(rc));
  sws_scale(sws.get(), src.data, src.linesize, 0, src.height, out->data, out->linesize);
  return out;
}

domain::result<std::vector<std::uint8_t>> jpeg(AVFrame& pic, int quality, const std::filesystem::path& file) {
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
  if (!codec)
    return failure(error_code::internal, file, "this FFmpeg has no mjpeg encoder");
  codec_context enc{avcodec_alloc_context3(codec)};
  if (!enc)
    return failure(error_code::internal, file, "cannot allocate the mjpeg encoder");
  enc->width = pic.width;
  enc->height = pic.height;
  enc->pix_fmt = AV_PIX_FMT_YUV420P;
  enc->color_range = AVCOL_RANGE_JPEG; // what the encoder asks of YUV420P (else "non-standard")
  enc->time_base = AVRational{1, 25};
  enc->flags |= AV_CODEC_FLAG_QSCALE;
  enc->global_quality = FF_QP2LAMBDA * quality;
  enc->thread_count = 1;
  if (const int rc = avcodec_open2(enc.get(), codec, nullptr); rc < 0)
    return failure(error_code::internal, file, "cannot open the mjpeg encoder: " + error_text(rc));
  pic.pts = 0;
  pic.quality = enc->global_quality; // a fixed qscale is read from each picture
  if (const int rc = avcodec_send_frame(enc.get(), &pic); rc < 0)
    return failure(error_code::internal, file, "mjpeg encode: " + error_text(rc));
  if (const int rc = avcodec_send_frame(enc.get(), nullptr); rc < 0)
    return failure(error_code::internal, file, "mjpeg flush: " + error_text(rc));
  packet pkt{av_packet_alloc()};
  if (!pkt)
    return failure(error_code::internal, file, "out of memory");
  if (const int rc = avcodec_receive_packet(enc.get(), pkt.get()); rc < 0)
    return failure(error_code::internal, file, "mjpeg encode: " + error_text(rc));
  return std::vector<std::uint8_t>(pkt->data, pkt->data + pkt->size);
}

} // namespace

domain::result<std::vector<std::uint8_t>> thumbnail(const std::filesystem::path& video_file,
                                                    const thumbnail_options& o) {
  if (o.time_ms < -1)
    return domain::make_error(error_code::invalid_parameter, "thumbnail time must be 0 or more ms (-1: automatic)",
                              "time");
  if (o.width < 0)
    return domain::make_error(error_code::invalid_parameter, "thumbnail width must be 0 (the source's) or more",
                              "width");
  if (o.quality < 2 || o.quality > 31)
    return domain::make_error(error_code::invalid_parameter, "thumbnail quality must be 2..31", "quality");
  auto src = open_source(video_file);
  if (!src)
    return std::move(src).error();
  auto pic = picture_at(*src, video_file, wanted_ms(*src, o.time_ms));
  if (!pic)
    return std::move(pic).error();
  const AVFrame& p = **pic;
  if (p.width <= 0 || p.height <= 0)
    return failure(error_code::invalid_parameter, video_file, "the picture has no size");
  // Square pixels out: the height follows the displayed aspect ratio.
  AVRational sar = p.sample_aspect_ratio;
  if (sar.num <= 0 || sar.den <= 0)
    sar = AVRational{1, 1};
  const int width = even_down(o.width == 0 ? p.width : std::min({o.width, max_thumbnail_width, p.width}));
  const int height = even_nearest(static_cast<double>(width) * p.height / (p.width * av_q2d(sar)));
  auto out = scaled(p, width, height, video_file);
  if (!out)
    return std::move(out).error();
  return jpeg(**out, o.quality, video_file);
}

} // namespace onair::media::ffmpeg
