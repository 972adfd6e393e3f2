// fuzz-libs: onair_storage
// What `onair audit verify --feed` reads from a server it does not trust: pages of CloudEvents
// (storage/audit_verify.hpp). Whatever JSON comes, an event is read back as a chain link or not at
// all, and the verifier reports a break rather than failing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "storage/audit_verify.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace onair::storage::audit;
  const auto j = nlohmann::json::parse(std::string_view{reinterpret_cast<const char*>(data), size}, nullptr, false);
  if (j.is_discarded())
    return 0;
  shown_verifier v{nullptr};
  if (j.is_array()) {
    for (const auto& e : j)
      if (!v.add(e))
        break;
  } else {
    (void)from_cloud_event(j);
    (void)v.add(j);
  }
  (void)v.report();
  return 0;
}
