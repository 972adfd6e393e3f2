#pragma once
// Who asked for a change, from where, in which request, and because of what: stored beside every
// event (never inside its data), shown in the audit feed, the SSE stream and Kafka. Modelled on
// CloudTrail's userIdentity / sourceIPAddress / userAgent / requestID and EventStoreDB's
// $correlationId / $causationId.
#include <string>
#include <string_view>
#include <tuple>

#include "domain/fields.hpp"

namespace onair::domain {

struct provenance {
  // "app:{apiKey}" (never the secret), "member:{appUserId}", "operator" (CLI, admin token) or
  // "system:{component}" (rtmp-ingest, recovery, process-manager, archiver, …).
  std::string principal{};
  std::string client_ip{};  // the HTTP client or RTMP peer
  std::string user_agent{};
  std::string request_id{}; // X-Request-Id, the client's when well-formed
  // The request or flow that started the chain of events this one belongs to, and what caused
  // this command: the request itself, or the flow / aggregate whose event led to it.
  std::string correlation_id{};
  std::string causation_id{};

  static constexpr auto fields() {
    return std::tuple{field("principal", &provenance::principal),           field("clientIp", &provenance::client_ip),
                      field("userAgent", &provenance::user_agent),         field("requestId", &provenance::request_id),
                      field("correlationId", &provenance::correlation_id), field("causationId", &provenance::causation_id)};
  }

  // A component of the server acting on its own; `correlation` names what it acts for (a
  // publisher's session, a flow, a broadcast).
  [[nodiscard]] static provenance system(std::string_view component, std::string correlation = {}) {
    provenance p;
    p.principal = "system:" + std::string{component};
    p.correlation_id = correlation;
    p.causation_id = std::move(correlation);
    return p;
  }
  // The same principal, origin and correlation, for a command that `cause` led to.
  [[nodiscard]] provenance caused_by(std::string cause) const {
    provenance p = *this;
    p.causation_id = std::move(cause);
    return p;
  }
};

// A client's X-Request-Id is kept when it is 1 to 128 characters of [A-Za-z0-9._:-] (what tracing
// systems send), else the server makes one.
[[nodiscard]] bool valid_request_id(std::string_view id);

} // namespace onair::domain
