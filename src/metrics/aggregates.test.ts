import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CounterAggregate,
  GaugeAggregate,
  RateAggregate,
  TREND_EXACT_LIMIT,
  TrendAggregate,
  aggregateFromJSON,
  createAggregate,
  mergeAggregate,
  type Aggregate,
} from './aggregates.js';
import { SKETCH_MAX_BUCKETS } from './trend-sketch.js';

/** A small seeded PRNG so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** k6's exact percentile on a sorted copy, written independently of the aggregate. */
function exactP(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return 0;
  if (s.length === 1) return s[0] as number;
  const i = q * (s.length - 1);
  const j = s[Math.floor(i)] as number;
  const k = s[Math.ceil(i)] as number;
  return j + (k - j) * (i - Math.floor(i));
}

function trendOf(values: readonly number[]): TrendAggregate {
  const t = new TrendAggregate();
  for (const v of values) t.add(v);
  return t;
}

test('a trend of 10..60 gives k6 exact avg 35, med 35, p(90) 55 and p(95) 57.5', () => {
  const t = trendOf([10, 20, 30, 40, 50, 60]);
  assert.equal(t.count, 6);
  assert.equal(t.avg, 35);
  assert.equal(t.minValue, 10);
  assert.equal(t.maxValue, 60);
  assert.equal(t.med, 35);
  assert.equal(t.quantile(90 / 100), 55);
  assert.equal(t.quantile(95 / 100), 57.5);
});

test('a trend of 0, 2.5, ..., 12.5 gives med 6.25, p(90) 11.25 and p(95) 11.875', () => {
  const t = trendOf([0, 2.5, 5, 7.5, 10, 12.5]);
  assert.equal(t.med, 6.25);
  assert.equal(t.quantile(0.9), 11.25);
  assert.equal(t.quantile(0.95), 11.875);
});

test('a trend with values added out of order sorts before taking percentiles', () => {
  const t = trendOf([60, 10, 50, 20, 40, 30]);
  assert.equal(t.quantile(0.9), 55);
  t.add(5);
  assert.equal(t.minValue, 5);
  assert.equal(t.quantile(0), 5);
});

test('an empty trend reports zeros and a single-value trend reports that value everywhere', () => {
  const e = new TrendAggregate();
  assert.deepEqual([e.avg, e.minValue, e.maxValue, e.med, e.quantile(0.99)], [0, 0, 0, 0, 0]);
  const one = trendOf([42]);
  assert.deepEqual([one.avg, one.minValue, one.maxValue, one.med, one.quantile(0.999)], [42, 42, 42, 42, 42]);
});

test('a trend stays exact up to the limit and switches to the histogram one sample later', () => {
  const t = new TrendAggregate();
  for (let i = 0; i < TREND_EXACT_LIMIT; i++) t.add(i);
  assert.equal(t.isExact, true);
  t.add(TREND_EXACT_LIMIT);
  assert.equal(t.isExact, false);
  assert.equal(t.count, TREND_EXACT_LIMIT + 1);
});

for (const [name, gen] of [
  ['uniform latencies', (r: () => number) => 1 + r() * 999],
  ['log-normal latencies', (r: () => number) => Math.exp(3 + 1.5 * Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r()))],
  ['values spread over negatives, zero and positives', (r: () => number) => (r() < 0.1 ? 0 : (r() - 0.4) * 1e4)],
] as const) {
  test(`histogram percentiles of 200,000 ${name} are within 1% of the exact ones`, () => {
    const r = rng(7);
    const values: number[] = [];
    const t = new TrendAggregate();
    for (let i = 0; i < 200_000; i++) {
      const v = gen(r);
      values.push(v);
      t.add(v);
    }
    assert.equal(t.isExact, false);
    for (const p of [1, 10, 25, 50, 75, 90, 95, 99, 99.9]) {
      const want = exactP(values, p / 100);
      const got = t.quantile(p / 100);
      assert.ok(Math.abs(got - want) <= 0.01 * Math.abs(want) + 1e-9, `p(${p}): got ${got}, want ${want}`);
    }
    const min = values.reduce((a, b) => Math.min(a, b));
    const max = values.reduce((a, b) => Math.max(a, b));
    assert.equal(t.minValue, min);
    assert.equal(t.maxValue, max);
    assert.equal(t.quantile(0), min);
    assert.equal(t.quantile(1), max);
  });
}

test('one million samples into one trend keep the histogram under 1,100 buckets', () => {
  const r = rng(11);
  const t = new TrendAggregate();
  // Latencies from 0.1 ms to 100 s: nine decades, the widest a real test sees.
  for (let i = 0; i < 1_000_000; i++) t.add(0.1 * Math.pow(10, r() * 6));
  assert.equal(t.count, 1_000_000);
  assert.ok(t.bucketCount <= 1100, `bucketCount ${t.bucketCount}`);
  assert.ok(t.allocatedBuckets <= 2 * SKETCH_MAX_BUCKETS, `allocated ${t.allocatedBuckets}`);
  assert.ok(JSON.stringify(t.toJSON()).length < 40_000);
});

