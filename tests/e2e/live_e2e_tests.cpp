// The whole product against real peers: the `onair` binary, ffmpeg publishing over RTMP, ffprobe
// reading back over RTMP and HTTP-FLV, and the REST API showing every key and room state that
// the publisher drives (lifecycle.md).
#include "e2e.hpp"

BOOST_AUTO_TEST_SUITE(live_e2e)

BOOST_AUTO_TEST_CASE(a_publisher_drives_the_key_and_viewers_play_it_over_rtmp_and_http_flv) {
  live_server s;
  const auto k = s.key_of("alice");
  const auto key_id = k["id"].get<std::int64_t>();
  BOOST_TEST(k["streamKeyState"] == "INACTIVE");
  BOOST_TEST(k["rtmpPlayUrl"].is_null());

  background pub{publish(ingest_url(k), 40), s.dir.path() / "pub.log"};
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(key_id, "ACTIVE"); }), "key never ACTIVE: " << s.key(key_id)
                                                                                  << pub.output());
  const auto active = s.key(key_id);
  BOOST_TEST_REQUIRE(active["rtmpPlayUrl"].is_string(), active.dump());
  BOOST_TEST_REQUIRE(active["httpFlvPlayUrl"].is_string(), active.dump());
  BOOST_TEST(active["rtmpPlayUrl"].get<std::string>().find(k["streamKey"].get<std::string>()) == std::string::npos,
             "the preview URL never shows the key");

  check_media(probe(s.dir.path(), active["rtmpPlayUrl"].get<std::string>()), "RTMP preview");
  const auto flv = probe(s.dir.path(), active["httpFlvPlayUrl"].get<std::string>(), true);
  check_media(flv, "HTTP-FLV preview");
  // Decode timestamps only go forward, per stream; the first packet of video is a key frame.
  std::map<int, double> last;
  bool first_video = true;
  for (const auto& p : flv.out.value("packets", json::array())) {
    const int idx = p.value("stream_index", -1);
    const double dts = std::stod(p.value("dts_time", "0"));
    if (last.contains(idx))
      BOOST_TEST(dts >= last[idx], "dts went back on stream " << idx);
    last[idx] = dts;
    if (p.value("codec_type", "") == "video" && first_video) {
      BOOST_TEST(p.value("flags", "").find('K') != std::string::npos, "a viewer starts on a key frame");
      first_video = false;
    }
  }
  BOOST_TEST(!last.empty(), flv.text);

  // The ingest shows on the key (stats arrive every few seconds).
  BOOST_TEST(eventually([&] { return s.key(key_id)["ingest"].value("videoCodec", "") == "h264"; }),
             s.key(key_id).dump());
  BOOST_TEST(s.key(key_id)["ingest"].value("width", 0) == 640);
  // and the stats keep where and when the publisher connected
  BOOST_TEST(s.key(key_id)["ingest"].value("remoteAddr", "") == "127.0.0.1", s.key(key_id).dump());
  BOOST_TEST(s.key(key_id)["ingest"].value("startedAt", "").starts_with("20"), s.key(key_id).dump());

  // A second publisher on the same key, and a wrong key, are refused; the first goes on.
  background second{publish(ingest_url(k), 5), s.dir.path() / "second.log"};
  background wrong{publish(k["ingestUrl"].get<std::string>() + "/not-a-key", 5), s.dir.path() / "wrong.log"};
  BOOST_TEST(eventually([&] { return !second.running() && !wrong.running(); }));
  BOOST_TEST(second.code().value_or(0) != 0, second.output());
  BOOST_TEST(wrong.code().value_or(0) != 0, wrong.output());
  // told why, and nothing about the session on the air
  BOOST_TEST(second.output().find("stream key already publishing") != std::string::npos, second.output());
  BOOST_TEST(second.output().find("session") == std::string::npos, second.output());
  BOOST_TEST(wrong.output().find("unknown stream key") != std::string::npos, wrong.output());
  BOOST_TEST(pub.running());
  BOOST_TEST(s.key_in(key_id, "ACTIVE"));

  // The publisher leaves: INACTIVE, the preview is gone.
  pub.kill_now();
  BOOST_TEST(eventually([&] { return s.key_in(key_id, "INACTIVE"); }), s.key(key_id).dump());
  BOOST_TEST(s.key(key_id)["rtmpPlayUrl"].is_null());
  auto gone = http_call(s.srv.http().host, s.srv.http().port, "GET",
                        "/play/" + active["httpFlvPlayUrl"].get<std::string>().substr(
                                       active["httpFlvPlayUrl"].get<std::string>().rfind('/') + 1));
  BOOST_TEST(gone.status == 404);

  const auto metrics = http_call(s.srv.http().host, s.srv.http().port, "GET", "/metrics").body;
  BOOST_TEST(contains(metrics, "onair_media_publish_sessions_total 1"), metrics);
  BOOST_TEST(contains(metrics, "onair_media_publish_rejected_total 2"), metrics);
  // The HTTP-FLV viewers' connections left the server's count when they went: the request
  // asking is the only one open.
  BOOST_TEST(eventually([&] {
    return contains(http_call(s.srv.http().host, s.srv.http().port, "GET", "/metrics").body,
                    "onair_http_open_connections 1\n");
  }), "HTTP-FLV viewers still counted as open connections");

  // The mode may ride in the key, as OBS sends it: CMAF is in force, and the key waits in
  // ACTIVE_PREP for the packager's first segments (RTMP key frames do not make it viewable),
  // then is ACTIVE with its HLS and DASH URLs.
  background cmaf{publish(ingest_url(k) + "?mode=CMAF", 30), s.dir.path() / "cmaf.log"};
  BOOST_TEST(eventually([&] { return s.key_in(key_id, "ACTIVE_PREP") || s.key_in(key_id, "ACTIVE"); }),
             s.key(key_id).dump() << cmaf.output());
  BOOST_TEST(s.key(key_id)["mode"] == "CMAF");
  BOOST_TEST(eventually([&] { return s.key_in(key_id, "ACTIVE"); }), s.key(key_id).dump() << cmaf.output());
  BOOST_TEST(s.key(key_id)["cmafHlsPlayUrl"].is_string(), s.key(key_id).dump());
  cmaf.kill_now();
  BOOST_TEST(eventually([&] { return s.key_in(key_id, "INACTIVE"); }), s.key(key_id).dump());
}

