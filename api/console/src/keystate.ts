// A stream key kept current from the event feed: its state moves at once with each
// onair.stream_key.* event (lifecycle.md's table), then the key is read again for what the event
// does not carry (play URLs, ingest figures). Nothing here polls.
import { useEffect, useRef, useState } from 'preact/hooks';
import { base, get, type CloudEvent, type StreamKey } from './api';
import { aggregateOf, subscribe } from './events';

// The state after an event, from the state before it (lifecycle.md).
export function nextKeyState(state: string, eventType: string): string {
  const t = eventType.replace(/^onair\.stream_key\./, '');
  switch (t) {
    case 'publisher_connected':
      return state === 'INACTIVE_LIVE' ? 'ACTIVE_LIVE_PREP' : state === 'INACTIVE' ? 'ACTIVE_PREP' : state;
    case 'stream_viewable':
      return state === 'ACTIVE_LIVE_PREP' ? 'ACTIVE_LIVE' : state === 'ACTIVE_PREP' ? 'ACTIVE' : state;
    case 'publisher_disconnected':
      return state.includes('LIVE') ? 'INACTIVE_LIVE' : 'INACTIVE';
    case 'live_attached':
      return 'ACTIVE_LIVE';
    case 'live_detached':
    case 'force_ended':
    case 'reissued':
    case 'revoked':
      return 'INACTIVE';
    default:
      return state;
  }
}

export const publishing = (state: string | undefined) => !!state && state.startsWith('ACTIVE');

// The key `load` reads, with its state following the feed. onEvent hears each event of the key.
export function useLiveKey(load: (signal: AbortSignal) => Promise<StreamKey>, deps: unknown[], onEvent?: (e: CloudEvent) => void) {
  const [key, setKey] = useState<StreamKey | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const keyRef = useRef<StreamKey | null>(null);
  keyRef.current = key;
  const onEventRef = useRef(onEvent);
  onEventRef.current = onEvent;

  // A read answers with the key as of then: kept unless the feed already moved past it.
  const accept = (k: StreamKey) => {
    const cur = keyRef.current;
    if (cur && cur.id === k.id && k.version < cur.version) return;
    keyRef.current = k;
    setKey(k);
  };

  const [tick, setTick] = useState(0);
  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    load(ctl.signal)
      .then((k) => {
        accept(k);
        setError(null);
      })
      .catch((e) => !ctl.signal.aborted && setError(e))
      .finally(() => !ctl.signal.aborted && setLoading(false));
    return () => ctl.abort();
  }, [...deps, tick]);

  useEffect(
    () =>
      subscribe((e) => {
        const cur = keyRef.current;
        const agg = aggregateOf(e);
        if (!cur || agg.kind !== 'stream_key' || agg.id !== String(cur.id)) return;
        const moved: StreamKey = {
          ...cur,
          streamKeyState: nextKeyState(cur.streamKeyState, e.type),
          version: Math.max(cur.version, e.data.version ?? cur.version),
        };
        if (e.type.endsWith('.ingest_stats_updated') && e.data.ingest) moved.ingest = e.data.ingest;
        keyRef.current = moved;
        setKey(moved);
        onEventRef.current?.(e);
        get<StreamKey>(`${base}/stream-keys/${cur.id}`)
          .then(accept)
          .catch((err) => setError(err));
      }),
    [],
  );

  return { key, error, loading, reload: () => setTick((t) => t + 1) };
}
