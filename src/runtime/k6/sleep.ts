import { unwatchAbort, watchAbort } from '../abort-watch.js';

/**
 * Waits `ms`, or rejects with the signal's reason as soon as `signal` aborts, so that a
 * hard-stopped VU leaves its iteration at the next sleep. Every VU sleeps once per iteration
 * in most scripts, so the abort hook is a Set entry (abort-watch.ts), not an EventTarget listener.
 */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = (reason: unknown): void => {
      clearTimeout(timer);
      reject(reason);
    };
    const timer = setTimeout(() => {
      unwatchAbort(signal, onAbort);
      resolve();
    }, ms);
    watchAbort(signal, onAbort);
  });
}
