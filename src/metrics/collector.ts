import { HerdError } from '../errors/index.js';
import {
  aggregateFromJSON,
  createAggregate,
  mergeAggregate,
  type Aggregate,
  type AggregateJSON,
} from './aggregates.js';
import type { Metric, MetricRegistry, MetricType, ValueType } from './metric.js';
import type { SampleSink } from './sink.js';
import { TagSet } from './tags.js';

/** One time series' aggregate in a batch. */
export interface BatchSeries {
  /** The series' tags as a plain object. */
  readonly tags: Readonly<Record<string, string>>;
  /** The series' aggregate over the batch's period. */
  readonly aggregate: AggregateJSON;
}

/** One metric's series in a batch, with what a receiver needs to define the metric. */
export interface BatchMetric {
  /** The metric's name. */
  readonly name: string;
  /** Its k6 type. */
  readonly type: MetricType;
  /** What its values are. */
  readonly contains: ValueType;
  /** Epoch ms of the metric's first sample ever seen by the sender. */
  readonly firstSampleMs: number;
  readonly series: readonly BatchSeries[];
}

/** The per-series deltas of one period: JSON-able, for outputs, progress, workers and agents. */
export interface MetricsBatch {
  /** Epoch ms the period started (the previous flush, or the collector's creation). */
  readonly startMs: number;
  /** Epoch ms of the flush that closed the period. */
  readonly endMs: number;
  /** Metrics that got samples in the period, each with its touched series. */
  readonly metrics: readonly BatchMetric[];
}

/** A sub-metric: the samples of one metric whose tags contain a selector (k6's `name{k:v}`). */
export class Submetric {
  /** Cumulative aggregate of every matching sample. */
  readonly aggregate: Aggregate;
  /** Epoch ms of the first matching sample, undefined until there is one. */
  firstSampleMs: number | undefined;

  /** Use Collector.addSubmetric. */
  constructor(
    /** The name shown in the summary, e.g. `http_reqs{flow:browse}`. */
    readonly name: string,
    /** The parent metric. */
    readonly metric: Metric,
    /** The tags a sample must contain to count. */
    readonly selector: TagSet,
  ) {
    this.aggregate = createAggregate(metric.type);
  }
}

/** One time series: a metric and one tag set. */
interface Series {
  readonly tags: TagSet;
  readonly total: Aggregate;
  /** This period's delta; null until the series gets a sample in the period. */
  period: Aggregate | null;
  /** Sub-metrics whose selector these tags contain, found once when the series appears. */
  readonly links: Submetric[];
}

/** Everything the collector knows about one metric. */
interface MetricState {
  readonly metric: Metric;
  /**
   * The metric's cumulative aggregate. While the metric has a single series, this is that
   * series' own `total` object (both would hold the same samples), so a sample updates one
   * aggregate instead of two; the second series gets the metric a copy of its own.
   */
  total: Aggregate;
  readonly series: Map<TagSet, Series>;
  readonly submetrics: Submetric[];
  firstSampleMs: number | undefined;
  /** Series touched in the current period, in order of first touch. */
  dirty: Series[];
  /** The series of the last sample added, null before the first. */
  last: Series | null;
}

/**
 * Aggregates samples into time series (metric × interned TagSet).
 *
 * For each series it keeps a cumulative aggregate and the current period's delta; for each
 * metric a cumulative aggregate; for each sub-metric an incrementally updated aggregate. The
 * hot path (`add`) does one array index and one Map lookup keyed by the TagSet object, then
 * updates a fixed list of aggregates: sub-metric matching happens once per new series, not
 * per sample. `flushPeriod` hands out the period's deltas as a JSON-able batch and starts a
 * new period; `mergeBatch` folds a batch from another collector into this one, so workers
 * and agents can each run a Collector and a coordinator merges their batches exactly.
 */
export class Collector implements SampleSink {
  private readonly states: Array<MetricState | undefined> = [];
  private readonly submetricsByName = new Map<string, Submetric>();
  private touched: MetricState[] = [];
  private periodStart: number;
  private seriesTotal = 0;

  /**
   * `now` gives epoch ms for samples that come without a time (injected for tests).
   * `periods: false` is for a collector nobody flushes (the one a run keeps for its summary
   * and thresholds): it keeps no per-period deltas, which would otherwise cost one more
   * aggregate update per sample for nothing, and `flushPeriod` is then an error.
   */
  constructor(
    /** The registry this collector's metrics belong to; `mergeBatch` defines missing ones in it. */
    readonly registry: MetricRegistry,
    private readonly now: () => number = Date.now,
    options: { readonly periods?: boolean } = {},
  ) {
    this.periodStart = now();
    this.periods = options.periods ?? true;
  }

