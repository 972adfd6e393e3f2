#pragma once
// The audit trail's tamper evidence. Every stored event is a link in one chain per app (the
// partition key: an app's trail verifies on its own, and stays whole when apps are spread over
// nodes): it carries its sequence number in the chain, the hash of the chain's previous event,
// and its own hash over its stored bytes and that previous hash. Changing, removing or reordering
// an event breaks the chain at that event. Chain 0 holds what no app's feed shows (the apps
// themselves, process-manager flows).
//
// A chain could be rewritten whole from the changed event on; signed checkpoints stop that: every
// N events or T seconds the store writes the chain's head (sequence, position, hash) signed with
// an Ed25519 key kept in the data folder, as an event of the chain's own (`audit.checkpoint`), so
// the checkpoints travel with the events to the feed and Kafka. Whoever holds the public half can
// check a trail up to its last checkpoint without trusting the server.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "domain/result.hpp"
#include "storage/event_store.hpp"

namespace onair::storage::audit {

[[nodiscard]] sha256_digest sha256(std::string_view bytes);
[[nodiscard]] std::string hex(const sha256_digest& d);
[[nodiscard]] std::optional<sha256_digest> parse_digest(std::string_view hex_text);

// The chain of an event's stream: its app for the public aggregates ("video_room/7/42": 7), 0 for
// the internal ones ("app/0/…", "flow/7/…") and any name that does not parse.
[[nodiscard]] std::int64_t chain_of(std::string_view stream);

// An event's hash as a link of its chain: SHA-256 over a domain tag, the chain, its sequence
// number, global position, stream, version, time, type, metadata, the SHA-256 of its data, and
// the previous link's hash, each length-prefixed. The data enters by its hash, so a reader that
// is shown a redacted or decrypted copy can still check the link when told the data's hash.
[[nodiscard]] sha256_digest link_hash(std::int64_t chain, const event_record& r, const sha256_digest& data_hash);
[[nodiscard]] inline sha256_digest link_hash(std::int64_t chain, const event_record& r) {
  return link_hash(chain, r, sha256(r.data));
}

// A signed chain head.
inline constexpr std::string_view checkpoint_category = "audit";
inline constexpr std::string_view checkpoint_type = "audit.checkpoint";
[[nodiscard]] std::string checkpoint_stream(std::int64_t chain); // "audit/{chain}/checkpoints"

struct checkpoint {
  std::int64_t chain = 0;
  std::uint64_t seq = 0;      // the head it signs: the chain's event with this sequence number
  std::uint64_t position = 0; // that event's global position
  sha256_digest hash{};       // that event's hash
  std::string key_id;         // which key signed it
  std::string signature;      // Ed25519 over message(), hex
  // What is signed: a domain tag and the fields above but the signature, as text.
  [[nodiscard]] std::string message() const;
  [[nodiscard]] std::string to_json() const; // the event's data
  [[nodiscard]] static std::optional<checkpoint> from_json(std::string_view data);
};

// The Ed25519 key pair that signs checkpoints (OpenSSL), in PEM files of the data folder.
class signing_key {
public:
  // Loads the private key at `path`, or makes a new one there (mode 0600) with its public half
  // beside it (`path` + ".pub").
  [[nodiscard]] static domain::result<signing_key> load_or_create(const std::filesystem::path& path);
  [[nodiscard]] std::string sign(std::string_view message) const; // hex
  [[nodiscard]] const std::string& public_pem() const { return public_pem_; }
  [[nodiscard]] const std::string& key_id() const { return key_id_; }

private:
  std::shared_ptr<void> key_; // EVP_PKEY
  std::string public_pem_;
  std::string key_id_;
};

// A public key that checks signatures (from signing_key::public_pem, or its .pub file).
class verifying_key {
public:
  [[nodiscard]] static domain::result<verifying_key> from_pem(std::string_view pem);
  [[nodiscard]] bool verify(std::string_view message, std::string_view signature_hex) const;
  [[nodiscard]] const std::string& key_id() const { return key_id_; }

private:
  std::shared_ptr<void> key_; // EVP_PKEY
  std::string key_id_;
};

// Where a data folder keeps the key that signs its checkpoints; its public half is beside it,
// with ".pub" added.
[[nodiscard]] inline std::filesystem::path signing_key_path(const std::filesystem::path& data_dir) {
  return data_dir / "audit" / "signing.key";
}

// The key id of a public key: the first 8 bytes of the SHA-256 of its raw 32 bytes, hex.
[[nodiscard]] std::string key_id_of(const std::uint8_t* raw_public, std::size_t size);

} // namespace onair::storage::audit
