#pragma once
// (beyond) An app's reconnect window (`reconnectWindowSeconds`, off by default as the vendor
// behaves): a room left LIVE_INACTIVE longer than the window ends itself, as End Live does (not
// forced), and its broadcast is archived. AWS IVS and Mux end a stream the same way after their
// reconnect window.
//
// The deadlines come from durable events (a room paused, an app's settings changed) and, at start,
// from every room on air, so a restart loses none; one timer thread waits for the earliest. When
// one falls due the room is read again: a publisher back in time, or an End Live meanwhile, and
// nothing is done. Keyed by room; nothing assumes this process sees every app.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "actors/runtime.hpp"

namespace onair::actors {

class reconnect_windows {
public:
  // window_s(app): the app's window in seconds, 0 when off (a test gives its own).
  reconnect_windows(runtime& rt, std::function<std::int64_t(domain::app_id)> window_s);
  ~reconnect_windows();
  reconnect_windows(const reconnect_windows&) = delete;
  reconnect_windows& operator=(const reconnect_windows&) = delete;

  // After the runtime's recovery: every room on air gets its deadline, and the timer starts.
  void start();

  // The window from the app's settings (the views).
  [[nodiscard]] static std::int64_t window_of(const storage::kv_reader& views, domain::app_id app);

private:
  struct state;
  void watch(domain::app_id app, std::int64_t room_id);
  void watch_app(domain::app_id app);
  void run();

  runtime& rt_;
  std::function<std::int64_t(domain::app_id)> window_s_;
  std::shared_ptr<state> state_;
  std::thread timer_;
};

} // namespace onair::actors
