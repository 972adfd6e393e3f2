// fuzz-libs: onair_media
// A stream's track description from what a publisher sent (media/ffmpeg/fmp4_writer.hpp:
// describe_audio reads an AudioSpecificConfig, an OpusHead or an MPEG audio frame header;
// describe_video runs libavcodec's parser over a configuration record and a key frame): whatever
// the bytes, a description is either an error or one a muxer can take.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "media/fanout/hub.hpp"
#include "media/ffmpeg/fmp4_writer.hpp"

using namespace onair::media;

namespace {

fanout::message message_of(frame_kind kind, codec c, std::span<const std::uint8_t> bytes, bool header) {
  auto f = make_frame(kind, 0, bytes, !header, header);
  f.codec = c;
  f.set_data(f.bytes());
  return fanout::message{f, 0, 0};
}

} // namespace

// The first byte picks the track (audio: AAC, Opus, MP3; video: H.264, HEVC, AV1); for video the
// second splits the rest into the configuration record and the key frame.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2)
    return 0;
  static constexpr codec audio[] = {codec::aac, codec::opus, codec::mp3};
  static constexpr codec video[] = {codec::h264, codec::hevc, codec::av1};
  const std::span<const std::uint8_t> in{data + 1, size - 1};
  if (data[0] % 2 == 0) {
    const auto c = audio[data[0] / 2 % 3];
    const auto t = ffmpeg::describe_audio(message_of(frame_kind::audio, c, in, c != codec::mp3));
    if (t && (t->sample_rate <= 0 || t->channels <= 0 || t->codec != c || (c == codec::mp3 && !t->config.empty())))
      std::abort();
    return 0;
  }
  const auto c = video[data[0] / 2 % 3];
  const std::size_t split = std::min<std::size_t>(in[0], in.size() - 1);
  const auto rest = in.subspan(1);
  const auto t = ffmpeg::describe_video(message_of(frame_kind::video, c, rest.first(split), true),
                                        message_of(frame_kind::video, c, rest.subspan(split), false));
  if (t && (t->width <= 0 || t->height <= 0 || t->codec != c || t->config.empty()))
    std::abort();
  return 0;
}