test('values spanning more decades than the bucket cap still keep memory bounded', () => {
  const t = new TrendAggregate();
  for (let e = -300; e <= 300; e += 0.01) t.add(Math.pow(10, e));
  assert.ok(t.allocatedBuckets <= 2 * SKETCH_MAX_BUCKETS, `allocated ${t.allocatedBuckets}`);
  // The top of the range keeps full accuracy; only the lowest buckets were folded.
  const want = Math.pow(10, 300 - 0.01 * 1000);
  const got = t.quantile(1 - 1000 / (t.count - 1));
  assert.ok(Math.abs(got - want) / want < 0.03, `${got} vs ${want}`);
});

function split<T>(values: readonly T[], parts: number, r: () => number): T[][] {
  const out: T[][] = Array.from({ length: parts }, () => []);
  for (const v of values) (out[Math.floor(r() * parts)] as T[]).push(v);
  return out;
}

for (const size of [50, 3000, 50_000]) {
  test(`merging a trend split into 4 random streams of ${size} integers equals the whole`, () => {
    const r = rng(size);
    const values = Array.from({ length: size }, () => Math.floor(r() * 5000));
    const whole = trendOf(values);
    const merged = new TrendAggregate();
    for (const part of split(values, 4, r)) merged.merge(trendOf(part));
    assert.equal(merged.count, whole.count);
    assert.equal(merged.sum, whole.sum);
    assert.equal(merged.minValue, whole.minValue);
    assert.equal(merged.maxValue, whole.maxValue);
    assert.equal(merged.isExact, whole.isExact);
    for (const q of [0, 0.5, 0.9, 0.95, 0.99, 0.999, 1]) assert.equal(merged.quantile(q), whole.quantile(q), `q=${q}`);
  });
}

test('merging counters, rates and gauges of split streams equals the whole', () => {
  const r = rng(3);
  const samples = Array.from({ length: 1000 }, (_, i) => ({ v: Math.floor(r() * 100) - 30, t: 1000 + i }));
  for (const type of ['counter', 'rate', 'gauge'] as const) {
    const whole = createAggregate(type);
    for (const s of samples) addSample(whole, s.v, s.t);
    const parts = split(samples, 3, r).map((p) => {
      const a = createAggregate(type);
      for (const s of p) addSample(a, s.v, s.t);
      return a;
    });
    // Merge in reverse so "last by time" is really by time, not by merge order.
    const merged = createAggregate(type);
    for (const p of parts.reverse()) mergeAggregate(merged, p);
    assert.deepEqual(merged.toJSON(), whole.toJSON(), type);
  }
});

function addSample(a: Aggregate, v: number, t: number): void {
  if (a.type === 'gauge') a.add(v, t);
  else a.add(v);
}

test('counter, gauge and rate compute k6 stats', () => {
  const c = new CounterAggregate();
  for (let i = 0; i < 6; i++) c.add(1);
  assert.equal(c.count, 6);
  assert.equal(c.rate(2000), 3);
  assert.equal(c.rate(0), 0);
  const g = new GaugeAggregate();
  for (let i = 1; i <= 6; i++) g.add(i, i);
  assert.deepEqual([g.value, g.min, g.max], [6, 1, 6]);
  const rate = new RateAggregate();
  for (let i = 0; i < 6; i++) rate.add(i % 2 === 0 ? 1 : 0);
  assert.deepEqual([rate.rate, rate.passes, rate.fails], [0.5, 3, 3]);
  assert.equal(new RateAggregate().rate, 0);
});

test('every aggregate survives a JSON round trip, in exact and in histogram mode', () => {
  const r = rng(5);
  const aggs: Aggregate[] = [createAggregate('counter'), createAggregate('gauge'), createAggregate('rate'), createAggregate('trend'), new TrendAggregate()];
  for (let i = 0; i < 100; i++) for (const a of aggs.slice(0, 4)) addSample(a, r() * 10 - 2, i);
  const big = aggs[4] as TrendAggregate;
  for (let i = 0; i < 10_000; i++) big.add(r() * 100 - 20);
  for (const a of [...aggs, createAggregate('gauge'), createAggregate('trend')]) {
    const json = JSON.parse(JSON.stringify(a.toJSON()));
    const back = aggregateFromJSON(json);
    assert.deepEqual(back.toJSON(), a.toJSON());
    if (a.type === 'trend' && back.type === 'trend') {
      for (const q of [0, 0.1, 0.5, 0.9, 0.999, 1]) assert.equal(back.quantile(q), a.quantile(q));
    }
  }
});

test('merging aggregates of different types is an internal error', () => {
  assert.throws(() => mergeAggregate(new CounterAggregate(), new RateAggregate()), {
    code: 'internal',
    message: 'cannot merge a rate aggregate into a counter aggregate',
  });
});
