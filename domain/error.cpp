#include "domain/error.hpp"

#include <array>
#include <utility>

namespace onair::domain {
namespace {
constexpr std::array error_names{
#define ONAIR_X(name, text) std::pair{error_code::name, std::string_view{text}},
    ONAIR_ERROR_CODES(ONAIR_X)
#undef ONAIR_X
};
} // namespace

std::string_view to_string(error_code code) noexcept {
  for (const auto& [c, name] : error_names)
    if (c == code)
      return name;
  return "INTERNAL_ERROR";
}

bool from_string(std::string_view text, error_code& out) noexcept {
  for (const auto& [c, name] : error_names)
    if (name == text) {
      out = c;
      return true;
    }
  return false;
}

} // namespace onair::domain
