#include "media/rtmp/session.hpp"
#include "media/rtmp/output.hpp"

#include <algorithm>
#include <string_view>

#include "media/fanout/hub.hpp"

namespace onair::media::rtmp {

namespace {
constexpr std::uint32_t control_csid = 2, command_csid = 3, data_csid = 5;
using amf0::make_null;
using amf0::make_number;
using amf0::make_object;
using amf0::make_string;
} // namespace

std::string strip_query(const std::string& s) { return s.substr(0, s.find('?')); }

std::string query_param(const std::string& s, const std::string& name) {
  const auto q = s.find('?');
  if (q == std::string::npos)
    return {};
  std::size_t pos = q + 1;
  while (pos <= s.size()) {
    const auto end = std::min(s.find('&', pos), s.size());
    const std::string pair = s.substr(pos, end - pos);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name)
      return eq == std::string::npos ? std::string{} : pair.substr(eq + 1);
    pos = end + 1;
  }
  return {};
}

session::session(handler& h, session_options opts) : handler_{h}, opts_{opts}, reader_{opening_limits(opts)} {}

chunk_limits session::opening_limits(const session_options& o) {
  chunk_limits l = o.limits;
  l.max_message_size = std::min(l.max_message_size, o.opening_limits.max_message_size);
  l.max_chunk_streams = std::min(l.max_chunk_streams, o.opening_limits.max_chunk_streams);
  l.max_buffered = std::min(l.max_buffered, o.opening_limits.max_buffered);
  return l;
}

