import { HerdError } from '../errors/index.js';
import type { MetricType } from './metric.js';
import { TrendSketch, type TrendSketchJSON } from './trend-sketch.js';

/**
 * Mergeable aggregates, one kind per k6 metric type.
 *
 * An aggregate summarizes the samples of one time series (or of a whole metric, or of a
 * sub-metric) over some span of time. Two aggregates of the same kind merge into the
 * aggregate of both sample streams; for counters, gauges, rates and the count, sum, min and
 * max of trends the merge is exact. Every aggregate serializes to a small JSON-able object
 * (`toJSON`) and back (`aggregateFromJSON`), so it can cross worker threads and the network.
 */

/** While a trend holds at most this many samples it keeps them all, for k6's exact percentiles. */
export const TREND_EXACT_LIMIT = 4096;

/** A serialized counter: the sum of its values and how many samples it saw. */
export interface CounterJSON {
  readonly type: 'counter';
  readonly samples: number;
  readonly sum: number;
}

/** A serialized gauge: last value (and its time), min and max over `samples` samples. */
export interface GaugeJSON {
  readonly type: 'gauge';
  readonly samples: number;
  readonly last: number;
  readonly lastTime: number;
  readonly min: number;
  readonly max: number;
}

/** A serialized rate: non-zero samples and all samples. */
export interface RateJSON {
  readonly type: 'rate';
  readonly passes: number;
  readonly total: number;
}

/** A serialized trend: exact stats plus either every value or a sketch. */
export interface TrendJSON {
  readonly type: 'trend';
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  readonly values?: readonly number[];
  readonly sketch?: TrendSketchJSON;
}

/** Any serialized aggregate, discriminated by `type`. */
export type AggregateJSON = CounterJSON | GaugeJSON | RateJSON | TrendJSON;

/** Sums sample values (k6's Counter). */
export class CounterAggregate {
  /** Discriminant. */
  readonly type = 'counter' as const;
  /** Number of samples added. */
  samples = 0;
  /** Sum of the values (k6's `count`). */
  sum = 0;

  /** Adds one sample. */
  add(value: number): void {
    this.samples++;
    this.sum += value;
  }

  /** Adds another counter's samples. */
  merge(other: CounterAggregate): void {
    this.samples += other.samples;
    this.sum += other.sum;
  }

  /** True when no sample was added. */
  get isEmpty(): boolean {
    return this.samples === 0;
  }

  /** k6's `count`: the sum of values. */
  get count(): number {
    return this.sum;
  }

  /** k6's counter `rate`: count per second over `durationMs` (0 for a zero duration, as k6). */
  rate(durationMs: number): number {
    return durationMs > 0 ? this.sum / (durationMs / 1000) : 0;
  }

  /** Forgets every sample. */
  reset(): void {
    this.samples = 0;
    this.sum = 0;
  }

  /** The serialized form. */
  toJSON(): CounterJSON {
    return { type: 'counter', samples: this.samples, sum: this.sum };
  }
}

/** Keeps the last value (by time), min and max (k6's Gauge). */
export class GaugeAggregate {
  /** Discriminant. */
  readonly type = 'gauge' as const;
  /** Number of samples added. */
  samples = 0;
  /** The latest value. */
  last = 0;
  /** Epoch ms of the latest value; merges keep the later one. */
  lastTime = -Infinity;
  /** Smallest value (Infinity when empty). */
  min = Infinity;
  /** Largest value (-Infinity when empty). */
  max = -Infinity;

