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
  event_free(wake_);
  event_base_free(base_);
}

void event_loop::post(std::function<void()> fn) {
  {
    std::lock_guard lock{mu_};
    queue_.push_back(std::move(fn));
  }
  event_active(wake_, EV_READ, 0);
}

void event_loop::drain() {
  std::deque<std::function<void()>> batch;
  {
    std::lock_guard lock{mu_};
    batch.swap(queue_);
  }
  for (auto& fn : batch)
    fn();
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
  std::lock_guard lock{mu_};
  queue_.clear(); // replies to connections that are going away with the loop
}

} // namespace onair::net
