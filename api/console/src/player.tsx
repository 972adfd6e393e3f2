// A <video> fed by hls.js (CMAF over HLS, live or VOD) or mpegts.js (HTTP-FLV, live). Both are
// loaded only when a player is on screen. Muted so that it may start by itself; the controls unmute.
import { useEffect, useRef, useState } from 'preact/hooks';

export type Source = { kind: 'hls' | 'flv'; url: string };

export function Player(props: { source: Source; live: boolean; label: string; testid?: string }) {
  const video = useRef<HTMLVideoElement>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState('loading the player…');

  useEffect(() => {
    const v = video.current!;
    let destroy: () => void = () => {};
    let gone = false;
    setError(null);
    setStatus('loading the player…');
    const onPlaying = () => setStatus('playing');
    const onWaiting = () => setStatus('buffering…');
    const onError = () => setError(`the video element failed: ${v.error?.message || `code ${v.error?.code}`}`);
    v.addEventListener('playing', onPlaying);
    v.addEventListener('waiting', onWaiting);
    v.addEventListener('error', onError);
    const play = () => v.play().catch(() => setStatus('press play to start'));

    (async () => {
      if (props.source.kind === 'hls') {
        const { default: Hls } = await import('hls.js');
        if (gone) return;
        if (!Hls.isSupported()) {
          // Safari plays HLS itself.
          v.src = props.source.url;
          play();
          destroy = () => v.removeAttribute('src');
          return;
        }
        const hls = new Hls({ lowLatencyMode: props.live, backBufferLength: 30 });
        hls.on(Hls.Events.ERROR, (_e, data) => {
          if (data.fatal) setError(`hls.js: ${data.type} ${data.details}${data.response ? ` (HTTP ${data.response.code})` : ''}`);
        });
        hls.on(Hls.Events.MANIFEST_PARSED, play);
        hls.loadSource(props.source.url);
        hls.attachMedia(v);
        destroy = () => hls.destroy();
      } else {
        const { default: mpegts } = await import('mpegts.js');
        if (gone) return;
        // Its warnings and errors stay on the browser's console; the chatter goes.
        mpegts.LoggingControl.enableVerbose = false;
        mpegts.LoggingControl.enableDebug = false;
        mpegts.LoggingControl.enableInfo = false;
        if (!mpegts.getFeatureList().mseLivePlayback) {
          setError('this browser cannot play HTTP-FLV (no Media Source Extensions)');
          return;
        }
        const p = mpegts.createPlayer(
          { type: 'flv', isLive: true, url: props.source.url },
          { enableStashBuffer: false, liveSync: true, liveSyncMaxLatency: 1.5, liveSyncTargetLatency: 0.8 },
        );
        p.on(mpegts.Events.ERROR, (type: string, detail: string, info: { msg?: string }) =>
          setError(`mpegts.js: ${type} ${detail}${info?.msg ? ` — ${info.msg}` : ''}`),
        );
        p.attachMediaElement(v);
        p.load();
        play();
        destroy = () => {
          p.pause();
          p.unload();
          p.detachMediaElement();
          p.destroy();
        };
      }
    })().catch((e) => setError(`the player could not start: ${(e as Error).message}`));

    return () => {
      gone = true;
      v.removeEventListener('playing', onPlaying);
      v.removeEventListener('waiting', onWaiting);
      v.removeEventListener('error', onError);
      destroy();
    };
  }, [props.source.kind, props.source.url, props.live]);

  return (
    <figure class="player">
      <video
        ref={video}
        controls
        muted
        playsInline
        aria-label={props.label}
        data-testid={props.testid}
        data-player={props.source.kind}
      />
      <figcaption>
        {error ? (
          <span class="error-text" role="alert">
            {error}
          </span>
        ) : (
          <span role="status">
            {props.source.kind === 'hls' ? 'HLS (hls.js)' : 'HTTP-FLV (mpegts.js)'}: {status}
          </span>
        )}
      </figcaption>
    </figure>
  );
}
