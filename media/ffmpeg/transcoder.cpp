#include "media/ffmpeg/transcoder.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

extern "C" {
#include <libavutil/imgutils.h>
}
#include <spdlog/spdlog.h>

#include "media/ffmpeg/aac_encoder.hpp"
#include "media/ffmpeg/av.hpp"
#include "media/ffmpeg/fmp4_writer.hpp"
#include "media/ffmpeg/scaler_kernels.hpp"
#include "media/flv/tag.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

namespace onair::media::ffmpeg {
namespace {

int even(double v) { return std::max(2, static_cast<int>(v / 2) * 2); }

struct buffer_pool_free {
  void operator()(AVBufferPool* p) const noexcept { av_buffer_pool_uninit(&p); } // freed once its buffers are back
};
using buffer_pool = std::unique_ptr<AVBufferPool, buffer_pool_free>;

// A new frame referencing src's buffers (nothing copied) and none of its properties or side data
// (not av_frame_ref): a rendition that takes the decoded picture as it is gets no more from the
// decoder (its picture type, captions) than a scaled one does.
frame reference(const AVFrame& src) {
  frame f{av_frame_alloc()};
  if (!f)
    return nullptr;
  f->format = src.format;
  f->width = src.width;
  f->height = src.height;
  f->pts = src.pts;
  for (int i = 0; i < AV_NUM_DATA_POINTERS; ++i) {
    f->data[i] = src.data[i];
    f->linesize[i] = src.linesize[i];
    if (src.buf[i] && !(f->buf[i] = av_buffer_ref(src.buf[i])))
      return nullptr;
  }
  return f;
}

// One rendition's picture of each source picture: the source fitted into the rendition's frame
// without distortion (libswscale, bilinear), the bars black; or the source picture itself,
// referenced, when it already is that frame. Pictures come from a pool of the frame's size, so a
// picture can wait in an encoder's queue while the next is made.
class fitter {
public:
  explicit fitter(rung r) : rung_(r) {}

  // nullptr when src cannot be scaled.
  frame fit(const AVFrame& src) {
    if (src.width == rung_.width && src.height == rung_.height && src.format == AV_PIX_FMT_YUV420P)
      return reference(src);
    if (!sws_ || src.width != src_w_ || src.height != src_h_ || src.format != src_fmt_)
      if (!configure(src))
        return nullptr;
    frame f = blank();
    if (!f)
      return nullptr;
    std::uint8_t* dst[4] = {
        f->data[0] + static_cast<std::ptrdiff_t>(off_y_) * f->linesize[0] + off_x_,
        f->data[1] + static_cast<std::ptrdiff_t>(off_y_ / 2) * f->linesize[1] + off_x_ / 2,
        f->data[2] + static_cast<std::ptrdiff_t>(off_y_ / 2) * f->linesize[2] + off_x_ / 2, nullptr};
    sws_scale(sws_.get(), src.data, src.linesize, 0, src_h_, dst, f->linesize);
    f->pts = src.pts;
    return f;
  }

private:
  bool configure(const AVFrame& src) {
    src_w_ = src.width;
    src_h_ = src.height;
    src_fmt_ = src.format;
    const double s = std::min(static_cast<double>(rung_.width) / src_w_, static_cast<double>(rung_.height) / src_h_);
    fit_w_ = std::min(rung_.width, even(src_w_ * s + 1));
    fit_h_ = std::min(rung_.height, even(src_h_ * s + 1));
    off_x_ = (rung_.width - fit_w_) / 2 / 2 * 2;
    off_y_ = (rung_.height - fit_h_) / 2 / 2 * 2;
    sws_.reset(sws_getContext(src_w_, src_h_, static_cast<AVPixelFormat>(src_fmt_), fit_w_, fit_h_,
                              AV_PIX_FMT_YUV420P, SWS_BILINEAR, nullptr, nullptr, nullptr));
    return sws_ != nullptr;
  }

