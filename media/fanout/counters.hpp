#pragma once
// Process-wide media counters, written with relaxed atomics on the hot path and read by the
// lead's Prometheus exporter.
#include <atomic>
#include <cstdint>

namespace onair::media {

struct counters {
  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::int64_t> connections_open{0};
  std::atomic<std::uint64_t> connections_refused{0}; // per-address limit
  std::atomic<std::uint64_t> protocol_errors{0};     // malformed handshake/chunk/AMF0/FLV input
  std::atomic<std::uint64_t> timeouts{0};
  std::atomic<std::uint64_t> publish_sessions_total{0};
  std::atomic<std::int64_t> publishers_active{0};
  std::atomic<std::uint64_t> publish_rejected{0};
  std::atomic<std::uint64_t> viewers_total{0};
  std::atomic<std::int64_t> viewers_active{0};
  std::atomic<std::uint64_t> bytes_in{0};
  std::atomic<std::uint64_t> bytes_out{0};
  std::atomic<std::uint64_t> dropped_gops{0};
  std::atomic<std::uint64_t> dropped_frames{0};
  // In-process consumers (recorder, transcoder): attached now, failed (lossless, fell behind or
  // threw), samples a droppable one skipped.
  std::atomic<std::int64_t> consumers_active{0};
  std::atomic<std::uint64_t> consumer_failures{0};
  std::atomic<std::uint64_t> consumer_dropped_samples{0};
  std::atomic<std::int64_t> recordings_active{0};
  std::atomic<std::uint64_t> recordings_failed{0};

  static void add(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) { c.fetch_add(n, std::memory_order_relaxed); }
  static void add(std::atomic<std::int64_t>& c, std::int64_t n = 1) { c.fetch_add(n, std::memory_order_relaxed); }
};

} // namespace onair::media
