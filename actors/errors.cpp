#include "actors/errors.hpp"

#include <caf/sec.hpp>

namespace onair::actors {

caf::error to_caf(const domain::error& e) {
  return caf::error{static_cast<std::uint8_t>(e.code), error_category, caf::make_message(e.message, e.field)};
}

domain::error from_caf(const caf::error& e) {
  if (e.category() == error_category) {
    domain::error out;
    out.code = static_cast<domain::error_code>(e.code());
    if (e.context().match_elements<std::string, std::string>()) {
      out.message = e.context().get_as<std::string>(0);
      out.field = e.context().get_as<std::string>(1);
    }
    return out;
  }
  if (e.category() == caf::atom("system") && static_cast<caf::sec>(e.code()) == caf::sec::request_timeout)
    return domain::make_error(domain::error_code::timeout, "the actor did not answer in time");
  return domain::make_error(domain::error_code::internal, "actor failure: error code " +
                                                              std::to_string(e.code()));
}

std::string render_error(std::uint8_t code, caf::atom_value, const caf::message& ctx) {
  std::string s{domain::to_string(static_cast<domain::error_code>(code))};
  if (ctx.match_elements<std::string, std::string>())
    s += ": " + ctx.get_as<std::string>(0);
  return s;
}

} // namespace onair::actors
