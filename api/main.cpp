// The onair command line: serve, app create/list, rebuild-views.
#include <signal.h>

#include <cstdio>
#include <functional>
#include <optional>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/log_context.hpp"
#include "api/admin_client.hpp"
#include "api/cli_audit.hpp"
#include "api/cli_kafka.hpp"
#include "api/config.hpp"
#include "api/kafka_service.hpp"
#include "api/server.hpp"
#include "media/ffmpeg/scaler_kernels.hpp"
#include "storage/views.hpp"

using namespace onair;
using nlohmann::json;

namespace {

constexpr int exit_usage = 2;

const char* main_help = R"(onair - live broadcasting backend (RTMP ingest; RTMP, HTTP-FLV, HLS, DASH playback; VOD)

Usage: onair COMMAND [OPTIONS]

Commands:
  serve            run the server (store, actors, HTTP API)
  app create       create an app and print its API key and secret (shown once)
  app list         list the apps
  app rotate-secret  give an app a new API secret, print it once; the old one is refused from then on
  rebuild-views    drop the read models and rebuild them from the event log (server stopped)
  events tail      print the event stream (CloudEvents, one JSON a line) from Kafka or the store
  audit COMMAND    the audit trail: export (NDJSON, filtered like the feed), verify, public-key
  dev-broker       run the embedded Kafka broker as its own process (development, tests)
  help [COMMAND]   show help for a command

Run `onair COMMAND --help` for the options of each command.
)";

void print_serve_help() {
  std::cout << "Usage: onair serve [OPTIONS]\n\n"
               "Runs onair. Settings come from flags, then ONAIR_* environment variables, then the\n"
               "config file, then the defaults in brackets.\n\nOptions:\n";
  for (const auto& s : api::settings())
    std::printf("  --%-14s %-20s %s\n", s.key, s.env, s.help);
  std::cout << "\nOn first start with an empty data folder, a first app is created and its API key and\n"
               "secret are printed once. Stop with Ctrl-C (SIGINT) or SIGTERM.\n";
}

const char* app_create_help = R"(Usage: onair app create --name NAME [--json] [--data-dir DIR]

Creates an app. Its API key and secret are printed once: the secret is stored only as a salted
hash and cannot be shown again. Works whether or not a server runs on the data folder (it goes
through a running server when there is one).

Options:
  --name NAME       the app's name (required)
  --json            print JSON instead of text
  --data-dir DIR    the server's data folder [./var/onair, or ONAIR_DATA_DIR]
)";

const char* app_list_help = R"(Usage: onair app list [--json] [--data-dir DIR]

Lists the apps (id, name, API key, created at). Never shows secrets.

Options:
  --json            print JSON instead of text
  --data-dir DIR    the server's data folder [./var/onair, or ONAIR_DATA_DIR]
)";

const char* app_rotate_help = R"(Usage: onair app rotate-secret --api-key KEY [--json] [--data-dir DIR]

Gives the app a new API secret and prints it once; from then on the old secret is refused. The
rotation is an event of the app (app.secret_rotated) in the log. Works whether or not a server
runs on the data folder (it goes through a running server when there is one). `onair app list`
shows the API keys.

Options:
  --api-key KEY     the app's API key (required)
  --json            print JSON instead of text
  --data-dir DIR    the server's data folder [./var/onair, or ONAIR_DATA_DIR]
)";

const char* rebuild_help = R"(Usage: onair rebuild-views [--data-dir DIR]

Drops every read model (lists, lookups) and rebuilds it from the event log, with progress.
The server must be stopped: the data folder admits one process.

Options:
  --data-dir DIR    the server's data folder [./var/onair, or ONAIR_DATA_DIR]
)";

int usage_error(const std::string& msg, const char* help_hint) {
  std::cerr << "onair: " << msg << "\n" << "Try `" << help_hint << " --help`.\n";
  return exit_usage;
}

bool wants_help(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "--help" || a == "-h")
      return true;
  return false;
}

void set_log_level(const std::string& level) {
  spdlog::set_level(spdlog::level::from_str(level));
  actors::log_context::install_pattern(); // time, level, message, and the request it served
}

