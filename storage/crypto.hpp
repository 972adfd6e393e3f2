#pragma once
// The store's hot-path cryptography: random bytes and OpenSSL's algorithms, each fetched once.
//
// OpenSSL 3 looks an algorithm up in its provider store on every EVP_sha256() / EVP_aes_256_gcm()
// init, and its DRBG takes a lock, checks for a fork and reseeds on every RAND_bytes call: a
// member's registration made a dozen such calls, 2 to 3 µs each. Here the algorithms are fetched
// once per process and random bytes come from a small per-thread pool that RAND_bytes refills.
#include <cstddef>

using EVP_CIPHER = struct evp_cipher_st;
using EVP_MD = struct evp_md_st;

namespace onair::storage::crypto {

// Cryptographically strong random bytes (OpenSSL's DRBG), false when it has no entropy. Bytes
// handed out are wiped from the pool; a forked child starts with an empty pool.
[[nodiscard]] bool random_bytes(unsigned char* out, std::size_t n);

[[nodiscard]] const EVP_CIPHER* aes_256_gcm();
[[nodiscard]] const EVP_MD* sha256();

} // namespace onair::storage::crypto
