// The event store's contract: appends, conflicts, the global log, group commit, projections,
// snapshots, ids, views. Each test opens its own store in its own temporary directory.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "storage/event_store.hpp"

using namespace onair::storage;
using onair::domain::error_code;

namespace {

class temp_dir {
public:
  temp_dir() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("onair-es-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  [[nodiscard]] std::string str() const { return path_.string(); }

private:
  std::filesystem::path path_;
};

std::unique_ptr<event_store> open_store(const std::string& path, bool sync = false, bool group_commit = true) {
  event_store::options opts;
  opts.path = path;
  opts.sync = sync;
  opts.group_commit = group_commit;
  auto store = event_store::open(opts);
  BOOST_REQUIRE_MESSAGE(store.ok(), "open " << path << ": " << (store.ok() ? "" : store.error().message));
  return std::move(store).value();
}

new_event ev(std::string type, std::string data, std::int64_t time_ms = 0) {
  return new_event{std::move(type), std::move(data), time_ms, {}};
}

// Holds the committer inside the projection of one event until released, so that everything
// queued meanwhile is gathered into the next batch — deterministically. Install it with
// set_projector(gate.wrap(...)) before hold().
class committer_gate {
public:
  projector wrap(projector inner = {}) {
    return [this, inner](const event_record& e, kv_writer& kv) {
      if (e.type == "gate.held") {
        std::unique_lock lock(mu_);
        held_ = true;
        cv_.notify_all();
        cv_.wait(lock, [this] { return released_; });
      }
      if (inner) inner(e, kv);
    };
  }
  void hold(event_store& store) {
    store.append_async("gate/" + std::to_string(reinterpret_cast<std::uintptr_t>(this)), 0, {ev("gate.held", "{}")},
                       [](result<append_result>) {});
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return held_; });
  }
  void release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false;
  bool released_ = false;
};

// Collects async results and waits for a number of them.
class collector {
public:
  event_store::append_callback slot(std::size_t i) {
    return [this, i](result<append_result> r) {
      std::lock_guard lock(mu_);
      results_.emplace(i, std::move(r));
      cv_.notify_all();
    };
  }
  std::map<std::size_t, result<append_result>> wait(std::size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return results_.size() >= n; });
    return std::move(results_);
  }

private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::size_t, result<append_result>> results_;
};

std::int64_t counter_of(const kv_reader& kv, std::string_view key) {
  auto v = kv.get(key);
  return v ? std::stoll(*v) : 0;
}

} // namespace

BOOST_AUTO_TEST_SUITE(event_store_suite)

BOOST_AUTO_TEST_CASE(append_then_read_round_trips_every_field) {
  temp_dir dir;
  auto store = open_store(dir.str());
  auto r = store->append("video_room/app1/r1", 0,
                         {ev("video_room.created", R"({"title":"t"})", 1000), ev("video_room.opened", "{}", -5)});
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  BOOST_TEST(r->version == 2);
  BOOST_TEST(r->first_position == 1u);
  BOOST_TEST(r->last_position == 2u);

  auto events = store->read_stream("video_room/app1/r1");
  BOOST_REQUIRE(events.ok());
  BOOST_REQUIRE_EQUAL(events->size(), 2u);
  const auto& e1 = (*events)[0];
  BOOST_TEST(e1.stream == "video_room/app1/r1");
  BOOST_TEST(e1.version == 1);
  BOOST_TEST(e1.position == 1u);
  BOOST_TEST(e1.type == "video_room.created");
  BOOST_TEST(e1.data == R"({"title":"t"})");
  BOOST_TEST(e1.time_ms == 1000);
  BOOST_TEST((*events)[1].time_ms == -5);

  auto tail = store->read_stream("video_room/app1/r1", 2);
  BOOST_REQUIRE(tail.ok());
  BOOST_REQUIRE_EQUAL(tail->size(), 1u);
  BOOST_TEST((*tail)[0].type == "video_room.opened");

  BOOST_TEST(*store->stream_version("video_room/app1/r1") == 2);
  BOOST_TEST(*store->stream_version("video_room/app1/none") == 0);
  BOOST_TEST(store->read_stream("video_room/app1/none")->empty());
  BOOST_TEST(store->last_position() == 2u);
  // A stream whose name extends another's is a different stream.
  BOOST_REQUIRE(store->append("video_room/app1/r", 0, {ev("x", "{}")}).ok());
  BOOST_TEST(store->read_stream("video_room/app1/r")->size() == 1u);
  BOOST_TEST(store->read_stream("video_room/app1/r1")->size() == 2u);
}

