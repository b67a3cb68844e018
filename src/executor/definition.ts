import type { z } from 'zod';
import { describeIssues, type KnownKeys } from './scenario-problems.js';
import type { ExecutorConfig } from './types.js';

/**
 * How one executor type is described to the registry: its k6 name, and how a scenario's raw
 * options become a validated config or a list of problems. Parsing never changes the input and
 * never stops at the first problem.
 */

/** The outcome of parsing one scenario: its config, or every problem found as a sentence. */
export type ScenarioParse =
  | { readonly ok: true; readonly config: ExecutorConfig }
  | { readonly ok: false; readonly problems: readonly string[] };

/** One executor type, as the registry knows it. */
export interface ExecutorDefinition {
  /** k6's executor name, e.g. "constant-vus". */
  readonly type: string;
  /** Validates scenario `name`'s raw options (including `executor`). */
  parse(name: string, raw: Readonly<Record<string, unknown>>): ScenarioParse;
}

/** What an executor file provides to build its definition. */
export interface ExecutorSpec<S extends z.ZodObject> {
  readonly type: string;
  /** A strict object schema of every key the executor accepts (executor included). */
  readonly schema: S;
  /** Checks between fields (e.g. iterations ≥ vus), on the raw options; each line fully written. */
  readonly relations?: (raw: Readonly<Record<string, unknown>>, prefix: string) => string[];
  /** Known keys of nested objects (e.g. stages), by the first path element. */
  readonly nested?: Readonly<Record<string, KnownKeys>>;
  /** Builds the config from valid options. */
  readonly build: (name: string, options: z.output<S>) => ExecutorConfig;
}

/** Makes an ExecutorDefinition from a schema, optional cross-field checks and a builder. */
export function defineExecutor<S extends z.ZodObject>(spec: ExecutorSpec<S>): ExecutorDefinition {
  const topKeys: KnownKeys = { what: `${spec.type} options`, keys: Object.keys(spec.schema.shape) };
  const knownKeysAt = (path: readonly PropertyKey[]): KnownKeys => {
    const first = path[0];
    return (typeof first === 'string' && spec.nested?.[first]) || topKeys;
  };
  return {
    type: spec.type,
    parse(name, raw) {
      const prefix = `scenarios.${name}`;
      const result = spec.schema.safeParse(raw, { reportInput: true });
      // Relations are checked even when fields fail, so that one run reports everything;
      // each relation only speaks when the fields it compares are themselves valid.
      const problems = [
        ...(result.success ? [] : describeIssues(prefix, result.error.issues, knownKeysAt)),
        ...(spec.relations?.(raw, prefix) ?? []),
      ];
      if (problems.length > 0 || !result.success) return { ok: false, problems };
      return { ok: true, config: spec.build(name, result.data) };
    },
  };
}

/** True when `v` is an integer of at least `min`, i.e. a field a relation may compare. */
export function isIntAtLeast(v: unknown, min: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min;
}
