#include "media/vod/archive.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <mutex>

#include <spdlog/spdlog.h>

#include "media/cmaf/vod_playlist.hpp"
#include "media/ffmpeg/replay.hpp"
#include "media/ffmpeg/thumbnail.hpp"

namespace onair::media::vod {
namespace {

namespace fs = std::filesystem;

// Writes a whole file and syncs it; an error names the file.
std::optional<std::string> write_synced(const fs::path& path, std::span<const std::uint8_t> bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return "opening " + path.string() + ": " + std::strerror(errno);
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR)
        continue;
      const int err = errno;
      ::close(fd);
      return "writing " + path.string() + ": " + std::strerror(err);
    }
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  const int rc = ::fdatasync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0)
    return "syncing " + path.string() + ": " + std::strerror(err);
  return std::nullopt;
}

std::optional<std::string> write_text(const fs::path& path, const std::string& text) {
  return write_synced(path, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

std::optional<std::string> sync_path(const fs::path& path, bool dir) {
  const int fd = ::open(path.c_str(), (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0)
    return "opening " + path.string() + ": " + std::strerror(errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0)
    return "syncing " + path.string() + ": " + std::strerror(err);
  return std::nullopt;
}

// The renditions' segments as they complete, written at once (the packager's window lets them go).
class segment_files {
public:
  explicit segment_files(fs::path out) : out_{std::move(out)} {}

  void open(const cmaf::stream& s) {
    std::lock_guard lock{mu_};
    renditions_.resize(s.rendition_count());
    for (std::size_t r = 0; r < s.rendition_count(); ++r) {
      renditions_[r].id = s.desc(r).id;
      renditions_[r].frame_rate = s.desc(r).frame_rate;
      std::error_code ec;
      fs::create_directories(out_ / renditions_[r].id, ec);
      if (ec && !error_)
        error_ = "making " + (out_ / renditions_[r].id).string() + ": " + ec.message();
    }
  }

  // From a writer's thread; the renditions' calls may overlap, a rendition's come in order.
  void write(std::size_t r, const cmaf::segment& seg) {
    std::vector<std::uint8_t> bytes;
    bytes.reserve(seg.size());
    for (const auto& p : seg.parts)
      bytes.insert(bytes.end(), p.bytes->begin(), p.bytes->end());
    std::string id;
    std::int64_t number = 0;
    {
      std::lock_guard lock{mu_};
      if (r >= renditions_.size() || error_)
        return;
      id = renditions_[r].id;
      number = static_cast<std::int64_t>(renditions_[r].segments.size()) + 1;
    }
    auto err = write_synced(out_ / cmaf::vod_segment_uri(id, number), bytes);
    std::lock_guard lock{mu_};
    if (err) {
      if (!error_)
        error_ = std::move(*err);
      return;
    }
    renditions_[r].segments.push_back(cmaf::vod_segment{.number = number,
                                                        .start = seg.start,
                                                        .duration = seg.duration,
                                                        .period = 0,
                                                        .bytes = bytes.size()});
    bytes_ += bytes.size();
  }

  [[nodiscard]] std::optional<std::string> error() const {
    std::lock_guard lock{mu_};
    return error_;
  }
  // Once the writers are done.
  [[nodiscard]] std::vector<cmaf::vod_rendition> take() {
    std::lock_guard lock{mu_};
    return std::move(renditions_);
  }
  [[nodiscard]] std::uint64_t bytes() const {
    std::lock_guard lock{mu_};
    return bytes_;
  }

private:
  fs::path out_;
  mutable std::mutex mu_;
  std::vector<cmaf::vod_rendition> renditions_;
  std::optional<std::string> error_;
  std::uint64_t bytes_ = 0;
};

archive_outcome fail(std::string code, std::string message) {
  return archive_outcome{std::nullopt, archive_failure{std::move(code), std::move(message)}};
}

} // namespace

archive_outcome make_archive(const archive_spec& spec) {
  std::error_code ec;
  fs::remove_all(spec.out, ec);
  fs::create_directories(spec.out, ec);
  if (ec)
    return fail("ARCHIVE_WRITE_FAILED", "making " + spec.out.string() + ": " + ec.message());

  auto files = std::make_shared<segment_files>(spec.out);
  ffmpeg::transcoder_options to;
  to.ladder = spec.ladder;
  to.key_interval_ms = static_cast<int>(spec.key_interval_ms);
  to.audio_bitrate_kbps = spec.audio_bitrate_kbps;
  to.preset = spec.preset;
  to.lossless = true;
  to.nice = spec.nice;
  to.packaging.segment_ms = spec.segment_ms;
  to.packaging.part_target_ms = spec.segment_ms; // one chunk per segment: nobody fetches parts of a VOD
  to.packaging.window_segments = 2;
  to.packaging.max_drift_ms = 0;
  to.packaging.on_segment = [files](std::size_t r, const cmaf::segment& s) { files->write(r, s); };

  std::mutex err_mu;
  std::optional<archive_failure> transcode_error;
  ffmpeg::transcoder::callbacks cb;
  cb.on_stream = [files](std::shared_ptr<cmaf::stream> s) { files->open(*s); };
  cb.on_error = [&](const ffmpeg::transcode_error& err) {
    std::lock_guard lock{err_mu};
    if (!transcode_error)
      transcode_error = archive_failure{"ARCHIVE_TRANSCODE_FAILED", err.code + ": " + err.message};
  };
  ffmpeg::transcoder tc{to, std::move(cb), spec.name};

  ffmpeg::replay_options ro;
  ro.original = spec.out / "original.mp4";
  int last_percent = -1;
  bool stopped = false;
  ro.progress = [&](std::int64_t at_ms) {
    if (files->error())
      return false;
    {
      std::lock_guard lock{err_mu};
      if (transcode_error)
        return false;
    }
    // The reading ends where the encoders are, within a few frames: 95 % of the work.
    const int percent = spec.expected_ms > 0
                            ? static_cast<int>(std::clamp<std::int64_t>(at_ms * 95 / spec.expected_ms, 0, 95))
                            : 0;
    if (percent > last_percent) {
      last_percent = percent;
      if (spec.progress && !spec.progress(percent)) {
        stopped = true;
        return false;
      }
    }
    return true;
  };
  auto original = ffmpeg::replay(spec.parts, tc, ro);
  if (!original) {
    tc.on_failed("the recording's replay ended early");
    if (stopped)
      return fail("ARCHIVE_STOPPED", "the archive was stopped");
    if (auto e = files->error())
      return fail("ARCHIVE_WRITE_FAILED", *e);
    {
      std::lock_guard lock{err_mu};
      if (transcode_error)
        return archive_outcome{std::nullopt, *transcode_error};
    }
    return fail("ARCHIVE_READ_FAILED", original.error().message);
  }
  {
    std::lock_guard lock{err_mu};
    if (transcode_error)
      return archive_outcome{std::nullopt, *transcode_error};
  }
  if (auto e = files->error())
    return fail("ARCHIVE_WRITE_FAILED", *e);
  const auto stream = tc.output();
  if (!stream || original->video_samples == 0)
    return fail("ARCHIVE_NO_VIDEO", "the recording has no video that could be decoded (" +
                                        std::to_string(original->video_samples) + " video and " +
                                        std::to_string(original->audio_samples) + " audio samples)");

  cmaf::vod_layout layout;
  layout.renditions = files->take();
  const auto view = stream->view();
  archive_result out;
  out.original_bytes = original->size_bytes;
  out.width = original->width;
  out.height = original->height;
  out.bytes = files->bytes() + original->size_bytes;
  for (std::size_t r = 0; r < layout.renditions.size(); ++r) {
    auto& rend = layout.renditions[r];
    if (!view.renditions[r].config || rend.segments.empty())
      return fail("ARCHIVE_TRANSCODE_FAILED", "rendition " + rend.id + " has no segments");
    rend.config = *view.renditions[r].config;
    const double timescale = rend.config.timescale;
    for (const auto& s : rend.segments)
      if (s.duration > 0)
        rend.peak_bandwidth = std::max(rend.peak_bandwidth,
                                       static_cast<int>(std::lround(static_cast<double>(s.bytes) * 8 * timescale /
                                                                    static_cast<double>(s.duration))));
    const auto init = stream->init(r);
    if (!init)
      return fail("ARCHIVE_TRANSCODE_FAILED", "rendition " + rend.id + " has no init segment");
    if (auto e = write_synced(spec.out / cmaf::vod_init_uri(rend.id), *init))
      return fail("ARCHIVE_WRITE_FAILED", *e);
    out.bytes += init->size();
    if (rend.config.kind == cmaf::track_kind::video) {
      out.renditions.push_back({rend.config.width, rend.config.height, rend.config.bitrate_kbps});
      if (out.duration_ms == 0) {
        std::int64_t d = 0;
        for (const auto& s : rend.segments)
          d += s.duration;
        out.duration_ms = static_cast<std::int64_t>(std::llround(static_cast<double>(d) * 1000 / timescale));
      }
    }
  }
  layout.duration_ms = out.duration_ms;
  std::vector<std::pair<std::string, std::string>> texts{{"index.m3u8", cmaf::vod_master_playlist(layout)},
                                                         {"manifest.mpd", cmaf::vod_manifest(layout)}};
  for (std::size_t r = 0; r < layout.renditions.size(); ++r)
    texts.emplace_back(layout.renditions[r].id + ".m3u8", cmaf::vod_media_playlist(layout, r));
  for (const auto& [name, text] : texts) {
    if (auto e = write_text(spec.out / name, text))
      return fail("ARCHIVE_WRITE_FAILED", *e);
    out.bytes += text.size();
  }

  if (auto jpeg = ffmpeg::thumbnail(spec.out / "original.mp4", {}); jpeg) {
    if (auto e = write_synced(spec.out / "thumbnail.jpg", *jpeg))
      return fail("ARCHIVE_WRITE_FAILED", *e);
    out.thumbnail = true;
    out.bytes += jpeg->size();
  } else {
    spdlog::warn("vod {}: no thumbnail: {}", spec.name, jpeg.error().message);
  }

  if (auto e = sync_path(spec.out / "original.mp4", false))
    return fail("ARCHIVE_WRITE_FAILED", *e);
  for (const auto& r : layout.renditions)
    if (auto e = sync_path(spec.out / r.id, true))
      return fail("ARCHIVE_WRITE_FAILED", *e);
  if (auto e = sync_path(spec.out, true))
    return fail("ARCHIVE_WRITE_FAILED", *e);
  if (spec.progress)
    (void)spec.progress(99);
  return archive_outcome{std::move(out), {}};
}

} // namespace onair::media::vod
