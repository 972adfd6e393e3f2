#include "api/server.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <algorithm>
#include <future>
#include <thread>

#include <event2/http.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include "api/credentials.hpp"
#include "api/idempotency.hpp"
#include "api/kafka_service.hpp"
#include "api/event_filter.hpp"
#include "api/rest.hpp"
#include "actors/ingest.hpp"
#include "actors/cmaf_streams.hpp"
#include "media/cmaf/http.hpp"
#include "media/cmaf/playlist.hpp"
#include "actors/archiver.hpp"
#include "actors/reconnect_windows.hpp"
#include "actors/recordings.hpp"
#include "media/fanout/counters.hpp"
#include "media/fanout/hub.hpp"
#include "media/flv/http_flv.hpp"
#include "media/net/cores.hpp"
#include "media/rtmp/server.hpp"
#include "api/routes.hpp"
#include "storage/codec.hpp"
#include "storage/views.hpp"

namespace onair::api {

namespace fs = std::filesystem;
using nlohmann::json;

json app_summary(const domain::app& a) {
  return json{{"id", a.id},
              {"name", a.name},
              {"apiKey", a.api_key},
              {"defaultMode", std::string{domain::to_string(a.default_mode)}},
              {"defaultProfileId", a.default_profile_id},
              {"createdAt", domain::to_iso8601(a.created_at)},
              {"secretRotatedAt", a.secret_rotated_at.ms ? json(domain::to_iso8601(a.secret_rotated_at)) : json(nullptr)}};
}

domain::result<json> create_app_sync(actors::runtime& rt, const std::string& name) {
  auto creds = make_credentials(name);
  std::promise<domain::result<actors::outcome<domain::app_aggregate>>> p;
  auto fut = p.get_future();
  // On the folder, from the command line (or the first start's own app): the operator.
  domain::provenance who;
  who.principal = "operator";
  rt.create_app(creds.command, who, [&p](auto r) { p.set_value(std::move(r)); });
  auto r = fut.get();
  if (!r)
    return r.error();
  auto out = app_summary(r->state);
  out["apiSecret"] = creds.api_secret;
  spdlog::info("app created app_id={} name=\"{}\" api_key={}", r->state.id, r->state.name, r->state.api_key);
  return out;
}

namespace {

// A stream health sample on the telemetry topic: what it is, when, whose, and how it goes.
// cmaf: the stream's HTTP players and transcoder, if it is published for CMAF.
json telemetry_json(const actors::ingest::live_sample& s, const std::optional<actors::cmaf_streams::health>& cmaf) {
  json out{{"type", "onair.telemetry.stream_health"},
              {"time", domain::to_iso8601(s.at)},
              {"appId", s.app},
              {"streamKeyId", s.key_id},
              {"sessionId", s.session},
              {"ingest",
               {{"videoCodec", s.ingest.video_codec},
                {"audioCodec", s.ingest.audio_codec},
                {"width", s.ingest.width},
                {"height", s.ingest.height},
                {"fps", s.ingest.fps},
                {"bitrateKbps", s.ingest.bitrate_kbps}}},
              {"viewers",
               {{"rtmp", s.fanout.rtmp_viewers},
                {"httpFlv", s.fanout.http_flv_viewers},
                {"hls", cmaf ? cmaf->players.hls : 0},
                {"dash", cmaf ? cmaf->players.dash : 0}}},
              {"droppedGops", s.fanout.dropped_gops}};
  if (cmaf) {
    out["transcodeLagMs"] = cmaf->transcode_lag_ms;
    out["transcodeFramesDropped"] = cmaf->frames_dropped;
  }
  return out;
}

// What a rotation stores (a fresh salt and the hash of a fresh secret) and the secret to show once.
std::pair<domain::rotate_secret, std::string> new_secret() {
  auto creds = make_credentials({});
  return {domain::rotate_secret{.secret_hash = creds.command.secret_hash, .secret_salt = creds.command.secret_salt},
          creds.api_secret};
}

void rotate_secret(actors::runtime& rt, const std::string& api_key, domain::provenance who,
                   std::function<void(domain::result<json>)> done) {
  auto [cmd, secret] = new_secret();
  rt.ask<domain::app_aggregate>(actors::address{0, api_key}, std::move(cmd), std::move(who),
                                [done = std::move(done), secret = std::move(secret)](auto r) {
                                  if (!r)
                                    return done(r.error());
                                  auto out = app_summary(r->state);
                                  out["apiSecret"] = secret;
                                  spdlog::info("app secret rotated app_id={} api_key={}", r->state.id,
                                               r->state.api_key);
                                  done(std::move(out));
                                });
}

} // namespace

domain::result<json> rotate_secret_sync(actors::runtime& rt, const std::string& api_key) {
  std::promise<domain::result<json>> p;
  auto fut = p.get_future();
  domain::provenance who;
  who.principal = "operator";
  rotate_secret(rt, api_key, who, [&p](domain::result<json> r) { p.set_value(std::move(r)); });
  return fut.get();
}

json list_apps(const actors::runtime& rt) {
  json apps = json::array();
  rt.views().scan("v/app/", [&](std::string_view, std::string_view value) {
    auto doc = json::parse(value, nullptr, false);
    domain::app a;
    std::string where;
    if (!doc.is_discarded() && doc.contains("state") && storage::from_json_value(doc["state"], a, where))
      apps.push_back(app_summary(a));
    return true;
  });
  std::sort(apps.begin(), apps.end(), [](const json& x, const json& y) { return x["id"] < y["id"]; });
  return apps;
}

server::server(server_config cfg) : cfg_(std::move(cfg)) {}

server::~server() { stop(); }

namespace {
// The host to put in URLs handed out: --public-host, else the listen address (a wildcard becomes
// loopback), bracketed when IPv6.
std::string url_host(const std::string& public_host, const std::string& listen) {
  auto addr = parse_listen_address(listen);
  std::string host = public_host;
  if (host.empty())
    host = addr ? addr->host : "127.0.0.1";
  if (host == "0.0.0.0")
    host = "127.0.0.1";
  if (host.find(':') != std::string::npos && host.front() != '[')
    host = "[" + host + "]";
  return host;
}
} // namespace

std::string server::base_url() const {
  return "http://" + url_host(cfg_.public_host, cfg_.http_listen) + ":" + std::to_string(port_);
}

namespace {

bool write_private_file(const fs::path& path, const std::string& content) {
  const auto tmp = path.string() + ".tmp";
  {
    std::ofstream out{tmp, std::ios::trunc};
    if (!out)
      return false;
    out << content;
    if (!out.flush())
      return false;
  }
  ::chmod(tmp.c_str(), S_IRUSR | S_IWUSR);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  return !ec;
}

} // namespace

domain::result<std::uint16_t> server::start() {
  auto listen = parse_listen_address(cfg_.http_listen);
  if (!listen)
    return listen.error();
  const auto cores = net::usable_cores();
  spdlog::info("cores usable={} affinity={} online={} cgroup_cpu_quota={}", cores.usable, cores.affinity, cores.online,
               cores.quota ? fmt::format("{:.2f}", *cores.quota) : std::string{"none"});
  actors::runtime::options ro;
  ro.data_dir = cfg_.data_dir;
  auto rt = actors::runtime::open(ro);
  if (!rt)
    return rt.error();
  rt_ = std::move(rt).value();
  if (auto rec = rt_->recover(); !rec)
    return domain::make_error(rec.error().code, "recovery after restart failed: " + rec.error().message);
  auto kafka = kafka_service::start(cfg_, rt_->store());
  if (!kafka)
    return kafka.error();
  kafka_ = std::move(kafka).value();

  // RTMP ingest and playback, decided by the stream-key actors (actors/ingest.hpp).
  media::rtmp::server_config rc;
  if (!media::rtmp::parse_listen(cfg_.rtmp_listen, rc))
    return domain::make_error(domain::error_code::invalid_parameter, "rtmp-listen: '" + cfg_.rtmp_listen + "' is not ADDR:PORT",
                              "rtmp-listen");
  rc.max_pending_per_address = cfg_.rtmp_max_per_address;
  rc.max_players_per_address = cfg_.rtmp_max_players_per_address;
  rc.loops = cfg_.rtmp_threads; // 0: the RTMP server's default, one per usable core
  media_stats_ = std::make_unique<media::counters>();
  hubs_ = std::make_unique<media::fanout::registry>(media::fanout::hub_options{}, media_stats_.get());
  ingest_ = std::make_unique<actors::ingest>(*rt_, *hubs_);
  // Stream health every stats interval to the telemetry topic (the audit log records only what
  // changes for good: domain/ingest_audit.hpp).
  ingest_->watch_samples([this](const actors::ingest::live_sample& s) {
    // Keyed like the key's events ("stream_key/{app}/{id}"), so one stream's samples stay in order.
    kafka_->telemetry(std::string{domain::stream_key_aggregate::category} + "/" + std::to_string(s.app) + "/" +
                          std::to_string(s.key_id),
                      telemetry_json(s, cmaf_ ? cmaf_->health_of(s.app, s.key_id) : std::nullopt).dump());
  });
  // Every broadcast recorded; those a stop left open are taken up before publishers can return.
  recordings_ = std::make_unique<actors::recordings>(*rt_, *ingest_, fs::path{cfg_.data_dir}, media_stats_.get());
  recordings_->resume();
  // The CMAF ladder of every CMAF and RTMP_CMAF publish, served as LL-HLS, HLS and DASH.
  actors::cmaf_options co;
  co.max_transcodes = cfg_.max_transcodes != 0 ? cfg_.max_transcodes : actors::default_max_transcodes(cores.usable);
  co.preset = cfg_.x264_preset;
  cmaf_ = std::make_unique<actors::cmaf_streams>(*rt_, *ingest_, co);
  spdlog::info("cmaf transcodes at most {} streams at once, x264 preset {}", co.max_transcodes, co.preset);
  // Every ended broadcast archived into its video post's VOD.
  actors::archiver::options ao;
  ao.data_dir = fs::path{cfg_.data_dir};
  ao.concurrency = cfg_.max_archives;
  ao.preset = cfg_.vod_preset;
  {
    char host[256] = {};
    (void)::gethostname(host, sizeof host - 1);
    ao.worker = std::string{host} + "/" + std::to_string(::getpid());
  }
  archiver_ = std::make_unique<actors::archiver>(*rt_, ao);
  archiver_->start();
  // (beyond) Rooms left LIVE_INACTIVE past their app's reconnect window end themselves.
  reconnect_ = std::make_unique<actors::reconnect_windows>(
      *rt_, [rt = rt_.get()](domain::app_id app) { return actors::reconnect_windows::window_of(rt->views(), app); });
  reconnect_->start();
  rtmp_ = std::make_unique<media::rtmp::server>(rc, *ingest_, *media_stats_);
  try {
    rtmp_->start();
  } catch (const std::exception& e) {
    return domain::make_error(domain::error_code::internal, std::string{"rtmp: "} + e.what());
  }
  rtmp_port_ = rtmp_->port();
  ingest_->attach(rtmp_.get());
  spdlog::info("rtmp listening address={}:{}", rc.address, rtmp_port_);

  http_server::options ho;
  ho.listen = *listen;
  ho.max_connections = cfg_.http_max_connections;
  ho.threads = cfg_.http_threads != 0 ? cfg_.http_threads : cores.usable;
  ho.handler_threads = std::max<std::size_t>(2, cores.usable); // the REST handlers read RocksDB there
  http_ = std::make_unique<http_server>(ho);
  admin_token_ = actors::random_token(24);
  install_routes();
  auto port = http_->start();
  if (!port)
    return port.error();
  port_ = *port;
  rest_->http_base = base_url();
  rest_->rtmp_base = rtmp_base_url();

  const fs::path dir{cfg_.data_dir};
  json info{{"pid", ::getpid()},
            {"http", listen->host + ":" + std::to_string(port_)},
            {"baseUrl", base_url()},
            {"rtmp", rc.address + ":" + std::to_string(rtmp_port_)},
            {"rtmpBaseUrl", rtmp_base_url()}};
  if (!write_private_file(dir / "admin.token", admin_token_) || !write_private_file(dir / "server.json", info.dump()))
    return domain::make_error(domain::error_code::storage_failure,
                              "cannot write server.json / admin.token in " + cfg_.data_dir);
  spdlog::info("http listening address={} base_url={}", listen->host + ":" + std::to_string(port_), base_url());
  return port_;
}

std::string server::rtmp_base_url() const {
  auto addr = parse_listen_address(cfg_.rtmp_listen);
  const std::uint16_t port = rtmp_port_ ? rtmp_port_ : (addr ? addr->port : 1935);
  return "rtmp://" + url_host(cfg_.public_host, cfg_.rtmp_listen) + ":" + std::to_string(port);
}

void server::stop() {
  // Publishers and players first (their ends are recorded through the actors), then HTTP.
  if (rtmp_) {
    rtmp_->stop();
    ingest_->attach(nullptr);
  }
  // The publishers' ends that the stop queued are recorded (INACTIVE, or INACTIVE_LIVE with the
  // room paused) before the ingest and the hubs their callbacks use go.
  if (rt_)
    rt_->drain();
  if (http_) {
    http_->stop();
    if (rt_)
      rt_->drain(); // requests still being answered
    http_.reset();
    std::error_code ec;
    fs::remove(fs::path{cfg_.data_dir} / "server.json", ec);
    fs::remove(fs::path{cfg_.data_dir} / "admin.token", ec);
  }
  rtmp_.reset();
  reconnect_.reset();
  archiver_.reset();   // archives in hand stop; the next start makes them again
  recordings_.reset(); // recorders stop; what they synced is taken up on the next start
  cmaf_.reset();
  ingest_.reset();
  hubs_.reset();
  kafka_.reset();
  rt_.reset();
}

// The media counters in Prometheus text.
std::string server::media_metrics() const {
  if (!media_stats_)
    return {};
  const auto& c = *media_stats_;
  std::string out;
  const auto line = [&out](const char* name, const char* type, const char* help, auto value) {
    out += std::string{"# HELP "} + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
           std::to_string(value) + "\n";
  };
  const auto get = [](const auto& a) { return a.load(std::memory_order_relaxed); };
  line("onair_media_connections_total", "counter", "RTMP connections accepted", get(c.connections_total));
  line("onair_media_connections_open", "gauge", "RTMP connections open", get(c.connections_open));
  line("onair_media_connections_refused_total", "counter", "RTMP connections refused (per-address limit)",
       get(c.connections_refused));
  line("onair_media_protocol_errors_total", "counter", "connections closed for malformed RTMP/AMF0/FLV input",
       get(c.protocol_errors));
  line("onair_media_timeouts_total", "counter", "connections closed by handshake or idle timeouts", get(c.timeouts));
  line("onair_media_publish_sessions_total", "counter", "publishes accepted", get(c.publish_sessions_total));
  line("onair_media_publishers_active", "gauge", "publishers on air", get(c.publishers_active));
  line("onair_media_publish_rejected_total", "counter", "publishes refused (bad key, key in use)", get(c.publish_rejected));
  line("onair_media_viewers_total", "counter", "players started (RTMP and HTTP-FLV)", get(c.viewers_total));
  line("onair_media_viewers_active", "gauge", "players now", get(c.viewers_active));
  line("onair_media_bytes_in_total", "counter", "bytes received from publishers", get(c.bytes_in));
  line("onair_media_bytes_out_total", "counter", "bytes sent to players", get(c.bytes_out));
  line("onair_media_dropped_gops_total", "counter", "whole GOPs skipped for slow players", get(c.dropped_gops));
  line("onair_media_dropped_frames_total", "counter", "frames skipped for slow players", get(c.dropped_frames));
  line("onair_media_consumers_active", "gauge", "in-process consumers attached (recorders, transcoders)",
       get(c.consumers_active));
  line("onair_media_consumer_failures_total", "counter",
       "in-process consumers failed (a lossless one fell behind its bound, or threw)", get(c.consumer_failures));
  line("onair_media_consumer_dropped_samples_total", "counter", "samples a droppable in-process consumer skipped",
       get(c.consumer_dropped_samples));
  line("onair_recordings_active", "gauge", "broadcasts being recorded", get(c.recordings_active));
  line("onair_recordings_failed_total", "counter", "recordings failed (write error, fell behind)",
       get(c.recordings_failed));
  return out;
}

std::vector<std::pair<std::string, std::string>> server::routes() const {
  return http_ ? http_->routes() : std::vector<std::pair<std::string, std::string>>{};
}

void server::install_routes() {
  rest_ = std::make_unique<rest_context>(rest_context{*rt_, "", ""});
  http_->use([cache = std::make_shared<idempotency_cache>()](const http_request& req, responder respond,
                                                             const http_handler& next) {
    cache->handle(req, std::move(respond), next);
  });
  rest_->cmaf_renditions = [this](domain::app_id app, std::int64_t key_id) {
    std::vector<rest_context::rendition> out;
    if (cmaf_)
      for (const auto& r : cmaf_->renditions(app, key_id))
        out.push_back({r.width, r.height, r.bitrate_kbps});
    return out;
  };
  rest_->live_ingest = [this](domain::app_id app, std::int64_t key_id) -> std::optional<domain::ingest_info> {
    if (auto s = ingest_->live_stats(app, key_id))
      return s->ingest;
    return std::nullopt;
  };
  rest_->extra_metrics = [this] {
    return kafka_->prometheus_text() + media_metrics() + ingest_->prometheus_text() +
           (cmaf_ ? cmaf_->prometheus_text() : std::string{}) +
           (archiver_ ? archiver_->prometheus_text() : std::string{});
  };
  // REST resources (api/routes.hpp); each family adds its own line here.
  install_app_routes(*http_, *rest_);
  install_member_routes(*http_, *rest_);
  install_room_routes(*http_, *rest_);
  install_event_routes(*http_, *rest_);
  install_member_api_routes(*http_, *rest_);
  rest_->vod_dir = (fs::path{cfg_.data_dir} / "vod").string();
  install_vod_routes(*http_, *rest_); // /vod/{videoPostId}/…, cross-origin like /play/
  install_docs_routes(*http_, cfg_.web_dir.empty() ? std::string{ONAIR_WEB_DIR} : cfg_.web_dir);
  install_console_routes(*http_, cfg_.web_dir.empty() ? std::string{ONAIR_WEB_DIR} : cfg_.web_dir);

  // HTTP-FLV playback: /play/{playbackId}.flv (HLS and DASH come with the CMAF packager), played
  // by pages of any origin.
  http_->cross_origin("/play/{file}");
  http_->raw_route("GET", "/play/{file}", [this](const http_request& req, evhttp_request* raw, net::event_loop& loop,
                                                  close_watch on_close) {
    const auto& file = req.params.at("file");
    constexpr std::string_view ext = ".flv";
    if (file.size() <= ext.size() || !file.ends_with(ext))
      return media::flv::serve_http_flv(loop, raw, nullptr, std::move(on_close), media_stats_.get()); // 404
    // The lookup reads the views off this loop; the viewer starts back on it.
    ingest_->open_playback(file.substr(0, file.size() - ext.size()),
                           media::flv::serve_http_flv_later(loop, raw, std::move(on_close), media_stats_.get()));
  });

  // CMAF playback: /play/{playbackId}/index.m3u8 (HLS master), /{rendition}.m3u8 (media
  // playlists), /manifest.mpd (DASH), and the stream's objects under its own folder
  // /play/{playbackId}/{folder}/{rendition}/{file}.
  // Players poll these many times a second each: the HTTP layer reads and answers them itself
  // (http_server::media_route), off evhttp and the router.
  auto serve_cmaf = [this](const media_request& req, std::shared_ptr<net::media_reply> reply,
                           net::event_loop& loop, std::string file) {
    // The clock's URL, for the MPD only (its UTCTiming), as the player reached this server.
    std::string time_url;
    if (file == "manifest.mpd")
      time_url = "http://" +
                 (req.host.empty() ? url_host(cfg_.public_host, cfg_.http_listen) + ":" + std::to_string(port_)
                                   : std::string{req.host}) +
                 "/time";
    const media::cmaf::player_request asked{file, req.query, time_url, req.peer, req.user_agent};
    // A stream looked up before is served at once, on this loop; the first lookup of an id reads
    // the views off it, and the reply is made back here.
    if (auto s = cmaf_->find_known(req.params[0]))
      return media::cmaf::serve(loop, asked, std::move(s), std::move(reply), &cmaf_->http_counters());
    cmaf_->find(std::string{req.params[0]},
                [this, &loop, reply = std::move(reply), file = std::move(file), query = std::string{req.query},
                 time_url = std::move(time_url), peer = std::string{req.peer},
                 agent = std::string{req.user_agent}](actors::cmaf_streams::stream_ptr s) mutable {
                  loop.post([this, &loop, reply = std::move(reply), file = std::move(file), query = std::move(query),
                             time_url = std::move(time_url), peer = std::move(peer), agent = std::move(agent),
                             s = std::move(s)] {
                    if (reply->gone()) // the client left meanwhile
                      return;
                    media::cmaf::serve(loop, {file, query, time_url, peer, agent}, s, reply, &cmaf_->http_counters());
                  });
                });
  };
  http_->cross_origin("/play/{id}/{file}");
  http_->media_route("/play/{id}/{file}", [serve_cmaf](const media_request& req,
                                                       std::shared_ptr<net::media_reply> reply, net::event_loop& loop) {
    serve_cmaf(req, std::move(reply), loop, std::string{req.params[1]});
  });
  http_->cross_origin("/play/{id}/{folder}/{rendition}/{file}");
  http_->media_route("/play/{id}/{folder}/{rendition}/{file}",
                     [serve_cmaf](const media_request& req, std::shared_ptr<net::media_reply> reply,
                                  net::event_loop& loop) {
                       std::string file{req.params[1]};
                       file += '/';
                       file += req.params[2];
                       file += '/';
                       file += req.params[3];
                       serve_cmaf(req, std::move(reply), loop, std::move(file));
                     });
  // The server's clock for DASH players (UTCTiming): they cannot reach any other.
  http_->cross_origin("/time");
  http_->route("GET", "/time", [](const http_request&, responder respond) {
    http_response r{200, "text/plain; charset=utf-8", media::cmaf::iso8601_ms(media::cmaf::wall_clock_ms()), {}};
    r.headers.emplace_back("Access-Control-Allow-Origin", "*");
    r.headers.emplace_back("Cache-Control", "no-cache");
    respond(std::move(r));
  });

  // The public half of the key that signs the audit checkpoints: whoever verifies a trail from
  // outside (onair audit verify --feed) checks the signatures with it.
  http_->cross_origin("/audit/public-key");
  http_->route("GET", "/audit/public-key", [this](const http_request&, responder respond) {
    const auto pem = rt_->store().audit_public_key();
    if (pem.empty())
      return respond(error_response(404, "NOT_FOUND", "this server signs no audit checkpoints"));
    http_response r{200, "application/x-pem-file", pem, {}};
    r.headers.emplace_back("Access-Control-Allow-Origin", "*");
    respond(std::move(r));
  });

  http_->route("GET", "/healthz", [](const http_request&, responder respond) {
    respond(json_response(200, R"({"status":"UP"})"));
  });
  http_->route("GET", "/readyz", [this](const http_request&, responder respond) {
    // Kafka lagging is DEGRADED but still 200: the API works, RocksDB is the source of truth.
    const bool degraded = kafka_->degraded();
    json j{{"status", degraded ? "DEGRADED" : "READY"},
           {"eventLogPosition", rt_->store().last_position()},
           {"kafka", degraded ? "degraded" : kafka_->enabled() ? "ok" : "off"}};
    respond(json_response(200, j.dump()));
  });

  // Operator endpoints for the CLI on this machine: loopback peers with the token from the data
  // folder only. Anyone else is told nothing exists here.
  auto admin = [this](http_handler h) {
    return [this, h = std::move(h)](const http_request& req, responder respond) {
      const auto token = req.header("x-onair-admin-token");
      const bool ok = req.peer_is_loopback && token.size() == admin_token_.size() &&
                      CRYPTO_memcmp(token.data(), admin_token_.data(), token.size()) == 0;
      if (!ok) {
        spdlog::warn("admin request refused peer={} path={}", req.peer, req.path);
        return respond(error_response(404, "NOT_FOUND", "no route for " + req.method + " " + req.path));
      }
      h(req, std::move(respond));
    };
  };
  // The audit trail of every app, filtered like the feed, for `onair audit export` while serving.
  http_->route("GET", "/v2/admin/events", admin(admin_events_handler(*rt_)));
  http_->route("GET", "/v2/admin/kafka", admin([this](const http_request&, responder respond) {
                 respond(json_response(200, kafka_->status().dump()));
               }));
  http_->route("GET", "/v2/admin/apps", admin([this](const http_request&, responder respond) {
                 respond(json_response(200, json{{"content", list_apps(*rt_)}}.dump()));
               }));
  http_->route("POST", "/v2/admin/apps", admin([this](const http_request& req, responder respond) {
                 auto body = json::parse(req.body, nullptr, false);
                 if (body.is_discarded() || !body.is_object() || !body.contains("name") || !body["name"].is_string() ||
                     body["name"].get<std::string>().empty())
                   return respond(error_response(400, "INVALID_PARAMETER", "body must be {\"name\": \"...\"}", "name"));
                 auto creds = make_credentials(body["name"].get<std::string>());
                 rt_->create_app(creds.command, provenance_of(req, "operator"), [respond, secret = creds.api_secret](auto r) {
                   if (!r)
                     return respond(error_response(500, std::string{domain::to_string(r.error().code)}, r.error().message));
                   auto out = app_summary(r->state);
                   out["apiSecret"] = secret;
                   spdlog::info("app created app_id={} name=\"{}\" api_key={}", r->state.id, r->state.name,
                                r->state.api_key);
                   respond(json_response(201, out.dump()));
                 });
               }));
  http_->route("POST", "/v2/admin/apps/{apiKey}/rotate-secret",
               admin([this](const http_request& req, responder respond) {
                 rotate_secret(*rt_, req.params.at("apiKey"), provenance_of(req, "operator"), [respond](domain::result<json> r) {
                   if (!r)
                     return respond(error_of(r.error()));
                   respond(json_response(200, r->dump()));
                 });
               }));
}

} // namespace onair::api
