import { useEffect, useRef, useState } from 'preact/hooks';
import { base, get, post, type Mode, type StreamKey, type VideoRoom } from '../api';
import { LineChart, type Sample } from '../chart';
import { aggregateOf, subscribe } from '../events';
import { publishing, useLiveKey } from '../keystate';
import { Player, type Source } from '../player';
import {
  Badge,
  Confirm,
  CopyButton,
  DefList,
  ErrorBox,
  Link,
  Loading,
  ProgressBar,
  Secret,
  When,
  useLoad,
  useTitle,
} from '../ui';

type Action = 'live' | 'ended' | 'force' | 'cancelled';

export function RoomDetail(props: { id: string }) {
  const room = useLoad((signal) => get<VideoRoom>(`${base}/video-rooms/${props.id}`, undefined, signal), [props.id]);
  const r = room.data;
  useTitle(r ? r.title : `Room ${props.id}`);
  const [action, setAction] = useState<Action | null>(null);
  // Archiving progress by Video Post id, as the feed reports it (it may come before the room
  // is read again with its post).
  const [progress, setProgress] = useState<Record<string, number>>({});

  // The room, and its Video Post's archiving, follow the feed.
  const roomRef = useRef(r);
  roomRef.current = r;
  useEffect(
    () =>
      subscribe((e) => {
        const cur = roomRef.current;
        if (!cur) return;
        const agg = aggregateOf(e);
        if (agg.kind === 'video_room' && agg.id === String(cur.id)) room.reload();
        if (agg.kind !== 'video_post') return;
        if (e.type.endsWith('.progress_reported')) {
          const percent = Number(e.data.percent);
          setProgress((p) => ({ ...p, [agg.id]: Math.max(p[agg.id] ?? 0, percent) }));
        } else if (e.type.endsWith('.archived')) setProgress((p) => ({ ...p, [agg.id]: 100 }));
        else if (agg.id === String(cur.videoPost?.id) || e.data.roomId === cur.id) room.reload();
      }),
    [],
  );

  if (!r)
    return (
      <section>
        <h1>Room {props.id}</h1>
        <ErrorBox error={room.error} retry={room.reload} title="The room could not be loaded" />
        {room.loading && <Loading what="the room" />}
      </section>
    );

  const live = r.videoRoomState === 'LIVE' || r.videoRoomState === 'LIVE_INACTIVE';
  const post = r.videoPost;
  const shownProgress = post
    ? post.videoPostState === 'ARCHIVED'
      ? 100
      : Math.max(progress[String(post.id)] ?? 0, post.progress ?? 0)
    : 0;

  return (
    <section class="room">
      <p class="crumbs">
        <Link to="/rooms">VideoRooms</Link> / #{r.id}
      </p>
      <div class="page-head">
        <h1>{r.title}</h1>
        <Badge state={r.videoRoomState} testid="room-state" />
      </div>
      <ErrorBox error={room.error} retry={room.reload} title="The room could not be refreshed" />

      <div class="actions left" role="group" aria-label="Broadcast">
        {r.videoRoomState === 'SCHEDULED' && (
          <>
            <button type="button" class="primary" onClick={() => setAction('live')}>
              Start Live
            </button>
            <button type="button" class="secondary" onClick={() => setAction('cancelled')}>
              Cancel room
            </button>
          </>
        )}
        {live && (
          <>
            <button type="button" class="primary" onClick={() => setAction('ended')}>
              End Live
            </button>
            <button type="button" class="danger" onClick={() => setAction('force')}>
              Force End
            </button>
          </>
        )}
      </div>

      <div class="columns">
        <div class="main-col">
          <LivePlayer room={r} />
          <StreamKeySection room={r} />
        </div>
        <aside class="side-col" aria-label="Room information">
          <h2>Video Room</h2>
          <DefList
            rows={[
              ['State', <Badge state={r.videoRoomState} />],
              ['Owner', <code>{r.member.appUserId}</code>],
              ['Type', r.type],
              ['Access level', r.accessLevel],
              ['Description', r.description || <span class="muted">—</span>],
              ['Scheduled at', <When at={r.scheduledAt} />],
              ['Live started', <When at={r.liveStartedAt} />],
              ['Live ended', <When at={r.liveEndedAt} />],
              ['vodState', <Badge state={r.vodState} testid="vod-state" />],
              [
                'Video Post',
                post ? (
                  <Link to={`/posts/${post.id}`}>video-post {post.id}</Link>
                ) : (
                  <span class="muted">made when the broadcast ends</span>
                ),
              ],
              ['Room id', <code>{r.uuid}</code>],
            ]}
          />
          {post && post.videoPostState !== 'FAILED_ARCHIVING' && (
            <ProgressBar
              value={shownProgress}
              label={post.videoPostState === 'ARCHIVED' ? 'Archived' : 'Archiving the recording'}
              testid="room-progress"
            />
          )}
          {live && <PlayUrls room={r} />}
        </aside>
      </div>

      {action && (
        <RoomAction
          room={r}
          action={action}
          onClose={(done) => {
            setAction(null);
            if (done) room.reload();
          }}
        />
      )}
    </section>
  );
}

