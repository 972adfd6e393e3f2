#!/usr/bin/env node
// Plays a live stream in headless Chromium with a real npm player and says, as one JSON object on
// stdout, whether it played: hls.js (HLS, LL-HLS), dashjs (MPEG-DASH) or mpegts.js (HTTP-FLV).
// The e2e tests run it as a subprocess; see README.md for the flags and the output.
//
// The page comes from a server of our own on 127.0.0.1, on another port than the media, so the
// media server's CORS answers are part of what is checked. The browser reaches nothing but loopback.
//
// Exit status: 0 played, 1 did not play (the JSON says why), 2 usage or launch error.
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const usage =
  'usage: node tests/browser/play.mjs --player hls|llhls|dash|flv --url URL [--seconds 10] [--switch]\n' +
  '                                   [--latency] [--artifacts DIR] [--timeout 60]';

const tickMs = 250;
const stallLimitMs = 8000;
const minProgress = 0.7;       // of the wall time played, in media time
const switchAfterS = 3;        // of playing (at most a third of --seconds) before --switch asks for another rendition
const afterSwitchS = 1;        // of media time that must play once the new rendition is on screen

const files = {
  '/': ['page.html', 'text/html; charset=utf-8'],
  '/lib/hls.js': ['node_modules/hls.js/dist/hls.min.js', 'text/javascript'],
  // The UMD build of dashjs 5 defines the global `dashjs`; dist/modern/esm is for bundlers.
  '/lib/dash.js': ['node_modules/dashjs/dist/modern/umd/dash.all.min.js', 'text/javascript'],
  '/lib/mpegts.js': ['node_modules/mpegts.js/dist/mpegts.js', 'text/javascript'],
};

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      player: { type: 'string' },
      url: { type: 'string' },
      seconds: { type: 'string', default: '10' },
      switch: { type: 'boolean', default: false },
      latency: { type: 'boolean', default: false },
      artifacts: { type: 'string' },
      timeout: { type: 'string', default: '60' },
    },
  });
  const o = { ...values, seconds: Number(values.seconds), timeout: Number(values.timeout) };
  if (!['hls', 'llhls', 'dash', 'flv'].includes(o.player)) throw new Error('--player must be hls, llhls, dash or flv');
  let url;
  try {
    url = new URL(o.url ?? '');
  } catch {
    throw new Error('--url must be an http URL');
  }
  if (!/^https?:$/.test(url.protocol) || !isLoopback(url.hostname)) throw new Error('--url must be http(s) on loopback');
  if (!(o.seconds > 0) || !(o.timeout > 0)) throw new Error('--seconds and --timeout must be positive numbers');
  return o;
}

