// Paths under /console, with the History API. onair answers every one of them with index.html
// (api/routes_console.cpp), so a reload or a shared link opens the same screen.
import { useEffect, useState } from 'preact/hooks';

export const root = '/console';

export function currentPath(): string {
  const p = location.pathname.startsWith(root) ? location.pathname.slice(root.length) : location.pathname;
  return p.replace(/\/+$/, '') || '/';
}

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => listeners.forEach((l) => l()));

export function navigate(to: string, replace = false) {
  const url = root + to;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  listeners.forEach((l) => l());
  window.scrollTo(0, 0);
}

export function useLocation(): { path: string; query: URLSearchParams } {
  const [, force] = useState(0);
  useEffect(() => {
    const l = () => force((n) => n + 1);
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return { path: currentPath(), query: new URLSearchParams(location.search) };
}

// Replaces the query of the current screen (filters, page), keeping it in the URL for reloads.
export function setQuery(values: Record<string, string | number | undefined>) {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined || v === '') q.delete(k);
    else q.set(k, String(v));
  }
  const s = q.toString();
  navigate(currentPath() + (s ? `?${s}` : ''), true);
}

// Matches "/rooms/:id" against a path; the params or null.
export function match(pattern: string, path: string): Record<string, string> | null {
  const a = pattern.split('/');
  const b = path.split('/');
  if (a.length !== b.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    if (a[i].startsWith(':')) params[a[i].slice(1)] = decodeURIComponent(b[i]);
    else if (a[i] !== b[i]) return null;
  }
  return params;
}
