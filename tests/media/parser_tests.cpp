// The sans-IO parsers against constructed bytes: RTMP handshake, chunk stream, AMF0, FLV tags.
#include <boost/test/unit_test.hpp>

#include <cstring>

#include "media/flv/tag.hpp"
#include "media/frame.hpp"
#include "media/rtmp/amf0.hpp"
#include "media/rtmp/chunk.hpp"
#include "media/rtmp/handshake.hpp"

using namespace onair::media;
using bytes = std::vector<std::uint8_t>;

namespace {
bytes payload_of(std::size_t n, std::uint8_t seed = 1) {
  bytes b(n);
  for (std::size_t i = 0; i < n; ++i)
    b[i] = static_cast<std::uint8_t>(seed + i * 7);
  return b;
}
// Feeds everything, keeping unconsumed bytes as a socket buffer would.
rtmp::chunk_reader::result feed(rtmp::chunk_reader& r, const bytes& in, std::size_t step = 1 << 20) {
  rtmp::chunk_reader::result all;
  bytes pending;
  for (std::size_t pos = 0; pos < in.size(); pos += step) {
    pending.insert(pending.end(), in.begin() + static_cast<long>(pos), in.begin() + static_cast<long>(std::min(in.size(), pos + step)));
    for (;;) {
      auto res = r.consume(pending);
      pending.erase(pending.begin(), pending.begin() + static_cast<long>(res.used));
      for (auto& m : res.messages)
        all.messages.push_back(std::move(m));
      if (!res.error.empty()) {
        all.error = res.error;
        return all;
      }
      if (res.used == 0 || pending.empty())
        break;
    }
  }
  return all;
}
void put24(bytes& b, std::uint32_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 16));
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
} // namespace

BOOST_AUTO_TEST_SUITE(handshake)

BOOST_AUTO_TEST_CASE(simple_handshake_echoes_c1_in_s2) {
  rtmp::server_handshake hs;
  bytes c0c1(1 + rtmp::handshake_size, 0);
  c0c1[0] = 3;
  for (std::size_t i = 9; i < c0c1.size(); ++i)
    c0c1[i] = static_cast<std::uint8_t>(i);
  auto partial = hs.consume(std::span{c0c1}.first(100));
  BOOST_TEST(partial.used == 0u);
  auto r = hs.consume(c0c1);
  BOOST_TEST(r.error.empty());
  BOOST_TEST(r.used == c0c1.size());
  BOOST_REQUIRE(r.send.size() == 1 + 2 * rtmp::handshake_size);
  BOOST_TEST(r.send[0] == 3);
  BOOST_TEST(std::memcmp(r.send.data() + 1 + rtmp::handshake_size, c0c1.data() + 1, rtmp::handshake_size) == 0);
  BOOST_TEST(!hs.used_digest());
  bytes c2(rtmp::handshake_size, 0);
  BOOST_TEST(hs.consume(c2).used == rtmp::handshake_size);
  BOOST_TEST(hs.done());
}

BOOST_AUTO_TEST_CASE(digest_handshake_signs_s1_and_s2_as_clients_verify) {
  rtmp::server_handshake hs;
  bytes c0c1{3};
  const bytes c1 = rtmp::make_digest_c1();
  c0c1.insert(c0c1.end(), c1.begin(), c1.end());
  auto r = hs.consume(c0c1);
  BOOST_REQUIRE(r.error.empty());
  BOOST_TEST(hs.used_digest());
  const std::span<const std::uint8_t> s1{r.send.data() + 1, rtmp::handshake_size};
  const std::span<const std::uint8_t> s2{r.send.data() + 1 + rtmp::handshake_size, rtmp::handshake_size};
  BOOST_TEST(rtmp::verify_digest(s1, 1, rtmp::fms_key().first(36)));
  // S2's last 32 bytes: HMAC(HMAC(FMS key, C1 digest), S2[0..1504]) - what ffmpeg checks
  const std::size_t off = rtmp::digest_offset(c1, 1);
  std::uint8_t key[32], sig[32];
  rtmp::hmac_sha256(rtmp::fms_key(), std::span{c1}.subspan(off, 32), {}, key);
  rtmp::hmac_sha256({key, 32}, s2.first(rtmp::handshake_size - 32), {}, sig);
  BOOST_TEST(std::memcmp(sig, s2.data() + rtmp::handshake_size - 32, 32) == 0);
}

