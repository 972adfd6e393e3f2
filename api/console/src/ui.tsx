// What every screen is made of: links, badges, the loading / empty / error states, confirmations,
// copy buttons, paging, dates.
import type { ComponentChildren, JSX } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { describeError } from './api';
import { navigate, root } from './router';

export function Link(props: { to: string; children: ComponentChildren; class?: string; 'aria-current'?: 'page' }) {
  const { to, children, ...rest } = props;
  return (
    <a
      href={root + to}
      {...rest}
      onClick={(e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

// The tone of a state: live and good green, waiting amber, stopped grey, failed red.
const tones: Record<string, string> = {
  ACTIVE: 'good',
  ACTIVE_LIVE: 'live',
  LIVE: 'live',
  ARCHIVED: 'good',
  ACTIVE_PREP: 'wait',
  ACTIVE_LIVE_PREP: 'wait',
  INACTIVE_LIVE: 'wait',
  LIVE_INACTIVE: 'wait',
  ARCHIVING: 'wait',
  SCHEDULED: 'info',
  FAILED_ARCHIVING: 'bad',
};

export function Badge(props: { state: string | null | undefined; testid?: string; label?: string }) {
  const s = props.state ?? '—';
  return (
    <span class={`badge badge-${tones[s] ?? 'off'}`} data-testid={props.testid} data-state={s} title={props.label}>
      {s}
    </span>
  );
}

export function Loading(props: { what?: string }) {
  return (
    <p class="loading" role="status">
      <span class="spinner" aria-hidden="true" /> Loading{props.what ? ` ${props.what}` : ''}…
    </p>
  );
}

export function ErrorBox(props: { error: unknown; retry?: () => void; title?: string }) {
  if (!props.error) return null;
  return (
    <div class="error-box" role="alert">
      <strong>{props.title ?? 'Something went wrong'}:</strong> {describeError(props.error)}
      {props.retry && (
        <button type="button" class="secondary small" onClick={props.retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty(props: { children: ComponentChildren }) {
  return <p class="empty">{props.children}</p>;
}

// A value loaded from the API, with its state: {data, error, loading, reload}.
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    load(ctl.signal)
      .then((d) => {
        if (ctl.signal.aborted) return;
        setData(d);
        setError(null);
      })
      .catch((e) => {
        if (!ctl.signal.aborted && (e as Error).name !== 'AbortError') setError(e);
      })
      .finally(() => {
        if (!ctl.signal.aborted) setLoading(false);
      });
    return () => ctl.abort();
  }, [...deps, tick]);
  return { data, error, loading, reload, setData };
}

// A modal with <dialog>: focus moves in, Escape closes, focus returns to what opened it.
export function Modal(props: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current!;
    const opener = document.activeElement as HTMLElement | null;
    if (!d.open) d.showModal();
    return () => {
      if (d.open) d.close();
      opener?.focus?.();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class={props.wide ? 'wide' : ''}
      aria-labelledby="dialog-title"
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
    >
      <div class="dialog-head">
        <h2 id="dialog-title">{props.title}</h2>
        <button type="button" class="icon" aria-label="Close" onClick={props.onClose}>
          ×
        </button>
      </div>
      {props.children}
    </dialog>
  );
}

// "Are you sure?" around an action; the action's error is shown in the dialog, in words.
export function Confirm(props: {
  title: string;
  children: ComponentChildren;
  action: string;
  danger?: boolean;
  run: () => Promise<unknown>;
  onClose: (done: boolean) => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  return (
    <Modal title={props.title} onClose={() => !busy && props.onClose(false)}>
      <div class="dialog-body">{props.children}</div>
      <ErrorBox error={error} title="Not done" />
      <div class="actions">
        {/* A destructive action does not start focused: Enter on an opened dialog cancels it. */}
        <button type="button" class="secondary" disabled={busy} autofocus={props.danger} onClick={() => props.onClose(false)}>
          Cancel
        </button>
        <button
          type="button"
          class={props.danger ? 'danger' : 'primary'}
          disabled={busy}
          autofocus={!props.danger}
          onClick={async () => {
            setBusy(true);
            setError(null);
            try {
              await props.run();
              props.onClose(true);
            } catch (e) {
              setError(e);
              setBusy(false);
            }
          }}
        >
          {busy ? 'Working…' : props.action}
        </button>
      </div>
    </Modal>
  );
}

export function CopyButton(props: { value: string; label: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  return (
    <button
      type="button"
      class="secondary small"
      aria-label={`Copy ${props.label}`}
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(props.value);
          setState('copied');
        } catch {
          setState('failed');
        }
        window.setTimeout(() => setState('idle'), 2000);
      }}
    >
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed: select and copy' : 'Copy'}
    </button>
  );
}

// A value shown hidden until asked (the stream key is a secret on a shared screen).
export function Secret(props: { value: string; label: string; testid?: string }) {
  const [shown, setShown] = useState(false);
  return (
    <span class="secret">
      <code data-testid={props.testid} data-value={props.value}>
        {shown ? props.value : '•'.repeat(Math.min(24, props.value.length))}
      </code>
      <button type="button" class="secondary small" aria-pressed={shown} onClick={() => setShown(!shown)}>
        {shown ? 'Hide' : 'Show'}
        <span class="visually-hidden"> {props.label}</span>
      </button>
      <CopyButton value={props.value} label={props.label} />
    </span>
  );
}

export function Pager(props: { page: number; totalPages: number; total: number; onPage: (p: number) => void }) {
  if (props.totalPages <= 1) return <p class="muted small-text">{props.total} in all</p>;
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" class="secondary small" disabled={props.page <= 0} onClick={() => props.onPage(props.page - 1)}>
        ← Previous
      </button>
      <span>
        Page {props.page + 1} of {props.totalPages} ({props.total} in all)
      </span>
      <button
        type="button"
        class="secondary small"
        disabled={props.page + 1 >= props.totalPages}
        onClick={() => props.onPage(props.page + 1)}
      >
        Next →
      </button>
    </nav>
  );
}

export function When(props: { at: string | null | undefined }) {
  if (!props.at) return <span class="muted">—</span>;
  const d = new Date(props.at);
  return (
    <time dateTime={props.at} title={props.at}>
      {d.toLocaleString()}
    </time>
  );
}

export function Field(props: { label: string; hint?: string; children: (id: string) => JSX.Element; id: string }) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.children(props.id)}
      {props.hint && (
        <small class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </small>
      )}
    </div>
  );
}

export function ProgressBar(props: { value: number; label: string; testid?: string }) {
  const v = Math.max(0, Math.min(100, Math.round(props.value)));
  return (
    <div class="progress-wrap">
      <div
        class="progress"
        role="progressbar"
        aria-label={props.label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={v}
        data-testid={props.testid}
      >
        <div class="progress-fill" style={{ width: `${v}%` }} />
      </div>
      <span class="progress-text">{v} %</span>
    </div>
  );
}

export function DefList(props: { rows: [string, ComponentChildren][] }) {
  return (
    <dl class="deflist">
      {props.rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms == null) return '—';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}

export function formatBytes(n: number | null | undefined): string {
  if (n == null) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

// Sets the page title: "Rooms · onair console".
export function useTitle(title: string) {
  useEffect(() => {
    document.title = `${title} · onair console`;
  }, [title]);
}
