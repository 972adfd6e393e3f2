#!/usr/bin/env node
// A CORS-enabled static file server on 127.0.0.1 for live HLS/DASH that ffmpeg writes into DIR, so
// play.mjs can be tried without onair's own packager; /time answers the clock for DASH's UTCTiming.
// Prints its port on one line, then serves until SIGINT/SIGTERM.
//
//   node tests/browser/static_server.mjs DIR [--port N]
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';

const types = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.mpd': 'application/dash+xml',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.m4a': 'audio/mp4',
  '.m4v': 'video/mp4',
  '.ts': 'video/mp2t',
  '.flv': 'video/x-flv',
};

// A segment that a low-latency player asks for a little before ffmpeg has renamed it into place
// (its availabilityTimeOffset) is waited for this long rather than answered 404 at once.
const awaitMissingMs = 3000;

async function statFile(path) {
  try {
    const s = await stat(path);
    return s.isFile() ? s : null;
  } catch {
    return null;
  }
}

function serveDir(root, port) {
  root = resolve(root);
  const server = createServer(async (req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', 'Date, Content-Length');
    res.setHeader('Cache-Control', 'no-cache, no-store');
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', req.headers['access-control-request-headers'] ?? '*');
      res.writeHead(204).end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    // The wall clock for DASH's UTCTiming (ffmpeg's -utc_timing_url), as an http-xsdate/http-iso source.
    if (req.url === '/time') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end(new Date().toISOString());
      return;
    }
    const rel = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    const path = join(root, rel);
    if (path !== root && !path.startsWith(root + sep)) {
      res.writeHead(403).end();
      return;
    }
    let s = await statFile(path);
    const ext = extname(path);
    if (!s && (ext === '.m4s' || ext === '.mp4')) {
      const until = Date.now() + awaitMissingMs;
      while (!s && Date.now() < until && !res.destroyed) {
        await new Promise((r) => setTimeout(r, 50));
        s = await statFile(path);
      }
    }
    if (!s) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': types[ext] ?? 'application/octet-stream', 'Content-Length': s.size });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(path, { start: 0, end: Math.max(0, s.size - 1) })
      .on('error', () => res.destroy())
      .pipe(res);
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => ok(server));
  });
}

{
  const { values, positionals } = parseArgs({ options: { port: { type: 'string', default: '0' } }, allowPositionals: true });
  if (positionals.length !== 1) {
    process.stderr.write('usage: node static_server.mjs DIR [--port N]\n');
    process.exit(2);
  }
  const server = await serveDir(positionals[0], Number(values.port));
  process.stdout.write(`${server.address().port}\n`);
  const stop = () => server.close(() => process.exit(0)) && server.closeAllConnections();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
