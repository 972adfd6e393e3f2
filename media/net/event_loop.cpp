#include "media/net/event_loop.hpp"

#include <stdexcept>

#include <event2/event.h>
#include <event2/thread.h>

namespace onair::net {

namespace {
void enable_threads() {
  static const int once = evthread_use_pthreads();
  if (once != 0)
    throw std::runtime_error("libevent: pthreads support unavailable");
}
} // namespace

event_loop::event_loop() {
  enable_threads();
  base_ = event_base_new();
  if (!base_)
    throw std::runtime_error("libevent: event_base_new failed");
  wake_ = event_new(base_, -1, EV_PERSIST, [](evutil_socket_t, short, void* self) { static_cast<event_loop*>(self)->drain(); }, this);
  event_add(wake_, nullptr);
}

event_loop::~event_loop() {
  stop();
  run_releases(); // posted after stop(), or to a loop never started
  free_delayed(); // set after stop(), or on a loop never started
  event_free(wake_);
  event_base_free(base_);
}

void event_loop::post(std::function<void()> fn) {
  {
    std::lock_guard lock{mu_};
    queue_.push_back(task{std::move(fn), false});
  }
  event_active(wake_, EV_READ, 0);
}

void event_loop::post_release(std::function<void()> fn) {
  {
    std::lock_guard lock{mu_};
    queue_.push_back(task{std::move(fn), true});
  }
  event_active(wake_, EV_READ, 0);
}

void event_loop::run_releases() {
  std::deque<task> left;
  {
    std::lock_guard lock{mu_};
    left.swap(queue_); // replies to connections that are going away with the loop are dropped
  }
  for (auto& t : left)
    if (t.release)
      t.fn();
}

struct event_loop::delayed {
  event_loop* owner = nullptr;
  event* ev = nullptr;
  std::function<void()> fn;
};

void event_loop::post_after(std::chrono::nanoseconds delay, std::function<void()> fn) {
  auto* d = new delayed{this, nullptr, std::move(fn)};
  d->ev = event_new(base_, -1, 0, [](evutil_socket_t, short, void* arg) {
    auto* d = static_cast<delayed*>(arg);
    {
      std::lock_guard lock{d->owner->mu_};
      d->owner->delayed_.erase(d);
    }
    d->fn();
    event_free(d->ev);
    delete d;
  }, d);
  if (!d->ev) {
    delete d;
    throw std::runtime_error("libevent: event_new failed");
  }
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(delay).count();
  const timeval tv{static_cast<time_t>(us / 1'000'000), static_cast<suseconds_t>(us % 1'000'000)};
  std::lock_guard lock{mu_};
  delayed_.insert(d);
  event_add(d->ev, &tv); // under mu_: the callback cannot erase d before it is in the set
}

void event_loop::free_delayed() {
  std::unordered_set<delayed*> left;
  {
    std::lock_guard lock{mu_};
    left.swap(delayed_);
  }
  for (auto* d : left) {
    event_free(d->ev);
    delete d;
  }
}

void event_loop::drain() {
  std::deque<task> batch;
  {
    std::lock_guard lock{mu_};
    batch.swap(queue_);
  }
  for (auto& t : batch)
    t.fn();
}

namespace {
// The loop whose thread this is (nullptr elsewhere): set by the thread itself, so asking never
// races with start() or stop().
thread_local const event_loop* current_loop = nullptr;
} // namespace

bool event_loop::in_loop_thread() const { return current_loop == this; }

void event_loop::start() {
  thread_ = std::thread([this] {
    current_loop = this;
    event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY);
    current_loop = nullptr;
  });
}

void event_loop::stop() {
  if (!thread_.joinable())
    return;
  event_base_loopbreak(base_);
  thread_.join();
  run_releases();
  free_delayed();
}

} // namespace onair::net
