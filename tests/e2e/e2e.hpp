#pragma once
// What the end-to-end tests share: ffmpeg publishers in the background, ffprobe on live URLs, and
// the onair binary with an app to call its API with.
#include <sys/wait.h>

#include "api/harness.hpp"
#include "eventually.hpp"

using namespace onair::test_harness;

namespace e2e {

// A shell command in the background (ffmpeg), its output in a file; killed when it goes.
class background {
public:
  background(const std::string& cmd, fs::path log) : log_(std::move(log)) {
    const std::string full = cmd + " >'" + log_.string() + "' 2>&1";
    const char* argv[] = {"/bin/sh", "-c", full.c_str(), nullptr};
    pid_t pid = -1;
    BOOST_REQUIRE(posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) == 0);
    child_ = std::make_unique<child_guard>(pid);
  }
  // Still running?
  [[nodiscard]] bool running() {
    if (child_->pid() <= 0)
      return false;
    int st = 0;
    if (::waitpid(child_->pid(), &st, WNOHANG) == child_->pid()) {
      code_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      child_->reaped();
      return false;
    }
    return true;
  }
  [[nodiscard]] std::optional<int> code() const { return code_; }
  void kill_now() { child_->kill_now(); }
  [[nodiscard]] std::string output() const { return read_file(log_); }

private:
  fs::path log_;
  std::unique_ptr<child_guard> child_;
  std::optional<int> code_;
};

// ffmpeg and the server in other processes: a longer deadline than in-process waits.
template <class Pred>
bool eventually(Pred p, std::chrono::milliseconds limit = 20s) {
  return onair::testing::eventually(p, limit, 50ms);
}

// A generated H.264/AAC clip published in real time for `seconds`.
inline std::string publish(const std::string& url, int seconds) {
  return "exec ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc2=size=640x360:rate=25 -f lavfi "
         "-i sine=frequency=440:sample_rate=44100 -c:v libx264 -preset ultrafast -tune zerolatency -g 25 -c:a aac "
         "-t " + std::to_string(seconds) + " -f flv '" + url + "'";
}

// The same without video: a publisher that never becomes viewable in RTMP mode.
inline std::string publish_audio_only(const std::string& url, int seconds) {
  return "exec ffmpeg -hide_banner -loglevel error -re -f lavfi -i sine=frequency=440:sample_rate=44100 -c:a aac "
         "-t " + std::to_string(seconds) + " -f flv '" + url + "'";
}

struct probe_result {
  int rc = -1;
  json out;
  std::string text;
};

// ffprobe's streams (and, with packets, the first seconds of packets) of a live URL.
inline probe_result probe(const fs::path& dir, const std::string& url, bool packets = false) {
  const auto out = dir / "probe.json";
  const std::string cmd = "timeout 30 ffprobe -v error -of json -show_streams " +
                          std::string{packets ? "-show_packets -read_intervals %+3 " : ""} + "'" + url + "' >'" +
                          out.string() + "' 2>'" + (dir / "probe.err").string() + "'";
  probe_result r;
  const int st = std::system(cmd.c_str());
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.text = read_file(out) + read_file(dir / "probe.err");
  r.out = json::parse(read_file(out), nullptr, false);
  return r;
}

inline json stream_of(const json& probe, const std::string& type) {
  if (probe.is_object() && probe.contains("streams"))
    for (const auto& s : probe["streams"])
      if (s.value("codec_type", "") == type)
        return s;
  return nullptr;
}

// The same media: H.264 640x360 and AAC, as published.
inline void check_media(const probe_result& p, const std::string& what) {
  BOOST_TEST_REQUIRE(p.rc == 0, what << ": ffprobe failed: " << p.text);
  const auto v = stream_of(p.out, "video");
  const auto a = stream_of(p.out, "audio");
  BOOST_TEST_REQUIRE(v.is_object(), what << ": no video stream: " << p.text);
  BOOST_TEST(v.value("codec_name", "") == "h264", what);
  BOOST_TEST(v.value("width", 0) == 640, what);
  BOOST_TEST(v.value("height", 0) == 360, what);
  BOOST_TEST_REQUIRE(a.is_object(), what << ": no audio stream: " << p.text);
  BOOST_TEST(a.value("codec_name", "") == "aac", what);
}

