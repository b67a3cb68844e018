import {
  aggregateFromJSON, createAggregate, mergeAggregate, parseTrendStats, summaryValues,
  type Aggregate, type MetricsBatch, type Thresholds, TagSet,
} from '../../metrics/index.js';
import type { StoredMetricPoint } from '../store/index.js';

/** The stats a point keeps of a trend: the summary's defaults plus p(99) and the count. */
export const POINT_TREND_STATS = parseTrendStats(['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'count']);
// Batches of one second from several generators arrive within a few seconds of each other;
// seconds older than this behind the newest are final and their aggregates are let go.
const KEEP_SECONDS = 30;

interface SubmetricSelector {
  readonly key: string;
  readonly metricName: string;
  readonly selector: TagSet;
}

/**
 * Turns metric batches into per-second points: each metric's series of a batch are merged into
 * the metric's aggregate of the second the batch belongs to (its midpoint), and so are the
 * series matching each sub-metric named in thresholds. The aggregates of recent seconds are
 * kept, so a late generator's batch for a second merges with what others sent, and the point
 * is rewritten; memory holds only the last KEEP_SECONDS seconds.
 */
export class SecondAggregator {
  readonly #seconds = new Map<number, Map<string, Aggregate>>();
  readonly #subs: SubmetricSelector[] = [];
  #newest = 0;

  constructor(thresholds: Thresholds) {
    for (const t of thresholds.list) {
      if (t.selector !== null && !this.#subs.some((s) => s.key === t.key)) {
        this.#subs.push({ key: t.key, metricName: t.metricName, selector: t.selector });
      }
    }
  }

  /** Merges a batch and returns the points of the second it touched, to be written. */
  add(batch: MetricsBatch): StoredMetricPoint[] {
    const t = Math.floor((batch.startMs + batch.endMs) / 2 / 1000) * 1000;
    let second = this.#seconds.get(t);
    if (second === undefined) {
      second = new Map();
      this.#seconds.set(t, second);
    }
    const touched = new Set<string>();
    for (const bm of batch.metrics) {
      const subs = this.#subs.filter((s) => s.metricName === bm.name);
      for (const bs of bm.series) {
        const delta = aggregateFromJSON(bs.aggregate);
        if (delta.isEmpty) continue;
        mergeInto(second, bm.name, delta, touched);
        if (subs.length === 0) continue;
        const tags = TagSet.from(bs.tags);
        for (const s of subs) if (tags.contains(s.selector)) mergeInto(second, s.key, delta, touched);
      }
    }
    if (t > this.#newest) this.#newest = t;
    for (const old of this.#seconds.keys()) if (old < this.#newest - KEEP_SECONDS * 1000) this.#seconds.delete(old);
    return [...touched].map((metric) => ({ metric, t, values: summaryValues(second.get(metric) as Aggregate, POINT_TREND_STATS, 1000) }));
  }
}

function mergeInto(second: Map<string, Aggregate>, name: string, delta: Aggregate, touched: Set<string>): void {
  let agg = second.get(name);
  if (agg === undefined) {
    agg = createAggregate(delta.type);
    second.set(name, agg);
  }
  if (agg.type !== delta.type) return;
  mergeAggregate(agg, delta);
  touched.add(name);
}