BOOST_AUTO_TEST_CASE(expected_version_conflicts_are_refused_with_context) {
  temp_dir dir;
  auto store = open_store(dir.str());
  auto fresh = store->append("member/a/1", 1, {ev("member.created", "{}")});
  BOOST_REQUIRE(!fresh.ok());
  BOOST_TEST((fresh.error().code == error_code::version_conflict));
  BOOST_TEST(fresh.error().message.find("member/a/1") != std::string::npos);
  BOOST_TEST(fresh.error().message.find("expected version 1, actual 0") != std::string::npos);

  BOOST_REQUIRE(store->append("member/a/1", 0, {ev("member.created", "{}")}).ok());
  auto stale = store->append("member/a/1", 0, {ev("member.created", "{}")});
  BOOST_REQUIRE(!stale.ok());
  BOOST_TEST((stale.error().code == error_code::version_conflict));
  BOOST_TEST(stale.error().message.find("expected version 0, actual 1") != std::string::npos);
  auto ahead = store->append("member/a/1", 5, {ev("member.renamed", "{}")});
  BOOST_REQUIRE(!ahead.ok());
  BOOST_TEST((ahead.error().code == error_code::version_conflict));

  BOOST_TEST(store->last_position() == 1u);
  BOOST_TEST(store->read_all(0, 100)->size() == 1u);
  BOOST_REQUIRE(store->append("member/a/1", 1, {ev("member.renamed", "{}")}).ok());
  BOOST_TEST(*store->stream_version("member/a/1") == 2);

  auto empty = store->append("member/a/1", 2, {});
  BOOST_REQUIRE(!empty.ok());
  BOOST_TEST((empty.error().code == error_code::invalid_parameter));
}

BOOST_AUTO_TEST_CASE(global_log_keeps_commit_order_across_streams) {
  temp_dir dir;
  auto store = open_store(dir.str());
  BOOST_REQUIRE(store->append("a", 0, {ev("a1", "1"), ev("a2", "2")}).ok());
  BOOST_REQUIRE(store->append("b", 0, {ev("b1", "3")}).ok());
  BOOST_REQUIRE(store->append("a", 2, {ev("a3", "4")}).ok());

  auto all = store->read_all(0, 100);
  BOOST_REQUIRE(all.ok());
  std::vector<std::string> types;
  for (std::size_t i = 0; i < all->size(); ++i) {
    BOOST_TEST((*all)[i].position == i + 1);
    types.push_back((*all)[i].type);
  }
  BOOST_TEST(types == (std::vector<std::string>{"a1", "a2", "b1", "a3"}), boost::test_tools::per_element());
  BOOST_TEST((*all)[3].stream == "a");
  BOOST_TEST((*all)[3].version == 3);

  auto page = store->read_all(1, 2);
  BOOST_REQUIRE(page.ok());
  BOOST_REQUIRE_EQUAL(page->size(), 2u);
  BOOST_TEST((*page)[0].position == 2u);
  BOOST_TEST((*page)[1].position == 3u);
  BOOST_TEST(store->read_all(4, 10)->empty());
  BOOST_TEST(store->read_all(0, 0)->empty());
}

