// `onair audit export`: the audit trail between two times as NDJSON, the feed's CloudEvents with
// the feed's query (api/event_filter.hpp), read from the store or through the server that holds it.
#include "api/cli_audit.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "api/admin_client.hpp"
#include "api/cli_audit_verify.hpp"
#include "api/config.hpp"
#include "api/event_filter.hpp"

namespace onair::api {

using nlohmann::json;

namespace {

constexpr int exit_usage = 2;
constexpr std::size_t page_limit = 1000;
constexpr std::size_t max_scanned = 8192;
constexpr auto progress_interval = std::chrono::milliseconds{250};

const char* audit_help = R"(Usage: onair audit COMMAND [OPTIONS]

Commands:
  export       write the audit trail between two times as NDJSON, filtered like the feed
  verify       check the audit chains of the store and their signed checkpoints
  public-key   print the public half of the checkpoint signing key

Run `onair audit COMMAND --help` for the options of each command.
)";

const char* export_help = R"(Usage: onair audit export --from TIME --to TIME [--type T] [--aggregate A] [--principal P]
                          [--app ID] [--out FILE] [--data-dir DIR]

Writes the audit trail between two times as NDJSON: one CloudEvents JSON object a line, the objects
of the audit feed (GET /v2/apps/me/events), in log order. Every app's events, or one app's with
--app. It reads the log up to the position it had when the export began. With a server running on
the data folder it asks that server (its admin endpoint, loopback only); with none, it reads the
store itself.

Progress goes to stderr a few times a second: events written, the log position reached of the
last one, and the percentage.

Options:
  --from TIME          the first instant, inclusive; RFC 3339 (2026-11-24T09:30:00Z or with an
                       offset, +01:00) (required)
  --to TIME            the end, exclusive (required)
  --type T,...         event types: onair.video_room.created, video_room.created, or a family
                       of them, video_room.*
  --aggregate A,...    a kind of aggregate (video_room) or one aggregate (video_room/42)
  --principal P,...    who caused it: member:alice, app:KEY_ID, operator, system:ingest, or a
                       kind of principal (member:*)
  --app ID             one app's events (`onair app list` shows the ids) [every app]
  --out FILE           write there, as FILE.partial until it is complete [stdout]
  --data-dir DIR       the server's data folder [./var/onair, or ONAIR_DATA_DIR]

Several values of one option (commas, or the option given again) match any of them; different
options must all match. Exit status: 0 written, 1 failed (store, server, output), 2 bad arguments.
)";

int usage(const std::string& msg) {
  std::cerr << "onair: " << msg << "\nTry `onair audit export --help`.\n";
  return exit_usage;
}

struct export_options {
  event_filter_params query;
  std::optional<domain::app_id> app;
  std::string out;
  std::string data_dir;
};

// Events written and the position reached, on stderr at most every progress_interval: rewritten in
// place on a terminal, one line each otherwise (a log file).
class progress {
public:
  void update(std::size_t written, std::uint64_t at, std::uint64_t last, bool done = false) {
    const auto now = std::chrono::steady_clock::now();
    if (!done && now - shown_ < progress_interval)
      return;
    shown_ = now;
    const auto percent = last == 0 ? 100.0 : 100.0 * static_cast<double>(std::min(at, last)) / static_cast<double>(last);
    std::fprintf(stderr, "%saudit export: %zu events, position %llu of %llu (%.0f%%)%s%s", tty_ ? "\r" : "", written,
                 static_cast<unsigned long long>(at), static_cast<unsigned long long>(last), done ? 100.0 : percent,
                 done ? ", done" : "", tty_ && !done ? "" : "\n");
    std::fflush(stderr);
  }

private:
  bool tty_ = ::isatty(2) == 1;
  std::chrono::steady_clock::time_point shown_ = std::chrono::steady_clock::now();
};

