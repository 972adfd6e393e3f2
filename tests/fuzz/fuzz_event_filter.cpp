// fuzz-libs: onair_api
// The audit feed's query (api/event_filter.hpp) as any client may send it: type, aggregate,
// principal, from and to, one per line. A filter is refused with its parameter named, or parsed
// into one whose time range is not empty; matching a record never fails.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "api/event_filter.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace onair::api;
  std::string_view text{reinterpret_cast<const char*>(data), size};
  std::optional<std::string> fields[5];
  for (auto& f : fields) {
    if (text.empty())
      break;
    const auto nl = text.find('\n');
    const auto line = text.substr(0, nl);
    if (!(line.size() == 1 && line[0] == '-')) // "-": the parameter is absent
      f = std::string{line};
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
  }
  const event_filter_params p{fields[0], fields[1], fields[2], fields[3], fields[4]};
  auto f = parse_event_filter(p);
  if (!f) {
    const auto& e = f.error();
    if (e.field.empty() || e.message.rfind(e.field, 0) != 0)
      std::abort(); // a refusal names its parameter first
    return 0;
  }
  if (f->from_ms && f->to_ms && !(*f->from_ms < *f->to_ms))
    std::abort();
  onair::storage::event_record rec;
  rec.stream = "video_room/7/42";
  rec.type = "video_room.created";
  rec.time_ms = 1764806400000;
  rec.data = "{}";
  (void)matches_record(*f, rec);
  (void)matches_event(*f, nlohmann::json{{"onairprincipal", "member:alice"}});
  return 0;
}