  // A picture of the rendition's frame with the bars around the fitted area black (Y 16, U and V
  // 128, limited range); the area itself is left for the scaler.
  frame blank() {
    if (!pool_) {
      const int size = av_image_get_buffer_size(AV_PIX_FMT_YUV420P, rung_.width, rung_.height, align);
      pool_.reset(size > 0 ? av_buffer_pool_init(static_cast<std::size_t>(size), nullptr) : nullptr);
      if (!pool_)
        return nullptr;
    }
    frame f{av_frame_alloc()};
    if (!f || !(f->buf[0] = av_buffer_pool_get(pool_.get())))
      return nullptr;
    f->format = AV_PIX_FMT_YUV420P;
    f->width = rung_.width;
    f->height = rung_.height;
    if (av_image_fill_arrays(f->data, f->linesize, f->buf[0]->data, AV_PIX_FMT_YUV420P, rung_.width, rung_.height,
                             align) < 0)
      return nullptr;
    if (fit_w_ == rung_.width && fit_h_ == rung_.height)
      return f; // no bars
    for (int p = 0; p < 3; ++p) {
      const int shift = p == 0 ? 0 : 1;
      const int w = rung_.width >> shift, h = rung_.height >> shift;
      const int x0 = off_x_ >> shift, y0 = off_y_ >> shift, fw = fit_w_ >> shift, fh = fit_h_ >> shift;
      const std::uint8_t black = p == 0 ? 16 : 128;
      for (int y = 0; y < h; ++y) {
        std::uint8_t* row = f->data[p] + static_cast<std::ptrdiff_t>(y) * f->linesize[p];
        if (y < y0 || y >= y0 + fh) {
          std::fill_n(row, w, black);
        } else {
          std::fill_n(row, x0, black);
          std::fill(row + x0 + fw, row + w, black);
        }
      }
    }
    return f;
  }

  static constexpr int align = 64;
  const rung rung_;
  scaler sws_;
  buffer_pool pool_;
  int src_w_ = 0, src_h_ = 0, src_fmt_ = -1;
  int fit_w_ = 0, fit_h_ = 0, off_x_ = 0, off_y_ = 0;
};

// The rung whose picture a rung is scaled from: the nearest larger one of the same shape (360p
// from the 720p picture, not from the source again), else none (the source).
std::vector<std::optional<std::size_t>> scaling_inputs(const std::vector<rung>& ladder) {
  std::vector<std::optional<std::size_t>> in(ladder.size());
  for (std::size_t i = 0; i < ladder.size(); ++i)
    for (std::size_t j = 0; j < ladder.size(); ++j) {
      const auto& a = ladder[j];
      const auto& b = ladder[i];
      const bool same_shape = static_cast<std::int64_t>(a.width) * b.height == static_cast<std::int64_t>(b.width) * a.height;
      if (j != i && same_shape && a.width > b.width && (!in[i] || a.width < ladder[*in[i]].width))
        in[i] = j;
    }
  return in;
}

// One rendition's encoder: libx264 on its own thread, fed the rendition's pictures in order.
class video_worker {
public:
  video_worker(std::size_t index, rung r, double fps, const transcoder_options& opts, cmaf::stream& out,
               transcoder_stats& stats, std::string name)
      : index_(index), rung_(r), opts_(opts), out_(out), stats_(stats), name_(std::move(name)) {
    open_encoder(fps);
  }
  ~video_worker() { stop(false); }

  void start() {
    thread_ = std::thread([this] {
      const auto thread_name = "x264-" + std::to_string(rung_.height) + "p";
      pthread_setname_np(pthread_self(), thread_name.c_str());
      if (opts_.nice != 0)
        (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), opts_.nice); // this thread only (Linux)
      run();
    });
  }

  // Whether push would keep a picture now (live, an ordinary frame is shed while the queue is
  // full): the source's thread makes no picture that would be shed.
  [[nodiscard]] bool wants(bool key) {
    if (opts_.lossless || key)
      return true;
    std::lock_guard lock{mu_};
    return queue_.size() < opts_.max_queued_frames;
  }

