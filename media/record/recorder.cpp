#include "media/record/recorder.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <limits>
#include <set>

#include <spdlog/spdlog.h>

#include "media/ffmpeg/audio_to_aac.hpp"
#include "media/ffmpeg/fmp4_writer.hpp"
#include "media/record/checkpoint.hpp"

namespace onair::media::record {

std::uint64_t progress::bytes() const {
  std::uint64_t n = 0;
  for (const auto& p : parts)
    n += p.bytes;
  return n;
}

std::int64_t progress::duration_ms() const {
  std::int64_t n = 0;
  for (const auto& p : parts)
    n += p.end_ms - p.start_ms;
  return n;
}

namespace {

domain::error io_error(const std::string& what, const std::filesystem::path& path, int err) {
  return domain::make_error(domain::error_code::storage_failure,
                            "recording: " + what + " " + path.string() + ": " + std::strerror(err));
}

// An append-only file: every byte written is counted, synced on demand.
class file {
public:
  static domain::result<std::unique_ptr<file>> open(const std::filesystem::path& path, std::uint64_t keep,
                                                    std::function<int(std::size_t)> fault) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      return io_error("opening", path, errno);
    auto f = std::unique_ptr<file>{new file{fd, path, std::move(fault)}};
    // Cut back to what is known complete, then append from there.
    if (::ftruncate(fd, static_cast<off_t>(keep)) != 0 || ::lseek(fd, static_cast<off_t>(keep), SEEK_SET) < 0)
      return io_error("cutting back", path, errno);
    f->size_ = keep;
    return f;
  }
  ~file() { ::close(fd_); }
  file(const file&) = delete;
  file& operator=(const file&) = delete;

  domain::status write(std::span<const std::uint8_t> bytes) {
    if (fault_)
      if (const int err = fault_(bytes.size()); err != 0)
        return io_error("writing", path_, err);
    while (!bytes.empty()) {
      const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0) {
        if (errno == EINTR)
          continue;
        return io_error("writing", path_, errno);
      }
      bytes = bytes.subspan(static_cast<std::size_t>(n));
      size_ += static_cast<std::uint64_t>(n);
    }
    return domain::ok_status();
  }
  domain::status sync() {
    if (::fdatasync(fd_) != 0)
      return io_error("syncing", path_, errno);
    return domain::ok_status();
  }
  [[nodiscard]] std::uint64_t size() const { return size_; }

private:
  file(int fd, std::filesystem::path path, std::function<int(std::size_t)> fault)
      : fd_{fd}, path_{std::move(path)}, fault_{std::move(fault)} {}
  int fd_;
  std::filesystem::path path_;
  std::function<int(std::size_t)> fault_;
  std::uint64_t size_ = 0;
};

class file_sink final : public ffmpeg::byte_sink {
public:
  explicit file_sink(file& f) : f_{f} {}
  domain::status write(std::span<const std::uint8_t> bytes) override { return f_.write(bytes); }

private:
  file& f_;
};

std::vector<std::uint8_t> read_all(const std::filesystem::path& path) {
  std::vector<std::uint8_t> out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return out;
  std::array<std::uint8_t, 65536> buf{};
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n <= 0)
      break;
    out.insert(out.end(), buf.begin(), buf.begin() + n);
  }
  ::close(fd);
  return out;
}

std::string part_name(std::uint32_t index, std::string_view ext) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "part-%04u.%.*s", index, static_cast<int>(ext.size()), ext.data());
  return buf;
}

// A new name in a folder is durable once the folder is synced.
domain::status sync_dir(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return io_error("opening", dir, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0)
    return io_error("syncing", dir, err);
  return domain::ok_status();
}

domain::status write_file_synced(const std::filesystem::path& path, std::span<const std::uint8_t> bytes) {
  const auto tmp = path.string() + ".tmp";
  auto f = file::open(tmp, 0, {});
  if (!f)
    return f.error();
  if (auto st = (*f)->write(bytes); !st)
    return st;
  if (auto st = (*f)->sync(); !st)
    return st;
  f->reset();
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec)
    return io_error("renaming", tmp, ec.value());
  return sync_dir(path.parent_path());
}

} // namespace

struct recorder::impl {
  struct track_state {
    fanout::message_ptr held; // written once the next sample gives its duration
    std::int64_t held_dts = 0, held_pts = 0;
    std::int64_t last_dts = std::numeric_limits<std::int64_t>::min(); // latest accepted, recording timeline
    std::int64_t last_delta = 0;
    std::int64_t adjust = 0; // repairs of this track's clock so far
    std::int64_t written_end = 0;
  };

