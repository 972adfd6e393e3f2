// `onair events tail` (the stream for operators, from Kafka or from the store) and
// `onair dev-broker` (the embedded broker in its own process, so that it outlives a killed server;
// SIGUSR1 takes it down, SIGUSR2 brings it back, keeping what the topic holds).
#include "api/cli_kafka.hpp"

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "api/admin_client.hpp"
#include "api/config.hpp"
#include "api/kafka_service.hpp"
#include "storage/cloud_events.hpp"
#include "storage/kafka/kafka.hpp"

namespace onair::api {

using nlohmann::json;

namespace {

constexpr int exit_usage = 2;
constexpr std::size_t last_default = 10;

int usage(const std::string& msg, const char* cmd) {
  std::cerr << "onair: " << msg << "\nTry `" << cmd << " --help`.\n";
  return exit_usage;
}

bool wants_help(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "--help" || a == "-h")
      return true;
  return false;
}

const char* tail_help = R"(Usage: onair events tail [--from-beginning] [--follow] [--type T]
                        [--data-dir DIR | --kafka HOST:PORT,...] [--topic T] [--kafka-config FILE]

Prints the event stream, one CloudEvents JSON object a line (the objects of the SSE feed and of
the Kafka topic), in log order. Without --from-beginning: the last 10 events. With --follow, new
events as they come (from Kafka: each partition, i.e. each aggregate, in order).

Where it reads:
  --kafka HOST:PORT,...   that Kafka cluster (topic --topic, default onair.events; --topic onair.telemetry
                          reads the stream health samples)
  otherwise, a server running on the data folder: the Kafka cluster it publishes to
  otherwise, the store in the data folder itself (no --follow: nothing else writes there)

Options:
  --from-beginning     every event, not only the last ones
  --follow             keep printing new events (Ctrl-C stops)
  --type T             only events of type T (onair.video_room.created or video_room.created)
  --data-dir DIR       the server's data folder [./var/onair, or ONAIR_DATA_DIR]
  --kafka-config FILE  librdkafka settings (SASL, TLS) as `key = value` lines
)";

const char* broker_help = R"(Usage: onair dev-broker [--topic T] [--partitions N]

Runs the embedded Kafka-protocol broker (librdkafka's mock cluster) as its own process and prints
`bootstrap: HOST:PORT`; point `onair serve --kafka HOST:PORT` at it. Development and tests only:
it keeps messages in memory, about 5 MiB per partition, and loses them when it exits.

Signals: SIGUSR1 takes the broker down (connections dropped and refused, the topic kept), SIGUSR2
brings it back up; it prints `broker down` / `broker up` once done. SIGINT or SIGTERM stops it.

Options:
  --topic T         the topic to create [onair.events]
  --partitions N    its partitions [3]
)";

struct tail_options {
  bool from_beginning = false;
  bool follow = false;
  std::string type;
  std::string data_dir;
  std::string kafka;
  std::string topic = storage::kafka::default_topic;
  std::string kafka_config;
};

bool type_matches(const tail_options& o, const std::string& type) {
  return o.type.empty() || type == o.type || type == "onair." + o.type;
}

int tail_kafka(const tail_options& o, storage::kafka::client_options c) {
  storage::kafka::read_options ro;
  ro.from_beginning = o.from_beginning;
  ro.last_n = static_cast<std::int64_t>(last_default);
  ro.follow = o.follow;
  // Following prints as messages come (each partition in order); otherwise what was read is put
  // in log order first, as the store would print it.
  std::vector<storage::kafka::message> read;
  auto done = storage::kafka::read_topic(c, ro, [&](const storage::kafka::message& m) {
    if (!type_matches(o, m.type))
      return true;
    if (o.follow)
      std::cout << m.value << "\n" << std::flush;
    else
      read.push_back(m);
    return true;
  });
  if (!done) {
    std::cerr << "onair: " << done.error().message << "\n";
    return 1;
  }
  // Stable: messages without a position (telemetry) keep their order.
  std::stable_sort(read.begin(), read.end(), [](const auto& a, const auto& b) { return a.position < b.position; });
  const std::size_t skip = o.from_beginning || read.size() <= last_default ? 0 : read.size() - last_default;
  for (std::size_t i = skip; i < read.size(); ++i)
    std::cout << read[i].value << "\n";
  std::cout << std::flush;
  return 0;
}

int tail_store(const tail_options& o) {
  storage::event_store::options so;
  so.path = (std::filesystem::path{o.data_dir} / "events").string();
  if (!std::filesystem::exists(so.path)) {
    std::cerr << "onair: no event store in " << o.data_dir << "\n";
    return 1;
  }
  auto store = storage::event_store::open(so);
  if (!store) {
    std::cerr << "onair: cannot open " << so.path << ": " << store.error().message << "\n";
    return 1;
  }
  std::vector<json> out;
  std::uint64_t after = 0;
  for (;;) {
    auto batch = (*store)->read_all(after, 2048);
    if (!batch) {
      std::cerr << "onair: " << batch.error().message << "\n";
      return 1;
    }
    if (batch->empty())
      break;
    for (const auto& rec : *batch) {
      after = rec.position;
      auto ev = storage::to_cloud_event(rec, std::nullopt, &(*store)->personal_keys());
      if (!ev || !type_matches(o, (*ev)["type"].get<std::string>()))
        continue;
      if (o.from_beginning) {
        std::cout << ev->dump() << "\n";
      } else {
        out.push_back(std::move(*ev));
        if (out.size() > last_default)
          out.erase(out.begin());
      }
    }
  }
  for (const auto& ev : out)
    std::cout << ev.dump() << "\n";
  std::cout << std::flush;
  return 0;
}

