import { HerdError } from '../errors/index.js';
import type { Aggregate, TrendAggregate } from './aggregates.js';
import type { Collector } from './collector.js';
import type { Metric, MetricType, ValueType } from './metric.js';
import { TagSet } from './tags.js';
import type { Thresholds, ThresholdsEvaluation } from './thresholds.js';

/** k6's default `summaryTrendStats`. */
export const DEFAULT_SUMMARY_TREND_STATS: readonly string[] = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'];

/** One trend statistic to compute, parsed from a `summaryTrendStats` entry. */
export type TrendStat =
  | { readonly name: string; readonly kind: 'avg' | 'min' | 'med' | 'max' | 'count' }
  | { readonly name: string; readonly kind: 'p'; readonly percentile: number };

/** One metric's entry in `data.metrics` of handleSummary. */
export interface SummaryMetric {
  /** The metric's k6 type. */
  readonly type: MetricType;
  /** What its values are. */
  readonly contains: ValueType;
  /** The stats k6 shows for the type. */
  readonly values: Record<string, number>;
  /** Threshold source text → outcome; present only when the metric has thresholds. */
  thresholds?: Record<string, { ok: boolean }>;
}

/** `data.metrics` of handleSummary: metric or sub-metric name → entry. */
export type SummaryMetrics = Record<string, SummaryMetric>;

/** What buildSummaryMetrics needs besides the collector. */
export interface SummaryMetricsOptions {
  /** The test run's duration in ms (counter rates are per second of it). */
  readonly testDurationMs: number;
  /** `options.summaryTrendStats`; k6's default when omitted. */
  readonly summaryTrendStats?: readonly string[] | undefined;
  /** The test's thresholds, whose metrics are listed even without samples. */
  readonly thresholds?: Thresholds | undefined;
  /** The final evaluation of `thresholds` (every `ok` is true without one, as in k6). */
  readonly evaluation?: ThresholdsEvaluation | undefined;
}

const STATIC_STATS = new Set(['avg', 'min', 'med', 'max', 'count']);

/** Parses `summaryTrendStats` with k6's rules; throws HerdError('invalid_option') listing every bad entry. */
export function parseTrendStats(stats: readonly string[]): TrendStat[] {
  const out: TrendStat[] = [];
  const problems: string[] = [];
  for (const name of stats) {
    if (STATIC_STATS.has(name)) {
      out.push({ name, kind: name as 'avg' | 'min' | 'med' | 'max' | 'count' });
      continue;
    }
    if (!name.startsWith('p(') || !name.endsWith(')')) {
      problems.push(`invalid trend stat '${name}', unknown format`);
      continue;
    }
    const inner = name.slice(2, -1);
    const n = inner.trim() === '' ? NaN : Number(inner);
    if (!Number.isFinite(n) || n < 0 || n > 100) {
      problems.push(`invalid percentile trend stat value '${name}', provide a number between 0 and 100`);
      continue;
    }
    out.push({ name, kind: 'p', percentile: n });
  }
  if (problems.length > 0) {
    throw new HerdError('invalid_option', `summaryTrendStats: ${problems.join('; ')}`, {
      hint: 'use avg, min, med, max, count or p(N) with N between 0 and 100',
    });
  }
  return out;
}

/** Registers `http_req_duration{expected_response:true}`, which k6 always tracks (when the tag is on). */
export function addExpectedResponseSubmetric(collector: Collector): void {
  if (collector.registry.get('http_req_duration') === undefined) return;
  collector.addSubmetric('http_req_duration', TagSet.EMPTY.with('expected_response', 'true'));
}

/** The value of trend statistic `stat` on `t`, as k6 computes it. */
export function trendStatValue(t: TrendAggregate, stat: TrendStat): number {
  switch (stat.kind) {
    case 'avg':
      return t.avg;
    case 'min':
      return t.minValue;
    case 'med':
      return t.quantile(0.5);
    case 'max':
      return t.maxValue;
    case 'count':
      return t.count;
    case 'p':
      return t.quantile(stat.percentile / 100);
  }
}

/** The `values` object k6 shows for an aggregate. */
export function summaryValues(agg: Aggregate, trendStats: readonly TrendStat[], testDurationMs: number): Record<string, number> {
  switch (agg.type) {
    case 'counter':
      return { count: agg.count, rate: agg.rate(testDurationMs) };
    case 'gauge':
      // k6's gauge max starts at 0, so a gauge that only saw negative values reports max 0.
      return { value: agg.value, min: agg.isEmpty ? 0 : agg.min, max: agg.isEmpty ? 0 : Math.max(0, agg.max) };
    case 'rate':
      return { rate: agg.rate, passes: agg.passes, fails: agg.fails };
    case 'trend': {
      const out: Record<string, number> = {};
      for (const s of trendStats) out[s.name] = trendStatValue(agg, s);
      return out;
    }
  }
}

/**
 * Builds `data.metrics` for handleSummary, as k6 does: every metric and sub-metric that got
 * samples, plus every metric or sub-metric with thresholds (and a sub-metric's parent) even
 * without samples, whose values are then the zero values. Keys are sorted, as Go's JSON
 * encoder orders a map.
 */
export function buildSummaryMetrics(collector: Collector, options: SummaryMetricsOptions): SummaryMetrics {
  const stats = parseTrendStats(options.summaryTrendStats ?? DEFAULT_SUMMARY_TREND_STATS);
  const ms = options.testDurationMs;
  const entries = new Map<string, SummaryMetric>();
  const entry = (name: string, metric: Metric, agg: Aggregate): SummaryMetric => {
    let e = entries.get(name);
    if (e === undefined) {
      e = { type: metric.type, contains: metric.contains, values: summaryValues(agg, stats, ms) };
      entries.set(name, e);
    }
    return e;
  };

  for (const m of collector.observedMetrics()) entry(m.name, m, collector.aggregate(m));
  for (const sub of collector.submetrics()) {
    if (sub.firstSampleMs !== undefined) entry(sub.name, sub.metric, sub.aggregate);
  }

  const thresholds = options.thresholds;
  if (thresholds !== undefined) {
    const okBySource = new Map<string, Map<string, boolean>>();
    for (const r of options.evaluation?.results ?? []) {
      let m = okBySource.get(r.threshold.key);
      if (m === undefined) okBySource.set(r.threshold.key, (m = new Map()));
      m.set(r.threshold.source, r.ok);
    }
    for (const t of thresholds.list) {
      const metric = collector.registry.get(t.metricName);
      if (metric === undefined) continue; // validate() rejects these before a run starts
      entry(metric.name, metric, collector.aggregate(metric));
      let e: SummaryMetric;
      if (t.selector === null) {
        e = entry(metric.name, metric, collector.aggregate(metric));
      } else {
        const sub = collector.submetric(t.key) ?? collector.addSubmetric(t.metricName, t.selector, t.key);
        e = entry(t.key, metric, sub.aggregate);
      }
      const ok = okBySource.get(t.key)?.get(t.source) ?? true;
      (e.thresholds ??= {})[t.source] = { ok };
    }
  }

  const out: SummaryMetrics = {};
  for (const name of [...entries.keys()].sort()) out[name] = entries.get(name) as SummaryMetric;
  return out;
}