// Options shared by the app/rebuild commands; `allowed` says which besides --data-dir a command takes.
struct tool_options {
  std::string data_dir;
  std::string name;
  std::string api_key;
  bool json = false;
};
enum tool_option : unsigned { opt_name = 1, opt_json = 2, opt_api_key = 4 };

int parse_tool_options(const std::vector<std::string>& args, tool_options& o, unsigned allowed, const char* cmd) {
  auto env = api::environment();
  o.data_dir = env.count("ONAIR_DATA_DIR") ? env["ONAIR_DATA_DIR"] : "./var/onair";
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    auto value = [&](std::string& out) {
      if (auto eq = a.find('='); eq != std::string::npos) {
        out = a.substr(eq + 1);
        return true;
      }
      if (i + 1 >= args.size())
        return false;
      out = args[++i];
      return true;
    };
    if (a == "--data-dir" || a.rfind("--data-dir=", 0) == 0) {
      if (!value(o.data_dir) || o.data_dir.empty())
        return usage_error("--data-dir needs a folder", cmd);
    } else if ((allowed & opt_name) && (a == "--name" || a.rfind("--name=", 0) == 0)) {
      if (!value(o.name))
        return usage_error("--name needs a value", cmd);
    } else if ((allowed & opt_api_key) && (a == "--api-key" || a.rfind("--api-key=", 0) == 0)) {
      if (!value(o.api_key) || o.api_key.empty())
        return usage_error("--api-key needs the app's API key", cmd);
    } else if ((allowed & opt_json) && a == "--json") {
      o.json = true;
    } else {
      return usage_error("unknown option '" + a + "'", cmd);
    }
  }
  return 0;
}

void print_app_text(const json& a, bool with_secret) {
  std::cout << "app " << a["id"] << " \"" << a["name"].get<std::string>() << "\"\n"
            << "  apiKey:    " << a["apiKey"].get<std::string>() << "\n";
  if (with_secret)
    std::cout << "  apiSecret: " << a["apiSecret"].get<std::string>() << "\n"
              << "  (the secret is shown only now: store it safely)\n";
}

// Opens the data folder directly (no server running there).
domain::result<std::unique_ptr<actors::runtime>> open_direct(const std::string& data_dir) {
  actors::runtime::options ro;
  ro.data_dir = data_dir;
  auto rt = actors::runtime::open(ro);
  if (!rt)
    return domain::make_error(rt.error().code, "cannot open " + data_dir + ": " + rt.error().message +
                                                   " (is a server running there without its server.json?)");
  return rt;
}

// A change to the apps, through the server running on the data folder (its admin endpoint:
// RocksDB admits one process) or, with none running, on the folder itself. Says on stderr why
// not, and gives nothing then.
struct admin_request {
  std::string method, path, body;
  int expected_status = 200;
};
std::optional<json> change_apps(const tool_options& o, const admin_request& via_server,
                                const std::function<domain::result<json>(actors::runtime&)>& directly,
                                const char* what) {
  if (auto client = api::admin_client::find(o.data_dir)) {
    auto r = client->call(via_server.method, via_server.path, via_server.body);
    if (!r) {
      std::cerr << "onair: " << r.error().message << "\n";
      return std::nullopt;
    }
    if (r->status != via_server.expected_status) {
      std::cerr << "onair: the server refused: " << r->status << " " << r->body << "\n";
      return std::nullopt;
    }
    return json::parse(r->body);
  }
  spdlog::set_level(spdlog::level::warn);
  auto rt = open_direct(o.data_dir);
  if (!rt) {
    std::cerr << "onair: " << rt.error().message << "\n";
    return std::nullopt;
  }
  auto r = directly(**rt);
  if (!r) {
    std::cerr << "onair: cannot " << what << ": " << r.error().message << "\n";
    return std::nullopt;
  }
  return std::move(*r);
}

