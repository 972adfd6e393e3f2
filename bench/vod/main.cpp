// One VOD made from a recording with onair's archiver code (media::vod::make_archive), outside
// the server: what bench/vod/run repeats, alternating with the ffmpeg CLI, to compare the two in
// the same minutes (this machine's speed drifts by a fifth within a quarter of an hour).
//
//   bench_vod_archive --out DIR [--preset veryfast] [--portrait] PART...
//
// Prints one line: `archive wall_s=… cpu_s=… duration_ms=… bytes=…`, the CPU being the whole
// process's (utime+stime, every thread, the ones that ended included). The encoders run at nice 10
// as in the server; on an idle machine that changes nothing.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "media/vod/archive.hpp"

namespace {

double cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  const auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

int usage() {
  std::fprintf(stderr, "usage: bench_vod_archive --out DIR [--preset P] [--portrait] PART...\n");
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  onair::media::vod::archive_spec spec;
  spec.ladder = {{1280, 720, 2800}, {640, 360, 800}};
  spec.name = "bench";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--out" && i + 1 < argc)
      spec.out = argv[++i];
    else if (a == "--preset" && i + 1 < argc)
      spec.preset = argv[++i];
    else if (a == "--portrait")
      spec.ladder = {{720, 1280, 2800}, {360, 640, 800}};
    else if (!a.empty() && a[0] == '-')
      return usage();
    else
      spec.parts.emplace_back(a);
  }
  if (spec.out.empty() || spec.parts.empty())
    return usage();
  spdlog::set_level(spdlog::level::warn);
  const double cpu0 = cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  const auto out = onair::media::vod::make_archive(spec);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  if (!out.result) {
    std::fprintf(stderr, "archive failed: %s: %s\n", out.failure.code.c_str(), out.failure.message.c_str());
    return 1;
  }
  std::printf("archive wall_s=%.3f cpu_s=%.2f duration_ms=%lld bytes=%llu\n", wall, cpu,
              static_cast<long long>(out.result->duration_ms), static_cast<unsigned long long>(out.result->bytes));
  return 0;
}
