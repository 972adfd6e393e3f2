#pragma once
// How many cores this process may use, which sizes its event loops and actor workers: the CPUs of
// its affinity mask (taskset, a cpuset), lowered to its cgroup's CPU quota where one is set
// (cgroup v2 cpu.max or v1 cpu.cfs_quota_us: a container's --cpus, a Kubernetes CPU limit). std::thread::hardware_concurrency()
// counts every CPU online in the machine, so a server given 2 of 64 cores would start 64 loops
// that then wait on each other for the 2.
#include <filesystem>
#include <optional>
#include <string_view>

namespace onair::net {

struct core_budget {
  unsigned online = 1;         // CPUs online in the machine
  unsigned affinity = 1;       // CPUs this thread may run on
  std::optional<double> quota; // cores' worth of CPU time the cgroup allows; none: no limit
  unsigned usable = 1;         // affinity, lowered to the quota rounded up; at least 1
};

// cgroup v2 cpu.max ("max 100000", "150000 100000") in cores; none for "max" or text it cannot read.
[[nodiscard]] std::optional<double> parse_cpu_max(std::string_view text);

// cgroup v1's cpu.cfs_quota_us and cpu.cfs_period_us in cores; none for -1 (no limit) or bad text.
[[nodiscard]] std::optional<double> parse_cfs_quota(std::string_view quota_us, std::string_view period_us);

// The lowest CPU quota on the way from this process's cgroup up to its hierarchy's root (a parent's
// limit binds its children too), or none. proc_self_cgroup: the text of /proc/self/cgroup, whose
// cgroup v2 line "0::/path" leads to ROOT/path/cpu.max, and whose v1 cpu controller line
// "N:cpu,cpuacct:/path" to ROOT/cpu/path/cpu.cfs_quota_us (a hybrid host has both).
// root: where the cgroup file systems are mounted (/sys/fs/cgroup).
[[nodiscard]] std::optional<double> cgroup_quota(std::string_view proc_self_cgroup, const std::filesystem::path& root);

// The budget from the calling thread's affinity and /sys/fs/cgroup, read now.
[[nodiscard]] core_budget usable_cores();

} // namespace onair::net