  /** Whether per-period deltas are kept (see the constructor). */
  private readonly periods: boolean;

  /** Records one sample (the SampleSink hot path). NaN values are dropped. */
  add(metric: Metric, tags: TagSet, value: number, time?: number): void {
    if (value !== value) return;
    const st = this.states[metric.id] ?? this.stateOf(metric);
    // Consecutive samples of a metric mostly share their tags (every request of a VU loop):
    // the last series found is checked before the Map.
    let series = st.last;
    if (series === null || series.tags !== tags) {
      series = st.series.get(tags) ?? this.newSeries(st, tags);
      st.last = series;
    }
    // Only gauges (last-by-time) and first samples need a time; skip the clock otherwise.
    const t = time ?? (metric.type === 'gauge' || st.firstSampleMs === undefined ? this.now() : 0);
    if (st.firstSampleMs === undefined) st.firstSampleMs = t;
    addTo(st.total, value, t);
    if (series.total !== st.total) addTo(series.total, value, t);
    if (this.periods) {
      let period = series.period;
      if (period === null) {
        period = series.period = createAggregate(metric.type);
        if (st.dirty.length === 0) this.touched.push(st);
        st.dirty.push(series);
      }
      addTo(period, value, t);
    }
    const links = series.links;
    for (let i = 0; i < links.length; i++) {
      const sub = links[i] as Submetric;
      if (sub.firstSampleMs === undefined) sub.firstSampleMs = time ?? this.now();
      addTo(sub.aggregate, value, t);
    }
  }

  /**
   * Registers the sub-metric of `metricName` selected by `selector` (idempotent: the same
   * metric and selector return the existing one). Series already seen are linked and their
   * cumulative aggregates merged in, so registering late loses nothing. `name` defaults to
   * `metricName{k:v,...}`; thresholds pass their key as written.
   */
  addSubmetric(metricName: string, selector: TagSet, name?: string): Submetric {
    const metric = this.registry.get(metricName);
    if (metric === undefined) {
      throw new HerdError('internal', `cannot add a sub-metric to metric "${metricName}": no such metric`);
    }
    const st = this.stateOf(metric);
    const existing = st.submetrics.find((s) => s.selector === selector);
    if (existing !== undefined) {
      if (name !== undefined && !this.submetricsByName.has(name)) this.submetricsByName.set(name, existing);
      return existing;
    }
    const sub = new Submetric(name ?? `${metricName}${selector.toString()}`, metric, selector);
    st.submetrics.push(sub);
    this.submetricsByName.set(sub.name, sub);
    for (const series of st.series.values()) {
      if (!series.tags.contains(selector)) continue;
      series.links.push(sub);
      if (!series.total.isEmpty) {
        mergeAggregate(sub.aggregate, series.total);
        if (sub.firstSampleMs === undefined) sub.firstSampleMs = st.firstSampleMs;
      }
    }
    return sub;
  }

  /** The sub-metric registered under `name` (as passed to addSubmetric), if any. */
  submetric(name: string): Submetric | undefined {
    return this.submetricsByName.get(name);
  }

  /** Every sub-metric, in registration order per metric. */
  submetrics(): Submetric[] {
    const out: Submetric[] = [];
    for (const st of this.states) if (st !== undefined) out.push(...st.submetrics);
    return out;
  }

  /** The cumulative aggregate of `metric` (empty if it got no sample). */
  aggregate(metric: Metric): Aggregate {
    return this.stateOf(metric).total;
  }

  /** Epoch ms of the first sample of `metric`, or undefined if it got none. */
  firstSampleMs(metric: Metric): number | undefined {
    return this.states[metric.id]?.firstSampleMs;
  }

  /** Metrics that got at least one sample, in registry order. */
  observedMetrics(): Metric[] {
    const out: Metric[] = [];
    for (const st of this.states) if (st !== undefined && st.firstSampleMs !== undefined) out.push(st.metric);
    return out;
  }

  /** Number of distinct time series seen (for the series limit). */
  get seriesCount(): number {
    return this.seriesTotal;
  }

  /** Calls `fn` with every series of `metric` and its cumulative aggregate. */
  forEachSeries(metric: Metric, fn: (tags: TagSet, aggregate: Aggregate) => void): void {
    const st = this.states[metric.id];
    if (st === undefined) return;
    for (const s of st.series.values()) fn(s.tags, s.total);
  }