function isLoopback(host) {
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

// The page and the player libraries, and /time for dashjs. The browser also uses this server as its
// proxy for every host but loopback, and it refuses those requests: nothing leaves the machine.
function servePage(blocked) {
  const server = createServer(async (req, res) => {
    if (!req.url.startsWith('/')) {
      blocked(req.url);
      res.writeHead(403).end();
      return;
    }
    const path = new URL(req.url, 'http://x').pathname;
    // The clock for dashjs when a manifest names no UTCTiming source of its own.
    if (path === '/time') {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' }).end(new Date().toISOString());
      return;
    }
    const f = files[path];
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    try {
      res.writeHead(200, { 'Content-Type': f[1] }).end(await readFile(join(here, f[0])));
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  });
  server.on('connect', (req, socket) => {
    blocked(`https://${req.url}`);
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok(server));
  });
}

function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

function summary(xs) {
  if (!xs.length) return null;
  const r = (x) => Math.round(x * 1000) / 1000;
  return { p50: r(percentile(xs, 0.5)), p95: r(percentile(xs, 0.95)), samples: xs.length };
}

class Failure extends Error {}

async function check(o, result, ctx) {
  ctx.phase = 'starting the page server';
  ctx.server = await servePage((url) => ctx.network.push(`${new Date().toISOString()} blocked ${url}`));
  const origin = `http://127.0.0.1:${ctx.server.address().port}`;

  ctx.phase = 'launching chromium';
  ctx.launching = true;
  ctx.browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    // Playwright already passes --no-sandbox (chromiumSandbox defaults to false), which running
    // as root needs. A page on one loopback port fetching another is not a private-network
    // request (same address space), so no Private/Local Network Access switch is needed; and a
    // --disable-features here would replace the list Playwright passes.
    args: ['--autoplay-policy=no-user-gesture-required'],
    // Naming loopback hosts keeps Playwright from proxying loopback too (it adds <-loopback>).
    proxy: { server: origin, bypass: 'localhost,127.0.0.1,[::1]' },
    timeout: o.timeout * 1000,
  });
  ctx.launching = false;
  const page = await ctx.browser.newPage({ viewport: { width: 640, height: 400 } });
  page.setDefaultTimeout(0); // the one deadline is --timeout, in main()
  page.on('console', (m) => {
    ctx.console.push(`${new Date().toISOString()} ${m.type()}: ${m.text()}`);
    // The players report a CORS refusal as a bare network error; Chromium says what it was.
    if (m.type() === 'error' && m.text().includes('CORS policy')) ctx.pageError(m.text());
  });
  page.on('pageerror', (e) => ctx.pageError(`page error: ${e.message}`));
  const net = (r, what) => ctx.network.push(`${new Date().toISOString()} ${r.method()} ${r.url()} ${what}`);
  page.on('requestfinished', async (r) => net(r, (await r.response().catch(() => null))?.status() ?? '?'));
  page.on('requestfailed', (r) => {
    net(r, `failed: ${r.failure()?.errorText}`);
    const u = new URL(r.url());
    if (/^https?:$/.test(u.protocol) && !isLoopback(u.hostname)) ctx.pageError(`blocked request to ${u.origin}`);
  });
  ctx.phase = 'loading the page';
  await page.goto(`${origin}/`);
  await page.evaluate((a) => window.check.start(a), { player: o.player, url: o.url });

  ctx.phase = 'waiting for the first playing';
  await page.waitForFunction(() => {
    const x = window.check.sample();
    return x.startupMs !== null || x.fatal || x.ended;
  }, null, { polling: 50 });
  let s = await page.evaluate(() => window.check.sample());
  if (s.startupMs === null) throw new Failure(s.fatal ? `fatal before playing: ${s.fatal}` : 'ended before playing');
  result.startupMs = s.startupMs;
  ctx.phase = 'waiting for the first frame';
  await page.waitForFunction(() => window.check.sample().firstFrame, null, { polling: 50 });
  if (o.artifacts) await page.screenshot({ path: join(o.artifacts, 'first-frame.png') });
  // For a caller that acts on the stream while it plays (a test that cuts the publisher).
  if (o.artifacts) await writeFile(join(o.artifacts, 'playing'), `${result.startupMs}\n`).catch(() => {});

  ctx.phase = 'playing';
  const t0 = Date.now();
  const ct0 = s.t;
  let lastT = s.t;
  let lastAdvance = t0;
  const wantSwitch = o.switch && o.player !== 'flv';
  if (o.switch && !wantSwitch) result.switch = 'n/a: one rendition';
  let sw = null; // {from, to, askedAt, onScreenAt (media time)}
  const latency = [];
  const clockLatency = [];
  try {
    for (;;) {
      await page.waitForTimeout(tickMs);
      s = await page.evaluate(() => window.check.sample());
      const now = Date.now();
      result.played = Math.round((s.t - ct0) * 1000) / 1000;
      if (s.fatal) throw new Failure(`fatal player error: ${s.fatal}`);
      if (s.ended) throw new Failure(`the stream ended after ${result.played} s`);
      if (s.t > lastT) {
        lastT = s.t;
        lastAdvance = now;
      } else if (now - lastAdvance > stallLimitMs) {
        throw new Failure(`stalled: currentTime stuck at ${s.t.toFixed(3)} for ${((now - lastAdvance) / 1000).toFixed(1)} s`);
      }
      if (o.latency) {
        if (s.latency !== null) latency.push(s.latency);
        if (s.clockLatency !== null) clockLatency.push(s.clockLatency);
      }
      if (wantSwitch && !sw && now - t0 >= Math.min(switchAfterS, o.seconds / 3) * 1000) {
        sw = await page.evaluate(() => window.check.switchRendition());
        if (sw.error) throw new Failure(`--switch: ${sw.error}`);
        sw.askedAt = now;
        result.switch = { from: sw.from, to: sw.to, afterS: null };
      }
      if (sw && sw.onScreenAt === undefined && s.rendition === sw.to) {
        // The player says the new rendition is on screen; the video element must agree on its size.
        const lv = (await page.evaluate(() => window.check.report())).levels[sw.to];
        if (!lv?.width || (s.width === lv.width && s.height === lv.height)) {
          sw.onScreenAt = s.t;
          result.switch.afterS = (now - sw.askedAt) / 1000;
        }
      }
      if (now - t0 >= o.seconds * 1000) break;
    }
  } finally {
    result.latency = summary(latency);
    if (result.latency && clockLatency.length) result.latency.clock = summary(clockLatency);
  }
  if (wantSwitch) result.switched = sw?.onScreenAt !== undefined && s.t - sw.onScreenAt >= afterSwitchS;
  if (o.artifacts) await page.screenshot({ path: join(o.artifacts, 'end.png') });
  const wall = (Date.now() - t0) / 1000;
  if (result.played < minProgress * wall)
    throw new Failure(`played ${result.played} s of media in ${wall.toFixed(1)} s (needs ${minProgress * 100} %)`);
  if (result.switched === false) {
    throw new Failure(sw
      ? `--switch: rendition ${sw.to} not on screen and playing ${afterSwitchS} s within ${((Date.now() - sw.askedAt) / 1000).toFixed(1)} s`
      : '--switch: the switch was never asked for');
  }
  result.ok = true;
}

