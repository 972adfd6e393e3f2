#include "actors/archiver.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <vector>

#include <pthread.h>
#include <spdlog/spdlog.h>

#include "actors/stream_names.hpp"
#include "domain/profiles.hpp"
#include "media/vod/archive.hpp"
#include "storage/views.hpp"

namespace onair::actors {

namespace fs = std::filesystem;

// What wakes the follower; shared with the runtime's observer, which outlives the archiver.
struct archiver_signal {
  std::mutex mu;
  std::condition_variable cv;
  bool woken = true; // the first pass reads what is there
  bool stopping = false;
  std::vector<std::pair<domain::app_id, std::int64_t>> finished; // job threads to join

  void wake() {
    {
      std::lock_guard lock{mu};
      woken = true;
    }
    cv.notify_one();
  }
};

namespace {

constexpr std::string_view checkpoint_key = "archiver/checkpoint";
constexpr int progress_step = 20; // a durable progress event every 20 %

// The archiver acts on its own, for the video post it archives.
domain::provenance archiver_provenance(domain::app_id app, std::int64_t post_id) {
  return domain::provenance::system("archiver", "video_post/" + std::to_string(app) + "/" + std::to_string(post_id));
}

std::string post_url(std::int64_t id, std::string_view file) { return "/vod/" + std::to_string(id) + "/" + std::string{file}; }

void sync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)::fsync(fd);
    ::close(fd);
  }
}

} // namespace

archiver::archiver(runtime& rt, options opts)
    : rt_{rt}, opts_{std::move(opts)}, signal_{std::make_shared<archiver_signal>()} {
  if (opts_.concurrency == 0)
    opts_.concurrency = 1;
  rt_.observe([signal = std::weak_ptr<archiver_signal>{signal_}](std::string_view stream, std::string_view type) {
    // Posts, and the recordings their archives wait for.
    if (stream.starts_with(domain::video_post_aggregate::category) || type == domain::recording_completed::type ||
        type == domain::recording_failed::type || type == domain::live_ended::type)
      if (auto s = signal.lock())
        s->wake();
  });
}

archiver::~archiver() {
  stopping_ = true;
  {
    std::lock_guard lock{signal_->mu};
    signal_->stopping = true;
  }
  signal_->cv.notify_all();
  if (follower_.joinable())
    follower_.join();
  std::map<std::pair<domain::app_id, std::int64_t>, std::thread> jobs;
  {
    std::lock_guard lock{mu_};
    jobs.swap(jobs_);
  }
  for (auto& [k, t] : jobs)
    if (t.joinable())
      t.join();
}

std::string archiver::folder(domain::app_id app, std::int64_t post_id) {
  return "vod/" + std::to_string(app) + "/" + std::to_string(post_id);
}

void archiver::start() {
  if (auto raw = rt_.views().get(checkpoint_key)) {
    std::uint64_t at = 0;
    if (std::from_chars(raw->data(), raw->data() + raw->size(), at).ec == std::errc{}) {
      std::lock_guard lock{mu_};
      seen_ = saved_checkpoint_ = at;
    }
  }
  spdlog::info("archiver following the log from position={} concurrency={} preset={}", seen_, opts_.concurrency,
               opts_.preset);
  follower_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "archiver");
    follow();
  });
}

void archiver::follow() {
  for (;;) {
    std::vector<std::pair<domain::app_id, std::int64_t>> finished;
    {
      std::unique_lock lock{signal_->mu};
      signal_->cv.wait(lock, [this] { return signal_->woken || signal_->stopping; });
      if (signal_->stopping)
        return;
      signal_->woken = false;
      finished.swap(signal_->finished);
    }
    for (const auto& k : finished) {
      std::thread t;
      {
        std::lock_guard lock{mu_};
        if (auto it = jobs_.find(k); it != jobs_.end()) {
          t = std::move(it->second);
          jobs_.erase(it);
        }
      }
      if (t.joinable())
        t.join();
    }
    read_log();
  }
}