const actionText: Record<Action, { title: string; button: string; body: string; danger?: boolean }> = {
  live: {
    title: 'Start Live?',
    button: 'Start Live',
    body: 'Viewers can watch this room from now on. The owner’s stream key must be ACTIVE: the encoder is sending and the stream is viewable.',
  },
  ended: {
    title: 'End Live?',
    button: 'End Live',
    body: 'The broadcast ends for good and its recording becomes a Video Post. Stop the encoder first: End Live needs the stream key INACTIVE_LIVE.',
  },
  force: {
    title: 'Force End?',
    button: 'Force End',
    danger: true,
    body: 'Ends the broadcast now, whatever the encoder is doing: the publisher is cut off and the member’s stream key is replaced by a new one, which the encoder must be given before the next broadcast.',
  },
  cancelled: {
    title: 'Cancel this room?',
    button: 'Cancel room',
    danger: true,
    body: 'A cancelled room can never go live.',
  },
};

function RoomAction(props: { room: VideoRoom; action: Action; onClose: (done: boolean) => void }) {
  const t = actionText[props.action];
  const path = `${base}/video-rooms/${props.room.id}/rtmp-broadcast/state/`;
  return (
    <Confirm
      title={t.title}
      action={t.button}
      danger={t.danger}
      run={() =>
        props.action === 'force'
          ? post(path + 'ended', undefined, { force: true })
          : post(path + props.action)
      }
      onClose={props.onClose}
    >
      <p>{t.body}</p>
    </Confirm>
  );
}

function sourcesOf(urls: { cmafHlsPlayUrl: string | null; httpFlvPlayUrl: string | null }): Source[] {
  const out: Source[] = [];
  if (urls.cmafHlsPlayUrl) out.push({ kind: 'hls', url: urls.cmafHlsPlayUrl });
  if (urls.httpFlvPlayUrl) out.push({ kind: 'flv', url: urls.httpFlvPlayUrl });
  return out;
}

// The room's live video once viewable: CMAF over HLS (hls.js) when the mode makes it, else HTTP-FLV
// (mpegts.js); both offered in RTMP_CMAF.
function LivePlayer(props: { room: VideoRoom }) {
  const r = props.room;
  const sources = sourcesOf(r);
  const [pick, setPick] = useState<'hls' | 'flv'>('hls');
  const source = sources.find((s) => s.kind === pick) ?? sources[0];
  if (r.videoRoomState === 'LIVE_INACTIVE')
    return (
      <div class="player-placeholder" role="status">
        The encoder has stopped: the broadcast is paused (INACTIVE_LIVE). It resumes when the encoder sends again, or
        End Live ends it.
      </div>
    );
  if (!source)
    return (
      <div class="player-placeholder" role="status">
        {r.videoRoomState === 'SCHEDULED' ? (
          'The live video plays here once the room is live: start the encoder, wait for ACTIVE, then Start Live.'
        ) : r.videoRoomState === 'LIVE' ? (
          'No play URL yet.'
        ) : r.videoRoomState === 'ENDED' && r.videoPost ? (
          <span>
            The broadcast has ended.{' '}
            {r.videoPost.videoPostState === 'ARCHIVED' ? (
              <Link to={`/posts/${r.videoPost.id}`} class="on-dark">
                Watch its VOD
              </Link>
            ) : (
              'Its VOD is being made.'
            )}
          </span>
        ) : (
          'This room is not live.'
        )}
      </div>
    );
  return (
    <div>
      {sources.length > 1 && (
        <fieldset class="segmented">
          <legend class="visually-hidden">Player</legend>
          {sources.map((s) => (
            <label key={s.kind}>
              <input type="radio" name="player" checked={source.kind === s.kind} onChange={() => setPick(s.kind)} />
              {s.kind === 'hls' ? 'HLS (CMAF)' : 'HTTP-FLV'}
            </label>
          ))}
        </fieldset>
      )}
      <Player source={source} live label={`Live video of ${r.title}`} testid="live-video" />
    </div>
  );
}

function PlayUrls(props: { room: VideoRoom }) {
  const r = props.room;
  const urls: [string, string | null][] = [
    ['HLS (CMAF)', r.cmafHlsPlayUrl],
    ['DASH (CMAF)', r.cmafDashPlayUrl],
    ['HTTP-FLV', r.httpFlvPlayUrl],
    ['RTMP', r.rtmpPlayUrl],
  ];
  const present = urls.filter(([, u]) => u);
  if (!present.length) return null;
  return (
    <>
      <h3>Share with viewers</h3>
      <ul class="urls">
        {present.map(([name, u]) => (
          <li key={name}>
            <span class="url-name">{name}</span>
            <code class="wrap">{u}</code>
            <CopyButton value={u!} label={`${name} play URL`} />
          </li>
        ))}
      </ul>
    </>
  );
}

const modeHelp: Record<Mode, string> = {
  RTMP: 'RTMP: viewers play RTMP or HTTP-FLV, as sent (no transcoding, the lowest delay).',
  CMAF: 'CMAF: transcoded to HLS and MPEG-DASH in the key’s profile (720p and 360p, never above the source): plays in any browser and phone.',
  RTMP_CMAF: 'RTMP_CMAF: both of the above.',
};

