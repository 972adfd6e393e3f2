// The sans-IO session against bytes captured from a real `ffmpeg -f flv rtmp://…` publish, and
// against a constructed client for the OBS-style "key?mode=" form and refusals.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "media/rtmp/session.hpp"

using namespace onair::media;
using bytes = std::vector<std::uint8_t>;

namespace {

struct recorder : rtmp::session::handler {
  rtmp::session* s = nullptr;
  enum class answer { accept, reject, later } mode = answer::accept;
  std::vector<rtmp::publish_info> publishes;
  std::vector<bool> accepted; // what accept_publish() said
  std::vector<rtmp::play_info> plays;
  std::vector<frame> media;
  int unpublished = 0;
  void on_publish(const rtmp::publish_info& i) override {
    publishes.push_back(i);
    if (mode == answer::accept)
      accepted.push_back(s->accept_publish());
    else if (mode == answer::reject)
      s->reject_publish("unknown key");
  }
  void on_play(const rtmp::play_info& i) override {
    plays.push_back(i);
    if (mode == answer::accept)
      s->accept_play();
    else if (mode == answer::reject)
      s->reject_play("no such stream");
  }
  void on_media(const frame& f) override { media.push_back(f); }
  void on_unpublish() override { ++unpublished; }
};

// A session and the recorder that answers it (`auto& [h, s] = peer;` names the two).
struct rtmp_peer {
  recorder h;
  rtmp::session s{h};
  explicit rtmp_peer(recorder::answer mode = recorder::answer::accept) {
    h.mode = mode;
    h.s = &s;
  }
};

bytes read_file(const std::filesystem::path& p) {
  std::ifstream in{p, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

bool contains(const bytes& hay, const std::string& needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

// Feeds in socket-sized pieces, collecting the output; returns the first error.
std::string feed(rtmp::session& s, const bytes& in, bytes& out, std::size_t piece = 1000) {
  bytes pending;
  for (std::size_t pos = 0; pos < in.size(); pos += piece) {
    pending.insert(pending.end(), in.begin() + static_cast<long>(pos), in.begin() + static_cast<long>(std::min(in.size(), pos + piece)));
    for (;;) {
      auto r = s.consume(pending);
      out.insert(out.end(), s.output().begin(), s.output().end());
      s.output().clear();
      if (!r.error.empty())
        return r.error;
      pending.erase(pending.begin(), pending.begin() + static_cast<long>(r.used));
      if (r.used == 0 || pending.empty() || s.closing())
        break;
    }
    if (s.closing())
      break;
  }
  return {};
}

bytes client_prefix() {
  bytes b{3};
  const bytes c1 = rtmp::make_digest_c1();
  b.insert(b.end(), c1.begin(), c1.end());
  b.insert(b.end(), rtmp::handshake_size, 0); // C2
  return b;
}

void command(bytes& out, std::uint32_t stream, std::vector<rtmp::amf0::value> vs) {
  bytes body;
  rtmp::amf0::encode_all(body, vs);
  rtmp::write_message(out, 3, rtmp::msg_type::command_amf0, stream, 0, body, 128);
}

bytes connect_and_create(const std::string& tc_url) {
  using namespace rtmp::amf0;
  bytes b = client_prefix();
  command(b, 0, {make_string("connect"), make_number(1),
                 make_object({{"app", make_string("live")}, {"tcUrl", make_string(tc_url)}})});
  command(b, 0, {make_string("releaseStream"), make_number(2), make_null(), make_string("k")});
  command(b, 0, {make_string("FCPublish"), make_number(3), make_null(), make_string("k")});
  command(b, 0, {make_string("createStream"), make_number(4), make_null()});
  return b;
}

// Connected, a stream created, and `publish` of key "k" sent.
bytes publishing_session_input() {
  using namespace rtmp::amf0;
  bytes in = connect_and_create("rtmp://h/live");
  command(in, 1, {make_string("publish"), make_number(5), make_null(), make_string("k"), make_string("live")});
  return in;
}
} // namespace

BOOST_AUTO_TEST_SUITE(session)

BOOST_AUTO_TEST_CASE(captured_ffmpeg_publish) {
  const auto capture = read_file(std::filesystem::path{__FILE__}.parent_path() / "../fuzz/corpus/rtmp_session/ffmpeg_publish");
  BOOST_REQUIRE(capture.size() > 10000u);
  rtmp_peer p;
  auto& [h, s] = p;
  bytes out;
  BOOST_REQUIRE_EQUAL(feed(s, capture, out), "");
  BOOST_TEST(s.handshake_done());
  BOOST_REQUIRE(h.publishes.size() == 1u);
  BOOST_TEST(h.publishes[0].app == "live");
  BOOST_TEST(h.publishes[0].stream_key == "key2");
  BOOST_TEST(out.size() > 1 + 2 * rtmp::handshake_size);
  BOOST_TEST(contains(out, "NetConnection.Connect.Success"));
  BOOST_TEST(contains(out, "NetStream.Publish.Start"));
  BOOST_TEST(contains(out, "onFCPublish"));
  BOOST_REQUIRE(h.media.size() > 5u);
  BOOST_TEST((h.media[0].kind == frame_kind::script)); // onMetaData, @setDataFrame stripped
  bool video_header = false, key = false;
  for (const auto& f : h.media) {
    video_header |= f.kind == frame_kind::video && f.sequence_header;
    key |= f.keyframe;
  }
  BOOST_TEST(video_header);
  BOOST_TEST(key);
  BOOST_TEST(s.totals().video_codec == "h264");
  BOOST_TEST(s.totals().audio_codec == "aac");
  BOOST_TEST(s.totals().width == 160);
  BOOST_TEST(s.totals().height == 90);
  // Byte-at-a-time delivery gives the same result.
  rtmp_peer p1;
  auto& [h1, s1] = p1;
  bytes out1;
  BOOST_REQUIRE_EQUAL(feed(s1, capture, out1, 1), "");
  BOOST_TEST(h1.media.size() == h.media.size());
}

BOOST_AUTO_TEST_CASE(obs_style_mode_in_the_key_and_tcurl_mode) {
  using namespace rtmp::amf0;
  for (const auto& [tc, key, want_key, want_mode] :
       {std::tuple{"rtmp://h/live", "abc?mode=CMAF", "abc", "CMAF"},
        std::tuple{"rtmp://h/live?mode=RTMP_CMAF", "abc", "abc", "RTMP_CMAF"}}) {
    rtmp_peer p{recorder::answer::later};
    auto& [h, s] = p;
    bytes in = connect_and_create(tc);
    command(in, 1, {make_string("publish"), make_number(5), make_null(), make_string(key), make_string("live")});
    bytes out;
    BOOST_REQUIRE_EQUAL(feed(s, in, out), "");
    BOOST_REQUIRE(h.publishes.size() == 1u);
    BOOST_TEST(h.publishes[0].stream_key == want_key);
    BOOST_TEST(h.publishes[0].mode == want_mode);
    BOOST_TEST(!contains(out, "Start publishing")); // the onStatus waits for the decision
    BOOST_TEST(s.accept_publish());
    BOOST_TEST(contains(s.output(), "Start publishing"));
  }
}

BOOST_AUTO_TEST_CASE(enhanced_rtmp_hevc_is_accepted_and_relayed) {
  using namespace rtmp::amf0;
  rtmp_peer p;
  auto& [h, s] = p;
  bytes in = publishing_session_input();
  // ex-header: [1|frame type 1|packet type] 'hvc1' …: SequenceStart, CodedFrames (key), CodedFramesX (inter)
  rtmp::write_message(in, 6, 9, 1, 0, bytes{0x90, 'h', 'v', 'c', '1', 1, 2, 3, 4}, 128);
  rtmp::write_message(in, 6, 9, 1, 0, bytes{0x91, 'h', 'v', 'c', '1', 0, 0, 0, 0, 0, 0, 1, 0x26}, 128);
  rtmp::write_message(in, 6, 9, 1, 40, bytes{0xA3, 'h', 'v', 'c', '1', 0, 0, 0, 1, 0x02}, 128);
  bytes out;
  BOOST_REQUIRE_EQUAL(feed(s, in, out), "");
  BOOST_REQUIRE(h.media.size() == 3u);
  BOOST_TEST(h.media[0].sequence_header);
  BOOST_TEST(h.media[1].keyframe);
  BOOST_TEST(!h.media[2].keyframe);
  BOOST_TEST(h.media[2].timestamp_ms == 40u);
  BOOST_TEST(h.media[1].bytes().size() == 13u); // relayed unchanged
  BOOST_TEST(s.totals().video_codec == "hevc");
}

BOOST_AUTO_TEST_CASE(a_peer_gets_a_publisher_s_message_size_only_once_its_publish_is_accepted) {
  using namespace rtmp::amf0;
  const bytes big(300 * 1024, 0x27); // an inter frame past the opening limit (256 KiB)
  for (const auto when : {"before publish", "while the publish waits for its key"}) {
    BOOST_TEST_CONTEXT(when) {
      // A large message is refused, whatever its type
      rtmp_peer p{recorder::answer::later};
      auto& [h, s] = p;
      bytes in = connect_and_create("rtmp://h/live");
      if (std::string_view{when} != "before publish")
        command(in, 1, {make_string("publish"), make_number(5), make_null(), make_string("k"), make_string("live")});
      rtmp::write_message(in, 6, 9, 1, 0, big, 128);
      bytes out;
      const auto error = feed(s, in, out);
      BOOST_TEST(error.find("exceeds the limit") != std::string::npos, error);
    }
  }
  {
    // Once accepted (here at once, in the same bytes): the same message is media
    rtmp_peer p;
    auto& [h, s] = p;
    bytes in = publishing_session_input();
    rtmp::write_message(in, 6, 9, 1, 0, big, 128);
    bytes out;
    BOOST_REQUIRE_EQUAL(feed(s, in, out), "");
    BOOST_REQUIRE(h.media.size() == 1u);
    BOOST_TEST(h.media[0].bytes().size() == big.size());
  }
}

BOOST_AUTO_TEST_CASE(enhanced_rtmp_v2_audio_side_data_tracks_and_commands) {
  using namespace rtmp::amf0;
  rtmp_peer p;
  auto& [h, s] = p;
  bytes in = publishing_session_input();
  // Opus as ffmpeg 7.1 sends it: [9|SequenceStart] 'Opus' OpusHead, then a coded frame
  rtmp::write_message(in, 4, 8, 1, 0, bytes{0x90, 'O', 'p', 'u', 's', 'O', 'p', 'u', 's', 'H', 'e', 'a', 'd'}, 128);
  rtmp::write_message(in, 4, 8, 1, 20, bytes{0x91, 'O', 'p', 'u', 's', 0xFC}, 128);
  // HEVC with HDR colorInfo (video Metadata), and a second track's sequence start (multitrack)
  rtmp::write_message(in, 6, 9, 1, 0, bytes{0x90, 'h', 'v', 'c', '1', 1, 2, 3, 4}, 128);
  rtmp::write_message(in, 6, 9, 1, 0, bytes{0x94, 'h', 'v', 'c', '1', 0x02, 0, 9, 'c', 'o', 'l', 'o', 'r', 'I', 'n', 'f', 'o'}, 128);
  rtmp::write_message(in, 6, 9, 1, 0, bytes{0x96, 0x00, 'h', 'v', 'c', '1', 1, 9, 9}, 128);
  // A video command frame (legacy, two bytes) and a cue point this server does not decode
  // (an AMF3 switch marker): neither is media, neither ends the publish
  rtmp::write_message(in, 6, 9, 1, 0, bytes{0x57, 0x00}, 128);
  bytes cue;
  encode(cue, make_string("onCuePoint"));
  cue.push_back(0x11);
  rtmp::write_message(in, 5, rtmp::msg_type::data_amf0, 1, 0, cue, 128);
  rtmp::write_message(in, 6, 9, 1, 40, bytes{0x91, 'h', 'v', 'c', '1', 0, 0, 0, 0, 0, 0, 1, 0x26}, 128);
  bytes out;
  BOOST_REQUIRE_EQUAL(feed(s, in, out), "");
  BOOST_REQUIRE(h.media.size() == 6u);
  BOOST_TEST(h.media[0].sequence_header);
  BOOST_TEST(!h.media[1].sequence_header);
  BOOST_TEST(h.media[2].sequence_header);
  BOOST_TEST(h.media[3].codec_metadata);
  BOOST_TEST(!h.media[4].sequence_header); // track 1's: relayed, not the stream's header
  BOOST_TEST(h.media[5].keyframe);
  BOOST_TEST(s.totals().audio_codec == "opus");
  BOOST_TEST(s.totals().video_codec == "hevc");
  BOOST_TEST(s.totals().video_frames == 1u);
}

namespace {
// One sub-message of an aggregate: FLV-style tag header, body, back pointer.
void sub_message(bytes& out, std::uint8_t type, std::uint32_t ts, const bytes& body) {
  const auto size = static_cast<std::uint32_t>(body.size());
  out.insert(out.end(), {type, static_cast<std::uint8_t>(size >> 16), static_cast<std::uint8_t>(size >> 8),
                         static_cast<std::uint8_t>(size), static_cast<std::uint8_t>(ts >> 16),
                         static_cast<std::uint8_t>(ts >> 8), static_cast<std::uint8_t>(ts),
                         static_cast<std::uint8_t>(ts >> 24), 0, 0, 0});
  out.insert(out.end(), body.begin(), body.end());
  const std::uint32_t back = 11 + size;
  out.insert(out.end(), {static_cast<std::uint8_t>(back >> 24), static_cast<std::uint8_t>(back >> 16),
                         static_cast<std::uint8_t>(back >> 8), static_cast<std::uint8_t>(back)});
}

} // namespace

BOOST_AUTO_TEST_CASE(given_an_aggregate_message_when_published_then_each_sub_message_is_relayed_on_its_time) {
  rtmp_peer p;
  auto& [h, s] = p;
  bytes in = publishing_session_input();
  // Sub-message times are the sender's own (here from 5000); the aggregate's timestamp (1000) is
  // the first one's, and the others keep their distance from it.
  bytes agg;
  sub_message(agg, 9, 5000, {0x17, 1, 0, 0, 0, 1, 2, 3});   // AVC key frame (NALU)
  sub_message(agg, 8, 5010, {0xAF, 1, 0x21, 0x22});          // AAC raw
  sub_message(agg, 9, 5040, {0x27, 1, 0, 0, 0, 4, 5});       // AVC inter frame
  rtmp::write_message(in, 6, rtmp::msg_type::aggregate, 1, 1000, agg, 128);
  bytes out;

  BOOST_REQUIRE_EQUAL(feed(s, in, out), "");

  BOOST_REQUIRE(h.media.size() == 3u);
  BOOST_TEST((h.media[0].kind == frame_kind::video));
  BOOST_TEST(h.media[0].keyframe);
  BOOST_TEST(h.media[0].timestamp_ms == 1000u);
  BOOST_TEST((h.media[1].kind == frame_kind::audio));
  BOOST_TEST(h.media[1].timestamp_ms == 1010u);
  BOOST_TEST(!h.media[2].keyframe);
  BOOST_TEST(h.media[2].timestamp_ms == 1040u);
  BOOST_TEST(h.media[2].bytes().size() == 7u);
  BOOST_TEST(s.totals().video_frames == 2u);
}

BOOST_AUTO_TEST_CASE(given_a_malformed_aggregate_message_when_published_then_the_session_fails_with_a_reason) {
  struct bad_case {
    bytes agg;
    std::string why;
  };
  bytes overrun;
  sub_message(overrun, 9, 0, {0x17, 0, 0, 0, 0, 1});
  overrun[3] = 200; // claims 200 bytes
  bytes foreign;
  sub_message(foreign, 20, 0, {2, 0, 1, 'x'}); // a command inside an aggregate
  const std::vector<bad_case> cases{{bytes{9, 0, 0}, "truncated"}, {overrun, "overruns"}, {foreign, "type 20"}};
  for (const auto& c : cases) {
    rtmp_peer p;
    auto& [h, s] = p;
    bytes in = publishing_session_input();
    rtmp::write_message(in, 6, rtmp::msg_type::aggregate, 1, 0, c.agg, 128);
    bytes out;
    const auto err = feed(s, in, out);
    BOOST_TEST(err.find(c.why) != std::string::npos, "error for " << c.why << ": " << err);
    BOOST_TEST(h.media.empty());
  }
}

BOOST_AUTO_TEST_CASE(refused_publish_gets_badname_and_closes) {
  using namespace rtmp::amf0;
  rtmp_peer p{recorder::answer::reject};
  auto& [h, s] = p;
  bytes in = connect_and_create("rtmp://h/live");
  command(in, 1, {make_string("publish"), make_number(5), make_null(), make_string("bad"), make_string("live")});
  bytes media;
  rtmp::write_message(media, 6, 9, 1, 0, bytes{0x17, 1, 0, 0, 0, 1, 2}, 128);
  in.insert(in.end(), media.begin(), media.end());
  bytes out;
  BOOST_REQUIRE_EQUAL(feed(s, in, out), "");
  BOOST_TEST(contains(out, "NetStream.Publish.BadName"));
  BOOST_TEST(s.closing());
  BOOST_TEST(h.media.empty());
}

BOOST_AUTO_TEST_CASE(an_encoder_that_unpublishes_can_publish_again_on_the_same_connection) {
  using namespace rtmp::amf0;
  // Given a publishing session that relayed a frame
  rtmp_peer p;
  auto& [h, s] = p;
  bytes in = publishing_session_input();
  rtmp::write_message(in, 6, 9, 1, 0, bytes{0x17, 1, 0, 0, 0, 1, 2}, 128);
  // When the encoder stops (FCUnpublish, deleteStream) and starts again without reconnecting
  command(in, 0, {make_string("FCUnpublish"), make_number(6), make_null(), make_string("k")});
  command(in, 0, {make_string("deleteStream"), make_number(7), make_null(), make_number(1)});
  rtmp::write_message(in, 6, 9, 1, 40, bytes{0x27, 1, 0, 0, 0, 3, 4}, 128); // after the stop: not relayed
  command(in, 0, {make_string("createStream"), make_number(8), make_null()});
  command(in, 1, {make_string("publish"), make_number(9), make_null(), make_string("k2"), make_string("live")});
  rtmp::write_message(in, 6, 9, 1, 80, bytes{0x17, 1, 0, 0, 0, 5, 6}, 128);
  bytes out;
  BOOST_REQUIRE_EQUAL(feed(s, in, out), "");
  // Then the first publish ends, the second is decided and accepted, and only the frames of
  // each publish are relayed
  BOOST_TEST(h.unpublished == 1);
  BOOST_REQUIRE(h.publishes.size() == 2u);
  BOOST_TEST(h.publishes[1].stream_key == "k2");
  BOOST_TEST((h.accepted == std::vector<bool>{true, true}));
  BOOST_REQUIRE(h.media.size() == 2u);
  BOOST_TEST(h.media[0].timestamp_ms == 0u);
  BOOST_TEST(h.media[1].timestamp_ms == 80u);
  BOOST_TEST(!s.closing());
}

BOOST_AUTO_TEST_CASE(an_encoder_that_unpublishes_while_its_key_is_decided_is_not_started) {
  using namespace rtmp::amf0;
  // Given a publish whose decision is pending
  rtmp_peer p{recorder::answer::later};
  auto& [h, s] = p;
  bytes in = publishing_session_input();
  // When the encoder stops before the answer
  command(in, 0, {make_string("FCUnpublish"), make_number(6), make_null(), make_string("k")});
  bytes out;
  BOOST_REQUIRE_EQUAL(feed(s, in, out), "");
  BOOST_REQUIRE(h.publishes.size() == 1u);
  // Then the accept that comes next says it is over: nothing starts, nothing is relayed
  BOOST_TEST(!s.accept_publish());
  BOOST_TEST(!contains(s.output(), "Start publishing"));
  BOOST_TEST(!s.media_flowing());
  bytes more;
  rtmp::write_message(more, 6, 9, 1, 0, bytes{0x17, 1, 0, 0, 0, 1, 2}, 128);
  BOOST_REQUIRE_EQUAL(feed(s, more, out), "");
  BOOST_TEST(h.media.empty());
  BOOST_TEST(h.unpublished == 0); // it never started
}

BOOST_AUTO_TEST_CASE(play_replies_and_ping) {
  using namespace rtmp::amf0;
  rtmp_peer p;
  auto& [h, s] = p;
  bytes in = client_prefix();
  command(in, 0, {make_string("connect"), make_number(1), make_object({{"app", make_string("play")}})});
  command(in, 0, {make_string("createStream"), make_number(2), make_null()});
  command(in, 1, {make_string("getStreamLength"), make_number(3), make_null(), make_string("pid")});
  command(in, 1, {make_string("play"), make_number(4), make_null(), make_string("pid?token=x")});
  rtmp::write_message(in, 2, rtmp::msg_type::user_control, 0, 0, bytes{0, 6, 0, 0, 1, 2}, 128);
  bytes out;
  BOOST_REQUIRE_EQUAL(feed(s, in, out), "");
  BOOST_REQUIRE(h.plays.size() == 1u);
  BOOST_TEST(h.plays[0].app == "play");
  BOOST_TEST(h.plays[0].name == "pid");
  BOOST_TEST(contains(out, "NetStream.Play.Reset"));
  BOOST_TEST(contains(out, "NetStream.Play.Start"));
  BOOST_TEST(contains(out, "|RtmpSampleAccess"));
  // Our replies parse with our own reader (after S0S1S2): the ping response is among them.
  rtmp::chunk_reader r;
  auto res = r.consume(std::span{out}.subspan(1 + 2 * rtmp::handshake_size));
  BOOST_TEST(res.error.empty());
  bool pong = false;
  for (const auto& m : res.messages)
    pong |= m.type_id == rtmp::msg_type::user_control && m.bytes().size() == 6 && m.bytes()[1] == 7;
  BOOST_TEST(pong);
}

BOOST_AUTO_TEST_CASE(commands_before_connect_and_bad_amf0_are_errors) {
  using namespace rtmp::amf0;
  {
    rtmp_peer p;
    auto& [h, s] = p;
    bytes in = client_prefix();
    command(in, 0, {make_string("publish"), make_number(1), make_null(), make_string("k")});
    bytes out;
    BOOST_TEST(!feed(s, in, out).empty());
  }
  {
    rtmp_peer p;
    auto& [h, s] = p;
    bytes in = client_prefix();
    rtmp::write_message(in, 3, rtmp::msg_type::command_amf0, 0, 0, bytes{0x02, 0x00, 0x09, 'c'}, 128);
    bytes out;
    BOOST_TEST(!feed(s, in, out).empty());
  }
}

BOOST_AUTO_TEST_SUITE_END()
