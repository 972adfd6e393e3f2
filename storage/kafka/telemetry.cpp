// The telemetry topic's producer: fire and forget, with a thread of its own serving librdkafka's
// delivery reports. See kafka.hpp.
#include <spdlog/spdlog.h>

#include <atomic>
#include <thread>

#include "storage/kafka/client.hpp"

namespace onair::storage::kafka {

using domain::error_code;
using domain::make_error;
using namespace detail;

struct telemetry_producer::impl {
  std::string topic;
  handle rk;
  std::atomic<std::uint64_t> sent{0}, delivered{0}, dropped{0};
  std::atomic<bool> stopping{false};
  std::thread poller;

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<impl*>(opaque);
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
      self->delivered.fetch_add(1, std::memory_order_relaxed);
    else
      self->dropped.fetch_add(1, std::memory_order_relaxed);
  }
};

result<std::unique_ptr<telemetry_producer>> telemetry_producer::start(const client_options& c) {
  auto i = std::make_unique<impl>();
  i->topic = c.topic;
  // At most once, bounded: a sample older than its successor is worth nothing.
  auto conf = make_conf(c, {{"acks", "1"},
                            {"enable.idempotence", "false"},
                            {"message.timeout.ms", "5000"},
                            {"linger.ms", "50"},
                            {"queue.buffering.max.messages", "10000"},
                            {"compression.type", "lz4"},
                            {"client.id", "onair-telemetry"}});
  if (!conf)
    return conf.error();
  rd_kafka_conf_set_opaque(conf->get(), i.get());
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &impl::on_delivery);
  auto rk = make_client(RD_KAFKA_PRODUCER, std::move(*conf));
  if (!rk)
    return make_error(rk.error().code, "telemetry producer for " + c.topic + ": " + rk.error().message);
  i->rk = std::move(*rk);
  i->poller = std::thread([p = i.get()] {
    while (!p->stopping.load(std::memory_order_relaxed))
      rd_kafka_poll(p->rk.get(), 200);
  });
  spdlog::info("kafka telemetry: topic={} brokers={}", c.topic, c.brokers);
  return std::unique_ptr<telemetry_producer>{new telemetry_producer{std::move(i)}};
}

telemetry_producer::telemetry_producer(std::unique_ptr<impl> i) : impl_{std::move(i)} {}

telemetry_producer::~telemetry_producer() {
  rd_kafka_flush(impl_->rk.get(), 2000);
  impl_->stopping = true;
  impl_->poller.join();
}

void telemetry_producer::send(std::string_view key, std::string_view value) {
  const auto err = rd_kafka_producev(
      impl_->rk.get(), RD_KAFKA_V_TOPIC(impl_->topic.c_str()),
      RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_HEADER("content-type", "application/json", -1), RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // A full queue (the broker away for a while): this sample goes, the next one may pass.
    if (impl_->dropped.fetch_add(1, std::memory_order_relaxed) % 1000 == 0)
      spdlog::warn("kafka telemetry: sample dropped topic={} error=\"{}\"", impl_->topic, rd_kafka_err2str(err));
    return;
  }
  impl_->sent.fetch_add(1, std::memory_order_relaxed);
}

telemetry_stats telemetry_producer::stats() const {
  return {impl_->sent.load(std::memory_order_relaxed), impl_->delivered.load(std::memory_order_relaxed),
          impl_->dropped.load(std::memory_order_relaxed)};
}

const std::string& telemetry_producer::topic() const { return impl_->topic; }

} // namespace onair::storage::kafka
