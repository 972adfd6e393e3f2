// fuzz-libs: onair_media
// What a player asks of a live CMAF stream's folder (/play/{id}/...): whatever the path, it names
// a playlist, the MPD or one of the stream's own objects exactly as the playlists write their
// URIs, or nothing; the texts made for it never fail.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "media/cmaf/http.hpp"
#include "media/cmaf/packager.hpp"
#include "media/cmaf/playlist.hpp"

namespace {

std::shared_ptr<onair::media::cmaf::stream> make_stream() {
  using namespace onair::media::cmaf;
  stream_options o;
  o.uri_prefix = "f0lder/";
  auto s = std::make_shared<stream>(o, std::vector<rendition_desc>{{"v0", track_kind::video, 2'800'000, 30},
                                                                   {"v1", track_kind::video, 800'000, 30},
                                                                   {"a", track_kind::audio, 128'000, 0}});
  track_config v;
  v.avcc = {1, 0x64, 0, 0x1e, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1e, 1, 0, 2, 0x68, 0xee};
  v.width = 640;
  v.height = 360;
  track_config a;
  a.kind = track_kind::audio;
  a.timescale = 48'000;
  a.sample_rate = 48'000;
  a.channels = 2;
  a.asc = {0x11, 0x90};
  s->set_origin(0, 0);
  s->set_config(0, v);
  s->set_config(1, v);
  s->set_config(2, a);
  auto bytes = std::make_shared<const std::vector<std::uint8_t>>(64, 0xab);
  for (int i = 0; i < 150; ++i) {
    s->push(0, {i * 3000, 0, i % 30 == 0, bytes}, i * 33);
    s->push(1, {i * 3000, 0, i % 30 == 0, bytes}, i * 33);
    s->push(2, {i * 1600, 0, true, bytes}, i * 33);
  }
  return s;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace onair::media::cmaf;
  static const auto s = make_stream();
  const std::string file(reinterpret_cast<const char*>(data), size);
  const auto t = parse_target(*s, file);
  using k = request_target::kind;
  const auto id = t.rendition < s->rendition_count() ? s->desc(t.rendition).id : std::string{};
  const auto& prefix = s->options().uri_prefix;
  switch (t.what) {
  case k::master:
    if (file != "index.m3u8")
      __builtin_trap();
    (void)master_playlist(s->view());
    break;
  case k::mpd:
    if (file != "manifest.mpd")
      __builtin_trap();
    (void)dash_manifest(s->view(), "http://h/time", 0);
    break;
  case k::media_playlist:
    if (file != id + ".m3u8")
      __builtin_trap();
    (void)media_playlist(s->view(), t.rendition, size % 2 == 0);
    break;
  case k::init:
    if (file != prefix + id + "/init.mp4")
      __builtin_trap();
    break;
  case k::segment:
    if (file != segment_uri(prefix + id, t.msn))
      __builtin_trap();
    (void)s->find_segment(t.rendition, t.msn);
    break;
  case k::part:
    if (file != part_uri(prefix + id, t.msn, t.part))
      __builtin_trap();
    (void)s->find_part(t.rendition, t.msn, t.part);
    break;
  case k::bad:
    break;
  }
  return 0;
}
