import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocket as WsClient } from 'ws';
import type { TagSet } from '../../metrics/index.js';
import { classifyError } from '../k6-http/client/index.js';
import type { VuState } from '../vu-state.js';
import { ByteMeter } from './byte-meter.js';
import { WsConnection, type WsHandshake } from './connection.js';
import type { WsParams } from './params.js';
import { WsError } from './ws-error.js';
import type { AbortLike } from '../vu-signal.js';

/** One connection attempt. */
export interface WsDialRequest {
  readonly url: string;
  /** Subprotocols to offer (Sec-WebSocket-Protocol). */
  readonly protocols: readonly string[];
  readonly params: WsParams;
  /** Aborting it drops the attempt; the result is then a failure and callers check the signal. */
  readonly signal: AbortLike;
  /** k6/websockets also tags samples with `name` (equal to `url`); k6/ws does not. */
  readonly nameTag: boolean;
}

/** The outcome of a connection attempt; ws_sessions and ws_connecting are recorded either way. */
export type WsDialResult =
  | { readonly ok: true; readonly connection: WsConnection }
  | { readonly ok: false; readonly error: WsError; readonly handshake: WsHandshake | null; readonly tags: TagSet };

// k6's dialer gives the handshake 60 s.
const HANDSHAKE_TIMEOUT_MS = 60_000;
// A refused handshake's body is only shown to the script; there is no reason to read much of it.
const MAX_ERROR_BODY_BYTES = 64 * 1024;
// k6's error code for a URL it cannot use.
const INVALID_URL_CODE = 1020;

/** Go's canonical header name: `sec-websocket-accept` becomes `Sec-Websocket-Accept`. */
function canonicalName(name: string): string {
  return name
    .toLowerCase()
    .split('-')
    .map((p) => (p === '' ? p : p[0]!.toUpperCase() + p.slice(1)))
    .join('-');
}

function headersOf(res: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = canonicalName(raw[i] as string);
    const value = raw[i + 1] as string;
    const prev = out[name];
    out[name] = prev === undefined ? value : `${prev}, ${value}`;
  }
  return out;
}

/** The URL when it is one a WebSocket can dial, else null. */
function wsUrl(raw: string): URL | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return null;
  }
  return u.protocol === 'ws:' || u.protocol === 'wss:' ? u : null;
}

/** Maps a failed attempt to k6's wording and error code (shared with k6/http for socket errors). */
function dialError(err: unknown, url: URL): WsError {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port !== '' ? url.port : url.protocol === 'wss:' ? '443' : '80';
  // Go prints the address it dialled, the resolved IP when Node reports it.
  const e = (typeof err === 'object' && err !== null ? err : {}) as { address?: unknown; port?: unknown };
  const ip = typeof e.address === 'string' ? e.address : host;
  const p = typeof e.port === 'number' ? String(e.port) : port;
  const addr = ip.includes(':') ? `[${ip}]:${p}` : `${ip}:${p}`;
  const classified = classifyError(err, 'connect', host, addr);
  return new WsError(classified.message, classified.k6Code);
}

/** The tags of a connection's samples before the handshake answers: VU tags, params.tags, url (and name). */
function baseTags(vu: VuState, req: WsDialRequest): TagSet {
  const sys = vu.test.options.systemTags;
  let tags = vu.tags;
  for (const [k, v] of req.params.tags) tags = tags.with(k, v);
  if (req.nameTag) {
    // As k6/websockets does: a `name` set by the script also becomes the `url` tag, which
    // keeps URLs with ids in them from making one time series each.
    const name = tags.get('name');
    if (name !== undefined) {
      if (sys.has('url')) tags = tags.with('url', name);
    } else {
      if (sys.has('url')) tags = tags.with('url', req.url);
      if (sys.has('name')) tags = tags.with('name', req.url);
    }
  } else if (sys.has('url')) {
    tags = tags.with('url', req.url);
  }
  return tags;
}

