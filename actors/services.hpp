#pragma once
// What actors need from the outside world, behind interfaces so tests can fix time and ids.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "domain/aggregate.hpp"
#include "storage/event_store.hpp"

namespace onair::actors {

class clock {
public:
  virtual ~clock() = default;
  [[nodiscard]] virtual domain::timestamp now() const = 0;
};

class system_clock final : public clock {
public:
  [[nodiscard]] domain::timestamp now() const override;
};

// Hands out ids reserved in blocks from the store: never twice, across crashes.
class id_source {
public:
  explicit id_source(storage::event_store& store, std::int64_t block = 256) : store_(store), block_(block) {}
  [[nodiscard]] domain::result<std::int64_t> next();

private:
  storage::event_store& store_;
  std::int64_t block_;
  std::mutex mu_;
  std::int64_t next_ = 0;
  std::int64_t end_ = 0; // exclusive
};

// Cryptographically random, URL-safe values.
[[nodiscard]] std::string random_token(std::size_t bytes); // base64url without padding
[[nodiscard]] std::string random_uuid();

// Told of every event once it is durable (stream name, event type), on the aggregate's actor
// thread: observers must be quick and must not block (post the work elsewhere). They let the edges
// of the system react to what happened (e.g. RTMP ingest cuts a publisher whose key was
// force-ended) without the domain knowing them.
class durable_observers {
public:
  using observer = std::function<void(std::string_view stream, std::string_view type)>;
  void add(observer f) {
    std::lock_guard lock{mu_};
    list_.push_back(std::make_shared<const observer>(std::move(f)));
  }
  void notify(std::string_view stream, std::string_view type) const {
    std::vector<std::shared_ptr<const observer>> copy;
    {
      std::lock_guard lock{mu_};
      if (list_.empty())
        return;
      copy = list_;
    }
    for (const auto& f : copy)
      (*f)(stream, type);
  }

private:
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<const observer>> list_;
};

struct services {
  storage::event_store* store = nullptr;
  std::shared_ptr<durable_observers> observers = std::make_shared<durable_observers>();
  std::shared_ptr<clock> time;
  std::shared_ptr<id_source> ids;
  std::chrono::milliseconds idle_after{std::chrono::seconds(60)}; // passivate an actor idle this long
  std::int64_t snapshot_every = 100;                              // events between snapshots

  // A full context with `ids` (0-2) fresh ids, so commands that create nothing burn none.
  [[nodiscard]] domain::result<domain::context> make_context(int ids) const;
};

} // namespace onair::actors
