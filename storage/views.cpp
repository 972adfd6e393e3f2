#include "storage/views.hpp"

#include <charconv>
#include <stdexcept>
#include <unordered_map>

#include "storage/view_hooks.hpp"

namespace onair::storage {

namespace keys {

std::string hex(std::uint64_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4)
    s[static_cast<std::size_t>(i)] = digits[v & 0xf];
  return s;
}

std::string view(std::string_view category, domain::app_id app, std::string_view id) {
  std::string k = "v/";
  k.append(category).append("/").append(hex(static_cast<std::uint64_t>(app))).append("/").append(id);
  return k;
}

std::string order_prefix(char kind, std::string_view category, domain::app_id app) {
  std::string k{kind};
  k.append("/").append(category).append("/").append(hex(static_cast<std::uint64_t>(app))).append("/");
  return k;
}

std::string order(char kind, std::string_view category, domain::app_id app, std::int64_t ms, std::string_view id) {
  // Numeric ids sort as numbers among entries of the same millisecond.
  const bool numeric = !id.empty() && id.size() <= 18 && id.find_first_not_of("0123456789") == std::string_view::npos;
  auto k = order_prefix(kind, category, app).append(hex(static_cast<std::uint64_t>(ms))).append("/");
  if (numeric)
    k.append("#").append(hex(std::stoull(std::string{id})));
  else
    k.append("$").append(id);
  return k;
}

std::string lookup(std::string_view index, std::string_view value) {
  std::string k = "x/";
  k.append(index).append("/").append(value);
  return k;
}

std::string set_prefix(std::string_view set) {
  std::string k = "s/";
  k.append(set).append("/");
  return k;
}

std::string set_member(std::string_view set, domain::app_id app, std::string_view id) {
  return set_prefix(set).append(encode_located(app, id));
}

} // namespace keys

std::string encode_located(domain::app_id app, std::string_view id) {
  std::string s = keys::hex(static_cast<std::uint64_t>(app));
  s.append("/").append(id);
  return s;
}

std::optional<located> decode_located(std::string_view v) {
  if (v.size() < 18 || v[16] != '/')
    return std::nullopt;
  std::uint64_t app = 0;
  if (std::from_chars(v.data(), v.data() + 16, app, 16).ec != std::errc{})
    return std::nullopt;
  return located{static_cast<domain::app_id>(app), std::string{v.substr(17)}};
}

std::optional<located> find_by(const kv_reader& r, std::string_view index, std::string_view value) {
  auto v = r.get(keys::lookup(index, value));
  if (!v)
    return std::nullopt;
  return decode_located(*v);
}

std::vector<set_entry> members_of(const kv_reader& r, std::string_view set) {
  std::vector<set_entry> out;
  const auto prefix = keys::set_prefix(set);
  r.scan(prefix, [&](std::string_view key, std::string_view value) {
    if (auto l = decode_located(key.substr(prefix.size())))
      out.push_back({std::move(*l), std::string{value}});
    return true;
  });
  return out;
}

namespace {

struct stream_parts {
  std::string_view category;
  domain::app_id app = 0;
  std::string_view id;
};

stream_parts split_stream(std::string_view s) {
  const auto a = s.find('/');
  const auto b = a == std::string_view::npos ? a : s.find('/', a + 1);
  if (b == std::string_view::npos)
    throw std::runtime_error("malformed stream name '" + std::string{s} + "'");
  stream_parts p;
  p.category = s.substr(0, a);
  const auto app = s.substr(a + 1, b - a - 1);
  if (std::from_chars(app.data(), app.data() + app.size(), p.app).ec != std::errc{})
    throw std::runtime_error("malformed app in stream name '" + std::string{s} + "'");
  p.id = s.substr(b + 1);
  return p;
}

template <class State>
std::int64_t created_ms(const State& s) {
  if constexpr (requires { s.created_at; })
    return s.created_at.ms;
  else
    return 0;
}

template <class State>
std::int64_t modified_ms(const State& s) {
  if constexpr (requires { s.last_modified_at; })
    return s.last_modified_at.ms;
  else
    return created_ms(s);
}

// Folds one event into the view of its aggregate, keeps the list orders, and lets the
// aggregate's hook maintain its lookups and sets.
template <class A>
void project(const event_record& rec, const stream_parts& where, kv_writer& w) {
  auto data = json::parse(rec.data, nullptr, false);
  personal::opened_box box; // the event's sealed fields: the view keeps them sealed as they are
  personal::open(w.personal_keys(), data, &box);
  auto ev = decode_event_value<typename A::event>(rec.type, data);
  if (!ev)
    throw std::runtime_error(rec.stream + " v" + std::to_string(rec.version) + ": " + ev.error().message);
  const auto old = get_view<A>(w, where.app, where.id);
  const typename A::state before = old ? old->state : A::initial_state();
  typename A::state after = A::evolve(before, *ev);

  json doc = json::object();
  doc["version"] = rec.version;
  doc["state"] = to_json_value(after);
  if (auto* ring = w.personal_keys())
    if (auto sealed = personal::seal(*ring, A::category, where.app, where.id, doc["state"],
                                     personal::key_ring::lookup::existing, box.plain.is_null() ? nullptr : &box);
        !sealed)
      throw std::runtime_error(rec.stream + " v" + std::to_string(rec.version) + ": " + sealed.error().message);
  w.put(keys::view(A::category, where.app, where.id), doc.dump());

  if (old && created_ms(before) != created_ms(after))
    w.del(keys::order('c', A::category, where.app, created_ms(before), where.id));
  if (!old || created_ms(before) != created_ms(after))
    w.put(keys::order('c', A::category, where.app, created_ms(after), where.id), where.id);
  if (old)
    w.del(keys::order('m', A::category, where.app, modified_ms(before), where.id));
  w.put(keys::order('m', A::category, where.app, modified_ms(after), where.id), where.id);

  view_hooks<A>::apply(where.app, where.id, old ? &before : nullptr, after, *ev, w);
}

using handler = void (*)(const event_record&, const stream_parts&, kv_writer&);

template <class... As>
std::unordered_map<std::string_view, handler> handlers_for() {
  return {{As::category, &project<As>}...};
}

} // namespace

projector make_projector() {
  auto table = std::make_shared<std::unordered_map<std::string_view, handler>>(handlers_for<ONAIR_VIEW_AGGREGATES>());
  return [table](const event_record& rec, kv_writer& w) {
    const auto parts = split_stream(rec.stream);
    if (auto it = table->find(parts.category); it != table->end())
      it->second(rec, parts, w);
  };
}

domain::result<std::uint64_t> rebuild_views(event_store& store,
                                            const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  if (auto cleared = store.clear_views(); !cleared)
    return cleared.error();
  const auto project_one = make_projector();
  const std::uint64_t last = store.last_position();
  std::uint64_t after = 0;
  while (after < last) {
    auto chunk = store.read_all(after, 2048);
    if (!chunk)
      return chunk.error();
    if (chunk->empty())
      break;
    std::optional<domain::error> failed;
    auto written = store.write_views([&](kv_writer& w) {
      for (const auto& rec : *chunk) {
        try {
          project_one(rec, w);
        } catch (const std::exception& e) {
          failed = domain::make_error(domain::error_code::storage_failure,
                                      "rebuilding views at position " + std::to_string(rec.position) + ": " + e.what());
          return;
        }
      }
    });
    if (failed)
      return *failed;
    if (!written)
      return written.error();
    after = chunk->back().position;
    if (progress)
      progress(after, last);
  }
  return after;
}

} // namespace onair::storage
