#pragma once
// Internals shared by the Kafka files: RAII for librdkafka handles and the configuration onair
// gives every client. Not part of the public header.
#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>

#include "storage/kafka/kafka.hpp"

namespace onair::storage::kafka::detail {

struct rk_deleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct rkt_deleter {
  void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
};
struct conf_deleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
struct queue_deleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
using handle = std::unique_ptr<rd_kafka_t, rk_deleter>;
using topic_handle = std::unique_ptr<rd_kafka_topic_t, rkt_deleter>;
using conf_handle = std::unique_ptr<rd_kafka_conf_t, conf_deleter>;
using queue_handle = std::unique_ptr<rd_kafka_queue_t, queue_deleter>;

// A configuration with onair's defaults (logging to spdlog, quick reconnects), `settings` and
// then the caller's pass-through properties.
result<conf_handle> make_conf(const client_options& c,
                              std::initializer_list<std::pair<const char*, std::string>> settings);
result<handle> make_client(rd_kafka_type_t type, conf_handle conf);

[[nodiscard]] std::string header_value(const rd_kafka_message_t* m, const char* name);

} // namespace onair::storage::kafka::detail
