#pragma once
// In-process consumers of a live stream (the recorder, the CMAF transcoder), beside the socket
// viewers: each gets the stream's lifecycle and its samples, as parsed once at ingest and shared,
// in order, on a thread of its own. The hub hands them over through a bounded queue per consumer
// and never waits for one:
//  - lossless: every sample, in order. A consumer that falls past its bound fails alone: its queue
//    is let go, it hears on_failed (counted and logged) and nothing more.
//  - droppable: past its bound the queue is let go and delivery resumes at the next video key
//    frame (the samples skipped are counted), as a slow viewer skips GOPs.
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "media/fanout/counters.hpp"

namespace onair::media::fanout {

class message;
using message_ptr = std::shared_ptr<const message>;

// The codec configuration in force: the latest sequence headers (their side data) and metadata.
// Audio of a codec configured by its frames (MP3, media/frame.hpp) has its first frame there
// instead, a coded frame (sequence_header false).
struct stream_info {
  message_ptr video_config, audio_config;
  message_ptr video_side_data, audio_side_data;
  message_ptr metadata;
};
using stream_info_ptr = std::shared_ptr<const stream_info>;

class consumer {
public:
  virtual ~consumer() = default;
  // First call: the configuration in force when it was attached (empty before the first headers).
  virtual void on_opened(const stream_info&) {}
  // A sequence header whose bytes differ from the one in force (a new resolution, codec, …).
  virtual void on_config_changed(const stream_info&) {}
  // Coded audio and video (not headers, not metadata), on the hub's timeline, which continues
  // across a publisher's reconnect.
  virtual void on_sample(const message_ptr& sample) = 0;
  virtual void on_publisher_gone() {}
  virtual void on_publisher_back() {}
  // The stream is over (the last call).
  virtual void on_closed() {}
  // Lossless delivery fell past its bound: nothing follows (the last call).
  virtual void on_failed(std::string_view why) { (void)why; }
};

enum class delivery : std::uint8_t { lossless, droppable };

struct consumer_options {
  std::string name = "consumer"; // in logs; its first word names the delivery thread
  delivery policy = delivery::lossless;
  std::size_t max_queued_bytes = 64 * 1024 * 1024;
  std::size_t max_queued_items = 64 * 1024;
  // Audio samples that wait for a video sample before the consumer is woken (lifecycle calls and
  // video wake it at once); 1: every sample wakes it.
  std::size_t audio_batch = 8;
};

// One consumer's queue and its delivery thread. Producer calls come from the hub (under its lock,
// in the stream's order) and only take the tap's own lock, briefly.
class tap : public std::enable_shared_from_this<tap> {
public:
  tap(std::shared_ptr<consumer> c, consumer_options opts, counters* stats);
  ~tap();
  tap(const tap&) = delete;
  tap& operator=(const tap&) = delete;

  void start(); // starts the delivery thread
  // No more deliveries; joins the thread, or, called from it, lets it end after the current call.
  // drain: what is queued is delivered first (nothing more is taken), e.g. at shutdown, so a
  // recorder writes what it was given.
  void stop(bool drain = false);

  void opened(stream_info_ptr info);
  void config_changed(stream_info_ptr info);
  void sample(message_ptr m);
  void publisher_gone();
  void publisher_back();
  void closed();

  [[nodiscard]] bool failed() const;
  [[nodiscard]] std::uint64_t dropped() const;
  [[nodiscard]] std::size_t queued_bytes() const;
  [[nodiscard]] const std::string& name() const { return opts_.name; }

private:
  enum class what : std::uint8_t { opened, config, sample, gone, back, closed, failed };
  struct item {
    what w;
    message_ptr m;
    stream_info_ptr info;
  };
  void push_locked(item it, std::size_t bytes);
  void run();

  std::shared_ptr<consumer> consumer_;
  const consumer_options opts_;
  counters* stats_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<item> queue_;
  std::size_t queued_bytes_ = 0;
  bool stopping_ = false;
  bool draining_ = false;
  bool failed_ = false;
  bool done_ = false;     // closed or failed: nothing more is queued
  bool wait_key_ = false; // droppable, after a drop: samples wait for a video key frame
  std::size_t unwoken_ = 0; // audio samples queued since the consumer was last woken
  std::uint64_t dropped_ = 0;
  std::string why_;
  std::thread thread_;
};

} // namespace onair::media::fanout