  // Live, never blocks: past the bound a frame is shed (a forced key frame is kept, and an older
  // ordinary frame goes instead). Lossless, waits for room.
  void push(frame pic, bool key, std::int64_t wall_ms) {
    std::unique_lock lock{mu_};
    if (opts_.lossless)
      room_cv_.wait(lock, [this] { return stopping_ || queue_.size() < opts_.max_queued_frames; });
    if (stopping_)
      return;
    if (queue_.size() >= opts_.max_queued_frames) {
      if (!key) {
        stats_.frames_dropped.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      auto victim = std::find_if(queue_.begin(), queue_.end(), [](const job& j) { return !j.key; });
      if (victim != queue_.end()) {
        queue_.erase(victim);
        stats_.frames_dropped.fetch_add(1, std::memory_order_relaxed);
      }
    }
    queue_.push_back(job{std::move(pic), key, wall_ms});
    cv_.notify_one();
  }

  // drain: what is queued is encoded and the encoder flushed into the packager first.
  void stop(bool drain) {
    {
      std::lock_guard lock{mu_};
      stopping_ = true;
      draining_ = drain;
      if (!drain)
        queue_.clear();
    }
    cv_.notify_one();
    room_cv_.notify_all();
    if (thread_.joinable())
      thread_.join();
  }

  [[nodiscard]] const cmaf::track_config& config() const { return config_; }

private:
  struct job {
    frame pic;
    bool key = false;
    std::int64_t wall_ms = 0;
  };

  void open_encoder(double fps) {
    const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
    if (!codec)
      throw std::runtime_error("libavcodec has no libx264 encoder");
    enc_.reset(avcodec_alloc_context3(codec));
    auto* c = enc_.get();
    c->width = rung_.width;
    c->height = rung_.height;
    c->pix_fmt = AV_PIX_FMT_YUV420P;
    c->time_base = AVRational{1, 1000};
    const int rate = std::max(1, static_cast<int>(std::lround(fps)));
    c->framerate = AVRational{rate, 1};
    c->bit_rate = static_cast<std::int64_t>(rung_.bitrate_kbps) * 1000;
    c->rc_max_rate = c->bit_rate;
    c->rc_buffer_size = static_cast<int>(c->bit_rate); // one second of VBV
    c->gop_size = rate * 20; // key frames are forced from the source clock; this is only a ceiling
    c->max_b_frames = 0;
    c->thread_count = 1; // each rendition has its own thread
    c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    c->sample_aspect_ratio = AVRational{1, 1};
    av_opt_set(c->priv_data, "preset", opts_.preset.c_str(), 0);
    av_opt_set(c->priv_data, "tune", "zerolatency", 0);
    av_opt_set_int(c->priv_data, "forced-idr", 1, 0);
    av_opt_set(c->priv_data, "x264-params", "scenecut=0:rc-lookahead=0:sync-lookahead=0:bframes=0", 0);
    if (const int rc = avcodec_open2(c, codec, nullptr); rc < 0)
      throw std::runtime_error("libx264 " + std::to_string(rung_.width) + "x" + std::to_string(rung_.height) +
                               ": " + error_text(rc));
    auto avcc = cmaf::avcc_from_annexb({c->extradata, static_cast<std::size_t>(c->extradata_size)});
    if (!avcc)
      throw std::runtime_error("libx264 gave no SPS/PPS");
    config_.kind = cmaf::track_kind::video;
    config_.timescale = 90'000;
    config_.width = rung_.width;
    config_.height = rung_.height;
    config_.avcc = std::move(*avcc);
    config_.bitrate_kbps = rung_.bitrate_kbps;
    out_.set_config(index_, config_);
    pkt_.reset(av_packet_alloc());
  }

  void run() {
    for (;;) {
      job j;
      {
        std::unique_lock lock{mu_};
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty() || (stopping_ && !draining_)) {
          if (stopping_)
            break;
          continue;
        }
        j = std::move(queue_.front());
        queue_.pop_front();
      }
      room_cv_.notify_one();
      encode(j);
    }
    if (draining_)
      flush();
  }

