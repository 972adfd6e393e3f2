#!/usr/bin/env node
// The console's walk-through in headless Chromium, against a running onair: sign in, create a
// member and a room, publish with ffmpeg to the ingest URL the room's page shows, watch the
// StreamKey State badge reach ACTIVE (from the event feed, no reload), Start Live, see the live
// player play, stop the publisher, see INACTIVE_LIVE, End Live, see the archiving progress, and
// play the Video Post's VOD. axe-core checks every screen; each step leaves a screenshot.
//
// Prints one JSON object on stdout: {ok, reason?, steps: [{step, ms, screenshot}], axe: {screen:
// [violations]}, progressSeen, played, errors}. Exit status 0 passed, 1 failed, 2 usage or launch.
// tests/player/console_tests.cpp runs it (README.md, "The console").
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const usage =
  'usage: node tests/browser/console.mjs --base http://127.0.0.1:PORT --credentials FILE --artifacts DIR\n' +
  '                                      [--seconds 15] [--timeout 150]\n' +
  '  FILE: JSON {"apiKey": "...", "apiSecret": "..."} (kept off the command line)';

class Failure extends Error {}

function options() {
  const { values } = parseArgs({
    options: {
      base: { type: 'string' },
      credentials: { type: 'string' },
      artifacts: { type: 'string' },
      seconds: { type: 'string', default: '15' },
      timeout: { type: 'string', default: '150' },
    },
  });
  if (!values.base || !values.credentials || !values.artifacts) throw new Error('--base, --credentials and --artifacts are required');
  const base = new URL(values.base);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(base.hostname)) throw new Error('--base must be on loopback');
  return { ...values, base: base.origin, seconds: Number(values.seconds), timeout: Number(values.timeout) };
}