BOOST_AUTO_TEST_CASE(a_broadcast_goes_live_survives_a_reconnect_and_a_forced_end_cuts_the_publisher) {
  live_server s;
  const auto k = s.key_of("bob");
  const auto key_id = k["id"].get<std::int64_t>();
  const auto room = s.api->room("bob");
  const auto room_id = room["id"].get<std::int64_t>();
  const auto room_path = "/v2/apps/me/video-rooms/" + std::to_string(room_id);

  auto pub = std::make_unique<background>(publish(ingest_url(k), 60), s.dir.path() / "pub.log");
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(key_id, "ACTIVE"); }), pub->output());
  auto live = s.api->post(room_path + "/rtmp-broadcast/state/live", nullptr);
  BOOST_TEST_REQUIRE(live.status == 200, live);
  BOOST_TEST(live.body["videoRoomState"] == "LIVE");
  BOOST_TEST(s.key_in(key_id, "ACTIVE_LIVE"));
  const auto room_rtmp = live.body["rtmpPlayUrl"].get<std::string>();
  const auto room_flv = live.body["httpFlvPlayUrl"].get<std::string>();
  check_media(probe(s.dir.path(), room_rtmp), "RTMP room playback");
  check_media(probe(s.dir.path(), room_flv), "HTTP-FLV room playback");

  // The publisher drops: the room waits (LIVE_INACTIVE), the key is INACTIVE_LIVE.
  pub->kill_now();
  BOOST_TEST(eventually([&] { return s.key_in(key_id, "INACTIVE_LIVE"); }), s.key(key_id).dump());
  BOOST_TEST(eventually([&] { return s.room_in(room_id, "LIVE_INACTIVE"); }), s.room(room_id).dump());
  // It comes back without video first: connected but not viewable, the key waits in
  // ACTIVE_LIVE_PREP and the room stays LIVE_INACTIVE; it drops again → INACTIVE_LIVE.
  pub = std::make_unique<background>(publish_audio_only(ingest_url(k), 60), s.dir.path() / "pub-audio.log");
  BOOST_TEST(eventually([&] { return s.key_in(key_id, "ACTIVE_LIVE_PREP"); }), s.key(key_id).dump() << pub->output());
  BOOST_TEST(s.room_in(room_id, "LIVE_INACTIVE"), s.room(room_id).dump());
  pub->kill_now();
  BOOST_TEST(eventually([&] { return s.key_in(key_id, "INACTIVE_LIVE"); }), s.key(key_id).dump());
  // Ended needs the publisher gone for good; it comes back instead, with video.
  pub = std::make_unique<background>(publish(ingest_url(k), 60), s.dir.path() / "pub2.log");
  BOOST_TEST(eventually([&] { return s.key_in(key_id, "ACTIVE_LIVE"); }), s.key(key_id).dump() << pub->output());
  BOOST_TEST(eventually([&] { return s.room_in(room_id, "LIVE"); }), s.room(room_id).dump());
  check_media(probe(s.dir.path(), room_flv), "HTTP-FLV after the reconnect");

  // Forced end: the publisher is cut, the room ENDED, the key reissued and INACTIVE.
  auto ended = s.api->post(room_path + "/rtmp-broadcast/state/ended?force=true", nullptr);
  BOOST_TEST_REQUIRE(ended.status == 200, ended);
  BOOST_TEST(ended.body["videoRoomState"] == "ENDED");
  BOOST_TEST(eventually([&] { return !pub->running(); }), "the publisher was not cut");
  BOOST_TEST(s.key_in(key_id, "INACTIVE"));
  const auto after = s.key(key_id);
  BOOST_TEST(after["streamKey"] != k["streamKey"], "the key was reissued");
  // The old key value publishes nothing any more.
  background stale{publish(ingest_url(k), 3), s.dir.path() / "stale.log"};
  BOOST_TEST(eventually([&] { return !stale.running(); }));
  BOOST_TEST(stale.code().value_or(0) != 0);
  BOOST_TEST(s.key_in(key_id, "INACTIVE"));
}

