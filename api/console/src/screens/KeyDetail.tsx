import { useEffect, useState } from 'preact/hooks';
import { base, get, modes, patch, post, type Mode, type Page, type Profile, type StreamKey } from '../api';
import { useLiveKey } from '../keystate';
import { Badge, Confirm, CopyButton, DefList, ErrorBox, Link, Loading, Secret, When, useLoad, useTitle } from '../ui';

// One stream key: its transcoding profile (landscape or portrait), its default output mode, and
// a new key value when the old one may have leaked.
export function KeyDetail(props: { id: string }) {
  useTitle(`Stream key ${props.id}`);
  const { key: k, error, loading, reload } = useLiveKey(
    (signal) => get<StreamKey>(`${base}/stream-keys/${props.id}`, undefined, signal),
    [props.id],
  );
  const profiles = useLoad((signal) => get<Page<Profile>>(`${base}/transcoding-profiles`, { pageSize: 100 }, signal), []);
  const [profileId, setProfileId] = useState('');
  const [defaultMode, setDefaultMode] = useState<Mode>('RTMP');
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [confirm, setConfirm] = useState<'reissue' | 'terminate' | null>(null);

  useEffect(() => {
    if (k) {
      setProfileId(String(k.profile.id));
      setDefaultMode(k.defaultMode);
    }
  }, [k?.id, k?.profile.id, k?.defaultMode]);

  if (!k)
    return (
      <section>
        <h1>Stream key {props.id}</h1>
        <ErrorBox error={error} retry={reload} title="The stream key could not be loaded" />
        {loading && <Loading what="the stream key" />}
      </section>
    );

  const liveProfiles = profiles.data?.content.filter((p) => p.type === 'LIVE') ?? [];
  return (
    <section>
      <p class="crumbs">
        <Link to="/keys">Stream keys</Link> / #{k.id}
      </p>
      <div class="page-head">
        <h1>
          Stream key of <code>{k.member.appUserId}</code>
        </h1>
        <Badge state={k.streamKeyState} testid="key-state" />
      </div>
      <ErrorBox error={error} retry={reload} title="The stream key could not be refreshed" />
      <div class="columns">
        <div class="main-col">
          <section class="card" aria-labelledby="settings-title">
            <h2 id="settings-title">Transcoding profile and mode</h2>
            <form
              onSubmit={async (e) => {
                e.preventDefault();
                setSaving(true);
                setSaveError(null);
                setSaved(false);
                try {
                  await patch(`${base}/stream-keys/${k.id}`, { profileId: Number(profileId), defaultMode });
                  setSaved(true);
                  reload();
                } catch (err) {
                  setSaveError(err);
                } finally {
                  setSaving(false);
                }
              }}
            >
              <div class="field">
                <label for="k-profile">Profile (orientation of the CMAF output)</label>
                <select id="k-profile" value={profileId} onChange={(e) => setProfileId(e.currentTarget.value)}>
                  {!liveProfiles.some((p) => String(p.id) === profileId) && <option value={profileId}>{k.profile.name}</option>}
                  {liveProfiles.map((p) => (
                    <option key={p.id} value={String(p.id)}>
                      {p.name} — {p.orientation === 'VERTICAL' ? 'portrait' : p.orientation === 'HORIZONTAL' ? 'landscape' : p.orientation.toLowerCase()}
                      {p.videoStreams.length ? ` (${p.videoStreams.map((v) => `${v.width}×${v.height}`).join(', ')})` : ''}
                    </option>
                  ))}
                </select>
                {profiles.error ? <ErrorBox error={profiles.error} title="The profiles could not be loaded" /> : null}
              </div>
              <div class="field">
                <label for="k-mode">Default mode (when the ingest URL has no ?mode=)</label>
                <select id="k-mode" value={defaultMode} onChange={(e) => setDefaultMode(e.currentTarget.value as Mode)}>
                  {modes.map((m) => (
                    <option key={m} value={m}>
                      {m}
                    </option>
                  ))}
                </select>
              </div>
              <ErrorBox error={saveError} title="Not saved" />
              {saved && (
                <p class="ok-text" role="status">
                  Saved. It applies from the next time the encoder connects.
                </p>
              )}
              <div class="actions left">
                <button type="submit" class="primary" disabled={saving}>
                  {saving ? 'Saving…' : 'Save'}
                </button>
              </div>
            </form>
          </section>
          <section class="card" aria-labelledby="value-title">
            <h2 id="value-title">Key value</h2>
            <DefList
              rows={[
                ['Server', <><code>{k.ingestUrl}</code> <CopyButton value={k.ingestUrl} label="server" /></>],
                ['Stream Key', <Secret value={k.streamKey} label="stream key" />],
              ]}
            />
            <p class="muted">
              Reissue gives the key a new value (only while no encoder uses it); the old one stops working. Force
              terminate cuts off the encoder now, ends a live broadcast of this key and reissues the key.
            </p>
            <div class="actions left">
              <button type="button" class="secondary" onClick={() => setConfirm('reissue')}>
                Reissue
              </button>
              <button type="button" class="danger" onClick={() => setConfirm('terminate')}>
                Force terminate
              </button>
            </div>
          </section>
        </div>
        <aside class="side-col" aria-label="Stream key information">
          <h2>Now</h2>
          <DefList
            rows={[
              ['State', <Badge state={k.streamKeyState} />],
              ['Mode in force', k.mode],
              ['Profile', `${k.profile.name} (${k.profile.orientation})`],
              ['Room', k.videoRoom ? <Link to={`/rooms/${k.videoRoom.id}`}>{k.videoRoom.title}</Link> : <span class="muted">—</span>],
              ['Ingest', k.ingest ? `${k.ingest.videoCodec} ${k.ingest.width}×${k.ingest.height}, ${Math.round(k.ingest.fps ?? 0)} fps, ${k.ingest.bitrateKbps} kbps` : <span class="muted">none</span>],
              ['Last error', k.error ? `${k.error.message} (${k.error.code})` : <span class="muted">none</span>],
              ['Changed', <When at={k.lastModifiedAt} />],
            ]}
          />
        </aside>
      </div>
      {confirm && (
        <Confirm
          title={confirm === 'reissue' ? 'Reissue the key?' : 'Force terminate?'}
          action={confirm === 'reissue' ? 'Reissue' : 'Force terminate'}
          danger
          run={() => post(`${base}/stream-keys/${k.id}/${confirm === 'reissue' ? 'reissue' : 'force-terminate'}`)}
          onClose={(done) => {
            setConfirm(null);
            if (done) reload();
          }}
        >
          <p>
            {confirm === 'reissue'
              ? 'The encoder must be given the new key before it can broadcast again.'
              : 'The encoder is disconnected now, a live broadcast of this key ends, and the key gets a new value.'}
          </p>
        </Confirm>
      )}
    </section>
  );
}
