import type { ExecutorEnv } from './types.js';

/**
 * The two deadlines of a scenario run, as AbortSignals (k6's regDurationCtx/maxDurationCtx):
 * - `regular` aborts when no new iteration may start (the scenario's own end),
 * - `hard` aborts `gracefulStop` ms later, when running iterations are interrupted.
 * Both abort at once when the test itself stops (env.testSignal). Timing goes through
 * env.sleep so tests can drive it with a virtual clock.
 */
export interface StopSignals {
  /** Aborted when no new iteration may start. */
  readonly regular: AbortSignal;
  /** Aborted when running iterations must be interrupted. */
  readonly hard: AbortSignal;
  /** The env.now() value at which `regular` aborts (for loops that check time directly). */
  readonly regularEndsAt: number;
  /** Interrupts everything now (e.g. a VU could not be had). */
  abort(): void;
  /** Cancels the pending timers and listeners; call once the run is over. Safe to call twice. */
  dispose(): void;
}

/** Starts the deadlines of a run that begins now: regular end after `regularMs`, hard stop `gracefulStopMs` later. */
export function startStopSignals(env: ExecutorEnv, regularMs: number, gracefulStopMs: number): StopSignals {
  const regular = new AbortController();
  const hard = new AbortController();
  const timers = new AbortController();
  const start = env.now();
  const stopAll = (): void => {
    regular.abort();
    hard.abort();
  };
  env.testSignal.addEventListener('abort', stopAll);
  if (env.testSignal.aborted) stopAll();

  void (async () => {
    await env.sleep(Math.max(0, start + regularMs - env.now()), timers.signal);
    if (timers.signal.aborted) return;
    regular.abort();
    // Measured from the start, so that a late wake-up does not stretch the graceful stop.
    await env.sleep(Math.max(0, start + regularMs + gracefulStopMs - env.now()), timers.signal);
    if (timers.signal.aborted) return;
    hard.abort();
  })();

  return {
    regular: regular.signal,
    hard: hard.signal,
    regularEndsAt: start + regularMs,
    abort: stopAll,
    dispose() {
      timers.abort();
      env.testSignal.removeEventListener('abort', stopAll);
    },
  };
}

/**
 * Waits for every VU loop of a run. Loops do not reject for script errors; if one rejects
 * anyway (a broken engine contract), the others are stopped and the first error is rethrown
 * once they have all ended, so no VU is left running behind a failed run().
 */
export async function joinLoops(loops: readonly Promise<void>[], stops: StopSignals): Promise<void> {
  const results = await Promise.allSettled(
    loops.map((loop) =>
      loop.catch((error: unknown) => {
        stops.abort();
        throw error;
      }),
    ),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
