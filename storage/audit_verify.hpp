#pragma once
// Checks audit chains (storage/audit_chain.hpp) event by event: each event's hash over its bytes,
// its link to its chain's previous event, sequence numbers without gaps, and every checkpoint's
// signature and the head it signs. The checker takes events from anywhere (the store, Kafka, the
// feed); verify_store also checks that no log position is missing and that each chain ends where
// the store says its head is. The first break is named by its position.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "storage/audit_chain.hpp"
#include "storage/event_store.hpp"

namespace onair::storage::audit {

struct breakage {
  std::uint64_t position = 0;
  std::int64_t chain = 0;
  std::string what;
};

struct chain_state {
  std::uint64_t seq = 0;
  std::uint64_t position = 0;
  sha256_digest hash{};
  std::uint64_t signed_seq = 0;      // the latest checkpoint event
  std::uint64_t signed_position = 0; // its position
};

class chain_checker {
public:
  // key: checks checkpoint signatures with it (null: signatures are not checked, only counted).
  explicit chain_checker(const verifying_key* key) : key_(key) {}

  // The next event in log order; data_hash is the SHA-256 of its stored data. Returns the break
  // it shows, if any (the checker's state is then not to be trusted further).
  std::optional<breakage> next(const event_record& r, const sha256_digest& data_hash);

  [[nodiscard]] const std::map<std::int64_t, chain_state>& chains() const { return chains_; }
  [[nodiscard]] std::uint64_t events() const { return events_; }
  [[nodiscard]] std::uint64_t unchained() const { return unchained_; }
  [[nodiscard]] std::uint64_t checkpoints() const { return checkpoints_; }

private:
  const verifying_key* key_;
  std::map<std::int64_t, chain_state> chains_;
  std::uint64_t events_ = 0, unchained_ = 0, checkpoints_ = 0;
};

struct verify_report {
  std::uint64_t events = 0;      // records read
  std::uint64_t unchained = 0;   // written before audit chains existed: not verifiable
  std::uint64_t checkpoints = 0; // signatures checked
  std::map<std::int64_t, chain_state> chains;
  std::optional<breakage> broken;
  [[nodiscard]] bool ok() const { return !broken; }
};

struct verify_options {
  const verifying_key* key = nullptr;
  // Told of progress now and then: the position reached and the log's last.
  std::function<void(std::uint64_t position, std::uint64_t last)> progress{};
};

// The whole log of a store, and its chain heads.
[[nodiscard]] domain::result<verify_report> verify_store(event_store& store, const verify_options& opts);

// An event as the feed, its SSE stream and Kafka show it (storage/cloud_events.hpp), back as the
// link of its chain: what its hash covers, with its data's hash as shown (onairdatahash). Its data
// is the shown data less `version` and `position`; unless the feed masked a secret in it
// (`redacted`), its hash must be the shown data hash. Null without a chain link (written before
// chains) or when it does not parse.
struct shown_event {
  event_record record;
  sha256_digest data_hash{};
  bool redacted = false;
};
[[nodiscard]] std::optional<shown_event> from_cloud_event(const nlohmann::json& ce);

// Checks shown events in log order (one app's feed from its beginning, or a whole Kafka topic):
// every event's link, hash and data, and every checkpoint. Positions may skip (other apps' events,
// internal ones); chains may not.
class shown_verifier {
public:
  explicit shown_verifier(const verifying_key* key) : checker_(key) {}
  // False once broken (report().broken says where); later calls do nothing.
  bool add(const nlohmann::json& ce);
  [[nodiscard]] verify_report report() const;

private:
  chain_checker checker_;
  std::optional<breakage> broken_;
  std::uint64_t unchained_ = 0;
};

} // namespace onair::storage::audit
