#include "media/ffmpeg/aac_encoder.hpp"

#include <algorithm>
#include <cstdlib>

extern "C" {
#include <libavutil/audio_fifo.h>
}

#include "media/ffmpeg/audio_to_aac.hpp"

namespace onair::media::ffmpeg {
namespace {

struct fifo_free {
  void operator()(AVAudioFifo* f) const noexcept { av_audio_fifo_free(f); }
};
using audio_fifo = std::unique_ptr<AVAudioFifo, fifo_free>;

} // namespace

std::int64_t sample_clock::take(std::int64_t pts_ms, std::int64_t samples) {
  const std::int64_t from_source = pts_ms * rate / 1000;
  if (next == INT64_MIN || std::llabs(from_source - next) > rate / 10)
    next = from_source;
  const auto t = next;
  next += samples;
  return t;
}

std::int64_t sample_clock::step(std::int64_t samples) {
  const auto t = next == INT64_MIN ? 0 : next;
  next = t + samples;
  return t;
}

aac_format aac_format_for(int source_rate, int source_channels) noexcept {
  static constexpr int aac_rates[] = {96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000};
  const bool ok_rate = std::find(std::begin(aac_rates), std::end(aac_rates), source_rate) != std::end(aac_rates);
  return {ok_rate ? source_rate : 48000, std::clamp(source_channels > 0 ? source_channels : 2, 1, 2)};
}

struct aac_encoder::impl {
  codec_context enc;
  packet pkt{av_packet_alloc()};
  resampler swr;
  int swr_rate = 0, swr_format = -1, swr_channels = 0; // the decoded audio swr was made for
  audio_fifo fifo;
};

aac_encoder::aac_encoder(std::unique_ptr<impl> p, aac_format f, std::vector<std::uint8_t> asc)
    : impl_{std::move(p)}, format_{f}, asc_{std::move(asc)} {}

aac_encoder::~aac_encoder() = default;

std::unique_ptr<aac_encoder> aac_encoder::open(aac_format format, int bitrate_kbps, std::string& why) {
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_AAC);
  auto p = std::make_unique<impl>();
  p->enc.reset(codec ? avcodec_alloc_context3(codec) : nullptr);
  if (!p->enc || !p->pkt) {
    why = "no AAC encoder";
    return nullptr;
  }
  auto* c = p->enc.get();
  c->sample_fmt = AV_SAMPLE_FMT_FLTP;
  c->sample_rate = format.sample_rate;
  av_channel_layout_default(&c->ch_layout, format.channels);
  c->bit_rate = static_cast<std::int64_t>(bitrate_kbps) * 1000;
  c->time_base = AVRational{1, format.sample_rate};
  c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  if (const int rc = avcodec_open2(c, codec, nullptr); rc < 0) {
    why = "aac encoder: " + error_text(rc);
    return nullptr;
  }
  p->fifo.reset(av_audio_fifo_alloc(AV_SAMPLE_FMT_FLTP, format.channels, c->frame_size * 4));
  if (!p->fifo)
    throw std::bad_alloc{};
  std::vector<std::uint8_t> asc(c->extradata, c->extradata + c->extradata_size);
  return std::unique_ptr<aac_encoder>{new aac_encoder{std::move(p), format, std::move(asc)}};
}

bool aac_encoder::add(const AVFrame& in, std::int64_t pts_ms, sample_clock& clock, std::string& why) {
  auto& p = *impl_;
  // A frame-configured codec may change its rate or channels at any frame: swr is made anew.
  if (p.swr && (in.sample_rate != p.swr_rate || in.format != p.swr_format || in.ch_layout.nb_channels != p.swr_channels))
    p.swr.reset();
  if (!p.swr) {
    SwrContext* s = nullptr;
    AVChannelLayout out_layout{}, in_layout{};
    av_channel_layout_default(&out_layout, format_.channels);
    if (av_channel_layout_copy(&in_layout, &in.ch_layout) < 0)
      throw std::bad_alloc{};
    const bool made = swr_alloc_set_opts2(&s, &out_layout, AV_SAMPLE_FMT_FLTP, format_.sample_rate, &in_layout,
                                          static_cast<AVSampleFormat>(in.format), in.sample_rate, 0, nullptr) >= 0 &&
                      swr_init(s) >= 0;
    av_channel_layout_uninit(&in_layout);
    if (!made) {
      swr_free(&s);
      why = "cannot resample " + std::to_string(in.sample_rate) + " Hz, " + std::to_string(in.ch_layout.nb_channels) +
            " channels to " + std::to_string(format_.sample_rate) + " Hz";
      return false;
    }
    p.swr.reset(s);
    p.swr_rate = in.sample_rate;
    p.swr_format = in.format;
    p.swr_channels = in.ch_layout.nb_channels;
  }
  const int max_out = swr_get_out_samples(p.swr.get(), in.nb_samples);
  std::vector<std::uint8_t*> planes(static_cast<std::size_t>(format_.channels));
  int linesize = 0;
  if (av_samples_alloc(planes.data(), &linesize, format_.channels, max_out, AV_SAMPLE_FMT_FLTP, 0) < 0)
    throw std::bad_alloc{};
  const int n = swr_convert(p.swr.get(), planes.data(), max_out, const_cast<const std::uint8_t**>(in.extended_data),
                            in.nb_samples);
  if (n > 0) {
    if (av_audio_fifo_size(p.fifo.get()) == 0)
      (void)clock.take(pts_ms, 0); // anchor the clock at the first samples after a gap
    av_audio_fifo_write(p.fifo.get(), reinterpret_cast<void**>(planes.data()), n);
  }
  av_freep(planes.data());
  return true;
}

