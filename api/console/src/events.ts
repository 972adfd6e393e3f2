// The app's event feed (GET /v2/apps/me/events/stream, Server-Sent Events), one connection for the
// whole console. EventSource cannot send an Authorization header, and the secret must not go in a
// URL, so the stream is read with fetch and parsed here. It starts at the app's latest event (the
// screens load what happened before from the API) and resumes with Last-Event-ID after a drop.
import { ApiError, authorization, base, call, currentCredentials, unauthorized, type CloudEvent } from './api';

export type FeedStatus = 'connecting' | 'live' | 'retrying' | 'stopped';

type Listener = (e: CloudEvent) => void;

const listeners = new Set<Listener>();
const statusListeners = new Set<(s: FeedStatus) => void>();
let status: FeedStatus = 'stopped';
let lastId: string | null = null;
let abort: AbortController | null = null;
let retryTimer: number | undefined;
const retryMs = 3000;

function setStatus(s: FeedStatus) {
  status = s;
  statusListeners.forEach((l) => l(s));
}

export function feedStatus() {
  return status;
}
export function onFeedStatus(l: (s: FeedStatus) => void) {
  statusListeners.add(l);
  return () => void statusListeners.delete(l);
}

// Calls l for every event from now on; returns the unsubscribe.
export function subscribe(l: Listener) {
  listeners.add(l);
  return () => void listeners.delete(l);
}

interface EventPage {
  events: CloudEvent[];
  next: number;
}

// The position of the app's latest event: one page when the app is small, else a doubling search
// for a position with nothing after it, then a bisection down to the last one there is.
export async function latestPosition(): Promise<number> {
  const first = await call<EventPage>('GET', `${base}/events`, { query: { after: 0, limit: 1000 } });
  if (first.events.length < 1000) return first.next;
  const any = async (after: number) =>
    (await call<EventPage>('GET', `${base}/events`, { query: { after, limit: 1 } })).events.length > 0;
  let lo = first.next; // something at or after lo
  let hi = lo * 2;
  while (await any(hi)) {
    lo = hi;
    hi *= 2;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (await any(mid)) lo = mid;
    else hi = mid;
  }
  const tail = await call<EventPage>('GET', `${base}/events`, { query: { after: lo, limit: 1000 } });
  return tail.next;
}

export function startFeed() {
  stopFeed();
  setStatus('connecting');
  void connect();
}

export function stopFeed() {
  abort?.abort();
  abort = null;
  window.clearTimeout(retryTimer);
  lastId = null;
  setStatus('stopped');
}

async function connect() {
  const creds = currentCredentials();
  if (!creds) return setStatus('stopped');
  const ctl = new AbortController();
  abort = ctl;
  try {
    if (lastId === null) lastId = String(await latestPosition());
    const res = await fetch(`${base}/events/stream`, {
      headers: { Authorization: authorization(creds), Accept: 'text/event-stream', 'Last-Event-ID': lastId },
      signal: ctl.signal,
      cache: 'no-store',
    });
    if (res.status === 401) throw new ApiError(401, 'UNAUTHORIZED', 'the credentials were refused');
    if (!res.ok || !res.body) throw new Error(`event stream answered HTTP ${res.status}`);
    setStatus('live');
    await read(res.body, ctl.signal);
    throw new Error('event stream closed');
  } catch (e) {
    if (ctl.signal.aborted) return;
    if (e instanceof ApiError && e.status === 401) {
      setStatus('stopped');
      return unauthorized();
    }
    console.warn('onair console: event feed dropped, retrying', (e as Error).message);
    setStatus('retrying');
    retryTimer = window.setTimeout(() => void connect(), retryMs);
  }
}

async function read(body: ReadableStream<Uint8Array>, signal: AbortSignal) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  while (!signal.aborted) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    // Events end with a blank line; lines end with \n (the server's), \r\n or \r (the spec's).
    buffer = buffer.replace(/\r\n?/g, '\n');
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      dispatch(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
    }
  }
}

function dispatch(block: string) {
  let id: string | null = null;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'data') data.push(value);
  }
  if (id !== null) lastId = id;
  if (!data.length) return;
  let ev: CloudEvent;
  try {
    ev = JSON.parse(data.join('\n'));
  } catch {
    console.warn('onair console: an event that is not JSON was skipped');
    return;
  }
  listeners.forEach((l) => {
    try {
      l(ev);
    } catch (e) {
      console.error('onair console: event listener failed', e);
    }
  });
}

// "/apps/1/stream_key/3" → {kind: "stream_key", id: "3"}
export function aggregateOf(e: CloudEvent): { kind: string; id: string } {
  const parts = e.source.split('/');
  return { kind: parts[3] ?? '', id: parts[4] ?? e.subject ?? '' };
}
