#include "media/ffmpeg/replay.hpp"

#include <algorithm>
#include <optional>

#include <spdlog/spdlog.h>

#include "media/ffmpeg/av.hpp"

namespace onair::media::ffmpeg {
namespace {

struct input_close {
  void operator()(AVFormatContext* c) const noexcept { avformat_close_input(&c); }
};
using input_context = std::unique_ptr<AVFormatContext, input_close>;

domain::error read_error(const std::filesystem::path& file, std::string_view what, int rc) {
  return domain::make_error(domain::error_code::storage_failure,
                            "recording part " + file.string() + ": " + std::string{what} + ": " + error_text(rc));
}

media::codec codec_of(AVCodecID id) {
  switch (id) {
  case AV_CODEC_ID_H264: return media::codec::h264;
  case AV_CODEC_ID_HEVC: return media::codec::hevc;
  case AV_CODEC_ID_AV1: return media::codec::av1;
  case AV_CODEC_ID_VP9: return media::codec::vp9;
  case AV_CODEC_ID_VP8: return media::codec::vp8;
  case AV_CODEC_ID_AAC: return media::codec::aac;
  case AV_CODEC_ID_OPUS: return media::codec::opus;
  case AV_CODEC_ID_MP3: return media::codec::mp3;
  case AV_CODEC_ID_FLAC: return media::codec::flac;
  case AV_CODEC_ID_AC3: return media::codec::ac3;
  case AV_CODEC_ID_EAC3: return media::codec::eac3;
  default: return media::codec::other;
  }
}

fanout::message_ptr config_of(const AVStream* st, frame_kind kind) {
  if (!st)
    return nullptr;
  const auto* p = st->codecpar;
  std::span<const std::uint8_t> extra{p->extradata, static_cast<std::size_t>(std::max(0, p->extradata_size))};
  return make_message(kind, codec_of(p->codec_id), extra, 0, 0, false, true);
}

// The SPS and PPS of an avcC record as length-prefixed NAL units (4-byte lengths), to go in band.
std::vector<std::uint8_t> parameter_sets(std::span<const std::uint8_t> avcc) {
  std::vector<std::uint8_t> out;
  if (avcc.size() < 7 || avcc[0] != 1)
    return out;
  std::size_t at = 6; // past the header and the SPS count
  auto take = [&](std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
      if (at + 2 > avcc.size())
        return false;
      const std::size_t n = (std::size_t{avcc[at]} << 8) | avcc[at + 1];
      at += 2;
      if (at + n > avcc.size())
        return false;
      out.push_back(static_cast<std::uint8_t>(n >> 24));
      out.push_back(static_cast<std::uint8_t>(n >> 16));
      out.push_back(static_cast<std::uint8_t>(n >> 8));
      out.push_back(static_cast<std::uint8_t>(n));
      out.insert(out.end(), avcc.begin() + static_cast<std::ptrdiff_t>(at), avcc.begin() + static_cast<std::ptrdiff_t>(at + n));
      at += n;
    }
    return true;
  };
  if (!take(avcc[5] & 0x1f) || at >= avcc.size())
    return {};
  const std::size_t pps = avcc[at++];
  if (!take(pps))
    return {};
  return out;
}

// original.mp4: the first part's tracks, every part's samples, the index at the front.
class original_writer {
public:
  domain::status open(const std::filesystem::path& file, const AVStream* video, const AVStream* audio) {
    file_ = file;
    AVFormatContext* raw = nullptr;
    if (const int rc = avformat_alloc_output_context2(&raw, nullptr, "mp4", file.c_str()); rc < 0)
      return error_of(rc, "original.mp4: no mp4 muxer");
    out_.reset(raw);
    for (const AVStream* in : {video, audio}) {
      if (!in)
        continue;
      AVStream* st = avformat_new_stream(out_.get(), nullptr);
      if (!st || avcodec_parameters_copy(st->codecpar, in->codecpar) < 0)
        return domain::make_error(domain::error_code::internal, "original.mp4: cannot add a track");
      st->codecpar->codec_tag = 0;
      st->time_base = in->time_base;
      tracks_.push_back(track{in->codecpar->codec_id,
                              std::vector<std::uint8_t>(in->codecpar->extradata,
                                                        in->codecpar->extradata + std::max(0, in->codecpar->extradata_size)),
                              in == video, st});
    }
    if (const int rc = avio_open(&out_->pb, file.c_str(), AVIO_FLAG_WRITE); rc < 0)
      return error_of(rc, "original.mp4: opening " + file.string());
    AVDictionary* opts = nullptr;
    av_dict_set(&opts, "movflags", "+faststart", 0);
    const int rc = avformat_write_header(out_.get(), &opts);
    av_dict_free(&opts);
    if (rc < 0)
      return error_of(rc, "original.mp4: writing its header");
    open_ = true;
    return domain::ok_status();
  }

