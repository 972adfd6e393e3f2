#pragma once
// Sans-IO RTMP server session: bytes in -> handshake, chunk reassembly, protocol control and the
// AMF0 command layer, with the replies ffmpeg, OBS and Flash-era encoders/players expect; bytes
// out through output(). Decisions that need the outside world (may this key publish? which hub
// does this playback id name?) go to the handler and come back through accept_*/reject_*.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "media/flv/tag.hpp"
#include "media/frame.hpp"
#include "media/rtmp/amf0.hpp"
#include "media/rtmp/chunk.hpp"
#include "media/rtmp/handshake.hpp"

namespace onair::media::rtmp {

struct session_options {
  chunk_limits limits; // once a publish is accepted
  // Until then (connect, the other commands, players, anyone who can reach the port or guess at
  // a key): far less memory per connection than a publisher's key frames need.
  chunk_limits opening_limits{.max_message_size = 256 * 1024, .max_chunk_streams = 16, .max_buffered = 512 * 1024};
  std::uint32_t window_ack_size = 2500000;
  std::uint32_t peer_bandwidth = 2500000;
};

struct publish_info {
  std::string app;        // without any query
  std::string stream_key; // without any query
  std::string mode;       // from the key's query (OBS) or the tcUrl's query; may be empty
  std::string tc_url;
};
struct play_info {
  std::string app;
  std::string name; // the playback id, without any query
};

// What an ingest has shown so far (for the hooks' stats).
struct ingest_totals {
  std::string video_codec, audio_codec;
  int width = 0, height = 0;
  double metadata_fps = 0;
  std::uint64_t media_bytes = 0;
  std::uint64_t video_frames = 0;
};

class session {
public:
  enum class role { none, publisher, player };

  class handler {
  public:
    virtual ~handler() = default;
    virtual void on_publish(const publish_info&) = 0; // answer with accept_publish / reject_publish
    virtual void on_play(const play_info&) = 0;       // answer with accept_play / reject_play
    // A media message from the accepted publisher; f.payload is the reassembled message.
    virtual void on_media(const frame& f) = 0;
    virtual void on_unpublish() = 0; // the publisher said it is done (FCUnpublish, deleteStream, …)
  };

  struct result {
    std::size_t used = 0; // 0 with no error: need more
    std::string error;    // the peer broke the protocol: close
  };

  explicit session(handler& h, session_options opts = {});
  [[nodiscard]] result consume(std::span<const std::uint8_t> bytes);
  // Bytes to send; the owner moves them out (e.g. swap) after each call into the session.
  [[nodiscard]] std::vector<std::uint8_t>& output() { return out_; }

  // False when the client unpublished while the decision was pending (FCUnpublish, deleteStream
  // or closeStream): the publish is over as soon as it was accepted, and nothing is relayed.
  [[nodiscard]] bool accept_publish();
  void reject_publish(const std::string& description);
  void accept_play();
  void reject_play(const std::string& description);
  // Set after a rejection: flush output(), then close.
  [[nodiscard]] bool closing() const { return closing_; }
  [[nodiscard]] role current_role() const { return role_; }
  [[nodiscard]] bool handshake_done() const { return handshake_.done(); }
  [[nodiscard]] bool media_flowing() const { return publishing_ || playing_; }
  [[nodiscard]] const ingest_totals& totals() const { return totals_; }
  [[nodiscard]] const std::string& tc_url() const { return tc_url_; }

private:
  static chunk_limits opening_limits(const session_options& o);
  void on_message(const message& m, std::string& error);
  void on_command(const message& m, std::span<const std::uint8_t> body, std::string& error);
  void on_data(const message& m, std::span<const std::uint8_t> body, std::string& error);
  void on_av(const message& m, std::string& error);
  void on_aggregate(const message& m, std::string& error);
  void send_command(std::uint32_t stream_id, const std::vector<amf0::value>& values);
  void send_control(std::uint8_t type, std::span<const std::uint8_t> payload);
  void send_status(const std::string& level, const std::string& code, const std::string& description);
  void send_user_control(std::uint16_t event, std::uint32_t value);

  handler& handler_;
  session_options opts_;
  server_handshake handshake_;
  chunk_reader reader_;
  std::vector<std::uint8_t> out_;
  std::uint32_t out_chunk_size_ = 128;
  std::uint32_t peer_window_ = 0; // the peer asked for an Ack every this many bytes
  std::uint64_t last_ack_ = 0;
  role role_ = role::none;
  bool connected_ = false;
  bool stream_created_ = false;
  bool pending_ = false; // a publish/play decision is outstanding
  bool unpublish_pending_ = false; // the client unpublished while its publish was being decided
  bool publishing_ = false;
  bool playing_ = false;
  bool closing_ = false;
  std::string app_, tc_url_;
  ingest_totals totals_;
};

// "key?mode=CMAF&x=1" -> value of `name` in the query ("" when absent); strip_query drops "?…".
[[nodiscard]] std::string query_param(const std::string& s, const std::string& name);
[[nodiscard]] std::string strip_query(const std::string& s);

} // namespace onair::media::rtmp