void archiver::read_log() {
  std::set<key> pending;
  for (;;) {
    std::uint64_t from = 0;
    {
      std::lock_guard lock{mu_};
      from = seen_;
    }
    auto batch = rt_.store().read_all(from, 512);
    if (!batch) {
      spdlog::warn("archiver cannot read the log after position={}: {}", from, batch.error().message);
      return;
    }
    if (batch->empty())
      break;
    std::lock_guard lock{mu_};
    for (const auto& rec : *batch) {
      if (auto p = parse_stream(rec.stream, domain::video_post_aggregate::category))
        tracked_.try_emplace(*p, rec.position);
      seen_ = rec.position;
    }
  }
  // Every post not done is looked at on each pass: one just seen, one whose recording or room
  // was waited for (their events wake the follower), one that waits for a free slot (a job's end
  // wakes it).
  {
    std::lock_guard lock{mu_};
    for (const auto& [k, pos] : tracked_)
      if (!running_.contains(k))
        pending.insert(k);
  }
  for (const auto& k : pending) {
    if (stopping_)
      return;
    consider(k);
  }
  persist_checkpoint();
}

void archiver::consider(const key& k) {
  const domain::app_id app = k.first;
  const std::int64_t id = k.second;
  const auto post = storage::get_view<domain::video_post_aggregate>(rt_.views(), app, std::to_string(id));
  auto forget = [&] {
    std::lock_guard lock{mu_};
    tracked_.erase(k);
  };
  if (!post || !post->state.exists)
    return forget();
  const auto& p = post->state;

  if (p.deleted) {
    {
      std::lock_guard lock{mu_};
      if (running_.contains(k)) {
        cancelled_.insert(k); // its job stops and the folder goes once it has
        return;
      }
    }
    std::error_code ec;
    const auto dir = opts_.data_dir / folder(app, id);
    if (fs::exists(dir, ec) || fs::exists(dir.string() + ".partial", ec)) {
      fs::remove_all(dir, ec);
      fs::remove_all(dir.string() + ".partial", ec);
      spdlog::info("vod files removed: post deleted app={} post={}", app, id);
    }
    return forget();
  }

  // End Live makes the post, then ends the room: the work starts once the room is ENDED (its
  // vodState ARCHIVING), so that the room can follow the post.
  const auto room = storage::get_view<domain::video_room_aggregate>(rt_.views(), app, std::to_string(p.room_id));
  if (room && room->state.vod_state == domain::vod_state::not_archived)
    return; // kept: the room's end wakes the follower

  if (p.state != domain::post_state::archiving) {
    // The post is done; its room follows (a crash may have come between the two).
    if (room && room->state.vod_state == domain::vod_state::archiving) {
      domain::video_room_aggregate::command cmd =
          p.state == domain::post_state::archived
              ? domain::video_room_aggregate::command{domain::mark_vod_archived{.vod_url = p.play_url}}
              : domain::video_room_aggregate::command{domain::mark_vod_failed{.code = p.error_code, .message = p.error}};
      if (auto r = rt_.ask_sync<domain::video_room_aggregate>({app, std::to_string(p.room_id)}, std::move(cmd),
                                                              archiver_provenance(app, id));
          !r) {
        spdlog::warn("room vodState not updated app={} room={} post={} error=\"{}\"", app, p.room_id, id,
                     r.error().message);
        return; // kept: the next pass tries again
      }
    }
    return forget();
  }

  std::lock_guard lock{mu_};
  if (running_.contains(k) || jobs_.contains(k) || stopping_)
    return; // a job that just ended is joined first, and the post looked at again
  // The archive is made from the whole recording: it waits for the recorder to finish.
  const auto b = storage::get_view<domain::broadcast_aggregate>(rt_.views(), app, std::to_string(p.broadcast_id));
  if (b) {
    const auto rec = b->state.recording.state;
    const bool open = rec == domain::recording_state::recording ||
                      (rec == domain::recording_state::not_started && b->state.state == domain::broadcast_state::live);
    if (open)
      return; // kept: the recording's end wakes the follower
  }
  if (running_.size() >= opts_.concurrency)
    return;
  running_.insert(k);
  jobs_[k] = std::thread([this, k] {
    pthread_setname_np(pthread_self(), "archive");
    // The decoding here yields to live work too, as the encoders do (this thread only, on Linux).
    if (opts_.nice != 0)
      (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), opts_.nice);
    run_job(k);
  });
}

