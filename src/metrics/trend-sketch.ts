/**
 * A mergeable quantile sketch with fixed relative accuracy, in the manner of DDSketch.
 *
 * How it works: a positive value x goes to bucket i = ceil(log_γ x), where γ = (1+α)/(1−α).
 * Bucket i covers (γ^(i−1), γ^i], and reporting its value as 2γ^i/(γ+1) is off by at most
 * α relative to any value inside it. A quantile is found by walking the buckets in value
 * order until the cumulative count passes the wanted rank, so every quantile is within α
 * of the true value at that rank, however many samples there were. Negative values go to a
 * second store indexed by |x| and walked in reverse; values too close to zero to index are
 * counted apart. Two sketches merge by adding bucket counts, which is exact: merging the
 * sketches of two halves of a stream gives the sketch of the whole stream.
 *
 * Memory: buckets live in a dense window (a Float64Array over [offset, offset+length)), so
 * a sample costs one logarithm and one array increment, with no map or allocation. The
 * window holds at most SKETCH_MAX_BUCKETS buckets per sign; beyond that the lowest buckets
 * are folded into the lowest kept one (DDSketch's "collapsing lowest" store), which only
 * happens when values span more than ~2^35 orders of γ (over 17 decades), never for
 * latencies. On the wire only non-empty buckets travel, as [index, count] pairs.
 */

/** The relative error bound of every quantile the sketch reports (1%). */
export const SKETCH_RELATIVE_ACCURACY = 0.01;

/** The most buckets the sketch keeps for each sign of value. */
export const SKETCH_MAX_BUCKETS = 4096;

// A hair under 1% so that float rounding at bucket edges cannot push an estimate past 1%.
const ALPHA = 0.0099;
const GAMMA = (1 + ALPHA) / (1 - ALPHA);
const LOG_GAMMA = Math.log(GAMMA);
// Below this magnitude a value counts as zero (1e-9 ms is far under any clock's resolution).
const MIN_INDEXABLE = 1e-9;
const INITIAL_WINDOW = 32;

/** The serialized form of a sketch: zero count and flattened [index, count, ...] pairs. */
export interface TrendSketchJSON {
  /** Number of values counted as zero. */
  readonly z: number;
  /** Positive values: [bucket index, count, ...], ascending index. */
  readonly p: readonly number[];
  /** Negative values by magnitude: [bucket index, count, ...], ascending index. */
  readonly n: readonly number[];
}

/** A window of bucket counts that grows by doubling and collapses its lowest buckets. */
class DenseStore {
  counts = new Float64Array(0);
  offset = 0;
  total = 0;

  add(index: number, weight: number): void {
    let pos = index - this.offset;
    if (pos < 0 || pos >= this.counts.length) pos = this.grow(index);
    this.counts[pos] = (this.counts[pos] as number) + weight;
    this.total += weight;
  }

  /** Widens the window to hold `index` (or collapses) and returns the slot for `index`. */
  private grow(index: number): number {
    const old = this.counts;
    if (old.length === 0) {
      this.counts = new Float64Array(INITIAL_WINDOW);
      this.offset = index - INITIAL_WINDOW / 2;
      return index - this.offset;
    }
    const curLo = this.offset;
    const curHi = this.offset + old.length - 1;
    const lo = Math.min(curLo, index);
    const hi = Math.max(curHi, index);
    let len = old.length;
    while (len < hi - lo + 1 && len < SKETCH_MAX_BUCKETS) len *= 2;
    len = Math.min(len, SKETCH_MAX_BUCKETS);
    // Leave the spare room on the side the window grew towards; if even the maximum window
    // cannot span [lo, hi], keep the highest buckets and fold the lowest into the first slot.
    let newLo = index > curHi ? lo : hi - len + 1;
    if (hi - newLo + 1 > len) newLo = hi - len + 1;
    const next = new Float64Array(len);
    for (let k = 0; k < old.length; k++) {
      const c = old[k] as number;
      if (c === 0) continue;
      const t = Math.max(curLo + k, newLo) - newLo;
      next[t] = (next[t] as number) + c;
    }
    this.counts = next;
    this.offset = newLo;
    return Math.max(index, newLo) - newLo;
  }

