#include "storage/crypto.hpp"

#include <array>
#include <cstring>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>

namespace onair::storage::crypto {
namespace {

struct random_pool {
  static constexpr std::size_t size = 512;
  std::array<unsigned char, size> bytes{};
  std::size_t used = size; // bytes[used..] not yet handed out

  random_pool() {
    // The child of a fork gets a copy of the forking thread's pool: it must not hand out the same
    // bytes (nonces) as its parent. The handler runs in the child, on that thread.
    static const int registered = pthread_atfork(nullptr, nullptr, [] { pool().drop(); });
    (void)registered;
  }
  ~random_pool() { drop(); }
  void drop() {
    OPENSSL_cleanse(bytes.data(), bytes.size());
    used = size;
  }
  static random_pool& pool() {
    thread_local random_pool p;
    return p;
  }
};

} // namespace

bool random_bytes(unsigned char* out, std::size_t n) {
  auto& p = random_pool::pool();
  if (n > random_pool::size / 4) // a large request goes straight to the DRBG
    return RAND_bytes(out, static_cast<int>(n)) == 1;
  if (random_pool::size - p.used < n) {
    if (RAND_bytes(p.bytes.data(), static_cast<int>(p.bytes.size())) != 1)
      return false;
    p.used = 0;
  }
  std::memcpy(out, p.bytes.data() + p.used, n);
  OPENSSL_cleanse(p.bytes.data() + p.used, n);
  p.used += n;
  return true;
}

// Fetched once and kept for the life of the process (threads may use them until its end). Should
// the fetch fail, OpenSSL's implicit lookup is used instead.
const EVP_CIPHER* aes_256_gcm() {
  static const EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher ? cipher : EVP_aes_256_gcm();
}

const EVP_MD* sha256() {
  static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  return md ? md : EVP_sha256();
}

} // namespace onair::storage::crypto
