#include "media/cmaf/vod_playlist.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "media/cmaf/playlist.hpp"

namespace onair::media::cmaf {
namespace {

double seconds(std::int64_t ticks, const vod_rendition& r) {
  return r.config.timescale ? static_cast<double>(ticks) / r.config.timescale : 0.0;
}

const vod_rendition* audio_of(const vod_layout& v) {
  for (const auto& r : v.renditions)
    if (r.config.kind == track_kind::audio)
      return &r;
  return nullptr;
}

// Bits per second. BANDWIDTH is the peak; a rendition not measured advertises its configured rate.
std::int64_t peak_bandwidth(const vod_rendition& r) {
  return r.peak_bandwidth > 0 ? r.peak_bandwidth : std::int64_t{r.config.bitrate_kbps} * 1000;
}

std::int64_t average_bandwidth(const vod_rendition& r) {
  std::uint64_t bytes = 0;
  std::int64_t ticks = 0;
  for (const auto& s : r.segments) {
    bytes += s.bytes;
    ticks += s.duration;
  }
  const double s = seconds(ticks, r);
  return s > 0 ? std::llround(static_cast<double>(bytes) * 8 / s) : peak_bandwidth(r);
}

// DASH's FrameRateType is an integer or a ratio, never a decimal: 30, 30000/1001, 12500/1000.
std::string frame_rate_ratio(double fps) {
  if (std::abs(fps - std::round(fps)) < 0.001)
    return std::to_string(std::llround(fps));
  const double ntsc = fps * 1.001;
  if (std::abs(ntsc - std::round(ntsc)) < 0.001)
    return std::to_string(std::llround(ntsc) * 1000) + "/1001";
  return std::to_string(std::llround(fps * 1000)) + "/1000";
}

// One rendition's segments in one period.
std::vector<const vod_segment*> in_period(const vod_rendition& r, std::uint32_t period) {
  std::vector<const vod_segment*> out;
  for (const auto& s : r.segments)
    if (s.period == period)
      out.push_back(&s);
  return out;
}

// <S> runs: a segment of the previous one's duration that starts where it ends extends its run
// (r); t is written where the timeline does not simply continue.
std::string segment_timeline(const std::vector<const vod_segment*>& segs, const std::string& indent) {
  std::string out;
  std::int64_t end = -1;
  for (std::size_t i = 0; i < segs.size();) {
    const auto& s = *segs[i];
    std::size_t j = i;
    while (j + 1 < segs.size() && segs[j + 1]->duration == s.duration &&
           segs[j + 1]->start == segs[j]->start + segs[j]->duration)
      ++j;
    out += indent + "<S";
    if (s.start != end)
      out += " t=\"" + std::to_string(s.start) + "\"";
    out += " d=\"" + std::to_string(s.duration) + "\"";
    if (j > i)
      out += " r=\"" + std::to_string(j - i) + "\"";
    out += "/>\n";
    end = segs[j]->start + segs[j]->duration;
    i = j + 1;
  }
  return out;
}

// The rendition whose segments place the periods in time: the first video, else the audio.
const vod_rendition* timing_rendition(const vod_layout& v) {
  for (const auto& r : v.renditions)
    if (r.config.kind == track_kind::video && !r.segments.empty())
      return &r;
  for (const auto& r : v.renditions)
    if (!r.segments.empty())
      return &r;
  return nullptr;
}

} // namespace

std::string vod_init_uri(const std::string& rendition) { return rendition + "/init.mp4"; }

// The DASH template in vod_manifest ($Number%05d$) names the same files.
std::string vod_segment_uri(const std::string& rendition, std::int64_t number) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "/%05lld.m4s", static_cast<long long>(number));
  return rendition + buf;
}

std::string vod_master_playlist(const vod_layout& v) {
  std::string out = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n";
  const auto* audio = audio_of(v);
  const bool has_video = std::any_of(v.renditions.begin(), v.renditions.end(),
                                     [](const vod_rendition& r) { return r.config.kind == track_kind::video; });
  if (!has_video) {
    // Audio only: the one variant is the audio playlist itself.
    if (audio)
      out += "#EXT-X-STREAM-INF:BANDWIDTH=" + std::to_string(peak_bandwidth(*audio)) +
             ",AVERAGE-BANDWIDTH=" + std::to_string(average_bandwidth(*audio)) + ",CODECS=\"" +
             codecs_of(audio->config) + "\"\n" + audio->id + ".m3u8\n";
    return out;
  }
  if (audio)
    out += "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"audio\",DEFAULT=YES,AUTOSELECT=YES,URI=\"" + audio->id +
           ".m3u8\"\n";
  const std::int64_t audio_peak = audio ? peak_bandwidth(*audio) : 0;
  const std::int64_t audio_average = audio ? average_bandwidth(*audio) : 0;
  for (const auto& r : v.renditions) {
    if (r.config.kind != track_kind::video)
      continue;
    std::string codecs = codecs_of(r.config);
    if (audio)
      codecs += "," + codecs_of(audio->config);
    out += "#EXT-X-STREAM-INF:BANDWIDTH=" + std::to_string(peak_bandwidth(r) + audio_peak) +
           ",AVERAGE-BANDWIDTH=" + std::to_string(average_bandwidth(r) + audio_average) + ",CODECS=\"" + codecs +
           "\",RESOLUTION=" + std::to_string(r.config.width) + "x" + std::to_string(r.config.height);
    if (r.frame_rate > 0)
      out += ",FRAME-RATE=" + fixed(r.frame_rate, 3);
    out += std::string{audio ? ",AUDIO=\"audio\"" : ""} + "\n" + r.id + ".m3u8\n";
  }
  return out;
}