BOOST_AUTO_TEST_CASE(concurrent_appends_get_their_own_versions_and_dense_positions) {
  temp_dir dir;
  auto store = open_store(dir.str());
  constexpr int writers = 8;
  constexpr int per_writer = 100;
  constexpr int contenders = 4;
  constexpr int per_contender = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([&, w] {
      const std::string stream = "own/" + std::to_string(w);
      for (int v = 0; v < per_writer; ++v) {
        auto r = store->append(stream, v, {ev("e", std::to_string(v + 1))});
        if (!r.ok() || r->version != v + 1) ++failures;
      }
    });
  // Contenders race on one stream and retry on conflict, as actors would after reloading.
  std::atomic<int> conflicts{0};
  for (int c = 0; c < contenders; ++c)
    threads.emplace_back([&] {
      for (int done = 0; done < per_contender;) {
        auto v = store->stream_version("shared");
        auto r = store->append("shared", *v, {ev("s", "{}")});
        if (r.ok()) ++done;
        else if (r.error().code == error_code::version_conflict) ++conflicts;
        else ++failures;
      }
    });
  for (auto& t : threads) t.join();
  BOOST_TEST(failures.load() == 0);

  const std::uint64_t total = writers * per_writer + contenders * per_contender;
  BOOST_TEST(store->last_position() == total);
  auto all = store->read_all(0, total + 10);
  BOOST_REQUIRE(all.ok());
  BOOST_REQUIRE_EQUAL(all->size(), total);
  std::map<std::string, std::int64_t> seen;
  for (std::size_t i = 0; i < all->size(); ++i) {
    const auto& e = (*all)[i];
    BOOST_TEST(e.position == i + 1);
    BOOST_TEST(e.version == ++seen[e.stream]); // each stream's versions appear in order, without gaps
  }
  for (int w = 0; w < writers; ++w) {
    auto events = store->read_stream("own/" + std::to_string(w));
    BOOST_REQUIRE_EQUAL(events->size(), static_cast<std::size_t>(per_writer));
    for (int v = 0; v < per_writer; ++v) BOOST_TEST((*events)[v].data == std::to_string(v + 1));
  }
  BOOST_TEST(*store->stream_version("shared") == contenders * per_contender);
  BOOST_TEST_MESSAGE("conflicts retried on the shared stream: " << conflicts.load());
}

BOOST_AUTO_TEST_CASE(one_batch_chains_same_stream_appends_and_fails_conflicts_alone) {
  temp_dir dir;
  auto store = open_store(dir.str());
  committer_gate gate;
  store->set_projector(gate.wrap());
  gate.hold(*store);
  collector results;
  store->append_async("s", 0, {ev("first", "{}")}, results.slot(0));
  store->append_async("s", 1, {ev("second", "{}"), ev("third", "{}")}, results.slot(1));
  store->append_async("s", 1, {ev("stale", "{}")}, results.slot(2));
  store->append_async("t", 0, {ev("other", "{}")}, results.slot(3));
  gate.release();
  auto r = results.wait(4);
  BOOST_REQUIRE(r.at(0).ok());
  BOOST_REQUIRE(r.at(1).ok());
  BOOST_REQUIRE(!r.at(2).ok());
  BOOST_REQUIRE(r.at(3).ok());
  BOOST_TEST((r.at(2).error().code == error_code::version_conflict));
  BOOST_TEST(r.at(2).error().message.find("expected version 1, actual 3") != std::string::npos);
  BOOST_TEST(r.at(0)->version == 1);
  BOOST_TEST(r.at(1)->version == 3);
  // The gate's own event took position 1.
  BOOST_TEST(r.at(0)->first_position == 2u);
  BOOST_TEST(r.at(1)->first_position == 3u);
  BOOST_TEST(r.at(1)->last_position == 4u);
  BOOST_TEST(r.at(3)->first_position == 5u);
  BOOST_TEST(store->last_position() == 5u);
  BOOST_TEST(*store->stream_version("s") == 3);
}

BOOST_AUTO_TEST_CASE(projector_writes_land_with_the_events_and_see_the_batch) {
  temp_dir dir;
  std::uint64_t total = 0;
  {
    auto store = open_store(dir.str());
    committer_gate gate;
    store->set_projector(gate.wrap([](const event_record& e, kv_writer& kv) {
      // Read-modify-write: only correct if reads see earlier puts of the same batch.
      kv.put("count/" + e.stream, std::to_string(counter_of(kv, "count/" + e.stream) + 1));
      kv.put("total", std::to_string(counter_of(kv, "total") + 1));
      kv.put("last", std::to_string(e.position));
    }));
    BOOST_REQUIRE(store->append("p/1", 0, {ev("a", "{}"), ev("b", "{}"), ev("c", "{}")}).ok());
    BOOST_TEST(counter_of(store->views(), "count/p/1") == 3);

    gate.hold(*store);
    collector results;
    for (std::size_t i = 0; i < 20; ++i)
      store->append_async("p/" + std::to_string(i % 4), (i % 4 == 1 ? 3 : 0) + static_cast<std::int64_t>(i / 4),
                          {ev("x", "{}")}, results.slot(i));
    gate.release();
    for (auto& [i, r] : results.wait(20)) BOOST_TEST(r.ok(), "append " << i);
    BOOST_TEST(counter_of(store->views(), "count/p/0") == 5);
    BOOST_TEST(counter_of(store->views(), "count/p/1") == 8);

    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t)
      threads.emplace_back([&, t] {
        for (int v = 0; v < 30; ++v) (void)store->append("q/" + std::to_string(t), v, {ev("y", "{}")});
      });
    for (auto& t : threads) t.join();
    total = store->last_position();
    BOOST_TEST(counter_of(store->views(), "total") == static_cast<std::int64_t>(total));
    BOOST_TEST(counter_of(store->views(), "count/q/5") == 30);
  }
  auto store = open_store(dir.str());
  BOOST_TEST(counter_of(store->views(), "total") == static_cast<std::int64_t>(total));
  BOOST_TEST(counter_of(store->views(), "last") == static_cast<std::int64_t>(total));
  auto streams = store->list_streams("");
  BOOST_REQUIRE(streams.ok());
  for (const auto& s : *streams)
    BOOST_TEST(counter_of(store->views(), "count/" + s) == *store->stream_version(s));
}

