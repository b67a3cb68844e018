import { HerdError, isHerdError } from '../errors/index.js';
import { TestAbortError } from '../runtime/k6-execution/index.js';
import type { AbortLike } from '../runtime/vu-signal.js';

/** True when `e` is `exec.test.abort()` unwinding (also when wrapped by a user's rethrow). */
export function isTestAbort(e: unknown): e is TestAbortError {
  return e instanceof TestAbortError;
}

/** True for the rejection a VU gets when its iteration is hard-stopped. */
export function isInterruption(e: unknown, signal: AbortLike): boolean {
  return signal.aborted && (e === signal.reason || (e instanceof Error && e.name === 'AbortError'));
}

/**
 * The text a script error is logged with: the message and the stack mapped to the user's
 * files. Errors thrown by scripts are often not Error objects (`throw "x"`), so anything goes.
 */
export function describeScriptError(e: unknown, mapStack: (err: unknown) => string): string {
  if (isHerdError(e)) return e.hint === undefined ? e.message : `${e.message} (hint: ${e.hint})`;
  if (typeof e === 'object' && e !== null && 'stack' in e) {
    try {
      return mapStack(e);
    } catch {
      return String((e as { stack: unknown }).stack);
    }
  }
  try {
    return typeof e === 'string' ? e : JSON.stringify(e) ?? String(e);
  } catch {
    return String(e);
  }
}

/** Wraps an error of the script's init code as the error that ends the run (exit 107). */
export function initError(e: unknown, mapStack: (err: unknown) => string): HerdError {
  if (isHerdError(e)) return e;
  return new HerdError('script_exception', describeScriptError(e, mapStack), { cause: e });
}
