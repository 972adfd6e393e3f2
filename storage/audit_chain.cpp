#include "storage/audit_chain.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "storage/cloud_events.hpp"
#include "storage/crypto.hpp"

namespace onair::storage::audit {

using domain::error_code;
using domain::make_error;

namespace {

constexpr std::string_view link_tag = "onair.audit.link.v1";
constexpr std::string_view checkpoint_tag = "onair.audit.checkpoint.v1";

EVP_PKEY* pkey(const std::shared_ptr<void>& k) { return static_cast<EVP_PKEY*>(k.get()); }
std::shared_ptr<void> own(EVP_PKEY* k) {
  return {k, [](void* p) { EVP_PKEY_free(static_cast<EVP_PKEY*>(p)); }};
}

class hasher {
public:
  hasher() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, crypto::sha256(), nullptr); }
  ~hasher() { EVP_MD_CTX_free(ctx_); }
  hasher(const hasher&) = delete;
  hasher& operator=(const hasher&) = delete;

  void number(std::uint64_t v) {
    std::uint8_t b[8];
    for (int i = 0; i < 8; ++i)
      b[i] = static_cast<std::uint8_t>(v >> (56 - 8 * i));
    EVP_DigestUpdate(ctx_, b, sizeof b);
  }
  void bytes(std::string_view s) {
    number(s.size());
    EVP_DigestUpdate(ctx_, s.data(), s.size());
  }
  void digest(const sha256_digest& d) { bytes({reinterpret_cast<const char*>(d.data()), d.size()}); }
  sha256_digest finish() {
    sha256_digest out{};
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, out.data(), &n);
    return out;
  }

private:
  EVP_MD_CTX* ctx_;
};

std::string to_hex(const std::uint8_t* p, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 0xf];
  }
  return out;
}

std::optional<std::vector<std::uint8_t>> from_hex(std::string_view text) {
  if (text.size() % 2 != 0)
    return std::nullopt;
  std::vector<std::uint8_t> out(text.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto r = std::from_chars(text.data() + 2 * i, text.data() + 2 * i + 2, out[i], 16);
    if (r.ec != std::errc{} || r.ptr != text.data() + 2 * i + 2)
      return std::nullopt;
  }
  return out;
}

std::optional<std::string> raw_public_id(EVP_PKEY* k) {
  std::uint8_t raw[64];
  std::size_t n = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(k, raw, &n) != 1)
    return std::nullopt;
  return key_id_of(raw, n);
}

std::string pem_of_public(EVP_PKEY* k) {
  BIO* bio = BIO_new(BIO_s_mem());
  std::string out;
  if (PEM_write_bio_PUBKEY(bio, k) == 1) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    out.assign(data, static_cast<std::size_t>(n));
  }
  BIO_free(bio);
  return out;
}

std::optional<std::string> read_file(const std::filesystem::path& p) {
  std::ifstream in{p, std::ios::binary};
  if (!in)
    return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Writes a file that only its owner reads, never over an existing one.
bool write_private(const std::filesystem::path& p, std::string_view text, mode_t mode) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0)
    return false;
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      ::close(fd);
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  return ::close(fd) == 0 && synced;
}

} // namespace

sha256_digest sha256(std::string_view bytes) {
  sha256_digest out{};
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), out.data(), &n, crypto::sha256(), nullptr);
  return out;
}

std::string hex(const sha256_digest& d) { return to_hex(d.data(), d.size()); }

