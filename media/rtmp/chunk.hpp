#pragma once
// RTMP chunk stream: a sans-IO reader that reassembles messages from interleaved chunks (all
// four header formats, extended timestamps, Set Chunk Size and Abort applied in-band) and a
// stateless writer whose output can be shared by every viewer of a stream.
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace onair::media::rtmp {

namespace msg_type {
inline constexpr std::uint8_t set_chunk_size = 1, abort = 2, ack = 3, user_control = 4, window_ack_size = 5,
                              set_peer_bandwidth = 6, audio = 8, video = 9, data_amf3 = 15, command_amf3 = 17,
                              data_amf0 = 18, command_amf0 = 20, aggregate = 22;
}

struct message {
  std::uint32_t csid = 0;
  std::uint8_t type_id = 0;
  std::uint32_t stream_id = 0;
  std::uint32_t timestamp = 0;
  std::shared_ptr<std::vector<std::uint8_t>> payload; // handed over, never copied again
  [[nodiscard]] std::span<const std::uint8_t> bytes() const {
    return payload ? std::span<const std::uint8_t>{*payload} : std::span<const std::uint8_t>{};
  }
};

struct chunk_limits {
  std::uint32_t max_message_size = 16 * 1024 * 1024;
  std::size_t max_chunk_streams = 64; // distinct csids alive at once
  std::size_t max_buffered = 32 * 1024 * 1024; // unfinished messages, all chunk streams together
};

class chunk_reader {
public:
  struct result {
    std::size_t used = 0; // 0 with no error means "need more"
    std::vector<message> messages;
    std::string error; // protocol violation: close the connection
  };

  explicit chunk_reader(chunk_limits lim = {}) : lim_{lim} {}
  // Applies to messages whose header is read from now on.
  void set_limits(chunk_limits lim) { lim_ = lim; }
  // Stops after max_messages messages (whose handling may change the limits for what follows).
  [[nodiscard]] result consume(std::span<const std::uint8_t> bytes,
                               std::size_t max_messages = std::numeric_limits<std::size_t>::max());
  [[nodiscard]] std::uint32_t chunk_size() const { return chunk_size_; }
  [[nodiscard]] std::uint64_t bytes_read() const { return bytes_read_; }

private:
  struct stream {
    std::uint32_t csid = 0;
    std::uint32_t timestamp = 0;
    std::uint32_t delta = 0;
    std::uint32_t length = 0;
    std::uint8_t type_id = 0;
    std::uint32_t stream_id = 0;
    bool extended = false; // the last header carried an extended timestamp
    bool has_header = false;
    std::shared_ptr<std::vector<std::uint8_t>> partial;
  };
  stream* find(std::uint32_t csid, std::string& error);
  void apply_control(const message& m, std::string& error);

  chunk_limits lim_;
  std::uint32_t chunk_size_ = 128;
  std::uint64_t bytes_read_ = 0;
  std::vector<stream> streams_;
  stream* current_ = nullptr;          // chunk whose data is being read
  std::uint32_t chunk_remaining_ = 0;  // data bytes left in that chunk
};

// Appends `payload` as one message: a type-0 header, then type-3 continuation chunks (repeating
// the extended timestamp when present, as ffmpeg, OBS and Flash expect).
void write_message(std::vector<std::uint8_t>& out, std::uint32_t csid, std::uint8_t type_id, std::uint32_t stream_id,
                   std::uint32_t timestamp, std::span<const std::uint8_t> payload, std::uint32_t chunk_size);
// Size of write_message's output, to reserve once.
[[nodiscard]] std::size_t written_size(std::uint32_t csid, std::uint32_t timestamp, std::size_t payload,
                                       std::uint32_t chunk_size);

} // namespace onair::media::rtmp
