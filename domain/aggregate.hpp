#pragma once
// The decider shape every aggregate follows (Equinox/Emmett style):
//   struct X {                       // one struct of statics per aggregate
//     static constexpr std::string_view category = "stream_key";
//     using state = ...;             // described (fields()) so snapshots and views can store it
//     using command = std::variant<...>;
//     using event = std::variant<...>;   // each alternative: described, with `static constexpr std::string_view type`
//     static state initial_state();
//     static result<std::vector<event>> decide(const command&, const state&, const context&);
//     static state evolve(state, const event&);
//   };
// decide() is pure: time and fresh ids/tokens arrive in the context. A command already satisfied
// yields no events (retries are idempotent by construction).
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.hpp"
#include "domain/time.hpp"

namespace onair::domain {

using app_id = std::int64_t;

// Fresh values a command may need. The actor that runs decide() fills every field for every
// command; decide() uses what it needs, so the same command with the same context is deterministic.
struct context {
  timestamp now;
  std::int64_t new_id = 0;      // id of an entity this command creates (unique, never reused)
  std::int64_t new_id_2 = 0;    // a second one, for commands that create two entities
  std::string new_secret;       // >= 128 random bits, URL-safe base64: stream key values
  std::string new_public_id;    // >= 96 random bits, URL-safe: preview / playback ids
  std::string new_uuid;         // RFC 4122 v4 text
};

template <class A>
concept aggregate = requires(const typename A::command& c, const typename A::state& s,
                             const typename A::event& e, const context& ctx) {
  { A::category } -> std::convertible_to<std::string_view>;
  { A::initial_state() } -> std::same_as<typename A::state>;
  { A::decide(c, s, ctx) } -> std::same_as<result<std::vector<typename A::event>>>;
  { A::evolve(s, e) } -> std::same_as<typename A::state>;
};

// Streams are keyed (category, app, id): the app is the partition key for scale-out, so every
// aggregate of one app can live on one node and cross-aggregate flows stay local.
struct stream_id {
  std::string_view category;
  app_id app = 0;
  std::string id; // numeric ids as decimal text; members by appUserId (the natural, unique key)

  [[nodiscard]] std::string str() const {
    std::string s{category};
    s += '/';
    s += std::to_string(app);
    s += '/';
    s += id;
    return s;
  }
};

} // namespace onair::domain
