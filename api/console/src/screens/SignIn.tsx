import { useState } from 'preact/hooks';
import { base, call, setCredentials, type App } from '../api';
import { ErrorBox, useTitle } from '../ui';

// The app's API key and secret, as `onair app create` printed them. Checked against GET /v2/apps/me
// before they are kept (in this tab's sessionStorage only).
export function SignIn(props: { onSignedIn: () => void }) {
  useTitle('Sign in');
  const [apiKey, setKey] = useState('');
  const [apiSecret, setSecret] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  return (
    <main class="signin" id="main">
      <form
        class="card"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          const creds = { apiKey: apiKey.trim(), apiSecret: apiSecret.trim() };
          try {
            await call<App>('GET', base, { creds });
            setCredentials(creds);
            props.onSignedIn();
          } catch (err) {
            setError(err);
            setBusy(false);
          }
        }}
      >
        <h1>
          <span class="logo" aria-hidden="true" /> onair console
        </h1>
        <p class="muted">
          Sign in with your app's API key and secret, as <code>onair app create</code> printed them. They stay in this
          browser tab only.
        </p>
        <div class="field">
          <label for="apiKey">API key</label>
          <input
            id="apiKey"
            name="apiKey"
            autocomplete="username"
            required
            spellcheck={false}
            value={apiKey}
            onInput={(e) => setKey(e.currentTarget.value)}
            placeholder="ak_…"
          />
        </div>
        <div class="field">
          <label for="apiSecret">API secret</label>
          <input
            id="apiSecret"
            name="apiSecret"
            type="password"
            autocomplete="current-password"
            required
            value={apiSecret}
            onInput={(e) => setSecret(e.currentTarget.value)}
          />
        </div>
        <ErrorBox error={error} title="Not signed in" />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
