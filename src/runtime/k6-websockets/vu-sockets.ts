import type { VuState } from '../vu-state.js';

/** A socket as the per-VU registry sees it: something that can be dropped at once. */
export interface TrackedSocket {
  /** Drops the connection without running any more script code. */
  abort(): void;
}

/** Where a VU's sockets live in `vu.local`. */
const LOCAL_KEY = 'k6/websockets';

/**
 * The k6/websockets sockets of one VU that are not closed yet, plus async handlers still
 * running. k6 ends an iteration only once its event loop is empty, and an open socket keeps
 * it busy; the engine awaits `whenIdle()` after the default function returns.
 */
export class VuSockets {
  private readonly open = new Set<TrackedSocket>();
  /** One token per async handler still running; abortAll forgets them all at once. */
  private readonly pendingAsync = new Set<object>();
  private idleWaiters: Array<() => void> = [];

  /** Counts `socket` as open from its construction on. */
  add(socket: TrackedSocket): void {
    this.open.add(socket);
  }

  /** `socket` is closed (or failed to connect). */
  delete(socket: TrackedSocket): void {
    if (this.open.delete(socket)) this.notifyIfIdle();
  }

  /** Follows an async handler's promise; `onReject` reports a rejection. */
  track(p: PromiseLike<unknown>, onReject: (e: unknown) => void): void {
    const token = {};
    this.pendingAsync.add(token);
    const settle = (): void => {
      if (this.pendingAsync.delete(token)) this.notifyIfIdle();
    };
    p.then(settle, (e: unknown) => {
      onReject(e);
      settle();
    });
  }

  /** Open sockets plus async handlers still running. */
  get pending(): number {
    return this.open.size + this.pendingAsync.size;
  }

  /** Resolves once every socket closed and every async handler settled. */
  whenIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops every open socket without running handlers; returns how many there were. */
  abortAll(): number {
    const sockets = [...this.open];
    this.open.clear();
    for (const s of sockets) s.abort();
    // Handlers of dropped sockets will never settle anything the iteration should wait for.
    this.pendingAsync.clear();
    this.notifyIfIdle();
    return sockets.length;
  }

  private notifyIfIdle(): void {
    if (this.pending !== 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

/** The registry of `vu`, created on first use so that the engine and the module share it. */
export function vuSocketsOf(vu: VuState): VuSockets {
  let s = vu.local.get(LOCAL_KEY) as VuSockets | undefined;
  if (s === undefined) {
    s = new VuSockets();
    vu.local.set(LOCAL_KEY, s);
  }
  return s;
}

/** The registry of `vu` if it ever opened a socket. */
export function existingVuSockets(vu: VuState): VuSockets | undefined {
  return vu.local.get(LOCAL_KEY) as VuSockets | undefined;
}
