// librdkafka clients: configuration, reading the topic back, partitioning.
#include "storage/kafka/client.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <set>

namespace onair::storage::kafka {

using domain::error_code;
using domain::make_error;

namespace detail {

namespace {
void log_to_spdlog(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  // syslog levels: 0-3 errors, 4 warning, 5-6 notice/info, 7 debug.
  const auto lvl = level <= 3 ? spdlog::level::err
                   : level == 4 ? spdlog::level::warn
                   : level <= 6 ? spdlog::level::info
                                : spdlog::level::debug;
  spdlog::log(lvl, "kafka client={} {} {}", rd_kafka_name(rk), fac, buf);
}
} // namespace

result<conf_handle> make_conf(const client_options& c,
                              std::initializer_list<std::pair<const char*, std::string>> settings) {
  conf_handle conf{rd_kafka_conf_new()};
  char err[512];
  auto set = [&](const std::string& k, const std::string& v) -> status {
    if (rd_kafka_conf_set(conf.get(), k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK)
      return make_error(error_code::invalid_parameter, "kafka setting " + k + ": " + err, k);
    return domain::ok_status();
  };
  std::vector<std::pair<std::string, std::string>> all{
      {"bootstrap.servers", c.brokers},
      {"client.id", "onair"},
      {"reconnect.backoff.ms", "50"},
      {"reconnect.backoff.max.ms", "1000"},
      {"log.connection.close", "false"},
  };
  for (const auto& [k, v] : settings)
    all.emplace_back(k, v);
  all.insert(all.end(), c.properties.begin(), c.properties.end());
  for (const auto& [k, v] : all)
    if (auto s = set(k, v); !s)
      return s.error();
  rd_kafka_conf_set_log_cb(conf.get(), &log_to_spdlog);
  return conf;
}

result<handle> make_client(rd_kafka_type_t type, conf_handle conf) {
  char err[512];
  handle rk{rd_kafka_new(type, conf.get(), err, sizeof err)};
  if (!rk)
    return make_error(error_code::invalid_parameter, std::string{"kafka client: "} + err);
  conf.release(); // rd_kafka_new owns it now
  return rk;
}

std::string header_value(const rd_kafka_message_t* m, const char* name) {
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return {};
  const void* v = nullptr;
  std::size_t n = 0;
  if (rd_kafka_header_get_last(hdrs, name, &v, &n) != RD_KAFKA_RESP_ERR_NO_ERROR || v == nullptr)
    return {};
  return std::string{static_cast<const char*>(v), n};
}

} // namespace detail

using namespace detail;

result<std::vector<std::pair<std::string, std::string>>> read_properties_file(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    return make_error(error_code::invalid_parameter, "cannot read kafka properties file " + path, "kafka-config");
  std::vector<std::pair<std::string, std::string>> out;
  std::string line;
  int n = 0;
  auto trim = [](std::string s) {
    const auto b = s.find_first_not_of(" \t\r");
    const auto e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string{} : s.substr(b, e - b + 1);
  };
  while (std::getline(in, line)) {
    ++n;
    line = trim(line);
    if (line.empty() || line[0] == '#')
      continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos || trim(line.substr(0, eq)).empty())
      return make_error(error_code::invalid_parameter,
                        path + ":" + std::to_string(n) + ": expected `key = value`", "kafka-config");
    out.emplace_back(trim(line.substr(0, eq)), trim(line.substr(eq + 1)));
  }
  return out;
}

status check_properties(const client_options& c) {
  auto conf = make_conf(c, {});
  if (!conf)
    return conf.error();
  return domain::ok_status();
}

std::int32_t partition_of(std::string_view key, std::int32_t partitions) {
  return rd_kafka_msg_partitioner_murmur2(nullptr, key.data(), key.size(), partitions, nullptr, nullptr);
}

bool topic_tail::never_written() const {
  return std::all_of(high_watermark.begin(), high_watermark.end(), [](std::int64_t h) { return h == 0; });
}

namespace {

result<int> partition_count(rd_kafka_t* rk, rd_kafka_topic_t* rkt, const std::string& topic,
                            std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* md = nullptr;
  const auto err = rd_kafka_metadata(rk, 0, rkt, &md, static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return make_error(error_code::timeout, "kafka metadata for " + topic + ": " + rd_kafka_err2str(err));
  std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t*)> hold{md, &rd_kafka_metadata_destroy};
  if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR || md->topics[0].partition_cnt <= 0)
    return make_error(error_code::timeout,
                      "kafka topic " + topic + " is not available: " +
                          (md->topic_cnt == 1 ? rd_kafka_err2str(md->topics[0].err) : "no metadata"));
  return md->topics[0].partition_cnt;
}

} // namespace