int cmd_app_create(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::cout << app_create_help;
    return 0;
  }
  tool_options o;
  if (int rc = parse_tool_options(args, o, opt_name | opt_json, "onair app create"))
    return rc;
  if (o.name.empty())
    return usage_error("app create needs --name NAME", "onair app create");
  auto created = change_apps(o, {"POST", "/v2/admin/apps", json{{"name", o.name}}.dump(), 201},
                             [&](actors::runtime& rt) { return api::create_app_sync(rt, o.name); }, "create the app");
  if (!created)
    return 1;
  if (o.json)
    std::cout << created->dump(2) << "\n";
  else
    print_app_text(*created, true);
  return 0;
}

int cmd_app_list(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::cout << app_list_help;
    return 0;
  }
  tool_options o;
  if (int rc = parse_tool_options(args, o, opt_json, "onair app list"))
    return rc;
  json apps;
  if (auto client = api::admin_client::find(o.data_dir)) {
    auto r = client->call("GET", "/v2/admin/apps");
    if (!r || r->status != 200) {
      std::cerr << "onair: cannot list apps: " << (r ? r->body : r.error().message) << "\n";
      return 1;
    }
    apps = json::parse(r->body)["content"];
  } else {
    spdlog::set_level(spdlog::level::warn);
    auto rt = open_direct(o.data_dir);
    if (!rt) {
      std::cerr << "onair: " << rt.error().message << "\n";
      return 1;
    }
    apps = api::list_apps(**rt);
  }
  if (o.json) {
    std::cout << apps.dump(2) << "\n";
    return 0;
  }
  if (apps.empty()) {
    std::cout << "no apps yet: create one with `onair app create --name NAME`\n";
    return 0;
  }
  std::printf("%-8s %-24s %-26s %s\n", "ID", "NAME", "API KEY", "CREATED AT");
  for (const auto& a : apps)
    std::printf("%-8lld %-24s %-26s %s\n", static_cast<long long>(a["id"].get<std::int64_t>()),
                a["name"].get<std::string>().c_str(), a["apiKey"].get<std::string>().c_str(),
                a["createdAt"].get<std::string>().c_str());
  return 0;
}

int cmd_app_rotate_secret(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::cout << app_rotate_help;
    return 0;
  }
  tool_options o;
  if (int rc = parse_tool_options(args, o, opt_api_key | opt_json, "onair app rotate-secret"))
    return rc;
  if (o.api_key.empty())
    return usage_error("app rotate-secret needs --api-key KEY (onair app list shows them)", "onair app rotate-secret");
  auto rotated = change_apps(o, {"POST", "/v2/admin/apps/" + o.api_key + "/rotate-secret", {}, 200},
                             [&](actors::runtime& rt) { return api::rotate_secret_sync(rt, o.api_key); },
                             "rotate the secret");
  if (!rotated)
    return 1;
  if (o.json)
    std::cout << rotated->dump(2) << "\n";
  else
    print_app_text(*rotated, true);
  return 0;
}

int cmd_rebuild(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::cout << rebuild_help;
    return 0;
  }
  tool_options o;
  if (int rc = parse_tool_options(args, o, 0, "onair rebuild-views"))
    return rc;
  if (api::admin_client::find(o.data_dir)) {
    std::cerr << "onair: a server is running on " << o.data_dir << ": stop it first\n";
    return 1;
  }
  set_log_level("warn");
  auto rt = open_direct(o.data_dir);
  if (!rt) {
    std::cerr << "onair: " << rt.error().message << "\n";
    return 1;
  }
  auto done = storage::rebuild_views((*rt)->store(), [](std::uint64_t at, std::uint64_t last) {
    std::fprintf(stderr, "\rrebuilding views: %llu / %llu events", static_cast<unsigned long long>(at),
                 static_cast<unsigned long long>(last));
  });
  std::fprintf(stderr, "\n");
  if (!done) {
    std::cerr << "onair: rebuild failed: " << done.error().message << "\n";
    return 1;
  }
  std::cout << "views rebuilt from " << *done << " events\n";
  return 0;
}