std::optional<sha256_digest> parse_digest(std::string_view hex_text) {
  auto bytes = from_hex(hex_text);
  if (!bytes || bytes->size() != sha256_digest{}.size())
    return std::nullopt;
  sha256_digest out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

std::int64_t chain_of(std::string_view stream) {
  const auto parts = parse_stream_name(stream);
  if (!parts || parts->category == "app" || parts->category == "flow")
    return 0;
  return parts->app;
}

sha256_digest link_hash(std::int64_t chain, const event_record& r, const sha256_digest& data_hash) {
  hasher h;
  h.bytes(link_tag);
  h.number(static_cast<std::uint64_t>(chain));
  h.number(r.chain_seq);
  h.number(r.position);
  h.bytes(r.stream);
  h.number(static_cast<std::uint64_t>(r.version));
  h.number(static_cast<std::uint64_t>(r.time_ms));
  h.bytes(r.type);
  h.bytes(r.meta);
  h.digest(data_hash);
  h.digest(r.prev_hash);
  return h.finish();
}

std::string checkpoint_stream(std::int64_t chain) {
  return fmt::format("{}/{}/checkpoints", checkpoint_category, chain);
}

std::string checkpoint::message() const {
  return fmt::format("{}\nchain {}\nseq {}\nposition {}\nhash {}\nkey {}\n", checkpoint_tag, chain, seq, position,
                     hex(hash), key_id);
}

std::string checkpoint::to_json() const {
  // "headPosition", not "position": the feed adds the checkpoint event's own position to its data.
  return nlohmann::json{{"chain", chain},    {"headSeq", seq},  {"headPosition", position},
                        {"headHash", hex(hash)}, {"keyId", key_id}, {"signature", signature}}
      .dump();
}

std::optional<checkpoint> checkpoint::from_json(std::string_view data) {
  const auto j = nlohmann::json::parse(data, nullptr, false);
  if (!j.is_object())
    return std::nullopt;
  // Whole numbers only: a float out of an integer's range would be undefined behaviour to convert.
  for (const char* name : {"chain", "headSeq", "headPosition"})
    if (auto it = j.find(name); it == j.end() || !it->is_number_integer() ||
                                (name != std::string_view{"chain"} && !it->is_number_unsigned()))
      return std::nullopt;
  try {
    checkpoint c;
    c.chain = j.at("chain").get<std::int64_t>();
    c.seq = j.at("headSeq").get<std::uint64_t>();
    c.position = j.at("headPosition").get<std::uint64_t>();
    auto h = parse_digest(j.at("headHash").get<std::string>());
    if (!h)
      return std::nullopt;
    c.hash = *h;
    c.key_id = j.at("keyId").get<std::string>();
    c.signature = j.at("signature").get<std::string>();
    return c;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

std::string key_id_of(const std::uint8_t* raw_public, std::size_t size) {
  const auto d = sha256({reinterpret_cast<const char*>(raw_public), size});
  return to_hex(d.data(), 8);
}

domain::result<signing_key> signing_key::load_or_create(const std::filesystem::path& path) {
  signing_key out;
  if (auto pem = read_file(path)) {
    BIO* bio = BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size()));
    EVP_PKEY* k = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (!k || EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
      EVP_PKEY_free(k);
      return make_error(error_code::storage_failure,
                        fmt::format("audit signing key {}: not an Ed25519 private key in PEM", path.string()));
    }
    out.key_ = own(k);
  } else {
    EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    if (!k)
      return make_error(error_code::internal, "audit signing key: Ed25519 key generation failed");
    out.key_ = own(k);
    BIO* bio = BIO_new(BIO_s_mem());
    std::string private_pem;
    if (PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr, nullptr) == 1) {
      char* data = nullptr;
      const long n = BIO_get_mem_data(bio, &data);
      private_pem.assign(data, static_cast<std::size_t>(n));
    }
    BIO_free(bio);
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (private_pem.empty() || !write_private(path, private_pem, 0600))
      return make_error(error_code::storage_failure,
                        fmt::format("audit signing key {}: cannot write a new key there", path.string()));
  }
  out.public_pem_ = pem_of_public(pkey(out.key_));
  auto id = raw_public_id(pkey(out.key_));
  if (out.public_pem_.empty() || !id)
    return make_error(error_code::internal, fmt::format("audit signing key {}: no public half", path.string()));
  out.key_id_ = *id;
  // The public half beside it, for verifiers (rewritten if missing).
  const auto pub = std::filesystem::path{path.string() + ".pub"};
  if (!std::filesystem::exists(pub))
    (void)write_private(pub, out.public_pem_, 0644);
  return out;
}

std::string signing_key::sign(std::string_view message) const {
  std::uint8_t sig[64];
  std::size_t n = sizeof sig;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, pkey(key_)) == 1 &&
                  EVP_DigestSign(ctx, sig, &n, reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok ? to_hex(sig, n) : std::string{};
}

domain::result<verifying_key> verifying_key::from_pem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* k = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!k || EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(k);
    return make_error(error_code::invalid_parameter, "not an Ed25519 public key in PEM", "publicKey");
  }
  verifying_key out;
  out.key_ = own(k);
  auto id = raw_public_id(k);
  if (!id)
    return make_error(error_code::invalid_parameter, "the public key has no raw form", "publicKey");
  out.key_id_ = *id;
  return out;
}

bool verifying_key::verify(std::string_view message, std::string_view signature_hex) const {
  const auto sig = from_hex(signature_hex);
  if (!sig || sig->size() != 64)
    return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, pkey(key_)) == 1 &&
                  EVP_DigestVerify(ctx, sig->data(), sig->size(), reinterpret_cast<const unsigned char*>(message.data()),
                                   message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

} // namespace onair::storage::audit
