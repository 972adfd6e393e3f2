import { useEffect, useState } from 'preact/hooks';
import { base, get, post, type Member, type Page, type VideoRoom } from '../api';
import { aggregateOf, subscribe } from '../events';
import { navigate, setQuery, useLocation } from '../router';
import { Badge, Empty, ErrorBox, Field, Link, Loading, Modal, Pager, When, useLoad, useTitle } from '../ui';

const roomStates = ['SCHEDULED', 'LIVE', 'LIVE_INACTIVE', 'ENDED', 'CANCELLED'];

export function Rooms() {
  useTitle('VideoRooms');
  const { query } = useLocation();
  const state = query.get('videoRoomState') ?? '';
  const owner = query.get('appUserId') ?? '';
  const page = Number(query.get('page') ?? 0);
  const [creating, setCreating] = useState(false);
  const list = useLoad(
    (signal) =>
      get<Page<VideoRoom>>(`${base}/video-rooms`, { videoRoomState: state, appUserId: owner, page, pageSize: 20 }, signal),
    [state, owner, page],
  );
  // States change under the list (a room goes live, ends, is archived): read it again.
  useEffect(() => subscribe((e) => aggregateOf(e).kind === 'video_room' && list.reload()), []);
  return (
    <section>
      <div class="page-head">
        <h1>VideoRooms</h1>
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          Create
        </button>
      </div>
      <div class="filters">
        <div class="field inline">
          <label for="room-state">State</label>
          <select id="room-state" value={state} onChange={(e) => setQuery({ videoRoomState: e.currentTarget.value, page: undefined })}>
            <option value="">Any</option>
            {roomStates.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        {owner && (
          <p class="chip">
            Owner <code>{owner}</code>{' '}
            <button type="button" class="secondary small" onClick={() => setQuery({ appUserId: undefined, page: undefined })}>
              Show every owner
            </button>
          </p>
        )}
      </div>
      <ErrorBox error={list.error} retry={list.reload} title="The rooms could not be loaded" />
      {list.loading && !list.data && <Loading what="rooms" />}
      {list.data?.empty && <Empty>{state || owner ? 'No room matches.' : 'No rooms yet: create one for a member.'}</Empty>}
      {list.data && !list.data.empty && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Video rooms</caption>
            <thead>
              <tr>
                <th scope="col">Title</th>
                <th scope="col">State</th>
                <th scope="col">VOD</th>
                <th scope="col">Owner</th>
                <th scope="col">Scheduled</th>
              </tr>
            </thead>
            <tbody>
              {list.data.content.map((r) => (
                <tr key={r.id}>
                  <td>
                    <Link to={`/rooms/${r.id}`}>{r.title}</Link> <span class="muted">#{r.id}</span>
                  </td>
                  <td>
                    <Badge state={r.videoRoomState} />
                  </td>
                  <td>
                    <Badge state={r.vodState} />
                  </td>
                  <td>
                    <code>{r.member.appUserId}</code>
                  </td>
                  <td>
                    <When at={r.scheduledAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data && (
        <Pager page={list.data.number} totalPages={list.data.totalPages} total={list.data.totalElements} onPage={(p) => setQuery({ page: p })} />
      )}
      {creating && (
        <CreateRoom
          owner={owner}
          onClose={(room) => {
            setCreating(false);
            if (room) navigate(`/rooms/${room.id}`);
          }}
        />
      )}
    </section>
  );
}

// "2026-11-24T10:30" in the browser's zone, for <input type="datetime-local">.
function localInputValue(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function CreateRoom(props: { owner: string; onClose: (room: VideoRoom | null) => void }) {
  const soon = new Date(Date.now() + 15 * 60_000);
  soon.setSeconds(0, 0);
  const [v, setV] = useState({
    type: 'BROADCAST_RTMP',
    title: '',
    description: '',
    accessLevel: 'PUBLIC',
    appUserId: props.owner,
    scheduledAt: localInputValue(soon),
  });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const members = useLoad((signal) => get<Page<Member>>(`${base}/members`, { pageSize: 100 }, signal), []);
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const set = (k: keyof typeof v) => (e: Event) => setV({ ...v, [k]: (e.currentTarget as HTMLInputElement).value });
  return (
    <Modal title="Create video room" onClose={() => props.onClose(null)}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            const at = new Date(v.scheduledAt);
            if (isNaN(at.getTime())) throw new Error('ScheduledAt is not a date and time');
            const body = {
              type: v.type,
              title: v.title.trim(),
              accessLevel: v.accessLevel,
              appUserId: v.appUserId.trim(),
              scheduledAt: at.toISOString(),
              ...(v.description.trim() ? { description: v.description.trim() } : {}),
            };
            props.onClose(await post<VideoRoom>(`${base}/video-rooms`, body));
          } catch (err) {
            setError(err);
            setBusy(false);
          }
        }}
      >
        <Field id="r-type" label="Type">
          {(id) => (
            <select id={id} value={v.type} onChange={set('type')}>
              <option value="BROADCAST_RTMP">Broadcast RTMP</option>
            </select>
          )}
        </Field>
        <Field id="r-title" label="Title (required)">
          {(id) => <input id={id} required value={v.title} onInput={set('title')} />}
        </Field>
        <Field id="r-desc" label="Description">
          {(id) => <textarea id={id} rows={2} value={v.description} onInput={set('description')} />}
        </Field>
        <Field id="r-access" label="Access level" hint="Public: anyone with the room's play URL can watch">
          {(id) => (
            <select id={id} value={v.accessLevel} onChange={set('accessLevel')} aria-describedby={`${id}-hint`}>
              <option value="PUBLIC">Public</option>
            </select>
          )}
        </Field>
        <Field id="r-owner" label="AppUserId of the broadcaster (required)" hint="the member whose stream key feeds this room">
          {(id) => (
            <>
              <input
                id={id}
                required
                list="r-owner-list"
                spellcheck={false}
                aria-describedby={`${id}-hint`}
                value={v.appUserId}
                onInput={set('appUserId')}
              />
              <datalist id="r-owner-list">
                {members.data?.content.map((m) => (
                  <option key={m.id} value={m.appUserId}>
                    {m.appUserName ?? ''}
                  </option>
                ))}
              </datalist>
            </>
          )}
        </Field>
        <Field id="r-at" label="ScheduledAt (required)" hint={`your time zone (${zone}); sent as UTC; for display only`}>
          {(id) => (
            <input
              id={id}
              type="datetime-local"
              required
              aria-describedby={`${id}-hint`}
              value={v.scheduledAt}
              onInput={set('scheduledAt')}
            />
          )}
        </Field>
        <ErrorBox error={error} title="Not created" />
        <div class="actions">
          <button type="button" class="secondary" onClick={() => props.onClose(null)}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create room'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