// Waits for fn() (in Node) to be truthy; fails with what() when the deadline passes.
async function until(fn, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Failure(`timed out after ${ms / 1000} s waiting for ${typeof what === 'function' ? await what() : what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// A proxy that refuses everything: the browser reaches loopback directly and nothing else leaves
// the machine. (A page's request elsewhere, a CDN, fails the run: see page.on('request').)
function refusingProxy(blocked) {
  const server = createServer((req, res) => {
    blocked(req.url);
    res.writeHead(403).end();
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

async function main() {
  let o;
  try {
    o = options();
  } catch (e) {
    process.stderr.write(`${e.message}\n${usage}\n`);
    process.exit(2);
  }
  const creds = JSON.parse(await readFile(o.credentials, 'utf8'));
  await mkdir(o.artifacts, { recursive: true });
  const axeSource = await readFile(join(here, 'node_modules/axe-core/axe.min.js'), 'utf8');

  const started = Date.now();
  const result = { ok: false, steps: [], axe: {}, progressSeen: [], played: {}, errors: [], artifacts: o.artifacts };
  const log = [];
  const note = (line) => log.push(`${new Date().toISOString()} ${line}`);
  let browser = null;
  let proxy = null;
  let publisher = null;
  let code = 1;

  const run = async () => {
    // Chromium's own background calls (updates, sign-in) end at the proxy too; the page's are checked below.
    proxy = await refusingProxy((url) => note(`refused by the proxy: ${url}`));
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      headless: true,
      // The console is on the same origin as the API and the media: no cross-origin switches.
      args: ['--autoplay-policy=no-user-gesture-required'],
      proxy: { server: `http://127.0.0.1:${proxy.address().port}`, bypass: 'localhost,127.0.0.1,[::1]' },
      timeout: 30000,
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: o.base });
    const page = await context.newPage();
    page.setDefaultTimeout(20000);
    page.on('console', (m) => note(`console ${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => result.errors.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (!['data:', 'blob:'].includes(u.protocol) && !['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname))
        result.errors.push(`the page asked for something off this machine: ${r.url()}`);
    });
    page.on('requestfailed', (r) => {
      const why = r.failure()?.errorText ?? '';
      // Players and the feed abort their own requests when a screen closes.
      if (!why.includes('ERR_ABORTED')) note(`request failed ${r.method()} ${r.url()} ${why}`);
    });
    page.on('response', (r) => {
      if (r.status() >= 400) note(`HTTP ${r.status()} ${r.request().method()} ${r.url()}`);
    });

    let n = 0;
    const step = async (name) => {
      const file = `${String(++n).padStart(2, '0')}-${name}.png`;
      await page.screenshot({ path: join(o.artifacts, file), fullPage: false });
      result.steps.push({ step: name, ms: Date.now() - started, screenshot: file });
      note(`step ${name}`);
    };
    // axe-core, evaluated through the DevTools protocol (the console's CSP admits only its own scripts).
    const axe = async (screen) => {
      const found = await page.evaluate(async (src) => {
        if (!window.axe) (0, eval)(src);
        const r = await window.axe.run(document, { resultTypes: ['violations'] });
        return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length, target: v.nodes[0]?.target?.join(' ') }));
      }, axeSource);
      result.axe[screen] = found;
      const bad = found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      if (bad.length) throw new Failure(`axe on ${screen}: ${bad.map((v) => `${v.id} (${v.impact}, ${v.nodes}×, e.g. ${v.target}): ${v.help}`).join('; ')}`);
    };
    const badge = (testid) => page.locator(`[data-testid="${testid}"]`).first().getAttribute('data-state').catch(() => null);
    const waitBadge = async (testid, state, ms) => {
      await until(async () => (await badge(testid)) === state, ms, async () => `${testid} ${state} (it shows ${await badge(testid)})`);
    };
    // The <video>'s currentTime advancing by `seconds` while it plays, with no player error.
    const plays = async (testid, seconds, ms) => {
      const video = page.locator(`video[data-testid="${testid}"]`);
      await video.waitFor({ state: 'attached', timeout: ms });
      let first = null;
      let last = 0;
      await until(
        async () => {
          const s = await video.evaluate((v) => ({ t: v.currentTime, paused: v.paused, err: v.error?.message ?? null }));
          const caption = await page.locator('.player figcaption [role=alert]').first().textContent({ timeout: 50 }).catch(() => null);
          if (caption) throw new Failure(`${testid}: ${caption}`);
          if (s.err) throw new Failure(`${testid}: video error ${s.err}`);
          if (first === null && s.t > 0) first = s.t;
          last = s.t;
          return first !== null && s.t - first >= seconds;
        },
        ms,
        () => `${testid} to play ${seconds} s (currentTime ${first} → ${last})`,
      );
      return Math.round((last - (first ?? 0)) * 1000) / 1000;
    };
    const nav = (name) => page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true });
    const reloadMarker = async () => page.evaluate(() => (window.__consoleTest ??= Math.random()));

    // 1. Sign in
    await page.goto(`${o.base}/console/`);
    await page.getByLabel('API key').waitFor();
    await axe('sign-in');
    await step('sign-in');
    await page.getByLabel('API key').fill(creds.apiKey);
    await page.getByLabel('API secret').fill(creds.apiSecret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'VideoRooms' }).waitFor();
    await until(async () => (await badge('feed')) === 'live', 15000, 'the event feed to connect');
    if (page.url().includes(creds.apiSecret) || page.url().includes(creds.apiKey)) throw new Failure('a credential is in the URL');

    // 2. A member
    const who = `ana-${Date.now().toString(36)}`;
    await nav('App Users').click();
    await page.getByRole('heading', { name: 'App Users' }).waitFor();
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByLabel('appUserId (required)').fill(who);
    await page.getByLabel('Name', { exact: true }).fill('Ana Broadcaster');
    await axe('create-member');
    await page.getByRole('button', { name: 'Create member' }).click();
    await page.getByRole('cell', { name: who, exact: true }).waitFor();
    await axe('members');
    await step('member-created');
    // another one, found by prefix and deleted (confirmed); then the first one edited
    const other = `zed-${Date.now().toString(36)}`;
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByLabel('appUserId (required)').fill(other);
    await page.getByRole('button', { name: 'Create member' }).click();
    await page.getByRole('cell', { name: other, exact: true }).waitFor();
    await page.getByLabel('appUserId starts with').fill('zed-');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('cell', { name: who, exact: true }).waitFor({ state: 'detached' });
    await page.getByRole('button', { name: `Delete ${other}` }).click();
    await axe('delete-member');
    await page.getByRole('dialog').getByRole('button', { name: 'Delete member' }).click();
    await page.getByRole('cell', { name: other, exact: true }).waitFor({ state: 'detached' });
    // and a third one erased (its personal data: tests/api/member_erasure_tests.cpp): gone from the list
    const erased = `zed-e-${Date.now().toString(36)}`;
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByLabel('appUserId (required)').fill(erased);
    await page.getByLabel('Name', { exact: true }).fill('Zed Private');
    await page.getByRole('button', { name: 'Create member' }).click();
    await page.getByRole('cell', { name: erased, exact: true }).waitFor();
    await page.getByRole('button', { name: `Erase ${erased}` }).click();
    await axe('erase-member');
    await page.getByRole('dialog').getByRole('button', { name: 'Erase personal data' }).click();
    await page.getByText('No member’s appUserId starts with “zed-”.').or(page.getByText(`No member's appUserId starts with “zed-”.`)).waitFor();
    await page.getByLabel('appUserId starts with').fill('');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('button', { name: `Edit ${who}` }).click();
    await page.getByLabel('Name', { exact: true }).fill('Ana B.');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('cell', { name: 'Ana B.', exact: true }).waitFor();

    // 3. A room for the member
    await nav('VideoRooms').click();
    await page.getByRole('heading', { name: 'VideoRooms' }).waitFor();
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByLabel('Title (required)').fill('Console launch');
    await page.getByLabel('Description').fill('The walk-through, in a browser');
    await page.getByLabel('AppUserId of the broadcaster (required)').fill(who);
    await axe('create-room');
    await step('create-room');
    await page.getByRole('button', { name: 'Create room' }).click();
    await page.getByRole('heading', { name: 'Console launch' }).waitFor();
    await waitBadge('room-state', 'SCHEDULED', 10000);
    await waitBadge('key-state', 'INACTIVE', 10000);
    await axe('room-scheduled');
    await step('room-scheduled');
    // Start Live before anyone publishes: refused, and the API's reason shown in words
    await page.getByRole('button', { name: 'Start Live' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Start Live' }).click();
    await page.getByRole('dialog').getByRole('alert').filter({ hasText: 'STREAM_KEY_STATE_NOT_ACTIVE' }).waitFor();
    await axe('start-live-refused');
    await step('start-live-refused');
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

    // 4. Publish to what the page shows for OBS: server, and the key with ?mode=CMAF
    await page.getByLabel(/\?mode=CMAF —/).check();
    const server = (await page.getByTestId('ingest-server').textContent()).trim();
    const key = await page.getByTestId('ingest-key').getAttribute('data-value');
    if (!server.startsWith('rtmp://') || !key.endsWith('?mode=CMAF')) throw new Failure(`the OBS values look wrong: ${server} / …${key.slice(-12)}`);
    const marker = await reloadMarker();
    publisher = spawn(
      'ffmpeg',
      ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-f', 'lavfi',
        '-i', 'sine=frequency=440:sample_rate=48000', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency',
        '-g', '30', '-c:a', 'aac', '-t', String(o.seconds), '-f', 'flv', `${server}/${key}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let publisherLog = '';
    publisher.stderr.on('data', (d) => (publisherLog += d));
    const publisherDone = new Promise((ok) => publisher.on('exit', (code) => ok(code)));
    const publishedAt = Date.now();
    note('publisher started');

    // 5. The badge reaches ACTIVE by itself (the event feed), on the same page load
    await waitBadge('key-state', 'ACTIVE', 30000);
    if ((await reloadMarker()) !== marker) throw new Failure('the page was reloaded');
    result.activeAfterMs = Date.now() - publishedAt;
    await axe('room-active');
    await step('key-active');

    // 6. Start Live, confirmed
    await page.getByRole('button', { name: 'Start Live' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Start Live' }).click();
    await waitBadge('room-state', 'LIVE', 10000);
    await waitBadge('key-state', 'ACTIVE_LIVE', 10000);

    // 7. The live player plays
    result.played.live = await plays('live-video', 2, 25000);
    await axe('room-live');
    await step('live-playing');
    await until(async () => Number(await page.getByTestId('chart-bitrate').getAttribute('data-samples')) >= 2, 10000, 'ingest samples in the chart');
    await page.getByRole('heading', { name: 'Ingest' }).scrollIntoViewIfNeeded();
    await step('ingest-chart');

    // 8. The publisher stops: the badge shows INACTIVE_LIVE
    const exit = await Promise.race([publisherDone, new Promise((ok) => setTimeout(() => ok('running'), o.seconds * 1000 + 15000))]);
    if (exit !== 0) throw new Failure(`ffmpeg: ${exit === 'running' ? 'still running' : `exit ${exit}`} ${publisherLog.slice(-400)}`);
    publisher = null;
    await waitBadge('key-state', 'INACTIVE_LIVE', 15000);
    await waitBadge('room-state', 'LIVE_INACTIVE', 10000);
    await step('publisher-stopped');

    // 9. End Live; the archiving progress shown as the feed reports it, then ARCHIVED
    await page.evaluate(() => {
      const seen = (window.__progressSeen = []);
      const record = () => {
        const bar = document.querySelector('[data-testid="room-progress"]');
        const v = bar && Number(bar.getAttribute('aria-valuenow'));
        if (bar && seen[seen.length - 1] !== v) seen.push(v);
      };
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'] });
    });
    await page.getByRole('button', { name: 'End Live' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'End Live' }).click();
    await waitBadge('room-state', 'ENDED', 10000);
    await waitBadge('key-state', 'INACTIVE', 10000);
    await until(async () => (await page.evaluate(() => window.__progressSeen)).some((v) => v > 0), 60000, 'the progress bar to move');
    await step('archiving');
    await waitBadge('vod-state', 'ARCHIVED', 90000);
    result.progressSeen = await page.evaluate(() => window.__progressSeen);
    if (result.progressSeen[result.progressSeen.length - 1] !== 100) throw new Failure(`progress ended at ${result.progressSeen.join(' → ')}`);
    await axe('room-ended');
    await step('room-archived');

    // 10. The Video Post: ARCHIVED, its thumbnail, and the VOD plays
    await page.getByRole('link', { name: /^video-post \d+$/ }).click();
    await waitBadge('post-state', 'ARCHIVED', 10000);
    await until(async () => page.getByTestId('thumbnail').evaluate((img) => img.complete && img.naturalWidth > 0), 15000, 'the thumbnail');
    result.played.vod = await plays('vod-video', 2, 25000);
    await axe('video-post');
    await step('vod-playing');

    // 11. The other screens, for axe and a look
    for (const [link, heading, name] of [
      ['Video Posts', 'Video Posts', 'posts'],
      ['Stream keys', 'Stream keys', 'keys'],
      ['Events', 'Events', 'events'],
    ]) {
      await nav(link).click();
      await page.getByRole('heading', { name: heading, exact: true }).waitFor();
      await page.locator('table').first().waitFor();
      await axe(name);
      await step(name);
    }
    await nav('Stream keys').click();
    await page.getByRole('link', { name: /^Key #\d+$/ }).first().click();
    await page.getByRole('heading', { name: 'Transcoding profile and mode' }).waitFor();
    await axe('key-detail');
    await step('key-detail');

    // 12. A phone
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('button', { name: 'Menu' }).click();
    await nav('VideoRooms').click();
    await page.getByRole('link', { name: 'Console launch' }).first().click(); // the newest
    await waitBadge('room-state', 'ENDED', 10000);
    await axe('room-phone');
    await step('room-phone');

    if (result.errors.length) throw new Failure(result.errors.join('; '));
    result.ok = true;
  };

  let timer;
  const expired = new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Failure(`timeout after ${o.timeout} s`)), o.timeout * 1000);
  });
  try {
    await Promise.race([run(), expired]);
    code = 0;
  } catch (e) {
    result.ok = false;
    result.reason = e instanceof Failure ? e.message : e.message.split('\n')[0];
    code = browser ? 1 : 2;
    try {
      const pages = browser?.contexts()[0]?.pages() ?? [];
      if (pages[0]) await pages[0].screenshot({ path: join(o.artifacts, 'failure.png') });
    } catch {}
  }
  clearTimeout(timer);
  publisher?.kill('SIGKILL');
  result.ms = Date.now() - started;
  setTimeout(() => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(code);
  }, 15000).unref();
  await browser?.close().catch(() => {});
  proxy?.closeAllConnections();
  proxy?.close();
  await writeFile(join(o.artifacts, 'browser.log'), log.map((l) => `${l}\n`).join('')).catch(() => {});
  await writeFile(join(o.artifacts, 'result.json'), JSON.stringify(result, null, 2)).catch(() => {});
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(code);
}

main();