  void encode(const job& j) {
    if (j.pic->pts <= last_pts_) // an encoder takes increasing timestamps only
      return;
    last_pts_ = j.pic->pts;
    j.pic->pict_type = j.key ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    if (const int rc = avcodec_send_frame(enc_.get(), j.pic.get()); rc < 0) {
      spdlog::warn("cmaf {} rendition {}: encode failed: {}", name_, rung_.height, error_text(rc));
      return;
    }
    receive(j.wall_ms);
  }

  void receive(std::int64_t wall_ms) {
    while (avcodec_receive_packet(enc_.get(), pkt_.get()) == 0) {
      cmaf::stream::input in;
      in.dts = pkt_->dts * 90;
      in.cto = static_cast<std::int32_t>((pkt_->pts - pkt_->dts) * 90);
      in.key = (pkt_->flags & AV_PKT_FLAG_KEY) != 0;
      in.data = std::make_shared<const std::vector<std::uint8_t>>(
          cmaf::annexb_to_avcc({pkt_->data, static_cast<std::size_t>(pkt_->size)}));
      av_packet_unref(pkt_.get());
      out_.push(index_, std::move(in), wall_ms);
      stats_.frames_out.fetch_add(1, std::memory_order_relaxed);
      stats_.lag_ms.store(cmaf::wall_clock_ms() - wall_ms, std::memory_order_relaxed);
    }
  }

  void flush() {
    if (avcodec_send_frame(enc_.get(), nullptr) == 0)
      receive(cmaf::wall_clock_ms());
  }

  const std::size_t index_;
  const rung rung_;
  const transcoder_options& opts_;
  cmaf::stream& out_;
  transcoder_stats& stats_;
  const std::string name_;
  cmaf::track_config config_;
  codec_context enc_;
  packet pkt_;
  std::int64_t last_pts_ = INT64_MIN;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable room_cv_; // lossless: the queue has room again
  std::deque<job> queue_;
  bool stopping_ = false;
  bool draining_ = false;
  std::thread thread_;
};

} // namespace

std::vector<rung> renditions_for(const std::vector<rung>& ladder, int width, int height) {
  std::vector<rung> out;
  const int source_side = std::max(width, height);
  for (const auto& r : ladder)
    if (std::max(r.width, r.height) <= source_side)
      out.push_back(r);
  if (out.empty() && !ladder.empty())
    out.push_back(*std::min_element(ladder.begin(), ladder.end(), [](const rung& a, const rung& b) {
      return std::max(a.width, a.height) < std::max(b.width, b.height);
    }));
  return out;
}

struct transcoder::impl {
  transcoder_options opts;
  callbacks cb;
  std::string name;
  transcoder_stats stats;

  mutable std::mutex out_mu;
  std::shared_ptr<cmaf::stream> out;
  std::vector<std::unique_ptr<video_worker>> workers;
  // Each rendition's pictures are made on this thread (the decoded picture is still in this
  // core's cache), then handed to its encoder's thread.
  std::vector<fitter> fitters;
  std::vector<std::optional<std::size_t>> inputs; // see scaling_inputs
  std::vector<frame> pictures;
  std::vector<char> wanted;
  std::optional<std::size_t> audio_index;

  fanout::message_ptr video_config, audio_config;
  codec_context video_dec;
  bool video_dec_failed = false;
  frame decoded{av_frame_alloc()};
  packet pkt{av_packet_alloc()};
  int decode_errors = 0;
  std::set<std::string> errors_told;
  std::int64_t origin_ms = 0;
  std::int64_t next_key_ms = 0;

  // Audio out: its track is fixed for the stream's life; the source's is copied while it is the
  // same AAC, transcoded otherwise.
  cmaf::track_config audio_out;
  bool audio_copy = false;
  sample_clock audio_clock; // the output's, in samples: continuous across the copy and the encoder
  codec_context audio_dec;
  std::unique_ptr<aac_encoder> audio_enc;
  bool audio_failed = false;
  bool audio_setup_pending = false; // the output's rate and channels wait for a decoded frame
  // A stream with audio and no video: said once its audio has run this long without a picture.
  static constexpr std::int64_t audio_only_after_ms = 5000;
  bool video_seen = false, audio_only_told = false;
  std::int64_t first_audio_ms = INT64_MIN;