  /** Returns the current period's per-series deltas and starts a new period at `nowMs`. */
  flushPeriod(nowMs: number): MetricsBatch {
    if (!this.periods) throw new HerdError('internal', 'flushPeriod on a collector made with periods: false');
    const metrics: BatchMetric[] = [];
    for (const st of this.touched) {
      const series: BatchSeries[] = [];
      for (const s of st.dirty) {
        series.push({ tags: s.tags.toObject(), aggregate: (s.period as Aggregate).toJSON() });
        // Drop the delta rather than reset it: idle series then hold no period memory.
        s.period = null;
      }
      st.dirty = [];
      const m = st.metric;
      metrics.push({
        name: m.name,
        type: m.type,
        contains: m.contains,
        firstSampleMs: st.firstSampleMs as number,
        series,
      });
    }
    this.touched = [];
    const batch: MetricsBatch = { startMs: this.periodStart, endMs: nowMs, metrics };
    this.periodStart = nowMs;
    return batch;
  }

  /**
   * Merges a batch flushed by another collector: defines metrics this registry lacks, then
   * adds each series' delta to the series, its metric, its sub-metrics and this collector's
   * own current period (so a coordinator's flush carries what its workers sent).
   */
  mergeBatch(batch: MetricsBatch): void {
    for (const bm of batch.metrics) {
      const metric = this.registry.define(bm.name, bm.type, bm.contains);
      const st = this.stateOf(metric);
      if (bm.series.length > 0 && (st.firstSampleMs === undefined || bm.firstSampleMs < st.firstSampleMs)) {
        st.firstSampleMs = bm.firstSampleMs;
      }
      for (const bs of bm.series) {
        const tags = TagSet.from(bs.tags);
        const delta = aggregateFromJSON(bs.aggregate);
        if (delta.type !== metric.type) {
          throw new HerdError('internal', `batch sends a ${delta.type} aggregate for ${metric.type} metric "${metric.name}"`);
        }
        if (delta.isEmpty) continue;
        let series = st.series.get(tags);
        if (series === undefined) series = this.newSeries(st, tags);
        mergeAggregate(st.total, delta);
        if (series.total !== st.total) mergeAggregate(series.total, delta);
        if (this.periods) {
          if (series.period === null) {
            series.period = createAggregate(metric.type);
            if (st.dirty.length === 0) this.touched.push(st);
            st.dirty.push(series);
          }
          mergeAggregate(series.period, delta);
        }
        for (const sub of series.links) {
          if (sub.firstSampleMs === undefined || bm.firstSampleMs < sub.firstSampleMs) sub.firstSampleMs = bm.firstSampleMs;
          mergeAggregate(sub.aggregate, delta);
        }
      }
    }
  }

  private stateOf(metric: Metric): MetricState {
    let st = this.states[metric.id];
    if (st === undefined) {
      if (this.registry.get(metric.name) !== metric) {
        throw new HerdError('internal', `metric "${metric.name}" does not belong to this collector's registry`);
      }
      st = {
        metric,
        total: createAggregate(metric.type),
        series: new Map(),
        submetrics: [],
        firstSampleMs: undefined,
        dirty: [],
        last: null,
      };
      this.states[metric.id] = st;
    }
    return st;
  }

  private newSeries(st: MetricState, tags: TagSet): Series {
    const links: Submetric[] = [];
    for (const sub of st.submetrics) if (tags.contains(sub.selector)) links.push(sub);
    let total: Aggregate;
    if (st.series.size === 0 && st.total.isEmpty) {
      total = st.total;
    } else {
      total = createAggregate(st.metric.type);
      if (st.series.size === 1) {
        // The metric's aggregate was its only series' own so far: from now on it is a copy.
        const only = st.series.values().next().value as Series;
        if (only.total === st.total) {
          st.total = createAggregate(st.metric.type);
          mergeAggregate(st.total, only.total);
        }
      }
    }
    const series: Series = { tags, total, period: null, links };
    st.series.set(tags, series);
    this.seriesTotal++;
    return series;
  }
}

function addTo(agg: Aggregate, value: number, time: number): void {
  // A switch on the discriminant keeps this call site monomorphic-friendly for V8.
  switch (agg.type) {
    case 'gauge':
      agg.add(value, time);
      return;
    default:
      agg.add(value);
  }
}
