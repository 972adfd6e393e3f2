#pragma once
// `onair audit verify`: checks the audit chains of a data folder's store and their signed
// checkpoints, and names the first position that breaks. `onair audit public-key` prints the
// public half of the checkpoint key.
#include <string>
#include <vector>

namespace onair::api {

int cmd_audit_verify(const std::vector<std::string>& args);
int cmd_audit_public_key(const std::vector<std::string>& args);

} // namespace onair::api