  // The output's tracks are fixed for the stream's life when its first picture is decoded, so
  // the start waits for the audio's configuration: MP3 is known by its first frame, which some
  // encoders (GStreamer's flvmux) send after the first video. Until then, or until the samples
  // held span audio_wait_ms (a stream without audio), they are held, shared, not copied; at most
  // max_held of them, whatever their timestamps say (a publisher whose clock stands still).
  static constexpr std::int64_t audio_wait_ms = 1000;
  static constexpr std::size_t max_held = 1024;
  std::vector<fanout::message_ptr> held;
  bool audio_waited = false;

  void sample(const fanout::message_ptr& m) {
    if (!audio_waited) {
      held.push_back(m);
      if (!audio_config && held.back()->dts_ms - held.front()->dts_ms < audio_wait_ms && held.size() < max_held)
        return;
      release_held();
      return;
    }
    dispatch(*m);
  }

  void release_held() {
    audio_waited = true;
    const auto h = std::move(held);
    held.clear();
    for (const auto& m : h)
      dispatch(*m);
  }

  void dispatch(const fanout::message& m) {
    if (m.kind == frame_kind::video)
      video(m);
    else if (m.kind == frame_kind::audio)
      audio(m);
  }

  void error_once(const std::string& code, const std::string& message, bool video) {
    spdlog::warn("cmaf {} {}: {}", name, code, message);
    if (errors_told.insert(code + (video ? " video" : " audio")).second && cb.on_error)
      cb.on_error(transcode_error{code, message, video});
  }
  void video_error(const std::string& code, const std::string& message) { error_once(code, message, true); }
  void audio_error(const std::string& code, const std::string& message) { error_once(code, message, false); }

  void config(const fanout::stream_info& info) {
    if (info.video_config && !same_config(info.video_config, video_config)) {
      if (video_dec)
        drain_video();
      video_config = info.video_config;
      video_dec.reset();
      video_dec_failed = false;
    }
    if (info.audio_config && !same_config(info.audio_config, audio_config)) {
      audio_config = info.audio_config;
      audio_dec.reset();
      if (out)
        choose_audio_path();
    }
  }

  // The renditions' pictures of one source picture, each made once and only when an encoder
  // (its own, or a smaller rendition's scaled from it) takes it, then handed over.
  void fit_and_push(const AVFrame& source, bool key) {
    constexpr char own = 1, input = 2;
    const auto n = workers.size();
    const auto wall = cmaf::wall_clock_ms();
    pictures.resize(n);
    wanted.assign(n, 0);
    for (std::size_t i = 0; i < n; ++i)
      if (workers[i]->wants(key))
        wanted[i] = own;
      else
        stats.frames_dropped.fetch_add(1, std::memory_order_relaxed);
    for (std::size_t i = n; i-- > 0;)
      if (wanted[i] && inputs[i])
        wanted[*inputs[i]] |= input;
    for (std::size_t i = 0; i < n; ++i) {
      if (!wanted[i])
        continue;
      const AVFrame* from = inputs[i] && pictures[*inputs[i]] ? pictures[*inputs[i]].get() : &source;
      pictures[i] = fitters[i].fit(*from);
      if (!pictures[i])
        spdlog::warn("cmaf {}: cannot scale a {}x{} picture into rendition {}", name, from->width, from->height, i);
    }
    for (std::size_t i = 0; i < n; ++i)
      if (pictures[i] && (wanted[i] & own))
        workers[i]->push(std::move(pictures[i]), key, wall);
    for (auto& p : pictures)
      p.reset();
  }

  void drain_video() {
    if (avcodec_send_packet(video_dec.get(), nullptr) == 0)
      receive_video();
  }

