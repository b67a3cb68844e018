import type { RawData, WebSocket as WsClient } from 'ws';
import type { TagSet } from '../../metrics/index.js';
import type { VuState } from '../vu-state.js';
import type { ByteMeter } from './byte-meter.js';
import { WsError } from './ws-error.js';

/** What a script-facing socket hears from its connection. Called only while the connection is released. */
export interface WsConnectionListener {
  /**
   * A text (string) or binary message; already counted in ws_msgs_received. Binary bytes are
   * a view of Node's buffer: copy them (into the script's realm) before handing them over.
   */
  onMessage(data: string | Uint8Array, isBinary: boolean): void;
  /** The peer pinged; the pong has been sent already. */
  onPing(): void;
  /** A pong arrived; ws_ping has been recorded when it answers one of our pings. */
  onPong(): void;
  /** A transport or protocol error. */
  onError(error: WsError): void;
  /** The transport is closed. `byPeer` is true when the peer started the close (or the link dropped). */
  onClose(code: number, reason: string, byPeer: boolean): void;
}

/** The handshake response as scripts see it. */
export interface WsHandshake {
  readonly status: number;
  /** Header names in Go's canonical form, repeated headers joined with ", ", as k6 shows them. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** What the dialer hands over to a new connection. */
export interface WsConnectionInit {
  readonly vu: VuState;
  readonly ws: WsClient;
  readonly meter: ByteMeter;
  readonly tags: TagSet;
  readonly handshake: WsHandshake;
  /** performance.now() when the dial started: ws_session_duration counts from there, as in k6. */
  readonly startedAt: number;
}

// k6 closes the TCP connection right after its close frame; herd waits this long for the peer's
// close frame (a clean close) and then drops the connection anyway.
const CLOSE_GRACE_MS = 1000;
// How often a long session reports its bytes.
const BYTES_FLUSH_MS = 1000;

function textOf(data: RawData): string {
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return data.toString('utf8');
}

function bytesOf(data: RawData): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return Array.isArray(data) ? Buffer.concat(data) : data;
}

/**
 * One open WebSocket connection with k6's per-connection metrics: ws_msgs_sent,
 * ws_msgs_received, ws_ping, ws_session_duration, data_sent and data_received.
 *
 * Events are queued from the moment the handshake completes until `release()`: the script's
 * handlers are not registered yet then (k6/ws runs its callback first, which may be async),
 * and the `ws` client can emit messages that arrived with the handshake before any promise
 * continuation runs. Once released, events reach the listener as they arrive.
 */
export class WsConnection {
  /** Tags of every ws_* sample of this connection. */
  readonly tags: TagSet;
  /** The handshake response. */
  readonly handshake: WsHandshake;
  private readonly vu: VuState;
  private readonly ws: WsClient;
  private readonly meter: ByteMeter;
  private readonly startedAt: number;
  private listener: WsConnectionListener | null = null;
  private held = true;
  private draining = false;
  private backlog: Array<() => void> = [];
  /** Set once we sent a close frame, terminated or aborted: later messages are dropped, as in k6. */
  private closeRequested = false;
  private transportClosed = false;
  private aborted = false;
  private closeTimer: ReturnType<typeof setTimeout> | null = null;
  private pingCounter = 0;
  private readonly pingsInFlight = new Map<string, number>();

  /** Wraps the open `ws` client of `init`; the dialer calls this synchronously on `open`. */
  constructor(init: WsConnectionInit) {
    this.vu = init.vu;
    this.ws = init.ws;
    this.meter = init.meter;
    this.tags = init.tags;
    this.handshake = init.handshake;
    this.startedAt = init.startedAt;
    this.wire();
  }

  /** The subprotocol the server chose, '' when none. */
  get protocol(): string {
    return this.ws.protocol;
  }

  /** The extensions the server accepted, '' when none. */
  get extensions(): string {
    return this.ws.extensions;
  }

  /** Bytes handed to the socket but not yet written. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** True until a close was requested or the transport closed. */
  get isOpen(): boolean {
    return !this.closeRequested && !this.transportClosed;
  }

  /** Sets who hears the events; they stay queued until `release()`. */
  attach(listener: WsConnectionListener): void {
    this.listener = listener;
  }

