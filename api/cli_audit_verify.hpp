#pragma once
// `onair audit verify`: checks the audit chains of a data folder's store and their signed
// checkpoints, and names the first position that breaks. `onair audit public-key` prints the
// public half of the checkpoint key.
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace onair::api {

int cmd_audit_verify(const std::vector<std::string>& args);
int cmd_audit_public_key(const std::vector<std::string>& args);

// Whether a server's answer is a page of events as the feed and the export serve them, and can be
// read without surprises: {"events": [...], "next"?: unsigned, "lastPosition"?: unsigned, "more"?: bool}.
[[nodiscard]] bool is_events_page(const nlohmann::json& page);

} // namespace onair::api