  void video(const fanout::message& m) {
    video_seen = true;
    if (video_dec_failed)
      return;
    if (!video_config) {
      // Codecs with a sequence header wait for it; one onair cannot decode at all is said at once.
      if (codec_id_of(m.codec) == AV_CODEC_ID_NONE) {
        video_dec_failed = true;
        video_error("TRANSCODE_UNSUPPORTED_INPUT",
                   "video: " + std::string{to_string(m.codec)} + " cannot be decoded for the CMAF ladder");
      }
      return;
    }
    if (!video_dec) {
      std::string why;
      video_dec = open_decoder(*video_config, why);
      if (!video_dec) {
        video_dec_failed = true;
        return video_error("TRANSCODE_UNSUPPORTED_INPUT", "video: " + why);
      }
    }
    fill_packet(*pkt, m, m.dts_ms, m.pts_ms(), 0);
    const int rc = avcodec_send_packet(video_dec.get(), pkt.get());
    av_packet_unref(pkt.get());
    if (rc < 0 && rc != AVERROR(EAGAIN)) {
      if (++decode_errors == 50)
        video_error("TRANSCODE_UNDECODABLE_INPUT", "video frames cannot be decoded: " + error_text(rc));
      return;
    }
    receive_video();
  }

  void receive_video() {
    while (avcodec_receive_frame(video_dec.get(), decoded.get()) == 0) {
      decode_errors = 0;
      stats.frames_in.fetch_add(1, std::memory_order_relaxed);
      decoded->pts = decoded->best_effort_timestamp;
      if (!out && !start(*decoded)) {
        av_frame_unref(decoded.get());
        return;
      }
      const std::int64_t pts = decoded->pts;
      bool key = false;
      if (pts >= next_key_ms) {
        key = true;
        const auto interval = opts.key_interval_ms;
        next_key_ms = origin_ms + ((pts - origin_ms) / interval + 1) * interval;
      }
      fit_and_push(*decoded, key);
      av_frame_unref(decoded.get());
    }
  }

  // The first picture: the renditions it gets, the packager, the encoders.
  bool start(const AVFrame& first) {
    const auto ladder = renditions_for(opts.ladder, first.width, first.height);
    double fps = 30;
    if (video_dec->framerate.num > 0 && video_dec->framerate.den > 0)
      fps = av_q2d(video_dec->framerate);
    if (fps < 1 || fps > 120)
      fps = 30;
    std::vector<cmaf::rendition_desc> descs;
    for (std::size_t i = 0; i < ladder.size(); ++i)
      descs.push_back({"v" + std::to_string(i), cmaf::track_kind::video, ladder[i].bitrate_kbps * 1000, fps});
    if (audio_config)
      descs.push_back({"a", cmaf::track_kind::audio, opts.audio_bitrate_kbps * 1000, 0});
    // A part holds whole frames: a source slower than the part target (a slideshow at 2 fps) has
    // parts of one frame, and its PART-TARGET, fixed for the stream's life, says how long they are.
    auto packaging = opts.packaging;
    packaging.part_target_ms = std::max(packaging.part_target_ms, static_cast<std::int64_t>(std::ceil(1000.0 / fps)));
    auto s = std::make_shared<cmaf::stream>(packaging, descs);
    origin_ms = first.pts;
    next_key_ms = origin_ms;
    s->set_origin(origin_ms, cmaf::wall_clock_ms());
    try {
      for (std::size_t i = 0; i < ladder.size(); ++i) {
        workers.push_back(std::make_unique<video_worker>(i, ladder[i], fps, opts, *s, stats, name));
        fitters.emplace_back(ladder[i]);
      }
      inputs = scaling_inputs(ladder);
    } catch (const std::exception& e) {
      workers.clear();
      video_error("TRANSCODE_ENCODER", e.what());
      video_dec_failed = true;
      return false;
    }
    {
      std::lock_guard lock{out_mu};
      out = s;
    }
    if (audio_config) {
      audio_index = ladder.size();
      choose_audio_path();
    }
    for (auto& w : workers)
      w->start();
    spdlog::info("cmaf {} transcoding {}x{} at {:.2f} fps into {} renditions{}", name, first.width, first.height, fps,
                 ladder.size(), audio_index ? " and audio" : "");
    if (cb.on_stream)
      cb.on_stream(s);
    return true;
  }

