#pragma once
// Domain errors travel through CAF as caf::error in the "onair" category: the code is the
// domain::error_code, the context carries the message and the field.
#include <caf/error.hpp>
#include <caf/make_message.hpp>

#include "domain/error.hpp"

namespace onair::actors {

inline constexpr caf::atom_value error_category = caf::atom("onair");

[[nodiscard]] caf::error to_caf(const domain::error& e);
// Any caf::error back to a domain error (CAF's own: timeouts, dead actors → TIMEOUT / INTERNAL).
[[nodiscard]] domain::error from_caf(const caf::error& e);
// Renders errors of our category in CAF's logs.
[[nodiscard]] std::string render_error(std::uint8_t code, caf::atom_value, const caf::message& ctx);

} // namespace onair::actors
