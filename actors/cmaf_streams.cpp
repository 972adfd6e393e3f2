#include "actors/cmaf_streams.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "domain/profiles.hpp"
#include "domain/stream_key.hpp"
#include "media/ffmpeg/transcoder.hpp"
#include "actors/services.hpp"
#include "storage/views.hpp"

namespace onair::actors {

using domain::stream_key_aggregate;

// The runtime's threads and the transcoders' outlive this object; they reach it here.
struct cmaf_guard {
  std::mutex mu;
  cmaf_streams* self = nullptr;
};

struct cmaf_streams::entry {
  domain::app_id app = 0;
  std::int64_t key_id = 0;
  std::string session; // the publisher's, updated when it returns
  domain::output_mode mode = domain::output_mode::cmaf;
  std::shared_ptr<media::fanout::hub> hub;
  std::shared_ptr<media::fanout::tap> tap;
  std::shared_ptr<media::ffmpeg::transcoder> tx;
  stream_ptr stream;
  bool ready = false;
  bool failed = false; // its video could not be made before it was ready (the key's error says why)
  bool ended = false;
  std::chrono::steady_clock::time_point ended_at{};
};

namespace {

// The transcoder as the hub's consumer, telling the service when the stream is over.
class cmaf_consumer final : public media::fanout::consumer {
public:
  cmaf_consumer(std::shared_ptr<media::ffmpeg::transcoder> tx, std::function<void()> over)
      : tx_(std::move(tx)), over_(std::move(over)) {}
  void on_opened(const media::fanout::stream_info& i) override { tx_->on_opened(i); }
  void on_config_changed(const media::fanout::stream_info& i) override { tx_->on_config_changed(i); }
  void on_sample(const media::fanout::message_ptr& m) override { tx_->on_sample(m); }
  void on_publisher_gone() override { tx_->on_publisher_gone(); }
  void on_publisher_back() override { tx_->on_publisher_back(); }
  void on_closed() override {
    tx_->on_closed();
    over_();
  }
  void on_failed(std::string_view why) override {
    tx_->on_failed(why);
    over_();
  }

private:
  std::shared_ptr<media::ffmpeg::transcoder> tx_;
  std::function<void()> over_;
};

} // namespace

std::size_t default_max_transcodes(unsigned usable_cores) { return std::max(1u, usable_cores > 1 ? usable_cores - 1 : 1u); }

cmaf_streams::cmaf_streams(runtime& rt, ingest& in, cmaf_options opts)
    : rt_{rt}, ingest_{in}, opts_{std::move(opts)}, guard_{std::make_shared<cmaf_guard>()} {
  guard_->self = this;
  ingest_.watch_streams([guard = guard_](const ingest::stream_started& s) {
    std::lock_guard lock{guard->mu};
    if (guard->self)
      guard->self->started(s);
  });
  ingest_.admit_streams([guard = guard_](domain::app_id app, std::int64_t key_id, domain::output_mode mode) {
    std::lock_guard lock{guard->mu};
    return guard->self ? guard->self->admit(app, key_id, mode) : std::nullopt;
  });
}

cmaf_streams::~cmaf_streams() {
  {
    std::lock_guard lock{guard_->mu};
    guard_->self = nullptr;
  }
  std::map<key, std::shared_ptr<entry>> all;
  {
    std::lock_guard lock{mu_};
    all.swap(streams_);
  }
  for (auto& [k, e] : all)
    if (e->hub && e->tap)
      e->hub->detach(e->tap);
}

std::size_t cmaf_streams::live_locked() const {
  return static_cast<std::size_t>(
      std::count_if(streams_.begin(), streams_.end(), [](const auto& kv) { return !kv.second->ended; }));
}

std::size_t cmaf_streams::active() const {
  std::lock_guard lock{mu_};
  return live_locked();
}

std::vector<cmaf_streams::rendition> cmaf_streams::renditions(domain::app_id app, std::int64_t key_id) const {
  stream_ptr s;
  {
    std::lock_guard lock{mu_};
    auto it = streams_.find({app, key_id});
    if (it == streams_.end() || it->second->ended)
      return {};
    s = it->second->stream;
  }
  std::vector<rendition> out;
  if (!s)
    return out;
  for (const auto& r : s->view().renditions)
    if (r.desc.kind == media::cmaf::track_kind::video && r.config)
      out.push_back({r.config->width, r.config->height, r.desc.bandwidth / 1000});
  return out;
}

std::optional<cmaf_streams::health> cmaf_streams::health_of(domain::app_id app, std::int64_t key_id) const {
  std::lock_guard lock{mu_};
  auto it = streams_.find({app, key_id});
  if (it == streams_.end() || it->second->ended || !it->second->stream)
    return std::nullopt;
  const auto& e = *it->second;
  health out;
  out.players = e.stream->players().players(media::cmaf::audience::clock::now());
  if (e.tx) {
    out.transcode_lag_ms = e.tx->stats().lag_ms.load();
    out.frames_dropped = e.tx->stats().frames_dropped.load();
  }
  return out;
}

std::optional<std::string> cmaf_streams::admit(domain::app_id app, std::int64_t key_id, domain::output_mode mode) {
  if (mode == domain::output_mode::rtmp)
    return std::nullopt;
  std::lock_guard lock{mu_};
  purge_locked(std::chrono::steady_clock::now());
  if (auto it = streams_.find({app, key_id}); it != streams_.end() && !it->second->ended)
    return std::nullopt; // its publisher returning
  const auto live = live_locked();
  if (live < opts_.max_transcodes)
    return std::nullopt;
  spdlog::warn("cmaf publish refused app={} key={}: {} of {} transcodes in use", app, key_id, live,
               opts_.max_transcodes);
  return "transcoding capacity reached: this server transcodes at most " + std::to_string(opts_.max_transcodes) +
         " CMAF stream(s) at once; publish with ?mode=RTMP or try again later";
}

void cmaf_streams::started(const ingest::stream_started& s) {
  if (s.mode == domain::output_mode::rtmp)
    return;
  const key k{s.app, s.key_id};
  {
    std::lock_guard lock{mu_};
    purge_locked(std::chrono::steady_clock::now());
    if (auto it = streams_.find(k); it != streams_.end() && !it->second->ended && it->second->hub == s.hub) {
      // The publisher returned within the broadcast: the same transcoder goes on.
      auto& e = *it->second;
      e.session = s.session;
      if (e.ready || (e.failed && e.mode == domain::output_mode::rtmp_cmaf))
        rt_.key_command(s.app, s.key_id, domain::mark_viewable{s.session, /*rtmp_only=*/!e.ready},
                        domain::provenance::system("cmaf", s.session),
                        [](domain::result<outcome<stream_key_aggregate>>) {});
      return;
    }
  }
  auto key_view = storage::get_view<stream_key_aggregate>(rt_.views(), s.app, std::to_string(s.key_id));
  const auto* profile =
      domain::find_profile(key_view ? key_view->state.profile_id : domain::default_live_profile_id);
  if (!profile || profile->type != domain::profile_type::live)
    profile = domain::find_profile(domain::default_live_profile_id);

  media::ffmpeg::transcoder_options o;
  for (const auto& v : profile->video_streams)
    o.ladder.push_back({v.width, v.height, v.bitrate_kbps});
  o.audio_bitrate_kbps = profile->audio.bitrate_kbps;
  o.preset = opts_.preset;
  o.packaging.segment_ms = profile->segment_duration_ms;
  o.packaging.part_target_ms = profile->part_duration_ms;
  o.packaging.uri_prefix = random_token(8) + "/"; // base64url: safe in a path

  auto e = std::make_shared<entry>();
  e->app = s.app;
  e->key_id = s.key_id;
  e->session = s.session;
  e->mode = s.mode;
  e->hub = s.hub;
  const std::string name = "app=" + std::to_string(s.app) + " key=" + std::to_string(s.key_id);
  std::weak_ptr<entry> weak = e;
  media::ffmpeg::transcoder::callbacks cb;
  cb.on_stream = [guard = guard_, k, weak](std::shared_ptr<media::cmaf::stream> st) {
    auto en = weak.lock();
    if (!en)
      return;
    {
      std::lock_guard lock{guard->mu};
      if (!guard->self)
        return;
      std::lock_guard inner{guard->self->mu_};
      en->stream = st;
    }
    st->on_ready([guard, k] {
      std::lock_guard lock{guard->mu};
      if (guard->self)
        guard->self->ready(k);
    });
  };
  cb.on_error = [this, guard = guard_, weak, k](const media::ffmpeg::transcode_error& err) {
    auto en = weak.lock();
    std::lock_guard lock{guard->mu};
    if (!en || !guard->self)
      return;
    std::string session;
    bool rtmp_instead = false;
    {
      std::lock_guard inner{mu_};
      session = en->session;
      // An audio error leaves a ladder without sound, still to come.
      en->failed = en->failed || (err.video && !en->ready);
      rtmp_instead = en->failed && en->mode == domain::output_mode::rtmp_cmaf;
    }
    rt_.key_command(k.first, k.second, domain::report_key_error{session, err.code, err.message},
                    domain::provenance::system("cmaf", session), [](domain::result<outcome<stream_key_aggregate>>) {});
    // RTMP_CMAF: the RTMP family does not wait for a CMAF output that cannot be made, and the
    // key and its room then offer no CMAF URL.
    if (rtmp_instead)
      rt_.key_command(k.first, k.second, domain::mark_viewable{session, /*rtmp_only=*/true},
                      domain::provenance::system("cmaf", session), [](domain::result<outcome<stream_key_aggregate>>) {});
  };
  e->tx = std::make_shared<media::ffmpeg::transcoder>(o, std::move(cb), name);
  auto consumer = std::make_shared<cmaf_consumer>(e->tx, [guard = guard_, k, weak] {
    auto en = weak.lock();
    std::lock_guard lock{guard->mu};
    if (en && guard->self)
      guard->self->ended(k, en);
  });
  {
    std::lock_guard lock{mu_};
    streams_[k] = e; // an earlier, ended stream of the key is let go
  }
  e->tap = s.hub->attach(consumer, {.name = "cmaf " + name,
                                    .policy = media::fanout::delivery::droppable,
                                    .max_queued_bytes = 16 * 1024 * 1024,
                                    .max_queued_items = 512});
  spdlog::info("cmaf stream started app={} key={} profile={} renditions≤{}", s.app, s.key_id, profile->name,
               o.ladder.size());
}

void cmaf_streams::ready(const key& k) {
  std::string session;
  {
    std::lock_guard lock{mu_};
    auto it = streams_.find(k);
    if (it == streams_.end())
      return;
    it->second->ready = true;
    session = it->second->session;
  }
  spdlog::info("cmaf stream viewable app={} key={}", k.first, k.second);
  rt_.key_command(k.first, k.second, domain::mark_viewable{session}, domain::provenance::system("cmaf", session),
                  [k](domain::result<outcome<stream_key_aggregate>> r) {
                    if (!r)
                      spdlog::warn("cmaf stream viewable, not recorded app={} key={} error=\"{}\"", k.first, k.second,
                                   r.error().message);
                  });
}

void cmaf_streams::ended(const key& k, const std::shared_ptr<entry>& e) {
  std::lock_guard lock{mu_};
  if (e->ended)
    return;
  e->ended = true;
  e->ended_at = std::chrono::steady_clock::now();
  if (e->tx)
    finished_dropped_ += e->tx->stats().frames_dropped.load();
  spdlog::info("cmaf stream ended app={} key={}", k.first, k.second);
}

void cmaf_streams::purge_locked(std::chrono::steady_clock::time_point now) {
  for (auto it = streams_.begin(); it != streams_.end();) {
    if (it->second->ended && now - it->second->ended_at > opts_.linger)
      it = streams_.erase(it);
    else
      ++it;
  }
  for (auto it = by_playback_id_.begin(); it != by_playback_id_.end();) {
    if (!streams_.contains(it->second))
      it = by_playback_id_.erase(it);
    else
      ++it;
  }
}

cmaf_streams::stream_ptr cmaf_streams::find_known(std::string_view playback_id) {
  std::lock_guard lock{mu_};
  const auto it = by_playback_id_.find(playback_id);
  if (it == by_playback_id_.end())
    return nullptr;
  const auto s = streams_.find(it->second);
  if (s == streams_.end())
    return nullptr;
  // Every player asks here: the lingering ended streams are let go only when this one is due.
  const auto now = std::chrono::steady_clock::now();
  if (s->second->ended && now - s->second->ended_at > opts_.linger) {
    purge_locked(now);
    return nullptr;
  }
  return s->second->stream;
}

void cmaf_streams::find(const std::string& playback_id, std::function<void(stream_ptr)> answer) {
  if (auto hit = find_known(playback_id))
    return answer(std::move(hit));
  // The ingest's playback index is in memory: looked up on the caller's thread, never behind a flow.
  const auto k = ingest_.playback_key(playback_id);
  stream_ptr found;
  if (k) {
    std::lock_guard lock{mu_};
    if (auto it = streams_.find(*k); it != streams_.end() && it->second->stream) {
      found = it->second->stream;
      by_playback_id_[playback_id] = *k;
    }
  }
  answer(std::move(found));
}

std::string cmaf_streams::prometheus_text() const {
  std::uint64_t dropped = 0, encoded = 0;
  std::int64_t lag = 0;
  std::size_t held = 0, live = 0;
  std::string viewers;
  {
    std::lock_guard lock{mu_};
    dropped = finished_dropped_;
    const auto now = media::cmaf::audience::clock::now();
    for (const auto& [k, e] : streams_) {
      if (e->stream)
        held += e->stream->held_bytes();
      if (e->stream && !e->ended) {
        const auto n = e->stream->players().players(now);
        for (const auto& [protocol, count] : {std::pair{"hls", n.hls}, std::pair{"dash", n.dash}})
          viewers += fmt::format("onair_cmaf_viewers{{app=\"{}\",stream_key=\"{}\",protocol=\"{}\"}} {}\n", e->app,
                                 e->key_id, protocol, count);
      }
      if (e->ended || !e->tx)
        continue;
      ++live;
      dropped += e->tx->stats().frames_dropped.load();
      encoded += e->tx->stats().frames_out.load();
      lag = std::max(lag, e->tx->stats().lag_ms.load());
    }
  }
  std::string out;
  auto line = [&out](const char* name, const char* type, const char* help, auto value) {
    out += std::string{"# HELP "} + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
           std::to_string(value) + "\n";
  };
  line("onair_cmaf_streams_active", "gauge", "CMAF streams being transcoded", live);
  line("onair_cmaf_transcode_lag_ms", "gauge",
       "age of the latest frame when its encoding ended, worst live transcoder (ms)", lag);
  line("onair_cmaf_frames_dropped_total", "counter", "frames a transcoder shed because it fell behind", dropped);
  line("onair_cmaf_frames_encoded_total", "counter", "frames encoded by live transcoders, all renditions", encoded);
  line("onair_cmaf_packaged_bytes", "gauge", "init segments, segments and parts held for players", held);
  line("onair_cmaf_http_requests_total", "counter", "playlist, manifest and segment requests",
       http_counters_.requests.load());
  line("onair_cmaf_http_bytes_out_total", "counter", "bytes of playlists, manifests and segments sent",
       http_counters_.bytes_out.load());
  line("onair_cmaf_http_blocked_total", "counter", "requests that waited for a part (blocking reload, preload hint)",
       http_counters_.blocked.load());
  out += "# HELP onair_cmaf_viewers HLS and DASH players of a live stream heard from in the last 10 s\n"
         "# TYPE onair_cmaf_viewers gauge\n" +
         viewers;
  return out;
}

} // namespace onair::actors
