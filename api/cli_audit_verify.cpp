#include "api/cli_audit_verify.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <openssl/evp.h>

#include "api/admin_client.hpp"
#include "api/config.hpp"
#include "api/http_server.hpp"
#include "storage/audit_verify.hpp"
#include "storage/kafka/kafka.hpp"

namespace onair::api {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int exit_usage = 2;
constexpr int exit_broken = 3;

constexpr const char* verify_help = R"(Usage: onair audit verify [--data-dir DIR] [--public-key FILE] [--json]
       onair audit verify --feed http://HOST:PORT [--public-key FILE] [--json]
       onair audit verify --kafka HOST:PORT,... [--topic T] [--kafka-config FILE] [--public-key FILE] [--json]

Checks the audit trail of the store in DIR: every event's hash over its stored bytes, its link to
the previous event of its app's chain, sequence numbers without gaps, every signed checkpoint,
that no log position is missing and that each chain ends at the head the store records. Stops at
the first break and names its position.

  --data-dir DIR     the server's data folder (default $ONAIR_DATA_DIR or ./var/onair), read
                     as it is when the check starts (a server may be running on it)
  --feed URL         instead, one app's trail from outside: its audit feed read from the server at
                     URL with the app's credentials from $ONAIR_API_KEY and $ONAIR_API_SECRET (the
                     same checks but the log's positions and the store's heads, which the feed
                     does not show; a stream key value the feed masks is checked by its hash)
  --kafka HOSTS      instead, every app's trail as the Kafka topic holds it (topic --topic, default
                     onair.events; librdkafka settings from --kafka-config, `key = value` lines),
                     read whole and checked in log order: the same checks as --feed, for each app
  --public-key FILE  the checkpoint key's public half in PEM (default DIR/audit/signing.key.pub;
                     with --feed, the server's GET /audit/public-key: pin it with this instead)
  --json             the report as one JSON object

Exit status: 0 the trail verifies, 3 it is broken, 1 it could not be read, 2 bad usage.
)";

constexpr const char* public_key_help = R"(Usage: onair audit public-key [--data-dir DIR]

Prints the public half (PEM) of the Ed25519 key that signs the audit checkpoints of DIR, for
whoever verifies the trail without trusting the server.
)";

int usage(const std::string& msg, const char* cmd) {
  std::cerr << "onair: " << msg << "\nTry `" << cmd << " --help`.\n";
  return exit_usage;
}

std::optional<std::string> read_file(const fs::path& p) {
  std::ifstream in{p, std::ios::binary};
  if (!in)
    return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string default_data_dir() {
  auto env = environment();
  return env.count("ONAIR_DATA_DIR") ? env["ONAIR_DATA_DIR"] : "./var/onair";
}

} // namespace

int cmd_audit_public_key(const std::vector<std::string>& args) {
  const char* cmd = "onair audit public-key";
  std::string data_dir = default_data_dir();
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::cout << public_key_help;
      return 0;
    }
    if (args[i] == "--data-dir" && i + 1 < args.size())
      data_dir = args[++i];
    else if (args[i].rfind("--data-dir=", 0) == 0)
      data_dir = args[i].substr(11);
    else
      return usage("unknown argument '" + args[i] + "'", cmd);
  }
  const auto pem = read_file(storage::audit::signing_key_path(data_dir).string() + ".pub");
  if (!pem) {
    std::cerr << "onair: no audit key in " << data_dir << " (the server makes one on its first start)\n";
    return 1;
  }
  std::cout << *pem;
  return 0;
}

