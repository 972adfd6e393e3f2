// The console: sign-in, then the screens of the vendor's console (App Users, VideoRooms, Video
// Posts, stream keys) and the audit trail, over the server API and its event feed.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './style.css';
import { base, call, currentCredentials, setCredentials, whenUnauthorized, type App } from './api';
import { onFeedStatus, startFeed, stopFeed, feedStatus, type FeedStatus } from './events';
import { match, navigate, useLocation } from './router';
import { Link } from './ui';
import { SignIn } from './screens/SignIn';
import { Members } from './screens/Members';
import { Rooms } from './screens/Rooms';
import { RoomDetail } from './screens/RoomDetail';
import { Posts } from './screens/Posts';
import { PostDetail } from './screens/PostDetail';
import { Keys } from './screens/Keys';
import { KeyDetail } from './screens/KeyDetail';
import { Events } from './screens/Events';

const sections = [
  { to: '/members', label: 'App Users' },
  { to: '/rooms', label: 'VideoRooms' },
  { to: '/posts', label: 'Video Posts' },
  { to: '/keys', label: 'Stream keys' },
  { to: '/events', label: 'Events' },
];

function Screen(props: { path: string }) {
  const p = props.path;
  let m: Record<string, string> | null;
  if (p === '/members') return <Members />;
  if (p === '/rooms') return <Rooms />;
  if ((m = match('/rooms/:id', p))) return <RoomDetail id={m.id} />;
  if (p === '/posts') return <Posts />;
  if ((m = match('/posts/:id', p))) return <PostDetail id={m.id} />;
  if (p === '/keys') return <Keys />;
  if ((m = match('/keys/:id', p))) return <KeyDetail id={m.id} />;
  if (p === '/events') return <Events />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        The console has no page at <code>{p}</code>. <Link to="/rooms">Go to the VideoRooms</Link>.
      </p>
    </section>
  );
}

function FeedIndicator() {
  const [s, setS] = useState<FeedStatus>(feedStatus());
  useEffect(() => onFeedStatus(setS), []);
  const words: Record<FeedStatus, string> = {
    connecting: 'Event feed: connecting',
    live: 'Event feed: live',
    retrying: 'Event feed: reconnecting',
    stopped: 'Event feed: off',
  };
  return (
    <span class={`feed feed-${s}`} role="status" data-testid="feed" data-state={s}>
      <span class="dot" aria-hidden="true" />
      {words[s]}
    </span>
  );
}

function Shell(props: { app: App | null; onSignOut: () => void }) {
  const { path } = useLocation();
  const [menu, setMenu] = useState(false);
  useEffect(() => setMenu(false), [path]);
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link to="/rooms" class="brand">
          <span class="logo" aria-hidden="true" />
          onair <span class="muted">console</span>
        </Link>
        <button
          type="button"
          class="menu-toggle secondary small"
          aria-expanded={menu}
          aria-controls="nav"
          onClick={() => setMenu(!menu)}
        >
          Menu
        </button>
        <nav id="nav" class={menu ? 'open' : ''} aria-label="Sections">
          {sections.map((s) => (
            <Link
              key={s.to}
              to={s.to}
              aria-current={path === s.to || path.startsWith(s.to + '/') ? 'page' : undefined}
            >
              {s.label}
            </Link>
          ))}
        </nav>
        <div class="who">
          <FeedIndicator />
          <span class="app-name" title="the app these credentials name">
            {props.app ? props.app.name : ''}
          </span>
          <button type="button" class="secondary small" onClick={props.onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Screen path={path} />
      </main>
    </>
  );
}

function Console() {
  const [signedIn, setSignedIn] = useState(currentCredentials() !== null);
  const [app, setApp] = useState<App | null>(null);
  const { path } = useLocation();

  const signOut = () => {
    stopFeed();
    setCredentials(null);
    setApp(null);
    setSignedIn(false);
  };

  useEffect(() => {
    whenUnauthorized(signOut);
  }, []);

  useEffect(() => {
    if (!signedIn) return;
    startFeed();
    call<App>('GET', base)
      .then(setApp)
      .catch(() => setApp(null));
    return () => stopFeed();
  }, [signedIn]);

  useEffect(() => {
    if (signedIn && (path === '/' || path === '')) navigate('/rooms', true);
  }, [signedIn, path]);

  if (!signedIn) return <SignIn onSignedIn={() => setSignedIn(true)} />;
  return <Shell app={app} onSignOut={signOut} />;
}

render(<Console />, document.getElementById('app')!);