  // Copy while the source is the AAC the output was set up with; else decode and encode.
  void choose_audio_path() {
    if (!audio_index)
      return;
    audio_failed = false;
    const bool first = audio_out.asc.empty();
    if (audio_config->codec == codec::aac) {
      auto p = describe_audio(*audio_config);
      if (p && (first || (p->config == audio_out.asc))) {
        if (first) {
          audio_out.kind = cmaf::track_kind::audio;
          audio_out.sample_rate = p->sample_rate;
          audio_out.channels = p->channels;
          audio_out.timescale = static_cast<std::uint32_t>(p->sample_rate);
          audio_clock.rate = p->sample_rate;
          audio_out.asc = p->config;
          audio_out.bitrate_kbps = opts.audio_bitrate_kbps;
          out->set_config(*audio_index, audio_out);
        }
        audio_copy = true;
        return;
      }
    }
    audio_copy = false;
    std::string why;
    audio_dec = open_decoder(*audio_config, why);
    if (!audio_dec) {
      audio_failed = true;
      return audio_error("TRANSCODE_UNSUPPORTED_INPUT", "audio: " + why);
    }
    // The output takes the source's rate and channels. A codec configured by its frames (MP3)
    // tells them once a frame is decoded: live, the frame standing for its configuration; from a
    // recording, whose track has no such frame, the first sample (see audio()).
    audio_setup_pending = first;
    if (first && !format_known(*audio_dec)) {
      if (audio_config->sequence_header)
        return;
      probe_audio(*audio_config);
    }
    finish_audio_setup();
  }

  static bool format_known(const AVCodecContext& c) { return c.sample_rate > 0 && c.ch_layout.nb_channels > 0; }

  void finish_audio_setup() {
    if (audio_setup_pending) {
      audio_setup_pending = false;
      const auto format = aac_format_for(audio_dec->sample_rate, audio_dec->ch_layout.nb_channels);
      audio_out.kind = cmaf::track_kind::audio;
      audio_out.sample_rate = format.sample_rate;
      audio_out.channels = format.channels;
      audio_out.timescale = static_cast<std::uint32_t>(audio_out.sample_rate);
      audio_clock.rate = audio_out.sample_rate;
      audio_out.bitrate_kbps = opts.audio_bitrate_kbps;
      if (!audio_enc && !open_audio_encoder())
        return;
      out->set_config(*audio_index, audio_out);
      return;
    }
    if (!audio_enc)
      (void)open_audio_encoder();
  }

  // Decodes one frame to learn the source's rate and channels, then resets the decoder, which
  // decodes that frame again in its turn. With a packet and frame of its own: the first video
  // picture may be in `decoded` (start() comes here).
  void probe_audio(const fanout::message& first) {
    packet p{av_packet_alloc()};
    frame f{av_frame_alloc()};
    if (!p || !f)
      throw std::bad_alloc{};
    fill_packet(*p, first, first.dts_ms, first.pts_ms(), 0);
    if (avcodec_send_packet(audio_dec.get(), p.get()) == 0)
      (void)avcodec_receive_frame(audio_dec.get(), f.get());
    avcodec_flush_buffers(audio_dec.get());
  }

  // At the output's rate and channels, which an earlier source may have set (an AAC copy).
  bool open_audio_encoder() {
    std::string why;
    audio_enc = aac_encoder::open({audio_out.sample_rate, audio_out.channels}, opts.audio_bitrate_kbps, why);
    if (!audio_enc) {
      audio_failed = true;
      audio_error("TRANSCODE_ENCODER", why);
      return false;
    }
    if (audio_out.asc.empty())
      audio_out.asc = audio_enc->asc();
    return true;
  }

