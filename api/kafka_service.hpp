#pragma once
// The event stream on Kafka as `serve` runs it (--kafka embedded | off | HOST:PORT,…): the embedded
// broker when asked for, the publisher, and what /readyz, /metrics and /v2/admin/kafka show of them.
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "api/config.hpp"
#include "storage/kafka/kafka.hpp"

namespace onair::api {

class kafka_service {
public:
  // Starts the broker (embedded) and the publisher; with --kafka off, a service that does nothing.
  static domain::result<std::unique_ptr<kafka_service>> start(const server_config& cfg, storage::event_store& store);
  ~kafka_service();

  [[nodiscard]] bool enabled() const { return publisher_ != nullptr; }
  [[nodiscard]] const std::string& mode() const { return mode_; } // embedded | external | off
  [[nodiscard]] const std::string& bootstrap() const { return client_.brokers; }
  [[nodiscard]] const std::string& topic() const { return client_.topic; }
  // Publish lag beyond the threshold: the API still works, the stream is behind.
  [[nodiscard]] bool degraded() const;
  // {mode, bootstrap, topic, state, publishedPosition, logPosition, lagEvents, lagSeconds, …}
  [[nodiscard]] nlohmann::json status() const;
  // onair_kafka_* gauges and counters (Prometheus text), empty when off.
  [[nodiscard]] std::string prometheus_text() const;
  // A stream health sample (JSON) to the telemetry topic, keyed by its stream; best effort,
  // never blocks, nothing when Kafka is off.
  void telemetry(std::string_view key, std::string_view json);
  [[nodiscard]] const std::string& telemetry_topic() const { return telemetry_topic_; }

private:
  kafka_service() = default;

  std::string mode_ = "off";
  double max_lag_seconds_ = 5;
  storage::kafka::client_options client_;
  std::unique_ptr<storage::kafka::embedded_broker> broker_;
  std::unique_ptr<storage::kafka::publisher> publisher_; // after the broker: stopped before it goes
  std::string telemetry_topic_;
  std::unique_ptr<storage::kafka::telemetry_producer> telemetry_; // after the broker too
};

} // namespace onair::api
