#include "media/ffmpeg/scaler_kernels.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>

#include <spdlog/spdlog.h>

#include "media/ffmpeg/av.hpp"

extern "C" {
#include <libavutil/cpu.h>
}

namespace onair::media::ffmpeg {
namespace {

constexpr int src_w = 1280, src_h = 720, dst_w = 640, dst_h = 360;
constexpr int rounds = 7;

frame picture(int w, int h) {
  frame f{av_frame_alloc()};
  if (!f)
    return f;
  f->width = w;
  f->height = h;
  f->format = AV_PIX_FMT_YUV420P;
  if (av_frame_get_buffer(f.get(), 0) < 0)
    return {};
  return f;
}

scaler bilinear() {
  return scaler{sws_getContext(src_w, src_h, AV_PIX_FMT_YUV420P, dst_w, dst_h, AV_PIX_FMT_YUV420P, SWS_BILINEAR,
                               nullptr, nullptr, nullptr)};
}

double scale_ms(SwsContext* s, const AVFrame& in, AVFrame& out) {
  const auto t0 = std::chrono::steady_clock::now();
  sws_scale(s, in.data, in.linesize, 0, src_h, out.data, out.linesize);
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

scaler_kernel_choice measure() {
  scaler_kernel_choice c;
  const int flags = av_get_cpu_flags();
  if (!(flags & AV_CPU_FLAG_AVX2) || (flags & AV_CPU_FLAG_SLOW_GATHER))
    return c;
  auto in = picture(src_w, src_h);
  auto out = picture(dst_w, dst_h);
  auto out_without = picture(dst_w, dst_h);
  auto with = bilinear(); // made under FFmpeg's own flags: the AVX2 kernel
  av_force_cpu_flags(flags | AV_CPU_FLAG_SLOW_GATHER);
  auto without = bilinear();
  av_force_cpu_flags(-1);
  if (!in || !out || !out_without || !with || !without)
    return c;
  // A picture with detail in it (a flat one could take a shortcut no real picture takes).
  for (int p = 0; p < 3; ++p) {
    const int w = p ? src_w / 2 : src_w, h = p ? src_h / 2 : src_h;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        in->data[p][y * in->linesize[p] + x] = static_cast<std::uint8_t>(x * 7 + y * 13 + p * 61);
  }
  double best_with = std::numeric_limits<double>::max(), best_without = best_with;
  (void)scale_ms(with.get(), *in, *out); // each context's first call sets up its buffers
  (void)scale_ms(without.get(), *in, *out_without);
  c.same_pictures = true;
  for (int p = 0; p < 3; ++p) {
    const int w = p ? dst_w / 2 : dst_w, h = p ? dst_h / 2 : dst_h;
    for (int y = 0; y < h; ++y)
      if (std::memcmp(out->data[p] + y * out->linesize[p], out_without->data[p] + y * out_without->linesize[p],
                      static_cast<std::size_t>(w)) != 0)
        c.same_pictures = false;
  }
  for (int i = 0; i < rounds; ++i) { // alternating, so a slower moment of the machine hits both
    best_with = std::min(best_with, scale_ms(with.get(), *in, *out));
    best_without = std::min(best_without, scale_ms(without.get(), *in, *out));
  }
  c.measured = true;
  c.with_gathers_ms = best_with;
  c.without_gathers_ms = best_without;
  // A tie, or a kernel that would change the pictures, leaves FFmpeg's own choice.
  c.gathers = !(c.same_pictures && best_without < best_with * clearly_faster);
  if (!c.gathers)
    av_force_cpu_flags(flags | AV_CPU_FLAG_SLOW_GATHER);
  return c;
}

} // namespace

const scaler_kernel_choice& choose_scaler_kernels() {
  static const scaler_kernel_choice choice = [] {
    auto c = measure();
    if (c.measured)
      spdlog::info("libswscale kernels: {}", describe(c));
    return c;
  }();
  return choice;
}

std::string describe(const scaler_kernel_choice& c) {
  if (!c.measured)
    return "FFmpeg's own choice (no AVX2, or gathers already avoided)";
  char line[160];
  std::snprintf(line, sizeof line, "AVX2 gathers %.3f ms, without %.3f ms a 720p to 360p picture%s: %s",
                c.with_gathers_ms, c.without_gathers_ms, c.same_pictures ? "" : " (their pictures differ)",
                c.gathers ? "with gathers" : "without gathers");
  return line;
}

} // namespace onair::media::ffmpeg