void archiver::run_job(key k) {
  const domain::app_id app = k.first;
  const std::int64_t id = k.second;
  const std::string post_id = std::to_string(id);
  bool ok = false;
  struct done_guard {
    archiver& self;
    key k;
    bool& ok;
    ~done_guard() { self.job_done(k, ok); }
  } done{*this, k, ok};

  const auto who = archiver_provenance(app, id);
  auto started = rt_.ask_sync<domain::video_post_aggregate>({app, post_id}, domain::start_archive{opts_.worker}, who);
  if (!started) {
    spdlog::warn("archive not started app={} post={} error=\"{}\"", app, id, started.error().message);
    return;
  }
  const auto& post = started->state;
  const int attempt = post.attempts;
  auto fail = [&](const std::string& code, const std::string& message) {
    spdlog::error("archive failed app={} post={} broadcast={} code={} error=\"{}\"", app, id, post.broadcast_id, code,
                  message);
    if (auto r = rt_.ask_sync<domain::video_post_aggregate>({app, post_id}, domain::fail_archive{code, message}, who); !r)
      spdlog::warn("archive failure not recorded app={} post={} error=\"{}\"", app, id, r.error().message);
    else
      failed_.fetch_add(1);
    // The room follows in consider(), once this job is done.
  };

  // A retried archive's room is ARCHIVING again.
  if (auto r = rt_.ask_sync<domain::video_room_aggregate>({app, std::to_string(post.room_id)}, domain::mark_vod_archiving{},
                                                          who);
      !r)
    spdlog::warn("room not marked archiving app={} room={} error=\"{}\"", app, post.room_id, r.error().message);

  const auto b = storage::get_view<domain::broadcast_aggregate>(rt_.views(), app, std::to_string(post.broadcast_id));
  if (!b || !b->state.exists)
    return fail("BROADCAST_NOT_FOUND", "broadcast " + std::to_string(post.broadcast_id) + " of the post is not found");
  const auto& rec = b->state.recording;
  std::vector<fs::path> parts;
  for (const auto& part : rec.parts)
    if (part.bytes > 0 && part.end_ms > part.start_ms)
      parts.push_back(opts_.data_dir / rec.path / part.file);
  if (parts.empty()) {
    std::string why = "the broadcast recorded nothing";
    if (rec.state == domain::recording_state::failed && !rec.error.empty())
      why += " (its recording failed: " + rec.error + ")";
    else if (rec.state == domain::recording_state::not_started)
      why += " (its recording never started)";
    return fail("NOTHING_RECORDED", why);
  }

  const auto* profile = domain::find_profile(domain::vod_default_profile_id);
  const auto& first = rec.parts.front();
  media::vod::archive_spec spec;
  spec.parts = parts;
  const auto final_dir = opts_.data_dir / folder(app, id);
  spec.out = final_dir.string() + ".partial";
  for (const auto& v : domain::streams_for_source(*profile, static_cast<int>(first.width), static_cast<int>(first.height)))
    spec.ladder.push_back({v.width, v.height, v.bitrate_kbps});
  spec.segment_ms = profile->segment_duration_ms;
  spec.audio_bitrate_kbps = profile->audio.bitrate_kbps;
  spec.preset = opts_.preset;
  spec.nice = opts_.nice;
  spec.expected_ms = rec.duration_ms;
  spec.name = "post=" + post_id;
  int recorded = post.progress;
  spec.progress = [&](int percent) {
    if (stopping_)
      return false;
    {
      std::lock_guard lock{mu_};
      if (cancelled_.contains(k))
        return false;
    }
    // A few durable steps; a resumed attempt says nothing until it passes where the last one was.
    const int step = percent / progress_step * progress_step;
    if (step > recorded && step > 0 && step < 100) {
      recorded = step;
      if (auto r = rt_.ask_sync<domain::video_post_aggregate>({app, post_id}, domain::report_progress{step}, who); !r)
        spdlog::warn("archive progress not recorded app={} post={} error=\"{}\"", app, id, r.error().message);
    }
    return true;
  };

  spdlog::info("archive started app={} post={} broadcast={} attempt={} parts={} recorded_ms={} renditions={}", app, id,
               post.broadcast_id, attempt, parts.size(), rec.duration_ms, spec.ladder.size());
  const auto began = std::chrono::steady_clock::now();
  const auto outcome = media::vod::make_archive(spec);
  std::error_code ec;
  if (!outcome.result) {
    fs::remove_all(spec.out, ec);
    if (outcome.failure.code == "ARCHIVE_STOPPED") {
      spdlog::info("archive stopped app={} post={}: {}", app, id,
                   stopping_ ? "onair is stopping, the next start makes it again" : "the post was deleted");
      return;
    }
    return fail(outcome.failure.code, outcome.failure.message);
  }
  fs::remove_all(final_dir, ec);
  fs::rename(spec.out, final_dir, ec);
  if (ec)
    return fail("ARCHIVE_WRITE_FAILED", "renaming " + spec.out.string() + ": " + ec.message());
  sync_dir(final_dir.parent_path());

  const auto& r = *outcome.result;
  domain::complete_archive c;
  c.duration_ms = r.duration_ms;
  c.original = domain::post_original{.url = post_url(id, "original.mp4"),
                                     .size_bytes = static_cast<std::int64_t>(r.original_bytes),
                                     .width = r.width,
                                     .height = r.height};
  for (const auto& rend : r.renditions)
    c.renditions.push_back({rend.width, rend.height, rend.bitrate_kbps});
  c.play_url = post_url(id, "index.m3u8");
  c.dash_play_url = post_url(id, "manifest.mpd");
  if (r.thumbnail)
    c.thumbnail_url = post_url(id, "thumbnail.jpg");
  if (auto done_ev = rt_.ask_sync<domain::video_post_aggregate>({app, post_id}, std::move(c), who); !done_ev) {
    spdlog::warn("archive made but not recorded app={} post={} error=\"{}\"", app, id, done_ev.error().message);
    return; // the next pass finds it ARCHIVING and makes it again
  }
  archived_.fetch_add(1);
  ok = true;
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  spdlog::info("archive done app={} post={} duration_ms={} bytes={} seconds={:.1f} speed={:.1f}x", app, id,
               r.duration_ms, r.bytes, took, took > 0 ? static_cast<double>(r.duration_ms) / 1000 / took : 0.0);
}