function handshakeTags(vu: VuState, tags: TagSet, status: number, subprotocol: string): TagSet {
  const sys = vu.test.options.systemTags;
  let out = tags;
  if (sys.has('status')) out = out.with('status', String(status));
  // k6 sets `subproto` whenever a handshake response came back, to '' when none was chosen.
  if (sys.has('subproto')) out = out.with('subproto', subprotocol);
  return out;
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => resolve(Buffer.concat(chunks).toString('utf8'));
    res.on('data', (c: Buffer) => {
      if (size >= MAX_ERROR_BODY_BYTES) return;
      chunks.push(c);
      size += c.length;
      if (size >= MAX_ERROR_BODY_BYTES) done();
    });
    res.once('end', done);
    res.once('close', done);
    res.once('error', done);
  });
}

/**
 * Opens a WebSocket with k6's connection metrics: ws_sessions (+1) and ws_connecting (time to
 * the end of the handshake) are recorded once the attempt ends, whether it succeeded or not,
 * tagged with status and subproto when a response came back. Never rejects.
 */
export function dialWs(vu: VuState, req: WsDialRequest): Promise<WsDialResult> {
  const startedAt = performance.now();
  const startEpoch = Date.now();
  const test = vu.test;
  let tags = baseTags(vu, req);
  const meter = new ByteMeter(vu, vu.tags);

  const record = (): void => {
    test.sink.add(test.metrics.ws_sessions, tags, 1, startEpoch);
    test.sink.add(test.metrics.ws_connecting, tags, performance.now() - startedAt, startEpoch);
  };

  const url = wsUrl(req.url);
  if (url === null) {
    record();
    return Promise.resolve({ ok: false, error: new WsError('malformed ws or wss URL', INVALID_URL_CODE), handshake: null, tags });
  }

  return new Promise<WsDialResult>((resolve) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of req.params.headers) headers[k] = v;
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'user-agent')) headers['User-Agent'] = test.options.userAgent;

    let ws: WsClient;
    try {
      ws = new WsClient(req.url, [...req.protocols], {
        headers,
        perMessageDeflate: req.params.compression,
        handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
        followRedirects: false,
        rejectUnauthorized: !test.options.insecureSkipTLSVerify,
        autoPong: true,
      });
    } catch (e) {
      // The ws client checks subprotocols and the URL synchronously.
      record();
      resolve({ ok: false, error: new WsError(e instanceof Error ? e.message : String(e)), handshake: null, tags });
      return;
    }

    let settled = false;
    let handshake: WsHandshake | null = null;
    const signal = req.signal;
    const finish = (r: WsDialResult): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const fail = (error: WsError): void => {
      if (settled) return;
      if (handshake !== null) tags = handshakeTags(vu, tags, handshake.status, '');
      // A VU that must stop records nothing more, as k6 drops samples once its context is done.
      if (!signal.aborted) record();
      meter.flush();
      finish({ ok: false, error, handshake, tags });
    };
    const onAbort = (): void => {
      ws.terminate();
      fail(new WsError('context canceled'));
    };

    ws.on('upgrade', (res: IncomingMessage) => {
      meter.attach(res.socket as Socket);
      handshake = { status: res.statusCode ?? 101, headers: headersOf(res), body: '' };
    });
    ws.on('unexpected-response', (_request: ClientRequest, res: IncomingMessage) => {
      meter.attach(res.socket as Socket);
      void readBody(res).then((body) => {
        handshake = { status: res.statusCode ?? 0, headers: headersOf(res), body };
        ws.terminate();
        fail(new WsError('websocket: bad handshake'));
      });
    });
    // Stays attached for the client's life: errors after `open` are the connection's too, and
    // an 'error' with no listener would crash the process.
    ws.on('error', (err: Error) => {
      if (!settled) fail(dialError(err, url));
    });
    ws.on('open', () => {
      const hs: WsHandshake = handshake ?? { status: 101, headers: {}, body: '' };
      tags = handshakeTags(vu, tags, hs.status, ws.protocol);
      record();
      // Built synchronously here: messages that came with the handshake are emitted before any
      // promise continuation could attach listeners.
      const connection = new WsConnection({ vu, ws, meter, tags, handshake: hs, startedAt });
      if (settled) {
        connection.abort();
        return;
      }
      finish({ ok: true, connection });
    });

    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
