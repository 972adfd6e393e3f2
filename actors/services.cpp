#include "actors/services.hpp"

#include <array>
#include <stdexcept>

#include "storage/crypto.hpp"

namespace onair::actors {

domain::timestamp system_clock::now() const {
  using namespace std::chrono;
  return {duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count()};
}

domain::result<std::int64_t> id_source::next() {
  std::lock_guard lock{mu_};
  if (next_ == end_) {
    auto first = store_.reserve_ids(block_);
    if (!first)
      return first.error();
    next_ = *first;
    end_ = next_ + block_;
  }
  return next_++;
}

namespace {
void fill_random(unsigned char* out, std::size_t n) {
  if (!storage::crypto::random_bytes(out, n))
    throw std::runtime_error("RAND_bytes failed: no entropy");
}
} // namespace

std::string random_token(std::size_t bytes) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string raw(bytes, '\0');
  fill_random(reinterpret_cast<unsigned char*>(raw.data()), bytes);
  std::string out;
  out.reserve((bytes * 4 + 2) / 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : raw) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += alphabet[(acc >> bits) & 0x3f];
    }
  }
  if (bits > 0)
    out += alphabet[(acc << (6 - bits)) & 0x3f];
  return out;
}

std::string random_uuid() {
  std::array<unsigned char, 16> b{};
  fill_random(b.data(), b.size());
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  static constexpr char hex[] = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      s += '-';
    s += hex[b[i] >> 4];
    s += hex[b[i] & 0xf];
  }
  return s;
}

domain::result<domain::context> services::make_context(int id_count) const {
  domain::context ctx;
  ctx.now = time->now();
  std::int64_t* slots[] = {&ctx.new_id, &ctx.new_id_2};
  for (int i = 0; i < id_count && i < 2; ++i) {
    auto id = ids->next();
    if (!id)
      return id.error();
    *slots[i] = *id;
  }
  ctx.new_secret = random_token(24);    // 192 bits
  ctx.new_public_id = random_token(12); // 96 bits
  ctx.new_uuid = random_uuid();
  return ctx;
}

} // namespace onair::actors
