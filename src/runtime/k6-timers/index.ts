import { moduleObject, type RuntimeModule, type VuState } from '../vu-state.js';
import { VuTimers } from './vu-timers.js';

export { VuTimers } from './vu-timers.js';

/** Where a VU's timers live in `vu.local`. */
const LOCAL_KEY = 'k6/timers';

/** What `import timers from 'k6/timers'` gives a script. */
export interface TimersApi {
  readonly setTimeout: (callback: unknown, delay?: unknown, ...args: unknown[]) => number;
  readonly clearTimeout: (id?: unknown) => void;
  readonly setInterval: (callback: unknown, delay?: unknown, ...args: unknown[]) => number;
  readonly clearInterval: (id?: unknown) => void;
}

/** The timers of `vu`, created on first use so the engine and the module share them. */
function timersOf(vu: VuState): VuTimers {
  let timers = vu.local.get(LOCAL_KEY) as VuTimers | undefined;
  if (timers === undefined) {
    timers = new VuTimers(vu);
    vu.local.set(LOCAL_KEY, timers);
  }
  return timers;
}

/**
 * Cancels every pending timer of `vu` (engine use: end of the test, hard stop, or an
 * interrupted iteration, where `logInterrupted` logs k6's warning per timer). Returns how
 * many timers were cancelled. Safe to call for a VU that never used timers, and twice.
 */
export function clearVuTimers(vu: VuState, options: { readonly logInterrupted?: boolean } = {}): number {
  const timers = vu.local.get(LOCAL_KEY) as VuTimers | undefined;
  return timers === undefined ? 0 : timers.clearAll(options.logInterrupted ?? false);
}

/**
 * Resolves when `vu` has no armed timer and no async timer callback still running: k6 ends an
 * iteration only once its event loop is empty, so the engine awaits this after the default
 * function returns.
 */
export function whenVuTimersIdle(vu: VuState): Promise<void> {
  const timers = vu.local.get(LOCAL_KEY) as VuTimers | undefined;
  return timers === undefined ? Promise.resolve() : timers.whenIdle();
}

/** True when `vu` has timers armed or async timer callbacks still running. */
export function hasPendingTimers(vu: VuState): boolean {
  const timers = vu.local.get(LOCAL_KEY) as VuTimers | undefined;
  return timers !== undefined && timers.pending > 0;
}

/** Creates the `k6/timers` module; timers belong to the VU that set them. */
export function createTimersModule(): RuntimeModule {
  return {
    specifier: 'k6/timers',
    instantiate(vu: VuState): Record<string, unknown> {
      const timers = timersOf(vu);
      const api: TimersApi = {
        setTimeout: (callback, delay, ...args) => timers.set('setTimeout', callback, delay, args),
        clearTimeout: (id) => timers.clear(id),
        setInterval: (callback, delay, ...args) => timers.set('setInterval', callback, delay, args),
        clearInterval: (id) => timers.clear(id),
      };
      return moduleObject(api);
    },
  };
}
