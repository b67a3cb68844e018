import { HerdError } from '../errors/index.js';

/** A server answer that was not 2xx, with the server's error code and message. */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** One server-sent event. */
export interface ServerEvent {
  readonly event: string;
  readonly data: unknown;
}

/** A small client of herd's REST API for the CLI: JSON calls, multipart uploads, SSE. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** GET/POST JSON; throws ApiRequestError for non-2xx answers, HerdError when the server cannot be reached. */
  async json<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const res = await this.fetch(path, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return (await this.read(res)) as T;
  }

  /** POSTs a multipart form with one file part. */
  async upload<T>(path: string, fields: Record<string, string>, fileField: string, file: Uint8Array, fileName: string): Promise<T> {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append(fileField, new Blob([file], { type: 'application/gzip' }), fileName);
    const res = await this.fetch(path, { method: 'POST', headers: { authorization: `Bearer ${this.token}` }, body: form });
    return (await this.read(res)) as T;
  }

  /** Reads server-sent events from `path` until `signal` aborts or the server closes the stream. */
  async *events(path: string, signal: AbortSignal): AsyncGenerator<ServerEvent> {
    const res = await this.fetch(path, { headers: { authorization: `Bearer ${this.token}`, accept: 'text/event-stream' }, signal });
    if (!res.ok || res.body === null) {
      await this.read(res);
      return;
    }
    const decoder = new TextDecoder();
    let buffer = '';
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
          }
          if (data.length === 0) continue;
          try {
            yield { event, data: JSON.parse(data.join('\n')) as unknown };
          } catch {
            // a malformed event is skipped; the run's status is re-read at the end anyway
          }
        }
      }
    } finally {
      reader.releaseLock();
    }
  }

  private async fetch(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(new URL(path, this.baseUrl), init);
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e;
      throw new HerdError('cloud_unreachable', `cannot reach the herd server at ${this.baseUrl}: ${(e as Error).message}`, {
        hint: 'check --host (or HERD_HOST) and that `herd server` is running',
      });
    }
  }

  private async read(res: Response): Promise<unknown> {
    const text = await res.text();
    let body: unknown = undefined;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    if (res.ok) return body;
    const err = (body as { error?: { code?: string; message?: string; hint?: string } } | undefined)?.error;
    throw new ApiRequestError(res.status, err?.code ?? `http_${res.status}`, err?.message ?? `the server answered ${res.status}`, err?.hint);
  }
}
