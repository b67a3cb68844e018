import { HerdError } from '../errors/index.js';
import type { Collector } from './collector.js';
import type { Aggregate } from './aggregates.js';
import type { MetricRegistry } from './metric.js';
import { parseSubmetricKey } from './submetric-key.js';
import type { TagSet } from './tags.js';
import {
  AGGREGATIONS_BY_TYPE,
  compareThreshold,
  parseThresholdExpression,
  type ThresholdExpression,
} from './threshold-parser.js';

/** One threshold as written in `options.thresholds` (delayAbortEval already in ms). */
export type ThresholdDefinition =
  | string
  | { readonly threshold: string; readonly abortOnFail?: boolean | undefined; readonly delayAbortEval?: number | undefined };

/** `options.thresholds`: metric name or `metric{tag:value,...}` → its thresholds. */
export type ThresholdsConfig = Readonly<Record<string, readonly ThresholdDefinition[]>>;

/** One parsed threshold. */
export interface Threshold {
  /** The metric key as written (trimmed): `http_req_duration` or `http_reqs{flow:browse}`. */
  readonly key: string;
  /** The metric the key names. */
  readonly metricName: string;
  /** The sub-metric selector, or null for the whole metric. */
  readonly selector: TagSet | null;
  /** The expression as written; the summary keys results by it. */
  readonly source: string;
  /** The parsed expression. */
  readonly expression: ThresholdExpression;
  /** Whether failing stops the test. */
  readonly abortOnFail: boolean;
  /** Milliseconds from test start before a failure may abort; undefined aborts at once. */
  readonly delayAbortEvalMs: number | undefined;
}

/** The outcome of one threshold in one evaluation. */
export interface ThresholdResult {
  /** The threshold evaluated. */
  readonly threshold: Threshold;
  /** What the summary reports as `ok`. */
  readonly ok: boolean;
  /** Whether this threshold counts as crossed (fails the run with exit code 99). */
  readonly crossed: boolean;
  /** The aggregated value compared, when there was one. */
  readonly observed: number | undefined;
  /** Why it could not be evaluated, when it could not (k6 logs this as an error). */
  readonly error?: string;
}

/** The outcome of evaluating every threshold once. */
export interface ThresholdsEvaluation {
  /** One result per evaluated threshold, in definition order. */
  readonly results: readonly ThresholdResult[];
  /** Keys with at least one crossed threshold, sorted (k6 names them in its error). */
  readonly crossedKeys: readonly string[];
  /** True when no threshold was crossed. */
  readonly passed: boolean;
  /** True when a crossed abortOnFail threshold is past its delayAbortEval: stop the test. */
  readonly abort: boolean;
}

const HINT = 'a threshold is written as <aggregation> <operator> <number>, e.g. "p(95)<500", "rate<0.01" or "count>100"';

/**
 * A test's thresholds, parsed up front (k6's `options.thresholds`).
 *
 * Lifecycle: `Thresholds.parse(config)` checks the syntax of every key and expression;
 * `validate(registry)` checks, once the script's metrics are defined, that every metric
 * exists and supports each aggregation; `attach(collector)` registers the sub-metrics;
 * `evaluate(collector, ms)` runs them (periodically during the test with `final: false`,
 * once at the end with `final: true`). Each step reports every problem at once in one
 * HerdError('invalid_threshold') (exit code 104).
 */
export class Thresholds {
  private constructor(
    /** Every threshold, in definition order. */
    readonly list: readonly Threshold[],
    /** Each key's thresholds, keys in definition order. */
    readonly byKey: ReadonlyMap<string, readonly Threshold[]>,
  ) {}

  /** Parses every key and expression; throws one HerdError listing every problem. */
  static parse(config: ThresholdsConfig): Thresholds {
    const problems: string[] = [];
    const list: Threshold[] = [];
    const byKey = new Map<string, Threshold[]>();
    for (const [written, defs] of Object.entries(config)) {
      const parsedKey = parseSubmetricKey(written);
      if (typeof parsedKey === 'string') {
        problems.push(`invalid threshold defined on ${written}; reason: ${parsedKey}`);
        continue;
      }
      const group = byKey.get(parsedKey.key) ?? [];
      byKey.set(parsedKey.key, group);
      for (const def of defs) {
        const source = typeof def === 'string' ? def : def.threshold;
        const parsed = parseThresholdExpression(source);
        if (!parsed.ok) {
          problems.push(`invalid threshold "${source}" on ${parsedKey.key}; reason: ${parsed.reason}`);
          continue;
        }
        const t: Threshold = {
          key: parsedKey.key,
          metricName: parsedKey.metricName,
          selector: parsedKey.selector,
          source,
          expression: parsed.expression,
          abortOnFail: typeof def === 'string' ? false : def.abortOnFail === true,
          delayAbortEvalMs: typeof def === 'string' ? undefined : def.delayAbortEval,
        };
        group.push(t);
        list.push(t);
      }
    }
    throwIfAny(problems);
    return new Thresholds(list, byKey);
  }

