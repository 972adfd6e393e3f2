#include "api/http_metrics.hpp"

#include <cstdio>

namespace onair::api {

namespace {
std::string route_label(std::string_view route) { return route.empty() ? std::string{"unmatched"} : std::string{route}; }

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}
} // namespace

std::string prometheus_label(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

void http_metrics::observe(std::string_view route, std::string_view method, int status, double seconds) {
  auto label = route_label(route);
  std::size_t bucket = 0;
  while (bucket < buckets.size() && seconds > buckets[bucket])
    ++bucket;
  std::lock_guard lock{mu_};
  ++requests_[{label, std::string{method}, status}];
  auto& h = durations_[std::move(label)];
  if (bucket < buckets.size())
    ++h.counts[bucket];
  h.sum += seconds;
  ++h.count;
}

std::string http_metrics::prometheus_text() const {
  decltype(requests_) requests;
  decltype(durations_) durations;
  {
    std::lock_guard lock{mu_};
    requests = requests_;
    durations = durations_;
  }
  std::string out;
  out += "# HELP onair_http_requests_total HTTP requests answered, by route pattern, method and status.\n";
  out += "# TYPE onair_http_requests_total counter\n";
  for (const auto& [key, n] : requests) {
    const auto& [route, method, status] = key;
    out += "onair_http_requests_total{route=\"" + prometheus_label(route) + "\",method=\"" + prometheus_label(method) +
           "\",status=\"" + std::to_string(status) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP onair_http_request_duration_seconds Time from request to answer (to the first byte for streams).\n";
  out += "# TYPE onair_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : durations) {
    const auto r = prometheus_label(route);
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      cumulative += h.counts[i];
      out += "onair_http_request_duration_seconds_bucket{route=\"" + r + "\",le=\"" + number(buckets[i]) + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    out += "onair_http_request_duration_seconds_bucket{route=\"" + r + "\",le=\"+Inf\"} " + std::to_string(h.count) + "\n";
    out += "onair_http_request_duration_seconds_sum{route=\"" + r + "\"} " + number(h.sum) + "\n";
    out += "onair_http_request_duration_seconds_count{route=\"" + r + "\"} " + std::to_string(h.count) + "\n";
  }
  out += "# HELP onair_http_open_connections HTTP connections open now.\n";
  out += "# TYPE onair_http_open_connections gauge\n";
  out += "onair_http_open_connections " + std::to_string(open_connections()) + "\n";
  return out;
}

} // namespace onair::api