std::string vod_media_playlist(const vod_layout& v, std::size_t rendition) {
  const auto& r = v.renditions.at(rendition);
  const auto& segs = r.segments;
  // RFC 8216: every EXTINF, rounded to the nearest integer, is at most the target; the ceiling of
  // the longest (in whole ticks, so no float rounding) always is.
  const std::int64_t timescale = std::max<std::int64_t>(1, r.config.timescale);
  std::int64_t longest = 0;
  for (const auto& s : segs)
    longest = std::max(longest, s.duration);
  const std::int64_t target = std::max<std::int64_t>(1, (longest + timescale - 1) / timescale);

  std::string out = "#EXTM3U\n#EXT-X-VERSION:7\n";
  out += "#EXT-X-TARGETDURATION:" + std::to_string(target) + "\n";
  out += "#EXT-X-MEDIA-SEQUENCE:" + std::to_string(segs.empty() ? 1 : segs.front().number) + "\n";
  out += "#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n";
  // One init segment for every period: a rendition keeps its configuration for the whole VOD.
  out += "#EXT-X-MAP:URI=\"" + vod_init_uri(r.id) + "\"\n";
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const auto& s = segs[i];
    if (i > 0 && segs[i - 1].period != s.period)
      out += "#EXT-X-DISCONTINUITY\n";
    out += "#EXTINF:" + fixed(seconds(s.duration, r), 5) + ",\n" + vod_segment_uri(r.id, s.number) + "\n";
  }
  out += "#EXT-X-ENDLIST\n";
  return out;
}

std::string vod_manifest(const vod_layout& v) {
  std::string out = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";
  out += "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" "
         "type=\"static\" mediaPresentationDuration=\"" +
         duration_iso(static_cast<double>(v.duration_ms) / 1000.0) + "\" minBufferTime=\"PT2S\">\n";

  std::set<std::uint32_t> periods;
  for (const auto& r : v.renditions)
    for (const auto& s : r.segments)
      periods.insert(s.period);
  const auto* timing = timing_rendition(v);
  const std::int64_t origin = timing ? timing->segments.front().start : 0;
  double end_s = 0; // where the previous period ends
  for (const auto period : periods) {
    // A period starts where its first segment does on the timing rendition's timeline, and never
    // before the previous one ends (decode times that begin again after a discontinuity).
    double start_s = end_s, duration_s = 0;
    if (timing) {
      const auto segs = in_period(*timing, period);
      if (!segs.empty())
        start_s = std::max(end_s, seconds(segs.front()->start - origin, *timing));
      for (const auto* s : segs)
        duration_s += seconds(s->duration, *timing);
    }
    end_s = start_s + duration_s;
    out += "  <Period id=\"" + std::to_string(period) + "\" start=\"" + duration_iso(start_s) + "\" duration=\"" +
           duration_iso(duration_s) + "\">\n";
    int set_id = 0;
    for (auto kind : {track_kind::video, track_kind::audio}) {
      const bool video = kind == track_kind::video;
      std::string reps;
      for (const auto& r : v.renditions) {
        if (r.config.kind != kind)
          continue;
        const auto segs = in_period(r, period);
        if (segs.empty())
          continue;
        reps += "      <Representation id=\"" + r.id + "\" codecs=\"" + codecs_of(r.config) + "\"";
        if (video)
          reps += " width=\"" + std::to_string(r.config.width) + "\" height=\"" + std::to_string(r.config.height) +
                  "\" frameRate=\"" + frame_rate_ratio(r.frame_rate) + "\"";
        else
          reps += " audioSamplingRate=\"" + std::to_string(r.config.sample_rate) + "\"";
        reps += " bandwidth=\"" + std::to_string(peak_bandwidth(r)) + "\"" + (video ? " sar=\"1:1\"" : "") + ">\n";
        if (!video)
          reps += "        <AudioChannelConfiguration "
                  "schemeIdUri=\"urn:mpeg:dash:23003:3:audio_channel_configuration:2011\" value=\"" +
                  std::to_string(r.config.channels) + "\"/>\n";
        reps += "        <SegmentTemplate timescale=\"" + std::to_string(r.config.timescale) + "\" initialization=\"" +
                vod_init_uri(r.id) + "\" media=\"" + r.id + "/$Number%05d$.m4s\" startNumber=\"" +
                std::to_string(segs.front()->number) + "\" presentationTimeOffset=\"" +
                std::to_string(segs.front()->start) + "\">\n";
        reps += "          <SegmentTimeline>\n" + segment_timeline(segs, "            ") +
                "          </SegmentTimeline>\n";
        reps += "        </SegmentTemplate>\n      </Representation>\n";
      }
      if (reps.empty())
        continue;
      out += "    <AdaptationSet id=\"" + std::to_string(set_id++) + "\" contentType=\"" +
             (video ? "video" : "audio") + "\" mimeType=\"" + (video ? "video/mp4" : "audio/mp4") +
             "\" segmentAlignment=\"true\" startWithSAP=\"1\">\n" + reps + "    </AdaptationSet>\n";
    }
    out += "  </Period>\n";
  }
  out += "</MPD>\n";
  return out;
}

} // namespace onair::media::cmaf
