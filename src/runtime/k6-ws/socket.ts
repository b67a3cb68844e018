import { isAnyArrayBuffer } from 'node:util/types';
import { HerdError } from '../../errors/index.js';
import type { VuState } from '../vu-state.js';
import type { WsConnection, WsConnectionListener } from './connection.js';
import { describeThrown, HandlerTable, isThenable } from './script-callback.js';
import { isUnexpectedClose, unexpectedCloseError, type WsError } from './ws-error.js';
import type { AbortLike } from '../vu-signal.js';

/** k6's code for `socket.close()` without one: 1001, "going away". */
const DEFAULT_CLOSE_CODE = 1001;

type TimerKind = 'setTimeout' | 'setInterval';

function binaryBytes(data: unknown): Uint8Array {
  // Not `instanceof`: the script's ArrayBuffer comes from its own realm.
  if (isAnyArrayBuffer(data)) return new Uint8Array(data);
  // k6 takes only an ArrayBuffer; a typed array or DataView is accepted too, it carries one.
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const got = data === null ? 'null' : typeof data === 'object' ? (data.constructor?.name ?? 'object') : typeof data;
  throw new HerdError('script_exception', `expected ArrayBuffer as argument, received: ${got}`);
}

/**
 * The k6/ws session behind one `ws.connect` call: it owns the script's handlers and timers,
 * and decides when `connect` returns.
 *
 * As in k6, handlers run one at a time in event order, `socket.close()` runs the `close`
 * handlers at once, and a handler that throws closes the socket (1001) and makes `connect`
 * throw that error. Handlers may be async: their promises are awaited before `connect`
 * returns, and a rejection is logged at error level and closes the socket.
 */
export class SocketSession implements WsConnectionListener {
  /** The object handed to the script's callback. */
  readonly socket: Socket;
  /** The script's handlers by event name. */
  readonly handlers = new HandlerTable();
  /** Settles once the socket is closed and no async handler is pending; rejects with the first handler error. */
  readonly done: Promise<void>;
  private resolveDone: () => void = () => {};
  private rejectDone: (e: unknown) => void = () => {};
  // Timeouts and intervals alike: Node's clearTimeout cancels both.
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private pendingAsync = 0;
  private failure: { readonly error: unknown } | null = null;
  /** Set when the close handlers have run (or are running): the session takes no more events. */
  private closeStarted = false;
  private transportDone = false;
  private finished = false;

  /** A session of `vu` over the open `conn`; `signal` is the VU's stop signal at connect time. */
  constructor(
    private readonly vu: VuState,
    private readonly conn: WsConnection,
    private readonly signal: AbortLike,
  ) {
    this.socket = new Socket(this);
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
  }

  /**
   * Runs the connect callback (awaiting it when it returns a promise), then fires `open` and
   * lets the queued socket events through. Returns `done`.
   */
  run(callback: (socket: Socket) => unknown): Promise<void> {
    if (this.signal.aborted) {
      this.abort();
      return this.done;
    }
    const onAbort = (): void => this.abort();
    this.signal.addEventListener('abort', onAbort, { once: true });
    const cleanup = (): void => this.signal.removeEventListener('abort', onAbort);
    this.done.then(cleanup, cleanup);
    this.conn.attach(this);
    let ret: unknown;
    try {
      ret = callback.call(undefined, this.socket);
    } catch (e) {
      this.fail(e);
      this.conn.release();
      return this.done;
    }
    if (isThenable(ret)) {
      ret.then(
        () => this.opened(),
        (e: unknown) => {
          this.fail(e);
          this.conn.release();
        },
      );
    } else {
      this.opened();
    }
    return this.done;
  }

  /** Registers `handler` for `event`. */
  on(event: unknown, handler: unknown): void {
    this.handlers.add(String(event), handler);
  }

  /** Sends a text message; a closing socket reports an error event instead, as in k6. */
  send(message: unknown): void {
    const err = this.conn.send(String(message), false);
    if (err !== null) this.dispatch('error', [err]);
  }

  /** Sends a binary message. */
  sendBinary(data: unknown): void {
    const err = this.conn.send(binaryBytes(data), true);
    if (err !== null) this.dispatch('error', [err]);
  }

  /** Sends a ping; its pong lands in ws_ping. */
  ping(): void {
    const err = this.conn.ping();
    if (err !== null) this.dispatch('error', [err]);
  }

  /** Closes the socket with `code` (1001 by default) and runs the `close` handlers now. */
  close(code: unknown): void {
    this.closeSocket(code === undefined ? DEFAULT_CLOSE_CODE : Math.trunc(Number(code)));
  }

  /** Runs `callback` once after `ms`, inside the socket's event order; cancelled by close. */
  addTimer(kind: TimerKind, callback: unknown, ms: unknown): void {
    if (typeof callback !== 'function') {
      throw new HerdError('script_exception', `${kind}'s callback must be a function, got ${typeof callback}`);
    }
    const delay = Number(ms);
    if (!(delay > 0)) {
      throw new HerdError('script_exception', `${kind} requires a >0 timeout parameter, received ${delay.toFixed(2)}`);
    }
    if (this.closeStarted) return;
    const fn = callback as () => unknown;
    const fire = (): void => this.conn.schedule(() => this.runTimer(fn));
    if (kind === 'setTimeout') {
      const t = setTimeout(() => {
        this.timers.delete(t);
        fire();
      }, delay);
      this.timers.add(t);
    } else {
      this.timers.add(setInterval(fire, delay));
    }
  }

