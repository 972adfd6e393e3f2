// net::usable_cores: the loops and workers are sized to the CPUs this process may run on (its
// affinity) and to its cgroup's CPU quota, not to every CPU online in the machine.
#include <boost/test/unit_test.hpp>

#include <pthread.h>
#include <sched.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "media/net/cores.hpp"

using onair::net::cgroup_quota;
using onair::net::parse_cpu_max;
using onair::net::usable_cores;
namespace fs = std::filesystem;

namespace {

// A cgroup2 tree in a temporary folder: write("a/b", "50000 100000") puts a cpu.max in a/b.
struct cgroup_tree {
  fs::path root = fs::temp_directory_path() / ("onair-cgroup-" + std::to_string(std::random_device{}()));
  cgroup_tree() { fs::create_directories(root); }
  ~cgroup_tree() { fs::remove_all(root); }
  void write(const std::string& dir, const std::string& cpu_max) const { put(dir, "cpu.max", cpu_max); }
  // cgroup v1: write_v1("docker/abc", "150000") puts cpu.cfs_quota_us (and a 100 ms period) in cpu/docker/abc.
  void write_v1(const std::string& dir, const std::string& quota_us) const {
    put("cpu/" + dir, "cpu.cfs_quota_us", quota_us);
    put("cpu/" + dir, "cpu.cfs_period_us", "100000");
  }
  void put(const std::string& dir, const std::string& file, const std::string& text) const {
    fs::create_directories(root / dir);
    std::ofstream{root / dir / file} << text << "\n";
  }
};

// Runs the test's body with the calling thread pinned to one CPU, then puts its mask back.
struct pinned_to_one_cpu {
  cpu_set_t before{};
  pinned_to_one_cpu() {
    BOOST_REQUIRE(pthread_getaffinity_np(pthread_self(), sizeof before, &before) == 0);
    int first = 0;
    while (!CPU_ISSET(first, &before))
      ++first;
    cpu_set_t one{};
    CPU_SET(first, &one);
    BOOST_REQUIRE(pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0);
  }
  ~pinned_to_one_cpu() { pthread_setaffinity_np(pthread_self(), sizeof before, &before); }
};

} // namespace

BOOST_AUTO_TEST_SUITE(cores)

BOOST_AUTO_TEST_CASE(cpu_max_reads_as_cores_and_max_as_no_limit) {
  BOOST_TEST(*parse_cpu_max("150000 100000\n") == 1.5);
  BOOST_TEST(*parse_cpu_max("50000 100000") == 0.5);
  BOOST_TEST(!parse_cpu_max("max 100000\n"));
  BOOST_TEST(!parse_cpu_max(""));
  BOOST_TEST(!parse_cpu_max("150000"));
  BOOST_TEST(!parse_cpu_max("1x 100000"));
  BOOST_TEST(!parse_cpu_max("100000 0"));
}

BOOST_AUTO_TEST_CASE(cfs_quota_reads_as_cores_and_minus_one_as_no_limit) {
  BOOST_TEST(*onair::net::parse_cfs_quota("150000\n", "100000\n") == 1.5);
  BOOST_TEST(!onair::net::parse_cfs_quota("-1\n", "100000\n"));
  BOOST_TEST(!onair::net::parse_cfs_quota("", "100000"));
  BOOST_TEST(!onair::net::parse_cfs_quota("150000", "0"));
}

BOOST_AUTO_TEST_CASE(given_quotas_up_the_tree_when_read_then_the_lowest_on_the_way_to_the_process_binds) {
  cgroup_tree t;
  t.write("", "max 100000");
  t.write("kubepods", "400000 100000");
  t.write("kubepods/pod1", "200000 100000");
  t.write("kubepods/pod1/app", "max 100000");
  t.write("kubepods/pod2", "50000 100000"); // a sibling's limit is not this process's
  const auto q = cgroup_quota("0::/kubepods/pod1/app\n", t.root);
  BOOST_REQUIRE(q);
  BOOST_TEST(*q == 2.0);
}

BOOST_AUTO_TEST_CASE(given_no_limit_or_no_cgroup_v2_line_when_read_then_there_is_no_quota) {
  cgroup_tree t;
  t.write("", "max 100000");
  t.write("system.slice", "max 100000");
  BOOST_TEST(!cgroup_quota("0::/system.slice/onair.service\n", t.root)); // that folder has no cpu.max
  BOOST_TEST(!cgroup_quota("4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n", t.root)); // no cpu/ at all
  BOOST_TEST(!cgroup_quota("", t.root));
  // A cgroup namespace (a container) shows its own cgroup as the root.
  t.write("", "150000 100000");
  BOOST_TEST(*cgroup_quota("0::/\n", t.root) == 1.5);
}

BOOST_AUTO_TEST_CASE(given_a_hybrid_host_when_read_then_the_v1_cpu_controllers_quota_counts) {
  cgroup_tree t;
  t.write_v1("", "-1");
  t.write_v1("docker", "-1");
  t.write_v1("docker/abc", "150000");
  t.write_v1("docker/other", "50000");
  // The v2 line of a hybrid host leads to /sys/fs/cgroup/unified, which has no cpu controller.
  const auto q = cgroup_quota("5:memory:/docker/abc\n1:cpu,cpuacct:/docker/abc\n0::/docker/abc\n", t.root);
  BOOST_REQUIRE(q);
  BOOST_TEST(*q == 1.5);
  BOOST_TEST(!cgroup_quota("1:cpuacct,cpu:/docker\n", t.root));
}

BOOST_AUTO_TEST_CASE(given_a_thread_pinned_to_one_cpu_when_asked_then_one_core_is_usable) {
  const auto all = usable_cores();
  BOOST_TEST(all.affinity >= 1u);
  BOOST_TEST(all.usable <= all.affinity);
  {
    pinned_to_one_cpu pin;
    const auto one = usable_cores();
    BOOST_TEST(one.affinity == 1u);
    BOOST_TEST(one.usable == 1u);
    BOOST_TEST(one.online == all.online); // the machine did not change, only what this thread may use
  }
  BOOST_TEST(usable_cores().affinity == all.affinity);
}

BOOST_AUTO_TEST_SUITE_END()
