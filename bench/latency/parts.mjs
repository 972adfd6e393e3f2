#!/usr/bin/env node
// What onair's encoder and packager add on their own: follows one LL-HLS media playlist part by
// part with blocking reloads, and for each new part measures the time from the end of its media
// on the ingest clock (the segment's EXT-X-PROGRAM-DATE-TIME, which onair stamps with the wall
// clock at which the source frame was decoded, plus the durations before it) to the moment the
// part is listed. Prints one JSON object: {"parts": n, "p50": s, "p95": s, "max": s}.
//
//   node bench/latency/parts.mjs MEDIA_PLAYLIST_URL SECONDS
const [url, secondsText] = process.argv.slice(2);
if (!url || !secondsText) {
  console.error('usage: node bench/latency/parts.mjs MEDIA_PLAYLIST_URL SECONDS');
  process.exit(2);
}
const until = Date.now() + Number(secondsText) * 1000;

// Each part of the playlist: [msn, index, end of its media on the wall clock (ms)].
function parts(text) {
  const out = [];
  let msn = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0);
  let pdt = null;
  let at = 0;
  let index = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) {
      pdt = Date.parse(line.slice(25));
      at = 0;
      index = 0;
    } else if (line.startsWith('#EXT-X-PART:')) {
      const d = Number(/DURATION=([\d.]+)/.exec(line)[1]);
      at += d * 1000;
      if (pdt !== null) out.push([msn, index, pdt + at]);
      ++index;
    } else if (line.startsWith('#EXTINF:')) {
      ++msn;
    }
  }
  return out;
}

const delays = [];
let next = null; // [msn, part] asked for next
const seen = new Set();
while (Date.now() < until) {
  const q = next ? `?_HLS_msn=${next[0]}&_HLS_part=${next[1]}` : '';
  const r = await fetch(url + q);
  const now = Date.now();
  const text = await r.text();
  if (r.status !== 200) {
    next = null;
    continue;
  }
  const list = parts(text);
  for (const [m, i, end] of list) {
    const key = `${m}.${i}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (next) delays.push((now - end) / 1000); // the first playlist's parts existed before we looked
  }
  const hint = /PRELOAD-HINT:TYPE=PART,URI="[^"]*\/(\d+)\.(\d+)\.m4s"/.exec(text);
  if (!hint) break; // ended
  next = [Number(hint[1]), Number(hint[2])];
}
delays.sort((a, b) => a - b);
const q = (p) => (delays.length ? Number(delays[Math.min(delays.length - 1, Math.floor(p * delays.length))].toFixed(3)) : null);
console.log(JSON.stringify({ parts: delays.length, p50: q(0.5), p95: q(0.95), max: q(1) }));