  /** @internal listener */
  onMessage(data: string | Uint8Array, isBinary: boolean): void {
    if (typeof data === 'string') this.dispatch('message', [data]);
    // k6 hands binary messages over as an ArrayBuffer, made in the script's realm.
    else this.dispatch('binaryMessage', [this.vu.test.scriptArrayBuffer(data)]);
  }

  /** @internal listener */
  onPing(): void {
    this.dispatch('ping', []);
  }

  /** @internal listener */
  onPong(): void {
    this.dispatch('pong', []);
  }

  /** @internal listener */
  onError(error: WsError): void {
    this.dispatch('error', [error]);
  }

  /** @internal listener */
  onClose(code: number, reason: string): void {
    this.transportDone = true;
    if (!this.closeStarted) {
      // The peer closed (or the link dropped): k6 reports unexpected codes, then runs `close`.
      this.closeStarted = true;
      this.clearTimers();
      if (isUnexpectedClose(code)) this.dispatch('error', [unexpectedCloseError(code, reason)]);
      this.dispatch('close', [code]);
    }
    this.maybeFinish();
  }

  private opened(): void {
    if (this.finished) return;
    // k6 fires `open` after the callback; a callback that already closed the socket skips it.
    if (!this.closeStarted) this.dispatch('open', []);
    this.conn.release();
  }

  private dispatch(event: string, args: readonly unknown[]): void {
    if (this.finished) return;
    this.handlers.call(
      event,
      undefined,
      args,
      (e) => this.fail(e),
      (p) => this.track(p),
    );
  }

  private runTimer(fn: () => unknown): void {
    if (this.closeStarted || this.finished) return;
    let ret: unknown;
    try {
      ret = fn.call(undefined);
    } catch (e) {
      this.fail(e);
      return;
    }
    if (isThenable(ret)) this.track(ret);
  }

  /** A handler threw: k6 closes the socket with 1001 and `connect` throws the error. */
  private fail(e: unknown): void {
    if (this.failure === null) this.failure = { error: e };
    this.closeSocket(DEFAULT_CLOSE_CODE);
  }

  private closeSocket(code: number): void {
    if (this.closeStarted) return;
    this.closeStarted = true;
    this.clearTimers();
    const err = this.conn.close(code);
    if (err !== null) this.dispatch('error', [err]);
    this.dispatch('close', [code]);
  }

  /** Follows an async handler so that `connect` waits for it and a rejection is reported. */
  private track(p: PromiseLike<unknown>): void {
    this.pendingAsync++;
    const settle = (): void => {
      this.pendingAsync--;
      this.maybeFinish();
    };
    p.then(settle, (e: unknown) => {
      if (!this.finished) {
        this.vu.test.logger.log('error', `Uncaught (in promise) ${describeThrown(e)}`);
        this.closeSocket(DEFAULT_CLOSE_CODE);
      }
      settle();
    });
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private maybeFinish(): void {
    if (this.finished || !this.transportDone || this.pendingAsync > 0) return;
    this.finished = true;
    if (this.failure !== null) this.rejectDone(this.failure.error);
    else this.resolveDone();
  }

  /** The VU must stop: drop the connection, run nothing more, reject with the stop reason. */
  private abort(): void {
    if (this.finished) return;
    this.finished = true;
    this.clearTimers();
    this.conn.abort();
    this.rejectDone(this.signal.reason);
  }
}

/** The socket a k6/ws `connect` callback receives (k6's Socket). */
export class Socket {
  readonly #session: SocketSession;

  /** A socket driven by `session`; scripts never construct one. */
  constructor(session: SocketSession) {
    this.#session = session;
  }

  /** Registers a handler: open, message, binaryMessage, ping, pong, close or error. */
  on(event: unknown, handler: unknown): void {
    this.#session.on(event, handler);
  }

  /** Sends a text message. */
  send(message: unknown): void {
    this.#session.send(message);
  }

  /** Sends an ArrayBuffer as a binary message. */
  sendBinary(data: unknown): void {
    this.#session.sendBinary(data);
  }

  /** Sends a ping. */
  ping(): void {
    this.#session.ping();
  }

  /** Closes the socket (code 1001 unless given). */
  close(code?: unknown): void {
    this.#session.close(code);
  }

  /** Calls `callback` once after `ms` milliseconds unless the socket closed. */
  setTimeout(callback: unknown, ms: unknown): void {
    this.#session.addTimer('setTimeout', callback, ms);
  }

  /** Calls `callback` every `ms` milliseconds until the socket closes. */
  setInterval(callback: unknown, ms: unknown): void {
    this.#session.addTimer('setInterval', callback, ms);
  }
}