  nonEmpty(): number {
    let n = 0;
    for (let k = 0; k < this.counts.length; k++) if (this.counts[k] !== 0) n++;
    return n;
  }

  pairs(): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.counts.length; k++) {
      const c = this.counts[k] as number;
      if (c !== 0) out.push(this.offset + k, c);
    }
    return out;
  }

  clear(): void {
    this.counts = new Float64Array(0);
    this.offset = 0;
    this.total = 0;
  }
}

/**
 * The last magnitude indexed and its bucket. A sample goes to its metric's aggregate and
 * then to its series' (and sub-metrics'), one after the other: the second lookup is free.
 */
let lastMagnitude = NaN;
let lastIndex = 0;

function bucketIndex(magnitude: number): number {
  if (magnitude !== lastMagnitude) {
    lastMagnitude = magnitude;
    lastIndex = Math.ceil(Math.log(magnitude) / LOG_GAMMA);
  }
  return lastIndex;
}

function bucketValue(index: number): number {
  return (2 * Math.exp(index * LOG_GAMMA)) / (GAMMA + 1);
}

/** A log-bucketed histogram with ≤1% relative error on quantiles; merges exactly. */
export class TrendSketch {
  private zero = 0;
  private readonly pos = new DenseStore();
  private readonly neg = new DenseStore();

  /** Number of values added. */
  get count(): number {
    return this.zero + this.pos.total + this.neg.total;
  }

  /** Number of non-empty buckets (the memory the sketch really needs). */
  get bucketCount(): number {
    return this.pos.nonEmpty() + this.neg.nonEmpty() + (this.zero > 0 ? 1 : 0);
  }

  /** Number of bucket slots allocated (bounded by 2 × SKETCH_MAX_BUCKETS). */
  get allocatedBuckets(): number {
    return this.pos.counts.length + this.neg.counts.length;
  }

  /** Adds `value` (`weight` times). */
  add(value: number, weight = 1): void {
    if (value > MIN_INDEXABLE) this.pos.add(bucketIndex(value), weight);
    else if (value < -MIN_INDEXABLE) this.neg.add(bucketIndex(-value), weight);
    else this.zero += weight;
  }

  /** Adds every count of `other` into this sketch. */
  merge(other: TrendSketch): void {
    this.zero += other.zero;
    mergeStore(this.pos, other.pos);
    mergeStore(this.neg, other.neg);
  }

  /** The estimated value at 0-based `rank` in ascending order (rank < count). */
  valueAtRank(rank: number): number {
    let seen = 0;
    const n = this.neg.counts;
    for (let k = n.length - 1; k >= 0; k--) {
      seen += n[k] as number;
      if (seen > rank) return -bucketValue(this.neg.offset + k);
    }
    seen += this.zero;
    if (seen > rank) return 0;
    const p = this.pos.counts;
    for (let k = 0; k < p.length; k++) {
      seen += p[k] as number;
      if (seen > rank) return bucketValue(this.pos.offset + k);
    }
    // Only reachable with rank >= count; answer with the highest bucket.
    for (let k = p.length - 1; k >= 0; k--) if (p[k] !== 0) return bucketValue(this.pos.offset + k);
    return 0;
  }

  /** Empties the sketch. */
  clear(): void {
    this.zero = 0;
    this.pos.clear();
    this.neg.clear();
  }

  /** The compact serialized form. */
  toJSON(): TrendSketchJSON {
    return { z: this.zero, p: this.pos.pairs(), n: this.neg.pairs() };
  }

  /** Rebuilds a sketch from its serialized form. */
  static fromJSON(json: TrendSketchJSON): TrendSketch {
    const s = new TrendSketch();
    s.zero = json.z;
    for (let i = 0; i + 1 < json.p.length; i += 2) s.pos.add(json.p[i] as number, json.p[i + 1] as number);
    for (let i = 0; i + 1 < json.n.length; i += 2) s.neg.add(json.n[i] as number, json.n[i + 1] as number);
    return s;
  }
}

function mergeStore(into: DenseStore, from: DenseStore): void {
  const c = from.counts;
  for (let k = 0; k < c.length; k++) {
    const w = c[k] as number;
    if (w !== 0) into.add(from.offset + k, w);
  }
}
