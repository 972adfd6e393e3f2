#pragma once
// Which of libswscale's horizontal scaling kernels this machine runs faster, measured once per
// process. FFmpeg 5.1 picks its AVX2 kernel (vpgatherdd) on every AVX2 CPU it does not know to
// have slow gathers, and it knows only Haswell; on the AMD EPYC (Zen 5) that onair's benchmarks
// run on, that kernel is about a sixth slower than the SSSE3 one it replaces (bench/README.md,
// *VOD archiving*). So the two are timed on a 720p picture, and where the kernel without gathers
// is clearly faster and scales that picture to the same bytes, libavutil's AV_CPU_FLAG_SLOW_GATHER
// is set for the process: the flag FFmpeg itself sets for such CPUs, read when a scaler is made
// (and by libavutil's FFT, which then avoids gathers too).
#include <string>

namespace onair::media::ffmpeg {

struct scaler_kernel_choice {
  bool measured = false;          // false: not an AVX2 CPU, or FFmpeg already avoids gathers on it
  bool gathers = true;            // the AVX2 kernel kept
  bool same_pictures = false;     // both kernels scaled the test picture to the same bytes
  double with_gathers_ms = 0;     // the best of a few 1280x720 -> 640x360 bilinear scalings
  double without_gathers_ms = 0;
};

// The kernel without gathers is taken only when it needs less than this share of the other's time.
inline constexpr double clearly_faster = 0.93;

// Measures and decides on the first call (a few milliseconds), before the caller makes its
// scalers; later calls return the first one's choice.
const scaler_kernel_choice& choose_scaler_kernels();

// "AVX2 gathers 0.252 ms, without 0.216 ms a 720p to 360p picture: without gathers" and the like,
// for the log.
[[nodiscard]] std::string describe(const scaler_kernel_choice& c);

} // namespace onair::media::ffmpeg
