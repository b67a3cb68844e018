/**
 * What herd's VU code needs of an abort signal: the part of AbortSignal that the runtime
 * modules use. A real AbortSignal satisfies it (setup and teardown run under one), and so does
 * VuAbortSignal, which every VU's iterations run under.
 */
export interface AbortLike {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: AbortListener, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: AbortListener): void;
}

/** A function or an object with handleEvent, as EventTarget takes them. */
export type AbortListener = ((event: Event) => void) | { handleEvent(event: Event): void };

/**
 * A VU's own abort signal. Node's AbortSignal is an EventTarget with a map of listener lists,
 * and, in Node 20, a hidden class of its own per instance (it is made and then re-prototyped):
 * about 700 bytes for each VU once something listens. This one keeps its listeners in an array
 * that exists only while something listens, so an idle VU pays for two fields.
 *
 * Listeners run once, at abort, in the order they were added; adding one twice keeps one, as
 * with EventTarget. Only 'abort' is supported.
 */
export class VuAbortSignal implements AbortLike {
  aborted = false;
  reason: unknown = undefined;
  private listeners: AbortListener[] | null = null;
  /** Callbacks of watchAbort (abort-watch.ts), which take the reason rather than an event. */
  private watchers: Array<(reason: unknown) => void> | null = null;

  /** Runs `fn(reason)` at abort (see watchAbort). */
  watch(fn: (reason: unknown) => void): void {
    if (!this.aborted) (this.watchers ??= []).push(fn);
  }

  /** Forgets `fn`: a swap-remove, since a VU has one or two watchers at a time. */
  unwatch(fn: (reason: unknown) => void): void {
    const list = this.watchers;
    if (list === null) return;
    const i = list.lastIndexOf(fn);
    if (i < 0) return;
    const last = list.pop() as (reason: unknown) => void;
    if (i < list.length) list[i] = last;
  }

  addEventListener(type: 'abort', listener: AbortListener): void {
    if (type !== 'abort' || this.aborted) return;
    const list = (this.listeners ??= []);
    if (!list.includes(listener)) list.push(listener);
  }

  removeEventListener(type: 'abort', listener: AbortListener): void {
    const list = this.listeners;
    if (type !== 'abort' || list === null) return;
    const i = list.lastIndexOf(listener);
    if (i >= 0) list.splice(i, 1);
  }

  /** Aborts with `reason` (an AbortError DOMException when undefined, as AbortController does); later calls do nothing. */
  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    const watchers = this.watchers;
    this.watchers = null;
    if (watchers !== null) for (const fn of watchers) fn(this.reason);
    const list = this.listeners;
    this.listeners = null;
    if (list === null) return;
    const event = new Event('abort');
    for (const l of list) {
      if (typeof l === 'function') l(event);
      else l.handleEvent(event);
    }
  }

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }
}
