/**
 * Cheap abort callbacks for hot paths (every sleep(), every iteration).
 *
 * Node's EventTarget makes addEventListener/removeEventListener costly (argument checks, a
 * Listener object and a linear scan per call); a VU adds and removes one for every sleep and
 * every iteration. Here a signal gets ONE 'abort' listener, the first time it is watched, and
 * the callbacks sit in an array behind it: watching and unwatching are then a push and a
 * swap-remove (a VU has one or two at a time; an array of that size never reallocates, where a
 * Set with an entry added and deleted per call keeps rebuilding its table). Callbacks run with
 * the signal's reason, in no particular order.
 */

import { VuAbortSignal, type AbortLike } from './vu-signal.js';

/** A callback run once when the watched signal aborts. */
export type AbortCallback = (reason: unknown) => void;

const WATCHERS = Symbol('herd.abortWatchers');

type Watched = AbortLike & { [WATCHERS]?: AbortCallback[] };

/** Runs `fn(signal.reason)` when `signal` aborts (the caller checks `signal.aborted` first). */
export function watchAbort(signal: AbortLike, fn: AbortCallback): void {
  if (signal instanceof VuAbortSignal) {
    signal.watch(fn);
    return;
  }
  const s = signal as Watched;
  let list = s[WATCHERS];
  if (list === undefined) {
    const fresh: AbortCallback[] = [];
    list = fresh;
    s[WATCHERS] = fresh;
    signal.addEventListener(
      'abort',
      () => {
        const fns = fresh.splice(0, fresh.length);
        for (const f of fns) f(signal.reason);
      },
      { once: true },
    );
  }
  list.push(fn);
}

/** Forgets `fn` (a no-op when it already ran or was never added). */
export function unwatchAbort(signal: AbortLike, fn: AbortCallback): void {
  if (signal instanceof VuAbortSignal) {
    signal.unwatch(fn);
    return;
  }
  const list = (signal as Watched)[WATCHERS];
  if (list === undefined) return;
  const i = list.lastIndexOf(fn);
  if (i < 0) return;
  const last = list.pop() as AbortCallback;
  if (i < list.length) list[i] = last;
}
