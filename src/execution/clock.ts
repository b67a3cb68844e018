/** Resolves after `ms`, or early (without rejecting) when `signal` aborts. */
export function sleepUntilAborted(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** An AbortSignal that aborts when any of `signals` does. */
export function anySignal(signals: readonly AbortSignal[]): AbortSignal {
  return AbortSignal.any(signals as AbortSignal[]);
}