int cmd_events_tail(const std::vector<std::string>& args) {
  const char* cmd = "onair events tail";
  if (wants_help(args)) {
    std::cout << tail_help;
    return 0;
  }
  tail_options o;
  auto env = environment();
  o.data_dir = env.count("ONAIR_DATA_DIR") ? env["ONAIR_DATA_DIR"] : "./var/onair";
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    auto value = [&](std::string& out) {
      if (auto eq = a.find('='); eq != std::string::npos) {
        out = a.substr(eq + 1);
        return !out.empty();
      }
      if (i + 1 >= args.size())
        return false;
      out = args[++i];
      return !out.empty();
    };
    auto is = [&](const char* flag) { return a == flag || a.rfind(std::string{flag} + "=", 0) == 0; };
    if (a == "--from-beginning") {
      o.from_beginning = true;
    } else if (a == "--follow" || a == "-f") {
      o.follow = true;
    } else if (is("--type")) {
      if (!value(o.type))
        return usage("--type needs an event type", cmd);
    } else if (is("--data-dir")) {
      if (!value(o.data_dir))
        return usage("--data-dir needs a folder", cmd);
    } else if (is("--kafka")) {
      if (!value(o.kafka))
        return usage("--kafka needs HOST:PORT,...", cmd);
    } else if (is("--topic")) {
      if (!value(o.topic))
        return usage("--topic needs a topic", cmd);
    } else if (is("--kafka-config")) {
      if (!value(o.kafka_config))
        return usage("--kafka-config needs a file", cmd);
    } else {
      return usage("unknown option '" + a + "'", cmd);
    }
  }
  spdlog::set_level(spdlog::level::warn);
  storage::kafka::client_options c;
  c.topic = o.topic;
  if (!o.kafka_config.empty()) {
    auto props = storage::kafka::read_properties_file(o.kafka_config);
    if (!props) {
      std::cerr << "onair: " << props.error().message << "\n";
      return 1;
    }
    c.properties = std::move(*props);
  }
  if (!o.kafka.empty()) {
    c.brokers = o.kafka;
    return tail_kafka(o, c);
  }
  if (auto client = admin_client::find(o.data_dir)) {
    auto r = client->call("GET", "/v2/admin/kafka");
    if (!r || r->status != 200) {
      std::cerr << "onair: cannot ask the server for its Kafka settings: " << (r ? r->body : r.error().message) << "\n";
      return 1;
    }
    auto k = json::parse(r->body, nullptr, false);
    if (k.is_discarded() || !k.contains("bootstrap")) {
      std::cerr << "onair: the server on " << o.data_dir
                << " runs with --kafka off and holds its store; use --kafka HOST:PORT or stop it\n";
      return 1;
    }
    c.brokers = k["bootstrap"].get<std::string>();
    if (o.topic == storage::kafka::default_topic) // not asked for another (the telemetry topic, say)
      c.topic = k.value("topic", c.topic);
    return tail_kafka(o, c);
  }
  if (o.follow)
    return usage("--follow needs a running server or --kafka (nothing else writes to a stopped store)", cmd);
  return tail_store(o);
}

} // namespace

std::string kafka_banner(const kafka_service& k) {
  if (!k.enabled())
    return "off";
  return k.bootstrap() + "  topic " + k.topic() + (k.mode() == "embedded" ? "  (embedded broker, development only)" : "");
}

int cmd_events(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << tail_help;
    return args.empty() ? exit_usage : 0;
  }
  if (args[0] == "tail")
    return cmd_events_tail(std::vector<std::string>(args.begin() + 1, args.end()));
  return usage("unknown events command '" + args[0] + "'", "onair events tail");
}

int cmd_dev_broker(const std::vector<std::string>& args) {
  const char* cmd = "onair dev-broker";
  if (wants_help(args)) {
    std::cout << broker_help;
    return 0;
  }
  std::string topic = storage::kafka::default_topic;
  int partitions = 3;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if ((a == "--topic" || a == "--partitions") && i + 1 < args.size()) {
      const auto& v = args[++i];
      if (a == "--topic") {
        topic = v;
      } else {
        try {
          partitions = std::stoi(v);
        } catch (const std::exception&) {
          partitions = 0;
        }
        if (partitions < 1 || partitions > 64)
          return usage("--partitions must be 1 to 64", cmd);
      }
    } else {
      return usage("unknown option '" + a + "'", cmd);
    }
  }
  spdlog::set_level(spdlog::level::warn);
  // The signals are taken by this thread only; the broker's threads inherit the blocked mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  for (int s : {SIGINT, SIGTERM, SIGUSR1, SIGUSR2})
    sigaddset(&sigs, s);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto broker = storage::kafka::embedded_broker::start(topic, partitions);
  if (!broker) {
    std::cerr << "onair: " << broker.error().message << "\n";
    return 1;
  }
  std::cout << "onair dev-broker: embedded Kafka broker, topic " << topic << " (" << partitions
            << " partitions), in memory, about 5 MiB kept per partition\n"
            << "bootstrap: " << (*broker)->bootstrap() << std::endl;
  for (;;) {
    int sig = 0;
    sigwait(&sigs, &sig);
    if (sig == SIGUSR1 || sig == SIGUSR2) {
      auto s = sig == SIGUSR1 ? (*broker)->set_down() : (*broker)->set_up();
      if (!s)
        std::cerr << "onair: " << s.error().message << std::endl;
      else
        std::cout << (sig == SIGUSR1 ? "broker down" : "broker up") << std::endl;
      continue;
    }
    break;
  }
  std::cout << "stopped" << std::endl;
  return 0;
}

} // namespace onair::api