  // The track a part's stream goes to, and what its key frames need in band; nullopt: none.
  struct route {
    std::size_t track = 0;
    std::vector<std::uint8_t> in_band; // parameter sets prepended to key frames
  };
  std::optional<route> route_for(const AVStream* in, const std::filesystem::path& part) {
    if (!in || !open_)
      return std::nullopt;
    const bool video = in->codecpar->codec_type == AVMEDIA_TYPE_VIDEO;
    for (std::size_t i = 0; i < tracks_.size(); ++i) {
      auto& t = tracks_[i];
      if (t.video != video)
        continue;
      if (t.codec != in->codecpar->codec_id) {
        spdlog::warn("original.mp4: part {} has {} {}, the original's track is {}: its {} is left out", part.string(),
                     video ? "video" : "audio", avcodec_get_name(in->codecpar->codec_id), avcodec_get_name(t.codec),
                     video ? "video" : "audio");
        return std::nullopt;
      }
      route r{i, {}};
      std::span<const std::uint8_t> extra{in->codecpar->extradata,
                                          static_cast<std::size_t>(std::max(0, in->codecpar->extradata_size))};
      if (video && t.codec == AV_CODEC_ID_H264 && !std::equal(extra.begin(), extra.end(), t.config.begin(), t.config.end()))
        r.in_band = parameter_sets(extra);
      return r;
    }
    return std::nullopt;
  }

  domain::status write(const route& r, const AVPacket& in, AVRational in_tb) {
    auto& t = tracks_[r.track];
    packet p{av_packet_alloc()};
    if (!r.in_band.empty() && (in.flags & AV_PKT_FLAG_KEY)) {
      if (av_new_packet(p.get(), static_cast<int>(r.in_band.size()) + in.size) < 0)
        throw std::bad_alloc{};
      std::copy(r.in_band.begin(), r.in_band.end(), p->data);
      std::copy(in.data, in.data + in.size, p->data + r.in_band.size());
      av_packet_copy_props(p.get(), &in);
    } else if (av_packet_ref(p.get(), &in) < 0) {
      throw std::bad_alloc{};
    }
    p->stream_index = t.out->index;
    av_packet_rescale_ts(p.get(), in_tb, t.out->time_base);
    // The muxer takes strictly rising decode times per track.
    if (t.last_dts != AV_NOPTS_VALUE && p->dts <= t.last_dts) {
      const auto shift = t.last_dts + 1 - p->dts;
      p->dts += shift;
      if (p->pts != AV_NOPTS_VALUE)
        p->pts = std::max(p->pts, p->dts);
    }
    t.last_dts = p->dts;
    if (const int rc = av_interleaved_write_frame(out_.get(), p.get()); rc < 0)
      return error_of(rc, "original.mp4: writing a sample");
    return domain::ok_status();
  }

  domain::status finish() {
    if (!open_)
      return domain::ok_status();
    open_ = false;
    const int rc = av_write_trailer(out_.get());
    avio_closep(&out_->pb);
    if (rc < 0)
      return error_of(rc, "original.mp4: writing its index");
    return domain::ok_status();
  }

  ~original_writer() {
    if (out_ && out_->pb)
      avio_closep(&out_->pb);
  }

private:
  struct track {
    AVCodecID codec;
    std::vector<std::uint8_t> config;
    bool video = false;
    AVStream* out = nullptr;
    std::int64_t last_dts = AV_NOPTS_VALUE;
  };
  std::filesystem::path file_;
  output_context out_;
  std::vector<track> tracks_;
  bool open_ = false;
};

} // namespace