BOOST_AUTO_TEST_CASE(a_throwing_projector_fails_only_its_append) {
  temp_dir dir;
  auto store = open_store(dir.str());
  committer_gate gate;
  store->set_projector(gate.wrap([](const event_record& e, kv_writer& kv) {
    kv.put("seen/" + e.stream + "/" + std::to_string(e.version), e.type);
    if (e.type == "boom") throw std::runtime_error("cannot project boom");
  }));
  gate.hold(*store);
  collector results;
  store->append_async("ok/1", 0, {ev("fine", "{}")}, results.slot(0));
  store->append_async("bad", 0, {ev("fine", "{}"), ev("boom", "{}")}, results.slot(1));
  store->append_async("ok/2", 0, {ev("fine", "{}")}, results.slot(2));
  gate.release();
  auto r = results.wait(3);
  BOOST_REQUIRE(r.at(0).ok());
  BOOST_REQUIRE(!r.at(1).ok());
  BOOST_REQUIRE(r.at(2).ok());
  BOOST_TEST(r.at(1).error().message.find("cannot project boom") != std::string::npos);
  BOOST_TEST(r.at(1).error().message.find("bad") != std::string::npos);
  // The failed append used no positions, left no events and none of its view writes.
  BOOST_TEST(r.at(0)->first_position == 2u);
  BOOST_TEST(r.at(2)->first_position == 3u);
  BOOST_TEST(*store->stream_version("bad") == 0);
  BOOST_TEST(store->read_stream("bad")->empty());
  BOOST_TEST(!store->views().get("seen/bad/1").has_value());
  BOOST_TEST(store->views().get("seen/ok/1/1").value_or("") == "fine");
  BOOST_TEST(store->views().get("seen/ok/2/1").value_or("") == "fine");
  BOOST_TEST(store->read_all(0, 10)->size() == 3u);
  // The stream is still usable.
  BOOST_REQUIRE(store->append("bad", 0, {ev("fine", "{}")}).ok());
}

// Waits for the answer of one append_all_async.
result<std::vector<append_result>> append_all(event_store& store, std::vector<stream_append> parts) {
  std::promise<result<std::vector<append_result>>> p;
  auto f = p.get_future();
  store.append_all_async(std::move(parts), [&p](result<std::vector<append_result>> r) { p.set_value(std::move(r)); });
  return f.get();
}

BOOST_AUTO_TEST_CASE(given_two_new_streams_when_appended_together_then_both_land_in_one_write) {
  temp_dir dir;
  auto store = open_store(dir.str());
  store->set_projector([](const event_record& e, kv_writer& kv) { kv.put("seen/" + e.stream, e.type); });
  BOOST_REQUIRE(store->append("member/1/alice", 0, {ev("member.old", "{}")}).ok());

  auto r = append_all(*store, {{"member/1/alice", 1, {ev("member.registered", "{}")}},
                               {"stream_key/1/7", 0, {ev("stream_key.created", "{}"), ev("stream_key.patched", "{}")}}});

  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  BOOST_REQUIRE(r->size() == 2u);
  BOOST_TEST((*r)[0].version == 2);
  BOOST_TEST((*r)[0].first_position == 2u);
  BOOST_TEST((*r)[1].version == 2);
  BOOST_TEST((*r)[1].first_position == 3u);
  BOOST_TEST((*r)[1].last_position == 4u);
  BOOST_TEST(store->views().get("seen/stream_key/1/7").value_or("") == "stream_key.patched");
  const auto log = store->read_all(0, 10);
  BOOST_REQUIRE(log->size() == 4u);
  BOOST_TEST((*log)[1].type == "member.registered");
  BOOST_TEST((*log)[2].stream == "stream_key/1/7");
}

