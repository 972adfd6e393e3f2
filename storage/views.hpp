#pragma once
// Read models: projections of the log, written by the store's projector in the same atomic batch
// as the events they come from, so they are never ahead of or behind the log, and can be dropped
// and rebuilt from it (`onair rebuild-views`).
//
// A view's state holds its members' personal data sealed (storage/personal_data.hpp): get_view and
// list_views open it with the reader's key ring, so an erased member's fields read as empty.
//
// Key layout (all under the store's view space):
//   v/{category}/{app}/{id}                 {"version": n, "state": {...}}   one per aggregate
//   c/{category}/{app}/{createdAt}/{#hex id|$id}       id  list order by creation
//   m/{category}/{app}/{lastModifiedAt}/{#hex id|$id}  id  list order by last change
//   x/{index}/{value}                       "{app}/{id}"  unique lookups (api key, key value, ids)
//   s/{set}/{app}/{id}                      ""  work left to do after a crash (open flows, …)
// Numbers are fixed-width hex so that bytewise order is numeric order.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/aggregate.hpp"
#include "storage/codec.hpp"
#include "storage/event_store.hpp"
#include "storage/personal_data.hpp"

namespace onair::storage {

enum class sort_order { created_at_desc, created_at_asc, last_modified_at_asc, last_modified_at_desc };

struct page_request {
  int page = 0;       // 0-based
  int page_size = 20; // 1..100
  sort_order sort = sort_order::created_at_desc;
};

template <class State>
struct versioned {
  std::int64_t version = 0;
  State state;
};

template <class State>
struct page {
  std::vector<versioned<State>> content;
  std::int64_t total_elements = 0;
};

namespace keys {
[[nodiscard]] std::string hex(std::uint64_t v);
[[nodiscard]] std::string view(std::string_view category, domain::app_id app, std::string_view id);
[[nodiscard]] std::string order(char kind, std::string_view category, domain::app_id app, std::int64_t ms,
                                std::string_view id);
[[nodiscard]] std::string order_prefix(char kind, std::string_view category, domain::app_id app);
[[nodiscard]] std::string lookup(std::string_view index, std::string_view value);
[[nodiscard]] std::string set_member(std::string_view set, domain::app_id app, std::string_view id);
[[nodiscard]] std::string set_prefix(std::string_view set);
} // namespace keys

// A lookup's target.
struct located {
  domain::app_id app = 0;
  std::string id;
};
[[nodiscard]] std::string encode_located(domain::app_id app, std::string_view id);
[[nodiscard]] std::optional<located> decode_located(std::string_view v);
[[nodiscard]] std::optional<located> find_by(const kv_reader& r, std::string_view index, std::string_view value);
// Every (app, id) in a set, e.g. the flows left open by a crash, with the value stored there.
struct set_entry {
  located where;
  std::string value;
};
[[nodiscard]] std::vector<set_entry> members_of(const kv_reader& r, std::string_view set);

template <class A>
std::optional<versioned<typename A::state>> get_view(const kv_reader& r, domain::app_id app, std::string_view id) {
  auto raw = r.get(keys::view(A::category, app, id));
  if (!raw)
    return std::nullopt;
  auto j = json::parse(*raw, nullptr, false);
  versioned<typename A::state> out;
  std::string where;
  if (j.is_object())
    if (auto it = j.find("state"); it != j.end())
      personal::open(r.personal_keys(), *it);
  if (j.is_discarded() || !j.contains("version") || !j.contains("state") ||
      !from_json_value(j["version"], out.version, where) || !from_json_value(j["state"], out.state, where))
    return std::nullopt;
  return out;
}

// A page of one app's aggregates of type A that pass `keep`, in the requested order.
template <class A>
page<typename A::state> list_views(const kv_reader& r, domain::app_id app, const page_request& req,
                                   const std::function<bool(const typename A::state&)>& keep = {}) {
  page<typename A::state> out;
  const bool by_created = req.sort == sort_order::created_at_asc || req.sort == sort_order::created_at_desc;
  const bool reverse = req.sort == sort_order::created_at_desc || req.sort == sort_order::last_modified_at_desc;
  const auto prefix = keys::order_prefix(by_created ? 'c' : 'm', A::category, app);
  const std::int64_t first = static_cast<std::int64_t>(req.page) * req.page_size;
  r.scan(
      prefix,
      [&](std::string_view, std::string_view id) { // the entry's value is the aggregate's id
        auto v = get_view<A>(r, app, id);
        if (!v || (keep && !keep(v->state)))
          return true;
        if (out.total_elements >= first && out.total_elements < first + req.page_size)
          out.content.push_back(std::move(*v));
        ++out.total_elements;
        return true;
      },
      reverse);
  return out;
}

// The projector for every aggregate of the domain: install with event_store::set_projector.
[[nodiscard]] projector make_projector();

// Drops every view and replays the whole log through the projector. Returns events replayed.
domain::result<std::uint64_t> rebuild_views(event_store& store, const std::function<void(std::uint64_t, std::uint64_t)>& progress = {});

} // namespace onair::storage
