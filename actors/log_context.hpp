#pragma once
// The request a thread is working for, added to every log line it writes as ` request_id=…`
// (spdlog 1.10 has no mapped diagnostic context). HTTP handlers, flows and aggregate commands set
// it for as long as they run on a thread; install_pattern() puts it into the log lines.
#include <string>
#include <string_view>

namespace onair::actors::log_context {

// Sets this thread's request for its lifetime, then puts back the one before.
class scope {
public:
  explicit scope(std::string_view request_id);
  ~scope();
  scope(const scope&) = delete;
  scope& operator=(const scope&) = delete;

private:
  std::string previous_;
};

// This thread's request (empty: none).
[[nodiscard]] const std::string& current();

// The process's log pattern: time, level, message, and the thread's request when it has one.
void install_pattern();

} // namespace onair::actors::log_context
