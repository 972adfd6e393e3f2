#pragma once
// Waits for what another thread or process does: polls `cond` until it holds or `deadline`
// passes (then gives its last answer), instead of sleeping a fixed time.
#include <chrono>
#include <thread>

namespace onair::testing {

template <class Pred>
bool eventually(Pred cond, std::chrono::milliseconds deadline = std::chrono::seconds{10},
                std::chrono::milliseconds step = std::chrono::milliseconds{5}) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (cond())
      return true;
    std::this_thread::sleep_for(step);
  }
  return cond();
}

} // namespace onair::testing
