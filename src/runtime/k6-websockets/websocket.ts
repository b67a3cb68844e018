import { isAnyArrayBuffer } from 'node:util/types';
import { HerdError } from '../../errors/index.js';
import {
  assertNotInitContext,
  describeThrown,
  dialWs,
  HandlerTable,
  isThenable,
  isUnexpectedClose,
  parseWsParams,
  unexpectedCloseError,
  type WsConnection,
  type WsConnectionListener,
  type WsDialResult,
} from '../k6-ws/index.js';
import type { VuState } from '../vu-state.js';
import { closeEvent, errorEvent, messageEvent, plainEvent, type WsEvent } from './events.js';
import { vuSocketsOf, type TrackedSocket, type VuSockets } from './vu-sockets.js';
import type { AbortLike } from '../vu-signal.js';

/** How binary messages reach `onmessage`. */
export type BinaryType = 'blob' | 'arraybuffer';

/** The event types with an `on…` property. */
const ON_EVENTS = ['open', 'message', 'error', 'close', 'ping', 'pong'] as const;
type OnEvent = (typeof ON_EVENTS)[number];

// The close code of `close()` without one (the spec's and k6's).
const NORMAL_CLOSURE = 1000;
// The code a close event reports when there was no close handshake.
const ABNORMAL_CLOSURE = 1006;

/** A script-side Blob: anything that can hand over its bytes. */
interface BlobLike {
  arrayBuffer(): Promise<ArrayBuffer>;
}

function isBlobLike(v: unknown): v is BlobLike {
  return typeof v === 'object' && v !== null && typeof (v as { arrayBuffer?: unknown }).arrayBuffer === 'function';
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as { constructor?: { name?: string } }).constructor?.name ?? 'object';
  return typeof v;
}

/** Checks the URL as k6 does: present, parseable, ws or wss, no fragment. */
function checkUrl(v: unknown): string {
  if (v === undefined) throw new HerdError('script_exception', 'WebSocket requires a url');
  const s = String(v);
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new HerdError('script_exception', `WebSocket requires valid url, but got ${JSON.stringify(s)}`);
  }
  const scheme = u.protocol.slice(0, -1);
  if (scheme !== 'ws' && scheme !== 'wss') {
    throw new HerdError('script_exception', `WebSocket requires url with scheme ws or wss, but got ${JSON.stringify(scheme)}`);
  }
  if (u.hash !== '') throw new HerdError('script_exception', `WebSocket requires no url fragment, but got ${JSON.stringify(u.hash.slice(1))}`);
  return s;
}

function checkProtocols(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.map((p) => String(p));
  return [String(v)];
}

/**
 * k6/websockets' WebSocket: the browser API (https://websockets.spec.whatwg.org) as k6 shapes
 * it, non-blocking. The connection starts when the object is built; the VU's iteration lasts
 * until every socket it opened has closed (see `whenVuSocketsClosed`).
 *
 * Handlers run one at a time in event order. One that throws (or rejects) is logged at error
 * level, as herd's timers log, and drops the connection: `error` and `close` events follow.
 * When the VU is stopped the connection is dropped and no handler runs any more.
 */
export class WebSocket {
  /** readyState while the handshake runs. */
  static readonly CONNECTING = 0;
  /** readyState while messages can flow. */
  static readonly OPEN = 1;
  /** readyState after close() until the connection is closed. */
  static readonly CLOSING = 2;
  /** readyState once closed or failed. */
  static readonly CLOSED = 3;

  /** The URL given to the constructor. */
  readonly url: string;
  readonly #vu: VuState;
  readonly #sockets: VuSockets;
  readonly #signal: AbortLike;
  readonly #handlers = new HandlerTable();
  readonly #on = new Map<OnEvent, (event: WsEvent) => unknown>();
  readonly #tracked: TrackedSocket;
  readonly #listener: WsConnectionListener;
  readonly #onAbort: () => void;
  #conn: WsConnection | null = null;
  #readyState = WebSocket.CONNECTING;
  #binaryType: BinaryType = 'blob';
  #pendingClose: { readonly code: number; readonly reason: string } | null = null;
  /** Sends wait behind a Blob being read, so that messages keep their order. */
  #sendChain: Promise<void> | null = null;
  #done = false;

