#pragma once
// The archiver: a projection of the event log that turns every video post ARCHIVING into its VOD
// (media/vod/archive.hpp) under {data}/vod/{app}/{videoPostId}/, and records what it does as
// events on the post and its room.
//
// It follows the log from a durable checkpoint, woken by commits (a durable observer), not by
// polling. The checkpoint never passes the first event of a post whose work is not done, so after
// a crash at any moment the next start reads every such post again and finishes it: an archive cut
// short is made again from the start (an `archive_started` event counts the attempts), one whose
// events were half written is completed (the room follows the post). A post's archive waits for
// its broadcast's recording to be complete (or failed: what was synced is archived). One process
// archives a post at a time; the work is keyed by post and app, and nothing assumes one process
// sees every app.
//
// Each archive is written into `{id}.partial/` and renamed into place when every file is synced,
// so a VOD folder is always whole. A deleted post's folder goes. At most `concurrency` archives
// run at once, their encoders at a lower priority than live transcodes.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "actors/runtime.hpp"

namespace onair::actors {

struct archiver_signal;

class archiver {
public:
  struct options {
    std::filesystem::path data_dir;
    std::size_t concurrency = 1;
    std::string preset = "veryfast"; // x264
    int nice = 10;
    std::string worker;              // who archives, in the events ("host/pid")
  };

  archiver(runtime& rt, options opts);
  // Stops following and abandons the archives in hand (the next start makes them again).
  ~archiver();
  archiver(const archiver&) = delete;
  archiver& operator=(const archiver&) = delete;

  // After the runtime's recovery: reads the log from the checkpoint and follows it.
  void start();

  // The VOD folder of a post, relative to the data folder.
  [[nodiscard]] static std::string folder(domain::app_id app, std::int64_t post_id);

  struct stats {
    std::size_t running = 0, waiting = 0;
    std::uint64_t archived = 0, failed = 0;
    std::uint64_t checkpoint = 0;
  };
  [[nodiscard]] stats figures() const;
  // onair_vod_* (Prometheus text).
  [[nodiscard]] std::string prometheus_text() const;

private:
  using key = std::pair<domain::app_id, std::int64_t>; // (app, post id)
  void follow();
  void read_log();
  void consider(const key& k);
  void run_job(key k);
  void job_done(const key& k, bool ok);
  void persist_checkpoint();

  runtime& rt_;
  options opts_;
  std::shared_ptr<archiver_signal> signal_;
  mutable std::mutex mu_;
  std::uint64_t seen_ = 0;                       // log position read up to
  std::uint64_t saved_checkpoint_ = 0;
  std::map<key, std::uint64_t> tracked_;         // posts not done, with the first position they were seen at
  std::set<key> running_;
  std::set<key> cancelled_;                      // running, but deleted meanwhile
  std::map<std::pair<domain::app_id, std::int64_t>, std::thread> jobs_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> archived_{0}, failed_{0};
  std::thread follower_;
};

} // namespace onair::actors
