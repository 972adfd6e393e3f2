// The outbox relay: the durable log, read in order by one thread, into the topic exactly once.
// See kafka.hpp for the argument; the comments here say how each step keeps it.
#include <spdlog/spdlog.h>

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "storage/cloud_events.hpp"
#include "storage/kafka/client.hpp"

namespace onair::storage::kafka {

using domain::error_code;
using domain::make_error;
using namespace detail;

namespace {

// A message's headers: the event's type and position, its content type, and its provenance and
// audit-chain attributes as CloudEvents binary-mode headers (ce_{attribute}), so a consumer can
// route or filter on who and which request without parsing the value.
rd_kafka_headers_t* message_headers(const nlohmann::json& ev, const std::string& type, const std::string& position) {
  rd_kafka_headers_t* h = rd_kafka_headers_new(16);
  rd_kafka_header_add(h, "type", -1, type.data(), static_cast<ssize_t>(type.size()));
  rd_kafka_header_add(h, "position", -1, position.data(), static_cast<ssize_t>(position.size()));
  rd_kafka_header_add(h, "content-type", -1, "application/cloudevents+json", -1);
  for (const char* attribute : {"onairprincipal", "onairclientip", "onairuseragent", "onairrequestid", "onaircorrelationid",
                                "onaircausationid", "onairchain", "onairchainseq", "onairhash"}) {
    const auto it = ev.find(attribute);
    if (it == ev.end())
      continue;
    const auto text = it->is_string() ? it->get<std::string>() : it->dump();
    const auto name = std::string{"ce_"} + attribute;
    rd_kafka_header_add(h, name.c_str(), -1, text.data(), static_cast<ssize_t>(text.size()));
  }
  return h;
}
constexpr std::size_t read_chunk = 512;
constexpr auto idle_wait = std::chrono::milliseconds{2};
constexpr auto connect_timeout = std::chrono::milliseconds{5000};

std::string checkpoint_key(const std::string& topic) { return "kafka/published/" + topic; }

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
} // namespace

struct publisher::impl {
  event_store& store;
  options opts;

  std::atomic<bool> stopping{false};
  std::mutex wait_mu;
  std::condition_variable wait_cv;

  // Progress, read by stats() from other threads.
  std::atomic<std::uint64_t> published{0};
  std::atomic<std::uint64_t> published_total{0};
  std::atomic<std::uint64_t> found_in_topic{0};
  std::atomic<std::uint64_t> sessions{0};
  std::atomic<bool> reachable{false};
  mutable std::mutex text_mu;
  std::string state = "connecting";
  std::string last_error;

  // Session state: on the publisher thread only (delivery reports run inside rd_kafka_poll there).
  std::deque<bool> acked; // acked[i]: position published+1+i is in the topic (or not meant for it)
  bool session_failed = false;
  std::uint64_t checkpointed = 0;

  std::thread thread; // last: starts once the rest is built

  impl(event_store& s, options o) : store(s), opts(std::move(o)) {}

  void set_state(std::string s, std::string err = {}) {
    std::lock_guard lock{text_mu};
    state = std::move(s);
    if (!err.empty())
      last_error = std::move(err);
  }

  bool wait_for(std::chrono::milliseconds d) {
    std::unique_lock lock{wait_mu};
    wait_cv.wait_for(lock, d, [this] { return stopping.load(); });
    return !stopping.load();
  }

  void run() {
    while (!stopping.load()) {
      ++sessions;
      session();
      if (!stopping.load())
        wait_for(opts.retry_after);
    }
    set_state("stopped");
  }

  std::uint64_t read_checkpoint() const {
    auto v = store.views().get(checkpoint_key(opts.client.topic));
    std::uint64_t p = 0;
    if (v)
      std::from_chars(v->data(), v->data() + v->size(), p);
    return p;
  }

  void write_checkpoint() {
    const auto p = published.load();
    if (p == checkpointed)
      return;
    auto s = store.write_views([&](kv_writer& w) { w.put(checkpoint_key(opts.client.topic), std::to_string(p)); });
    if (s)
      checkpointed = p;
    else
      spdlog::warn("kafka publisher: checkpoint not written error={}", s.error().message);
  }

