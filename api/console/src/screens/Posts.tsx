import { useEffect } from 'preact/hooks';
import { base, get, type Page, type VideoPost } from '../api';
import { aggregateOf, subscribe } from '../events';
import { setQuery, useLocation } from '../router';
import { Badge, Empty, ErrorBox, Link, Loading, Pager, ProgressBar, When, formatDuration, useLoad, useTitle } from '../ui';

// Video Posts: the VODs made from ended broadcasts. The list follows the feed (a new post, its
// archiving progress).
export function Posts() {
  useTitle('Video Posts');
  const { query } = useLocation();
  const page = Number(query.get('page') ?? 0);
  const owner = query.get('appUserId') ?? '';
  const list = useLoad(
    (signal) => get<Page<VideoPost>>(`${base}/video-posts`, { page, pageSize: 20, appUserId: owner }, signal),
    [page, owner],
  );
  useEffect(
    () =>
      subscribe((e) => {
        if (aggregateOf(e).kind !== 'video_post') return;
        if (e.type.endsWith('.progress_reported'))
          list.setData((d) =>
            d && {
              ...d,
              content: d.content.map((p) =>
                String(p.id) === aggregateOf(e).id ? { ...p, progress: Math.max(p.progress, Number(e.data.percent)) } : p,
              ),
            },
          );
        else list.reload();
      }),
    [],
  );
  return (
    <section>
      <div class="page-head">
        <h1>Video Posts</h1>
      </div>
      {owner && (
        <p class="chip">
          Owner <code>{owner}</code>{' '}
          <button type="button" class="secondary small" onClick={() => setQuery({ appUserId: undefined, page: undefined })}>
            Show every owner
          </button>
        </p>
      )}
      <ErrorBox error={list.error} retry={list.reload} title="The video posts could not be loaded" />
      {list.loading && !list.data && <Loading what="video posts" />}
      {list.data?.empty && <Empty>No Video Posts yet: one is made when a broadcast ends (End Live).</Empty>}
      {list.data && !list.data.empty && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Video posts</caption>
            <thead>
              <tr>
                <th scope="col">
                  <span class="visually-hidden">Thumbnail</span>
                </th>
                <th scope="col">Title</th>
                <th scope="col">State</th>
                <th scope="col">Duration</th>
                <th scope="col">Room</th>
                <th scope="col">Owner</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {list.data.content.map((p) => (
                <tr key={p.id}>
                  <td class="thumb-cell">
                    {p.thumbnailUrl ? <img src={p.thumbnailUrl} alt="" width={96} loading="lazy" /> : null}
                  </td>
                  <td>
                    <Link to={`/posts/${p.id}`}>{p.title}</Link> <span class="muted">#{p.id}</span>
                  </td>
                  <td>
                    <Badge state={p.videoPostState} />
                    {p.videoPostState === 'ARCHIVING' && <ProgressBar value={p.progress} label={`Archiving ${p.title}`} />}
                  </td>
                  <td>{formatDuration(p.durationMs)}</td>
                  <td>
                    <Link to={`/rooms/${p.videoRoom.id}`}>{p.videoRoom.title}</Link>
                  </td>
                  <td>
                    <code>{p.member.appUserId}</code>
                  </td>
                  <td>
                    <When at={p.createdAt} />
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
    </section>
  );
}