void archiver::job_done(const key& k, bool) {
  {
    std::lock_guard lock{mu_};
    running_.erase(k);
    cancelled_.erase(k);
  }
  {
    std::lock_guard lock{signal_->mu};
    signal_->finished.push_back(k);
    signal_->woken = true;
  }
  signal_->cv.notify_one();
}

void archiver::persist_checkpoint() {
  std::uint64_t at = 0;
  {
    std::lock_guard lock{mu_};
    at = seen_;
    for (const auto& [k, first] : tracked_)
      at = std::min(at, first - 1);
    if (at == saved_checkpoint_)
      return;
  }
  const auto text = std::to_string(at);
  if (auto st = rt_.store().write_views([&](storage::kv_writer& w) { w.put(checkpoint_key, text); }); !st) {
    spdlog::warn("archiver checkpoint not saved position={}: {}", at, st.error().message);
    return;
  }
  std::lock_guard lock{mu_};
  saved_checkpoint_ = at;
}

archiver::stats archiver::figures() const {
  std::lock_guard lock{mu_};
  stats s;
  s.running = running_.size();
  s.waiting = tracked_.size() - std::min(tracked_.size(), running_.size());
  s.archived = archived_.load();
  s.failed = failed_.load();
  s.checkpoint = saved_checkpoint_;
  return s;
}

std::string archiver::prometheus_text() const {
  const auto s = figures();
  std::string out;
  auto line = [&](const char* name, const char* type, const char* help, std::uint64_t v) {
    out += std::string{"# HELP "} + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
           std::to_string(v) + "\n";
  };
  line("onair_vod_archives_running", "gauge", "Archives being made now.", s.running);
  line("onair_vod_archives_waiting", "gauge", "Video posts ARCHIVING not being made now (recording open, or no free slot).",
       s.waiting);
  line("onair_vod_archived_total", "counter", "Archives made since start.", s.archived);
  line("onair_vod_archive_failures_total", "counter", "Archives failed since start.", s.failed);
  line("onair_vod_archiver_checkpoint", "gauge", "Log position the archiver resumes from after a restart.", s.checkpoint);
  return out;
}

} // namespace onair::actors