  // Marks position pos (published+1+i) as in the topic and moves `published` over the acked prefix.
  void mark_done(std::uint64_t pos) {
    const auto base = published.load() + 1;
    if (pos < base || pos - base >= acked.size())
      return;
    acked[pos - base] = true;
    std::uint64_t advanced = 0;
    while (!acked.empty() && acked.front()) {
      acked.pop_front();
      ++advanced;
    }
    if (advanced)
      published.fetch_add(advanced);
  }

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<impl*>(opaque);
    const auto pos = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(m->_private));
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // Nothing times out and retries are librdkafka's: an error here is permanent for this
      // session. Start over from the topic's tail rather than guess what landed.
      if (!self->session_failed)
        spdlog::error("kafka publisher: delivery of position {} failed error={}", pos, rd_kafka_err2str(m->err));
      self->session_failed = true;
      self->set_state("connecting", rd_kafka_err2str(m->err));
      return;
    }
    self->reachable = true;
    ++self->published_total;
    self->mark_done(pos);
  }

  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto* self = static_cast<impl*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
      self->reachable = false;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      char buf[512];
      rd_kafka_fatal_error(rk, buf, sizeof buf);
      spdlog::error("kafka publisher: fatal producer error={}", buf);
      self->session_failed = true;
      self->set_state("connecting", buf);
      return;
    }
    spdlog::debug("kafka publisher: client error={} reason={}", rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err)),
                  reason);
  }

  void session() {
    session_failed = false;
    acked.clear();
    set_state("connecting");

    // 1. Where the topic stands: the last position of each partition.
    auto tail = read_topic_tail(opts.client, connect_timeout);
    if (!tail) {
      reachable = false;
      set_state("connecting", tail.error().message);
      spdlog::warn("kafka publisher: topic {} not readable yet error={}", opts.client.topic, tail.error().message);
      return;
    }
    reachable = true;
    const auto partitions = static_cast<std::int32_t>(tail->last_position.size());
    // A topic never written to holds nothing of ours, whatever the checkpoint says (a new
    // embedded broker, a recreated topic). Otherwise everything up to the checkpoint is there.
    const std::uint64_t start =
        tail->never_written() ? 0 : std::min(read_checkpoint(), store.last_position());
    published = start;
    checkpointed = start;

    // 2. The producer: idempotent, acks=all, ordered retries, nothing ever times out.
    auto conf = make_conf(opts.client, {{"enable.idempotence", "true"},
                                        {"acks", "all"},
                                        {"max.in.flight.requests.per.connection", "5"},
                                        {"message.timeout.ms", "0"},
                                        {"linger.ms", "5"},
                                        {"queue.buffering.max.messages", std::to_string(opts.window + read_chunk)},
                                        {"compression.type", "lz4"}});
    if (!conf) {
      set_state("connecting", conf.error().message);
      return;
    }
    rd_kafka_conf_set_opaque(conf->get(), this);
    rd_kafka_conf_set_dr_msg_cb(conf->get(), &impl::on_delivery);
    rd_kafka_conf_set_error_cb(conf->get(), &impl::on_error);
    auto producer = make_client(RD_KAFKA_PRODUCER, std::move(*conf));
    if (!producer) {
      set_state("connecting", producer.error().message);
      return;
    }
    rd_kafka_t* rk = producer->get();
    topic_handle rkt{rd_kafka_topic_new(rk, opts.client.topic.c_str(), nullptr)};

    std::uint64_t found = 0;
    std::uint64_t next = start; // last position read from the log
    set_state("publishing");
    spdlog::info("kafka publisher: session {} topic={} partitions={} resuming_after={} log_position={}",
                 sessions.load(), opts.client.topic, partitions, start, store.last_position());
    auto last_checkpoint = std::chrono::steady_clock::now();

    while (!stopping.load() && !session_failed) {
      rd_kafka_poll(rk, 0);
      bool progressed = false;
      // 3. Read what is durable, up to the window, and send what the topic lacks.
      if (acked.size() < opts.window && store.last_position() > next) {
        auto batch = store.read_all(next, std::min(read_chunk, opts.window - acked.size()));
        if (!batch) {
          set_state("publishing", batch.error().message);
          spdlog::error("kafka publisher: log read failed error={}", batch.error().message);
          break;
        }
        for (const auto& rec : *batch) {
          while (next + 1 < rec.position) { // no gaps expected; never wait on one
            acked.push_back(true);
            ++next;
          }
          next = rec.position;
          acked.push_back(false);
          auto ev = to_cloud_event(rec, std::nullopt, &store.personal_keys());
          const auto partition = partition_of(rec.stream, partitions);
          if (!ev || rec.position <= tail->last_position[static_cast<std::size_t>(partition)]) {
            if (ev)
              ++found;
            mark_done(rec.position);
            continue;
          }
          const auto value = ev->dump();
          const auto pos_text = std::to_string(rec.position);
          const auto& type = (*ev)["type"].get_ref<const std::string&>();
          for (;;) {
            // librdkafka owns the headers once the message is queued; not before.
            rd_kafka_headers_t* headers = message_headers(*ev, type, pos_text);
            const auto err = rd_kafka_producev(
                rk, RD_KAFKA_V_RKT(rkt.get()), RD_KAFKA_V_PARTITION(partition),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_KEY(rec.stream.data(), rec.stream.size()),
                RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_HEADERS(headers),
                RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<std::uintptr_t>(rec.position))), RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
              break;
            rd_kafka_headers_destroy(headers);
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !stopping.load() && !session_failed) {
              rd_kafka_poll(rk, 10);
              continue;
            }
            spdlog::error("kafka publisher: produce of position {} failed error={}", rec.position, rd_kafka_err2str(err));
            set_state("connecting", rd_kafka_err2str(err));
            session_failed = true;
            break;
          }
          if (session_failed)
            break;
        }
        progressed = !batch->empty();
      }
      if (found) {
        found_in_topic = found;
      }
      const auto now = std::chrono::steady_clock::now();
      if (now - last_checkpoint >= opts.checkpoint_every) {
        write_checkpoint();
        last_checkpoint = now;
      }
      if (!progressed)
        rd_kafka_poll(rk, static_cast<int>(idle_wait.count()));
    }

    // 4. Leaving: give acks in flight a moment (a clean stop usually has none left), then drop
    // the rest; the next session finds out from the topic what made it.
    if (!session_failed)
      rd_kafka_flush(rk, 2000);
    rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(rk, 0);
    write_checkpoint();
    rkt.reset();
    producer->reset();
  }
};

