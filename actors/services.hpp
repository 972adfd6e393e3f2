#pragma once
// What actors need from the outside world, behind interfaces so tests can fix time and ids.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

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

struct services {
  storage::event_store* store = nullptr;
  std::shared_ptr<clock> time;
  std::shared_ptr<id_source> ids;
  std::chrono::milliseconds idle_after{std::chrono::seconds(60)}; // passivate an actor idle this long
  std::int64_t snapshot_every = 100;                              // events between snapshots

  // A full context with `ids` (0-2) fresh ids, so commands that create nothing burn none.
  [[nodiscard]] domain::result<domain::context> make_context(int ids) const;
};

} // namespace onair::actors
