#pragma once
// AMF0 (the RTMP command encoding): a value tree, a bounded decoder and an encoder.
// The decoder is fed untrusted bytes, so nesting depth and element counts are capped.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace onair::media::rtmp::amf0 {

enum class type : std::uint8_t { number, boolean, string, object, null, undefined, ecma_array, strict_array, date };

struct value {
  type kind = type::null;
  double number = 0;
  bool boolean = false;
  std::string string;
  // object / ecma_array: keys[i] names items[i]; strict_array: items only
  std::vector<std::string> keys;
  std::vector<value> items;

  [[nodiscard]] const value* get(std::string_view key) const;
  [[nodiscard]] std::string get_string(std::string_view key) const;
  [[nodiscard]] double get_number(std::string_view key, double fallback = 0) const;
  [[nodiscard]] bool is_string() const { return kind == type::string; }
  [[nodiscard]] bool is_number() const { return kind == type::number; }
};

[[nodiscard]] value make_number(double d);
[[nodiscard]] value make_bool(bool b);
[[nodiscard]] value make_string(std::string s);
[[nodiscard]] value make_null();
[[nodiscard]] value make_undefined();
[[nodiscard]] value make_object(std::vector<std::pair<std::string, value>> props);
[[nodiscard]] value make_ecma_array(std::vector<std::pair<std::string, value>> props);

struct limits {
  int max_depth = 16;
  std::size_t max_items = 4096; // across the whole message
};

struct decode_result {
  std::vector<value> values;
  std::string error; // empty when every byte decoded
  [[nodiscard]] bool ok() const { return error.empty(); }
};

// Decodes a sequence of values filling the whole span (a command or data message body).
[[nodiscard]] decode_result decode_all(std::span<const std::uint8_t> bytes, const limits& lim = {});

void encode(std::vector<std::uint8_t>& out, const value& v);
void encode_all(std::vector<std::uint8_t>& out, const std::vector<value>& vs);

} // namespace onair::media::rtmp::amf0