publisher::publisher(std::unique_ptr<impl> i) : impl_(std::move(i)) {}

std::unique_ptr<publisher> publisher::start(event_store& store, options opts) {
  auto i = std::make_unique<impl>(store, std::move(opts));
  // Until the first session has read the topic, the checkpoint is the best estimate of the lag.
  i->published = std::min(i->read_checkpoint(), store.last_position());
  auto* raw = i.get();
  i->thread = std::thread([raw] {
    ::pthread_setname_np(::pthread_self(), "onair-kafka");
    raw->run();
  });
  return std::unique_ptr<publisher>{new publisher{std::move(i)}};
}

publisher::~publisher() {
  {
    std::lock_guard lock{impl_->wait_mu};
    impl_->stopping = true;
  }
  impl_->wait_cv.notify_all();
  if (impl_->thread.joinable())
    impl_->thread.join();
}

publisher_stats publisher::stats() const {
  publisher_stats s;
  s.log_position = impl_->store.last_position();
  s.published_position = std::min(impl_->published.load(), s.log_position);
  s.lag_events = s.log_position - s.published_position;
  if (s.lag_events > 0) {
    auto first = impl_->store.read_all(s.published_position, 1);
    if (first && !first->empty())
      s.lag_seconds = std::max<double>(0, static_cast<double>(now_ms() - first->front().time_ms) / 1000.0);
  }
  s.published_total = impl_->published_total.load();
  s.found_in_topic = impl_->found_in_topic.load();
  s.sessions = impl_->sessions.load();
  s.broker_reachable = impl_->reachable.load();
  std::lock_guard lock{impl_->text_mu};
  s.state = impl_->state;
  s.last_error = impl_->last_error;
  return s;
}

} // namespace onair::storage::kafka
