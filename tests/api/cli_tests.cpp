// The `onair` binary as an operator meets it: serve, app create/list, rebuild-views, flags,
// settings precedence, the health and admin endpoints. Each test runs the real binary in its own
// temporary folder; no test waits a fixed time: servers are awaited through server.json.
#include "harness.hpp"

using namespace onair::test_harness;

namespace {

// No listing ever shows a secret, its hash, salt or the signing key.
void check_no_secrets(const json& apps) {
  for (const auto& a : apps) {
    for (const char* field : {"apiSecret", "secretHash", "secretSalt", "signingKey", "secret", "hash"})
      BOOST_TEST(!a.contains(field), "app list shows " << field << ": " << a.dump());
    BOOST_TEST(a.contains("apiKey"));
    BOOST_TEST(a.contains("id"));
  }
}

std::set<std::string> names_of(const json& apps) {
  std::set<std::string> names;
  for (const auto& a : apps)
    names.insert(a["name"].get<std::string>());
  return names;
}

void check_credentials(const json& app) {
  BOOST_REQUIRE(app.contains("apiKey") && app["apiKey"].is_string());
  BOOST_REQUIRE(app.contains("apiSecret") && app["apiSecret"].is_string());
  BOOST_TEST(!app["apiKey"].get<std::string>().empty());
  BOOST_TEST(app["apiSecret"].get<std::string>().size() >= 32u);
}

} // namespace

BOOST_AUTO_TEST_SUITE(cli)

BOOST_AUTO_TEST_CASE(serve_starts_prints_first_app_once_and_stops_cleanly_on_sigterm) {
  temp_dir dir;
  const auto data = dir.path() / "data";
  std::string first_key;
  {
    server_process srv{data};
    srv.wait_ready();
    const auto out = srv.stdout_text();
    BOOST_TEST(contains(out, "A first app was created"), out);
    first_key = printed_value(out, "apiKey:");
    const auto secret = printed_value(out, "apiSecret:");
    BOOST_TEST(!first_key.empty(), out);
    BOOST_TEST(secret.size() >= 32u, out);
    BOOST_TEST(out.find("apiSecret: ") == out.rfind("apiSecret: "), "the secret is printed more than once:\n" << out);

    BOOST_TEST(srv.http().host == "127.0.0.1");
    BOOST_TEST(srv.info()["pid"].get<int>() > 0);
    auto health = srv.get("/healthz");
    BOOST_TEST(health.status == 200);
    auto body = json::parse(health.body, nullptr, false);
    BOOST_TEST(body == json({{"status", "UP"}}), health.body);
    auto ready = srv.get("/readyz");
    BOOST_TEST(ready.status == 200, ready.body);
    auto ready_body = json::parse(ready.body, nullptr, false);
    BOOST_TEST(ready_body.value("status", "") == "READY", ready.body);
    BOOST_TEST(ready_body.value("eventLogPosition", 0) > 0, ready.body); // the first app is in the log

    BOOST_TEST(srv.stop() == 0, srv.stderr_text());
    BOOST_TEST(!fs::exists(data / "server.json"));
    BOOST_TEST(!fs::exists(data / "admin.token"));
  }
  {
    server_process again{data};
    again.wait_ready();
    const auto out = again.stdout_text();
    BOOST_TEST(!contains(out, "first app"), out);
    BOOST_TEST(printed_value(out, "apiSecret:").empty(), out);
    BOOST_TEST(printed_value(out, "apiKey:").empty(), out);
    BOOST_TEST(again.get("/healthz").status == 200);
    BOOST_TEST(again.stop() == 0, again.stderr_text());
    BOOST_TEST(!fs::exists(data / "server.json"));
  }
  const auto apps = list_apps(data);
  BOOST_TEST(apps.size() == 1u, apps.dump());
  BOOST_TEST(apps[0]["name"] == "first-app");
  BOOST_TEST(apps[0]["apiKey"] == first_key);
  check_no_secrets(apps);
}