  /** Delivers the queued events, then every later one as it comes. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    this.drain();
  }

  /**
   * Runs `fn` in event order: now when released, else after the queued events. Socket-owned
   * timers go through here so that they never run before the script's callback finished.
   */
  schedule(fn: () => void): void {
    if (this.held || this.draining) {
      this.backlog.push(fn);
      return;
    }
    fn();
  }

  /** Sends a text or binary message; the error says why not when the connection is closing. */
  send(data: string | Uint8Array, binary: boolean): WsError | null {
    if (!this.isOpen) return new WsError('websocket: close sent');
    // No callback: a failed write surfaces as the client's 'error' event, then 'close'.
    this.ws.send(data, { binary });
    this.vu.test.sink.add(this.vu.test.metrics.ws_msgs_sent, this.tags, 1, Date.now());
    return null;
  }

  /** Sends a ping whose pong will be timed into ws_ping. */
  ping(): WsError | null {
    if (!this.isOpen) return new WsError('websocket: close sent');
    // The payload is a counter, so that each pong is matched to its own ping, as k6 does.
    const id = String(this.pingCounter++);
    this.pingsInFlight.set(id, performance.now());
    this.ws.ping(id);
    return null;
  }

  /**
   * Starts a clean close with `code`; `onClose` follows once the peer answered (or the grace
   * period ended). An invalid code or reason drops the connection and is returned as an error.
   */
  close(code: number, reason = ''): WsError | null {
    if (!this.isOpen) return null;
    this.closeRequested = true;
    try {
      this.ws.close(code, reason);
    } catch (e) {
      this.ws.terminate();
      return new WsError(e instanceof Error ? e.message : String(e));
    }
    this.closeTimer = setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS);
    return null;
  }

  /** Drops the connection now; `onClose` still follows (code 1006). */
  terminate(): void {
    if (this.transportClosed) return;
    this.closeRequested = true;
    this.ws.terminate();
  }

  /**
   * Drops the connection for a VU that must stop now: no more events reach the script and no
   * ws_session_duration is recorded (k6 drops samples once the VU's context is done).
   * Safe to call twice.
   */
  abort(): void {
    this.aborted = true;
    this.closeRequested = true;
    this.backlog = [];
    if (!this.transportClosed) this.ws.terminate();
  }

  private drain(): void {
    this.draining = true;
    try {
      // Handlers may schedule more work while the backlog drains; it joins the end of it.
      for (let fn = this.backlog.shift(); fn !== undefined; fn = this.backlog.shift()) fn();
    } finally {
      this.draining = false;
    }
  }

  private wire(): void {
    const ws = this.ws;
    const test = this.vu.test;
    ws.on('message', (data: RawData, isBinary: boolean) => {
      this.schedule(() => {
        if (this.closeRequested) return;
        test.sink.add(test.metrics.ws_msgs_received, this.tags, 1, Date.now());
        this.meter.flushIfOlder(BYTES_FLUSH_MS);
        if (isBinary) this.listener?.onMessage(bytesOf(data), true);
        else this.listener?.onMessage(textOf(data), false);
      });
    });
    ws.on('ping', () => {
      this.schedule(() => {
        if (!this.closeRequested) this.listener?.onPing();
      });
    });
    ws.on('pong', (data: Buffer) => {
      const at = performance.now();
      this.schedule(() => {
        if (this.aborted) return;
        const id = data.toString('utf8');
        const sentAt = this.pingsInFlight.get(id);
        if (sentAt !== undefined) {
          this.pingsInFlight.delete(id);
          test.sink.add(test.metrics.ws_ping, this.tags, at - sentAt, Date.now());
        }
        if (!this.closeRequested) this.listener?.onPong();
      });
    });
    ws.on('error', (err: Error) => {
      this.schedule(() => {
        if (!this.aborted) this.listener?.onError(new WsError(err.message));
      });
    });
    ws.on('close', (code: number, reason: Buffer) => {
      const byPeer = !this.closeRequested;
      this.transportClosed = true;
      if (this.closeTimer !== null) clearTimeout(this.closeTimer);
      this.closeTimer = null;
      this.meter.flush();
      if (this.aborted) return;
      test.sink.add(test.metrics.ws_session_duration, this.tags, performance.now() - this.startedAt, Date.now());
      const text = reason.toString('utf8');
      this.schedule(() => this.listener?.onClose(code, text, byPeer));
    });
  }
}
