#pragma once
// The event log on Kafka: a publisher that copies the log to a topic exactly once, an embedded
// Kafka-protocol broker for development (librdkafka's mock cluster), and a reader of the topic.
// librdkafka stays behind this header.
//
// Each message: key = the aggregate's stream name ("category/app/id"), value = the CloudEvents 1.0
// JSON of storage/cloud_events.hpp (the SSE feed's object), headers "type" (onair.…), "position"
// (the global log position, decimal) and "content-type" (application/cloudevents+json).
// Internal events (apps, flows) are not published, as in the feed.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/event_store.hpp"

namespace onair::storage::kafka {

inline constexpr const char* default_topic = "onair.events";

struct client_options {
  std::string brokers; // bootstrap.servers
  std::string topic = default_topic;
  // librdkafka settings passed through as given (security.protocol, sasl.*, ssl.*, …); they are
  // applied last, so they may also override onair's own choices.
  std::vector<std::pair<std::string, std::string>> properties;
};

// A file of librdkafka settings: `key = value` lines, `#` comments.
[[nodiscard]] result<std::vector<std::pair<std::string, std::string>>> read_properties_file(const std::string& path);
// Whether librdkafka accepts every pass-through setting (a name it does not know, a bad value).
[[nodiscard]] status check_properties(const client_options& c);

// An in-process Kafka-protocol broker (one mock broker, the topic created with `partitions`).
// Development only: it keeps its messages in memory, about 5 MiB (or 100k message sets) per
// partition, and loses them when the process ends.
class embedded_broker {
public:
  static result<std::unique_ptr<embedded_broker>> start(const std::string& topic, int partitions = 3);
  ~embedded_broker();
  embedded_broker(const embedded_broker&) = delete;
  embedded_broker& operator=(const embedded_broker&) = delete;

  [[nodiscard]] const std::string& bootstrap() const { return bootstrap_; }
  // Another topic (the telemetry topic, say); creating one that exists is an error.
  status create_topic(const std::string& topic, int partitions = 3);
  // Drops every client connection and refuses new ones until set_up() (a broker outage that
  // keeps the topic's contents).
  status set_down();
  status set_up();

private:
  struct impl;
  explicit embedded_broker(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
  std::string bootstrap_;
};

struct publisher_stats {
  std::uint64_t log_position = 0;       // last durable event of the log
  std::uint64_t published_position = 0; // every event up to here is in the topic (or not meant for it)
  std::uint64_t lag_events = 0;         // log_position - published_position
  double lag_seconds = 0;               // age of the oldest event not yet in the topic
  std::uint64_t published_total = 0;    // messages the broker acknowledged since start
  std::uint64_t found_in_topic = 0;     // events found already in the topic at the last (re)start
  std::uint64_t sessions = 0;           // producer sessions started (1 + restarts after errors)
  bool broker_reachable = false;
  std::string state;                    // connecting | publishing | stopped
  std::string last_error;
};

// Copies the log to the topic, exactly once, from one thread:
//  - it reads only committed (durable) events, so it never runs ahead of an append;
//  - on start it reads the last message of each partition (header "position"): an event is in the
//    topic iff its position is at most its partition's last one, because each partition holds a
//    prefix of the events meant for it (explicit murmur2 partitioning of the key, idempotent
//    producer, acks=all, ordered retries, no message timeout);
//  - broker outages are ridden out by librdkafka's retries (nothing times out, nothing is dropped);
//    at most `window` messages wait unacknowledged, the rest waits in the log;
//  - any producer error ends the session: the producer is dropped and a new session starts over
//    from the topic's tail, so a half-sent batch is neither lost nor duplicated;
//  - the acknowledged position is checkpointed in the store's view space (an optimisation that
//    bounds the scan on start; the topic stays the authority).
class publisher {
public:
  struct options {
    client_options client;
    std::size_t window = 20000;
    std::chrono::milliseconds checkpoint_every{1000};
    std::chrono::milliseconds retry_after{500}; // before a new session after an error
  };

  static std::unique_ptr<publisher> start(event_store& store, options opts);
  ~publisher(); // waits briefly for acks in flight; what is not acked is sent by the next start
  publisher(const publisher&) = delete;
  publisher& operator=(const publisher&) = delete;

  [[nodiscard]] publisher_stats stats() const;

  struct impl;

private:
  explicit publisher(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

// Stream health for analytics consumers, on a topic of its own (onair.telemetry): unlike the
// event log it is best effort — at most once, a message not delivered within a few seconds is
// dropped, and so is one sent while librdkafka's local queue is full. Nothing here is audit.
inline constexpr const char* default_telemetry_topic = "onair.telemetry";
struct telemetry_stats {
  std::uint64_t sent = 0;      // handed to librdkafka
  std::uint64_t delivered = 0; // acknowledged by the broker
  std::uint64_t dropped = 0;   // refused by a full queue, or not delivered in time
};
class telemetry_producer {
public:
  // c.topic is the telemetry topic.
  static result<std::unique_ptr<telemetry_producer>> start(const client_options& c);
  ~telemetry_producer(); // waits briefly for what is in flight
  telemetry_producer(const telemetry_producer&) = delete;
  telemetry_producer& operator=(const telemetry_producer&) = delete;

  // Never blocks (an event loop may call it): key picks the partition (one stream's health stays
  // in order), value is the JSON.
  void send(std::string_view key, std::string_view value);
  [[nodiscard]] telemetry_stats stats() const;
  [[nodiscard]] const std::string& topic() const;

  struct impl;

private:
  explicit telemetry_producer(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

// A message read back from the topic.
struct message {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string key;
  std::string value;
  std::string type;           // header "type"
  std::uint64_t position = 0; // header "position" (0 when absent)
};

struct read_options {
  bool from_beginning = true;
  std::int64_t last_n = 10;      // per partition, when not from_beginning
  bool follow = false;           // keep reading after the end, until on_message returns false
  std::chrono::milliseconds timeout{10000}; // to reach the broker and the end of every partition
};

// Reads the topic, each partition in order (partitions interleaved), calling on_message until it
// returns false or (unless follow) every partition's end is reached.
status read_topic(const client_options& c, const read_options& o, const std::function<bool(const message&)>& on_message);

// The topic's partition count and, per partition, the position of its last message (0 when
// empty) and its high watermark.
struct topic_tail {
  std::vector<std::uint64_t> last_position;
  std::vector<std::int64_t> high_watermark;
  [[nodiscard]] bool never_written() const;
};
result<topic_tail> read_topic_tail(const client_options& c, std::chrono::milliseconds timeout);

// The partition of a key: murmur2 like the Java client's default, so any client agrees.
[[nodiscard]] std::int32_t partition_of(std::string_view key, std::int32_t partitions);

} // namespace onair::storage::kafka