BOOST_AUTO_TEST_CASE(app_create_and_list_with_the_server_running_and_stopped) {
  temp_dir dir;
  const auto data = dir.path() / "data";
  json online;
  {
    server_process srv{data};
    srv.wait_ready();
    online = create_app(data, "online-app");
    check_credentials(online);
    // It went through the server (the folder admits one process, so a direct open would fail).
    const auto apps = list_apps(data);
    BOOST_TEST(names_of(apps) == (std::set<std::string>{"first-app", "online-app"}));
    check_no_secrets(apps);
    BOOST_TEST(srv.stop() == 0, srv.stderr_text());
  }
  const auto offline = create_app(data, "offline-app");
  check_credentials(offline);
  BOOST_TEST(online["apiKey"] != offline["apiKey"]);
  BOOST_TEST(online["apiSecret"] != offline["apiSecret"]);
  BOOST_TEST(online["id"] != offline["id"]);

  const auto apps = list_apps(data);
  BOOST_TEST(names_of(apps) == (std::set<std::string>{"first-app", "online-app", "offline-app"}));
  check_no_secrets(apps);
  std::set<std::string> keys;
  for (const auto& a : apps)
    keys.insert(a["apiKey"].get<std::string>());
  BOOST_TEST(keys.size() == apps.size());
  BOOST_TEST(keys.count(online["apiKey"].get<std::string>()) == 1u);
  BOOST_TEST(keys.count(offline["apiKey"].get<std::string>()) == 1u);

  // The text listing shows the names and no secret.
  auto text = run_onair({"app", "list", "--data-dir", data.string()});
  BOOST_REQUIRE_MESSAGE(text.code == 0, text);
  BOOST_TEST(contains(text.out, "online-app"), text.out);
  BOOST_TEST(contains(text.out, "offline-app"), text.out);
  BOOST_TEST(!contains(text.out, online["apiSecret"].get<std::string>()), text.out);
  BOOST_TEST(!contains(text.out, offline["apiSecret"].get<std::string>()), text.out);
}

// api.md (beyond): `onair app rotate-secret` prints a new secret once; the old one is refused from
// then on, with the server running (through it) and stopped (directly), and each rotation is an event.
BOOST_AUTO_TEST_CASE(app_rotate_secret_refuses_the_old_secret_from_then_on) {
  temp_dir dir;
  const auto data = dir.path() / "data";
  const auto app = create_app(data, "rotating-app");
  create_app(data, "steady-app"); // keeps its secret
  const auto key = app["apiKey"].get<std::string>();
  const auto first = app["apiSecret"].get<std::string>();

  const auto offline = run_onair({"app", "rotate-secret", "--api-key", key, "--data-dir", data.string()});
  BOOST_REQUIRE_MESSAGE(offline.code == 0, offline);
  const auto second = printed_value(offline.out, "apiSecret:");
  BOOST_TEST(second.size() >= 32u, offline.out);
  BOOST_TEST(second != first);
  BOOST_TEST(offline.out.find("apiSecret: ") == offline.out.rfind("apiSecret: "), offline.out);

  server_process srv{data};
  srv.wait_ready();
  const auto me = [&](const std::string& secret) { return api_client{srv.http(), key, secret}.get("/v2/apps/me"); };
  check_error(me(first), 401, "UNAUTHORIZED");
  BOOST_TEST(me(second).status == 200);

  // Through the running server: the secret that worked a moment ago is refused at once.
  const auto online = run_onair({"app", "rotate-secret", "--api-key", key, "--json", "--data-dir", data.string()});
  BOOST_REQUIRE_MESSAGE(online.code == 0, online);
  const auto third = parse_json_output(online);
  BOOST_TEST(third["apiKey"] == key);
  BOOST_TEST(third["name"] == "rotating-app");
  const auto third_secret = third.value("apiSecret", "");
  BOOST_TEST(third_secret.size() >= 32u, online.out);
  check_error(me(second), 401, "UNAUTHORIZED");
  BOOST_TEST(me(third_secret).status == 200);
  check_no_secrets(list_apps(data));

  const auto unknown = run_onair({"app", "rotate-secret", "--api-key", "ak_nosuchkey", "--data-dir", data.string()});
  BOOST_TEST(unknown.code == 1, unknown);
  BOOST_TEST(contains(unknown.err, "404"), unknown);
  const auto missing = run_onair({"app", "rotate-secret", "--data-dir", data.string()});
  BOOST_TEST(missing.code == 2, missing);
  BOOST_TEST(contains(missing.err, "--api-key"), missing);
  BOOST_TEST(srv.stop() == 0, srv.stderr_text());

  // The rotation is an event of the app: its state (rebuilt from the log) says when it happened,
  // and a rebuild of the views from the events keeps the last secret.
  const auto apps = list_apps(data);
  BOOST_REQUIRE_EQUAL(apps.size(), 2u);
  for (const auto& a : apps)
    if (a["apiKey"] == key)
      BOOST_TEST(a.value("secretRotatedAt", "").starts_with("20"), a.dump());
    else
      BOOST_TEST(a["secretRotatedAt"].is_null(), a.dump());
  const auto rebuilt = run_onair({"rebuild-views", "--data-dir", data.string()});
  BOOST_REQUIRE_MESSAGE(rebuilt.code == 0, rebuilt);
  server_process again{data};
  again.wait_ready();
  const auto me_again = [&](const std::string& secret) {
    return api_client{again.http(), key, secret}.get("/v2/apps/me");
  };
  BOOST_TEST(me_again(third_secret).status == 200);
  check_error(me_again(second), 401, "UNAUTHORIZED");
  BOOST_TEST(again.stop() == 0, again.stderr_text());
}