BOOST_AUTO_TEST_CASE(a_deleted_member_has_its_publisher_cut_and_its_key_refused) {
  live_server s;
  const auto k = s.key_of("carol");
  const auto key_id = k["id"].get<std::int64_t>();
  background pub{publish(ingest_url(k), 60), s.dir.path() / "pub.log"};
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(key_id, "ACTIVE"); }), pub.output());

  const auto del = s.api->del("/v2/apps/me/members/carol");

  BOOST_TEST_REQUIRE(del.status == 204, del);
  BOOST_TEST(eventually([&] { return !pub.running(); }), "the publisher was not cut");
  // The same key value is refused from now on (nothing is created for it).
  background again{publish(ingest_url(k), 3), s.dir.path() / "again.log"};
  BOOST_TEST(eventually([&] { return !again.running(); }));
  BOOST_TEST(again.code().value_or(0) != 0);
  // refused as any unknown key is: the encoder learns nothing of the key that was
  BOOST_TEST(again.output().find("unknown stream key") != std::string::npos, again.output());
  BOOST_TEST(again.output().find("revoked") == std::string::npos, again.output());
  BOOST_TEST(s.api->get("/v2/apps/me/members/carol").status == 404);
}

BOOST_AUTO_TEST_CASE(a_server_stopped_under_a_live_publisher_records_its_end_and_exits_cleanly) {
  // Given a publisher on the air
  live_server s;
  const auto k = s.key_of("dave");
  const auto key_id = k["id"].get<std::int64_t>();
  background pub{publish(ingest_url(k), 60), s.dir.path() / "pub.log"};
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(key_id, "ACTIVE"); }), pub.output());
  // When the server is stopped (SIGTERM): the publisher's end is recorded on the way down, by
  // jobs that must run before the objects they use are gone (a use-after-free before)
  const int code = s.srv.stop();
  // Then it exits 0
  BOOST_TEST(code == 0, s.srv.stderr_text());
  BOOST_TEST(s.srv.stderr_text().find("AddressSanitizer") == std::string::npos, s.srv.stderr_text());
  BOOST_TEST(eventually([&] { return !pub.running(); }));
  // and the log has the publisher's end as the stop recorded it (a restart's recovery would
  // record "server restarted" instead)
  server_process again{s.data};
  again.wait_ready();
  const auto out = s.srv.stdout_text();
  api_client api{again.http(), printed_value(out, "apiKey:"), printed_value(out, "apiSecret:")};
  const auto events = api.get("/v2/apps/me/events?limit=1000");
  BOOST_REQUIRE_MESSAGE(events.status == 200, events);
  bool recorded = false;
  for (const auto& e : events.body["events"])
    if (e["type"] == "onair.stream_key.publisher_disconnected" && e["data"].value("reason", "") == "server stopping")
      recorded = true;
  BOOST_TEST(recorded, events.body.dump());
}

