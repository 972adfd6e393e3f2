#include "media/rtmp/amf0.hpp"

#include <bit>
#include <cstring>

namespace onair::media::rtmp::amf0 {

const value* value::get(std::string_view key) const {
  for (std::size_t i = 0; i < keys.size() && i < items.size(); ++i)
    if (keys[i] == key)
      return &items[i];
  return nullptr;
}

std::string value::get_string(std::string_view key) const {
  const value* v = get(key);
  return v && v->kind == type::string ? v->string : std::string{};
}

double value::get_number(std::string_view key, double fallback) const {
  const value* v = get(key);
  return v && v->kind == type::number ? v->number : fallback;
}

value make_number(double d) {
  value v;
  v.kind = type::number;
  v.number = d;
  return v;
}
value make_bool(bool b) {
  value v;
  v.kind = type::boolean;
  v.boolean = b;
  return v;
}
value make_string(std::string s) {
  value v;
  v.kind = type::string;
  v.string = std::move(s);
  return v;
}
value make_null() { return value{}; }
value make_undefined() {
  value v;
  v.kind = type::undefined;
  return v;
}
namespace {
value make_keyed(type t, std::vector<std::pair<std::string, value>> props) {
  value v;
  v.kind = t;
  for (auto& [k, item] : props) {
    v.keys.push_back(std::move(k));
    v.items.push_back(std::move(item));
  }
  return v;
}
} // namespace
value make_object(std::vector<std::pair<std::string, value>> props) { return make_keyed(type::object, std::move(props)); }
value make_ecma_array(std::vector<std::pair<std::string, value>> props) {
  return make_keyed(type::ecma_array, std::move(props));
}

namespace {

struct decoder {
  std::span<const std::uint8_t> in;
  std::size_t pos = 0;
  limits lim;
  std::size_t items = 0;
  std::string error;

  bool fail(std::string e) {
    if (error.empty())
      error = std::move(e);
    return false;
  }
  bool need(std::size_t n) { return in.size() - pos >= n ? true : fail("amf0: truncated"); }
  bool u16(std::uint16_t& v) {
    if (!need(2))
      return false;
    v = static_cast<std::uint16_t>(in[pos] << 8 | in[pos + 1]);
    pos += 2;
    return true;
  }
  bool u32(std::uint32_t& v) {
    if (!need(4))
      return false;
    v = std::uint32_t{in[pos]} << 24 | std::uint32_t{in[pos + 1]} << 16 | std::uint32_t{in[pos + 2]} << 8 | in[pos + 3];
    pos += 4;
    return true;
  }
  bool f64(double& d) {
    if (!need(8))
      return false;
    std::uint64_t bits = 0;
    for (int i = 0; i < 8; ++i)
      bits = bits << 8 | in[pos + i];
    pos += 8;
    d = std::bit_cast<double>(bits);
    return true;
  }
  bool str(std::string& s, std::size_t len) {
    if (!need(len))
      return false;
    s.assign(reinterpret_cast<const char*>(in.data() + pos), len);
    pos += len;
    return true;
  }
  bool short_str(std::string& s) {
    std::uint16_t len = 0;
    return u16(len) && str(s, len);
  }
  bool count_item() { return ++items <= lim.max_items ? true : fail("amf0: too many items"); }

  // Properties until the empty-key object-end marker (00 00 09).
  bool props(value& v, int depth) {
    for (;;) {
      std::string key;
      if (!short_str(key))
        return false;
      if (key.empty()) {
        if (!need(1))
          return false;
        if (in[pos] == 0x09) {
          ++pos;
          return true;
        }
      }
      if (!count_item())
        return false;
      value item;
      if (!one(item, depth + 1))
        return false;
      v.keys.push_back(std::move(key));
      v.items.push_back(std::move(item));
    }
  }

