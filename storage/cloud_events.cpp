#include "storage/cloud_events.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "domain/time.hpp"
#include "storage/audit_chain.hpp"
#include "storage/personal_data.hpp"

namespace onair::storage {

using nlohmann::json;

namespace {

// Fields whose values are credentials: a stream key is a publish password.
constexpr std::array<std::string_view, 2> secret_fields{"streamKey", "newStreamKey"};

void redact(json& j) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      const bool secret = std::find(secret_fields.begin(), secret_fields.end(), it.key()) != secret_fields.end();
      if (secret && !it.value().is_null())
        it.value() = "***";
      else
        redact(it.value());
    }
  } else if (j.is_array()) {
    for (auto& v : j)
      redact(v);
  }
}

bool internal_category(std::string_view category) { return category == "app" || category == "flow"; }

// The stored metadata (who, from where, in which request, because of what) as CloudEvents
// extension attributes: lower-case names, string values.
void add_provenance(json& ce, std::string_view meta) {
  if (meta.empty())
    return;
  const auto m = json::parse(meta, nullptr, false);
  if (!m.is_object())
    return;
  static constexpr std::pair<const char*, const char*> attributes[] = {
      {"principal", "onairprincipal"},         {"clientIp", "onairclientip"},
      {"userAgent", "onairuseragent"},         {"requestId", "onairrequestid"},
      {"correlationId", "onaircorrelationid"}, {"causationId", "onaircausationid"}};
  for (const auto& [field, attribute] : attributes)
    if (auto it = m.find(field); it != m.end() && it->is_string() && !it->get_ref<const std::string&>().empty())
      ce[attribute] = *it;
}

} // namespace

std::optional<stream_parts> parse_stream_name(std::string_view stream) {
  const auto first = stream.find('/');
  if (first == std::string_view::npos || first == 0)
    return std::nullopt;
  const auto second = stream.find('/', first + 1);
  if (second == std::string_view::npos || second + 1 >= stream.size())
    return std::nullopt;
  stream_parts out;
  out.category = stream.substr(0, first);
  const auto app = stream.substr(first + 1, second - first - 1);
  const auto [p, ec] = std::from_chars(app.data(), app.data() + app.size(), out.app);
  if (app.empty() || ec != std::errc{} || p != app.data() + app.size())
    return std::nullopt;
  out.id = stream.substr(second + 1);
  return out;
}

std::optional<json> to_cloud_event(const event_record& rec, std::optional<domain::app_id> app,
                                   const personal::key_ring* keys) {
  const auto parts = parse_stream_name(rec.stream);
  if (!parts || internal_category(parts->category) || parts->app == 0 || (app && parts->app != *app))
    return std::nullopt;
  auto data = json::parse(rec.data, nullptr, false);
  if (data.is_discarded())
    return std::nullopt;
  if (!data.is_object())
    data = json{{"value", std::move(data)}};
  personal::open(keys, data);
  redact(data);
  data["version"] = rec.version;
  data["position"] = rec.position;
  const std::string category{parts->category};
  const std::string id{parts->id};
  json out{{"specversion", "1.0"},
              {"id", std::to_string(rec.position)},
              {"source", "/apps/" + std::to_string(parts->app) + "/" + category + "/" + id},
              {"type", "onair." + rec.type},
              {"subject", id},
              {"time", domain::to_iso8601(domain::timestamp{rec.time_ms})},
              {"datacontenttype", "application/json"},
              {"data", std::move(data)}};
  add_provenance(out, rec.meta);
  if (rec.chain_seq > 0) {
    out["onairchain"] = audit::chain_of(rec.stream);
    out["onairchainseq"] = rec.chain_seq;
    out["onairprevhash"] = audit::hex(rec.prev_hash);
    out["onairhash"] = audit::hex(rec.hash);
    out["onairdatahash"] = audit::hex(audit::sha256(rec.data)); // the stored data's, before redaction
  }
  return out;
}

} // namespace onair::storage
