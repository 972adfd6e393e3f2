#include "media/net/cores.hpp"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

namespace onair::net {

namespace {

std::optional<std::uint64_t> parse_number(std::string_view s) {
  std::uint64_t n = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc{} || ptr != s.data() + s.size())
    return std::nullopt;
  return n;
}

std::string_view trim_end(std::string_view t) {
  while (!t.empty() && (t.back() == '\n' || t.back() == ' '))
    t.remove_suffix(1);
  return t;
}

std::optional<std::string> read_file(const std::filesystem::path& p) {
  std::ifstream in{p};
  if (!in)
    return std::nullopt;
  return std::string{std::istreambuf_iterator<char>{in}, {}};
}

unsigned affinity_count() {
  // A cpu_set_t holds 1024 CPUs; a larger machine needs a bigger mask (EINVAL until it fits).
  for (int cpus = 1024; cpus <= (1 << 16); cpus *= 2) {
    cpu_set_t* set = CPU_ALLOC(cpus);
    if (!set)
      return 0;
    const std::size_t size = CPU_ALLOC_SIZE(cpus);
    CPU_ZERO_S(size, set);
    const int rc = sched_getaffinity(0, size, set);
    const int n = rc == 0 ? CPU_COUNT_S(size, set) : 0;
    CPU_FREE(set);
    if (rc == 0)
      return static_cast<unsigned>(n);
    if (errno != EINVAL)
      return 0;
  }
  return 0;
}

} // namespace

std::optional<double> parse_cpu_max(std::string_view text) {
  // The same two numbers as v1's two files, on one line: "QUOTA PERIOD", or "max PERIOD".
  const auto space = text.find(' ');
  if (space == std::string_view::npos)
    return std::nullopt;
  return parse_cfs_quota(text.substr(0, space), text.substr(space + 1));
}

std::optional<double> parse_cfs_quota(std::string_view quota_us, std::string_view period_us) {
  // "max" (v2) and -1 (v1), no limit, are refused by parse_number.
  const auto quota = parse_number(trim_end(quota_us));
  const auto period = parse_number(trim_end(period_us));
  if (!quota || !period || *period == 0 || *quota == 0)
    return std::nullopt;
  return static_cast<double>(*quota) / static_cast<double>(*period);
}

std::optional<double> cgroup_quota(std::string_view proc_self_cgroup, const std::filesystem::path& root) {
  std::optional<std::string_view> v2_path, v1_path;
  while (!proc_self_cgroup.empty()) {
    const auto eol = proc_self_cgroup.find('\n');
    const auto line = proc_self_cgroup.substr(0, eol);
    // "ID:CONTROLLERS:PATH"; cgroup v2's line is "0::PATH", v1's cpu controller is "N:cpu,cpuacct:PATH".
    const auto c1 = line.find(':');
    const auto c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    if (c2 != std::string_view::npos) {
      const auto controllers = line.substr(c1 + 1, c2 - c1 - 1);
      const auto path = line.substr(c2 + 1);
      if (line.substr(0, c1) == "0" && controllers.empty())
        v2_path = path;
      for (std::size_t b = 0; b <= controllers.size();) {
        const auto comma = std::min(controllers.find(',', b), controllers.size());
        if (controllers.substr(b, comma - b) == "cpu")
          v1_path = path;
        b = comma + 1;
      }
    }
    if (eol == std::string_view::npos)
      break;
    proc_self_cgroup.remove_prefix(eol + 1);
  }
  // Down from the hierarchy's root to the process's own cgroup: each level's limit binds those below
  // it. Folders missing on the way (a container that sees its own cgroup as the root) are skipped.
  std::optional<double> lowest;
  const auto walk = [&](std::filesystem::path dir, std::string_view path, auto&& read_limit) {
    const auto take = [&](const std::filesystem::path& d) {
      if (const auto q = read_limit(d); q && (!lowest || *q < *lowest))
        lowest = q;
    };
    take(dir);
    for (const auto& part : std::filesystem::path{path}.relative_path()) {
      if (part.empty() || part == "." || part == "..")
        continue;
      dir /= part;
      take(dir);
    }
  };
  if (v2_path)
    walk(root, *v2_path, [](const std::filesystem::path& d) -> std::optional<double> {
      const auto text = read_file(d / "cpu.max");
      return text ? parse_cpu_max(*text) : std::nullopt;
    });
  if (v1_path)
    walk(root / "cpu", *v1_path, [](const std::filesystem::path& d) -> std::optional<double> {
      const auto quota = read_file(d / "cpu.cfs_quota_us");
      const auto period = read_file(d / "cpu.cfs_period_us");
      return quota && period ? parse_cfs_quota(*quota, *period) : std::nullopt;
    });
  return lowest;
}

core_budget usable_cores() {
  core_budget b;
  b.online = std::max(1u, std::thread::hardware_concurrency());
  const unsigned affinity = affinity_count();
  b.affinity = affinity ? affinity : b.online;
  if (const auto self = read_file("/proc/self/cgroup"))
    b.quota = cgroup_quota(*self, "/sys/fs/cgroup");
  b.usable = b.affinity;
  if (b.quota)
    b.usable = std::min(b.usable, static_cast<unsigned>(std::max(1.0, std::ceil(*b.quota))));
  return b;
}

} // namespace onair::net
