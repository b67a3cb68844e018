/** How atLeast sets a timer (setTimeout; injectable for tests). */
export type SetTimer = (fn: () => void, ms: number) => NodeJS.Timeout;

/**
 * Calls `fn` once at least `ms` milliseconds have passed by `performance.now()`, counted
 * from this call; returns a cancel function.
 *
 * A bare setTimeout is not enough for a target whose delays scripts measure: Node and libuv
 * count timers on a millisecond-truncated loop clock, so a timer can fire up to a millisecond
 * before its delay has passed (a compatibility entry saw a 60 ms delay answered in 59.6 ms).
 * A timer that fires early is set again for the rest.
 */
export function atLeast(ms: number, fn: () => void, setTimer: SetTimer = setTimeout): () => void {
  const due = performance.now() + ms;
  let timer: NodeJS.Timeout | undefined;
  let cancelled = false;
  const check = (): void => {
    if (cancelled) return;
    const left = due - performance.now();
    if (left > 0) timer = setTimer(check, Math.ceil(left));
    else fn();
  };
  timer = setTimer(check, Math.ceil(ms));
  return () => {
    cancelled = true;
    clearTimeout(timer);
  };
}