session::result session::consume(std::span<const std::uint8_t> bytes) {
  result r;
  if (closing_)
    return r;
  if (!handshake_.done()) {
    auto hr = handshake_.consume(bytes);
    if (!hr.error.empty()) {
      r.error = std::move(hr.error);
      return r;
    }
    out_.insert(out_.end(), hr.send.begin(), hr.send.end());
    r.used = hr.used;
    if (!handshake_.done() || r.used == bytes.size())
      return r;
    bytes = bytes.subspan(r.used);
  }
  for (;;) {
    // Until a publish is accepted, one message at a time: the accept (which may come at once,
    // from the publish command's handler) lifts the opening limits for the messages after it,
    // which may be in the same bytes.
    const bool opening = !publishing_;
    auto cr = reader_.consume(bytes, opening ? 1 : std::numeric_limits<std::size_t>::max());
    r.used += cr.used;
    bytes = bytes.subspan(cr.used);
    for (const auto& m : cr.messages) {
      on_message(m, r.error);
      if (!r.error.empty() || closing_)
        return r;
    }
    if (!cr.error.empty()) {
      r.error = std::move(cr.error);
      return r;
    }
    if (!opening || cr.messages.empty() || bytes.empty())
      break;
  }
  if (peer_window_ > 0 && reader_.bytes_read() - last_ack_ >= peer_window_) {
    last_ack_ = reader_.bytes_read();
    const auto n = static_cast<std::uint32_t>(last_ack_);
    const std::uint8_t p[4] = {static_cast<std::uint8_t>(n >> 24), static_cast<std::uint8_t>(n >> 16),
                               static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
    send_control(msg_type::ack, p);
  }
  return r;
}

void session::on_message(const message& m, std::string& error) {
  const auto b = m.bytes();
  auto be32 = [&](std::size_t at) {
    return std::uint32_t{b[at]} << 24 | std::uint32_t{b[at + 1]} << 16 | std::uint32_t{b[at + 2]} << 8 | b[at + 3];
  };
  switch (m.type_id) {
  case msg_type::window_ack_size:
    if (b.size() < 4) {
      error = "rtmp: short Window Acknowledgement Size";
      return;
    }
    peer_window_ = be32(0);
    return;
  case msg_type::ack:
  case msg_type::set_peer_bandwidth:
    return;
  case msg_type::user_control:
    if (b.size() < 2) {
      error = "rtmp: short User Control";
      return;
    }
    if ((b[0] << 8 | b[1]) == 6 && b.size() >= 6) // PingRequest -> PingResponse
      send_user_control(7, be32(2));
    return;
  case msg_type::command_amf0:
    on_command(m, b, error);
    return;
  case msg_type::command_amf3: // AMF3 command messages start with a format byte, then AMF0
    if (!b.empty())
      on_command(m, b.subspan(1), error);
    return;
  case msg_type::data_amf0:
    on_data(m, b, error);
    return;
  case msg_type::data_amf3:
    if (!b.empty())
      on_data(m, b.subspan(1), error);
    return;
  case msg_type::audio:
  case msg_type::video:
    on_av(m, error);
    return;
  case msg_type::aggregate:
    on_aggregate(m, error);
    return;
  default:
    return; // shared-object messages are not used by encoders we serve
  }
}

// An aggregate message (RTMP 1.0, 7.1.6) carries audio, video and data messages back to back, each
// as an FLV-style tag: type, size, timestamp, stream id, body, then the size of the tag before
// (the back pointer). The aggregate's timestamp is the first sub-message's; the others keep their
// distance from it. Relays (and some servers) send them; each sub-message is handled as if it had
// come alone.
void session::on_aggregate(const message& m, std::string& error) {
  const auto b = m.bytes();
  constexpr std::size_t header = 11, back_pointer = 4;
  std::size_t at = 0;
  bool first = true;
  std::uint32_t first_ts = 0;
  while (at < b.size()) {
    if (b.size() - at < header) {
      error = "rtmp: aggregate message: truncated sub-message header";
      return;
    }
    const std::uint8_t type = b[at];
    const std::size_t size = std::size_t{b[at + 1]} << 16 | std::size_t{b[at + 2]} << 8 | b[at + 3];
    const std::uint32_t ts = std::uint32_t{b[at + 7]} << 24 | std::uint32_t{b[at + 4]} << 16 |
                             std::uint32_t{b[at + 5]} << 8 | b[at + 6];
    if (b.size() - at - header < size) {
      error = "rtmp: aggregate message: sub-message of " + std::to_string(size) + " bytes overruns the message";
      return;
    }
    if (type != msg_type::audio && type != msg_type::video && type != msg_type::data_amf0) {
      error = "rtmp: aggregate message: sub-message of type " + std::to_string(type) + " is not audio, video or data";
      return;
    }
    if (first) {
      first_ts = ts;
      first = false;
    }
    message sub;
    sub.csid = m.csid;
    sub.type_id = type;
    sub.stream_id = m.stream_id;
    sub.timestamp = m.timestamp + (ts - first_ts); // modular, as RTMP timestamps are
    const auto body = b.subspan(at + header, size);
    sub.payload = std::make_shared<std::vector<std::uint8_t>>(body.begin(), body.end());
    if (type == msg_type::data_amf0)
      on_data(sub, sub.bytes(), error);
    else
      on_av(sub, error);
    if (!error.empty())
      return;
    at += header + size;
    // The back pointer: absent after the last sub-message in some senders' output.
    at = std::min(b.size(), at + back_pointer);
  }
}

void session::on_command(const message& m, std::span<const std::uint8_t> body, std::string& error) {
  auto decoded = amf0::decode_all(body);
  if (!decoded.ok() || decoded.values.empty() || !decoded.values[0].is_string()) {
    error = decoded.ok() ? "rtmp: command without a name" : "rtmp: " + decoded.error;
    return;
  }
  const auto& v = decoded.values;
  const std::string& name = v[0].string;
  const double txn = v.size() > 1 && v[1].is_number() ? v[1].number : 0;
  auto arg_string = [&](std::size_t i) { return v.size() > i && v[i].is_string() ? v[i].string : std::string{}; };

  if (name == "connect") {
    if (connected_) {
      error = "rtmp: second connect";
      return;
    }
    if (v.size() < 3 || v[2].kind != amf0::type::object) {
      error = "rtmp: connect without a command object";
      return;
    }
    connected_ = true;
    app_ = v[2].get_string("app");
    tc_url_ = v[2].get_string("tcUrl");
    const double encoding = v[2].get_number("objectEncoding", 0);
    const std::uint32_t ws = opts_.window_ack_size;
    const std::uint8_t wp[4] = {static_cast<std::uint8_t>(ws >> 24), static_cast<std::uint8_t>(ws >> 16),
                                static_cast<std::uint8_t>(ws >> 8), static_cast<std::uint8_t>(ws)};
    send_control(msg_type::window_ack_size, wp);
    const std::uint32_t bw = opts_.peer_bandwidth;
    const std::uint8_t bp[5] = {static_cast<std::uint8_t>(bw >> 24), static_cast<std::uint8_t>(bw >> 16),
                                static_cast<std::uint8_t>(bw >> 8), static_cast<std::uint8_t>(bw), 2};
    send_control(msg_type::set_peer_bandwidth, bp);
    const std::uint32_t cs = out_chunk_size;
    const std::uint8_t cp[4] = {static_cast<std::uint8_t>(cs >> 24), static_cast<std::uint8_t>(cs >> 16),
                                static_cast<std::uint8_t>(cs >> 8), static_cast<std::uint8_t>(cs)};
    send_control(msg_type::set_chunk_size, cp);
    out_chunk_size_ = cs;
    send_command(0, {make_string("_result"), make_number(txn),
                     make_object({{"fmsVer", make_string("FMS/3,5,7,7009")}, {"capabilities", make_number(31)},
                                  {"mode", make_number(1)}}),
                     make_object({{"level", make_string("status")},
                                  {"code", make_string("NetConnection.Connect.Success")},
                                  {"description", make_string("Connection succeeded.")},
                                  {"objectEncoding", make_number(encoding)}})});
    return;
  }
  if (!connected_) {
    error = "rtmp: " + name + " before connect";
    return;
  }
  if (name == "createStream") {
    stream_created_ = true;
    send_command(0, {make_string("_result"), make_number(txn), make_null(), make_number(media_stream_id)});
  } else if (name == "releaseStream" || name == "FCSubscribe" || name == "_checkbw" || name == "checkBandwidth") {
    if (txn > 0)
      send_command(0, {make_string("_result"), make_number(txn), make_null(), amf0::make_undefined()});
  } else if (name == "FCPublish") {
    send_command(0, {make_string("onFCPublish"), make_number(0), make_null(),
                     make_object({{"code", make_string("NetStream.Publish.Start")},
                                  {"description", make_string(strip_query(arg_string(3)))}})});
  } else if (name == "getStreamLength") {
    send_command(0, {make_string("_result"), make_number(txn), make_null(), make_number(0)});
  } else if (name == "publish") {
    if (role_ != role::none || pending_) {
      error = "rtmp: publish on a session that already publishes or plays";
      return;
    }
    const std::string raw = arg_string(3);
    if (raw.empty()) {
      error = "rtmp: publish without a stream name";
      return;
    }
    role_ = role::publisher;
    pending_ = true;
    publish_info info;
    info.app = strip_query(app_);
    info.stream_key = strip_query(raw);
    info.mode = query_param(raw, "mode");
    if (info.mode.empty())
      info.mode = query_param(tc_url_, "mode");
    if (info.mode.empty())
      info.mode = query_param(app_, "mode");
    info.tc_url = tc_url_;
    handler_.on_publish(info);
  } else if (name == "play") {
    if (role_ != role::none || pending_) {
      error = "rtmp: play on a session that already publishes or plays";
      return;
    }
    role_ = role::player;
    pending_ = true;
    handler_.on_play(play_info{strip_query(app_), strip_query(arg_string(3))});
  } else if (name == "FCUnpublish" || name == "deleteStream" || name == "closeStream") {
    // The stream is over; the connection may publish (or play) again, as FMLE-style encoders do
    // when they stop and start without reconnecting.
    if (publishing_) {
      publishing_ = false;
      role_ = role::none;
      handler_.on_unpublish();
    } else if (pending_ && role_ == role::publisher) {
      unpublish_pending_ = true; // told once the decision comes (accept_publish)
    }
    if (name == "FCUnpublish" && txn > 0)
      send_command(0, {make_string("_result"), make_number(txn), make_null(), amf0::make_undefined()});
  }
  // Anything else (onBWDone answers, set-buffer hints, custom calls) is ignored by design.
  (void)m;
}

namespace {
// The data message's name: "onMetaData", directly or after "@setDataFrame" (AMF0 short strings).
bool is_metadata(std::span<const std::uint8_t> body) {
  const auto name_at = [&body](std::size_t at) -> std::string_view {
    if (body.size() < at + 3 || body[at] != 0x02)
      return {};
    const std::size_t len = std::size_t{body[at + 1]} << 8 | body[at + 2];
    if (body.size() - at - 3 < len)
      return {};
    return {reinterpret_cast<const char*>(body.data() + at + 3), len};
  };
  const auto first = name_at(0);
  if (first == "@setDataFrame")
    return name_at(3 + first.size()) == "onMetaData";
  return first == "onMetaData";
}
} // namespace

void session::on_data(const message& m, std::span<const std::uint8_t> body, std::string& error) {
  if (!publishing_)
    return;
  // Only the metadata is relayed; other script data (cue points, captions, text) is not part of
  // the stream contract and is dropped by its name, before the rest is decoded: it may hold AMF
  // this server has no use for.
  if (!is_metadata(body))
    return;
  auto decoded = amf0::decode_all(body);
  if (!decoded.ok()) {
    error = "rtmp: onMetaData: " + decoded.error;
    return;
  }
  auto& v = decoded.values;
  std::size_t at = 0;
  if (!v.empty() && v[0].is_string() && v[0].string == "@setDataFrame")
    at = 1;
  if (v.size() < at + 2 || !v[at].is_string() || v[at].string != "onMetaData")
    return;
  const amf0::value& meta = v[at + 1];
  if (const double fps = meta.get_number("framerate", 0); fps > 0 && fps <= 1000)
    totals_.metadata_fps = fps;
  if (totals_.width == 0) {
    // Untrusted doubles: only plausible dimensions convert (out-of-range conversion is UB).
    auto dim = [](double d) { return d >= 1 && d <= 65535 ? static_cast<int>(d) : 0; };
    totals_.width = dim(meta.get_number("width", 0));
    totals_.height = dim(meta.get_number("height", 0));
  }
  auto payload = std::make_shared<std::vector<std::uint8_t>>();
  amf0::encode(*payload, make_string("onMetaData"));
  amf0::encode(*payload, meta);
  frame f;
  f.kind = frame_kind::script;
  f.timestamp_ms = m.timestamp;
  f.payload = std::move(payload);
  handler_.on_media(f);
}

void session::on_av(const message& m, std::string& error) {
  if (!publishing_ || m.bytes().empty())
    return;
  frame f;
  f.timestamp_ms = m.timestamp;
  f.payload = m.payload;
  if (m.type_id == msg_type::video) {
    const auto info = flv::parse_video(m.bytes());
    if (!info) {
      error = "rtmp: malformed video tag";
      return;
    }
    if (info->command_frame)
      return;
    // Enhanced-RTMP multitrack: tracks other than 0 are relayed, but the stream's headers, key
    // frames and stats are track 0's.
    const bool main_track = info->track == 0;
    f.kind = frame_kind::video;
    f.keyframe = info->keyframe && main_track;
    f.sequence_header = info->sequence_header && main_track;
    f.codec_metadata = info->codec_metadata && main_track;
    f.end_of_sequence = info->end_of_sequence;
    f.composition_offset_ms = info->composition_offset;
    f.track = info->track;
    f.codec = codec_from_name(info->codec);
    f.set_data(info->data);
    if (main_track) {
      totals_.video_codec = info->codec;
      if (info->sequence_header && info->codec == "h264")
        if (const auto d = flv::avc_dimensions(info->config)) {
          totals_.width = d->width;
          totals_.height = d->height;
        }
      if (!info->sequence_header && !info->codec_metadata && !info->end_of_sequence)
        ++totals_.video_frames;
    }
  } else {
    const auto info = flv::parse_audio(m.bytes());
    if (!info) {
      error = "rtmp: malformed audio tag";
      return;
    }
    f.kind = frame_kind::audio;
    f.sequence_header = info->sequence_header && info->track == 0;
    f.codec_metadata = info->codec_metadata && info->track == 0;
    f.track = info->track;
    f.codec = codec_from_name(info->codec);
    f.set_data(info->data);
    if (info->track == 0)
      totals_.audio_codec = info->codec;
  }
  totals_.media_bytes += m.bytes().size();
  handler_.on_media(f);
}

bool session::accept_publish() {
  if (!pending_ || role_ != role::publisher)
    return false;
  pending_ = false;
  if (unpublish_pending_) {
    unpublish_pending_ = false;
    role_ = role::none;
    return false;
  }
  publishing_ = true;
  reader_.set_limits(opts_.limits); // a publisher's key frames
  send_user_control(0, media_stream_id); // StreamBegin
  send_status("status", "NetStream.Publish.Start", "Start publishing");
  return true;
}

void session::reject_publish(const std::string& description) {
  if (!pending_ || role_ != role::publisher)
    return;
  pending_ = false;
  unpublish_pending_ = false;
  send_status("error", "NetStream.Publish.BadName", description);
  closing_ = true;
}

void session::accept_play() {
  if (!pending_ || role_ != role::player)
    return;
  pending_ = false;
  playing_ = true;
  send_user_control(0, media_stream_id);
  send_status("status", "NetStream.Play.Reset", "Playing and resetting");
  send_status("status", "NetStream.Play.Start", "Started playing");
  std::vector<std::uint8_t> body;
  amf0::encode_all(body, {make_string("|RtmpSampleAccess"), amf0::make_bool(true), amf0::make_bool(true)});
  write_message(out_, data_csid, msg_type::data_amf0, media_stream_id, 0, body, out_chunk_size_);
}

void session::reject_play(const std::string& description) {
  if (!pending_ || role_ != role::player)
    return;
  pending_ = false;
  send_status("error", "NetStream.Play.StreamNotFound", description);
  closing_ = true;
}

void session::send_command(std::uint32_t stream_id, const std::vector<amf0::value>& values) {
  std::vector<std::uint8_t> body;
  amf0::encode_all(body, values);
  write_message(out_, command_csid, msg_type::command_amf0, stream_id, 0, body, out_chunk_size_);
}

void session::send_control(std::uint8_t type, std::span<const std::uint8_t> payload) {
  write_message(out_, control_csid, type, 0, 0, payload, out_chunk_size_);
}

void session::send_status(const std::string& level, const std::string& code, const std::string& description) {
  send_command(media_stream_id,
               {make_string("onStatus"), make_number(0), make_null(),
                make_object({{"level", make_string(level)}, {"code", make_string(code)},
                             {"description", make_string(description)}})});
}

void session::send_user_control(std::uint16_t event, std::uint32_t value) {
  const std::uint8_t p[6] = {static_cast<std::uint8_t>(event >> 8), static_cast<std::uint8_t>(event),
                             static_cast<std::uint8_t>(value >> 24), static_cast<std::uint8_t>(value >> 16),
                             static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value)};
  send_control(msg_type::user_control, p);
}

} // namespace onair::media::rtmp