  bool one(value& v, int depth) {
    if (depth > lim.max_depth)
      return fail("amf0: nested too deep");
    if (!need(1))
      return false;
    const std::uint8_t marker = in[pos++];
    switch (marker) {
    case 0x00:
      v.kind = type::number;
      return f64(v.number);
    case 0x01:
      if (!need(1))
        return false;
      v.kind = type::boolean;
      v.boolean = in[pos++] != 0;
      return true;
    case 0x02:
      v.kind = type::string;
      return short_str(v.string);
    case 0x03:
      v.kind = type::object;
      return props(v, depth);
    case 0x05:
      v.kind = type::null;
      return true;
    case 0x06:
      v.kind = type::undefined;
      return true;
    case 0x08: {
      v.kind = type::ecma_array;
      std::uint32_t hint = 0; // the count is only a hint; the end marker terminates
      return u32(hint) && props(v, depth);
    }
    case 0x0A: {
      v.kind = type::strict_array;
      std::uint32_t n = 0;
      if (!u32(n))
        return false;
      if (n > lim.max_items || n > in.size() - pos) // every item takes at least one byte
        return fail("amf0: strict array too long");
      for (std::uint32_t i = 0; i < n; ++i) {
        if (!count_item())
          return false;
        value item;
        if (!one(item, depth + 1))
          return false;
        v.items.push_back(std::move(item));
      }
      return true;
    }
    case 0x0B: {
      v.kind = type::date;
      std::uint16_t tz = 0;
      return f64(v.number) && u16(tz);
    }
    case 0x0C:   // long string
    case 0x0F: { // XML document: a long string
      v.kind = type::string;
      std::uint32_t len = 0;
      return u32(len) && str(v.string, len);
    }
    case 0x07: { // reference to an earlier complex value: not resolved, read as undefined
      v.kind = type::undefined;
      std::uint16_t index = 0;
      return u16(index);
    }
    case 0x10: { // typed object: a class name, then an object's properties
      v.kind = type::object;
      std::string class_name;
      return short_str(class_name) && props(v, depth);
    }
    default:
      return fail("amf0: unsupported marker " + std::to_string(marker));
    }
  }
};

void put_u16(std::vector<std::uint8_t>& out, std::size_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
void put_u32(std::vector<std::uint8_t>& out, std::size_t v) {
  for (int s = 24; s >= 0; s -= 8)
    out.push_back(static_cast<std::uint8_t>(v >> s));
}
void put_key(std::vector<std::uint8_t>& out, const std::string& k) {
  const std::size_t n = std::min<std::size_t>(k.size(), 0xFFFF);
  put_u16(out, n);
  out.insert(out.end(), k.begin(), k.begin() + static_cast<std::ptrdiff_t>(n));
}

} // namespace

decode_result decode_all(std::span<const std::uint8_t> bytes, const limits& lim) {
  decoder d{bytes, 0, lim, 0, {}};
  decode_result r;
  while (d.pos < bytes.size()) {
    value v;
    if (!d.one(v, 0)) {
      r.error = d.error;
      break;
    }
    r.values.push_back(std::move(v));
  }
  return r;
}

void encode(std::vector<std::uint8_t>& out, const value& v) {
  switch (v.kind) {
  case type::number:
  case type::date: {
    out.push_back(v.kind == type::number ? 0x00 : 0x0B);
    const auto bits = std::bit_cast<std::uint64_t>(v.number);
    for (int s = 56; s >= 0; s -= 8)
      out.push_back(static_cast<std::uint8_t>(bits >> s));
    if (v.kind == type::date)
      put_u16(out, 0);
    return;
  }
  case type::boolean:
    out.push_back(0x01);
    out.push_back(v.boolean ? 1 : 0);
    return;
  case type::string:
    if (v.string.size() > 0xFFFF) {
      out.push_back(0x0C);
      put_u32(out, v.string.size());
    } else {
      out.push_back(0x02);
      put_u16(out, v.string.size());
    }
    out.insert(out.end(), v.string.begin(), v.string.end());
    return;
  case type::null:
    out.push_back(0x05);
    return;
  case type::undefined:
    out.push_back(0x06);
    return;
  case type::object:
  case type::ecma_array:
    if (v.kind == type::object) {
      out.push_back(0x03);
    } else {
      out.push_back(0x08);
      put_u32(out, v.items.size());
    }
    for (std::size_t i = 0; i < v.items.size() && i < v.keys.size(); ++i) {
      put_key(out, v.keys[i]);
      encode(out, v.items[i]);
    }
    out.insert(out.end(), {0x00, 0x00, 0x09});
    return;
  case type::strict_array:
    out.push_back(0x0A);
    put_u32(out, v.items.size());
    for (const auto& item : v.items)
      encode(out, item);
    return;
  }
}

void encode_all(std::vector<std::uint8_t>& out, const std::vector<value>& vs) {
  for (const auto& v : vs)
    encode(out, v);
}

} // namespace onair::media::rtmp::amf0
