#pragma once
// Members' personal data, stored sealed so that it can be erased from a log that is never
// rewritten (crypto-shredding). A member's name, picture, e-mail and custom data (and the copies of
// its name that rooms and posts keep) are encrypted, wherever they are stored — events, snapshots,
// views — with a key of that member kept apart from the log (the store's key ring). Erasing the
// member destroys the key: every sealed copy becomes unreadable at once, while the stored bytes,
// and so the audit chains over them, stay as they were.
//
// In a stored JSON object the sealed fields are replaced by one marker:
//   "personalData": {"keyId": K, "fields": [names…], "sealed": base64(nonce ‖ AES-256-GCM ciphertext ‖ tag)}
// Opened (what readers get): the fields back, and the marker says so:
//   "personalData": {"keyId": K, "fields": [names…], "erased": false}
// Once the key is destroyed: the fields absent, and
//   "personalData": {"keyId": K, "fields": [names…], "erased": true}
// Objects written before sealing existed carry no marker and are read as they are.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "domain/aggregate.hpp"
#include "domain/result.hpp"
#include "storage/codec.hpp"
#include "storage/event_store.hpp"

namespace onair::storage::personal {

inline constexpr std::string_view marker = "personalData";

// The personal fields of an aggregate category's objects (events, state), in the order they are
// sealed; empty for categories that hold none. Their owner is the object's "appUserId", or for a
// member's own objects the aggregate id (which is its appUserId).
[[nodiscard]] std::span<const std::string_view> fields_of(std::string_view category);

struct data_key {
  std::string id; // random, hex; stored in the clear beside what it sealed
  std::array<std::uint8_t, 32> bytes{};
};

// What the ring knows of one member.
struct member_key {
  std::optional<data_key> key;
  bool erased = false; // its keys were destroyed and it has not registered since
};

// The per-member keys. Implementations are thread-safe; a key is made durable no later than
// anything sealed under it, so nothing durable is ever sealed under a key that a crash could lose.
class key_ring {
public:
  enum class lookup : std::uint8_t {
    existing, // only a key the member has
    create,   // make one for a member that has none, unless it was erased
    renew,    // make one even after an erasure (a new registration of the same appUserId)
  };
  virtual ~key_ring() = default;
  [[nodiscard]] virtual result<member_key> key_of(domain::app_id app, std::string_view app_user_id, lookup how) = 0;
  // A key by id; none once destroyed.
  [[nodiscard]] virtual std::optional<data_key> find(std::string_view key_id) const = 0;
  // Destroys the member's key, durably and beyond recovery from the store's files (it compacts
  // the key space and lets the write-ahead log that held the key go), and remembers the erasure.
  // Returns how many keys were destroyed (0: it had none, or they were destroyed already).
  virtual result<int> destroy(domain::app_id app, std::string_view app_user_id) = 0;
};

// A box that open() opened: its stored marker and what it held.
struct opened_box {
  nlohmann::json marker; // {"keyId", "fields", "sealed"} as stored
  nlohmann::json plain;  // the fields it held
};

// Seals the personal fields present in obj (an event's data or a state of an aggregate of
// `category`, id `id`, in `app`) under their owner's key. Without a key for an erased owner the
// fields are dropped and marked erased; for a member from before sealing (`existing` finds no
// key), or an object of no member, they are left as they are. An object already sealed is left
// alone. When `reuse` holds exactly obj's fields under the owner's key (a view folded from the
// event that box came from), obj takes that box instead of a new one: the same bytes under the
// same key, one encryption less.
status seal(key_ring& ring, std::string_view category, domain::app_id app, std::string_view id, nlohmann::json& obj,
            key_ring::lookup how, const opened_box* reuse = nullptr);

// A new event's data (of type `type`, of an aggregate of `category`), sealed in place before it is
// dumped: its owner's key is made if needed, and made anew for a registration after an erasure.
status seal_event_data(key_ring& ring, std::string_view category, domain::app_id app, std::string_view id,
                       std::string_view type, nlohmann::json& data);

// A new aggregate event as a store record, its personal data sealed before the one dump of its data.
template <class Event>
result<new_event> encode_sealed_event(key_ring& ring, std::string_view category, domain::app_id app,
                                      std::string_view id, const Event& ev) {
  auto [out, data] = encode_event_value(ev);
  if (auto sealed = seal_event_data(ring, category, app, id, out.type, data); !sealed)
    return std::move(sealed).error();
  out.data = data.dump();
  return std::move(out);
}

// Restores the sealed fields of obj from their key, or marks them erased when the key is gone (or
// unreadable when the box does not open). Objects without a seal are left as they are; so is
// everything when ring is null.
// `was`, when given and the box opened, receives it.
void open(const key_ring* ring, nlohmann::json& obj, opened_box* was = nullptr);

// Whether obj carries personal data sealed, opened or erased (its shown form is not its stored one).
[[nodiscard]] bool marked(const nlohmann::json& obj);

} // namespace onair::storage::personal