BOOST_AUTO_TEST_CASE(wrong_version_fails) {
  rtmp::server_handshake hs;
  bytes c0{6};
  auto r = hs.consume(c0);
  BOOST_TEST(!r.error.empty());
  BOOST_TEST(!hs.consume(c0).error.empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(chunk)

BOOST_AUTO_TEST_CASE(type0_message_split_over_chunks_round_trips) {
  const bytes p = payload_of(300);
  bytes wire;
  rtmp::write_message(wire, 6, 9, 1, 1234, p, 128);
  BOOST_TEST(wire.size() == rtmp::written_size(6, 1234, 300, 128));
  for (std::size_t step : {std::size_t{1}, std::size_t{7}, wire.size()}) {
    rtmp::chunk_reader r;
    auto res = feed(r, wire, step);
    BOOST_REQUIRE(res.error.empty());
    BOOST_REQUIRE(res.messages.size() == 1u);
    BOOST_TEST(res.messages[0].timestamp == 1234u);
    BOOST_TEST(res.messages[0].type_id == 9);
    BOOST_TEST(res.messages[0].stream_id == 1u);
    BOOST_TEST(*res.messages[0].payload == p);
  }
}

BOOST_AUTO_TEST_CASE(all_four_header_types) {
  bytes w;
  // fmt 0: csid 4, ts 1000, len 3, type 8, stream 1
  w.push_back(0x04);
  put24(w, 1000);
  put24(w, 3);
  w.push_back(8);
  w.insert(w.end(), {1, 0, 0, 0});
  w.insert(w.end(), {0xA, 0xB, 0xC});
  // fmt 1: delta 20, len 2, type 9
  w.push_back(0x44);
  put24(w, 20);
  put24(w, 2);
  w.push_back(9);
  w.insert(w.end(), {1, 2});
  // fmt 2: delta 30 (len/type as before)
  w.push_back(0x84);
  put24(w, 30);
  w.insert(w.end(), {3, 4});
  // fmt 3: a new message repeating delta 30
  w.push_back(0xC4);
  w.insert(w.end(), {5, 6});
  rtmp::chunk_reader r;
  auto res = feed(r, w, 1);
  BOOST_REQUIRE(res.error.empty());
  BOOST_REQUIRE(res.messages.size() == 4u);
  BOOST_TEST(res.messages[0].timestamp == 1000u);
  BOOST_TEST(res.messages[1].timestamp == 1020u);
  BOOST_TEST(res.messages[1].type_id == 9);
  BOOST_TEST(res.messages[1].stream_id == 1u);
  BOOST_TEST(res.messages[2].timestamp == 1050u);
  BOOST_TEST(res.messages[3].timestamp == 1080u);
  BOOST_TEST((*res.messages[3].payload == bytes{5, 6}));
}

BOOST_AUTO_TEST_CASE(a_type3_new_message_right_after_type0_repeats_its_timestamp_as_delta) {
  // RTMP 1.0 5.3.1.2.4, and what ffmpeg writes: type 0 at T, then type 3 for a message at 2T
  for (const std::uint32_t t : {40u, 0x01000000u}) {
    BOOST_TEST_CONTEXT("T = " << t) {
      bytes w;
      rtmp::write_message(w, 4, 8, 1, t, bytes{1, 2}, 128);
      w.push_back(0xC4); // type 3, csid 4: a new message of the same length and type
      if (t >= 0xFFFFFF)
        w.insert(w.end(), {static_cast<std::uint8_t>(t >> 24), static_cast<std::uint8_t>(t >> 16),
                           static_cast<std::uint8_t>(t >> 8), static_cast<std::uint8_t>(t)});
      w.insert(w.end(), {3, 4});
      rtmp::chunk_reader r;
      auto res = feed(r, w, 1);
      BOOST_REQUIRE(res.error.empty());
      BOOST_REQUIRE(res.messages.size() == 2u);
      BOOST_TEST(res.messages[0].timestamp == t);
      BOOST_TEST(res.messages[1].timestamp == 2 * t);
    }
  }
}

BOOST_AUTO_TEST_CASE(any_valid_chunk_size_is_accepted) {
  // 1 to 0x7FFFFFFF are valid; past 0xFFFFFF all mean "one chunk per message"
  bytes wire;
  rtmp::write_message(wire, 2, rtmp::msg_type::set_chunk_size, 0, 0, bytes{0x7F, 0xFF, 0xFF, 0xFF}, 128);
  const bytes p = payload_of(70000);
  rtmp::write_message(wire, 6, 9, 1, 40, p, 0xFFFFFF);
  rtmp::chunk_reader r;
  auto res = feed(r, wire);
  BOOST_REQUIRE(res.error.empty());
  BOOST_REQUIRE(res.messages.size() == 1u);
  BOOST_TEST(*res.messages[0].payload == p);
  rtmp::chunk_reader zero;
  bytes bad;
  rtmp::write_message(bad, 2, rtmp::msg_type::set_chunk_size, 0, 0, bytes{0, 0, 0, 0}, 128);
  BOOST_TEST(!zero.consume(bad).error.empty());
}

BOOST_AUTO_TEST_CASE(extended_timestamp_repeats_on_type3_chunks) {
  const bytes p = payload_of(400);
  bytes wire;
  rtmp::write_message(wire, 5, 8, 1, 0x01234567, p, 128);
  rtmp::chunk_reader r;
  auto res = feed(r, wire, 3);
  BOOST_REQUIRE(res.error.empty());
  BOOST_REQUIRE(res.messages.size() == 1u);
  BOOST_TEST(res.messages[0].timestamp == 0x01234567u);
  BOOST_TEST(*res.messages[0].payload == p);
}

BOOST_AUTO_TEST_CASE(set_chunk_size_applies_to_the_next_chunk) {
  bytes wire;
  const bytes size{0, 0, 0x10, 0}; // 4096
  rtmp::write_message(wire, 2, rtmp::msg_type::set_chunk_size, 0, 0, size, 128);
  const bytes p = payload_of(3000);
  rtmp::write_message(wire, 6, 9, 1, 40, p, 4096); // one chunk at the new size
  rtmp::chunk_reader r;
  auto res = feed(r, wire);
  BOOST_REQUIRE(res.error.empty());
  BOOST_TEST(r.chunk_size() == 4096u);
  BOOST_REQUIRE(res.messages.size() == 1u);
  BOOST_TEST(*res.messages[0].payload == p);
}

BOOST_AUTO_TEST_CASE(abort_discards_a_partial_message) {
  bytes first;
  rtmp::write_message(first, 6, 9, 1, 0, payload_of(300), 128);
  bytes wire(first.begin(), first.begin() + 12 + 128); // header + first chunk only
  rtmp::write_message(wire, 2, rtmp::msg_type::abort, 0, 0, bytes{0, 0, 0, 6}, 128);
  const bytes p = payload_of(50, 9);
  rtmp::write_message(wire, 6, 9, 1, 80, p, 128);
  rtmp::chunk_reader r;
  auto res = feed(r, wire);
  BOOST_REQUIRE(res.error.empty());
  BOOST_REQUIRE(res.messages.size() == 1u);
  BOOST_TEST(*res.messages[0].payload == p);
  BOOST_TEST(res.messages[0].timestamp == 80u);
}

BOOST_AUTO_TEST_CASE(interleaved_chunk_streams) {
  bytes a, b;
  const bytes pa = payload_of(200, 1), pb = payload_of(200, 2);
  rtmp::write_message(a, 4, 8, 1, 10, pa, 128);
  rtmp::write_message(b, 6, 9, 1, 20, pb, 128);
  // a: 12 + 128 | 1 + 72 ; b likewise: interleave first chunks, then the rest
  bytes wire(a.begin(), a.begin() + 140);
  wire.insert(wire.end(), b.begin(), b.begin() + 140);
  wire.insert(wire.end(), a.begin() + 140, a.end());
  wire.insert(wire.end(), b.begin() + 140, b.end());
  rtmp::chunk_reader r;
  auto res = feed(r, wire, 5);
  BOOST_REQUIRE(res.error.empty());
  BOOST_REQUIRE(res.messages.size() == 2u);
  BOOST_TEST(*res.messages[0].payload == pa);
  BOOST_TEST(*res.messages[1].payload == pb);
}

BOOST_AUTO_TEST_CASE(large_csids_use_two_and_three_byte_basic_headers) {
  for (std::uint32_t csid : {64u, 319u, 320u, 65599u}) {
    bytes wire;
    const bytes p = payload_of(200);
    rtmp::write_message(wire, csid, 9, 1, 5, p, 128);
    rtmp::chunk_reader r;
    auto res = feed(r, wire, 2);
    BOOST_REQUIRE(res.error.empty());
    BOOST_REQUIRE(res.messages.size() == 1u);
    BOOST_TEST(res.messages[0].csid == csid);
    BOOST_TEST(*res.messages[0].payload == p);
  }
}

BOOST_AUTO_TEST_CASE(oversize_message_and_bad_headers_are_refused) {
  rtmp::chunk_limits lim;
  lim.max_message_size = 1000;
  bytes wire;
  rtmp::write_message(wire, 6, 9, 1, 0, payload_of(2000), 128);
  rtmp::chunk_reader r{lim};
  BOOST_TEST(!feed(r, wire).error.empty());

  rtmp::chunk_reader r2; // type 1 with no previous header on that csid
  bytes bad{0x45, 0, 0, 1, 0, 0, 1, 9};
  BOOST_TEST(!feed(r2, bad).error.empty());

  rtmp::chunk_reader r3; // chunk size 0
  bytes zero;
  rtmp::write_message(zero, 2, rtmp::msg_type::set_chunk_size, 0, 0, bytes{0, 0, 0, 0}, 128);
  BOOST_TEST(!feed(r3, zero).error.empty());
}

BOOST_AUTO_TEST_CASE(unfinished_messages_across_chunk_streams_are_capped) {
  rtmp::chunk_limits lim;
  lim.max_buffered = 300;
  bytes wire;
  for (std::uint32_t csid = 4; csid < 8; ++csid) {
    bytes m;
    rtmp::write_message(m, csid, 9, 1, 0, payload_of(1000), 128);
    wire.insert(wire.end(), m.begin(), m.begin() + 12 + 128); // first chunk of each only
  }
  rtmp::chunk_reader r{lim};
  BOOST_TEST(!feed(r, wire).error.empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(amf0_codec)

BOOST_AUTO_TEST_CASE(connect_command_round_trips) {
  using namespace rtmp::amf0;
  const std::vector<value> in{make_string("connect"), make_number(1),
                              make_object({{"app", make_string("live")},
                                           {"tcUrl", make_string("rtmp://127.0.0.1/live")},
                                           {"fpad", make_bool(false)},
                                           {"nested", make_ecma_array({{"w", make_number(640)}})}}),
                              make_null(), make_undefined()};
  bytes wire;
  encode_all(wire, in);
  auto out = decode_all(wire);
  BOOST_REQUIRE(out.ok());
  BOOST_REQUIRE(out.values.size() == 5u);
  BOOST_TEST(out.values[0].string == "connect");
  BOOST_TEST(out.values[1].number == 1.0);
  BOOST_TEST(out.values[2].get_string("app") == "live");
  BOOST_TEST(out.values[2].get("fpad")->boolean == false);
  BOOST_TEST(out.values[2].get("nested")->get_number("w") == 640.0);
  BOOST_TEST((out.values[3].kind == type::null));
  BOOST_TEST((out.values[4].kind == type::undefined));
  bytes again;
  encode_all(again, out.values);
  BOOST_TEST(again == wire);
}

BOOST_AUTO_TEST_CASE(reference_xml_and_typed_object_markers_decode) {
  using namespace rtmp::amf0;
  const bytes wire{0x10, 0x00, 0x02, 'C', 'p',                  // typed object "Cp"
                   0x00, 0x01, 'w', 0x00, 0x40, 0x84, 0, 0, 0, 0, 0, 0, // w: 640
                   0x00, 0x00, 0x09,                            // object end
                   0x0F, 0x00, 0x00, 0x00, 0x03, '<', 'a', '>', // XML document
                   0x07, 0x00, 0x00};                           // reference to value 0
  auto out = decode_all(wire);
  BOOST_REQUIRE(out.ok());
  BOOST_REQUIRE(out.values.size() == 3u);
  BOOST_TEST(out.values[0].get_number("w") == 640.0);
  BOOST_TEST(out.values[1].string == "<a>");
  BOOST_TEST((out.values[2].kind == type::undefined));
  BOOST_TEST(!decode_all(bytes{0x07, 0x00}).ok()); // truncated reference
}

BOOST_AUTO_TEST_CASE(malformed_input_is_an_error_not_a_crash) {
  using namespace rtmp::amf0;
  BOOST_TEST(!decode_all(bytes{0x02, 0x00, 0x05, 'a'}).ok());  // truncated string
  BOOST_TEST(!decode_all(bytes{0x00, 1, 2}).ok());              // truncated number
  BOOST_TEST(!decode_all(bytes{0x11}).ok());                     // AMF3 switch / unknown marker
  BOOST_TEST(!decode_all(bytes{0x0A, 0xFF, 0xFF, 0xFF, 0xFF}).ok()); // huge strict array
  bytes deep;
  for (int i = 0; i < 100; ++i)
    deep.insert(deep.end(), {0x03, 0x00, 0x01, 'k'});
  BOOST_TEST(!decode_all(deep).ok()); // nesting limit
  bytes unterminated{0x03, 0x00, 0x01, 'k', 0x05};
  BOOST_TEST(!decode_all(unterminated).ok());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(flv_tags)

BOOST_AUTO_TEST_CASE(reader_parses_header_and_tags_across_pieces) {
  bytes wire;
  flv::write_file_header(wire, true, true);
  const bytes a = payload_of(10), v = payload_of(500);
  flv::write_tag(wire, flv::tag_type::audio, 0x01000010, a);
  flv::write_tag(wire, flv::tag_type::video, 40, v);
  flv::reader r;
  bytes pending;
  std::vector<flv::tag> tags;
  for (std::size_t pos = 0; pos < wire.size(); pos += 13) {
    pending.insert(pending.end(), wire.begin() + static_cast<long>(pos), wire.begin() + static_cast<long>(std::min(wire.size(), pos + 13)));
    auto res = r.consume(pending);
    BOOST_REQUIRE(res.error.empty());
    pending.erase(pending.begin(), pending.begin() + static_cast<long>(res.used));
    for (auto& t : res.tags)
      tags.push_back(std::move(t));
  }
  BOOST_REQUIRE(tags.size() == 2u);
  BOOST_TEST(tags[0].timestamp == 0x01000010u);
  BOOST_TEST(*tags[0].payload == a);
  BOOST_TEST(tags[1].type == flv::tag_type::video);
  BOOST_TEST(*tags[1].payload == v);
}

BOOST_AUTO_TEST_CASE(reader_refuses_garbage) {
  flv::reader r;
  bytes bad{'F', 'L', 'X', 1, 5, 0, 0, 0, 9, 0, 0, 0, 0};
  BOOST_TEST(!r.consume(bad).error.empty());
  flv::reader r2{100};
  bytes big;
  flv::write_file_header(big, false, true);
  flv::write_tag(big, flv::tag_type::video, 0, payload_of(200));
  BOOST_TEST(!r2.consume(big).error.empty());
}

BOOST_AUTO_TEST_CASE(avc_and_aac_bodies) {
  const bytes sps{0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40, 0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00,
                  0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x32, 0x0f, 0x16, 0x2d, 0x96};
  bytes seq{0x17, 0x00, 0, 0, 0, 1, 0x64, 0x00, 0x1e, 0xFF, 0xE1, 0, static_cast<std::uint8_t>(sps.size())};
  seq.insert(seq.end(), sps.begin(), sps.end());
  auto v = flv::parse_video(seq);
  BOOST_REQUIRE(v.has_value());
  BOOST_TEST(v->codec == "h264");
  BOOST_TEST(v->sequence_header);
  BOOST_TEST(!v->keyframe);
  auto d = flv::avc_dimensions(v->config);
  BOOST_REQUIRE(d.has_value());
  BOOST_TEST(d->width == 640);
  BOOST_TEST(d->height == 360);

  auto key = flv::parse_video(bytes{0x17, 0x01, 0x00, 0x00, 0x50, 0, 0, 0, 1, 0x65});
  BOOST_REQUIRE(key.has_value());
  BOOST_TEST(key->keyframe);
  BOOST_TEST(key->composition_offset == 0x50);
  auto inter = flv::parse_video(bytes{0x27, 0x01, 0xFF, 0xFF, 0xF6, 0, 0, 0, 1, 0x41});
  BOOST_REQUIRE(inter.has_value());
  BOOST_TEST(!inter->keyframe);
  BOOST_TEST(inter->composition_offset == -10);
  BOOST_TEST(!flv::parse_video(bytes{0x17, 0x01}).has_value());

  auto aac = flv::parse_audio(bytes{0xAF, 0x00, 0x12, 0x10});
  BOOST_REQUIRE(aac.has_value());
  BOOST_TEST(aac->codec == "aac");
  BOOST_TEST(aac->sequence_header);
  BOOST_TEST(aac->sample_rate == 44100);
  BOOST_TEST(aac->channels == 2);
}

BOOST_AUTO_TEST_CASE(enhanced_rtmp_fourcc_headers) {
  auto hevc_seq = flv::parse_video(bytes{0x90, 'h', 'v', 'c', '1', 1, 2, 3});
  BOOST_REQUIRE(hevc_seq.has_value());
  BOOST_TEST(hevc_seq->enhanced);
  BOOST_TEST(hevc_seq->codec == "hevc");
  BOOST_TEST(hevc_seq->sequence_header);
  auto hevc_key = flv::parse_video(bytes{0x91, 'h', 'v', 'c', '1', 0, 0, 0, 9});
  BOOST_REQUIRE(hevc_key.has_value());
  BOOST_TEST(hevc_key->keyframe);
  auto av1 = flv::parse_video(bytes{0xA1, 'a', 'v', '0', '1', 9});
  BOOST_REQUIRE(av1.has_value());
  BOOST_TEST(av1->codec == "av1");
  BOOST_TEST(!av1->keyframe);
  BOOST_TEST(!flv::parse_video(bytes{0x90, 'h', 'v'}).has_value());
}

BOOST_AUTO_TEST_CASE(the_codec_bytes_are_located_past_every_header_once_at_ingest) {
  const auto bytes_of = [](std::span<const std::uint8_t> s) { return bytes(s.begin(), s.end()); };
  // Legacy AVC: frame type/codec, packet type, 24-bit composition offset
  const bytes avc{0x17, 1, 0, 0, 40, 0, 0, 0, 2, 0x65, 0x88};
  auto v = flv::parse_video(avc);
  BOOST_REQUIRE(v.has_value());
  BOOST_TEST(bytes_of(v->data) == (bytes{0, 0, 0, 2, 0x65, 0x88}), boost::test_tools::per_element());
  BOOST_TEST(v->composition_offset == 40);
  // Enhanced HEVC coded frames: the composition offset is not part of the codec's bytes
  const bytes h_tag{0x91, 'h', 'v', 'c', '1', 0, 0, 33, 7, 8};
  auto h = flv::parse_video(h_tag);
  BOOST_REQUIRE(h.has_value());
  BOOST_TEST(bytes_of(h->data) == (bytes{7, 8}), boost::test_tools::per_element());
  BOOST_TEST(h->composition_offset == 33);
  // Enhanced CodedFramesX (no offset) and a sequence start: the record itself
  const bytes x_tag{0x93, 'h', 'v', 'c', '1', 5, 6};
  auto x = flv::parse_video(x_tag);
  BOOST_REQUIRE(x.has_value());
  BOOST_TEST(bytes_of(x->data) == (bytes{5, 6}), boost::test_tools::per_element());
  const bytes seq_tag{0x90, 'a', 'v', '0', '1', 0x81, 1, 2};
  auto seq = flv::parse_video(seq_tag);
  BOOST_REQUIRE(seq.has_value());
  BOOST_TEST(bytes_of(seq->data) == (bytes{0x81, 1, 2}), boost::test_tools::per_element());
  // AAC: past the two header bytes, config and raw frames alike; enhanced Opus past its FourCC
  const bytes aac_tag{0xAF, 1, 0x21, 0x10};
  auto aac = flv::parse_audio(aac_tag);
  BOOST_REQUIRE(aac.has_value());
  BOOST_TEST(bytes_of(aac->data) == (bytes{0x21, 0x10}), boost::test_tools::per_element());
  const bytes opus_tag{0x91, 'O', 'p', 'u', 's', 0xFC, 1};
  auto opus = flv::parse_audio(opus_tag);
  BOOST_REQUIRE(opus.has_value());
  BOOST_TEST(bytes_of(opus->data) == (bytes{0xFC, 1}), boost::test_tools::per_element());
  // The names map onto the codecs consumers switch on
  BOOST_TEST((codec_from_name("hevc") == codec::hevc));
  BOOST_TEST((codec_from_name("speex") == codec::speex));
  BOOST_TEST((codec_from_name("vp6") == codec::other));
  BOOST_TEST(to_string(codec::opus) == "opus");
}

// The legacy FLV audio formats: their flags say rate, channels and sample size, except where the
// format fixes them (FLV 10.1, E.4.2.1), as a decoder needs them: none has a configuration record.
BOOST_AUTO_TEST_CASE(legacy_audio_formats_tell_the_rate_channels_and_sample_size_a_decoder_needs) {
  struct row {
    std::uint8_t flags;
    std::string codec;
    int rate, channels, bits;
  };
  const row rows[] = {
      {0x3F, "pcm", 44100, 2, 16},       // little-endian PCM, 44 kHz, 16-bit, stereo
      {0x04, "pcm", 11025, 1, 8},        // "platform endian" PCM, 11 kHz, 8-bit, mono
      {0x1B, "adpcm", 22050, 2, 16},
      {0x2E, "mp3", 44100, 1, 16},
      {0xEE, "mp3", 8000, 1, 16},        // MP3 8 kHz: whatever the rate flags
      {0x4F, "nellymoser", 16000, 1, 16}, // Nellymoser 16 kHz mono, flags say 44 kHz stereo
      {0x5F, "nellymoser", 8000, 1, 16},
      {0x6A, "nellymoser", 22050, 1, 16},
      {0x7E, "g711a", 8000, 1, 16},      // G.711: 8 kHz, the rate flags ignored
      {0x83, "g711u", 8000, 2, 16},
      {0xBE, "speex", 16000, 1, 16},     // Speex: 16 kHz mono
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT("flags 0x" << std::hex << int{r.flags}) {
      const bytes tag{r.flags, 1, 2, 3};
      const auto a = flv::parse_audio(tag);
      BOOST_REQUIRE(a.has_value());
      BOOST_TEST(a->codec == r.codec);
      BOOST_TEST(a->sample_rate == r.rate);
      BOOST_TEST(a->channels == r.channels);
      BOOST_TEST(a->bits == r.bits);
      BOOST_TEST(bytes(a->data.begin(), a->data.end()) == (bytes{1, 2, 3}), boost::test_tools::per_element());
      BOOST_TEST((codec_from_name(a->codec) != codec::other));
      BOOST_TEST(configured_by_frames(codec_from_name(a->codec)));
    }
  }
}

BOOST_AUTO_TEST_CASE(enhanced_rtmp_v2_packet_types) {
  // Metadata (colorInfo, as OBS sends it for HEVC/AV1): kept with the sequence header, not a frame
  auto meta = flv::parse_video(bytes{0x94, 'h', 'v', 'c', '1', 0x02, 0, 9, 'c', 'o', 'l', 'o', 'r', 'I', 'n', 'f', 'o'});
  BOOST_REQUIRE(meta.has_value());
  BOOST_TEST(meta->codec_metadata);
  BOOST_TEST(!meta->sequence_header);
  BOOST_TEST(!meta->keyframe);
  // MPEG2TSSequenceStart (AV1): a sequence header
  auto ts_start = flv::parse_video(bytes{0x95, 'a', 'v', '0', '1', 0x81});
  BOOST_REQUIRE(ts_start.has_value());
  BOOST_TEST(ts_start->sequence_header);
  BOOST_TEST(ts_start->codec == "av1");
  // Multitrack, one track (id 1) of HEVC coded frames: the FourCC after the multitrack byte
  auto track = flv::parse_video(bytes{0x96, 0x01, 'h', 'v', 'c', '1', 1, 0, 0, 0x21, 9});
  BOOST_REQUIRE(track.has_value());
  BOOST_TEST(track->codec == "hevc");
  BOOST_TEST(track->track == 1);
  BOOST_TEST(track->keyframe);
  BOOST_TEST(track->composition_offset == 0x21);
  // Multitrack, many tracks of one codec: each track's id then its 24-bit size
  auto many = flv::parse_video(bytes{0x96, 0x10, 'a', 'v', '0', '1', 0, 0, 0, 2, 0xAA, 0xBB});
  BOOST_REQUIRE(many.has_value());
  BOOST_TEST(many->sequence_header);
  BOOST_TEST(many->track == 0);
  BOOST_TEST(many->config.size() == 2u);
  // and a second track after the first: the config is the first track's alone
  const bytes two_tracks{0x96, 0x10, 'a', 'v', '0', '1', 0, 0, 0, 2, 0xAA, 0xBB, 1, 0, 0, 1, 0xCC};
  auto two = flv::parse_video(two_tracks); // config points into it
  BOOST_REQUIRE(two.has_value());
  BOOST_TEST((std::vector<std::uint8_t>(two->config.begin(), two->config.end()) == bytes{0xAA, 0xBB}));
  BOOST_TEST(!flv::parse_video(bytes{0x96, 0x10, 'a', 'v', '0', '1', 0, 0, 0, 9, 0xAA}).has_value()); // size past the end
  // ModEx (a nanosecond timestamp offset) before a coded frame
  auto modex = flv::parse_video(bytes{0x97, 2, 0x00, 0x01, 0x02, 0x01, 'a', 'v', '0', '1', 9});
  BOOST_REQUIRE(modex.has_value());
  BOOST_TEST(modex->codec == "av1");
  BOOST_TEST(modex->keyframe);
  BOOST_TEST(!flv::parse_video(bytes{0x97, 9, 0x00}).has_value()); // modifier data cut short
  // Command frames (legacy and enhanced): not media, and not malformed for being short
  for (const bytes& cmd : {bytes{0x57, 0x00}, bytes{0xD1, 0x00}}) {
    auto c = flv::parse_video(cmd);
    BOOST_REQUIRE(c.has_value());
    BOOST_TEST(c->command_frame);
  }
}

BOOST_AUTO_TEST_CASE(enhanced_rtmp_audio) {
  // What ffmpeg 7.1+ sends for Opus: [9|SequenceStart] 'Opus' OpusHead
  auto opus = flv::parse_audio(bytes{0x90, 'O', 'p', 'u', 's', 'O', 'p', 'u', 's', 'H', 'e', 'a', 'd'});
  BOOST_REQUIRE(opus.has_value());
  BOOST_TEST(opus->enhanced);
  BOOST_TEST(opus->codec == "opus");
  BOOST_TEST(opus->sequence_header);
  BOOST_TEST(opus->sample_rate == 0); // not the legacy bits
  auto frame = flv::parse_audio(bytes{0x91, 'f', 'L', 'a', 'C', 0xFF, 0xF8});
  BOOST_REQUIRE(frame.has_value());
  BOOST_TEST(frame->codec == "flac");
  BOOST_TEST(!frame->sequence_header);
  auto channels = flv::parse_audio(bytes{0x94, 'a', 'c', '-', '3', 1, 0, 6});
  BOOST_REQUIRE(channels.has_value());
  BOOST_TEST(channels->codec_metadata);
  // Multitrack (audio's code is 5), one track with id 2
  auto track = flv::parse_audio(bytes{0x95, 0x00, 'm', 'p', '4', 'a', 2, 0x12, 0x10});
  BOOST_REQUIRE(track.has_value());
  BOOST_TEST(track->codec == "aac");
  BOOST_TEST(track->track == 2);
  BOOST_TEST(track->sequence_header);
  BOOST_TEST(!flv::parse_audio(bytes{0x90, 'O', 'p'}).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