std::string basic_auth(const std::string& key, const std::string& secret) {
  const std::string plain = key + ":" + secret;
  std::string out(4 * ((plain.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size()));
  out.resize(static_cast<std::size_t>(n));
  return "Basic " + out;
}

bool is_events_page(const json& page) {
  if (!page.is_object() || !page.contains("events") || !page["events"].is_array())
    return false;
  for (const char* name : {"next", "lastPosition"})
    if (const auto it = page.find(name); it != page.end() && !it->is_number_unsigned())
      return false;
  const auto more = page.find("more");
  return more == page.end() || more->is_boolean();
}

// One app's feed from its beginning, page by page, through the checker.
domain::result<storage::audit::verify_report> verify_feed(admin_client& http, const storage::audit::verifying_key* key) {
  storage::audit::shown_verifier verifier{key};
  std::uint64_t after = 0;
  auto last_report = std::chrono::steady_clock::now();
  for (;;) {
    auto page = http.call("GET", "/v2/apps/me/events?limit=1000&after=" + std::to_string(after));
    if (!page)
      return page.error();
    if (page->status != 200)
      return domain::make_error(domain::error_code::internal,
                                fmt::format("the feed answered {}: {}", page->status, page->body.substr(0, 300)));
    const auto j = json::parse(page->body, nullptr, false);
    if (!is_events_page(j))
      return domain::make_error(domain::error_code::internal, "the feed's answer is not a page of events");
    for (const auto& e : j["events"])
      if (!verifier.add(e))
        return verifier.report();
    after = j.value("next", after);
    if (std::chrono::steady_clock::now() - last_report > std::chrono::milliseconds{500}) {
      last_report = std::chrono::steady_clock::now();
      std::cerr << fmt::format("onair: verified the feed up to position {}\n", after);
    }
    if (j["events"].empty() && !j.value("more", false))
      return verifier.report();
  }
}

// Every app's trail as a Kafka topic holds it: read whole (each partition is in log order, the
// partitions are not), put back in log order, then through the checker. A message that is not a
// CloudEvent breaks the trail where it stands.
domain::result<storage::audit::verify_report> verify_topic(const storage::kafka::client_options& c,
                                                           const storage::audit::verifying_key* key) {
  std::vector<std::pair<std::uint64_t, std::string>> messages;
  auto last_report = std::chrono::steady_clock::now();
  auto read = storage::kafka::read_topic(c, {}, [&](const storage::kafka::message& m) {
    messages.emplace_back(m.position, m.value);
    if (std::chrono::steady_clock::now() - last_report > std::chrono::milliseconds{500}) {
      last_report = std::chrono::steady_clock::now();
      std::cerr << fmt::format("onair: read {} messages of {}\n", messages.size(), c.topic);
    }
    return true;
  });
  if (!read)
    return domain::make_error(read.error().code, "reading " + c.topic + ": " + read.error().message);
  std::stable_sort(messages.begin(), messages.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  storage::audit::shown_verifier verifier{key};
  for (const auto& [position, value] : messages) {
    const auto ce = json::parse(value, nullptr, false);
    if (!ce.is_object()) {
      auto report = verifier.report();
      report.broken = storage::audit::breakage{position, 0, "a message of the topic is not a CloudEvent"};
      return report;
    }
    if (!verifier.add(ce))
      break;
  }
  return verifier.report();
}

int cmd_audit_verify(const std::vector<std::string>& args) {
  const char* cmd = "onair audit verify";
  std::string data_dir = default_data_dir(), public_key, feed, kafka, kafka_config;
  std::string topic{storage::kafka::default_topic};
  bool as_json = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    auto value = [&](const char* flag, std::string& out) {
      const std::string f{flag};
      if (a.rfind(f + "=", 0) == 0) {
        out = a.substr(f.size() + 1);
        return true;
      }
      if (a == f && i + 1 < args.size()) {
        out = args[++i];
        return true;
      }
      return false;
    };
    if (a == "--help" || a == "-h") {
      std::cout << verify_help;
      return 0;
    }
    if (a == "--json")
      as_json = true;
    else if (!value("--data-dir", data_dir) && !value("--public-key", public_key) && !value("--feed", feed) &&
             !value("--kafka", kafka) && !value("--topic", topic) && !value("--kafka-config", kafka_config))
      return usage("unknown argument '" + a + "'", cmd);
  }
  if (!feed.empty() && !kafka.empty())
    return usage("--feed and --kafka are two ways to read a trail: give one", cmd);
  // The key that checks checkpoint signatures: the file given, else the data folder's, else (from
  // outside) the one the server serves.
  std::optional<std::string> key_pem;
  if (!public_key.empty() && !(key_pem = read_file(public_key))) {
    std::cerr << "onair: cannot read " << public_key << "\n";
    return 1;
  }
  domain::result<storage::audit::verify_report> report =
      domain::make_error(domain::error_code::internal, "nothing verified");
  std::optional<storage::audit::verifying_key> key;
  const auto load_key = [&key](const std::string& pem, const std::string& from) {
    auto k = storage::audit::verifying_key::from_pem(pem);
    if (!k) {
      std::cerr << "onair: " << from << ": " << k.error().message << "\n";
      return false;
    }
    key = std::move(k).value();
    return true;
  };
  // Over the store or the topic: the key given, else the data folder's.
  const auto load_key_of_data_dir = [&] {
    const auto pub = storage::audit::signing_key_path(data_dir).string() + ".pub";
    if (!key_pem && !(key_pem = read_file(pub)))
      std::cerr << "onair: no public key given nor at " << pub << ": checkpoint signatures are not checked\n";
    return !key_pem || load_key(*key_pem, public_key.empty() ? pub : public_key);
  };
  if (!feed.empty()) {
    const std::string scheme = "http://";
    const auto authority = feed.rfind(scheme, 0) == 0 ? feed.substr(scheme.size(), feed.find('/', scheme.size()) - scheme.size())
                                                      : std::string{};
    auto where = parse_listen_address(authority);
    if (authority.empty() || !where)
      return usage("--feed needs http://HOST:PORT", cmd);
    auto env = environment();
    if (!env.count("ONAIR_API_KEY") || !env.count("ONAIR_API_SECRET"))
      return usage("--feed reads the app's credentials from $ONAIR_API_KEY and $ONAIR_API_SECRET", cmd);
    if (!key_pem) {
      auto served = admin_client::at(where->host, where->port, "").call("GET", "/audit/public-key");
      if (served && served->status == 200) {
        key_pem = served->body;
        std::cerr << "onair: checking signatures with the key the server serves; pin it with --public-key\n";
      } else {
        std::cerr << "onair: the server serves no audit key: checkpoint signatures are not checked\n";
      }
    }
    if (key_pem && !load_key(*key_pem, public_key.empty() ? "the server's audit key" : public_key))
      return 1;
    auto http = admin_client::at(where->host, where->port, basic_auth(env["ONAIR_API_KEY"], env["ONAIR_API_SECRET"]));
    report = verify_feed(http, key ? &*key : nullptr);
  } else if (!load_key_of_data_dir()) {
    return 1;
  } else if (!kafka.empty()) {
    storage::kafka::client_options c;
    c.brokers = kafka;
    c.topic = topic;
    if (!kafka_config.empty()) {
      auto props = storage::kafka::read_properties_file(kafka_config);
      if (!props) {
        std::cerr << "onair: " << props.error().message << "\n";
        return 1;
      }
      c.properties = std::move(*props);
    }
    spdlog::set_level(spdlog::level::warn);
    report = verify_topic(c, key ? &*key : nullptr);
  } else {
    storage::event_store::options so;
    so.path = (fs::path{data_dir} / "events").string();
    so.read_only = true;
    if (!fs::exists(so.path)) {
      std::cerr << "onair: no event store in " << data_dir << "\n";
      return 1;
    }
    auto store = storage::event_store::open(so);
    if (!store) {
      std::cerr << "onair: cannot open " << so.path << ": " << store.error().message << "\n";
      return 1;
    }
    storage::audit::verify_options vo;
    vo.key = key ? &*key : nullptr;
    auto last_report = std::chrono::steady_clock::now();
    vo.progress = [&](std::uint64_t position, std::uint64_t last) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last_report < std::chrono::milliseconds{500} && position != last)
        return;
      last_report = now;
      std::cerr << fmt::format("onair: verified up to position {} of {} ({}%)\n", position, last,
                               last == 0 ? 100 : position * 100 / last);
    };
    report = storage::audit::verify_store(**store, vo);
  }
  if (!report) {
    std::cerr << "onair: " << report.error().message << "\n";
    return 1;
  }
  json chains = json::array();
  for (const auto& [chain, s] : report->chains)
    if (s.seq > 0)
      chains.push_back({{"chain", chain},
                        {"events", s.seq},
                        {"head", storage::audit::hex(s.hash)},
                        {"signedThrough", s.signed_seq},
                        {"unsignedEvents", s.seq - s.signed_seq}});
  if (as_json) {
    json out{{"ok", report->ok()},
             {"events", report->events},
             {"unchained", report->unchained},
             {"checkpoints", report->checkpoints},
             {"signaturesChecked", key.has_value()},
             {"chains", chains}};
    if (report->broken)
      out["broken"] = {{"position", report->broken->position}, {"chain", report->broken->chain}, {"what", report->broken->what}};
    std::cout << out.dump() << "\n";
  } else if (report->ok()) {
    std::cout << fmt::format("audit trail verifies: {} events in {} chains, {} signed checkpoints{}{}\n", report->events,
                             chains.size(), report->checkpoints, key ? "" : " (signatures not checked)",
                             report->unchained ? fmt::format(", {} events from before chains", report->unchained) : "");
    for (const auto& c : chains)
      if (c["unsignedEvents"].get<std::uint64_t>() > 0)
        std::cout << fmt::format("  chain {}: {} events after its last checkpoint (hash-linked, not yet signed)\n",
                                 c["chain"].get<std::int64_t>(), c["unsignedEvents"].get<std::uint64_t>());
  } else {
    std::cout << fmt::format("audit trail BROKEN at position {} (chain {}): {}\n", report->broken->position,
                             report->broken->chain, report->broken->what);
  }
  return report->ok() ? 0 : exit_broken;
}

} // namespace onair::api
