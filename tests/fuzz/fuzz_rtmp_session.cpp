// fuzz-libs: onair_media
// A whole server session (handshake, chunks, control, AMF0 commands, media) on arbitrary bytes,
// with a handler that accepts every publish and play at once.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "media/rtmp/session.hpp"

namespace {
struct accept_all : onair::media::rtmp::session::handler {
  onair::media::rtmp::session* s = nullptr;
  std::size_t media = 0;
  void on_publish(const onair::media::rtmp::publish_info& i) override {
    if (i.stream_key.size() % 2)
      s->reject_publish("odd");
    else
      (void)s->accept_publish();
  }
  void on_play(const onair::media::rtmp::play_info&) override { s->accept_play(); }
  void on_media(const onair::media::frame& f) override { media += f.bytes().size(); }
  void on_unpublish() override {}
};
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace onair::media::rtmp;
  accept_all h;
  session_options o;
  o.limits.max_message_size = 1 << 20;
  session s{h, o};
  h.s = &s;
  std::span<const std::uint8_t> in{data, size};
  std::vector<std::uint8_t> pending;
  const std::size_t piece = 997;
  for (std::size_t pos = 0; pos < in.size(); pos += piece) {
    const auto part = in.subspan(pos, std::min(piece, in.size() - pos));
    pending.insert(pending.end(), part.begin(), part.end());
    for (;;) {
      auto r = s.consume(pending);
      s.output().clear();
      if (!r.error.empty() || s.closing())
        return 0;
      pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(r.used));
      if (r.used == 0 || pending.empty())
        break;
    }
  }
  return 0;
}
