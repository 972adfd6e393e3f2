#pragma once
// Runs flows that touch several aggregates. A flow's intent and each finished step are events of
// its own stream, so a crash mid-flow is completed on restart (recover()) from the first step not
// recorded; every step is an idempotent command, so redoing the step in progress is harmless.
// Flows run on a small pool of their own threads and may wait for actors there, never on an
// actor thread or an event loop.
//
// Work that spans a member's aggregates (its stream key, its rooms, their broadcasts) runs in
// that member's lane: one job at a time, in the order posted. Each aggregate has one writer, but
// a job's commands to several of them are not one atomic step; two jobs of one member interleaved
// on two threads could apply a key's follow-ups to its room out of order (the room left LIVE under
// an INACTIVE_LIVE key), or run a Start Live past a cancel. Different members' lanes run in
// parallel.
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "domain/flow.hpp"
#include "domain/provenance.hpp"
#include "domain/result.hpp"

namespace onair::actors {

class runtime;

class process_manager {
public:
  process_manager(runtime& rt, std::size_t threads);
  ~process_manager();

  // Queues work for the flow threads, in no particular order with other work.
  void post(std::function<void()> job);
  // Queues work in `lane`: it starts once the lane's earlier jobs have finished.
  void post(std::string lane, std::function<void()> job);
  // Returns once no job is queued or running (jobs those jobs post included).
  void wait_idle();

  // Starts a flow and drives it to its end (blocking; call on a flow thread or at recovery). Its
  // steps carry `who`, caused by the flow.
  domain::result<domain::flow> run(domain::app_id app, domain::flow_kind kind, const domain::flow_params& params,
                                   const domain::provenance& who);
  // Drives an existing flow from where it stopped, for whoever started it (its first event's
  // provenance).
  domain::result<domain::flow> resume(domain::app_id app, std::int64_t flow_id);

private:
  domain::result<domain::flow> drive(domain::app_id app, std::int64_t flow_id, domain::flow f,
                                     const domain::provenance& who);
  domain::status execute(domain::app_id app, const domain::flow& f, domain::flow_step step,
                         const domain::provenance& who);

  runtime& rt_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::size_t running_ = 0;
  struct job {
    std::string lane; // empty: none
    std::function<void()> run;
  };
  // Jobs a thread may take now: free ones, and each busy lane's next one once its job before ended.
  std::deque<job> ready_;
  // Lanes with a job queued or running: the jobs waiting behind the one in ready_ or running.
  std::map<std::string, std::deque<std::function<void()>>, std::less<>> lanes_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

} // namespace onair::actors
