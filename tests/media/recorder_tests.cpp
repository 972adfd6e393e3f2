// The recorder, fed by a hub with samples parsed from what the ffmpeg CLI encodes, read back by
// ffprobe: one part across a publisher's gap, a crash and a resume, a configuration change, a
// full disk, timestamps that jump.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "eventually.hpp"
#include "file_probe.hpp"
#include "media/fanout/hub.hpp"
#include "media/ffmpeg/fmp4_writer.hpp"
#include "media/flv/tag.hpp"
#include "media/record/checkpoint.hpp"
#include "media/record/recorder.hpp"
#include "media/vod/recording_playlist.hpp"

using namespace onair::media;
using onair::testing::eventually;
using onair::testing::probe_file;
using onair::testing::shell_output;
namespace fs = std::filesystem;

namespace {
constexpr std::chrono::seconds wait_limit{20};


struct temp_dir {
  fs::path path;
  temp_dir() {
    char tmpl[] = "/tmp/onair-rec-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// A source encoded by the ffmpeg CLI as FLV (what an RTMP publisher sends), parsed into frames as
// the RTMP session parses them.
std::vector<frame> encode(const fs::path& dir, const std::string& name, int seconds, const std::string& size, int gop,
                          const std::string& audio = "-c:a aac -b:a 64k") {
  const auto file = dir / (name + ".flv");
  const auto cmd = "ffmpeg -v error -y -f lavfi -i testsrc=size=" + size + ":rate=30 -f lavfi -i sine=frequency=440:sample_rate=44100 -t " +
                   std::to_string(seconds) + " -c:v libx264 -preset ultrafast -g " + std::to_string(gop) + " " + audio +
                   " -f flv " + file.string() + " 2>&1";
  BOOST_REQUIRE_MESSAGE(shell_output(cmd).empty(), "ffmpeg encodes the source");
  std::ifstream in{file, std::ios::binary};
  const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>{in}, {}};
  flv::reader r;
  auto res = r.consume(bytes);
  BOOST_REQUIRE(res.error.empty());
  std::vector<frame> out;
  for (auto& t : res.tags) {
    if (t.type == flv::tag_type::script)
      continue;
    frame f;
    f.timestamp_ms = t.timestamp;
    f.payload = t.payload;
    if (t.type == flv::tag_type::video) {
      const auto v = flv::parse_video(*t.payload);
      BOOST_REQUIRE(v);
      f.kind = frame_kind::video;
      f.keyframe = v->keyframe;
      f.sequence_header = v->sequence_header;
      f.end_of_sequence = v->end_of_sequence;
      f.composition_offset_ms = v->composition_offset;
      f.codec = codec_from_name(v->codec);
      f.set_data(v->data);
    } else {
      const auto a = flv::parse_audio(*t.payload);
      BOOST_REQUIRE(a);
      f.kind = frame_kind::audio;
      f.sequence_header = a->sequence_header;
      f.codec = codec_from_name(a->codec);
      f.set_data(a->data);
    }
    out.push_back(std::move(f));
  }
  return out;
}

// The frames with the first audio frame before the first picture. An audio codec FLV configures by
// its frames (MP3, G.711) is known by its first frame, which ffmpeg's FLV muxer sends after the
// first picture; on a live key, where a broadcast's recording starts, it is known before.
std::vector<frame> audio_first(std::vector<frame> fs) {
  const auto a = std::find_if(fs.begin(), fs.end(), [](const frame& f) { return f.kind == frame_kind::audio; });
  const auto picture = std::find_if(fs.begin(), fs.end(), [](const frame& f) {
    return f.kind == frame_kind::video && !f.sequence_header;
  });
  if (a != fs.end() && picture < a)
    std::rotate(picture, a, a + 1);
  return fs;
}

std::size_t video_frames(const std::vector<frame>& fs) {
  return static_cast<std::size_t>(std::count_if(fs.begin(), fs.end(), [](const frame& f) {
    return f.kind == frame_kind::video && !f.sequence_header && !f.end_of_sequence;
  }));
}

struct events : record::listener {
  std::mutex mu;
  std::optional<record::progress> finished, failed;
  std::string error;
  int parts_started = 0, pauses = 0;
  void on_part_started(const record::progress&) override {
    std::lock_guard lock{mu};
    ++parts_started;
  }
  void on_paused(const record::progress&) override {
    std::lock_guard lock{mu};
    ++pauses;
  }
  void on_finished(const record::progress& p) override {
    std::lock_guard lock{mu};
    finished = p;
  }
  void on_failed(const record::progress& p, std::string_view why) override {
    std::lock_guard lock{mu};
    failed = p;
    error = why;
  }
  bool ended() {
    std::lock_guard lock{mu};
    return finished || failed;
  }
};

// A hub with a recorder into dir attached.
struct recording {
  std::shared_ptr<fanout::hub> hub = std::make_shared<fanout::hub>("k");
  std::shared_ptr<events> heard = std::make_shared<events>();
  std::shared_ptr<fanout::tap> tap;
  explicit recording(const fs::path& dir, std::function<int(std::size_t)> fault = {},
                     std::size_t max_parts = record::recorder_options{}.max_parts) {
    record::recorder_options o;
    o.dir = dir;
    o.write_fault = std::move(fault);
    o.max_parts = max_parts;
    tap = hub->attach(std::make_shared<record::recorder>(o, heard), {.name = "recorder"});
  }
  void publish(const std::vector<frame>& frames, std::int64_t shift_ms = 0) {
    const auto s = hub->begin_publish();
    for (auto f : frames) {
      f.timestamp_ms = static_cast<std::uint32_t>(f.timestamp_ms + shift_ms);
      BOOST_REQUIRE(hub->publish(f, s));
    }
    hub->end_publish(s);
  }
  void finish() {
    hub->close();
    BOOST_REQUIRE(eventually([&] { return heard->ended(); }, wait_limit));
    hub->detach(tap);
  }
};

// A recorder into dir that stops mid-stream without finishing (as on kill -9) once a second of
// frames is synced, leaving a torn tail after its last checkpoint.
void crash_mid_stream(const fs::path& dir, const std::vector<frame>& frames) {
  recording r{dir};
  const auto s = r.hub->begin_publish();
  for (const auto& f : frames)
    r.hub->publish(f, s);
  // Synced up to its last second: what the recorder may lose at a crash (a slower machine, ASan,
  // must not make the stop come earlier than that).
  BOOST_REQUIRE(eventually([&] {
    const auto c = record::last_checkpoint(dir / "part-0001.mp4");
    return c && c->end_ms >= static_cast<std::int64_t>(frames.back().timestamp_ms) - 1000;
  }, wait_limit));
  r.hub->detach(r.tap);
  std::ofstream{dir / "part-0001.mp4", std::ios::app | std::ios::binary} << std::string(777, 'x');
}

struct sources {
  temp_dir dir;
  std::vector<frame> a = encode(dir.path, "a", 3, "320x240", 300);  // one GOP: every frame recorded
  std::vector<frame> b = encode(dir.path, "b", 3, "320x240", 30);
  std::vector<frame> wide = encode(dir.path, "wide", 2, "640x360", 30);
};
sources& source() {
  static sources s;
  return s;
}
} // namespace

BOOST_AUTO_TEST_SUITE(recorder)

BOOST_AUTO_TEST_CASE(a_publisher_gap_lands_in_one_part_with_every_frame_and_the_gap_removed) {
  auto& src = source();
  temp_dir out;
  // Given a recording of a stream
  recording r{out.path};
  // When the publisher sends 3 s, leaves, comes back and sends 3 s more (its clock restarted)
  r.publish(src.a);
  r.publish(src.b);
  r.finish();
  // Then one part holds every frame, 6 s long, audio and video starting together
  BOOST_REQUIRE(r.heard->finished);
  const auto& p = *r.heard->finished;
  BOOST_REQUIRE(p.parts.size() == 1u);
  BOOST_TEST(p.parts[0].video_codec == "h264");
  BOOST_TEST(p.parts[0].audio_codec == "aac");
  BOOST_TEST(p.parts[0].width == 320);
  BOOST_TEST(p.bytes() == fs::file_size(out.path / "part-0001.mp4"));
  const auto probe = probe_file(out.path / "part-0001.mp4");
  BOOST_TEST(probe.errors == "");
  BOOST_TEST(probe.frames == static_cast<long>(video_frames(src.a) + video_frames(src.b)));
  BOOST_TEST(probe.duration == 6.0, boost::test_tools::tolerance(0.3 / 6));
  BOOST_TEST(std::abs(probe.video_start - probe.audio_start) <= 0.040);
  BOOST_TEST(std::abs(p.duration_ms() - 6000) <= 300);
  BOOST_TEST(r.heard->pauses == 2); // after each session
}

BOOST_AUTO_TEST_CASE(after_a_crash_the_part_is_cut_back_to_what_was_synced_and_goes_on) {
  auto& src = source();
  temp_dir out;
  // Given a recorder that stops mid-stream without finishing (as on kill -9), a torn tail after
  // what it synced
  crash_mid_stream(out.path, src.a);
  // When a new recorder takes the folder over and the publisher comes back
  recording r{out.path};
  r.publish(src.b);
  r.finish();
  // Then the part reads cleanly, holding all but at most the last second before the stop
  BOOST_REQUIRE(r.heard->finished);
  BOOST_TEST(r.heard->finished->parts.size() == 1u);
  const auto probe = probe_file(out.path / "part-0001.mp4");
  BOOST_TEST(probe.errors == "");
  const long all = static_cast<long>(video_frames(src.a) + video_frames(src.b));
  BOOST_TEST(probe.frames <= all);
  BOOST_TEST(probe.frames >= all - 31);
  BOOST_TEST(probe.duration >= 5.0);
  BOOST_TEST(probe.duration <= 6.1);
}

BOOST_AUTO_TEST_CASE(after_a_crash_a_part_that_is_not_continued_is_cut_back_too) {
  auto& src = source();
  temp_dir out;
  // Given a recorder that stopped mid-stream, a torn tail after what it synced
  crash_mid_stream(out.path, src.b);
  // When the publisher comes back with other codecs (another resolution)
  recording r{out.path};
  r.publish(src.wide);
  r.finish();
  // Then the old part ends at its last checkpoint and reads cleanly; the new one follows it
  BOOST_REQUIRE(r.heard->finished);
  const auto& p = *r.heard->finished;
  BOOST_REQUIRE(p.parts.size() == 2u);
  BOOST_TEST(p.parts[0].bytes == fs::file_size(out.path / "part-0001.mp4"));
  BOOST_TEST(probe_file(out.path / "part-0001.mp4").errors == "");
  BOOST_TEST(probe_file(out.path / "part-0002.mp4").errors == "");
  BOOST_TEST(probe_file(out.path / "part-0002.mp4").size == "640x360");
}

BOOST_AUTO_TEST_CASE(a_part_goes_on_past_4_gib) {
  auto& src = source();
  temp_dir out;
  const auto file = out.path / "part-0001.mp4";
  {
    // Given a part recorded up to a sync, then 4.5 GiB more of it (a sparse `free` box, which
    // players skip) and a checkpoint after it, as a long recording's would have
    recording r{out.path};
    const auto s = r.hub->begin_publish();
    for (const auto& f : src.a)
      r.hub->publish(f, s);
    r.hub->end_publish(s); // the fragment reaches the disk
    BOOST_REQUIRE(eventually([&] { return r.heard->pauses == 1; }, wait_limit));
    r.hub->detach(r.tap);
  }
  auto last = record::last_checkpoint(file);
  BOOST_REQUIRE(last);
  fs::resize_file(file, last->bytes);
  constexpr std::uint64_t filler = 4'500'000'000ull;
  {
    std::ofstream f{file, std::ios::binary | std::ios::app};
    // size 1: the 64-bit size follows the type
    std::uint8_t header[16] = {0, 0, 0, 1, 'f', 'r', 'e', 'e'};
    for (int i = 0; i < 8; ++i)
      header[8 + i] = static_cast<std::uint8_t>(filler >> (56 - 8 * i));
    f.write(reinterpret_cast<const char*>(header), sizeof header);
  }
  fs::resize_file(file, last->bytes + filler);
  last->bytes += filler + record::checkpoint_box_size;
  const auto box = record::encode_box(*last);
  std::ofstream{file, std::ios::binary | std::ios::app}.write(reinterpret_cast<const char*>(box.data()),
                                                             static_cast<std::streamsize>(box.size()));
  // When the recording is taken up and the publisher goes on
  recording r{out.path};
  r.publish(src.b);
  r.finish();
  // Then the fragments after 4 GiB are read back with the ones before
  BOOST_REQUIRE(r.heard->finished);
  BOOST_TEST(r.heard->finished->bytes() > filler);
  BOOST_TEST(record::last_checkpoint(file)->bytes == fs::file_size(file));
  BOOST_TEST(fs::file_size(file) == r.heard->finished->bytes());
  const auto probe = probe_file(file);
  BOOST_TEST(probe.errors == "");
  // every frame but the one held for its duration when the first recorder stopped
  const long all = static_cast<long>(video_frames(src.a) + video_frames(src.b));
  BOOST_TEST(probe.frames <= all);
  BOOST_TEST(probe.frames >= all - 1);
  BOOST_TEST(probe.duration > 5.5);
}

BOOST_AUTO_TEST_CASE(the_muxer_is_renewed_within_a_part_without_a_trace) {
  auto& src = source();
  temp_dir out;
  record::recorder_options o;
  o.dir = out.path;
  o.renew_fragments = 1; // a fresh muxer after every fragment
  auto heard = std::make_shared<events>();
  auto hub = std::make_shared<fanout::hub>("k");
  auto tap = hub->attach(std::make_shared<record::recorder>(o, heard), {.name = "recorder"});
  const auto s = hub->begin_publish();
  for (const auto& f : src.b)
    hub->publish(f, s);
  hub->close();
  BOOST_REQUIRE(eventually([&] { return heard->ended(); }, wait_limit));
  hub->detach(tap);
  BOOST_REQUIRE(heard->finished);
  BOOST_TEST(heard->finished->parts.size() == 1u);
  const auto probe = probe_file(out.path / "part-0001.mp4");
  BOOST_TEST(probe.errors == "");
  BOOST_TEST(probe.frames == static_cast<long>(video_frames(src.b)));
  BOOST_TEST(probe.duration == 3.0, boost::test_tools::tolerance(0.1));
}

BOOST_AUTO_TEST_CASE(a_codec_configuration_change_starts_a_new_part) {
  auto& src = source();
  temp_dir out;
  recording r{out.path};
  r.publish(src.b);
  r.publish(src.wide); // the encoder came back at another resolution
  r.finish();
  BOOST_REQUIRE(r.heard->finished);
  const auto& p = *r.heard->finished;
  BOOST_REQUIRE(p.parts.size() == 2u);
  BOOST_TEST(p.parts[1].width == 640);
  BOOST_TEST(p.parts[1].start_ms >= p.parts[0].end_ms);
  const auto one = probe_file(out.path / "part-0001.mp4");
  const auto two = probe_file(out.path / "part-0002.mp4");
  BOOST_TEST(one.errors == "");
  BOOST_TEST(two.errors == "");
  BOOST_TEST(one.size == "320x240");
  BOOST_TEST(two.size == "640x360");
  BOOST_TEST(one.frames + two.frames == static_cast<long>(video_frames(src.b) + video_frames(src.wide)));
}

BOOST_AUTO_TEST_CASE(a_stream_whose_codecs_change_past_the_most_parts_fails_its_recording_alone) {
  auto& src = source();
  temp_dir out;
  // Given a recording that may have 2 parts
  recording r{out.path, {}, 2};
  // When the publisher changes its resolution twice (a third configuration), the hub taking every frame
  r.publish(src.b);
  r.publish(src.wide);
  r.publish(src.b);
  r.finish();
  // Then the recording fails, saying why, with the 2 parts it has intact
  BOOST_REQUIRE(r.heard->failed);
  BOOST_TEST(!r.heard->finished);
  BOOST_TEST(r.heard->error.find("changed its codec configuration too often") != std::string::npos, r.heard->error);
  BOOST_TEST(r.heard->failed->parts.size() == 2u);
  BOOST_TEST(!fs::exists(out.path / "part-0003.mp4"));
  BOOST_TEST(!fs::exists(out.path / "part-0003.tracks"));
  for (const auto* name : {"part-0001.mp4", "part-0002.mp4"})
    BOOST_TEST(probe_file(out.path / name).errors == "", name);
}

BOOST_AUTO_TEST_CASE(a_full_disk_fails_the_recording_and_the_stream_goes_on) {
  auto& src = source();
  temp_dir out;
  std::atomic<std::size_t> written{0};
  recording r{out.path, [&](std::size_t n) { return (written += n) > 50'000 ? ENOSPC : 0; }};
  const auto s = r.hub->begin_publish();
  for (const auto& f : src.b)
    BOOST_REQUIRE(r.hub->publish(f, s)); // the publisher never notices
  BOOST_REQUIRE(eventually([&] { return r.heard->ended(); }, wait_limit));
  BOOST_REQUIRE(r.heard->failed);
  BOOST_TEST(r.heard->error.find("No space left on device") != std::string::npos);
  BOOST_TEST(r.heard->error.find("part-0001.mp4") != std::string::npos);
  r.hub->close();
  r.hub->detach(r.tap);
}

BOOST_AUTO_TEST_CASE(timestamps_that_jump_or_go_back_are_repaired) {
  auto& src = source();
  temp_dir out;
  recording r{out.path};
  auto frames = src.b;
  // The publisher's clock jumps 60 s forward halfway
  for (std::size_t i = frames.size() / 2; i < frames.size(); ++i)
    frames[i].timestamp_ms += 60'000;
  r.publish(frames);
  r.finish();
  BOOST_REQUIRE(r.heard->finished);
  const auto probe = probe_file(out.path / "part-0001.mp4");
  BOOST_TEST(probe.errors == "");
  BOOST_TEST(probe.frames == static_cast<long>(video_frames(src.b)));
  BOOST_TEST(probe.duration < 3.5);
}

BOOST_AUTO_TEST_CASE(a_codec_the_recording_cannot_take_is_left_out) {
  auto& src = source();
  temp_dir out;
  recording r{out.path};
  auto frames = src.b;
  for (auto& f : frames)
    if (f.kind == frame_kind::video)
      f.codec = codec::other; // e.g. VP6 or an unknown FourCC
  r.publish(frames);
  r.finish();
  BOOST_REQUIRE(r.heard->finished);
  BOOST_REQUIRE(r.heard->finished->parts.size() == 1u);
  BOOST_TEST(r.heard->finished->parts[0].video_codec == "");
  BOOST_TEST(r.heard->finished->parts[0].audio_codec == "aac");
  const auto probe = probe_file(out.path / "part-0001.mp4");
  BOOST_TEST(probe.errors == "");
  BOOST_TEST(probe.duration == 3.0, boost::test_tools::tolerance(0.1));
}

BOOST_AUTO_TEST_CASE(legacy_flv_audio_that_mp4_cannot_hold_is_recorded_as_aac_and_heard) {
  struct source_audio {
    std::string args, codec, recorded;
    double max_kbps; // 64 per channel: no more than G.711 itself for mono
  };
  // G.711 A-law as IP cameras send it (8 kHz, a rate AAC lacks), and 16-bit PCM
  for (const source_audio& a : {source_audio{"-c:a pcm_alaw -ar 8000 -ac 1", "g711a", "aac,48000,1", 72},
                                source_audio{"-c:a pcm_s16le -ar 44100 -ac 2", "pcm", "aac,44100,2", 144}}) {
    BOOST_TEST_CONTEXT(a.args) {
      // Given a stream with that audio, whose FLV tags' flags say its format
      temp_dir in, out;
      const auto frames = audio_first(encode(in.path, "cam", 3, "320x240", 30, a.args));
      const auto first_audio = std::find_if(frames.begin(), frames.end(), [](const frame& f) { return f.kind == frame_kind::audio; });
      BOOST_TEST_REQUIRE((first_audio != frames.end() && to_string(first_audio->codec) == a.codec));
      // When it is recorded
      recording r{out.path};
      r.publish(frames);
      r.finish();
      // Then its one part has the audio as AAC, as long as the video, and the tone is heard
      BOOST_REQUIRE(r.heard->finished);
      const auto& p = *r.heard->finished;
      BOOST_REQUIRE(p.parts.size() == 1u);
      BOOST_TEST(p.parts[0].audio_codec == "aac");
      const auto file = out.path / "part-0001.mp4";
      const auto recorded = shell_output("ffprobe -v error -select_streams a -show_entries stream=codec_name,sample_rate,channels "
                                         "-of csv=p=0 '" + file.string() + "'");
      BOOST_TEST(recorded.find(a.recorded) == 0u, recorded);
      const auto probe = probe_file(file);
      BOOST_TEST(probe.errors == "");
      BOOST_TEST(probe.frames == static_cast<long>(video_frames(frames)));
      BOOST_TEST(std::abs(probe.video_start - probe.audio_start) <= 0.1);
      const auto audio_seconds = std::atof(shell_output("ffprobe -v error -select_streams a -show_entries stream=duration "
                                                        "-of csv=p=0 '" + file.string() + "'").c_str());
      BOOST_TEST(audio_seconds == 3.0, boost::test_tools::tolerance(0.1 / 3));
      const auto audio_bps = std::atof(shell_output("ffprobe -v error -select_streams a -show_entries stream=bit_rate "
                                                    "-of csv=p=0 '" + file.string() + "'").c_str());
      BOOST_TEST(audio_bps > 0);
      BOOST_TEST(audio_bps <= a.max_kbps * 1000, audio_bps);
      onair::testing::check_tone(file.string(), 2);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_legacy_audio_recording_goes_on_in_the_same_part_after_a_crash) {
  // Given a G.711 stream's recorder stopped mid-stream without finishing (as on kill -9)
  temp_dir in, out;
  const auto a = audio_first(encode(in.path, "a", 3, "320x240", 30, "-c:a pcm_mulaw -ar 8000 -ac 1"));
  const auto b = audio_first(encode(in.path, "b", 3, "320x240", 30, "-c:a pcm_mulaw -ar 8000 -ac 1"));
  crash_mid_stream(out.path, a);
  // When a new recorder takes the folder over and the publisher comes back
  recording r{out.path};
  r.publish(b);
  r.finish();
  // Then the same part goes on (the AAC made of the same source is the same track), and reads
  BOOST_REQUIRE(r.heard->finished);
  BOOST_TEST(r.heard->finished->parts.size() == 1u);
  const auto probe = probe_file(out.path / "part-0001.mp4");
  BOOST_TEST(probe.errors == "");
  BOOST_TEST(probe.duration >= 5.0);
  onair::testing::check_tone((out.path / "part-0001.mp4").string(), 4);
}

// While its VOD is made, a recording plays as it lies on disk (media/vod/recording_playlist.hpp).
std::vector<onair::media::vod::recorded_part> parts_of(const fs::path& dir, const record::progress& p) {
  std::vector<onair::media::vod::recorded_part> out;
  for (const auto& part : p.parts)
    out.push_back({dir / part.file, part.file, static_cast<double>(part.end_ms) / 1000});
  return out;
}

double listed_seconds(const std::string& playlist) {
  double total = 0;
  for (std::size_t at = playlist.find("#EXTINF:"); at != std::string::npos; at = playlist.find("#EXTINF:", at + 1))
    total += std::atof(playlist.c_str() + at + 8);
  return total;
}

BOOST_AUTO_TEST_CASE(a_recording_with_a_gap_plays_by_byte_range_as_it_lies_on_disk) {
  // Given a recording of two publishes, a gap between
  auto& src = source();
  temp_dir out;
  recording r{out.path};
  r.publish(src.b);
  r.publish(src.b, 10'000);
  r.finish();
  BOOST_REQUIRE(r.heard->finished);
  // When its playlist is made
  const auto text = onair::media::vod::recording_playlist(parts_of(out.path, *r.heard->finished), 2.0);
  BOOST_TEST_REQUIRE(text.has_value());
  // Then a player reads every frame of it, the gap gone
  std::ofstream{out.path / "index.m3u8"} << *text;
  const auto p = probe_file(out.path / "index.m3u8");
  BOOST_TEST(p.errors == "", p.errors);
  BOOST_TEST(p.frames == static_cast<long>(2 * video_frames(src.b)));
  const double recorded = static_cast<double>(r.heard->finished->duration_ms()) / 1000;
  BOOST_TEST(std::abs(p.duration - recorded) <= 0.2, p.duration << " vs " << recorded);
  BOOST_TEST(std::abs(listed_seconds(*text) - recorded) <= 0.1, *text);
}

BOOST_AUTO_TEST_CASE(a_recording_of_two_parts_plays_each_with_its_own_init_and_a_discontinuity) {
  // Given a recording whose publisher came back at another size (two parts)
  auto& src = source();
  temp_dir out;
  recording r{out.path};
  r.publish(src.b);
  r.publish(src.wide);
  r.finish();
  BOOST_REQUIRE(r.heard->finished);
  BOOST_REQUIRE(r.heard->finished->parts.size() == 2u);
  // When its playlist is made
  const auto text = onair::media::vod::recording_playlist(parts_of(out.path, *r.heard->finished), 2.0);
  BOOST_TEST_REQUIRE(text.has_value());
  // Then each part has its map, a discontinuity between, and the listed time is the recording's
  BOOST_TEST(text->find("#EXT-X-MAP:URI=\"part-0001.mp4\",BYTERANGE=") != std::string::npos, *text);
  BOOST_TEST(text->find("#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"part-0002.mp4\",BYTERANGE=") != std::string::npos,
             *text);
  const double recorded = static_cast<double>(r.heard->finished->duration_ms()) / 1000;
  BOOST_TEST(std::abs(listed_seconds(*text) - recorded) <= 0.1, *text);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(recorded_tracks)

// An MP3 frame as the hub stores it: the FLV audio header byte, then the MPEG audio frame.
fanout::message mp3_frame(std::vector<std::uint8_t> mpeg) {
  mpeg.insert(mpeg.begin(), 0x2F);
  auto f = make_frame(frame_kind::audio, 0, mpeg);
  f.codec = codec::mp3;
  f.set_data(f.bytes().subspan(1));
  return fanout::message{f, 0, 0};
}

BOOST_AUTO_TEST_CASE(an_mp3_track_takes_its_rate_and_channels_from_a_frame_header_and_no_configuration_record) {
  // MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, joint stereo
  const auto stereo = ffmpeg::describe_audio(mp3_frame({0xFF, 0xFB, 0x90, 0x44, 1, 2, 3}));
  BOOST_TEST_REQUIRE(stereo.ok());
  BOOST_TEST(stereo->sample_rate == 44100);
  BOOST_TEST(stereo->channels == 2);
  BOOST_TEST(stereo->config.empty()); // the frame is not a DecoderSpecificInfo
  // MPEG-2 Layer III, 24 kHz, mono
  const auto mono = ffmpeg::describe_audio(mp3_frame({0xFF, 0xF3, 0x84, 0xC0}));
  BOOST_TEST_REQUIRE(mono.ok());
  BOOST_TEST(mono->sample_rate == 24000);
  BOOST_TEST(mono->channels == 1);
  // No sync word, a reserved rate, too short: said, not guessed
  BOOST_TEST(!ffmpeg::describe_audio(mp3_frame({0x12, 0x34, 0x56, 0x78})).ok());
  BOOST_TEST(!ffmpeg::describe_audio(mp3_frame({0xFF, 0xFB, 0x9C, 0x44})).ok());
  BOOST_TEST(!ffmpeg::describe_audio(mp3_frame({0xFF, 0xFB})).ok());
  BOOST_TEST(ffmpeg::recordable(codec::mp3));
}

BOOST_AUTO_TEST_SUITE_END()
