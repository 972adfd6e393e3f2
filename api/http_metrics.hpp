#pragma once
// Request counters and latency histograms of the HTTP server, labelled by route pattern (never the
// raw path, so the label set stays bounded), and the open-connection gauge. Updates take a mutex
// for a few map operations only; the exposition copies under it and formats outside.
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace onair::api {

class http_metrics {
public:
  static constexpr std::array<double, 12> buckets{0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                  0.25,  0.5,   1.0,  2.5,   5.0,  10.0};

  // One answered request; route is the matched pattern ("" when no route matched).
  void observe(std::string_view route, std::string_view method, int status, double seconds);
  void connection_opened() { open_.fetch_add(1, std::memory_order_relaxed); }
  void connection_closed() { open_.fetch_sub(1, std::memory_order_relaxed); }
  [[nodiscard]] std::int64_t open_connections() const { return open_.load(std::memory_order_relaxed); }

  // onair_http_requests_total, onair_http_request_duration_seconds, onair_http_open_connections
  // in the Prometheus text format (0.0.4).
  [[nodiscard]] std::string prometheus_text() const;

private:
  struct histogram {
    std::array<std::uint64_t, buckets.size()> counts{}; // per bucket, not cumulative
    double sum = 0;
    std::uint64_t count = 0;
  };

  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::string, histogram> durations_;
  std::atomic<std::int64_t> open_{0};
};

// A Prometheus label value with \, " and newline escaped.
[[nodiscard]] std::string prometheus_label(std::string_view value);

} // namespace onair::api
