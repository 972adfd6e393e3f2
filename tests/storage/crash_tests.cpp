// kill -9 durability: a child process appends from several threads and reports each append only
// after append() acknowledged it; the parent kills the child mid-stream, reopens the store and
// checks that every acknowledged event is there, exactly, and that the log is dense and agrees
// with the streams and the views. Several rounds run on the same directory.
#include <boost/test/unit_test.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "storage/event_store.hpp"

using namespace onair::storage;

namespace {

constexpr int writers = 4;
constexpr std::size_t acks_per_round = 300;
constexpr int rounds = 4;
constexpr int ack_timeout_ms = 60'000;

// Written whole with one write(): smaller than PIPE_BUF, so writes from threads never interleave.
struct ack {
  std::int64_t writer;
  std::int64_t version;
  std::uint64_t position;
};

std::string stream_of(std::int64_t writer) { return "crash/w" + std::to_string(writer); }

std::string data_of(const std::string& stream, std::int64_t version) {
  return R"({"stream":")" + stream + R"(","version":)" + std::to_string(version) + R"(,"pad":")" +
         std::string(static_cast<std::size_t>(version % 40), 'x') + R"("})";
}

std::string count_key(const std::string& stream) { return "count/" + stream; }

// The child: never returns, never runs atexit handlers; it ends by SIGKILL or _exit on error.
[[noreturn]] void run_child(const std::string& path, int ack_fd) {
  event_store::options opts;
  opts.path = path;
  opts.sync = true;
  auto opened = event_store::open(opts);
  if (!opened.ok()) ::_exit(3);
  auto store = std::move(opened).value();
  store->set_projector([](const event_record& e, kv_writer& kv) {
    kv.put(count_key(e.stream), std::to_string(e.version));
  });
  std::vector<std::thread> threads;
  for (std::int64_t w = 0; w < writers; ++w)
    threads.emplace_back([&store, w, ack_fd] {
      const std::string stream = stream_of(w);
      auto current = store->stream_version(stream);
      if (!current.ok()) ::_exit(4);
      std::int64_t version = *current;
      for (;;) {
        auto r = store->append(stream, version, {new_event{"crash.appended", data_of(stream, version + 1), version + 1, {}}});
        if (!r.ok()) ::_exit(5);
        version = r->version;
        const ack a{w, version, r->first_position};
        if (::write(ack_fd, &a, sizeof a) != static_cast<ssize_t>(sizeof a)) ::_exit(6);
      }
    });
  for (auto& t : threads) t.join();
  ::_exit(7);
}

bool read_ack(int fd, ack& a, int timeout_ms) {
  auto* out = reinterpret_cast<char*>(&a);
  std::size_t got = 0;
  while (got < sizeof a) {
    if (timeout_ms >= 0) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return false;
    }
    auto n = ::read(fd, out + got, sizeof a - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return true;
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exited with " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

// Checks the reopened store against every ack ever received.
void verify(const std::string& path, const std::map<std::string, std::map<std::int64_t, std::uint64_t>>& acked) {
  event_store::options opts;
  opts.path = path;
  auto opened = event_store::open(opts);
  BOOST_REQUIRE_MESSAGE(opened.ok(), "reopen after kill: " << (opened.ok() ? "" : opened.error().message));
  auto store = std::move(opened).value();

  // The log is dense: positions 1..N, N == last_position, and each stream's versions appear in
  // order without gaps.
  std::vector<event_record> log;
  for (std::uint64_t after = 0;;) {
    auto page = store->read_all(after, 1000);
    BOOST_REQUIRE(page.ok());
    if (page->empty()) break;
    for (auto& e : *page) log.push_back(std::move(e));
    after = log.back().position;
  }
  BOOST_TEST(log.size() == store->last_position());
  std::map<std::string, std::int64_t> versions;
  bool dense = true;
  for (std::size_t i = 0; i < log.size(); ++i) {
    const auto& e = log[i];
    dense = dense && e.position == i + 1 && e.version == ++versions[e.stream] && e.data == data_of(e.stream, e.version) &&
            e.time_ms == e.version && e.type == "crash.appended";
  }
  BOOST_TEST(dense, "log positions, versions or data out of line");

  // Streams agree with the log; the views agree with the streams (written in the same batch).
  auto listed = store->list_streams("crash/");
  BOOST_REQUIRE(listed.ok());
  BOOST_TEST(listed->size() == versions.size());
  for (const auto& [stream, version] : versions) {
    BOOST_TEST(*store->stream_version(stream) == version);
    BOOST_TEST(store->views().get(count_key(stream)).value_or("") == std::to_string(version));
    auto events = store->read_stream(stream);
    BOOST_REQUIRE(events.ok());
    BOOST_REQUIRE_EQUAL(events->size(), static_cast<std::size_t>(version));
    bool same = true;
    for (const auto& e : *events) {
      const auto& in_log = log[e.position - 1];
      same = same && in_log.stream == stream && in_log.version == e.version && in_log.data == e.data;
    }
    BOOST_TEST(same, stream << ": read_stream disagrees with the log");
  }

  // Every acknowledged event survived, at its acknowledged position.
  std::size_t missing = 0;
  for (const auto& [stream, acks] : acked)
    for (const auto& [version, position] : acks) {
      const bool found = position >= 1 && position <= log.size() && log[position - 1].stream == stream &&
                         log[position - 1].version == version;
      if (!found && ++missing <= 5) BOOST_ERROR(stream << " version " << version << " at " << position << " lost");
    }
  BOOST_TEST(missing == 0u);
}

} // namespace

BOOST_AUTO_TEST_CASE(acknowledged_appends_survive_kill_9) {
  std::random_device rd;
  const auto dir = std::filesystem::temp_directory_path() /
                   ("onair-crash-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  struct cleanup {
    std::filesystem::path p;
    ~cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(p, ec);
    }
  } remove_dir{dir};
  const std::string path = (dir / "db").string();

  std::map<std::string, std::map<std::int64_t, std::uint64_t>> acked; // stream -> version -> position
  std::size_t total_acks = 0;
  for (int round = 0; round < rounds; ++round) {
    int fds[2];
    BOOST_REQUIRE(::pipe(fds) == 0);
    const pid_t child = ::fork();
    BOOST_REQUIRE(child >= 0);
    if (child == 0) {
      ::close(fds[0]);
      run_child(path, fds[1]);
    }
    ::close(fds[1]);

    std::size_t got = 0;
    ack a{};
    bool timely = true;
    while (got < acks_per_round + static_cast<std::size_t>(round) * 37) { // vary the kill point a little
      if (!read_ack(fds[0], a, ack_timeout_ms)) {
        timely = false;
        break;
      }
      acked[stream_of(a.writer)][a.version] = a.position;
      ++got;
    }
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    // Acks still in the pipe were also acknowledged before the kill.
    while (read_ack(fds[0], a, -1)) {
      acked[stream_of(a.writer)][a.version] = a.position;
      ++got;
    }
    ::close(fds[0]);
    BOOST_REQUIRE_MESSAGE(timely, "round " << round << ": child stopped acknowledging after " << got
                                           << " acks; it " << describe_exit(status));
    BOOST_TEST_MESSAGE("round " << round << ": " << got << " acks before kill -9");
    total_acks += got;
    verify(path, acked);
  }
  std::size_t distinct = 0;
  for (const auto& [stream, acks] : acked) distinct += acks.size();
  BOOST_TEST(distinct == total_acks); // no version was acknowledged twice
}
