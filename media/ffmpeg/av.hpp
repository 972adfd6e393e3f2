#pragma once
// The FFmpeg types onair uses, each owned by a std::unique_ptr with the library's own free
// function, and the conversions between onair's samples and FFmpeg's packets, in one place.
// Internal to media/ffmpeg: no other folder includes a libav* header (the build checks it).
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
}

#include <memory>
#include <string>
#include <string_view>

#include "domain/error.hpp"
#include "media/fanout/hub.hpp"
#include "media/frame.hpp"

namespace onair::media::ffmpeg {

struct output_context_free {
  void operator()(AVFormatContext* c) const noexcept { avformat_free_context(c); }
};
struct codec_context_free {
  void operator()(AVCodecContext* c) const noexcept { avcodec_free_context(&c); }
};
struct packet_free {
  void operator()(AVPacket* p) const noexcept { av_packet_free(&p); }
};
struct frame_free {
  void operator()(AVFrame* f) const noexcept { av_frame_free(&f); }
};
struct io_context_free {
  void operator()(AVIOContext* c) const noexcept {
    if (c)
      av_freep(&c->buffer);
    avio_context_free(&c);
  }
};
struct parser_free {
  void operator()(AVCodecParserContext* p) const noexcept { av_parser_close(p); }
};
struct sws_free {
  void operator()(SwsContext* c) const noexcept { sws_freeContext(c); }
};
struct swr_free_ {
  void operator()(SwrContext* c) const noexcept { swr_free(&c); }
};

using output_context = std::unique_ptr<AVFormatContext, output_context_free>; // avformat_alloc_output_context2
using codec_context = std::unique_ptr<AVCodecContext, codec_context_free>;
using packet = std::unique_ptr<AVPacket, packet_free>;
using frame = std::unique_ptr<AVFrame, frame_free>;
using io_context = std::unique_ptr<AVIOContext, io_context_free>;
using parser_context = std::unique_ptr<AVCodecParserContext, parser_free>;
using scaler = std::unique_ptr<SwsContext, sws_free>;
using resampler = std::unique_ptr<SwrContext, swr_free_>;

// av_strerror's text for an FFmpeg return code.
[[nodiscard]] std::string error_text(int rc);
// "what: text" as onair's error.
[[nodiscard]] domain::error error_of(int rc, std::string_view what);

// AV_CODEC_ID_NONE for a codec FFmpeg cannot take from onair (codec::other, none).
[[nodiscard]] AVCodecID codec_id_of(media::codec c) noexcept;

// Fills p (unreferenced first) with the sample's codec bytes, by reference (the packet's buffer
// holds the shared payload; nothing is copied), timestamps in ms (time base 1/1000).
void fill_packet(AVPacket& p, const fanout::message& m, std::int64_t dts_ms, std::int64_t pts_ms,
                 std::int64_t duration_ms);

// A decoder for the source whose configuration is `config`: a sequence header, or the frame that
// stands for it (MP3; FLV's legacy audio, whose tag flags give the rate and channels its bytes do
// not). Null with `why` when onair cannot decode it.
[[nodiscard]] codec_context open_decoder(const fanout::message& config, std::string& why);

// Whether two configurations carry the same codec and codec bytes (either may be absent).
[[nodiscard]] bool same_config(const fanout::message_ptr& a, const fanout::message_ptr& b);

// A message as the hub would have made it, over a copy of `bytes` (the codec's own bytes, no FLV
// header), times in ms.
[[nodiscard]] fanout::message_ptr make_message(frame_kind kind, media::codec c, std::span<const std::uint8_t> bytes,
                                               std::int64_t dts_ms, std::int32_t cto_ms, bool key, bool header);

} // namespace onair::media::ffmpeg
