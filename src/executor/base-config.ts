import { z } from 'zod';
import { formatDuration, parseDuration } from '../config/options.js';

/**
 * The options every k6 scenario has (k6's BaseConfig), and the field schemas executors build
 * theirs from. Defaults live here and only here; every schema message is a constraint phrase
 * ("at least 1") that scenario-problems.ts turns into "<path> must be <constraint>, got <value>".
 */

/** k6's rule for scenario names. */
export const SCENARIO_NAME = /^[0-9a-zA-Z_-]+$/;

/** An integer option of at least `min` (and at most `max`). */
export function intField(min: number, max?: number) {
  const base = z
    .number({ error: 'an integer' })
    .int({ error: 'an integer' })
    .min(min, { error: `at least ${min}` });
  return max === undefined ? base : base.max(max, { error: `at most ${max}` });
}

/**
 * A k6 duration option, in ms: a string like "1m30s" (a bare number string is seconds) or a
 * number of ms, of at least `minMs`. Without `defaultMs` the option is required.
 */
export function durationField(minMs: number, defaultMs?: number) {
  return durationOption((ms) => (ms < minMs ? `at least ${formatDuration(minMs)}` : null), defaultMs);
}

/** Like durationField, for options that must be strictly above `aboveMs` (k6's "timeUnit must be more than 0"). */
export function durationAboveField(aboveMs: number, defaultMs?: number) {
  return durationOption((ms) => (ms <= aboveMs ? `more than ${formatDuration(aboveMs)}` : null), defaultMs);
}

/** A duration option whose parsed value `problem` checks (returning a constraint phrase, or null when fine). */
function durationOption(problem: (ms: number) => string | null, defaultMs: number | undefined) {
  return z.unknown().optional().transform((value, ctx): number => {
    const ms =
      value === undefined ? defaultMs : typeof value === 'number' && Number.isFinite(value) ? value : typeof value === 'string' ? parseDuration(value) : null;
    if (ms === undefined || ms === null) {
      ctx.addIssue({ code: 'custom', message: 'a duration like "30s", "1m30s" or "500ms"', input: value });
      return z.NEVER;
    }
    const constraint = problem(ms);
    if (constraint !== null) {
      ctx.addIssue({ code: 'custom', message: constraint, input: value });
      return z.NEVER;
    }
    return ms;
  });
}

const stringMap = z.record(z.string(), z.string({ error: 'a string' }), { error: 'an object of strings' });

/** The keys every scenario accepts, with k6's defaults. `executor` is narrowed by each executor. */
export const baseShape = {
  startTime: durationField(0, 0),
  gracefulStop: durationField(0, 30_000),
  exec: z.string({ error: 'the name of an exported function' }).min(1, { error: 'the name of an exported function' }).default('default'),
  env: stringMap.default({}),
  tags: stringMap.default({}),
  // k6 scenarios may carry browser options; herd has no browser module, so they are accepted and unused.
  options: z.record(z.string(), z.unknown(), { error: 'an object' }).optional(),
};

/** The common options after parsing (durations in ms). */
export interface BaseOptions {
  readonly startTime: number;
  readonly gracefulStop: number;
  readonly exec: string;
  readonly env: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * The options every executor shares, copied once from the parsed options. Each executor's
 * config class extends it and adds only its own fields.
 */
export abstract class ScenarioBase implements BaseOptions {
  readonly startTime: number;
  readonly gracefulStop: number;
  readonly exec: string;
  readonly env: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;

  constructor(
    readonly name: string,
    o: BaseOptions,
  ) {
    this.startTime = o.startTime;
    this.gracefulStop = o.gracefulStop;
    this.exec = o.exec;
    this.env = o.env;
    this.tags = o.tags;
  }
}

/** k6's trailing "(maxDuration: 10m0s, exec: x, startTime: 10s, gracefulStop: 30s)" of a description. */
export function describeBase(o: BaseOptions, ...facts: string[]): string {
  const all = [...facts];
  if (o.exec !== 'default') all.push(`exec: ${o.exec}`);
  if (o.startTime > 0) all.push(`startTime: ${formatDuration(o.startTime)}`);
  if (o.gracefulStop > 0) all.push(`gracefulStop: ${formatDuration(o.gracefulStop)}`);
  return all.length === 0 ? '' : ` (${all.join(', ')})`;
}