  void audio(const fanout::message& m) {
    // As for video: a codec with a sequence header waits for it; one onair cannot decode at all
    // (one it cannot name) is said at once, and the output goes on without sound.
    if (!audio_config && !audio_failed && codec_id_of(m.codec) == AV_CODEC_ID_NONE) {
      audio_failed = true;
      audio_error("TRANSCODE_UNSUPPORTED_INPUT", "audio: the stream's audio codec (the key's ingest.audioCodec) cannot "
                                                "be decoded for the CMAF output, which goes on without sound: "
                                                "publish AAC or MP3");
    }
    if (!video_seen && !audio_only_told) {
      if (first_audio_ms == INT64_MIN)
        first_audio_ms = m.pts_ms();
      if (m.pts_ms() - first_audio_ms >= audio_only_after_ms) {
        audio_only_told = true;
        video_error("TRANSCODE_NO_VIDEO", "the stream has audio but no video, and the CMAF ladder is made of video: "
                                         "publish with a video track (RTMP playback goes on)");
      }
    }
    if (!out || !audio_index || audio_failed || m.pts_ms() < origin_ms)
      return;
    if (audio_copy) {
      const auto data = m.data();
      if (data.empty())
        return;
      cmaf::stream::input in;
      in.dts = audio_clock.take(m.pts_ms(), 1024);
      in.key = true;
      in.data = std::make_shared<const std::vector<std::uint8_t>>(data.begin(), data.end());
      out->push(*audio_index, std::move(in), cmaf::wall_clock_ms());
      return;
    }
    if (audio_setup_pending && audio_dec) {
      probe_audio(m);
      finish_audio_setup();
    }
    if (!audio_dec || !audio_enc)
      return;
    fill_packet(*pkt, m, m.dts_ms, m.pts_ms(), 0);
    const int rc = avcodec_send_packet(audio_dec.get(), pkt.get());
    av_packet_unref(pkt.get());
    if (rc < 0)
      return;
    std::string why;
    while (avcodec_receive_frame(audio_dec.get(), decoded.get()) == 0) {
      const bool added = audio_enc->add(*decoded, m.pts_ms(), audio_clock, why);
      av_frame_unref(decoded.get());
      if (!added) {
        audio_failed = true;
        return audio_error("TRANSCODE_UNSUPPORTED_INPUT", "audio: " + why);
      }
    }
    encode_audio(false);
  }

  void encode_audio(bool flush) {
    audio_enc->encode(flush, audio_clock, [&](std::span<const std::uint8_t> data, std::int64_t pts) {
      cmaf::stream::input in;
      in.dts = pts; // AAC: every frame is a sync sample, decode order is presentation order
      in.key = true;
      in.data = std::make_shared<const std::vector<std::uint8_t>>(data.begin(), data.end());
      out->push(*audio_index, std::move(in), cmaf::wall_clock_ms());
    });
  }

  void finish(bool drain) {
    if (drain)
      release_held();
    if (video_dec && drain)
      drain_video();
    for (auto& w : workers)
      w->stop(drain);
    if (drain && audio_enc && !audio_copy && out && audio_index)
      encode_audio(true);
    if (out)
      out->end();
    workers.clear();
    fitters.clear();
    pictures.clear();
  }
};

transcoder::transcoder(transcoder_options opts, callbacks cb, std::string name) : impl_(std::make_unique<impl>()) {
  (void)choose_scaler_kernels(); // once per process, before this transcode's first scaler
  impl_->opts = std::move(opts);
  impl_->cb = std::move(cb);
  impl_->name = std::move(name);
}

transcoder::~transcoder() { impl_->finish(false); }

void transcoder::on_opened(const fanout::stream_info& info) { impl_->config(info); }
void transcoder::on_config_changed(const fanout::stream_info& info) { impl_->config(info); }

void transcoder::on_sample(const fanout::message_ptr& m) { impl_->sample(m); }

void transcoder::on_publisher_back() {
  if (auto s = output())
    s->new_period();
}

void transcoder::on_closed() { impl_->finish(true); }

void transcoder::on_failed(std::string_view why) {
  spdlog::warn("cmaf {} stopped: {}", impl_->name, why);
  impl_->finish(false);
}

const transcoder_stats& transcoder::stats() const { return impl_->stats; }

std::shared_ptr<cmaf::stream> transcoder::output() const {
  std::lock_guard lock{impl_->out_mu};
  return impl_->out;
}

} // namespace onair::media::ffmpeg
