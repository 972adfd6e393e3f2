#include "domain/ingest_audit.hpp"

#include <cmath>

namespace onair::domain {

bool ingest_audit::away(double recorded, double now) const {
  if (recorded <= 0)
    return now > 0;
  return std::abs(now - recorded) > opts_.tolerance * recorded;
}

bool ingest_audit::record(const ingest_info& sample, timestamp now) {
  const auto take = [&] {
    recorded_ = sample;
    away_since_.reset();
    return true;
  };
  if (!recorded_)
    return take();
  const auto& r = *recorded_;
  if (sample.video_codec != r.video_codec || sample.audio_codec != r.audio_codec || sample.width != r.width ||
      sample.height != r.height)
    return take();
  if (!away(r.bitrate_kbps, sample.bitrate_kbps) && !away(r.fps, sample.fps)) {
    away_since_.reset();
    return false;
  }
  if (!away_since_)
    away_since_ = now;
  if (now.ms - away_since_->ms >= opts_.hold_ms)
    return take();
  return false;
}

} // namespace onair::domain