BOOST_AUTO_TEST_CASE(a_second_server_on_a_busy_folder_is_refused_and_leaves_the_first_alone) {
  temp_dir dir;
  const auto data = dir.path() / "data";
  server_process srv{data};
  srv.wait_ready();
  const auto info = read_file(data / "server.json");
  const auto token = read_file(data / "admin.token");

  auto second = run_onair({"serve", "--data-dir", data.string(), "--http-listen", "127.0.0.1:0"});
  BOOST_TEST(second.code == 1, second);
  BOOST_TEST(read_file(data / "server.json") == info);
  BOOST_TEST(read_file(data / "admin.token") == token);
  BOOST_TEST(srv.get("/healthz").status == 200);
  BOOST_TEST(list_apps(data).size() == 1u);
  BOOST_TEST(srv.stop() == 0);
}

BOOST_AUTO_TEST_CASE(a_killed_server_leaves_files_the_cli_sees_through) {
  temp_dir dir;
  const auto data = dir.path() / "data";
  {
    server_process srv{data};
    srv.wait_ready();
    create_app(data, "before-the-crash");
    srv.kill_hard();
  }
  BOOST_REQUIRE(fs::exists(data / "server.json")); // no cleanup after SIGKILL
  // The pid in server.json is gone: the CLI opens the folder directly.
  BOOST_TEST(names_of(list_apps(data)) == (std::set<std::string>{"first-app", "before-the-crash"}));
  auto rebuilt = run_onair({"rebuild-views", "--data-dir", data.string()});
  BOOST_TEST(rebuilt.code == 0, rebuilt);
  // And a new server takes the folder over without another first app.
  server_process again{data};
  again.wait_ready();
  BOOST_TEST(printed_value(again.stdout_text(), "apiSecret:").empty(), again.stdout_text());
  BOOST_TEST(again.get("/healthz").status == 200);
  BOOST_TEST(list_apps(data).size() == 2u);
  BOOST_TEST(again.stop() == 0);
  BOOST_TEST(!fs::exists(data / "server.json"));
}

BOOST_AUTO_TEST_CASE(admin_endpoint_answers_404_without_the_token) {
  temp_dir dir;
  const auto data = dir.path() / "data";
  server_process srv{data};
  srv.wait_ready();
  const auto token = read_file(data / "admin.token");
  BOOST_REQUIRE(!token.empty());

  BOOST_TEST(srv.get("/v2/admin/apps").status == 404);
  BOOST_TEST(srv.get("/v2/admin/apps", {{"X-Onair-Admin-Token", "not-the-token"}}).status == 404);
  BOOST_TEST(srv.get("/v2/admin/apps", {{"X-Onair-Admin-Token", token + "x"}}).status == 404);
  BOOST_TEST(srv.get("/v2/admin/apps", {{"X-Onair-Admin-Token", ""}}).status == 404);
  auto no_post = http_call(srv.http().host, srv.http().port, "POST", "/v2/admin/apps");
  BOOST_TEST(no_post.status == 404);

  auto ok = srv.get("/v2/admin/apps", {{"X-Onair-Admin-Token", token}});
  BOOST_TEST(ok.status == 200, ok.body);
  auto body = json::parse(ok.body, nullptr, false);
  BOOST_REQUIRE(!body.is_discarded() && body.contains("content"));
  BOOST_TEST(body["content"].size() == 1u);
  check_no_secrets(body["content"]);
  BOOST_TEST(srv.stop() == 0);
}

