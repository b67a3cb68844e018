import { HerdError } from '../../errors/index.js';
import type { VuState } from '../vu-state.js';

/** The two timer kinds, named as k6 names them in its messages. */
type TimerKind = 'setTimeout' | 'setInterval';

interface Timer {
  readonly id: number;
  readonly kind: TimerKind;
  readonly callback: (...args: unknown[]) => unknown;
  readonly args: readonly unknown[];
  /** Delay in ms; an interval's period. */
  readonly delay: number;
  /** performance.now() at which the timer is due. */
  due: number;
}

// Node cannot arm a timer further than this (it would fire at once); longer waits re-arm.
const MAX_NODE_DELAY = 2_147_483_647;
// Node timers have millisecond resolution and can fire a fraction of a ms early.
const DUE_SLACK_MS = 1;

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function describeError(e: unknown): string {
  if (e instanceof Error) return e.stack ?? `${e.name}: ${e.message}`;
  return String(e);
}

/**
 * One VU's timers, with k6's (HTML-spec) semantics: ids count up from 1 per VU; timers run in
 * order of due time, ties in order of creation; an interval is re-armed `delay` ms after its
 * callback returns, unless the callback cleared it.
 *
 * All timers of a VU share one queue and a single Node timer armed for the head. That gives
 * exact ordering (Node would treat 0 ms as 1 ms and order by its own coarse clock) and keeps a
 * VU with many timers at one Node handle. Due callbacks run one per macrotask so that promise
 * jobs of one callback settle before the next starts, as in k6's event loop.
 */
export class VuTimers {
  private readonly vu: VuState;
  private nextId = 0;
  /** Timers not yet run or cleared, by id; an interval stays here while its callback runs. */
  private readonly active = new Map<number, Timer>();
  /** Armed timers sorted by due time. */
  private queue: Timer[] = [];
  private handle: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | null = null;
  private handleIsImmediate = false;
  /** Promises returned by async callbacks that have not settled yet. */
  private pendingAsync = 0;
  private idleWaiters: Array<() => void> = [];

  /** Timers of `vu`, which receives their log lines. */
  constructor(vu: VuState) {
    this.vu = vu;
  }

  /** Schedules `callback(...args)`; returns the timer id for clearTimeout/clearInterval. */
  set(kind: TimerKind, callback: unknown, delay: unknown, args: readonly unknown[]): number {
    if (typeof callback !== 'function') {
      throw new HerdError('script_exception', `${kind}'s callback isn't a callable function`);
    }
    const ms = Number(delay);
    const timer: Timer = {
      id: ++this.nextId,
      kind,
      callback: callback as (...a: unknown[]) => unknown,
      args,
      // The spec clamps negative (and NaN) delays to 0.
      delay: ms > 0 ? ms : 0,
      due: 0,
    };
    this.active.set(timer.id, timer);
    this.enqueue(timer);
    return timer.id;
  }

  /** Cancels timer `id` (either kind); unknown ids are ignored, as in k6. */
  clear(id: unknown): void {
    const n = Number(id);
    const timer = this.active.get(n);
    if (timer === undefined) return;
    this.active.delete(n);
    const i = this.queue.indexOf(timer);
    if (i !== -1) {
      this.queue.splice(i, 1);
      if (i === 0) this.arm();
    }
    this.notifyIfIdle();
  }

  /**
   * Cancels every timer; with `logInterrupted`, logs k6's warning for each one, as k6 does
   * when an iteration ends with timers still pending. Returns how many were cancelled.
   */
  clearAll(logInterrupted: boolean): number {
    const cancelled = this.active.size;
    if (logInterrupted) {
      for (const t of this.active.values()) {
        this.vu.test.logger.log('warn', `${t.kind} ${t.id} was stopped because the VU iteration was interrupted`);
      }
    }
    this.active.clear();
    this.queue = [];
    this.disarm();
    this.notifyIfIdle();
    return cancelled;
  }

  /** Timers armed plus async callbacks still running. */
  get pending(): number {
    return this.active.size + this.pendingAsync;
  }

  /** Resolves once no timer is armed and no async timer callback is still running. */
  whenIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private enqueue(timer: Timer): void {
    timer.due = performance.now() + timer.delay;
    // Insert after every timer due at the same time or earlier: ties keep creation order.
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.queue[mid] as Timer).due <= timer.due) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, timer);
    if (lo === 0) this.arm();
  }

  private disarm(): void {
    if (this.handle === null) return;
    if (this.handleIsImmediate) clearImmediate(this.handle as ReturnType<typeof setImmediate>);
    else clearTimeout(this.handle as ReturnType<typeof setTimeout>);
    this.handle = null;
  }

  /** Arms the Node timer for the queue head (or nothing when the queue is empty). */
  private arm(): void {
    this.disarm();
    const head = this.queue[0];
    if (head === undefined) return;
    const wait = head.due - performance.now();
    if (wait <= DUE_SLACK_MS) {
      // setImmediate, not setTimeout(0): Node would turn 0 into 1 ms for every due timer.
      this.handleIsImmediate = true;
      this.handle = setImmediate(this.wake);
    } else {
      this.handleIsImmediate = false;
      this.handle = setTimeout(this.wake, Math.min(wait, MAX_NODE_DELAY));
    }
  }

  private readonly wake = (): void => {
    this.handle = null;
    if (this.vu.signal.aborted) {
      // The VU must stop now: nothing of it may run any more.
      this.clearAll(false);
      return;
    }
    const head = this.queue[0];
    if (head === undefined) return;
    if (head.due - performance.now() > DUE_SLACK_MS) {
      this.arm();
      return;
    }
    this.queue.shift();
    this.run(head);
    this.arm();
    this.notifyIfIdle();
  };

  private run(timer: Timer): void {
    let result: unknown;
    try {
      result = timer.callback.apply(globalThis, timer.args as unknown[]);
    } catch (e) {
      this.vu.test.logger.log('error', `Uncaught ${describeError(e)}`);
    }
    if (isThenable(result)) this.track(result);
    // The callback may have cleared its own timer (clearInterval inside the callback).
    if (this.active.get(timer.id) !== timer) return;
    if (timer.kind === 'setInterval') this.enqueue(timer);
    else this.active.delete(timer.id);
  }

  /** Follows an async callback's promise so that a rejection is logged, never unhandled. */
  private track(promise: PromiseLike<unknown>): void {
    this.pendingAsync++;
    const settle = (): void => {
      this.pendingAsync--;
      this.notifyIfIdle();
    };
    promise.then(settle, (e: unknown) => {
      this.vu.test.logger.log('error', `Uncaught (in promise) ${describeError(e)}`);
      settle();
    });
  }

  private notifyIfIdle(): void {
    if (this.pending !== 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
