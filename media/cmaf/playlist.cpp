#include "media/cmaf/playlist.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>

namespace onair::media::cmaf {
namespace {

double seconds(std::int64_t ticks, const rendition_view& r) {
  return r.config ? static_cast<double>(ticks) / r.config->timescale : 0.0;
}

// The audio rendition's peak rate, added to each video variant's BANDWIDTH.
int audio_bandwidth(const stream_view& v) {
  for (const auto& r : v.renditions)
    if (r.desc.kind == track_kind::audio)
      return r.desc.bandwidth;
  return 0;
}

const rendition_view* audio_of(const stream_view& v) {
  for (const auto& r : v.renditions)
    if (r.desc.kind == track_kind::audio && r.config)
      return &r;
  return nullptr;
}

} // namespace

std::string fixed(double v, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string duration_iso(double s) { return "PT" + fixed(s, 3) + "S"; }

std::string segment_uri(const std::string& rendition, std::int64_t msn) {
  return rendition + "/" + std::to_string(msn) + ".m4s";
}

std::string part_uri(const std::string& rendition, std::int64_t msn, int part) {
  return rendition + "/" + std::to_string(msn) + "." + std::to_string(part) + ".m4s";
}

int target_duration_s(const stream_options& o) { return static_cast<int>((o.segment_ms + 999) / 1000); }
double part_target_s(const stream_options& o) { return static_cast<double>(o.part_target_ms) / 1000.0; }
double can_skip_until_s(const stream_options& o) { return 6.0 * target_duration_s(o); }

std::string iso8601_ms(std::int64_t unix_ms) {
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(unix_ms % 1000));
  return buf;
}

std::string master_playlist(const stream_view& v) {
  std::string out = "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-INDEPENDENT-SEGMENTS\n";
  const auto* audio = audio_of(v);
  if (audio)
    out += "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"audio\",LANGUAGE=\"und\",DEFAULT=YES,AUTOSELECT=YES,"
           "CHANNELS=\"" + std::to_string(audio->config->channels) + "\",URI=\"" + audio->desc.id + ".m3u8\"\n";
  const int audio_bw = audio ? audio_bandwidth(v) : 0;
  for (const auto& r : v.renditions) {
    if (r.desc.kind != track_kind::video || !r.config)
      continue;
    std::string codecs = codecs_of(*r.config);
    if (audio)
      codecs += "," + codecs_of(*audio->config);
    out += "#EXT-X-STREAM-INF:BANDWIDTH=" + std::to_string(r.desc.bandwidth + audio_bw) + ",CODECS=\"" + codecs +
           "\",RESOLUTION=" + std::to_string(r.config->width) + "x" + std::to_string(r.config->height) +
           ",FRAME-RATE=" + fixed(r.desc.frame_rate, 3) + (audio ? ",AUDIO=\"audio\"" : "") + "\n" + r.desc.id +
           ".m3u8\n";
  }
  return out;
}

std::optional<last_part> last_published(const rendition_view& r) {
  for (auto it = r.segments.rbegin(); it != r.segments.rend(); ++it)
    if (!(*it)->parts.empty())
      return last_part{(*it)->msn, static_cast<int>((*it)->parts.size()) - 1};
  return std::nullopt;
}

std::string media_playlist(const stream_view& v, std::size_t index, bool skip) {
  const auto& r = v.renditions.at(index);
  const auto& o = v.opts;
  std::string out = "#EXTM3U\n#EXT-X-VERSION:9\n";
  out += "#EXT-X-TARGETDURATION:" + std::to_string(target_duration_s(o)) + "\n";
  out += "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=" + fixed(can_skip_until_s(o), 1) +
         ",PART-HOLD-BACK=" + fixed(3 * part_target_s(o), 3) + ",HOLD-BACK=" + fixed(3.0 * target_duration_s(o), 1) +
         "\n";
  out += "#EXT-X-PART-INF:PART-TARGET=" + fixed(part_target_s(o), 3) + "\n";
  const auto& segs = r.segments;
  const std::int64_t first_msn = segs.empty() ? r.next_msn : segs.front()->msn;
  out += "#EXT-X-MEDIA-SEQUENCE:" + std::to_string(first_msn) + "\n";
  out += "#EXT-X-DISCONTINUITY-SEQUENCE:" + std::to_string(segs.empty() ? 0 : segs.front()->discontinuity) + "\n";
  out += "#EXT-X-INDEPENDENT-SEGMENTS\n";
  out += "#EXT-X-MAP:URI=\"" + o.uri_prefix + r.desc.id + "/init.mp4\"\n";

  // The playlist's end, for the skip boundary and for which segments list their parts.
  double end_s = 0;
  for (const auto& s : segs)
    end_s += seconds(s->duration, r);
  std::size_t skipped = 0;
  if (skip) {
    double at = 0;
    for (const auto& s : segs) {
      if (!s->complete || end_s - at <= can_skip_until_s(o))
        break;
      at += seconds(s->duration, r);
      ++skipped;
    }
    if (skipped > 0)
      out += "#EXT-X-SKIP:SKIPPED-SEGMENTS=" + std::to_string(skipped) + "\n";
  }
  const double parts_from_s = end_s - 3.0 * target_duration_s(o);
  double at = 0;
  std::optional<std::uint32_t> prev_discontinuity;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const auto& s = *segs[i];
    const double seg_s = seconds(s.duration, r);
    if (i >= skipped) {
      if (prev_discontinuity && *prev_discontinuity != s.discontinuity)
        out += "#EXT-X-DISCONTINUITY\n";
      out += "#EXT-X-PROGRAM-DATE-TIME:" + iso8601_ms(s.program_date_ms) + "\n";
      if (at + seg_s > parts_from_s || !s.complete)
        for (std::size_t p = 0; p < s.parts.size(); ++p)
          out += "#EXT-X-PART:DURATION=" + fixed(seconds(s.parts[p].duration, r), 5) + ",URI=\"" +
                 part_uri(o.uri_prefix + r.desc.id, s.msn, static_cast<int>(p)) + "\"" +
                 (s.parts[p].independent ? ",INDEPENDENT=YES" : "") + "\n";
      if (s.complete)
        out += "#EXTINF:" + fixed(seg_s, 5) + ",\n" + segment_uri(o.uri_prefix + r.desc.id, s.msn) + "\n";
    }
    prev_discontinuity = s.discontinuity;
    at += seg_s;
  }
  if (v.ended) {
    out += "#EXT-X-ENDLIST\n";
    return out;
  }
  out += "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"" + part_uri(o.uri_prefix + r.desc.id, r.next_msn, r.next_part) + "\"\n";
  for (std::size_t j = 0; j < v.renditions.size(); ++j) {
    const auto& other = v.renditions[j];
    if (j == index || other.desc.kind != r.desc.kind || !other.config)
      continue;
    if (auto last = last_published(other))
      out += "#EXT-X-RENDITION-REPORT:URI=\"" + other.desc.id + ".m3u8\",LAST-MSN=" + std::to_string(last->msn) +
             ",LAST-PART=" + std::to_string(last->part) + "\n";
  }
  return out;
}