BOOST_AUTO_TEST_CASE(given_one_part_conflicts_when_appended_together_then_nothing_lands) {
  temp_dir dir;
  auto store = open_store(dir.str());
  store->set_projector([](const event_record& e, kv_writer& kv) { kv.put("seen/" + e.stream, e.type); });
  BOOST_REQUIRE(store->append("taken", 0, {ev("first", "{}")}).ok());
  committer_gate gate;
  store->set_projector(gate.wrap([](const event_record& e, kv_writer& kv) { kv.put("seen/" + e.stream, e.type); }));
  gate.hold(*store);
  // In one batch with others, so the rollback must leave their staged writes alone.
  collector results;
  store->append_async("before", 0, {ev("fine", "{}")}, results.slot(0));
  std::promise<result<std::vector<append_result>>> together;
  store->append_all_async({{"fresh", 0, {ev("would.land", "{}")}}, {"taken", 0, {ev("stale", "{}")}}},
                          [&](result<std::vector<append_result>> r) { together.set_value(std::move(r)); });
  store->append_async("after", 0, {ev("fine", "{}")}, results.slot(1));
  store->append_async("fresh", 0, {ev("alone", "{}")}, results.slot(2)); // "fresh" is still new
  gate.release();

  auto r = together.get_future().get();
  auto others = results.wait(3);
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST((r.error().code == error_code::version_conflict));
  BOOST_TEST(r.error().message.find("taken") != std::string::npos);
  BOOST_REQUIRE(others.at(0).ok());
  BOOST_REQUIRE(others.at(1).ok());
  BOOST_REQUIRE_MESSAGE(others.at(2).ok(), "the failed group left \"fresh\" staged");
  // No positions used by the failed group, no events and no view writes of it.
  BOOST_TEST(others.at(1)->first_position == others.at(0)->first_position + 1);
  BOOST_TEST(*store->stream_version("taken") == 1);
  BOOST_TEST(*store->stream_version("fresh") == 1);
  BOOST_TEST(store->read_stream("fresh")->front().type == "alone");
  BOOST_TEST(store->views().get("seen/taken").value_or("") == "first");
  BOOST_TEST(store->views().get("seen/fresh").value_or("") == "alone");
}

BOOST_AUTO_TEST_CASE(an_atomic_append_refuses_a_stream_named_twice_and_an_empty_list) {
  temp_dir dir;
  auto store = open_store(dir.str());
  auto twice = append_all(*store, {{"s", 0, {ev("a", "{}")}}, {"s", 1, {ev("b", "{}")}}});
  BOOST_REQUIRE(!twice.ok());
  BOOST_TEST((twice.error().code == error_code::invalid_parameter));
  BOOST_TEST(*store->stream_version("s") == 0);
  auto none = append_all(*store, {});
  BOOST_REQUIRE(!none.ok());
  BOOST_TEST((none.error().code == error_code::invalid_parameter));
}

BOOST_AUTO_TEST_CASE(an_atomic_append_survives_a_reopen_whole) {
  temp_dir dir;
  {
    auto store = open_store(dir.str(), /*sync=*/true);
    BOOST_REQUIRE(append_all(*store, {{"a", 0, {ev("x", "{}")}}, {"b", 0, {ev("y", "{}")}}}).ok());
  }
  auto store = open_store(dir.str());
  BOOST_TEST(*store->stream_version("a") == 1);
  BOOST_TEST(*store->stream_version("b") == 1);
  BOOST_TEST(store->last_position() == 2u);
}