status read_topic(const client_options& c, const read_options& o, const std::function<bool(const message&)>& on_message) {
  auto conf = make_conf(c, {{"enable.partition.eof", "true"}, {"enable.auto.commit", "false"},
                            {"fetch.wait.max.ms", "100"}, {"api.version.request", "true"}});
  if (!conf)
    return conf.error();
  auto rk = make_client(RD_KAFKA_CONSUMER, std::move(*conf));
  if (!rk)
    return rk.error();
  topic_handle rkt{rd_kafka_topic_new(rk->get(), c.topic.c_str(), nullptr)};
  auto parts = partition_count(rk->get(), rkt.get(), c.topic, o.timeout);
  if (!parts)
    return parts.error();
  queue_handle q{rd_kafka_queue_new(rk->get())};
  const auto start = o.from_beginning ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_TAIL(std::max<std::int64_t>(o.last_n, 0));
  for (int p = 0; p < *parts; ++p)
    if (rd_kafka_consume_start_queue(rkt.get(), p, start, q.get()) != 0)
      return make_error(error_code::storage_failure, "kafka consume_start partition " + std::to_string(p) + ": " +
                                                         rd_kafka_err2str(rd_kafka_last_error()));
  struct stopper {
    rd_kafka_topic_t* t;
    int n;
    ~stopper() {
      for (int p = 0; p < n; ++p)
        rd_kafka_consume_stop(t, p);
    }
  } stop_all{rkt.get(), *parts};

  std::set<int> at_end;
  const auto deadline = std::chrono::steady_clock::now() + o.timeout;
  for (;;) {
    if (!o.follow && static_cast<int>(at_end.size()) == *parts)
      return domain::ok_status();
    if (!o.follow && std::chrono::steady_clock::now() > deadline)
      return make_error(error_code::timeout, "kafka: the end of topic " + c.topic + " was not reached in time");
    rd_kafka_message_t* m = rd_kafka_consume_queue(q.get(), 100);
    if (m == nullptr)
      continue;
    std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> hold{m, &rd_kafka_message_destroy};
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      at_end.insert(m->partition);
      continue;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      spdlog::debug("kafka read partition={} error={}", m->partition, rd_kafka_err2str(m->err));
      continue; // transport errors are retried by librdkafka
    }
    message out;
    out.partition = m->partition;
    out.offset = m->offset;
    if (m->key)
      out.key.assign(static_cast<const char*>(m->key), m->key_len);
    if (m->payload)
      out.value.assign(static_cast<const char*>(m->payload), m->len);
    out.type = header_value(m, "type");
    const auto pos = header_value(m, "position");
    std::from_chars(pos.data(), pos.data() + pos.size(), out.position);
    at_end.erase(m->partition);
    if (!on_message(out))
      return domain::ok_status();
  }
}

result<topic_tail> read_topic_tail(const client_options& c, std::chrono::milliseconds timeout) {
  auto conf = make_conf(c, {});
  if (!conf)
    return conf.error();
  auto rk = make_client(RD_KAFKA_CONSUMER, std::move(*conf));
  if (!rk)
    return rk.error();
  topic_tail tail;
  {
    topic_handle rkt{rd_kafka_topic_new(rk->get(), c.topic.c_str(), nullptr)};
    auto parts = partition_count(rk->get(), rkt.get(), c.topic, timeout);
    if (!parts)
      return parts.error();
    tail.last_position.assign(static_cast<std::size_t>(*parts), 0);
    tail.high_watermark.assign(static_cast<std::size_t>(*parts), 0);
    for (int p = 0; p < *parts; ++p) {
      std::int64_t lo = 0, hi = 0;
      const auto err = rd_kafka_query_watermark_offsets(rk->get(), c.topic.c_str(), p, &lo, &hi,
                                                        static_cast<int>(timeout.count()));
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        return make_error(error_code::timeout, "kafka watermarks of " + c.topic + "/" + std::to_string(p) + ": " +
                                                   rd_kafka_err2str(err));
      tail.high_watermark[static_cast<std::size_t>(p)] = hi;
    }
  }
  read_options o;
  o.from_beginning = false;
  o.last_n = 1;
  o.timeout = timeout;
  auto read = read_topic(c, o, [&](const message& m) {
    auto& last = tail.last_position.at(static_cast<std::size_t>(m.partition));
    last = std::max(last, m.position);
    return true;
  });
  if (!read)
    return read.error();
  return tail;
}

} // namespace onair::storage::kafka