  recorder_options opts;
  std::shared_ptr<listener> events;
  fanout::stream_info info;
  progress state;
  bool failed = false;
  bool done = false;
  std::string error;

  std::unique_ptr<file> media;
  std::unique_ptr<file_sink> sink;
  std::unique_ptr<ffmpeg::fmp4_writer> writer;
  std::uint32_t writer_first_fragment = 1; // the fragment the current writer began with
  std::uint32_t next_fragment = 1;         // as of the latest checkpoint
  tracks current; // the open part's tracks
  std::uint32_t part_index = 0;
  std::optional<std::int64_t> origin; // recording time = hub time - origin (+ a track's repairs)
  std::int64_t base_ms = 0;           // where the recording's timeline starts or resumes
  struct resumable {
    std::uint32_t part = 0;
    checkpoint at;
  };
  std::optional<resumable> resume; // a part to continue after a crash, if its codecs are the same
  std::optional<tracks> resume_tracks;
  track_state video, audio;
  // Audio the MP4 cannot hold as it came (FLV's legacy codecs) is recorded as AAC: made from this
  // source configuration, for the open part.
  std::unique_ptr<ffmpeg::audio_to_aac> to_aac;
  fanout::message_ptr to_aac_source;
  std::uint64_t repairs = 0;
  std::set<std::string> logged_once; // logged once each

  track_state& track(frame_kind k) { return k == frame_kind::video ? video : audio; }

  // The parts on disk, each cut back to its last checkpoint.
  void recover() {
    std::error_code ec;
    std::filesystem::create_directories(opts.dir, ec);
    if (ec)
      return fail(io_error("making the folder", opts.dir, ec.value()).message);
    std::vector<std::uint32_t> indexes;
    for (const auto& entry : std::filesystem::directory_iterator{opts.dir, ec}) {
      unsigned index = 0;
      char tail = 0;
      const auto name = entry.path().filename().string();
      if (std::sscanf(name.c_str(), "part-%u.mp%c", &index, &tail) == 2 && tail == '4' && name == part_name(index, "mp4"))
        indexes.push_back(index);
    }
    std::sort(indexes.begin(), indexes.end());
    for (const auto index : indexes) {
      const auto path = opts.dir / part_name(index, "mp4");
      const auto c = last_checkpoint(path);
      if (!c) {
        // Nothing of it was synced: it holds no recording.
        std::filesystem::remove(path, ec);
        continue;
      }
      // What follows its last checkpoint is a torn tail: cut now, whether or not it is continued.
      if (std::filesystem::file_size(path, ec) > c->bytes && ::truncate(path.c_str(), static_cast<off_t>(c->bytes)) != 0)
        return fail(io_error("cutting back", path, errno).message);
      part p;
      p.index = index;
      p.file = part_name(index, "mp4");
      p.bytes = c->bytes;
      p.start_ms = c->start_ms;
      p.end_ms = c->end_ms;
      if (auto t = decode_tracks(read_all(opts.dir / part_name(index, "tracks"))))
        describe(p, *t);
      state.parts.push_back(p);
      part_index = index;
      resume = resumable{index, *c};
    }
    if (resume) {
      resume_tracks = decode_tracks(read_all(opts.dir / part_name(resume->part, "tracks")));
      base_ms = resume->at.end_ms + opts.resume_gap_ms;
      spdlog::info("recording resumes dir={} part={} bytes={} end_ms={}", opts.dir.string(), resume->part,
                   resume->at.bytes, resume->at.end_ms);
    } else if (!indexes.empty()) {
      spdlog::info("recording restarts dir={}: nothing was synced before it stopped", opts.dir.string());
    }
  }

  static void describe(part& p, const tracks& t) {
    if (t.first) {
      p.video_codec = std::string{to_string(t.first->codec)};
      p.width = t.first->width;
      p.height = t.first->height;
    }
    if (t.second)
      p.audio_codec = std::string{to_string(t.second->codec)};
  }

  void fail(std::string why) {
    if (failed)
      return;
    failed = true;
    error = std::move(why);
    spdlog::error("recording failed dir={} error=\"{}\"", opts.dir.string(), error);
    // What made it to the disk stays readable: the open fragment is finished if the disk lets us.
    if (writer)
      (void)writer->finish();
    writer.reset();
    if (events)
      events->on_failed(state, error);
  }