domain::result<original_info> replay(const std::vector<std::filesystem::path>& parts, fanout::consumer& to,
                                     const replay_options& opts) {
  original_info info;
  original_writer original;
  fanout::stream_info in_force;
  bool opened = false;
  packet pkt{av_packet_alloc()};
  for (const auto& file : parts) {
    AVFormatContext* raw = nullptr;
    if (const int rc = avformat_open_input(&raw, file.c_str(), nullptr, nullptr); rc < 0)
      return read_error(file, "opening", rc);
    input_context in{raw};
    const int v = av_find_best_stream(in.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    const int a = av_find_best_stream(in.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
    const AVStream* video = v >= 0 ? in->streams[v] : nullptr;
    const AVStream* audio = a >= 0 ? in->streams[a] : nullptr;
    if (!video && !audio) {
      spdlog::warn("recording part {} has no audio or video: skipped", file.string());
      continue;
    }

    fanout::stream_info part_info;
    part_info.video_config = config_of(video, frame_kind::video);
    part_info.audio_config = config_of(audio, frame_kind::audio);
    if (!opened) {
      to.on_opened(part_info);
      opened = true;
      if (video) {
        info.width = video->codecpar->width;
        info.height = video->codecpar->height;
      }
      if (!opts.original.empty())
        if (auto st = original.open(opts.original, video, audio); !st)
          return st.error();
    } else if (!same_config(part_info.video_config, in_force.video_config) ||
               !same_config(part_info.audio_config, in_force.audio_config)) {
      to.on_config_changed(part_info);
    }
    in_force = part_info;
    const auto video_route = opts.original.empty() ? std::nullopt : original.route_for(video, file);
    const auto audio_route = opts.original.empty() ? std::nullopt : original.route_for(audio, file);

    for (;;) {
      const int rc = av_read_frame(in.get(), pkt.get());
      if (rc == AVERROR_EOF)
        break;
      if (rc < 0) {
        // A part is cut back to whole fragments, so a read error is a damaged file: what was read
        // of it is kept, and the next part follows.
        spdlog::warn("recording part {}: {}: the rest of the part is skipped", file.string(), error_text(rc));
        break;
      }
      const bool is_video = pkt->stream_index == v;
      if (!is_video && pkt->stream_index != a) {
        av_packet_unref(pkt.get());
        continue;
      }
      const AVStream* st = in->streams[pkt->stream_index];
      const AVRational ms{1, 1000};
      const std::int64_t dts = pkt->dts == AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
      if (dts == AV_NOPTS_VALUE) {
        av_packet_unref(pkt.get());
        continue;
      }
      const std::int64_t dts_ms = av_rescale_q(dts, st->time_base, ms);
      const std::int64_t pts_ms = pkt->pts == AV_NOPTS_VALUE ? dts_ms : av_rescale_q(pkt->pts, st->time_base, ms);
      const std::int64_t end_ms = pts_ms + std::max<std::int64_t>(0, av_rescale_q(pkt->duration, st->time_base, ms));
      info.duration_ms = std::max(info.duration_ms, end_ms);
      (is_video ? info.video_samples : info.audio_samples) += 1;

      const auto& route = is_video ? video_route : audio_route;
      if (route)
        if (auto w = original.write(*route, *pkt, st->time_base); !w) {
          av_packet_unref(pkt.get());
          return w.error();
        }
      auto m = make_message(is_video ? frame_kind::video : frame_kind::audio,
                            codec_of(st->codecpar->codec_id), {pkt->data, static_cast<std::size_t>(pkt->size)}, dts_ms,
                            static_cast<std::int32_t>(pts_ms - dts_ms), (pkt->flags & AV_PKT_FLAG_KEY) != 0, false);
      av_packet_unref(pkt.get());
      to.on_sample(m);
      if (opts.progress && !opts.progress(dts_ms))
        return domain::make_error(domain::error_code::internal, "replay of the recording stopped");
    }
  }
  if (auto st = original.finish(); !st)
    return st.error();
  if (opened)
    to.on_closed();
  if (!opts.original.empty() && opened) {
    std::error_code ec;
    info.size_bytes = std::filesystem::file_size(opts.original, ec);
  }
  return info;
}

} // namespace onair::media::ffmpeg
