import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Collector, type MetricsBatch } from './collector.js';
import { MetricRegistry, defineBuiltinMetrics } from './metric.js';
import { splitBatch } from './split-batch.js';
import { TagSet } from './tags.js';

function setup(): { c: Collector; b: ReturnType<typeof defineBuiltinMetrics> } {
  const reg = new MetricRegistry();
  const b = defineBuiltinMetrics(reg);
  return { c: new Collector(reg, () => 1_000), b };
}

/** One second of a test with `urls` distinct URLs: a trend, a counter and a rate series each. */
function bigBatch(urls: number): MetricsBatch {
  const { c, b } = setup();
  for (let i = 0; i < urls * 3; i++) {
    const t = TagSet.from({ url: `http://target/${i % urls}`, method: 'GET', status: '200' });
    c.add(b.http_req_duration, t, (i * 7) % 500, 1_000 + i);
    c.add(b.http_reqs, t, 1, 1_000 + i);
    c.add(b.http_req_failed, t, i % 5 === 0 ? 1 : 0, 1_000 + i);
  }
  c.add(b.vus, TagSet.EMPTY, 10, 1_500);
  return JSON.parse(JSON.stringify(c.flushPeriod(2_000))) as MetricsBatch;
}

/** Every aggregate of a collector, by metric and series tags, as JSON. */
function snapshot(c: Collector, batch: MetricsBatch): string {
  return JSON.stringify(batch.metrics.map((m) => {
    const metric = c.registry.get(m.name);
    assert.ok(metric !== undefined, m.name);
    const agg = c.aggregate(metric);
    return [m.name, agg.type, agg.type === 'trend' ? [agg.count, agg.sum, agg.minValue, agg.maxValue, agg.quantile(0.95)] : JSON.stringify(agg)];
  }));
}

test('a batch under the size is sent whole', () => {
  const batch = bigBatch(3);
  assert.deepEqual(splitBatch(batch, 1 << 20), [batch]);
});

test('cuts a large batch into parts under the size that merge into exactly the same aggregates', () => {
  const batch = bigBatch(2_000);
  const max = 64 * 1024;
  assert.ok(JSON.stringify(batch).length > 4 * max, 'the batch is several times the limit');
  const parts = splitBatch(batch, max);
  assert.ok(parts.length >= 4, `${parts.length} parts`);
  for (const p of parts) {
    assert.ok(JSON.stringify(p).length <= max, `a part of ${JSON.stringify(p).length} bytes`);
    assert.deepEqual([p.startMs, p.endMs], [batch.startMs, batch.endMs]);
  }
  // Every series is in exactly one part.
  const count = (b: MetricsBatch) => b.metrics.reduce((n, m) => n + m.series.length, 0);
  assert.equal(parts.reduce((n, p) => n + count(p), 0), count(batch));
  const whole = setup();
  whole.c.mergeBatch(batch);
  const split = setup();
  for (const p of [...parts].reverse()) split.c.mergeBatch(p);
  assert.equal(snapshot(split.c, batch), snapshot(whole.c, batch));
  assert.equal(split.c.seriesCount, whole.c.seriesCount);
});

test('a single series larger than the size travels alone', () => {
  const batch = bigBatch(10);
  const parts = splitBatch(batch, 10);
  assert.equal(parts.reduce((n, p) => n + p.metrics.reduce((k, m) => k + m.series.length, 0), 0), 31);
  for (const p of parts) assert.equal(p.metrics.reduce((k, m) => k + m.series.length, 0), 1);
});