void aac_encoder::encode(bool flush, sample_clock& clock,
                         const std::function<void(std::span<const std::uint8_t>, std::int64_t)>& out) {
  auto& p = *impl_;
  const auto receive = [&] {
    while (avcodec_receive_packet(p.enc.get(), p.pkt.get()) == 0) {
      out({p.pkt->data, static_cast<std::size_t>(p.pkt->size)}, p.pkt->pts);
      av_packet_unref(p.pkt.get());
    }
  };
  const int size = p.enc->frame_size;
  while (av_audio_fifo_size(p.fifo.get()) >= size || (flush && av_audio_fifo_size(p.fifo.get()) > 0)) {
    frame f{av_frame_alloc()};
    if (!f)
      throw std::bad_alloc{};
    f->nb_samples = std::min(size, av_audio_fifo_size(p.fifo.get()));
    f->format = AV_SAMPLE_FMT_FLTP;
    f->sample_rate = format_.sample_rate;
    av_channel_layout_default(&f->ch_layout, format_.channels);
    if (av_frame_get_buffer(f.get(), 0) < 0)
      throw std::bad_alloc{};
    av_audio_fifo_read(p.fifo.get(), reinterpret_cast<void**>(f->data), f->nb_samples);
    f->pts = clock.step(f->nb_samples);
    if (avcodec_send_frame(p.enc.get(), f.get()) < 0)
      return;
    receive();
  }
  if (flush && avcodec_send_frame(p.enc.get(), nullptr) == 0)
    receive();
}

// The recorder's side: a decoder and an encoder for one source configuration.
struct audio_to_aac::impl {
  codec_context dec;
  std::unique_ptr<aac_encoder> enc;
  sample_clock clock;
  track_params out;
  packet pkt{av_packet_alloc()};
  frame decoded{av_frame_alloc()};

  std::vector<fanout::message_ptr> drain(bool flush) {
    std::vector<fanout::message_ptr> frames;
    enc->encode(flush, clock, [&](std::span<const std::uint8_t> data, std::int64_t pts) {
      // Whole milliseconds, rounded down: within one of the sample clock, always increasing.
      const auto ms = pts * 1000 / clock.rate - (pts < 0 && (pts * 1000) % clock.rate != 0 ? 1 : 0);
      frames.push_back(make_message(frame_kind::audio, codec::aac, data, ms, 0, true, false));
    });
    return frames;
  }
};

audio_to_aac::audio_to_aac(std::unique_ptr<impl> p) : impl_{std::move(p)} {}
audio_to_aac::~audio_to_aac() = default;

domain::result<std::unique_ptr<audio_to_aac>> audio_to_aac::open(const fanout::message& config, int kbps_per_channel) {
  const auto fail = [&](const std::string& why) {
    return domain::make_error(domain::error_code::invalid_parameter, "audio to AAC: " + why);
  };
  auto p = std::make_unique<impl>();
  if (!p->pkt || !p->decoded)
    throw std::bad_alloc{};
  std::string why;
  p->dec = open_decoder(config, why);
  if (!p->dec)
    return fail(why);
  if (p->dec->sample_rate <= 0 || p->dec->ch_layout.nb_channels <= 0)
    return fail(std::string{to_string(config.codec)} + ": its rate and channels are not known before its first frame");
  const auto format = aac_format_for(p->dec->sample_rate, p->dec->ch_layout.nb_channels);
  p->enc = aac_encoder::open(format, kbps_per_channel * format.channels, why);
  if (!p->enc)
    return fail(why);
  p->clock.rate = format.sample_rate;
  p->out = track_params{.codec = codec::aac,
                        .config = p->enc->asc(),
                        .sample_rate = format.sample_rate,
                        .channels = format.channels};
  return std::unique_ptr<audio_to_aac>{new audio_to_aac{std::move(p)}};
}

const track_params& audio_to_aac::output() const noexcept { return impl_->out; }

domain::result<std::vector<fanout::message_ptr>> audio_to_aac::push(const fanout::message& sample) {
  auto& p = *impl_;
  fill_packet(*p.pkt, sample, sample.dts_ms, sample.pts_ms(), 0);
  const int rc = avcodec_send_packet(p.dec.get(), p.pkt.get());
  av_packet_unref(p.pkt.get());
  if (rc < 0)
    return std::vector<fanout::message_ptr>{}; // a damaged frame: the next goes on
  std::string why;
  while (avcodec_receive_frame(p.dec.get(), p.decoded.get()) == 0) {
    const bool added = p.enc->add(*p.decoded, sample.pts_ms(), p.clock, why);
    av_frame_unref(p.decoded.get());
    if (!added)
      return domain::make_error(domain::error_code::invalid_parameter, "audio to AAC: " + why);
  }
  return p.drain(false);
}

std::vector<fanout::message_ptr> audio_to_aac::flush() { return impl_->drain(true); }

} // namespace onair::media::ffmpeg