std::string dash_manifest(const stream_view& v, const std::string& time_url, std::int64_t now_ms) {
  const auto& o = v.opts;
  const double seg_s = static_cast<double>(o.segment_ms) / 1000.0;
  const double part_s = part_target_s(o);
  std::string out = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";
  out += "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" "
         "profiles=\"urn:mpeg:dash:profile:isoff-live:2011,urn:mpeg:dash:profile:cmaf:2019\" type=\"dynamic\"";
  out += " availabilityStartTime=\"" + iso8601_ms(v.availability_start_ms) + "\"";
  out += " publishTime=\"" + iso8601_ms(now_ms) + "\"";
  if (v.ended && !v.renditions.empty() && !v.renditions.front().segments.empty()) {
    // The presentation ends where the last segment does.
    const auto& r0 = v.renditions.front();
    const auto& last = *r0.segments.back();
    const double end_s =
        static_cast<double>(last.program_date_ms - v.availability_start_ms) / 1000.0 + seconds(last.duration, r0);
    out += " mediaPresentationDuration=\"" + duration_iso(std::max(0.0, end_s)) + "\"";
  } else {
    out += " minimumUpdatePeriod=\"" + duration_iso(seg_s) + "\"";
  }
  out += " minBufferTime=\"" + duration_iso(part_s * 2) + "\"";
  out += " timeShiftBufferDepth=\"" + duration_iso(seg_s * static_cast<double>(o.window_segments - 1)) + "\"";
  out += " maxSegmentDuration=\"" + duration_iso(seg_s) + "\"";
  out += ">\n";
  out += "  <ServiceDescription id=\"0\">\n"
         "    <Latency referenceId=\"0\" target=\"" + std::to_string(static_cast<int>(seg_s * 750)) +
         "\" min=\"" + std::to_string(static_cast<int>(seg_s * 500)) + "\" max=\"" +
         std::to_string(static_cast<int>(seg_s * 2000)) + "\"/>\n"
         "    <PlaybackRate min=\"0.96\" max=\"1.04\"/>\n"
         "  </ServiceDescription>\n";

  // Periods: each one still in the window, with where it began (its first segment may have left).
  struct period_start {
    std::int64_t wall_ms = 0;
    std::int64_t msn = 0;
    std::vector<std::optional<std::int64_t>> start; // per rendition: decode time at the period's start
  };
  std::map<std::uint32_t, period_start> periods;
  for (std::size_t r = 0; r < v.renditions.size(); ++r) {
    for (const auto& s : v.renditions[r].segments) {
      auto& p = periods[s->period];
      p.wall_ms = s->period_wall_ms;
      p.msn = s->period_msn;
      p.start.resize(v.renditions.size());
      p.start[r] = s->period_start;
    }
  }
  for (const auto& [id, p] : periods) {
    const double start_s = std::max<double>(0.0, static_cast<double>(p.wall_ms - v.availability_start_ms) / 1000.0);
    out += "  <Period id=\"p" + std::to_string(id) + "\" start=\"" + duration_iso(start_s) + "\">\n";
    int set_id = 0;
    for (auto kind : {track_kind::video, track_kind::audio}) {
      std::string reps;
      std::int64_t start_number = -1, pto = 0;
      std::uint32_t timescale = 0;
      for (std::size_t r = 0; r < v.renditions.size(); ++r) {
        const auto& rv = v.renditions[r];
        if (rv.desc.kind != kind || !rv.config || r >= p.start.size() || !p.start[r])
          continue;
        if (start_number < 0) {
          start_number = p.msn;
          pto = *p.start[r];
          timescale = rv.config->timescale;
        }
        reps += "      <Representation id=\"" + rv.desc.id + "\" codecs=\"" + codecs_of(*rv.config) +
                "\" bandwidth=\"" + std::to_string(rv.desc.bandwidth) + "\"";
        if (kind == track_kind::video)
          reps += " width=\"" + std::to_string(rv.config->width) + "\" height=\"" +
                  std::to_string(rv.config->height) + "\" frameRate=\"" +
                  std::to_string(static_cast<int>(std::lround(rv.desc.frame_rate))) + "\" sar=\"1:1\"/>\n";
        else
          reps += " audioSamplingRate=\"" + std::to_string(rv.config->sample_rate) +
                  "\">\n        <AudioChannelConfiguration "
                  "schemeIdUri=\"urn:mpeg:dash:23003:3:audio_channel_configuration:2011\" value=\"" +
                  std::to_string(rv.config->channels) + "\"/>\n      </Representation>\n";
      }
      if (reps.empty())
        continue;
      const bool video = kind == track_kind::video;
      out += "    <AdaptationSet id=\"" + std::to_string(set_id++) + "\" contentType=\"" +
             (video ? "video" : "audio") + "\" mimeType=\"" + (video ? "video/mp4" : "audio/mp4") +
             "\" segmentAlignment=\"true\" startWithSAP=\"1\">\n";
      out += "      <SegmentTemplate timescale=\"" + std::to_string(timescale) + "\" duration=\"" +
             std::to_string(static_cast<std::int64_t>(o.segment_ms) * timescale / 1000) + "\" startNumber=\"" +
             std::to_string(start_number) + "\" presentationTimeOffset=\"" + std::to_string(pto) +
             "\" initialization=\"" + o.uri_prefix + "$RepresentationID$/init.mp4\" media=\"" + o.uri_prefix +
             "$RepresentationID$/$Number$.m4s\"" +
             " availabilityTimeOffset=\"" + fixed(seg_s - part_s, 3) + "\" availabilityTimeComplete=\"false\"/>\n";
      out += reps;
      out += "    </AdaptationSet>\n";
    }
    out += "  </Period>\n";
  }
  out += "  <UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:http-iso:2014\" value=\"" + time_url + "\"/>\n";
  out += "</MPD>\n";
  return out;
}

} // namespace onair::media::cmaf
