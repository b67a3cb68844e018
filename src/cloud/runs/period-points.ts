import { aggregateFromJSON, createAggregate, mergeAggregate, summaryValues, TagSet, type Aggregate, type Thresholds } from '../../metrics/index.js';
import type { StoredMetricPoint } from '../store/index.js';
import type { ExternalMetricSet } from './external-metric-set.js';
import { POINT_TREND_STATS } from './metric-points.js';

// A push may split one period's series over several requests (k6 sends at most 1,000 series per
// request), so the aggregates of recent periods are kept and their points rewritten as more
// arrive; periods this far behind the newest are final and let go.
const KEEP_PERIODS = 20;

/**
 * Turns the pushes of an external run (k6 run --out cloud) into stored points. k6 aggregates
 * every series over its aggregation period (3 s by default), so there is one point per period,
 * at its start, named as herd's own points are: the metric, plus each sub-metric named in
 * thresholds (`http_req_duration{status:200}`). A counter's `rate` is per second of the period.
 */
export class PeriodPoints {
  readonly #periods = new Map<number, Map<string, Aggregate>>();
  readonly #subs: Array<{ key: string; metricName: string; selector: TagSet }> = [];
  #newest = 0;

  constructor(thresholds: Thresholds) {
    for (const t of thresholds.list) {
      if (t.selector !== null && !this.#subs.some((s) => s.key === t.key)) this.#subs.push({ key: t.key, metricName: t.metricName, selector: t.selector });
    }
  }

  /** Merges a push and returns the points it touched, to be written. */
  add(set: ExternalMetricSet): StoredMetricPoint[] {
    const touched = new Map<number, Set<string>>();
    for (const m of set.metrics) {
      const subs = this.#subs.filter((s) => s.metricName === m.name);
      for (const series of m.series) {
        const tags = subs.length === 0 ? undefined : TagSet.from(series.tags);
        const names = [m.name, ...subs.filter((s) => tags?.contains(s.selector) === true).map((s) => s.key)];
        for (const b of series.buckets) {
          const delta = aggregateFromJSON(b.aggregate);
          if (delta.isEmpty) continue;
          let period = this.#periods.get(b.startMs);
          if (period === undefined) this.#periods.set(b.startMs, (period = new Map()));
          let periodNames = touched.get(b.startMs);
          if (periodNames === undefined) touched.set(b.startMs, (periodNames = new Set()));
          for (const name of names) {
            let agg = period.get(name);
            if (agg === undefined) period.set(name, (agg = createAggregate(delta.type)));
            if (agg.type !== delta.type) continue;
            mergeAggregate(agg, delta);
            periodNames.add(name);
          }
          if (b.startMs > this.#newest) this.#newest = b.startMs;
        }
      }
    }
    const out: StoredMetricPoint[] = [];
    for (const [t, names] of touched) {
      const period = this.#periods.get(t);
      if (period === undefined) continue;
      for (const metric of names) out.push({ metric, t, values: summaryValues(period.get(metric) as Aggregate, POINT_TREND_STATS, set.periodMs) });
    }
    for (const old of this.#periods.keys()) if (old < this.#newest - KEEP_PERIODS * set.periodMs) this.#periods.delete(old);
    return out;
  }
}
