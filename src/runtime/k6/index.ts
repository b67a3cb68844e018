import { HerdError } from '../../errors/index.js';
import { lazyModule } from '../lazy-module.js';
import type { RuntimeModule, VuState } from '../vu-state.js';
import { Sleeper } from './sleep.js';

/** A check's condition: a predicate on the checked value, or a plain value taken as truthy/falsy. */
type CheckCondition = ((value: unknown) => unknown) | unknown;

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/**
 * Records one check result: a `checks` rate sample tagged with the check name and the
 * group tree entry (for root_group in the summary).
 */
function recordCheck(vu: VuState, name: string, passed: boolean, extraTags: Record<string, unknown> | undefined): void {
  const test = vu.test;
  let tags = vu.tags;
  if (test.options.systemTags.has('check')) tags = tags.with('check', name);
  if (extraTags !== undefined) for (const k of Object.keys(extraTags)) tags = tags.with(k, String(extraTags[k]));
  test.sink.add(test.metrics.checks, tags, passed ? 1 : 0);
  test.groups.check(vu.groupPath, name, passed);
}

/**
 * k6's `check(value, conditions, tags)`. Returns true when every condition passed.
 * Conditions run in order; when one returns a promise (an async predicate), the rest wait
 * for it and check returns a promise (herd's transform awaits check calls).
 */
function check(vu: VuState, value: unknown, conditions: unknown, tags?: Record<string, unknown>): boolean | Promise<boolean> {
  if (vu.phase === 'init') {
    throw new HerdError('init_context_only', 'check() is not supported in the init context', {
      hint: 'call check() inside the default function, setup() or teardown()',
    });
  }
  if (typeof conditions !== 'object' || conditions === null) {
    throw new HerdError('script_exception', 'check() expects an object of conditions as its second argument', {
      hint: "write check(res, { 'status is 200': (r) => r.status === 200 })",
    });
  }
  const entries = Object.entries(conditions as Record<string, CheckCondition>);
  let all = true;
  for (let i = 0; i < entries.length; i++) {
    const [name, cond] = entries[i] as [string, CheckCondition];
    const result = typeof cond === 'function' ? (cond as (v: unknown) => unknown)(value) : cond;
    if (isThenable(result)) return finishAsync(vu, value, entries, i, result, all, tags);
    const ok = Boolean(result);
    recordCheck(vu, name, ok, tags);
    if (!ok) all = false;
  }
  return all;
}

async function finishAsync(
  vu: VuState,
  value: unknown,
  entries: Array<[string, CheckCondition]>,
  from: number,
  pending: PromiseLike<unknown>,
  allSoFar: boolean,
  tags: Record<string, unknown> | undefined,
): Promise<boolean> {
  let all = allSoFar;
  for (let i = from; i < entries.length; i++) {
    const [name, cond] = entries[i] as [string, CheckCondition];
    const result = i === from ? await pending : typeof cond === 'function' ? await (cond as (v: unknown) => unknown)(value) : cond;
    const ok = Boolean(result);
    recordCheck(vu, name, ok, tags);
    if (!ok) all = false;
  }
  return all;
}

/**
 * k6's `group(name, fn)`: runs fn with the group tag set to the nested path, records
 * `group_duration`, restores the outer group even when fn throws, and returns fn's value.
 */
async function group(vu: VuState, name: unknown, fn: unknown): Promise<unknown> {
  if (vu.phase === 'init') {
    throw new HerdError('init_context_only', 'group() is not supported in the init context', {
      hint: 'call group() inside the default function, setup() or teardown()',
    });
  }
  if (typeof name !== 'string' || name === '') {
    throw new HerdError('script_exception', 'group() needs a non-empty name as its first argument');
  }
  if (name.includes('::')) {
    throw new HerdError('script_exception', `group name "${name}" must not contain "::"`);
  }
  if (typeof fn !== 'function') {
    throw new HerdError('script_exception', `group("${name}") needs a function as its second argument`);
  }
  const test = vu.test;
  const outerPath = vu.groupPath;
  const outerTags = vu.tags;
  const path = `${outerPath}::${name}`;
  test.groups.group(path);
  vu.groupPath = path;
  if (test.options.systemTags.has('group')) vu.tags = outerTags.with('group', path);
  const started = performance.now();
  try {
    return await (fn as () => unknown)();
  } finally {
    const tags = vu.tags;
    vu.groupPath = outerPath;
    vu.tags = outerTags;
    test.sink.add(test.metrics.group_duration, tags, performance.now() - started);
  }
}

/** Creates the `k6` module: check, group, sleep, fail, randomSeed. */
export function createK6Module(randomSeed: (seed: number) => void): RuntimeModule {
  const make = lazyModule<VuState>({
    check: (vu) => (value: unknown, conditions: unknown, tags?: Record<string, unknown>) => check(vu, value, conditions, tags),
    group: (vu) => (name: unknown, fn: unknown) => group(vu, name, fn),
    sleep: (vu) => {
      let sleeper: Sleeper | undefined;
      return (seconds: unknown) => {
        if (vu.phase === 'init') {
          throw new HerdError('init_context_only', 'sleep() is not supported in the init context');
        }
        const s = Number(seconds);
        sleeper ??= new Sleeper();
        return sleeper.sleep(Number.isFinite(s) && s > 0 ? s * 1000 : 0, vu.signal);
      };
    },
  }, {
    // Not tied to a VU: one function for all of them.
    fail: (message?: unknown) => {
      throw new Error(message === undefined ? 'fail' : String(message));
    },
    randomSeed: (seed: unknown) => randomSeed(Number(seed)),
  });
  return { specifier: 'k6', instantiate: make };
}
