/**
 * Cheap abort callbacks for hot paths (every sleep(), every iteration).
 *
 * Node's EventTarget makes addEventListener/removeEventListener costly (argument checks, a
 * Listener object and a linear scan per call); a VU adds and removes one for every sleep and
 * every iteration. Here a signal gets ONE 'abort' listener, the first time it is watched, and
 * the callbacks sit in a Set behind it: watching and unwatching are then a Set add/delete.
 * Callbacks run in the order they were added, with the signal's reason.
 */

/** A callback run once when the watched signal aborts. */
export type AbortCallback = (reason: unknown) => void;

const WATCHERS = Symbol('herd.abortWatchers');

type Watched = AbortSignal & { [WATCHERS]?: Set<AbortCallback> };

/** Runs `fn(signal.reason)` when `signal` aborts (the caller checks `signal.aborted` first). */
export function watchAbort(signal: AbortSignal, fn: AbortCallback): void {
  const s = signal as Watched;
  let set = s[WATCHERS];
  if (set === undefined) {
    const fresh = new Set<AbortCallback>();
    set = fresh;
    s[WATCHERS] = fresh;
    signal.addEventListener(
      'abort',
      () => {
        const fns = [...fresh];
        fresh.clear();
        for (const f of fns) f(signal.reason);
      },
      { once: true },
    );
  }
  set.add(fn);
}

/** Forgets `fn` (a no-op when it already ran or was never added). */
export function unwatchAbort(signal: AbortSignal, fn: AbortCallback): void {
  (signal as Watched)[WATCHERS]?.delete(fn);
}