  /** Checks that every key names a defined metric that supports each aggregation. */
  validate(registry: MetricRegistry): void {
    const problems: string[] = [];
    for (const [key, group] of this.byKey) {
      const metricName = group[0]?.metricName ?? parseMetricName(key);
      const metric = registry.get(metricName);
      if (metric === undefined) {
        problems.push(`invalid threshold defined on ${key}; reason: no metric name "${key}" found`);
        continue;
      }
      const allowed = AGGREGATIONS_BY_TYPE[metric.type];
      for (const t of group) {
        if (allowed.includes(t.expression.method)) continue;
        problems.push(
          `invalid threshold "${t.source}" on ${key}; reason: unsupported aggregation method ${t.expression.method} ` +
            `on metric of type ${metric.type}, supported aggregation methods for this metric are: ${allowed.join(', ')}`,
        );
      }
    }
    throwIfAny(problems);
  }

  /** Registers every sub-metric key with `collector`, named by the key as written. */
  attach(collector: Collector): void {
    for (const group of this.byKey.values()) {
      const t = group[0];
      if (t !== undefined && t.selector !== null) collector.addSubmetric(t.metricName, t.selector, t.key);
    }
  }

  /** Every key with thresholds, in definition order. */
  get keys(): string[] {
    return [...this.byKey.keys()];
  }

  /**
   * Evaluates every threshold against `collector`'s cumulative aggregates at
   * `testDurationMs` into the test. As in k6, a metric (or sub-metric) with no samples is
   * skipped while the test runs and evaluated against zero values at the end (`final`),
   * except a rate with no samples, whose first threshold then reports an error and
   * `ok: false` without counting as crossed. `abort` is set when a crossed abortOnFail
   * threshold's delayAbortEval is unset or already shorter than `testDurationMs`.
   */
  evaluate(collector: Collector, testDurationMs: number, options: { final?: boolean } = {}): ThresholdsEvaluation {
    const final = options.final === true;
    const results: ThresholdResult[] = [];
    const crossedKeys: string[] = [];
    let abort = false;
    for (const [key, group] of this.byKey) {
      const first = group[0];
      if (first === undefined) continue;
      const agg = aggregateFor(collector, first);
      if (agg === undefined) continue;
      if (agg.isEmpty && !final) continue;
      let crossed = false;
      for (let i = 0; i < group.length; i++) {
        const t = group[i] as Threshold;
        const observed = observe(agg, t.expression, testDurationMs);
        if (observed === undefined) {
          const error = `unable to apply threshold ${t.source} over metrics; reason: no metric supporting the ${t.expression.method} aggregation method found`;
          results.push({ threshold: t, ok: false, crossed: false, observed: undefined, error });
          // k6 stops at the first error of a metric; the later thresholds keep ok.
          for (let j = i + 1; j < group.length; j++) {
            results.push({ threshold: group[j] as Threshold, ok: true, crossed: false, observed: undefined });
          }
          break;
        }
        const ok = compareThreshold(observed, t.expression.operator, t.expression.value);
        results.push({ threshold: t, ok, crossed: !ok, observed });
        if (ok) continue;
        crossed = true;
        if (t.abortOnFail && (t.delayAbortEvalMs === undefined || t.delayAbortEvalMs < testDurationMs)) abort = true;
      }
      if (crossed) crossedKeys.push(key);
    }
    crossedKeys.sort();
    return { results, crossedKeys, passed: crossedKeys.length === 0, abort };
  }
}

/** The value `expr` tests on `agg`, or undefined when there is none (empty rate, wrong type). */
function observe(agg: Aggregate, expr: ThresholdExpression, testDurationMs: number): number | undefined {
  switch (agg.type) {
    case 'counter':
      // k6 divides by the duration in seconds with no zero guard here (unlike the summary).
      if (expr.method === 'count') return agg.count;
      if (expr.method === 'rate') return agg.count / (testDurationMs / 1000);
      return undefined;
    case 'gauge':
      return expr.method === 'value' ? agg.value : undefined;
    case 'rate':
      return expr.method === 'rate' && agg.total > 0 ? agg.rate : undefined;
    case 'trend':
      switch (expr.method) {
        case 'avg':
          return agg.avg;
        case 'min':
          return agg.minValue;
        case 'max':
          return agg.maxValue;
        case 'med':
          return agg.quantile(0.5);
        case 'p':
          return agg.quantile((expr.percentile as number) / 100);
        default:
          return undefined;
      }
  }
}

function aggregateFor(collector: Collector, t: Threshold): Aggregate | undefined {
  if (t.selector === null) {
    const metric = collector.registry.get(t.metricName);
    return metric === undefined ? undefined : collector.aggregate(metric);
  }
  // Attach lazily so evaluating without attach() first still sees the sub-metric (from now on).
  if (collector.registry.get(t.metricName) === undefined) return undefined;
  return (collector.submetric(t.key) ?? collector.addSubmetric(t.metricName, t.selector, t.key)).aggregate;
}

function parseMetricName(key: string): string {
  const open = key.indexOf('{');
  return open === -1 ? key : key.slice(0, open);
}

function throwIfAny(problems: string[]): void {
  if (problems.length === 0) return;
  const message =
    problems.length === 1 ? (problems[0] as string) : `${problems.length} invalid thresholds:\n  - ${problems.join('\n  - ')}`;
  throw new HerdError('invalid_threshold', message, { hint: HINT });
}
