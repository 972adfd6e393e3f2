import { Fragment } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { base, call, type CloudEvent } from '../api';
import { aggregateOf, latestPosition, subscribe } from '../events';
import { setQuery, useLocation } from '../router';
import { Empty, ErrorBox, Loading, useTitle } from '../ui';

const kinds = ['member', 'stream_key', 'video_room', 'broadcast', 'video_post', 'app'];
const window_ = 200; // positions read per "older" step (positions are shared by every app)
const keep = 2000;

// The audit trail: the app's latest events, newest first, following the feed.
export function Events() {
  useTitle('Events');
  const { query } = useLocation();
  const kind = query.get('kind') ?? '';
  const text = query.get('q') ?? '';
  const [events, setEvents] = useState<CloudEvent[]>([]);
  const [from, setFrom] = useState<number | null>(null); // the oldest position read
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [follow, setFollow] = useState(true);
  const [open, setOpen] = useState<string | null>(null);
  const followRef = useRef(follow);
  followRef.current = follow;
  const [paused, setPaused] = useState<CloudEvent[]>([]);

  const readRange = async (after: number, upTo: number) => {
    const out: CloudEvent[] = [];
    let cursor = after;
    for (;;) {
      const page = await call<{ events: CloudEvent[]; next: number }>('GET', `${base}/events`, {
        query: { after: cursor, limit: 1000 },
      });
      out.push(...page.events.filter((e) => e.data.position <= upTo));
      if (page.events.length < 1000 || page.next >= upTo) break;
      cursor = page.next;
    }
    return out;
  };

  const loadOlder = async (before: number) => {
    setLoading(true);
    try {
      const after = Math.max(0, before - window_);
      const older = await readRange(after, before);
      setEvents((cur) => [...cur, ...older.reverse()].slice(0, keep));
      setFrom(after);
      setError(null);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    let gone = false;
    latestPosition()
      .then((latest) => {
        if (!gone) void loadOlder(latest + 1);
      })
      .catch((e) => {
        setError(e);
        setLoading(false);
      });
    const off = subscribe((e) => {
      if (followRef.current) setEvents((cur) => (cur.some((c) => c.id === e.id) ? cur : [e, ...cur].slice(0, keep)));
      else setPaused((p) => [e, ...p]);
    });
    return () => {
      gone = true;
      off();
    };
  }, []);

  useEffect(() => {
    if (follow && paused.length) {
      setEvents((cur) => [...paused, ...cur].slice(0, keep));
      setPaused([]);
    }
  }, [follow]);

  const needle = text.toLowerCase();
  const shown = events.filter(
    (e) =>
      (!kind || aggregateOf(e).kind === kind) &&
      (!needle || e.type.toLowerCase().includes(needle) || (e.subject ?? '').toLowerCase().includes(needle)),
  );

  return (
    <section>
      <div class="page-head">
        <h1>Events</h1>
        <label class="toggle">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} /> Follow live
          {!follow && paused.length > 0 && <span class="muted"> ({paused.length} new)</span>}
        </label>
      </div>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <div class="field inline">
          <label for="ev-kind">Aggregate</label>
          <select id="ev-kind" value={kind} onChange={(e) => setQuery({ kind: e.currentTarget.value })}>
            <option value="">Any</option>
            {kinds.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </div>
        <div class="field inline">
          <label for="ev-text">Type or id contains</label>
          <input id="ev-text" value={text} onInput={(e) => setQuery({ q: e.currentTarget.value })} spellcheck={false} />
        </div>
      </form>
      <ErrorBox error={error} title="The events could not be loaded" />
      {loading && !events.length && <Loading what="events" />}
      {!loading && !shown.length && <Empty>{events.length ? 'No event matches the filter.' : 'No events yet.'}</Empty>}
      {shown.length > 0 && (
        <div class="table-wrap">
          <table class="events" aria-live="off">
            <caption class="visually-hidden">Events, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Position</th>
                <th scope="col">Time</th>
                <th scope="col">Type</th>
                <th scope="col">Aggregate</th>
                <th scope="col">
                  <span class="visually-hidden">Data</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.map((e) => (
                <Fragment key={e.id}>
                  <tr>
                    <td>{e.id}</td>
                    <td>
                      <time dateTime={e.time}>{new Date(e.time).toLocaleTimeString()}</time>
                    </td>
                    <td>
                      <code>{e.type.replace(/^onair\./, '')}</code>
                    </td>
                    <td>
                      {aggregateOf(e).kind} <code>{aggregateOf(e).id}</code>
                    </td>
                    <td>
                      <button
                        type="button"
                        class="secondary small"
                        aria-expanded={open === e.id}
                        onClick={() => setOpen(open === e.id ? null : e.id)}
                      >
                        Data<span class="visually-hidden"> of event {e.id}</span>
                      </button>
                    </td>
                  </tr>
                  {open === e.id && (
                    <tr>
                      <td colSpan={5}>
                        <pre class="json">{JSON.stringify(e.data, null, 2)}</pre>
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {from !== null && from > 0 && (
        <div class="actions left">
          <button type="button" class="secondary" disabled={loading} onClick={() => loadOlder(from)}>
            {loading ? 'Loading…' : 'Older events'}
          </button>
        </div>
      )}
    </section>
  );
}
