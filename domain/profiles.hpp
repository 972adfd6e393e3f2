#pragma once
// The built-in transcoding profiles of api.md: live CMAF ladders and the VOD archive profile.
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "domain/enums.hpp"
#include "domain/fields.hpp"

namespace onair::domain {

enum class profile_type { live, vod };
// `source`: the renditions follow the orientation of the source (the VOD profile).
enum class orientation { horizontal, vertical, source };

template <>
struct enum_names<profile_type> {
  static constexpr std::array entries{
      std::pair{profile_type::live, std::string_view{"LIVE"}},
      std::pair{profile_type::vod, std::string_view{"VOD"}},
  };
};

template <>
struct enum_names<orientation> {
  static constexpr std::array entries{
      std::pair{orientation::horizontal, std::string_view{"HORIZONTAL"}},
      std::pair{orientation::vertical, std::string_view{"VERTICAL"}},
      std::pair{orientation::source, std::string_view{"SOURCE"}},
  };
};

struct video_stream {
  int width = 0;
  int height = 0;
  int bitrate_kbps = 0;
  double fps = 0;
  std::string codec{};

  static constexpr auto fields() {
    return std::tuple{field("width", &video_stream::width), field("height", &video_stream::height),
                      field("bitrateKbps", &video_stream::bitrate_kbps), field("fps", &video_stream::fps),
                      field("codec", &video_stream::codec)};
  }
  friend bool operator==(const video_stream&, const video_stream&) = default;
};

struct audio_stream {
  std::string codec{};
  int bitrate_kbps = 0;
  int sample_rate = 0;
  int channels = 0;

  static constexpr auto fields() {
    return std::tuple{field("codec", &audio_stream::codec), field("bitrateKbps", &audio_stream::bitrate_kbps),
                      field("sampleRate", &audio_stream::sample_rate),
                      field("channels", &audio_stream::channels)};
  }
  friend bool operator==(const audio_stream&, const audio_stream&) = default;
};

struct transcoding_profile {
  std::int64_t id = 0;
  std::string name{};
  profile_type type = profile_type::live;
  domain::orientation orientation = domain::orientation::horizontal;
  int segment_duration_ms = 0;
  int part_duration_ms = 0;           // CMAF chunk (LL-HLS part); 0 where not used
  bool keep_original = false;         // VOD: the source is also kept, remuxed, as `original`
  std::vector<video_stream> video_streams{};
  audio_stream audio{};

  static constexpr auto fields() {
    return std::tuple{field("id", &transcoding_profile::id),
                      field("name", &transcoding_profile::name),
                      field("type", &transcoding_profile::type),
                      field("orientation", &transcoding_profile::orientation),
                      field("segmentDurationMs", &transcoding_profile::segment_duration_ms),
                      field("partDurationMs", &transcoding_profile::part_duration_ms),
                      field("keepOriginal", &transcoding_profile::keep_original),
                      field("videoStreams", &transcoding_profile::video_streams),
                      field("audioStream", &transcoding_profile::audio)};
  }
  friend bool operator==(const transcoding_profile&, const transcoding_profile&) = default;
};

inline constexpr std::int64_t cmaf_landscape_profile_id = 1;
inline constexpr std::int64_t cmaf_portrait_profile_id = 2;
inline constexpr std::int64_t vod_default_profile_id = 3;
inline constexpr std::int64_t default_live_profile_id = cmaf_landscape_profile_id;

// Every built-in profile, by ascending id.
[[nodiscard]] std::span<const transcoding_profile> builtin_profiles();
// The profile with that id, or nullptr.
[[nodiscard]] const transcoding_profile* find_profile(std::int64_t id);

// A profile's video streams for a source of width x height. A `source` profile follows the
// source: a portrait one (taller than wide) gets each stream's sides swapped; a landscape or square
// one, or one of unknown size, gets them as listed. Other profiles are as listed.
[[nodiscard]] std::vector<video_stream> streams_for_source(const transcoding_profile& p, int width, int height);

} // namespace onair::domain
