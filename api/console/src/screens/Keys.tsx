import { useEffect } from 'preact/hooks';
import { base, get, type Page, type Profile, type StreamKey } from '../api';
import { aggregateOf, subscribe } from '../events';
import { setQuery, useLocation } from '../router';
import { Badge, Empty, ErrorBox, Link, Loading, Pager, useLoad, useTitle } from '../ui';

const keyStates = ['INACTIVE', 'ACTIVE_PREP', 'ACTIVE', 'ACTIVE_LIVE', 'INACTIVE_LIVE', 'ACTIVE_LIVE_PREP'];

// Stream keys (one per member) and the transcoding profiles they can use.
export function Keys() {
  useTitle('Stream keys');
  const { query } = useLocation();
  const state = query.get('streamKeyState') ?? '';
  const page = Number(query.get('page') ?? 0);
  const list = useLoad(
    (signal) => get<Page<StreamKey>>(`${base}/stream-keys`, { streamKeyState: state, page, pageSize: 20 }, signal),
    [state, page],
  );
  const profiles = useLoad((signal) => get<Page<Profile>>(`${base}/transcoding-profiles`, { pageSize: 100 }, signal), []);
  useEffect(() => subscribe((e) => aggregateOf(e).kind === 'stream_key' && !e.type.endsWith('ingest_stats_updated') && list.reload()), []);
  return (
    <section>
      <div class="page-head">
        <h1>Stream keys</h1>
      </div>
      <div class="filters">
        <div class="field inline">
          <label for="key-state">State</label>
          <select id="key-state" value={state} onChange={(e) => setQuery({ streamKeyState: e.currentTarget.value, page: undefined })}>
            <option value="">Any</option>
            {keyStates.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
      </div>
      <ErrorBox error={list.error} retry={list.reload} title="The stream keys could not be loaded" />
      {list.loading && !list.data && <Loading what="stream keys" />}
      {list.data?.empty && <Empty>{state ? `No key is ${state}.` : 'No stream keys yet: each member gets one.'}</Empty>}
      {list.data && !list.data.empty && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Stream keys</caption>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Member</th>
                <th scope="col">State</th>
                <th scope="col">Profile</th>
                <th scope="col">Default mode</th>
                <th scope="col">Room</th>
              </tr>
            </thead>
            <tbody>
              {list.data.content.map((k) => (
                <tr key={k.id}>
                  <td>
                    <Link to={`/keys/${k.id}`}>Key #{k.id}</Link>
                  </td>
                  <td>
                    <code>{k.member.appUserId}</code>
                  </td>
                  <td>
                    <Badge state={k.streamKeyState} />
                  </td>
                  <td>
                    {k.profile.name} <span class="muted">({k.profile.orientation.toLowerCase()})</span>
                  </td>
                  <td>{k.defaultMode}</td>
                  <td>{k.videoRoom ? <Link to={`/rooms/${k.videoRoom.id}`}>{k.videoRoom.title}</Link> : <span class="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data && (
        <Pager page={list.data.number} totalPages={list.data.totalPages} total={list.data.totalElements} onPage={(p) => setQuery({ page: p })} />
      )}

      <h2>Transcoding profiles</h2>
      <ErrorBox error={profiles.error} retry={profiles.reload} title="The profiles could not be loaded" />
      {profiles.loading && !profiles.data && <Loading what="profiles" />}
      {profiles.data && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Transcoding profiles</caption>
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Orientation</th>
                <th scope="col">Renditions</th>
              </tr>
            </thead>
            <tbody>
              {profiles.data.content.map((p) => (
                <tr key={p.id}>
                  <td>{p.id}</td>
                  <td>{p.name}</td>
                  <td>{p.type}</td>
                  <td>{p.orientation}</td>
                  <td>{p.videoStreams.map((v) => `${v.width}×${v.height} ~${v.bitrateKbps} kbps`).join(', ') || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