int cmd_serve(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    print_serve_help();
    return 0;
  }
  auto cfg = api::load_server_config(args, api::environment());
  if (!cfg)
    return usage_error(cfg.error().message, "onair serve");
  set_log_level(cfg->log_level);

  // Signals are taken synchronously by this thread; every other thread has them blocked.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // Before any stream: the scalers every transcode makes take the faster kernel from the start.
  (void)media::ffmpeg::choose_scaler_kernels();
  api::server srv{*cfg};
  auto port = srv.start();
  if (!port) {
    spdlog::critical("onair cannot start: {}", port.error().message);
    return 1;
  }
  auto apps = api::list_apps(srv.runtime());
  if (apps.empty()) {
    auto created = api::create_app_sync(srv.runtime(), "first-app");
    if (!created) {
      spdlog::critical("cannot create the first app: {}", created.error().message);
      return 1;
    }
    std::cout << "\nA first app was created. Its secret is shown only now: store it safely.\n";
    print_app_text(*created, true);
  }
  std::cout << "\nonair is serving (data in " << cfg->data_dir << ")\n"
            << "  HTTP API:  " << srv.base_url() << "/v2/apps/me  (Basic auth: apiKey:apiSecret)\n"
            << "  RTMP:      " << srv.rtmp_base_url() << "/live/{streamKey}  (OBS server: " << srv.rtmp_base_url()
            << "/live)\n"
            << "  API docs:  " << srv.base_url() << "/docs\n"
            << "  health:    " << srv.base_url() << "/healthz\n"
            << "  more apps: onair app create --name NAME --data-dir " << cfg->data_dir << "\n"
            << "  Kafka:     " << api::kafka_banner(srv.kafka()) << "\n"
            << std::endl;
  spdlog::info("onair ready http_port={} data_dir={} apps={}", *port, cfg->data_dir, apps.size() ? apps.size() : 1);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("stopping signal={}", sig == SIGINT ? "SIGINT" : "SIGTERM");
  srv.stop();
  spdlog::info("stopped");
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << main_help;
    return args.empty() ? exit_usage : 0;
  }
  const auto cmd = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  try {
    if (cmd == "serve")
      return cmd_serve(rest);
    if (cmd == "app") {
      if (rest.empty() || rest[0] == "--help" || rest[0] == "-h") {
        std::cout << app_create_help << "\n" << app_list_help << "\n" << app_rotate_help;
        return rest.empty() ? exit_usage : 0;
      }
      std::vector<std::string> sub(rest.begin() + 1, rest.end());
      if (rest[0] == "create")
        return cmd_app_create(sub);
      if (rest[0] == "list")
        return cmd_app_list(sub);
      if (rest[0] == "rotate-secret")
        return cmd_app_rotate_secret(sub);
      return usage_error("unknown app command '" + rest[0] + "'", "onair app");
    }
    if (cmd == "rebuild-views")
      return cmd_rebuild(rest);
    if (cmd == "events")
      return api::cmd_events(rest);
    if (cmd == "audit")
      return api::cmd_audit(rest);
    if (cmd == "dev-broker")
      return api::cmd_dev_broker(rest);
    if (cmd == "help") {
      if (rest.empty()) {
        std::cout << main_help;
      } else if (rest[0] == "serve") {
        print_serve_help();
      } else if (rest[0] == "app") {
        std::cout << app_create_help << "\n" << app_list_help << "\n" << app_rotate_help;
      } else if (rest[0] == "rebuild-views") {
        std::cout << rebuild_help;
      } else if (rest[0] == "audit") {
        return api::cmd_audit({"--help"});
      } else if (rest[0] == "events" || rest[0] == "dev-broker") {
        return rest[0] == "events" ? api::cmd_events({"--help"}) : api::cmd_dev_broker({"--help"});
      } else {
        return usage_error("no help for '" + rest[0] + "'", "onair");
      }
      return 0;
    }
    if (cmd == "version" || cmd == "--version") {
      std::cout << "onair 0.1.0\n";
      return 0;
    }
    return usage_error("unknown command '" + cmd + "'", "onair");
  } catch (const std::exception& e) {
    spdlog::critical("onair failed: {}", e.what());
    return 1;
  }
}