// Telemetry is not audit: stream health goes to its own Kafka topic every stats interval (5 s),
// the key shows the figures as measured, and the log keeps one ingest event for a steady source.
BOOST_AUTO_TEST_CASE(stream_health_goes_to_the_telemetry_topic_and_the_log_keeps_only_what_changes) {
  live_server s;
  const auto k = s.key_of("tess");
  const auto key_id = k["id"].get<std::int64_t>();
  background pub{publish(ingest_url(k), 40), s.dir.path() / "pub.log"};
  BOOST_TEST_REQUIRE(eventually([&] { return s.key_in(key_id, "ACTIVE"); }), pub.output());
  const auto flv = s.key(key_id)["httpFlvPlayUrl"].get<std::string>();
  background viewer{"exec ffmpeg -hide_banner -loglevel error -i '" + flv + "' -t 30 -f null -", s.dir.path() / "viewer.log"};

  std::vector<json> seen;
  BOOST_TEST_REQUIRE(eventually([&] {
                       seen = s.telemetry_samples(key_id);
                       return seen.size() >= 3 && seen.back()["viewers"].value("httpFlv", 0) == 1;
                     }, 40s),
                     "samples: " << json(seen).dump() << pub.output() << viewer.output());
  for (const auto& sample : seen) {
    BOOST_TEST(sample.value("type", "") == "onair.telemetry.stream_health", sample.dump());
    BOOST_TEST(sample["ingest"].value("videoCodec", "") == "h264", sample.dump());
    BOOST_TEST(sample["ingest"].value("width", 0) == 640, sample.dump());
    BOOST_TEST(sample["ingest"].value("bitrateKbps", 0) > 0, sample.dump());
    BOOST_TEST(sample.value("sessionId", "") != "", sample.dump());
    BOOST_TEST(sample.contains("droppedGops"), sample.dump());
  }
  BOOST_TEST(seen.back()["viewers"].value("rtmp", -1) == 0, seen.back().dump());
  BOOST_TEST(seen.back()["viewers"].value("hls", -1) == 0, seen.back().dump()); // an RTMP publish: no CMAF
  BOOST_TEST(!seen.back().contains("transcodeLagMs"), seen.back().dump());

  // The key shows the figures as measured last (its ingest is live, not the recorded one).
  const auto live = s.key(key_id)["ingest"];
  BOOST_TEST(live.value("videoCodec", "") == "h264", live.dump());
  BOOST_TEST(live.value("fps", 0.0) > 0, live.dump());

  // The log: one ingest event for the session (its first figures); the rest was telemetry.
  const auto recorded = run_onair({"events", "tail", "--from-beginning", "--type", "stream_key.ingest_stats_updated",
                                   "--data-dir", s.data.string()});
  BOOST_REQUIRE_MESSAGE(recorded.code == 0, recorded);
  std::size_t events = 0;
  std::istringstream lines{recorded.out};
  for (std::string line; std::getline(lines, line);) {
    if (line.empty())
      continue;
    ++events;
    // recorded by the ingest, for the publisher's session, from its address
    const auto e = json::parse(line);
    BOOST_TEST(e.value("onairprincipal", "") == "system:rtmp-ingest", line);
    BOOST_TEST(e.value("onairclientip", "") == "127.0.0.1", line);
    BOOST_TEST(e.value("onaircorrelationid", "") == seen.back().value("sessionId", "?"), line);
  }
  BOOST_TEST(events == 1u, recorded.out);
  const auto metrics = http_call(s.srv.http().host, s.srv.http().port, "GET", "/metrics").body;
  BOOST_TEST(contains(metrics, "onair_kafka_telemetry_sent_total"), metrics);
  // and /metrics shows the same live figures, by stream
  const auto series = "{app=\"" + std::to_string(seen.back().value("appId", 0)) + "\",stream_key=\"" +
                      std::to_string(key_id) + "\"}";
  BOOST_TEST(contains(metrics, "onair_ingest_bitrate_kbps" + series), metrics);
  BOOST_TEST(contains(metrics, "onair_ingest_http_flv_viewers" + series), metrics);
}

BOOST_AUTO_TEST_SUITE_END()