// One page after a position, and the log's last position (the export's end).
struct source_page {
  event_page page;
  std::uint64_t last = 0;
};
using page_source = std::function<domain::result<source_page>(std::uint64_t after)>;

std::string percent_encoded(const std::string& s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// Through the server holding the store: GET /v2/admin/events, the feed's query and paging.
page_source server_source(admin_client client, const export_options& o, const std::string& data_dir) {
  std::string query;
  const auto add = [&query](const char* name, const std::optional<std::string>& v) {
    if (v)
      query += std::string{"&"} + name + "=" + percent_encoded(*v);
  };
  add("type", o.query.type);
  add("aggregate", o.query.aggregate);
  add("principal", o.query.principal);
  add("from", o.query.from);
  add("to", o.query.to);
  if (o.app)
    query += "&app=" + std::to_string(*o.app);
  return [client, query, data_dir](std::uint64_t after) mutable -> domain::result<source_page> {
    auto r = client.call("GET", "/v2/admin/events?limit=" + std::to_string(page_limit) +
                                    "&after=" + std::to_string(after) + query);
    if (!r)
      return std::move(r).error();
    if (r->status == 404)
      return domain::make_error(domain::error_code::internal,
                                "the server running on " + data_dir +
                                    " does not serve the export (GET /v2/admin/events); stop it to export from the store");
    auto body = json::parse(r->body, nullptr, false);
    if (r->status != 200 || !is_events_page(body))
      return domain::make_error(domain::error_code::internal,
                                "the server refused: " + std::to_string(r->status) + " " + r->body);
    source_page out;
    for (auto& e : body["events"])
      out.page.events.push_back(std::move(e));
    out.page.next = body.value("next", after);
    out.page.more = body.value("more", false);
    out.last = body.value("lastPosition", std::uint64_t{0});
    return out;
  };
}

int export_events(const export_options& o, const event_filter& filter) {
  std::unique_ptr<storage::event_store> store; // the store itself, when no server holds it
  page_source source;
  if (auto client = admin_client::find(o.data_dir)) {
    source = server_source(*client, o, o.data_dir);
  } else {
    storage::event_store::options so;
    so.path = (std::filesystem::path{o.data_dir} / "events").string();
    so.read_only = true;
    if (!std::filesystem::exists(so.path)) {
      std::cerr << "onair: no event store in " << o.data_dir << "\n";
      return 1;
    }
    auto opened = storage::event_store::open(so);
    if (!opened) {
      std::cerr << "onair: cannot open " << so.path << ": " << opened.error().message << "\n";
      return 1;
    }
    store = std::move(*opened);
    source = [&](std::uint64_t after) -> domain::result<source_page> {
      auto page = scan_events(*store, after, filter, o.app, page_limit, max_scanned);
      if (!page)
        return std::move(page).error();
      return source_page{std::move(*page), store->last_position()};
    };
  }

  const auto partial = o.out + ".partial";
  std::ofstream file;
  if (!o.out.empty()) {
    file.open(partial, std::ios::binary | std::ios::trunc);
    if (!file) {
      std::cerr << "onair: cannot write " << partial << "\n";
      return 1;
    }
  }
  std::ostream& out = o.out.empty() ? std::cout : file;
  const auto fail = [&](const std::string& why) {
    std::cerr << "\nonair: " << why << "\n";
    if (!o.out.empty()) {
      file.close();
      std::error_code ec;
      std::filesystem::remove(partial, ec);
    }
    return 1;
  };

  progress shown;
  std::size_t written = 0;
  std::uint64_t after = 0;
  std::optional<std::uint64_t> end; // the last position when the export began
  for (;;) {
    auto got = source(after);
    if (!got)
      return fail(got.error().message);
    if (!end)
      end = got->last;
    bool past_end = false;
    for (const auto& ev : got->page.events) {
      static const nlohmann::json::json_pointer at_position{"/data/position"};
      const auto* position = ev.contains(at_position) ? &ev.at(at_position) : nullptr;
      if (position && position->is_number_unsigned() && position->get<std::uint64_t>() > *end) {
        past_end = true;
        break;
      }
      out << ev.dump() << '\n';
      ++written;
    }
    if (!out)
      return fail("cannot write " + (o.out.empty() ? std::string{"to stdout"} : partial));
    after = std::min(got->page.next, *end);
    if (past_end || !got->page.more || after >= *end)
      break;
    shown.update(written, after, *end);
  }
  out.flush();
  if (!o.out.empty()) {
    file.close();
    if (!file)
      return fail("cannot write " + partial);
    std::error_code ec;
    std::filesystem::rename(partial, o.out, ec);
    if (ec)
      return fail("cannot rename " + partial + " to " + o.out + ": " + ec.message());
  }
  if (!out)
    return fail("cannot write to stdout");
  shown.update(written, *end, *end, true);
  return 0;
}

int cmd_export(const std::vector<std::string>& args) {
  if (std::find(args.begin(), args.end(), "--help") != args.end() ||
      std::find(args.begin(), args.end(), "-h") != args.end()) {
    std::cout << export_help;
    return 0;
  }
  export_options o;
  auto env = environment();
  o.data_dir = env.count("ONAIR_DATA_DIR") ? env["ONAIR_DATA_DIR"] : "./var/onair";
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    std::string v;
    const auto value = [&] {
      if (auto eq = a.find('='); eq != std::string::npos)
        v = a.substr(eq + 1);
      else if (i + 1 < args.size())
        v = args[++i];
      else
        v.clear();
      return !v.empty();
    };
    const auto is = [&a](const char* flag) { return a == flag || a.rfind(std::string{flag} + "=", 0) == 0; };
    // A list option given again adds to its values.
    const auto add = [&v](std::optional<std::string>& to) { to = to ? *to + "," + v : v; };
    if (is("--from") || is("--to")) {
      const bool from = is("--from");
      if (!value())
        return usage(std::string{from ? "--from" : "--to"} + " needs a time (RFC 3339)");
      (from ? o.query.from : o.query.to) = v;
    } else if (is("--type")) {
      if (!value())
        return usage("--type needs an event type");
      add(o.query.type);
    } else if (is("--aggregate")) {
      if (!value())
        return usage("--aggregate needs an aggregate (video_room or video_room/42)");
      add(o.query.aggregate);
    } else if (is("--principal")) {
      if (!value())
        return usage("--principal needs a principal (member:alice, member:*, operator, ...)");
      add(o.query.principal);
    } else if (is("--app")) {
      domain::app_id id = 0;
      const auto ok = value();
      const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), id);
      if (!ok || ec != std::errc{} || p != v.data() + v.size() || id <= 0)
        return usage("--app needs an app id (a positive integer; `onair app list` shows them)");
      o.app = id;
    } else if (is("--out")) {
      if (!value())
        return usage("--out needs a file");
      o.out = v;
    } else if (is("--data-dir")) {
      if (!value())
        return usage("--data-dir needs a folder");
      o.data_dir = v;
    } else {
      return usage("unknown option '" + a + "'");
    }
  }
  if (!o.query.from || !o.query.to)
    return usage("audit export needs --from TIME and --to TIME");
  // The query is checked here as the server would check it: the messages begin with the name.
  auto filter = parse_event_filter(o.query);
  if (!filter)
    return usage("--" + filter.error().message);
  spdlog::set_level(spdlog::level::warn);
  return export_events(o, *filter);
}

} // namespace

int cmd_audit(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << audit_help;
    return args.empty() ? exit_usage : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "export")
    return cmd_export(rest);
  if (args[0] == "verify")
    return cmd_audit_verify(rest);
  if (args[0] == "public-key")
    return cmd_audit_public_key(rest);
  std::cerr << "onair: unknown audit command '" << args[0] << "'\nTry `onair audit --help`.\n";
  return exit_usage;
}

} // namespace onair::api