// What the page knew (levels, player errors), and the player torn down; bounded, as the page may
// be what hangs.
async function collect(ctx, result) {
  const page = ctx.browser?.contexts()[0]?.pages()[0];
  if (!page) return;
  const work = (async () => {
    const r = await page.evaluate(() => window.check.report());
    Object.assign(result, { levels: r.levels, errors: r.errors, lowLatency: r.lowLatency });
    await page.evaluate(() => window.check.stop());
  })();
  await Promise.race([work.catch(() => {}), new Promise((r) => setTimeout(r, 2000).unref())]);
}

async function main() {
  let o;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${e.message}\n${usage}\n`);
    process.stdout.write(`${JSON.stringify({ ok: false, reason: e.message })}\n`);
    return 2;
  }
  const result = {
    ok: false, player: o.player, url: o.url, startupMs: null, played: 0, levels: [],
    switched: o.switch && o.player !== 'flv' ? false : null, errors: [], latency: null, lowLatency: null,
  };
  const ctx = {
    phase: '', server: null, browser: null, launching: false, timedOut: false, console: [], network: [],
    pageErrors: new Map(), // what the page did that its player does not report, message -> count
    pageError(m) { this.pageErrors.set(m, (this.pageErrors.get(m) ?? 0) + 1); },
  };
  let code = 1;
  let timer;
  const expired = new Promise((ok) => { timer = setTimeout(ok, o.timeout * 1000); });
  const run = (async () => {
    if (o.artifacts) await mkdir(o.artifacts, { recursive: true });
    await check(o, result, ctx);
  })();
  try {
    await Promise.race([run, expired.then(() => { ctx.timedOut = true; })]);
    if (ctx.timedOut) {
      result.ok = false;
      result.reason = `timeout after ${o.timeout} s while ${ctx.phase}`;
    } else {
      code = 0;
    }
  } catch (e) {
    result.ok = false;
    result.reason = e instanceof Failure ? e.message : `${ctx.phase}: ${e.message.split('\n')[0]}`;
    if (ctx.launching || ctx.phase === 'starting the page server') code = 2;
  }
  clearTimeout(timer);
  await collect(ctx, result);
  for (const [message, count] of ctx.pageErrors) result.errors.push({ fatal: false, message, count });
  const verdict = JSON.stringify(result);
  // A browser that hangs on close must not hold the caller.
  setTimeout(() => {
    process.stdout.write(`${verdict}\n`);
    process.exit(code);
  }, 15000).unref();
  // Closing the browser also ends a check() still running after a timeout; a launch still under
  // way ends by its own timeout, and its browser is closed here too.
  await ctx.browser?.close().catch(() => {});
  await run.catch(() => {});
  await ctx.browser?.close().catch(() => {});
  ctx.server?.closeAllConnections();
  ctx.server?.close();
  if (o.artifacts) {
    await writeFile(join(o.artifacts, 'console.log'), ctx.console.map((l) => `${l}\n`).join('')).catch(() => {});
    await writeFile(join(o.artifacts, 'network.log'), ctx.network.map((l) => `${l}\n`).join('')).catch(() => {});
  }
  process.stdout.write(`${verdict}\n`);
  return code;
}

process.exitCode = await main();
