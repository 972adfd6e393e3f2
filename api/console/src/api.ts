// The server API of api/web/openapi.json, as the console uses it. The app's key and secret live in
// sessionStorage only (gone with the tab); they travel in the Authorization header, never in a URL.

const storageKey = 'onair.console.credentials';

export interface Credentials {
  apiKey: string;
  apiSecret: string;
}

export function loadCredentials(): Credentials | null {
  try {
    const raw = sessionStorage.getItem(storageKey);
    return raw ? (JSON.parse(raw) as Credentials) : null;
  } catch {
    return null;
  }
}

export function saveCredentials(c: Credentials | null) {
  if (c) sessionStorage.setItem(storageKey, JSON.stringify(c));
  else sessionStorage.removeItem(storageKey);
}

export function authorization(c: Credentials): string {
  // btoa takes Latin-1 only; keys and secrets are ASCII, and anything else is encoded as UTF-8.
  const bytes = new TextEncoder().encode(`${c.apiKey}:${c.apiSecret}`);
  return 'Basic ' + btoa(String.fromCharCode(...bytes));
}

// The API's error body: {errorCode, errorMessage, status, field?}.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
  // In words, for the screen: "Start Live: the stream key is not ACTIVE (STREAM_KEY_STATE_NOT_ACTIVE)".
  describe(): string {
    return this.code ? `${this.message} (${this.code}${this.field ? `, field ${this.field}` : ''})` : this.message;
  }
}

export function describeError(e: unknown): string {
  if (e instanceof ApiError) return e.describe();
  if (e instanceof Error) return e.message;
  return String(e);
}

let credentials: Credentials | null = loadCredentials();
let onUnauthorized: () => void = () => {};

export function setCredentials(c: Credentials | null) {
  credentials = c;
  saveCredentials(c);
}
export function currentCredentials() {
  return credentials;
}
export function whenUnauthorized(fn: () => void) {
  onUnauthorized = fn;
}
// The credentials were refused (a secret rotated meanwhile): back to the sign-in.
export function unauthorized() {
  onUnauthorized();
}

export const base = '/v2/apps/me';

type Query = Record<string, string | number | boolean | undefined | null>;

function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export async function call<T>(
  method: string,
  path: string,
  opts: { query?: Query; body?: unknown; creds?: Credentials; signal?: AbortSignal } = {},
): Promise<T> {
  const creds = opts.creds ?? credentials;
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (creds) headers.Authorization = authorization(creds);
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(withQuery(path, opts.query), {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
      cache: 'no-store',
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'NETWORK_ERROR', `the server could not be reached (${(e as Error).message})`);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let body: any = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: reported below when the status is an error */
  }
  if (!res.ok) {
    if (res.status === 401 && !opts.creds) onUnauthorized();
    throw new ApiError(
      res.status,
      body?.errorCode ?? `HTTP_${res.status}`,
      body?.errorMessage ?? (text.slice(0, 200) || res.statusText || `HTTP ${res.status}`),
      body?.field,
    );
  }
  return body as T;
}

export const get = <T>(path: string, query?: Query, signal?: AbortSignal) => call<T>('GET', path, { query, signal });
export const post = <T>(path: string, body?: unknown, query?: Query) => call<T>('POST', path, { body, query });
export const patch = <T>(path: string, body: unknown) => call<T>('PATCH', path, { body });
export const del = (path: string) => call<void>('DELETE', path);

// ---- the resources (fields as the OpenAPI document names them)

export interface Page<T> {
  content: T[];
  totalElements: number;
  totalPages: number;
  number: number;
  size: number;
  first: boolean;
  last: boolean;
  empty: boolean;
}

export interface MemberRef {
  id: number;
  appUserId: string;
  appUserName: string | null;
}

export interface Member extends MemberRef {
  state: string;
  appUserProfileImgUrl: string | null;
  email: string | null;
  customType: string | null;
  customData: Record<string, string>;
  createdAt: string;
  lastModifiedAt: string;
}

export type Mode = 'RTMP' | 'CMAF' | 'RTMP_CMAF';
export const modes: Mode[] = ['RTMP', 'CMAF', 'RTMP_CMAF'];

export interface Ingest {
  remoteAddr?: string;
  startedAt?: string;
  videoCodec?: string;
  audioCodec?: string;
  width?: number;
  height?: number;
  fps?: number;
  bitrateKbps?: number;
}

export interface StreamKey {
  id: number;
  streamKeyState: string;
  member: MemberRef;
  videoRoom: { id: number; title: string } | null;
  ingestUrl: string;
  streamKey: string;
  mode: Mode;
  defaultMode: Mode;
  profile: { id: number; name: string; orientation: string };
  rtmpPlayUrl: string | null;
  httpFlvPlayUrl: string | null;
  cmafHlsPlayUrl: string | null;
  cmafDashPlayUrl: string | null;
  ingest: Ingest | null;
  error: { code: string; message: string; occurredAt: string } | null;
  version: number;
  createdAt: string;
  lastModifiedAt: string;
}

export interface VideoRoom {
  id: number;
  uuid: string;
  type: string;
  videoRoomState: string;
  vodState: string;
  vodUrl: string | null;
  accessLevel: string;
  member: MemberRef;
  title: string;
  description: string | null;
  scheduledAt: string;
  cancelledAt: string | null;
  liveStartedAt: string | null;
  liveEndedAt: string | null;
  vodArchivedAt: string | null;
  streamKey: { id: number; streamKeyState: string } | null;
  playUrl: string | null;
  rtmpPlayUrl: string | null;
  httpFlvPlayUrl: string | null;
  cmafHlsPlayUrl: string | null;
  cmafDashPlayUrl: string | null;
  videoPost: { id: number; videoPostState: string; progress?: number } | null;
  createdAt: string;
}

export interface VideoPost {
  id: number;
  type: string;
  videoPostState: string;
  progress: number;
  videoRoom: { id: number; title: string };
  member: MemberRef;
  title: string;
  durationMs: number;
  original: { url: string; sizeBytes: number; width: number; height: number } | null;
  renditions: { width: number; height: number; bitrateKbps: number }[];
  playUrl: string | null;
  dashPlayUrl: string | null;
  thumbnailUrl: string | null;
  createdAt: string;
  archivedAt: string | null;
  error: { code: string; message: string } | null;
}

export interface Profile {
  id: number;
  name: string;
  type: string;
  orientation: string;
  videoStreams: { width: number; height: number; bitrateKbps: number; fps: number; codec: string }[];
}

export interface CloudEvent {
  id: string;
  source: string;
  type: string;
  subject?: string;
  time: string;
  data: Record<string, any> & { position: number; version: number };
}

export interface App {
  id: number;
  name: string;
  settings: { defaultMode: Mode; defaultProfileId: number };
}