BOOST_AUTO_TEST_CASE(views_scan_by_prefix_forward_and_reverse) {
  temp_dir dir;
  auto store = open_store(dir.str());
  auto written = store->write_views([](kv_writer& kv) {
    for (const char* k : {"a", "b/1", "b/2", "b/3", "b\xff", "c"}) kv.put(k, std::string("v:") + k);
    kv.del("b/3");
    BOOST_TEST(!kv.get("b/3").has_value());
    std::vector<std::string> in_batch;
    kv.scan("b/", [&](std::string_view k, std::string_view) { return in_batch.emplace_back(k), true; });
    BOOST_TEST(in_batch == (std::vector<std::string>{"b/1", "b/2"}), boost::test_tools::per_element());
  });
  BOOST_REQUIRE(written.ok());
  auto keys = [&](std::string_view prefix, bool reverse, std::size_t max = 100) {
    std::vector<std::string> out;
    store->views().scan(prefix, [&](std::string_view k, std::string_view v) {
      BOOST_TEST(v == "v:" + std::string(k));
      out.emplace_back(k);
      return out.size() < max;
    }, reverse);
    return out;
  };
  BOOST_TEST(keys("b", false) == (std::vector<std::string>{"b/1", "b/2", "b\xff"}), boost::test_tools::per_element());
  BOOST_TEST(keys("b", true) == (std::vector<std::string>{"b\xff", "b/2", "b/1"}), boost::test_tools::per_element());
  BOOST_TEST(keys("b/", true, 1) == (std::vector<std::string>{"b/2"}), boost::test_tools::per_element());
  BOOST_TEST(keys("", true).size() == 5u);
  BOOST_TEST(keys("c", true) == (std::vector<std::string>{"c"}), boost::test_tools::per_element());
  BOOST_TEST(keys("d", true).empty());

  auto failed = store->write_views([](kv_writer& kv) {
    kv.put("half", "written");
    throw std::runtime_error("rebuild aborted");
  });
  BOOST_REQUIRE(!failed.ok());
  BOOST_TEST(!store->views().get("half").has_value());
}

BOOST_AUTO_TEST_CASE(clear_views_drops_every_key_and_keeps_the_log) {
  temp_dir dir;
  {
    auto store = open_store(dir.str());
    store->set_projector([](const event_record& e, kv_writer& kv) { kv.put("ev/" + e.stream, e.type); });
    BOOST_REQUIRE(store->append("s", 0, {ev("e", "{}")}).ok());
    BOOST_REQUIRE(store->write_views([](kv_writer& kv) {
      kv.put("", "empty key");
      kv.put("x", "1");
      kv.put("\xff\xff", "2");
    }).ok());
    BOOST_REQUIRE(store->clear_views().ok());
    int left = 0;
    store->views().scan("", [&](std::string_view, std::string_view) { return ++left, true; });
    BOOST_TEST(left == 0);
    BOOST_TEST(!store->views().get("").has_value());
    BOOST_TEST(!store->views().get("\xff\xff").has_value());
    BOOST_REQUIRE(store->clear_views().ok()); // clearing nothing is fine
    BOOST_REQUIRE(store->append("s", 1, {ev("f", "{}")}).ok());
    BOOST_TEST(store->views().get("ev/s").value_or("") == "f");
  }
  auto store = open_store(dir.str());
  BOOST_TEST(store->views().get("ev/s").value_or("") == "f");
  BOOST_TEST(!store->views().get("x").has_value());
  BOOST_TEST(store->read_stream("s")->size() == 2u);
}

BOOST_AUTO_TEST_CASE(snapshots_keep_the_latest) {
  temp_dir dir;
  {
    auto store = open_store(dir.str());
    auto none = store->load_snapshot("room/1");
    BOOST_REQUIRE(none.ok());
    BOOST_TEST(!none->has_value());
    BOOST_REQUIRE(store->save_snapshot("room/1", {3, R"({"n":3})"}).ok());
    BOOST_REQUIRE(store->save_snapshot("room/1", {5, R"({"n":5})"}).ok());
    BOOST_REQUIRE(store->save_snapshot("room/2", {1, ""}).ok());
  }
  auto store = open_store(dir.str());
  auto snap = store->load_snapshot("room/1");
  BOOST_REQUIRE(snap.ok() && snap->has_value());
  BOOST_TEST((*snap)->version == 5);
  BOOST_TEST((*snap)->data == R"({"n":5})");
  auto empty = store->load_snapshot("room/2");
  BOOST_REQUIRE(empty.ok() && empty->has_value());
  BOOST_TEST((*empty)->data.empty());
}

