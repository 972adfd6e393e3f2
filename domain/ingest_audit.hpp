#pragma once
// Telemetry is not audit: a publisher's ingest is measured every few seconds, but only what an
// auditor cares about becomes a durable event — the session's first figures, a change of codec or
// resolution, or a bitrate or frame rate away from the last recorded figure by over a quarter
// for a whole minute. The rest goes to the live view, /metrics and the telemetry topic.
#include <cstdint>
#include <optional>

#include "domain/stream_key.hpp"
#include "domain/time.hpp"

namespace onair::domain {

class ingest_audit {
public:
  struct options {
    double tolerance = 0.25;     // bitrate and fps: away when off the recorded figure by more
    std::int64_t hold_ms = 60'000; // away for this long before it is recorded
  };
  ingest_audit() = default;
  explicit ingest_audit(options o) : opts_{o} {}

  // A sample of the session's ingest taken at `now`: true when it should be recorded (and it is
  // then the figure later samples are compared with).
  [[nodiscard]] bool record(const ingest_info& sample, timestamp now);

private:
  [[nodiscard]] bool away(double recorded, double now) const;

  options opts_{};
  std::optional<ingest_info> recorded_;
  std::optional<timestamp> away_since_; // the first of the samples away in a row
};

} // namespace onair::domain
