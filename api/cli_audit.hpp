#pragma once
// The audit side of the command line: `onair audit export`, and the one dispatch of `onair audit`
// (export here; verify and public-key in api/cli_audit_verify.hpp).
#include <string>
#include <vector>

namespace onair::api {

// `onair audit SUBCOMMAND ...`; exit code 0, 1 (failed) or 2 (bad arguments).
int cmd_audit(const std::vector<std::string>& args);

} // namespace onair::api
