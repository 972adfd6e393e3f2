#pragma once
// The output mode of a broadcast: what the server makes of the ingested stream.
// Shared by apps (default), stream keys (default and in force) and video rooms.
#include <array>
#include <string_view>
#include <utility>

#include "domain/enums.hpp"

namespace onair::domain {

enum class output_mode { rtmp, cmaf, rtmp_cmaf };

template <>
struct enum_names<output_mode> {
  static constexpr std::array entries{
      std::pair{output_mode::rtmp, std::string_view{"RTMP"}},
      std::pair{output_mode::cmaf, std::string_view{"CMAF"}},
      std::pair{output_mode::rtmp_cmaf, std::string_view{"RTMP_CMAF"}},
  };
};

} // namespace onair::domain