struct live_server {
  temp_dir dir;
  fs::path data = dir.path() / "data";
  server_process srv;
  std::optional<api_client> api;

  explicit live_server(std::vector<std::string> args = {}) : srv{data, std::move(args)} {
    srv.wait_ready();
    const auto out = srv.stdout_text();
    api.emplace(srv.http(), printed_value(out, "apiKey:"), printed_value(out, "apiSecret:"));
  }

  json key_of(const std::string& app_user_id) {
    api->member(app_user_id);
    auto r = api->get("/v2/apps/me/members/" + app_user_id + "/stream-key");
    BOOST_REQUIRE_MESSAGE(r.status == 200, r);
    return r.body;
  }
  json key(std::int64_t id) { return api->get("/v2/apps/me/stream-keys/" + std::to_string(id)).body; }
  json room(std::int64_t id) { return api->get("/v2/apps/me/video-rooms/" + std::to_string(id)).body; }
  bool key_in(std::int64_t id, const std::string& state) { return key(id).value("streamKeyState", "") == state; }
  bool room_in(std::int64_t id, const std::string& state) { return room(id).value("videoRoomState", "") == state; }

  // The stream health samples of a key on onair.telemetry, oldest first, read through the
  // running server's broker.
  std::vector<json> telemetry_samples(std::int64_t key_id) {
    std::vector<json> out;
    const auto r = run_onair({"events", "tail", "--from-beginning", "--topic", "onair.telemetry", "--data-dir", data.string()});
    BOOST_REQUIRE_MESSAGE(r.code == 0, r);
    std::istringstream lines{r.out};
    for (std::string line; std::getline(lines, line);) {
      auto j = json::parse(line, nullptr, false);
      BOOST_REQUIRE_MESSAGE(j.is_object(), "not JSON on the telemetry topic: " << line);
      if (j.value("streamKeyId", std::int64_t{0}) == key_id)
        out.push_back(std::move(j));
    }
    return out;
  }
};

// A generated 30 fps H.264/AAC source of any size (a 1 s GOP, as an encoder set for streaming
// sends), published in real time for `seconds`.
inline std::string publish_sized(const std::string& url, int width, int height, int seconds) {
  const auto size = std::to_string(width) + "x" + std::to_string(height);
  return "exec ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc2=size=" + size +
         ":rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000 -c:v libx264 -preset ultrafast -tune zerolatency "
         "-g 30 -c:a aac -t " + std::to_string(seconds) + " -f flv '" + url + "'";
}

inline std::string ingest_url(const json& key) {
  return key["ingestUrl"].get<std::string>() + "/" + key["streamKey"].get<std::string>();
}

// A member's key publishing a 640x360 source in `mode` for `seconds`, and its room put live:
// where a broadcast test starts from.
struct live_broadcast {
  json key;
  std::int64_t key_id = 0;
  std::string room_path;
  json live; // the Start Live answer: the room with its play URLs
  std::unique_ptr<background> pub;
};

inline live_broadcast go_live(live_server& s, const std::string& app_user_id, const std::string& mode, int seconds) {
  live_broadcast b;
  b.key = s.key_of(app_user_id);
  b.key_id = b.key["id"].get<std::int64_t>();
  b.room_path = "/v2/apps/me/video-rooms/" + std::to_string(s.api->room(app_user_id)["id"].get<std::int64_t>());
  b.pub = std::make_unique<background>(publish_sized(ingest_url(b.key) + "?mode=" + mode, 640, 360, seconds),
                                       s.dir.path() / "pub.log");
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(b.key_id, "ACTIVE"); }, 30s), b.pub->output());
  auto live = s.api->post(b.room_path + "/rtmp-broadcast/state/live", nullptr);
  BOOST_TEST_REQUIRE(live.status == 200, live);
  b.live = live.body;
  return b;
}

} // namespace e2e

using namespace e2e;