BOOST_AUTO_TEST_CASE(reserve_ids_never_repeats_across_reopen_and_threads) {
  temp_dir dir;
  std::set<std::int64_t> ids;
  {
    auto store = open_store(dir.str());
    auto first = store->reserve_ids(1);
    BOOST_REQUIRE(first.ok());
    BOOST_TEST(*first == 1);
    auto block = store->reserve_ids(10);
    BOOST_TEST(*block == 2);
    for (std::int64_t i = 1; i <= 11; ++i) ids.insert(i);
    auto big = store->reserve_ids(5000); // larger than one reserved block
    BOOST_REQUIRE(big.ok());
    BOOST_TEST(*big == 12);
    for (std::int64_t i = 0; i < 5000; ++i) ids.insert(*big + i);
    auto bad = store->reserve_ids(0);
    BOOST_REQUIRE(!bad.ok());
    BOOST_TEST((bad.error().code == error_code::invalid_parameter));
  }
  for (int round = 0; round < 2; ++round) {
    auto store = open_store(dir.str());
    std::mutex mu;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < 300; ++i) {
          auto r = store->reserve_ids(3);
          if (!r.ok()) {
            ++failures;
            continue;
          }
          std::lock_guard lock(mu);
          for (std::int64_t k = 0; k < 3; ++k)
            if (!ids.insert(*r + k).second) ++failures;
        }
      });
    for (auto& t : threads) t.join();
    BOOST_TEST(failures.load() == 0);
  }
  BOOST_TEST(ids.size() == 5011u + 2 * 4 * 300 * 3);
}

BOOST_AUTO_TEST_CASE(reopen_keeps_everything) {
  temp_dir dir;
  {
    auto store = open_store(dir.str(), /*sync=*/true);
    BOOST_REQUIRE(store->append("stream_key/a/1", 0, {ev("k.created", R"({"k":1})", 7)}).ok());
    BOOST_REQUIRE(store->append("stream_key/a/2", 0, {ev("k.created", R"({"k":2})", 8)}).ok());
    BOOST_REQUIRE(store->append("stream_key/a/1", 1, {ev("k.used", "{}", 9)}).ok());
    BOOST_REQUIRE(store->write_views([](kv_writer& kv) { kv.put("view", "v"); }).ok());
    BOOST_REQUIRE(store->save_snapshot("stream_key/a/1", {2, "snap"}).ok());
  }
  auto store = open_store(dir.str(), true);
  BOOST_TEST(store->last_position() == 3u);
  BOOST_TEST(*store->stream_version("stream_key/a/1") == 2);
  auto events = store->read_stream("stream_key/a/1");
  BOOST_REQUIRE_EQUAL(events->size(), 2u);
  BOOST_TEST((*events)[1].type == "k.used");
  BOOST_TEST((*events)[1].position == 3u);
  BOOST_TEST((*events)[1].time_ms == 9);
  BOOST_TEST(store->views().get("view").value_or("") == "v");
  BOOST_TEST((*store->load_snapshot("stream_key/a/1"))->data == "snap");
  // The version cache is loaded from disk: a stale append still conflicts after reopen.
  BOOST_TEST(!store->append("stream_key/a/1", 1, {ev("k.used", "{}")}).ok());
  auto next = store->append("stream_key/a/1", 2, {ev("k.used", "{}")});
  BOOST_REQUIRE(next.ok());
  BOOST_TEST(next->version == 3);
  BOOST_TEST(next->first_position == 4u);
}

BOOST_AUTO_TEST_CASE(list_streams_by_prefix_in_order) {
  temp_dir dir;
  auto store = open_store(dir.str());
  for (const char* s : {"video_room/a/1", "stream_key/b/1", "stream_key/a/2", "stream_keys/x", "stream_key/a/1"})
    BOOST_REQUIRE(store->append(s, 0, {ev("e", "{}")}).ok());
  auto keys = store->list_streams("stream_key/");
  BOOST_REQUIRE(keys.ok());
  BOOST_TEST(*keys == (std::vector<std::string>{"stream_key/a/1", "stream_key/a/2", "stream_key/b/1"}),
             boost::test_tools::per_element());
  BOOST_TEST(store->list_streams("")->size() == 5u);
  BOOST_TEST(store->list_streams("nothing/")->empty());
}

BOOST_AUTO_TEST_CASE(single_write_mode_and_closing_answer_every_append) {
  temp_dir dir;
  collector results;
  constexpr std::size_t n = 200;
  {
    auto store = open_store(dir.str(), /*sync=*/false, /*group_commit=*/false);
    for (std::size_t i = 0; i < n; ++i)
      store->append_async("s/" + std::to_string(i % 10), static_cast<std::int64_t>(i / 10), {ev("e", "{}")},
                          results.slot(i));
  } // the destructor drains the queue before it returns
  auto r = results.wait(n);
  BOOST_REQUIRE_EQUAL(r.size(), n);
  for (auto& [i, res] : r) BOOST_TEST(res.ok());
  auto store = open_store(dir.str());
  BOOST_TEST(store->last_position() == n);
}

