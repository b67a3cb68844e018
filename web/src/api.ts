import type { LiveEvent } from './wire.js';

// The REST client and the live-event reader. The token travels in the Authorization header;
// live events are therefore read with fetch and a stream reader (EventSource cannot send headers).

const TOKEN_KEY = 'herd.token';

/** An error answer of the API: `{ error: { code, message, hint? } }`. */
export class ApiFailure extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly hint?: string) {
    super(message);
    this.name = 'ApiFailure';
  }
}

/** The token of this browser tab, if signed in. */
export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}
/** Keeps the token for this tab only. */
export function storeToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}
/** Forgets the token. */
export function clearToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** Called when the API says the token is not (or no longer) valid. */
let onUnauthorized: () => void = () => undefined;
/** Sets what happens on a 401. */
export function setUnauthorizedHandler(f: () => void): void {
  onUnauthorized = f;
}

async function request<T>(method: string, path: string, body?: BodyInit | object, token = storedToken()): Promise<T> {
  const headers: Record<string, string> = {};
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(path, { method, headers, ...(payload === undefined ? {} : { body: payload }) });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string; hint?: string } } | undefined)?.error;
    if (res.status === 401) onUnauthorized();
    throw new ApiFailure(res.status, err?.code ?? 'http_error', err?.message ?? `${method} ${path}: HTTP ${res.status}`, err?.hint);
  }
  return json as T;
}

/** The API under /api/v1. */
export const api = {
  get: <T>(path: string, query?: Record<string, string | number | undefined>, token?: string): Promise<T> => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') q.set(k, String(v));
    const qs = q.toString();
    return request<T>('GET', `/api/v1${path}${qs ? `?${qs}` : ''}`, undefined, token);
  },
  post: <T>(path: string, body?: object | FormData): Promise<T> => request<T>('POST', `/api/v1${path}`, body),
  del: (path: string): Promise<void> => request<void>('DELETE', `/api/v1${path}`),
};

/** The state of a live-event stream, for the "live" indicator. */
export type StreamState = 'connecting' | 'open' | 'closed';

/**
 * Reads live events (all runs of the organization, or one) until the returned function is
 * called; reconnects after a dropped connection with a growing pause (1 s … 10 s).
 */
export function subscribe(runId: string | undefined, onEvent: (e: LiveEvent) => void, onState: (s: StreamState) => void = () => undefined): () => void {
  const ctrl = new AbortController();
  let stopped = false;
  let pause = 1000;
  const loop = async (): Promise<void> => {
    while (!stopped) {
      onState('connecting');
      try {
        const token = storedToken();
        const res = await fetch(`/api/v1/events${runId === undefined ? '' : `?runId=${encodeURIComponent(runId)}`}`, {
          headers: token === null ? {} : { authorization: `Bearer ${token}` },
          signal: ctrl.signal,
        });
        if (res.status === 401) {
          onUnauthorized();
          return;
        }
        if (!res.ok || res.body === null) throw new Error(`events: HTTP ${res.status}`);
        onState('open');
        pause = 1000;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          buffer += value;
          let cut: number;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
            if (data === '') continue;
            let event: LiveEvent;
            try {
              event = JSON.parse(data) as LiveEvent;
            } catch {
              continue; // a malformed event is skipped; the next one may be fine
            }
            try {
              onEvent(event);
            } catch (e) {
              // A bug in a page must show (as an uncaught error), not silently end the stream.
              reportError(e);
            }
          }
        }
      } catch {
        if (stopped) return;
      }
      if (stopped) return;
      onState('closed');
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, 10_000);
    }
  };
  void loop();
  return () => {
    stopped = true;
    ctrl.abort();
  };
}