  /** Opens a socket of `vu` (per-VU subclasses fill `vu` in for scripts). */
  constructor(vu: VuState, url: unknown, protocols?: unknown, params?: unknown) {
    assertNotInitContext(vu);
    this.url = checkUrl(url);
    const protos = checkProtocols(protocols);
    const p = parseWsParams(params, 'WebSocket');
    this.#vu = vu;
    this.#sockets = vuSocketsOf(vu);
    this.#signal = vu.signal;
    this.#tracked = { abort: () => this.#abort() };
    this.#listener = {
      onMessage: (data) => this.#onMessage(data),
      onPing: () => this.#onPingPong('ping'),
      onPong: () => this.#onPingPong('pong'),
      onError: (err) => this.#dispatch('error', errorEvent(this, err.message)),
      onClose: (code, reason, byPeer) => this.#onClose(code, reason, byPeer),
    };
    this.#onAbort = () => this.#abort();
    this.#sockets.add(this.#tracked);
    if (this.#signal.aborted) {
      this.#abort();
      return;
    }
    this.#signal.addEventListener('abort', this.#onAbort, { once: true });
    void dialWs(vu, { url: this.url, protocols: protos, params: p, signal: this.#signal, nameTag: true }).then((r) => this.#dialed(r));
  }

  /** CONNECTING, OPEN, CLOSING or CLOSED (0 to 3). */
  get readyState(): number {
    return this.#readyState;
  }

  /** The subprotocol the server chose, '' before the handshake or when none. */
  get protocol(): string {
    return this.#conn?.protocol ?? '';
  }

  /** The extensions the server accepted. */
  get extensions(): string {
    return this.#conn?.extensions ?? '';
  }

  /** Bytes queued by send() and not yet written. */
  get bufferedAmount(): number {
    return this.#conn?.bufferedAmount ?? 0;
  }

  /** How binary messages are delivered: 'blob' (the default) or 'arraybuffer'. */
  get binaryType(): BinaryType {
    return this.#binaryType;
  }

  set binaryType(v: unknown) {
    if (v !== 'blob' && v !== 'arraybuffer') {
      throw new HerdError('script_exception', `unknown binaryType ${String(v)}, the supported ones are arraybuffer and blob`);
    }
    this.#binaryType = v;
  }

  /** The open handler, or null. */
  get onopen(): unknown {
    return this.#getOn('open');
  }
  set onopen(fn: unknown) {
    this.#setOn('open', fn);
  }

  /** The message handler, or null. */
  get onmessage(): unknown {
    return this.#getOn('message');
  }
  set onmessage(fn: unknown) {
    this.#setOn('message', fn);
  }

  /** The error handler, or null. */
  get onerror(): unknown {
    return this.#getOn('error');
  }
  set onerror(fn: unknown) {
    this.#setOn('error', fn);
  }

  /** The close handler, or null. */
  get onclose(): unknown {
    return this.#getOn('close');
  }
  set onclose(fn: unknown) {
    this.#setOn('close', fn);
  }

  /** The ping handler (k6's addition), or null. */
  get onping(): unknown {
    return this.#getOn('ping');
  }
  set onping(fn: unknown) {
    this.#setOn('ping', fn);
  }

  /** The pong handler (k6's addition), or null. */
  get onpong(): unknown {
    return this.#getOn('pong');
  }
  set onpong(fn: unknown) {
    this.#setOn('pong', fn);
  }

  /** Adds a handler for open, message, error, close, ping or pong; several may share an event. */
  addEventListener(type: unknown, handler: unknown): void {
    this.#handlers.add(String(type), handler);
  }

  /** Removes a handler added with addEventListener. */
  removeEventListener(type: unknown, handler: unknown): void {
    this.#handlers.remove(String(type), handler);
  }

  /** Sends a string (text), an ArrayBuffer or view (binary) or a Blob (binary). Throws unless OPEN, as k6 does. */
  send(data: unknown): void {
    this.#assertOpen();
    if (typeof data === 'string') {
      this.#write(() => data, false);
    } else if (isAnyArrayBuffer(data)) {
      // Not `instanceof`: the script's ArrayBuffer comes from its own realm.
      this.#write(() => new Uint8Array(data), true);
    } else if (ArrayBuffer.isView(data)) {
      this.#write(() => new Uint8Array(data.buffer, data.byteOffset, data.byteLength), true);
    } else if (isBlobLike(data)) {
      this.#writeBlob(data);
    } else {
      throw new HerdError('script_exception', `unsupported send type ${typeName(data)}`);
    }
  }

  /** Sends a ping; its pong lands in ws_ping and fires `pong`. */
  ping(): void {
    this.#assertOpen();
    this.#afterSends(() => {
      this.#conn?.ping();
    });
  }

  /** Starts closing (code 1000 unless given); `close` fires once the connection is closed. */
  close(code?: unknown, reason?: unknown): void {
    if (this.#readyState === WebSocket.CLOSING || this.#readyState === WebSocket.CLOSED) return;
    const c = code === undefined || code === null ? NORMAL_CLOSURE : Math.trunc(Number(code));
    const r = reason === undefined || reason === null ? '' : String(reason);
    const wasConnecting = this.#readyState === WebSocket.CONNECTING;
    this.#readyState = WebSocket.CLOSING;
    if (wasConnecting) {
      // Sent once the handshake completes; `open` is then skipped.
      this.#pendingClose = { code: c, reason: r };
      return;
    }
    this.#afterSends(() => this.#closeConnection(c, r));
  }

  #getOn(type: OnEvent): unknown {
    return this.#on.get(type) ?? null;
  }

  #setOn(type: OnEvent, fn: unknown): void {
    if (fn === null || fn === undefined) {
      this.#on.delete(type);
      return;
    }
    if (typeof fn !== 'function') throw new HerdError('script_exception', `a value for 'on${type}' should be callable`);
    this.#on.set(type, fn as (event: WsEvent) => unknown);
  }

  #assertOpen(): void {
    if (this.#readyState !== WebSocket.OPEN) throw new HerdError('script_exception', 'InvalidStateError');
  }

  #write(payload: () => string | Uint8Array, binary: boolean): void {
    this.#afterSends(() => {
      this.#conn?.send(payload(), binary);
    });
  }

  #writeBlob(blob: BlobLike): void {
    const prev = this.#sendChain ?? Promise.resolve();
    const next = prev.then(async () => {
      const bytes = new Uint8Array(await blob.arrayBuffer());
      this.#conn?.send(bytes, true);
    });
    this.#chain(next);
  }

  /** Runs `fn` now, or after the Blob sends queued before it. */
  #afterSends(fn: () => void): void {
    if (this.#sendChain === null) {
      fn();
      return;
    }
    this.#chain(this.#sendChain.then(fn));
  }

  #chain(next: Promise<void>): void {
    this.#sendChain = next;
    next.then(
      () => {
        if (this.#sendChain === next) this.#sendChain = null;
      },
      (e: unknown) => {
        if (this.#sendChain === next) this.#sendChain = null;
        this.#vu.test.logger.log('error', `Uncaught (in promise) ${describeThrown(e)}`);
      },
    );
  }

  #closeConnection(code: number, reason: string): void {
    const err = this.#conn?.close(code, reason) ?? null;
    if (err !== null) this.#dispatch('error', errorEvent(this, err.message));
  }

  #dialed(r: WsDialResult): void {
    if (this.#done) {
      if (r.ok) r.connection.abort();
      return;
    }
    if (!r.ok) {
      this.#readyState = WebSocket.CLOSED;
      this.#dispatch('error', errorEvent(this, r.error.message));
      this.#dispatch('close', closeEvent(this, ABNORMAL_CLOSURE, '', false));
      this.#finish();
      return;
    }
    const conn = r.connection;
    this.#conn = conn;
    conn.attach(this.#listener);
    const pending = this.#pendingClose;
    if (pending !== null) {
      this.#closeConnection(pending.code, pending.reason);
    } else {
      this.#readyState = WebSocket.OPEN;
      this.#dispatch('open', plainEvent('open', this));
    }
    conn.release();
  }

  #onMessage(data: string | Uint8Array): void {
    // The spec drops messages that arrive once closing started.
    if (this.#readyState !== WebSocket.OPEN) return;
    let payload: string | ArrayBuffer | Blob;
    if (typeof data === 'string') payload = data;
    // The Blob copies the bytes; an ArrayBuffer is made in the script's realm.
    else payload = this.#binaryType === 'blob' ? new Blob([data]) : this.#vu.test.scriptArrayBuffer(data);
    this.#dispatch('message', messageEvent(this, payload, this.url));
  }

  #onPingPong(type: 'ping' | 'pong'): void {
    if (this.#readyState === WebSocket.OPEN) this.#dispatch(type, plainEvent(type, this));
  }

  #onClose(code: number, reason: string, byPeer: boolean): void {
    this.#readyState = WebSocket.CLOSED;
    if (byPeer && isUnexpectedClose(code)) this.#dispatch('error', errorEvent(this, unexpectedCloseError(code, reason).message));
    this.#dispatch('close', closeEvent(this, code, reason, code !== ABNORMAL_CLOSURE));
    this.#finish();
  }

  #dispatch(type: string, event: WsEvent): void {
    if (this.#done) return;
    const on = this.#on.get(type as OnEvent);
    if (on !== undefined) {
      let ret: unknown;
      try {
        ret = on.call(this, event);
      } catch (e) {
        this.#handlerFailed(e, false);
        return;
      }
      if (isThenable(ret)) this.#track(ret);
    }
    this.#handlers.call(
      type,
      this,
      [event],
      (e) => this.#handlerFailed(e, false),
      (p) => this.#track(p),
    );
  }

  #track(p: PromiseLike<unknown>): void {
    this.#sockets.track(p, (e) => this.#handlerFailed(e, true));
  }

  /** A handler threw or rejected: log it and drop the connection (error and close follow). */
  #handlerFailed(e: unknown, async: boolean): void {
    if (this.#done && async) return;
    this.#vu.test.logger.log('error', `Uncaught ${async ? '(in promise) ' : ''}${describeThrown(e)}`);
    if (this.#readyState === WebSocket.CLOSED) return;
    if (this.#conn !== null) {
      this.#readyState = WebSocket.CLOSING;
      this.#conn.terminate();
    } else {
      // Still connecting: close as soon as the handshake completes.
      this.#readyState = WebSocket.CLOSING;
      this.#pendingClose = { code: 1001, reason: '' };
    }
  }

  /** The socket is closed: it no longer keeps the iteration going. */
  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#signal.removeEventListener('abort', this.#onAbort);
    this.#sockets.delete(this.#tracked);
  }

  /** The VU must stop (or the engine closes its sockets): drop everything, run nothing more. */
  #abort(): void {
    if (this.#done) return;
    this.#readyState = WebSocket.CLOSED;
    this.#conn?.abort();
    this.#finish();
  }
}
