#include "actors/log_context.hpp"

#include <memory>
#include <utility>

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

namespace onair::actors::log_context {
namespace {

thread_local std::string current_request;

// `%&`: " request_id=…" when the thread works for a request, nothing otherwise.
class request_flag final : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg&, const std::tm&, spdlog::memory_buf_t& dest) override {
    if (current_request.empty())
      return;
    static constexpr std::string_view label = " request_id=";
    dest.append(label.data(), label.data() + label.size());
    dest.append(current_request.data(), current_request.data() + current_request.size());
  }
  [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<request_flag>();
  }
};

} // namespace

scope::scope(std::string_view request_id) : previous_(std::exchange(current_request, std::string{request_id})) {}

scope::~scope() { current_request = std::move(previous_); }

const std::string& current() { return current_request; }

void install_pattern() {
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<request_flag>('&').set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v%&");
  spdlog::set_formatter(std::move(formatter));
}

} // namespace onair::actors::log_context