  void skip_codec(std::string_view kind, media::codec c) {
    const std::string name = std::string{kind} + " " + std::string{to_string(c)};
    if (!logged_once.insert(name).second)
      return;
    spdlog::warn("recording leaves out {}: the fMP4 recording takes h264, hevc, av1, aac, opus and mp3 (and FLV's "
                 "legacy audio, as AAC) dir={}",
                 name, opts.dir.string());
  }

  // Opens a part at this sample (a video key frame, or any audio sample of an audio-only stream).
  bool open_part(const fanout::message& first) {
    tracks t;
    if (info.video_config) {
      if (ffmpeg::recordable(info.video_config->codec)) {
        if (first.kind != frame_kind::video)
          return false; // wait for the key frame
        auto v = ffmpeg::describe_video(*info.video_config, first);
        if (!v) {
          fail(v.error().message);
          return false;
        }
        t.first = std::move(*v);
      } else {
        skip_codec("video", info.video_config->codec);
      }
    }
    to_aac.reset();
    to_aac_source.reset();
    if (info.audio_config) {
      if (flv_legacy_audio(info.audio_config->codec)) {
        auto a = ffmpeg::audio_to_aac::open(*info.audio_config, opts.aac_kbps_per_channel);
        if (a) {
          to_aac = std::move(*a);
          to_aac_source = info.audio_config;
          t.second = to_aac->output();
          if (logged_once.insert("to aac " + std::string{to_string(info.audio_config->codec)}).second)
            spdlog::info("recording encodes the audio as AAC dir={} from={} rate={} channels={} kbps={}",
                         opts.dir.string(), to_string(info.audio_config->codec), t.second->sample_rate,
                         t.second->channels, opts.aac_kbps_per_channel * t.second->channels);
        } else {
          spdlog::warn("recording leaves out the audio dir={} error=\"{}\"", opts.dir.string(), a.error().message);
        }
      } else if (ffmpeg::recordable(info.audio_config->codec)) {
        auto a = ffmpeg::describe_audio(*info.audio_config);
        if (a)
          t.second = std::move(*a);
        else
          spdlog::warn("recording leaves out the audio dir={} error=\"{}\"", opts.dir.string(), a.error().message);
      } else {
        skip_codec("audio", info.audio_config->codec);
      }
    }
    if (!t.first && !t.second)
      return false;
    if (!t.first && first.kind != frame_kind::audio)
      return false;

    const bool continue_part = resume && resume_tracks && *resume_tracks == t && resume->part == part_index;
    std::uint64_t keep = 0;
    next_fragment = 1;
    if (continue_part) {
      keep = resume->at.bytes;
      next_fragment = resume->at.next_fragment;
    } else {
      if (state.parts.size() >= opts.max_parts) {
        // Each part is two files and, through the broadcast's events, a line in every later
        // progress event: a stream whose codecs change without end must not make them without end.
        fail("the stream changed its codec configuration too often: the recording has " +
             std::to_string(state.parts.size()) + " parts, the most one may have (the stream goes on)");
        return false;
      }
      ++part_index;
      if (auto st = write_file_synced(opts.dir / part_name(part_index, "tracks"), encode(t)); !st) {
        fail(st.error().message);
        return false;
      }
    }
    auto f = file::open(opts.dir / part_name(part_index, "mp4"), keep, opts.write_fault);
    if (!f) {
      fail(f.error().message);
      return false;
    }
    media = std::move(*f);
    if (!continue_part)
      if (auto st = sync_dir(opts.dir); !st) {
        fail(st.error().message);
        return false;
      }
    sink = std::make_unique<file_sink>(*media);
    auto w = ffmpeg::fmp4_writer::open(
        *sink, t.first, t.second,
        ffmpeg::fmp4_options{.fragment_ms = opts.fragment_ms, .continuation = continue_part, .first_fragment = next_fragment});
    if (!w) {
      fail(w.error().message);
      return false;
    }
    writer = std::move(*w);
    writer_first_fragment = next_fragment;
    current = std::move(t);
    if (!origin)
      origin = first.dts_ms - base_ms;
    const std::int64_t start = first.dts_ms - *origin;
    if (continue_part) {
      state.parts.back().end_ms = std::max(state.parts.back().end_ms, start);
    } else {
      part p;
      p.index = part_index;
      p.file = part_name(part_index, "mp4");
      p.start_ms = p.end_ms = start;
      describe(p, current);
      state.parts.push_back(p);
    }
    state.parts.back().bytes = media->size();
    resume.reset();
    video = track_state{};
    audio = track_state{};
    spdlog::info("recording part started dir={} part={} video={} audio={} {}x{} continued={}", opts.dir.string(),
                 part_index, state.parts.back().video_codec, state.parts.back().audio_codec, state.parts.back().width,
                 state.parts.back().height, continue_part);
    if (!sync())
      return false;
    if (events)
      events->on_part_started(state);
    return true;
  }

