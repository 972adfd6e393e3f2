#pragma once
// A libevent loop on its own thread, with post(): the way work done elsewhere (actor replies)
// is handed back to the thread that owns a connection. Nothing on the loop thread blocks.
#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_set>

struct event_base;
struct event;

namespace onair::net {

class event_loop {
public:
  event_loop();
  ~event_loop();
  event_loop(const event_loop&) = delete;
  event_loop& operator=(const event_loop&) = delete;

  [[nodiscard]] event_base* base() const { return base_; }
  // Runs fn on the loop thread (from any thread). Not run if the loop stops first.
  void post(std::function<void()> fn);
  // The same, except that if the loop stops first, fn runs in stop() (or in the destructor of a
  // loop never started), on that thread: for freeing what a callback cannot free from inside
  // itself because libevent still refers to it.
  void post_release(std::function<void()> fn);
  // Runs fn on the loop thread after delay (from any thread). Not run if the loop stops first.
  void post_after(std::chrono::nanoseconds delay, std::function<void()> fn);
  // True on the loop's own thread (where work may run at once instead of being posted).
  [[nodiscard]] bool in_loop_thread() const;
  void start();
  void stop(); // joins the thread

private:
  void drain();
  struct delayed;
  void free_delayed();

  event_base* base_ = nullptr;
  event* wake_ = nullptr;
  std::mutex mu_;
  struct task {
    std::function<void()> fn;
    bool release = false; // run even if the loop stops first
  };
  std::deque<task> queue_;
  void run_releases(); // after the loop stopped: the release tasks left, the rest dropped
  std::unordered_set<delayed*> delayed_; // set and not yet run, under mu_
  std::thread thread_;
};

} // namespace onair::net
