#include "api/work_pool.hpp"

#include <pthread.h>

#include <algorithm>
#include <exception>
#include <utility>

#include <spdlog/spdlog.h>

namespace onair::api {

work_pool::work_pool(std::size_t threads, std::string name) : name_(std::move(name)) {
  const std::size_t n = std::max<std::size_t>(1, threads);
  threads_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    threads_.emplace_back([this] { run(); });
    const auto thread_name = (name_ + "-" + std::to_string(i)).substr(0, 15);
    ::pthread_setname_np(threads_.back().native_handle(), thread_name.c_str());
  }
}

work_pool::~work_pool() { stop(); }

void work_pool::post(std::function<void()> task) {
  {
    std::lock_guard lock{mu_};
    if (!stopping_) {
      queue_.push_back(std::move(task));
      cv_.notify_one();
      return;
    }
  }
  // Dropped outside the lock: what the task holds may post again as it goes.
  task = nullptr;
}

void work_pool::stop() {
  std::call_once(stopped_, [this] {
    {
      std::lock_guard lock{mu_};
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_)
      t.join();
  });
}

void work_pool::run() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock{mu_};
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty())
        return; // stopping, and nothing left
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      task();
    } catch (const std::exception& e) {
      spdlog::error("{} task failed error={}", name_, e.what());
    }
  }
}

} // namespace onair::api
