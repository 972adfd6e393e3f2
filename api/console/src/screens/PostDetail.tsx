import { useEffect, useRef, useState } from 'preact/hooks';
import { base, del, get, post as postTo, type VideoPost } from '../api';
import { aggregateOf, subscribe } from '../events';
import { Player } from '../player';
import { navigate } from '../router';
import {
  Badge,
  Confirm,
  CopyButton,
  DefList,
  ErrorBox,
  Link,
  Loading,
  ProgressBar,
  When,
  formatBytes,
  formatDuration,
  useLoad,
  useTitle,
} from '../ui';

export function PostDetail(props: { id: string }) {
  const load = useLoad((signal) => get<VideoPost>(`${base}/video-posts/${props.id}`, undefined, signal), [props.id]);
  const p = load.data;
  useTitle(p ? p.title : `Video Post ${props.id}`);
  const [progress, setProgress] = useState(0);
  const [confirm, setConfirm] = useState<'delete' | 'retry' | null>(null);
  const id = useRef(props.id);
  id.current = props.id;

  // The archiving progress moves with the feed; the post is read again when it changes state.
  useEffect(
    () =>
      subscribe((e) => {
        const agg = aggregateOf(e);
        if (agg.kind !== 'video_post' || agg.id !== id.current) return;
        if (e.type.endsWith('.progress_reported')) setProgress((v) => Math.max(v, Number(e.data.percent)));
        else load.reload();
      }),
    [],
  );

  if (!p)
    return (
      <section>
        <h1>Video Post {props.id}</h1>
        <ErrorBox error={load.error} retry={load.reload} title="The video post could not be loaded" />
        {load.loading && <Loading what="the video post" />}
      </section>
    );

  const archived = p.videoPostState === 'ARCHIVED';
  const shown = archived ? 100 : Math.max(progress, p.progress ?? 0);
  return (
    <section>
      <p class="crumbs">
        <Link to="/posts">Video Posts</Link> / #{p.id}
      </p>
      <div class="page-head">
        <h1>{p.title}</h1>
        <Badge state={p.videoPostState} testid="post-state" />
      </div>
      <ErrorBox error={load.error} retry={load.reload} title="The video post could not be refreshed" />
      {p.videoPostState !== 'FAILED_ARCHIVING' && (
        <ProgressBar value={shown} label={archived ? 'Archived' : 'Archiving the recording'} testid="post-progress" />
      )}
      {p.error && (
        <div class="error-box" role="alert">
          <strong>Archiving failed:</strong> {p.error.message} ({p.error.code})
        </div>
      )}
      <div class="columns">
        <div class="main-col">
          {p.playUrl ? (
            <>
              <Player source={{ kind: 'hls', url: p.playUrl }} live={false} label={`VOD of ${p.title}`} testid="vod-video" />
              {!archived && (
                <p class="muted small-text">
                  Playing the recording as it is on disk; the transcoded renditions replace it once archiving is done.
                </p>
              )}
            </>
          ) : (
            <div class="player-placeholder" role="status">
              {p.videoPostState === 'ARCHIVING' ? 'The VOD plays here in a moment.' : 'There is no VOD to play.'}
            </div>
          )}
          {p.thumbnailUrl && (
            <figure class="thumb">
              <img src={p.thumbnailUrl} alt={`Thumbnail of ${p.title}`} width={320} loading="lazy" data-testid="thumbnail" />
              <figcaption class="muted small-text">Thumbnail</figcaption>
            </figure>
          )}
        </div>
        <aside class="side-col" aria-label="Video post information">
          <h2>Video Post</h2>
          <DefList
            rows={[
              ['State', <Badge state={p.videoPostState} />],
              ['Type', p.type],
              ['Room', <Link to={`/rooms/${p.videoRoom.id}`}>{p.videoRoom.title}</Link>],
              ['Owner', <code>{p.member.appUserId}</code>],
              ['Duration', formatDuration(p.durationMs)],
              ['Created', <When at={p.createdAt} />],
              ['Archived', <When at={p.archivedAt} />],
              [
                'Original',
                p.original ? (
                  <>
                    {p.original.width}×{p.original.height}, {formatBytes(p.original.sizeBytes)}{' '}
                    <a href={p.original.url} download>
                      download MP4
                    </a>
                  </>
                ) : (
                  <span class="muted">—</span>
                ),
              ],
              [
                'Renditions',
                p.renditions?.length ? (
                  p.renditions.map((r) => `${r.width}×${r.height} ${r.bitrateKbps} kbps`).join(', ')
                ) : (
                  <span class="muted">—</span>
                ),
              ],
            ]}
          />
          {(p.playUrl || p.dashPlayUrl) && (
            <>
              <h3>Play URLs</h3>
              <ul class="urls">
                {[
                  ['HLS', p.playUrl],
                  ['DASH', p.dashPlayUrl],
                ]
                  .filter(([, u]) => u)
                  .map(([n, u]) => (
                    <li key={n}>
                      <span class="url-name">{n}</span>
                      <code class="wrap">{u}</code>
                      <CopyButton value={u!} label={`${n} URL`} />
                    </li>
                  ))}
              </ul>
            </>
          )}
          <div class="actions left">
            {p.videoPostState === 'FAILED_ARCHIVING' && (
              <button type="button" class="primary" onClick={() => setConfirm('retry')}>
                Archive again
              </button>
            )}
            <button type="button" class="danger" onClick={() => setConfirm('delete')}>
              Delete
            </button>
          </div>
        </aside>
      </div>
      {confirm === 'delete' && (
        <Confirm
          title="Delete this Video Post?"
          action="Delete"
          danger
          run={() => del(`${base}/video-posts/${p.id}`)}
          onClose={(done) => {
            setConfirm(null);
            if (done) navigate('/posts');
          }}
        >
          <p>The VOD and its files are removed. This cannot be undone.</p>
        </Confirm>
      )}
      {confirm === 'retry' && (
        <Confirm
          title="Archive again?"
          action="Archive again"
          run={() => postTo(`${base}/video-posts/${p.id}/retry`)}
          onClose={(done) => {
            setConfirm(null);
            if (done) load.reload();
          }}
        >
          <p>The recording is archived again from the start.</p>
        </Confirm>
      )}
    </section>
  );
}
