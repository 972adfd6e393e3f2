#pragma once
// A runtime on a fresh data folder, with helpers that drive the broadcast lifecycle the way
// publishers and the API will.
#include <chrono>
#include <filesystem>
#include <future>
#include <random>
#include <set>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "actors/runtime.hpp"
#include "eventually.hpp"
#include "storage/views.hpp"

namespace onair::testing {

using namespace onair::domain;
using namespace onair::actors;
namespace fs = std::filesystem;
namespace storage = onair::storage;
namespace domain = onair::domain;

// Who the tests' commands are recorded as.
inline const domain::provenance tester = domain::provenance::system("test");

template <class R>
R wait_for(std::function<void(std::function<void(R)>)> start) {
  auto p = std::make_shared<std::promise<R>>();
  auto f = p->get_future();
  start([p](R r) { p->set_value(std::move(r)); });
  return f.get();
}

struct runtime_fixture {
  fs::path dir;
  std::unique_ptr<runtime> rt;
  std::chrono::milliseconds idle_after{std::chrono::seconds(60)};
  static constexpr app_id app = 1;

  runtime_fixture() {
    std::random_device rd;
    dir = fs::temp_directory_path() / ("onair-actors-" + std::to_string(rd()) + std::to_string(rd()));
    open();
  }
  ~runtime_fixture() {
    rt.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  void open() {
    runtime::options o;
    o.data_dir = dir.string();
    o.sync = false;
    o.idle_after = idle_after;
    auto r = runtime::open(o);
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    rt = std::move(r).value();
  }
  // A restart: every actor and the store closed, opened again, leftovers recovered.
  void restart() {
    rt.reset();
    open();
    auto rec = rt->recover();
    BOOST_REQUIRE_MESSAGE(rec.ok(), (rec.ok() ? "" : rec.error().message));
  }

  member register_member(const std::string& app_user_id) {
    upsert_member cmd;
    cmd.app_user_id = app_user_id;
    cmd.app_user_name = "Name of " + app_user_id;
    auto r = wait_for<result<outcome<member_aggregate>>>(
        [&](auto done) { rt->upsert_member(app, cmd, tester, done); });
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return r->state;
  }

  template <class A>
  typename A::state state_of(const std::string& id) {
    auto r = rt->get_sync<A>({app, id});
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return r->state;
  }
  stream_key key(std::int64_t id) { return state_of<stream_key_aggregate>(std::to_string(id)); }
  video_room room(std::int64_t id) { return state_of<video_room_aggregate>(std::to_string(id)); }

  result<outcome<stream_key_aggregate>> publish(std::int64_t key_id, const std::string& session,
                                                std::optional<std::string> value = std::nullopt) {
    const auto k = key(key_id);
    return rt->key_command_sync(app, key_id,
                                connect_publisher{value.value_or(k.value), std::nullopt, output_mode::rtmp,
                                                  "127.0.0.1:50000", session}, tester);
  }
  void publish_viewable(std::int64_t key_id, const std::string& session) {
    auto c = publish(key_id, session);
    BOOST_REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
    auto v = rt->key_command_sync(app, key_id, mark_viewable{session}, tester);
    BOOST_REQUIRE_MESSAGE(v.ok(), (v.ok() ? "" : v.error().message));
  }
  void publisher_gone(std::int64_t key_id, const std::string& session) {
    auto d = rt->key_command_sync(app, key_id, disconnect_publisher{session, "publisher closed"}, tester);
    BOOST_REQUIRE_MESSAGE(d.ok(), (d.ok() ? "" : d.error().message));
  }

  std::int64_t new_room(const member& owner, const std::string& title = "Launch") {
    auto id = rt->next_id();
    BOOST_REQUIRE(id.ok());
    create_room cmd;
    cmd.id = *id;
    cmd.type = room_type::broadcast_rtmp;
    cmd.title = title;
    cmd.member_id = owner.id;
    cmd.app_user_id = owner.app_user_id;
    cmd.app_user_name = owner.app_user_name;
    cmd.scheduled_at = timestamp{1795512600000};
    auto r = rt->ask_sync<video_room_aggregate>({app, std::to_string(*id)}, cmd, tester);
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return *id;
  }

  result<flow> start_live(std::int64_t room_id) {
    return wait_for<result<flow>>([&](auto done) { rt->start_live(app, room_id, tester, done); });
  }
  result<flow> end_live(std::int64_t room_id, bool force) {
    return wait_for<result<flow>>([&](auto done) { rt->end_live(app, room_id, force, tester, done); });
  }
};

} // namespace onair::testing
