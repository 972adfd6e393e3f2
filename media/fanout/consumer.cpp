#include "media/fanout/consumer.hpp"

#include <pthread.h>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "media/fanout/hub.hpp"

namespace onair::media::fanout {

tap::tap(std::shared_ptr<consumer> c, consumer_options opts, counters* stats)
    : consumer_{std::move(c)}, opts_{std::move(opts)}, stats_{stats} {}

tap::~tap() {
  {
    std::lock_guard lock{mu_};
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    if (thread_.get_id() == std::this_thread::get_id())
      thread_.detach(); // the last reference went away on the delivery thread itself
    else
      thread_.join();
  }
}

void tap::start() {
  if (stats_)
    counters::add(stats_->consumers_active);
  thread_ = std::thread{[self = shared_from_this()] { self->run(); }};
}

void tap::stop(bool drain) {
  {
    std::lock_guard lock{mu_};
    stopping_ = true;
    draining_ = drain;
    done_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id())
    thread_.join();
}

bool tap::failed() const {
  std::lock_guard lock{mu_};
  return failed_;
}

std::uint64_t tap::dropped() const {
  std::lock_guard lock{mu_};
  return dropped_;
}

std::size_t tap::queued_bytes() const {
  std::lock_guard lock{mu_};
  return queued_bytes_;
}

void tap::push_locked(item it, std::size_t bytes) {
  queue_.push_back(std::move(it));
  queued_bytes_ += bytes;
}

void tap::opened(stream_info_ptr info) {
  {
    std::lock_guard lock{mu_};
    if (done_)
      return;
    push_locked({what::opened, nullptr, std::move(info)}, 0);
  }
  cv_.notify_one();
}

void tap::config_changed(stream_info_ptr info) {
  {
    std::lock_guard lock{mu_};
    if (done_)
      return;
    push_locked({what::config, nullptr, std::move(info)}, 0);
  }
  cv_.notify_one();
}

void tap::sample(message_ptr m) {
  {
    std::lock_guard lock{mu_};
    if (done_)
      return;
    const std::size_t bytes = m->size();
    if (wait_key_) {
      if (!(m->kind == frame_kind::video && m->keyframe)) {
        ++dropped_;
        if (stats_)
          counters::add(stats_->consumer_dropped_samples);
        return;
      }
      wait_key_ = false;
    }
    if (queued_bytes_ + bytes > opts_.max_queued_bytes || queue_.size() + 1 > opts_.max_queued_items) {
      std::size_t samples = 0;
      for (const auto& i : queue_)
        samples += i.w == what::sample;
      if (opts_.policy == delivery::lossless) {
        failed_ = done_ = true;
        why_ = "fell behind: " + std::to_string(queue_.size()) + " items (" + std::to_string(queued_bytes_) +
               " bytes) waiting, past its bound of " + std::to_string(opts_.max_queued_bytes) + " bytes";
        spdlog::warn("media consumer failed name=\"{}\" reason=\"{}\"", opts_.name, why_);
        if (stats_)
          counters::add(stats_->consumer_failures);
        // What is queued is let go (memory stays bounded); the consumer hears of the failure next.
        queue_.clear();
        queued_bytes_ = 0;
        queue_.push_back({what::failed, nullptr, nullptr});
      } else {
        // Lifecycle calls are kept; samples give way up to the next key frame.
        std::erase_if(queue_, [](const item& i) { return i.w == what::sample; });
        queued_bytes_ = 0;
        dropped_ += samples + 1;
        if (stats_)
          counters::add(stats_->consumer_dropped_samples, samples + 1);
        spdlog::info("media consumer skipped to the next key frame name=\"{}\" samples={}", opts_.name, samples + 1);
        wait_key_ = true;
      }
    } else {
      // Audio waits for the next video sample (or a batch of its own) to wake the consumer: one
      // wake-up per video frame, not one per sample.
      const bool wake = m->kind == frame_kind::video || ++unwoken_ >= opts_.audio_batch;
      push_locked({what::sample, std::move(m), nullptr}, bytes);
      if (!wake)
        return;
      unwoken_ = 0;
    }
  }
  cv_.notify_one();
}

void tap::publisher_gone() {
  {
    std::lock_guard lock{mu_};
    if (done_)
      return;
    push_locked({what::gone, nullptr, nullptr}, 0);
  }
  cv_.notify_one();
}

void tap::publisher_back() {
  {
    std::lock_guard lock{mu_};
    if (done_)
      return;
    push_locked({what::back, nullptr, nullptr}, 0);
  }
  cv_.notify_one();
}

void tap::closed() {
  {
    std::lock_guard lock{mu_};
    if (done_)
      return;
    done_ = true;
    push_locked({what::closed, nullptr, nullptr}, 0);
  }
  cv_.notify_one();
}

void tap::run() {
  // Named after the consumer's kind ("recorder …" → "recorder"): top -H and the benchmarks find it.
  const std::string thread = opts_.name.substr(0, std::min<std::size_t>(opts_.name.find(' '), 15));
  pthread_setname_np(pthread_self(), thread.c_str());
  for (;;) {
    item it;
    std::string why;
    {
      std::unique_lock lock{mu_};
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_ && (!draining_ || queue_.empty()))
        break;
      it = std::move(queue_.front());
      queue_.pop_front();
      if (it.m)
        queued_bytes_ -= std::min(queued_bytes_, it.m->size());
      if (it.w == what::failed)
        why = why_;
    }
    try {
      switch (it.w) {
      case what::opened:
        consumer_->on_opened(*it.info);
        break;
      case what::config:
        consumer_->on_config_changed(*it.info);
        break;
      case what::sample:
        consumer_->on_sample(it.m);
        break;
      case what::gone:
        consumer_->on_publisher_gone();
        break;
      case what::back:
        consumer_->on_publisher_back();
        break;
      case what::closed:
        consumer_->on_closed();
        break;
      case what::failed:
        consumer_->on_failed(why);
        break;
      }
    } catch (const std::exception& e) {
      // A consumer that throws fails alone, like one that falls behind.
      spdlog::error("media consumer threw name=\"{}\" error=\"{}\"", opts_.name, e.what());
      std::lock_guard lock{mu_};
      if (!done_) {
        failed_ = done_ = true;
        why_ = std::string{"error: "} + e.what();
        queue_.clear();
        queued_bytes_ = 0;
        queue_.push_back({what::failed, nullptr, nullptr});
        if (stats_)
          counters::add(stats_->consumer_failures);
      }
    }
    if (it.w == what::closed || it.w == what::failed)
      break;
  }
  if (stats_)
    counters::add(stats_->consumers_active, -1);
}

} // namespace onair::media::fanout
