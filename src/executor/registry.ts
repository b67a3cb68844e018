import { HerdError } from '../errors/index.js';
import { SCENARIO_NAME } from './base-config.js';
import { constantArrivalRate } from './constant-arrival-rate.js';
import { constantVUs } from './constant-vus.js';
import type { ExecutorDefinition } from './definition.js';
import { perVUIterations } from './per-vu-iterations.js';
import { rampingArrivalRate } from './ramping-arrival-rate.js';
import { rampingVUs } from './ramping-vus.js';
import { showValue } from './scenario-problems.js';
import { sharedIterations } from './shared-iterations.js';
import type { ExecutorConfig } from './types.js';

/**
 * The executor types herd knows, listed explicitly (no registration by import side effects),
 * and the parsing of `options.scenarios` into validated configs.
 */

/** Executor name → definition, in k6's documentation order. */
export const executors: ReadonlyMap<string, ExecutorDefinition> = new Map(
  [perVUIterations, sharedIterations, constantVUs, rampingVUs, constantArrivalRate, rampingArrivalRate].map((d) => [d.type, d] as const),
);

/** k6 executors herd does not run yet: named as such in the error, so users know it is not a typo. */
const NOT_YET = new Set(['externally-controlled']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validates every scenario of `options.scenarios` and returns their configs, ordered by
 * startTime and then name (k6's order). Throws one HerdError('invalid_option') listing every
 * problem of every scenario, one sentence per line.
 */
export function parseScenarios(scenarios: Readonly<Record<string, Readonly<Record<string, unknown>>>>): ExecutorConfig[] {
  const configs: ExecutorConfig[] = [];
  const problems: string[] = [];
  const names = [...executors.keys()].join(', ');
  for (const [name, raw] of Object.entries(scenarios)) {
    const prefix = `scenarios.${name}`;
    if (!SCENARIO_NAME.test(name)) {
      problems.push(`${prefix} must be named with only latin letters, digits, underscores and dashes, got ${JSON.stringify(name)}`);
    }
    if (!isRecord(raw)) {
      problems.push(`${prefix} must be an object of scenario options, got ${showValue(raw)}`);
      continue;
    }
    const type = raw['executor'];
    const definition = typeof type === 'string' ? executors.get(type) : undefined;
    if (definition === undefined) {
      const notYet = typeof type === 'string' && NOT_YET.has(type) ? ' (a k6 executor herd does not support yet)' : '';
      problems.push(`${prefix}.executor must be one of ${names}, got ${showValue(type)}${notYet}`);
      continue;
    }
    const parsed = definition.parse(name, raw);
    if (parsed.ok) configs.push(parsed.config);
    else problems.push(...parsed.problems);
  }
  if (problems.length > 0) {
    throw new HerdError('invalid_option', problems.join('\n'), {
      hint: 'see https://grafana.com/docs/k6/latest/using-k6/scenarios/ for the options of each executor',
    });
  }
  return configs.sort((a, b) => a.startTime - b.startTime || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
