#pragma once
// Every broadcast recorded: when a broadcast starts, a recorder (media/record) is attached to its
// key's hub as a lossless consumer and writes under {data}/recordings/{app}/{broadcast}. What it
// reports goes to the broadcast's actor as events: the recording started, its parts at each new
// part and pause, complete or failed (not once per fragment). A recording stays open across the
// publisher's interruptions and across a restart of onair: at start every open recording is taken
// up again (cut back to what was synced, continued when the publisher returns), or finished if
// its broadcast ended meanwhile. Each recorder is keyed by its broadcast; none assumes this
// process sees every stream.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "actors/ingest.hpp"
#include "actors/runtime.hpp"
#include "media/fanout/counters.hpp"
#include "media/fanout/hub.hpp"

namespace onair::actors {

struct recordings_guard;

class recordings {
public:
  recordings(runtime& rt, ingest& in, std::filesystem::path data_dir, media::counters* stats);
  // Stops the recorders without finishing them: what they synced is taken up on the next start.
  ~recordings();
  recordings(const recordings&) = delete;
  recordings& operator=(const recordings&) = delete;

  // After the runtime's recovery: takes up the recordings a stop left open. Blocks until done.
  void resume();
  [[nodiscard]] std::size_t active() const;

  // The folder of a broadcast's recording, relative to the data folder.
  [[nodiscard]] static std::string folder(domain::app_id app, std::int64_t broadcast_id);

private:
  struct entry {
    std::shared_ptr<media::fanout::hub> hub;
    std::shared_ptr<media::fanout::tap> tap;
  };
  using key = std::pair<domain::app_id, std::int64_t>;
  void on_durable(std::string_view stream, std::string_view type);
  // On a runtime thread: starts (or takes up) the broadcast's recording.
  void start(domain::app_id app, std::int64_t broadcast_id);
  // The recorder is done (finished or failed): its tap goes.
  void forget(domain::app_id app, std::int64_t broadcast_id);

  runtime& rt_;
  ingest& ingest_;
  std::filesystem::path data_dir_;
  media::counters* stats_;
  mutable std::mutex mu_;
  std::map<key, entry> active_;
  std::set<key> starting_; // start() under way
  bool stopping_ = false;
  std::shared_ptr<recordings_guard> guard_;
};

} // namespace onair::actors