BOOST_AUTO_TEST_CASE(bad_flags_exit_2_with_a_clear_message) {
  temp_dir dir;
  const auto data = (dir.path() / "data").string();
  struct bad_case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<bad_case> cases{
      {{"serve", "--data-dir", data, "--nope", "x"}, "unknown flag --nope"},
      {{"serve", "--data-dir", data, "--nope"}, "--nope"},
      {{"serve", "--data-dir", data, "--http-listen", "nonsense"}, "http-listen"},
      {{"serve", "--data-dir", data, "--kafka", ""}, "kafka"},
      {{"serve", "--data-dir", data, "--rtmp-threads", "0"}, "rtmp-threads must be 1..256"},
      {{"serve", "--data-dir", data, "--http-threads", "many"}, "http-threads must be 1..256"},
      {{"serve", "--data-dir", data, "stray"}, "unexpected argument 'stray'"},
      {{"app", "create", "--data-dir", data}, "--name"},
      {{"app", "create", "--data-dir", data, "--bogus"}, "unknown option '--bogus'"},
      {{"app", "list", "--data-dir", data, "--name", "x"}, "unknown option '--name'"},
      {{"app", "frobnicate"}, "unknown app command 'frobnicate'"},
      {{"rebuild-views", "--json", "--data-dir", data}, "unknown option '--json'"},
      {{"bogus"}, "unknown command 'bogus'"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("onair " << [&] {
      std::string s;
      for (const auto& a : c.args)
        s += "'" + a + "' ";
      return s;
    }()) {
      auto r = run_onair(c.args);
      BOOST_TEST(r.code == 2, r);
      BOOST_TEST(contains(r.err, "onair: "), r);
      BOOST_TEST(contains(r.err, c.message), r);
      BOOST_TEST(contains(r.err, "--help"), r);
    }
  }
  // None of them touched the data folder.
  BOOST_TEST(!fs::exists(data));
  // No command at all: the overview, exit 2.
  auto none = run_onair({});
  BOOST_TEST(none.code == 2, none);
  BOOST_TEST(contains(none.out, "Usage: onair COMMAND"), none);
}

BOOST_AUTO_TEST_CASE(help_exits_0_and_names_every_option) {
  struct help_case {
    std::vector<std::string> args;
    std::vector<std::string> options;
  };
  const std::vector<help_case> cases{
      {{"serve", "--help"},
       {"--data-dir", "--http-listen", "--rtmp-listen", "--public-host", "--kafka", "--log-level", "--config",
        "--http-threads", "--rtmp-threads", "ONAIR_RTMP_THREADS",
        "ONAIR_DATA_DIR", "ONAIR_HTTP_LISTEN", "ONAIR_RTMP_LISTEN", "ONAIR_PUBLIC_HOST", "ONAIR_KAFKA",
        "ONAIR_LOG_LEVEL", "ONAIR_CONFIG"}},
      {{"app", "create", "--help"}, {"--name", "--json", "--data-dir"}},
      {{"app", "list", "--help"}, {"--json", "--data-dir"}},
      {{"rebuild-views", "--help"}, {"--data-dir"}},
      {{"help", "serve"}, {"--data-dir", "--http-listen", "--kafka", "--config"}},
      {{"--help"}, {"serve", "app create", "app list", "rebuild-views"}},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("onair " << c.args[0] << (c.args.size() > 1 ? " " + c.args[1] : "")) {
      auto r = run_onair(c.args);
      BOOST_TEST(r.code == 0, r);
      BOOST_TEST(contains(r.out, "Usage: onair"), r);
      for (const auto& o : c.options)
        BOOST_TEST(contains(r.out, o), "help does not mention " << o << ":\n" << r.out);
    }
  }
}

BOOST_AUTO_TEST_CASE(http_listen_precedence_flag_then_env_then_config_file) {
  temp_dir dir;
  const auto data = dir.path() / "data";
  const auto config = dir.path() / "onair.conf";
  {
    std::ofstream f{config};
    f << "# test settings\n"
      << "http-listen = 127.0.0.3:0\n"
      << "rtmp-listen = 127.0.0.3:0\n"
      << "log-level = warn\n";
  }
  const auto started_on = [&](std::vector<std::string> args, spawn_options opts) {
    server_process srv{data, std::move(args), std::move(opts)};
    srv.wait_ready();
    const auto host = srv.http().host;
    BOOST_TEST(srv.get("/healthz").status == 200);
    BOOST_TEST(srv.stop() == 0, srv.stderr_text());
    return host;
  };
  const spawn_options env_and_file{{{"ONAIR_HTTP_LISTEN", "127.0.0.2:0"}}};

  BOOST_TEST(started_on({"--config", config.string(), "--http-listen", "127.0.0.1:0"}, env_and_file) == "127.0.0.1");
  BOOST_TEST(started_on({"--config", config.string()}, env_and_file) == "127.0.0.2");
  BOOST_TEST(started_on({"--config", config.string()}, {}) == "127.0.0.3");
  // The config file named by ONAIR_CONFIG, too; the flag --config beats it.
  BOOST_TEST(started_on({}, spawn_options{{{"ONAIR_CONFIG", config.string()}}}) == "127.0.0.3");
  {
    const auto other = dir.path() / "other.conf";
    std::ofstream{other} << "http-listen = 127.0.0.4:0\nrtmp-listen = 127.0.0.4:0\n";
    BOOST_TEST(started_on({"--config", other.string()}, spawn_options{{{"ONAIR_CONFIG", config.string()}}}) ==
               "127.0.0.4");
  }

  // A CLI command reaches a server on a non-default loopback address through server.json.
  server_process srv{data, {"--config", config.string()}, {}};
  srv.wait_ready();
  BOOST_TEST(srv.http().host == "127.0.0.3");
  const auto created = create_app(data, "via-127-0-0-3");
  check_credentials(created);
  BOOST_TEST(names_of(list_apps(data)).count("via-127-0-0-3") == 1u);
  BOOST_TEST(srv.stop() == 0);

  // A bad value in the file is a usage error naming the file and line.
  const auto bad = dir.path() / "bad.conf";
  std::ofstream{bad} << "\n# comment\nhttp-listen = nowhere\n";
  auto r = run_onair({"serve", "--data-dir", data.string(), "--config", bad.string()});
  BOOST_TEST(r.code == 2, r);
  BOOST_TEST(contains(r.err, bad.string() + ":3"), r);
}

BOOST_AUTO_TEST_CASE(rebuild_views_on_a_stopped_server_and_refused_while_one_runs) {
  temp_dir dir;
  const auto data = dir.path() / "data";
  {
    server_process srv{data};
    srv.wait_ready();
    create_app(data, "second-app");
    auto refused = run_onair({"rebuild-views", "--data-dir", data.string()});
    BOOST_TEST(refused.code == 1, refused);
    BOOST_TEST(contains(refused.err, "stop it first"), refused);
    // The refusal touched nothing: the running server still answers and lists both apps.
    BOOST_TEST(srv.get("/healthz").status == 200);
    BOOST_TEST(list_apps(data).size() == 2u);
    BOOST_TEST(srv.stop() == 0, srv.stderr_text());
  }
  const auto before = list_apps(data);
  auto rebuilt = run_onair({"rebuild-views", "--data-dir", data.string()});
  BOOST_TEST(rebuilt.code == 0, rebuilt);
  BOOST_TEST(contains(rebuilt.out, "views rebuilt"), rebuilt);
  const auto after = list_apps(data);
  BOOST_TEST(after == before, "before: " << before.dump() << "\nafter: " << after.dump());
  BOOST_TEST(names_of(after) == (std::set<std::string>{"first-app", "second-app"}));

  // And the server starts on the rebuilt folder without creating another first app.
  server_process again{data};
  again.wait_ready();
  BOOST_TEST(printed_value(again.stdout_text(), "apiSecret:").empty(), again.stdout_text());
  BOOST_TEST(again.stop() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
