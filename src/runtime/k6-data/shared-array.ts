import { HerdError } from '../../errors/index.js';
import type { TestContext, VuState } from '../vu-state.js';

/**
 * One SharedArray's data as kept in `TestContext.shared`. `json` is the form that crosses
 * worker threads and agents; `array` is the parsed, deep-frozen copy that VUs of this thread
 * read, and `view` the read-only face scripts get.
 */
export interface SharedArrayEntry {
  readonly name: string;
  readonly json: string;
  readonly array: readonly unknown[];
  readonly view: readonly unknown[];
}

/** The `TestContext.shared` key of SharedArray `name`. */
export function sharedArrayKey(name: string): string {
  return `SharedArray:${name}`;
}

function deepFreeze(v: unknown): void {
  // JSON.parse output: plain objects, arrays and primitives only, never cycles.
  if (typeof v !== 'object' || v === null) return;
  Object.freeze(v);
  if (Array.isArray(v)) for (const x of v) deepFreeze(x);
  else for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
}

function immutable(): never {
  // k6 throws a TypeError with exactly this text on any write.
  throw new TypeError('SharedArray is immutable');
}

/**
 * Traps every write. The target is frozen already, but a frozen array only throws in strict
 * code and with V8's wording; this gives k6's error in every mode. Reads are not trapped, so
 * index access, length, for...of and the non-mutating Array methods run at native speed.
 */
const READ_ONLY: ProxyHandler<unknown[]> = {
  set: immutable,
  defineProperty: immutable,
  deleteProperty: immutable,
  setPrototypeOf: immutable,
};

/**
 * Builds the entry of SharedArray `name` from its JSON form. Used for data made here and for
 * data received from the thread that ran the constructor's function.
 */
export function sharedArrayEntryFromJson(name: string, json: string): SharedArrayEntry {
  const array = JSON.parse(json) as unknown;
  if (!Array.isArray(array)) throw new HerdError('internal', `SharedArray "${name}": its stored data is not an array`);
  deepFreeze(array);
  return { name, json, array, view: new Proxy(array, READ_ONLY) };
}

/**
 * Stores SharedArray `name` from its JSON form (e.g. received from another worker thread), so
 * that constructing it in this thread reuses the data without calling the function again.
 */
export function restoreSharedArray(test: TestContext, name: string, json: string): SharedArrayEntry {
  const entry = sharedArrayEntryFromJson(name, json);
  test.shared.set(sharedArrayKey(name), entry);
  return entry;
}

function isAsyncFunction(fn: unknown): boolean {
  return Object.prototype.toString.call(fn) === '[object AsyncFunction]';
}

/**
 * `new SharedArray(name, fn)` for `vu`: only in the init context; `fn` runs once per test
 * (the first VU to construct `name`), must return an array, and is stored as JSON (so
 * undefined elements and functions become null, Dates strings, as with JSON.stringify).
 *
 * Every VU then gets the same read-only view. Elements are the stored frozen objects, handed
 * out as is: no copy per access (k6 parses a fresh copy each time), and freezing makes sharing
 * them between VUs safe.
 */
export function constructSharedArray(vu: VuState, name: unknown, fn: unknown): readonly unknown[] {
  if (vu.phase !== 'init') {
    throw new HerdError('init_context_only', 'new SharedArray must be called in the init context', {
      hint: 'construct the SharedArray at the top level of the script, outside of the exported functions',
    });
  }
  const key = String(name);
  if (key === '') throw new HerdError('script_exception', "empty name provided to SharedArray's constructor");
  if (isAsyncFunction(fn)) {
    throw new HerdError('script_exception', 'SharedArray constructor does not support async functions as second argument');
  }
  if (typeof fn !== 'function') {
    throw new HerdError('script_exception', "a function is expected as the second argument of SharedArray's constructor");
  }
  const shared = vu.test.shared;
  const existing = shared.get(sharedArrayKey(key)) as SharedArrayEntry | undefined;
  if (existing !== undefined) return existing.view;

  const data: unknown = (fn as () => unknown)();
  if (!Array.isArray(data)) throw new HerdError('script_exception', 'only arrays can be made into SharedArray');
  let json: string;
  try {
    json = JSON.stringify(data);
  } catch (e) {
    throw new HerdError('script_exception', `SharedArray "${key}": its data cannot be serialised to JSON: ${e instanceof Error ? e.message : String(e)}`, {
      hint: 'return plain data (no cycles, no BigInt) from the SharedArray function',
    });
  }
  const entry = sharedArrayEntryFromJson(key, json);
  shared.set(sharedArrayKey(key), entry);
  return entry.view;
}