// The StreamKey section: what to type into OBS, and the key's state as it changes.
function StreamKeySection(props: { room: VideoRoom }) {
  const r = props.room;
  const [samples, setSamples] = useState<{ bitrate: Sample[]; fps: Sample[] }>({ bitrate: [], fps: [] });
  const addSample = (k: StreamKey) => {
    // The figures are zero until the first measurement of a new publisher.
    if (!k.ingest || k.ingest.bitrateKbps == null || !k.ingest.width) return;
    const t = Date.now();
    setSamples((s) => ({
      bitrate: [...s.bitrate, { t, v: k.ingest!.bitrateKbps! }].slice(-150),
      fps: [...s.fps, { t, v: k.ingest!.fps ?? 0 }].slice(-150),
    }));
  };
  const { key: k, error, loading, reload } = useLiveKey(
    (signal) => get<StreamKey>(`${base}/members/${encodeURIComponent(r.member.appUserId)}/stream-key`, undefined, signal),
    [r.member.appUserId],
  );
  const [mode, setMode] = useState<Mode | ''>('');

  // The ingest figures for the chart: read again every 2 s while a publisher is on (the badge
  // itself moves with the feed only).
  const state = k?.streamKeyState;
  useEffect(() => {
    if (!k || !publishing(state)) return;
    let stop = false;
    const read = () =>
      get<StreamKey>(`${base}/stream-keys/${k.id}`)
        .then((fresh) => !stop && addSample(fresh))
        .catch(() => {});
    read();
    const timer = window.setInterval(read, 2000);
    return () => {
      stop = true;
      window.clearInterval(timer);
    };
  }, [k?.id, publishing(state)]);

  return (
    <section class="card" aria-labelledby="sk-title">
      <div class="section-head">
        <h2 id="sk-title">StreamKey</h2>
        <span class="state-line">
          StreamKey State{' '}
          {k ? <Badge state={k.streamKeyState} testid="key-state" /> : <span class="muted">…</span>}
        </span>
      </div>
      <ErrorBox error={error} retry={reload} title="The stream key could not be read" />
      {loading && !k && <Loading what="the stream key" />}
      {k && (
        <>
          <p class="muted">
            In OBS: Settings → Stream → Service “Custom…”, then the two values below. Any RTMP encoder works the same
            way (the full URL is the server, a slash, and the key).
          </p>
          <div class="obs">
            <div class="obs-row">
              <span class="obs-label" id="obs-server">
                Server
              </span>
              <code data-testid="ingest-server" aria-labelledby="obs-server">
                {k.ingestUrl}
              </code>
              <CopyButton value={k.ingestUrl} label="server" />
            </div>
            <div class="obs-row">
              <span class="obs-label">Stream Key</span>
              <Secret value={k.streamKey + (mode ? `?mode=${mode}` : '')} label="stream key" testid="ingest-key" />
            </div>
          </div>
          <fieldset class="modes">
            <legend>Output mode (?mode=)</legend>
            <label>
              <input type="radio" name="mode" checked={mode === ''} onChange={() => setMode('')} />
              None: the key’s default, <strong>{k.defaultMode}</strong> (change it under{' '}
              <Link to={`/keys/${k.id}`}>Stream keys</Link>)
            </label>
            {(['RTMP', 'CMAF', 'RTMP_CMAF'] as Mode[]).map((m) => (
              <label key={m}>
                <input type="radio" name="mode" checked={mode === m} onChange={() => setMode(m)} />
                <code>?mode={m}</code> — {modeHelp[m]}
              </label>
            ))}
          </fieldset>
          <p class="small-text muted">
            The key is the member’s, the same for all their rooms. It is a secret: whoever has it can broadcast as{' '}
            <code>{k.member.appUserId}</code>. Mode in force now: <strong>{k.mode}</strong>.
          </p>
          {k.error && (
            <div class="error-box" role="alert">
              <strong>Ingest error:</strong> {k.error.message} ({k.error.code}, <When at={k.error.occurredAt} />)
            </div>
          )}
          <h3>Ingest</h3>
          {k.ingest ? (
            <DefList
              rows={[
                ['From', <code>{k.ingest.remoteAddr}</code>],
                ['Since', <When at={k.ingest.startedAt} />],
                ['Video', k.ingest.width ? `${k.ingest.videoCodec ?? '?'} ${k.ingest.width}×${k.ingest.height}` : 'measuring…'],
                ['Audio', k.ingest.audioCodec || (k.ingest.width ? 'none' : 'measuring…')],
              ]}
            />
          ) : (
            <p class="muted">No encoder is sending with this key.</p>
          )}
          <div class="charts">
            <LineChart title="Bitrate" unit="kbps" samples={samples.bitrate} color="#1f5fbf" testid="chart-bitrate" />
            <LineChart title="Frame rate" unit="fps" samples={samples.fps} color="#2e7d32" testid="chart-fps" />
          </div>
        </>
      )}
    </section>
  );
}
