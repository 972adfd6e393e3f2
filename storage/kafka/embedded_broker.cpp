// The embedded broker: librdkafka's mock cluster, which speaks the Kafka protocol on a loopback
// port. The cluster lives inside a client handle (a producer that sends nothing).
#include "storage/kafka/client.hpp" // rdkafka.h, which rdkafka_mock.h needs first

#include <librdkafka/rdkafka_mock.h>
#include <spdlog/spdlog.h>

namespace onair::storage::kafka {

using domain::error_code;
using domain::make_error;
using namespace detail;

struct embedded_broker::impl {
  handle host;
  rd_kafka_mock_cluster_t* cluster = nullptr;
  ~impl() {
    if (cluster != nullptr)
      rd_kafka_mock_cluster_destroy(cluster);
  }
};

embedded_broker::embedded_broker(std::unique_ptr<impl> i) : impl_(std::move(i)) {
  bootstrap_ = rd_kafka_mock_cluster_bootstraps(impl_->cluster);
}

embedded_broker::~embedded_broker() = default;

result<std::unique_ptr<embedded_broker>> embedded_broker::start(const std::string& topic, int partitions) {
  client_options none;
  none.brokers = "";
  // Its own client never connects anywhere: only errors are worth a log line.
  auto conf = make_conf(none, {{"client.id", "onair-embedded-broker"}, {"log_level", "3"}});
  if (!conf)
    return conf.error();
  auto rk = make_client(RD_KAFKA_PRODUCER, std::move(*conf));
  if (!rk)
    return rk.error();
  auto i = std::make_unique<impl>();
  i->host = std::move(*rk);
  i->cluster = rd_kafka_mock_cluster_new(i->host.get(), 1);
  if (i->cluster == nullptr)
    return make_error(error_code::internal, "cannot start the embedded Kafka broker");
  if (const auto err = rd_kafka_mock_topic_create(i->cluster, topic.c_str(), partitions, 1);
      err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return make_error(error_code::internal, "embedded Kafka broker: cannot create topic " + topic + ": " +
                                                rd_kafka_err2str(err));
  return std::unique_ptr<embedded_broker>{new embedded_broker{std::move(i)}};
}

status embedded_broker::create_topic(const std::string& topic, int partitions) {
  if (const auto err = rd_kafka_mock_topic_create(impl_->cluster, topic.c_str(), partitions, 1);
      err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return make_error(error_code::internal, "embedded Kafka broker: cannot create topic " + topic + ": " +
                                                rd_kafka_err2str(err));
  return domain::ok_status();
}

status embedded_broker::set_down() {
  if (const auto err = rd_kafka_mock_broker_set_down(impl_->cluster, -1); err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return make_error(error_code::internal, std::string{"embedded broker down: "} + rd_kafka_err2str(err));
  return domain::ok_status();
}

status embedded_broker::set_up() {
  if (const auto err = rd_kafka_mock_broker_set_up(impl_->cluster, -1); err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return make_error(error_code::internal, std::string{"embedded broker up: "} + rd_kafka_err2str(err));
  return domain::ok_status();
}

} // namespace onair::storage::kafka