  // A checkpoint after what the part holds, then the part to the disk: one sync makes both durable.
  bool sync() {
    if (!media)
      return true;
    auto& p = state.parts.back();
    if (writer)
      next_fragment = writer->next_fragment();
    const checkpoint c{next_fragment, media->size() + checkpoint_box_size, p.start_ms, p.end_ms};
    if (auto st = media->write(encode_box(c)); !st) {
      fail(st.error().message);
      return false;
    }
    if (auto st = media->sync(); !st) {
      fail(st.error().message);
      return false;
    }
    p.bytes = media->size();
    return true;
  }

  // The muxer keeps a little for every fragment it wrote (its fragment index): a long part is
  // handed to a fresh one now and then, which continues it as a crash's successor would.
  bool renew_writer() {
    if (auto st = writer->flush(); !st) {
      fail(st.error().message);
      return false;
    }
    auto& part = state.parts.back();
    part.end_ms = std::max({part.end_ms, video.written_end, audio.written_end});
    if (!sync())
      return false;
    if (auto st = writer->finish(); !st) {
      fail(st.error().message);
      return false;
    }
    auto w = ffmpeg::fmp4_writer::open(*sink, current.first, current.second,
                                       ffmpeg::fmp4_options{.fragment_ms = opts.fragment_ms, .continuation = true,
                                                            .first_fragment = next_fragment});
    if (!w) {
      fail(w.error().message);
      return false;
    }
    writer = std::move(*w);
    writer_first_fragment = next_fragment;
    return true;
  }

  // Writes t's held sample, ending at `end` (its successor's DTS).
  bool write_held(frame_kind k, std::int64_t end) {
    auto& t = track(k);
    if (!t.held)
      return true;
    const auto before = media->size();
    const std::int64_t flushed_end = std::max(video.written_end, audio.written_end);
    const auto duration = std::max<std::int64_t>(1, end - t.held_dts);
    auto st = writer->write(k, *t.held, t.held_dts, t.held_pts, duration);
    t.held.reset();
    if (!st) {
      fail(st.error().message);
      return false;
    }
    t.written_end = t.held_dts + duration;
    if (media->size() != before) {
      // A fragment reached the file: everything written before this sample.
      state.parts.back().end_ms = std::max(state.parts.back().end_ms, flushed_end);
      if (!sync())
        return false;
      if (writer->next_fragment() - writer_first_fragment >= opts.renew_fragments)
        return renew_writer();
    }
    return true;
  }

  // Everything held, written with the last step as its duration; then the fragment.
  bool drain() {
    for (auto k : {frame_kind::video, frame_kind::audio}) {
      auto& t = track(k);
      if (t.held && !write_held(k, t.held_dts + std::max<std::int64_t>(t.last_delta, 1)))
        return false;
    }
    return true;
  }

  bool close_part() {
    if (!writer)
      return true;
    if (to_aac) {
      for (const auto& m : to_aac->flush())
        if (!accept(m))
          return false;
    }
    to_aac.reset();
    to_aac_source.reset();
    if (!drain())
      return false;
    if (auto st = writer->finish(); !st) {
      fail(st.error().message);
      return false;
    }
    state.parts.back().end_ms = std::max({state.parts.back().end_ms, video.written_end, audio.written_end});
    const bool ok = sync();
    writer.reset();
    media.reset();
    sink.reset();
    return ok;
  }

  void sample(const fanout::message_ptr& mp) {
    const fanout::message& m = *mp;
    if (failed || done || (m.kind != frame_kind::video && m.kind != frame_kind::audio))
      return;
    if (!writer && !open_part(m))
      return;
    if (m.kind == frame_kind::audio && to_aac_source) {
      if (!to_aac)
        return; // its encoder stopped: the part goes on without sound
      auto frames = to_aac->push(m);
      if (!frames) {
        spdlog::warn("recording leaves out the rest of the part's audio dir={} error=\"{}\"", opts.dir.string(),
                     frames.error().message);
        to_aac.reset();
        return;
      }
      for (const auto& f : *frames)
        if (!accept(f))
          return;
      return;
    }
    (void)accept(mp);
  }