// Durability asserted, not only benchmarked: RocksDB's own count of write-ahead-log syncs shows
// that every acknowledged append was synced before its answer, one by one and under group commit.
BOOST_AUTO_TEST_CASE(given_a_synced_store_when_an_append_is_acknowledged_then_the_log_was_synced_after_it) {
  temp_dir dir;
  auto store = open_store(dir.str(), /*sync=*/true);
  for (int i = 0; i < 20; ++i) {
    const auto before = store->wal_syncs();
    BOOST_REQUIRE(store->append("one/by/one", i, {ev("e", "{}")}).ok());
    BOOST_TEST(store->wal_syncs() > before, "append " << i << " acknowledged without a WAL sync");
  }
  // Many at once share syncs (group commit), but each answer comes after a sync that began after
  // its append was queued.
  constexpr std::size_t n = 300;
  std::vector<std::uint64_t> queued_at(n), answered_at(n);
  collector results;
  for (std::size_t i = 0; i < n; ++i) {
    queued_at[i] = store->wal_syncs();
    store->append_async("many/" + std::to_string(i % 30), static_cast<std::int64_t>(i / 30), {ev("e", "{}")},
                        [&, i, slot = results.slot(i)](result<append_result> r) {
                          answered_at[i] = store->wal_syncs();
                          slot(std::move(r));
                        });
  }
  auto r = results.wait(n);
  for (std::size_t i = 0; i < n; ++i) {
    BOOST_TEST(r.at(i).ok());
    BOOST_TEST(answered_at[i] > queued_at[i], "append " << i << " acknowledged without a WAL sync after it");
  }
  BOOST_TEST(store->wal_syncs() < 20u + n, "group commit should share syncs");
}

BOOST_AUTO_TEST_CASE(given_an_unsynced_store_when_appends_are_acknowledged_then_no_sync_is_counted) {
  // The other side of the check above: a store without sync is seen as such.
  temp_dir dir;
  auto store = open_store(dir.str(), /*sync=*/false);
  for (int i = 0; i < 5; ++i)
    BOOST_REQUIRE(store->append("unsynced", i, {ev("e", "{}")}).ok());
  BOOST_TEST(store->wal_syncs() == 0u);
}

BOOST_AUTO_TEST_CASE(open_fails_with_context) {
  auto bad = event_store::open({.path = "/proc/onair-cannot-exist/db"});
  BOOST_REQUIRE(!bad.ok());
  BOOST_TEST((bad.error().code == onair::domain::error_code::storage_failure));
  BOOST_TEST(bad.error().message.find("/proc/onair-cannot-exist/db") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(given_a_writer_holding_the_store_when_opened_read_only_then_it_reads_what_was_durable_and_refuses_writes) {
  temp_dir dir;
  auto writer = open_store(dir.str(), /*sync=*/true);
  BOOST_REQUIRE(writer->append("room/1/a", 0, {ev("x.a", R"({"n":1})"), ev("x.b", R"({"n":2})")}).ok());
  event_store::options ro;
  ro.path = dir.str();
  ro.read_only = true;
  auto reader = event_store::open(ro);
  BOOST_REQUIRE_MESSAGE(reader.ok(), (reader.ok() ? "" : reader.error().message));
  BOOST_TEST((*reader)->last_position() == 2u);
  auto stream = (*reader)->read_stream("room/1/a");
  BOOST_REQUIRE(stream.ok());
  BOOST_TEST(stream->size() == 2u);
  BOOST_TEST(stream->back().data == R"({"n":2})");
  auto refused = (*reader)->append("room/1/a", 2, {ev("x.c", "{}")});
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST((refused.error().code == error_code::storage_failure));
  BOOST_TEST(refused.error().message.find("read only") != std::string::npos, refused.error().message);
  // The writer goes on; the reader keeps the store as it was when opened.
  BOOST_REQUIRE(writer->append("room/1/a", 2, {ev("x.c", "{}")}).ok());
  BOOST_TEST((*reader)->last_position() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
