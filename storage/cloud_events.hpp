#pragma once
// The public face of the event log: each stored event as a CloudEvents 1.0 JSON object. The events
// API and its SSE stream send these, and the Kafka publisher sends the same objects.
#include <cstdint>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "domain/aggregate.hpp"
#include "storage/event_store.hpp"

namespace onair::storage {

// "category/app/id" split into its parts (the id may itself hold '/').
struct stream_parts {
  std::string_view category;
  domain::app_id app = 0;
  std::string_view id;
};
[[nodiscard]] std::optional<stream_parts> parse_stream_name(std::string_view stream);

// The event as a CloudEvent, or nothing when it is not part of the app's feed: another app's
// (app set), the app aggregates (partition 0, keyed by API key), internal flows, or a stream name
// that does not parse. Secret values (stream key values) are replaced by "***".
//   {specversion, id: position, source: /apps/{app}/{category}/{id}, type: onair.{stored type},
//    subject: aggregate id, time, datacontenttype, data: {stored fields…, version, position},
//    extension attributes: onairprincipal, onairclientip, onairuseragent, onairrequestid,
//    onaircorrelationid, onaircausationid (provenance, where known), and the event's link of its
//    app's audit chain: onairchain, onairchainseq, onairprevhash, onairhash, onairdatahash}
// A member's personal data in `data` is opened with `keys` (storage/personal_data.hpp): shown, or
// marked erased once its key is destroyed; left sealed when keys is null.
[[nodiscard]] std::optional<nlohmann::json> to_cloud_event(const event_record& rec,
                                                           std::optional<domain::app_id> app,
                                                           const personal::key_ring* keys);

} // namespace onair::storage