  // Writes a sample of the part's tracks on the recording's timeline, repairing its clock. False
  // when the recording failed.
  bool accept(const fanout::message_ptr& mp) {
    const fanout::message& m = *mp;
    const bool in_part = m.kind == frame_kind::video ? current.first.has_value() : current.second.has_value();
    if (!in_part)
      return true;
    auto& t = track(m.kind);
    std::int64_t dts = m.dts_ms - *origin + t.adjust;
    if (t.last_dts != std::numeric_limits<std::int64_t>::min()) {
      const std::int64_t step = dts - t.last_dts;
      if (step > opts.jump_ms || step < -1000) {
        // The publisher's clock jumped: this track goes on one step after its last sample.
        const std::int64_t to = t.last_dts + std::max<std::int64_t>(t.last_delta, 1);
        t.adjust += to - dts;
        spdlog::warn("recording repaired a timestamp jump dir={} track={} step_ms={}", opts.dir.string(),
                     m.kind == frame_kind::video ? "video" : "audio", step);
        dts = to;
        ++repairs;
      } else if (step <= 0) {
        if (++repairs % 100 == 1)
          spdlog::warn("recording repaired a non-monotonic timestamp dir={} track={} step_ms={} repaired={}",
                       opts.dir.string(), m.kind == frame_kind::video ? "video" : "audio", step, repairs);
        dts = t.last_dts + 1;
      }
    } else if (dts < 0) {
      return true; // before the part's first key frame (audio a little ahead of it)
    }
    if (t.last_dts != std::numeric_limits<std::int64_t>::min())
      t.last_delta = dts - t.last_dts;
    t.last_dts = dts;
    if (!write_held(m.kind, dts))
      return false;
    t.held = mp;
    t.held_dts = dts;
    t.held_pts = dts + std::max(0, m.composition_offset_ms);
    return true;
  }
};

recorder::recorder(recorder_options opts, std::shared_ptr<listener> l) : impl_{std::make_unique<impl>()} {
  impl_->opts = std::move(opts);
  impl_->events = std::move(l);
  impl_->recover();
}

recorder::~recorder() = default;

const progress& recorder::state() const { return impl_->state; }

void recorder::on_opened(const fanout::stream_info& info) { impl_->info = info; }

void recorder::on_config_changed(const fanout::stream_info& info) {
  auto& p = *impl_;
  p.info = info;
  if (!p.writer || p.failed)
    return;
  const auto changed = [](const fanout::message_ptr& header, const std::optional<ffmpeg::track_params>& t) {
    if (!header)
      return t.has_value();
    if (!t)
      return ffmpeg::recordable(header->codec) || flv_legacy_audio(header->codec);
    if (!header->sequence_header) // a frame standing for the configuration: the codec is what counts
      return header->codec != t->codec;
    const auto d = header->data();
    return header->codec != t->codec || !std::equal(d.begin(), d.end(), t->config.begin(), t->config.end());
  };
  // Audio recorded as AAC changes with its source's format (its tag's flags).
  const auto audio_changed = [&] {
    if (!p.to_aac_source)
      return changed(info.audio_config, p.current.second);
    return !info.audio_config || !fanout::same_frame_format(*info.audio_config, *p.to_aac_source);
  };
  if (changed(info.video_config, p.current.first) || audio_changed()) {
    spdlog::info("recording: codec configuration changed dir={}: a new part starts at the next key frame",
                 p.opts.dir.string());
    p.close_part();
  }
}

void recorder::on_sample(const fanout::message_ptr& m) {
  impl_->sample(m);
}

void recorder::on_publisher_gone() {
  auto& p = *impl_;
  if (p.failed || !p.writer)
    return;
  // The fragment so far goes to the disk; the held samples wait for their successors, whose DTS
  // (after the gap the hub removed) gives their duration.
  if (auto st = p.writer->flush(); !st)
    return p.fail(st.error().message);
  auto& part = p.state.parts.back();
  part.end_ms = std::max({part.end_ms, p.video.written_end, p.audio.written_end});
  if (!p.sync())
    return;
  if (p.events)
    p.events->on_paused(p.state);
}

void recorder::on_closed() {
  auto& p = *impl_;
  if (p.failed || p.done)
    return;
  if (!p.close_part())
    return;
  p.done = true;
  spdlog::info("recording finished dir={} parts={} bytes={} duration_ms={}", p.opts.dir.string(), p.state.parts.size(),
               p.state.bytes(), p.state.duration_ms());
  if (p.events)
    p.events->on_finished(p.state);
}

void recorder::on_failed(std::string_view why) {
  impl_->fail("the recorder fell behind the stream and stopped: " + std::string{why});
}

} // namespace onair::media::record
