#include "api/kafka_service.hpp"

#include <spdlog/spdlog.h>

namespace onair::api {

using nlohmann::json;

domain::result<std::unique_ptr<kafka_service>> kafka_service::start(const server_config& cfg,
                                                                     storage::event_store& store) {
  std::unique_ptr<kafka_service> k{new kafka_service};
  k->max_lag_seconds_ = cfg.kafka_max_lag_seconds;
  k->client_.topic = cfg.kafka_topic;
  if (cfg.kafka == "off") {
    spdlog::info("kafka off: the event stream is not published");
    return k;
  }
  if (!cfg.kafka_config.empty()) {
    auto props = storage::kafka::read_properties_file(cfg.kafka_config);
    if (!props)
      return props.error();
    k->client_.properties = std::move(*props);
    if (auto ok = storage::kafka::check_properties(k->client_); !ok)
      return domain::make_error(ok.error().code, cfg.kafka_config + ": " + ok.error().message, "kafka-config");
  }
  k->telemetry_topic_ = cfg.kafka_telemetry_topic;
  if (cfg.kafka == "embedded") {
    auto broker = storage::kafka::embedded_broker::start(cfg.kafka_topic);
    if (!broker)
      return broker.error();
    if (cfg.kafka_telemetry_topic != cfg.kafka_topic)
      if (auto made = (*broker)->create_topic(cfg.kafka_telemetry_topic); !made)
        return made.error();
    k->broker_ = std::move(*broker);
    k->client_.brokers = k->broker_->bootstrap();
    k->mode_ = "embedded";
    spdlog::info("kafka embedded broker bootstrap={} topic={} (development only: ~5 MiB kept per partition, "
                 "in memory)",
                 k->client_.brokers, k->client_.topic);
  } else {
    k->client_.brokers = cfg.kafka;
    k->mode_ = "external";
    spdlog::info("kafka brokers={} topic={}", k->client_.brokers, k->client_.topic);
  }
  storage::kafka::publisher::options po;
  po.client = k->client_;
  k->publisher_ = storage::kafka::publisher::start(store, po);
  auto tc = k->client_;
  tc.topic = cfg.kafka_telemetry_topic;
  auto telemetry = storage::kafka::telemetry_producer::start(tc);
  if (!telemetry)
    return telemetry.error();
  k->telemetry_ = std::move(*telemetry);
  return k;
}

void kafka_service::telemetry(std::string_view key, std::string_view json) {
  if (telemetry_)
    telemetry_->send(key, json);
}

kafka_service::~kafka_service() {
  telemetry_.reset();
  publisher_.reset();
  broker_.reset();
}

bool kafka_service::degraded() const {
  if (!publisher_)
    return false;
  const auto s = publisher_->stats();
  return s.lag_events > 0 && s.lag_seconds > max_lag_seconds_;
}

json kafka_service::status() const {
  json j{{"mode", mode_}, {"topic", client_.topic}};
  if (!publisher_)
    return j;
  const auto s = publisher_->stats();
  j["bootstrap"] = client_.brokers;
  j["telemetryTopic"] = telemetry_topic_;
  j["state"] = s.lag_events > 0 && s.lag_seconds > max_lag_seconds_ ? "degraded" : s.state;
  j["publisher"] = s.state;
  j["brokerReachable"] = s.broker_reachable;
  j["logPosition"] = s.log_position;
  j["publishedPosition"] = s.published_position;
  j["lagEvents"] = s.lag_events;
  j["lagSeconds"] = s.lag_seconds;
  j["maxLagSeconds"] = max_lag_seconds_;
  j["publishedTotal"] = s.published_total;
  j["foundInTopicOnStart"] = s.found_in_topic;
  j["sessions"] = s.sessions;
  if (!s.last_error.empty())
    j["lastError"] = s.last_error;
  return j;
}

std::string kafka_service::prometheus_text() const {
  if (!publisher_)
    return {};
  const auto s = publisher_->stats();
  auto line = [](std::string& out, const char* name, const char* type, const char* help, const std::string& value) {
    out += std::string{"# HELP "} + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " + value + "\n";
  };
  std::string out;
  line(out, "onair_kafka_publish_lag_events", "gauge", "Events of the log not yet acknowledged by Kafka.",
       std::to_string(s.lag_events));
  line(out, "onair_kafka_publish_lag_seconds", "gauge", "Age of the oldest event not yet acknowledged by Kafka.",
       std::to_string(s.lag_seconds));
  line(out, "onair_kafka_published_position", "gauge", "Log position up to which every event is in the topic.",
       std::to_string(s.published_position));
  line(out, "onair_kafka_published_total", "counter", "Messages acknowledged by Kafka (acks=all) since start.",
       std::to_string(s.published_total));
  line(out, "onair_kafka_publisher_sessions_total", "counter", "Producer sessions started (restarts after errors).",
       std::to_string(s.sessions));
  line(out, "onair_kafka_broker_reachable", "gauge", "1 when the publisher reaches a broker.",
       s.broker_reachable ? "1" : "0");
  if (telemetry_) {
    const auto t = telemetry_->stats();
    line(out, "onair_kafka_telemetry_sent_total", "counter", "Stream health samples handed to the telemetry producer.",
         std::to_string(t.sent));
    line(out, "onair_kafka_telemetry_delivered_total", "counter", "Stream health samples the broker acknowledged.",
         std::to_string(t.delivered));
    line(out, "onair_kafka_telemetry_dropped_total", "counter",
         "Stream health samples dropped (full queue, not delivered within 5 s).", std::to_string(t.dropped));
  }
  return out;
}

} // namespace onair::api
