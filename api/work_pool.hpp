#pragma once
// Threads that run posted tasks, for work an event loop must not wait for: the HTTP handlers
// (http_server::options::handler_threads, which read the views) and the event stream's reads of
// the log. Tasks run in the order posted when there is one thread, in no set order otherwise.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace onair::api {

class work_pool {
public:
  // `name` names the threads (name-N, as ps and gdb show them; at most 15 characters in all).
  work_pool(std::size_t threads, std::string name);
  ~work_pool();
  work_pool(const work_pool&) = delete;
  work_pool& operator=(const work_pool&) = delete;

  // From any thread. A task that throws is logged and the thread goes on. After stop() began,
  // the task is dropped (destroyed at once, unrun).
  void post(std::function<void()> task);
  // Runs what was queued before it, then joins the threads; what is posted after it began is
  // dropped. Idempotent; a second caller returns once the first has joined.
  void stop();

private:
  void run();

  std::string name_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::once_flag stopped_;
  std::vector<std::thread> threads_; // last: started once the rest is built
};

} // namespace onair::api