  /** Adds one sample; within one process the last one added is the latest, as in k6. */
  add(value: number, time: number): void {
    this.samples++;
    this.last = value;
    this.lastTime = time;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  /** Merges another gauge: its last value wins when it is at least as recent. */
  merge(other: GaugeAggregate): void {
    if (other.samples === 0) return;
    if (this.samples === 0 || other.lastTime >= this.lastTime) {
      this.last = other.last;
      this.lastTime = other.lastTime;
    }
    this.samples += other.samples;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  /** True when no sample was added. */
  get isEmpty(): boolean {
    return this.samples === 0;
  }

  /** k6's `value`: the last value (0 when empty). */
  get value(): number {
    return this.last;
  }

  /** Forgets every sample. */
  reset(): void {
    this.samples = 0;
    this.last = 0;
    this.lastTime = -Infinity;
    this.min = Infinity;
    this.max = -Infinity;
  }

  /** The serialized form (JSON has no Infinity, so an empty gauge sends zeros). */
  toJSON(): GaugeJSON {
    const empty = this.samples === 0;
    return {
      type: 'gauge',
      samples: this.samples,
      last: this.last,
      lastTime: empty ? 0 : this.lastTime,
      min: empty ? 0 : this.min,
      max: empty ? 0 : this.max,
    };
  }
}

/** Counts non-zero samples among all samples (k6's Rate). */
export class RateAggregate {
  /** Discriminant. */
  readonly type = 'rate' as const;
  /** Non-zero samples. */
  passes = 0;
  /** All samples. */
  total = 0;

  /** Adds one sample; any non-zero value is a pass. */
  add(value: number): void {
    this.total++;
    if (value !== 0) this.passes++;
  }

  /** Adds another rate's samples. */
  merge(other: RateAggregate): void {
    this.passes += other.passes;
    this.total += other.total;
  }

  /** True when no sample was added. */
  get isEmpty(): boolean {
    return this.total === 0;
  }

  /** Zero samples. */
  get fails(): number {
    return this.total - this.passes;
  }

  /** k6's `rate`: passes / total, 0 when empty. */
  get rate(): number {
    return this.total > 0 ? this.passes / this.total : 0;
  }

  /** Forgets every sample. */
  reset(): void {
    this.passes = 0;
    this.total = 0;
  }

  /** The serialized form. */
  toJSON(): RateJSON {
    return { type: 'rate', passes: this.passes, total: this.total };
  }
}

/**
 * Exact count/sum/min/max plus percentiles (k6's Trend).
 *
 * Up to TREND_EXACT_LIMIT samples it keeps every value, so percentiles are exactly k6's:
 * sort, take rank i = q·(n−1), interpolate linearly between ranks ⌊i⌋ and ⌈i⌉. Past the
 * limit it moves the values into a TrendSketch and keeps only bucket counts, so memory no
 * longer grows; percentiles then use the same rank formula on the sketch's estimates, each
 * within 1%, clamped to the exact min and max. Whether a trend is exact depends only on its
 * total count, so merged partial streams choose the same mode as the whole stream would.
 */
export class TrendAggregate {
  /** Discriminant. */
  readonly type = 'trend' as const;
  /** Number of samples. */
  count = 0;
  /** Sum of the values. */
  sum = 0;
  /** Smallest value (Infinity when empty). */
  min = Infinity;
  /** Largest value (-Infinity when empty). */
  max = -Infinity;
  private values: number[] | null = [];
  private sorted = true;
  private sketch: TrendSketch | null = null;

  /** Adds one sample. */
  add(value: number): void {
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (this.values !== null) {
      this.values.push(value);
      this.sorted = false;
      if (this.values.length > TREND_EXACT_LIMIT) this.toSketch();
    } else {
      (this.sketch as TrendSketch).add(value);
    }
  }

  /** Adds another trend's samples. */
  merge(other: TrendAggregate): void {
    if (other.count === 0) return;
    this.count += other.count;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
    if (this.values !== null && other.values !== null && this.count <= TREND_EXACT_LIMIT) {
      for (const v of other.values) this.values.push(v);
      this.sorted = false;
      return;
    }
    if (this.values !== null) this.toSketch();
    const sketch = this.sketch as TrendSketch;
    if (other.values !== null) for (const v of other.values) sketch.add(v);
    else sketch.merge(other.sketch as TrendSketch);
  }

  /** True when no sample was added. */
  get isEmpty(): boolean {
    return this.count === 0;
  }

  /** True while every value is kept (percentiles are exact). */
  get isExact(): boolean {
    return this.values !== null;
  }

  /** Non-empty histogram buckets in sketch mode, 0 in exact mode. */
  get bucketCount(): number {
    return this.sketch === null ? 0 : this.sketch.bucketCount;
  }

  /** Allocated histogram slots in sketch mode (bounded), 0 in exact mode. */
  get allocatedBuckets(): number {
    return this.sketch === null ? 0 : this.sketch.allocatedBuckets;
  }

  /** k6's `avg` (0 when empty). */
  get avg(): number {
    return this.count > 0 ? this.sum / this.count : 0;
  }

  /** k6's `min` (0 when empty). */
  get minValue(): number {
    return this.count > 0 ? this.min : 0;
  }

  /** k6's `max` (0 when empty). */
  get maxValue(): number {
    return this.count > 0 ? this.max : 0;
  }

  /** k6's `med`: the 0.5 quantile. */
  get med(): number {
    return this.quantile(0.5);
  }

  /**
   * k6's P(q) for q in [0, 1]: 0 when empty, the only value for one sample, otherwise the
   * linear interpolation between the two nearest ranks. Pass N/100 for `p(N)`, computed
   * that way, so the float rounding matches k6's.
   */
  quantile(q: number): number {
    const n = this.count;
    if (n === 0) return 0;
    if (n === 1) return this.min;
    const i = Math.min(Math.max(q, 0), 1) * (n - 1);
    const lo = Math.floor(i);
    const hi = Math.ceil(i);
    const f = i - lo;
    const j = this.valueAtRank(lo);
    const k = hi === lo ? j : this.valueAtRank(hi);
    return j + (k - j) * f;
  }

  /** Forgets every sample and returns to exact mode. */
  reset(): void {
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = -Infinity;
    this.values = [];
    this.sorted = true;
    this.sketch = null;
  }

  /** The serialized form: `values` in exact mode, `sketch` otherwise. */
  toJSON(): TrendJSON {
    const empty = this.count === 0;
    const base = { type: 'trend' as const, count: this.count, sum: this.sum, min: empty ? 0 : this.min, max: empty ? 0 : this.max };
    return this.values !== null
      ? { ...base, values: this.values.slice() }
      : { ...base, sketch: (this.sketch as TrendSketch).toJSON() };
  }

  /** Rebuilds a trend from its serialized form. */
  static fromJSON(json: TrendJSON): TrendAggregate {
    const t = new TrendAggregate();
    if (json.count === 0) return t;
    t.count = json.count;
    t.sum = json.sum;
    t.min = json.min;
    t.max = json.max;
    if (json.sketch !== undefined) {
      t.values = null;
      t.sketch = TrendSketch.fromJSON(json.sketch);
    } else {
      t.values = (json.values ?? []).slice();
      t.sorted = false;
    }
    return t;
  }

  private valueAtRank(rank: number): number {
    if (this.values !== null) {
      if (!this.sorted) {
        this.values.sort((a, b) => a - b);
        this.sorted = true;
      }
      return this.values[rank] as number;
    }
    // The exact extremes are known; use them rather than bucket estimates.
    if (rank === 0) return this.min;
    if (rank === this.count - 1) return this.max;
    const v = (this.sketch as TrendSketch).valueAtRank(rank);
    return v < this.min ? this.min : v > this.max ? this.max : v;
  }

  private toSketch(): void {
    const sketch = new TrendSketch();
    for (const v of this.values as number[]) sketch.add(v);
    this.sketch = sketch;
    this.values = null;
    this.sorted = true;
  }
}

/** Any aggregate, discriminated by `type`. */
export type Aggregate = CounterAggregate | GaugeAggregate | RateAggregate | TrendAggregate;

/** A fresh, empty aggregate for a metric of type `type`. */
export function createAggregate(type: MetricType): Aggregate {
  switch (type) {
    case 'counter':
      return new CounterAggregate();
    case 'gauge':
      return new GaugeAggregate();
    case 'rate':
      return new RateAggregate();
    case 'trend':
      return new TrendAggregate();
  }
}

/** Merges `from` into `into`; both must be of the same type. */
export function mergeAggregate(into: Aggregate, from: Aggregate): void {
  switch (into.type) {
    case 'counter':
      if (from.type === 'counter') return into.merge(from);
      break;
    case 'gauge':
      if (from.type === 'gauge') return into.merge(from);
      break;
    case 'rate':
      if (from.type === 'rate') return into.merge(from);
      break;
    case 'trend':
      if (from.type === 'trend') return into.merge(from);
      break;
  }
  throw new HerdError('internal', `cannot merge a ${from.type} aggregate into a ${into.type} aggregate`);
}

/** Rebuilds an aggregate from its serialized form. */
export function aggregateFromJSON(json: AggregateJSON): Aggregate {
  switch (json.type) {
    case 'counter': {
      const c = new CounterAggregate();
      c.samples = json.samples;
      c.sum = json.sum;
      return c;
    }
    case 'gauge': {
      const g = new GaugeAggregate();
      if (json.samples === 0) return g;
      g.samples = json.samples;
      g.last = json.last;
      g.lastTime = json.lastTime;
      g.min = json.min;
      g.max = json.max;
      return g;
    }
    case 'rate': {
      const r = new RateAggregate();
      r.passes = json.passes;
      r.total = json.total;
      return r;
    }
    case 'trend':
      return TrendAggregate.fromJSON(json);
  }
}
