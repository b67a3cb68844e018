import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Collector, type MetricsBatch } from './collector.js';
import { MetricRegistry, defineBuiltinMetrics } from './metric.js';
import { TagSet } from './tags.js';

function setup(now = () => 1_000): { reg: MetricRegistry; c: Collector; b: ReturnType<typeof defineBuiltinMetrics> } {
  const reg = new MetricRegistry();
  const b = defineBuiltinMetrics(reg);
  return { reg, c: new Collector(reg, now), b };
}

const tags = (o: Record<string, string>): TagSet => TagSet.from(o);

test('samples with the same interned tags land in one series, other tags in another', () => {
  const { c, b } = setup();
  c.add(b.http_reqs, tags({ method: 'GET', status: '200' }), 1);
  c.add(b.http_reqs, tags({ status: '200', method: 'GET' }), 1);
  c.add(b.http_reqs, tags({ method: 'GET', status: '404' }), 1);
  assert.equal(c.seriesCount, 2);
  const seen: Array<[string, number]> = [];
  c.forEachSeries(b.http_reqs, (t, a) => seen.push([t.toString(), a.type === 'counter' ? a.count : -1]));
  assert.deepEqual(seen, [['{method:GET,status:200}', 2], ['{method:GET,status:404}', 1]]);
  const total = c.aggregate(b.http_reqs);
  assert.equal(total.type === 'counter' && total.count, 3);
});

test('only metrics that got a sample are observed, with the time of their first sample', () => {
  const { c, b } = setup();
  c.add(b.iterations, TagSet.EMPTY, 1, 500);
  c.add(b.iterations, TagSet.EMPTY, 1, 900);
  c.add(b.checks, TagSet.EMPTY, 1);
  assert.deepEqual(c.observedMetrics().map((m) => m.name), ['iterations', 'checks']);
  assert.equal(c.firstSampleMs(b.iterations), 500);
  assert.equal(c.firstSampleMs(b.checks), 1_000);
  assert.equal(c.firstSampleMs(b.http_reqs), undefined);
});

test('a sub-metric selecting group:::catalog::item counts only requests of that group', () => {
  const { c, b } = setup();
  const sub = c.addSubmetric('http_reqs', TagSet.EMPTY.with('group', '::catalog::item'), 'http_reqs{group:::catalog::item}');
  for (let i = 0; i < 4; i++) {
    c.add(b.http_reqs, tags({ group: '::catalog', status: '200' }), 1);
    c.add(b.http_reqs, tags({ group: '::catalog::item', status: '404' }), 1);
  }
  c.add(b.http_reqs, tags({ group: '::catalog::item::deeper' }), 1);
  assert.equal(sub.aggregate.type === 'counter' && sub.aggregate.count, 4);
  assert.equal(c.submetric('http_reqs{group:::catalog::item}'), sub);
  assert.equal(sub.firstSampleMs, 1_000);
});

test('a sub-metric registered after samples arrived includes the earlier series', () => {
  const { c, b } = setup();
  c.add(b.http_req_duration, tags({ expected_response: 'true', name: 'a' }), 10);
  c.add(b.http_req_duration, tags({ expected_response: 'false', name: 'a' }), 99);
  c.add(b.http_req_duration, tags({ expected_response: 'true', name: 'b' }), 30);
  const sub = c.addSubmetric('http_req_duration', tags({ expected_response: 'true' }));
  assert.equal(sub.name, 'http_req_duration{expected_response:true}');
  c.add(b.http_req_duration, tags({ expected_response: 'true', name: 'a' }), 20);
  assert.ok(sub.aggregate.type === 'trend');
  assert.deepEqual([sub.aggregate.count, sub.aggregate.avg, sub.aggregate.maxValue], [3, 20, 30]);
});

test('adding the same sub-metric twice returns the first one', () => {
  const { c } = setup();
  const a = c.addSubmetric('http_reqs', tags({ flow: 'browse' }));
  const again = c.addSubmetric('http_reqs', tags({ flow: 'browse' }), 'http_reqs{ flow:browse }');
  assert.equal(a, again);
  assert.equal(c.submetric('http_reqs{ flow:browse }'), a);
  assert.equal(c.submetrics().length, 1);
});

test('a sub-metric with two tags needs both, and a series links to every matching sub-metric', () => {
  const { c, b } = setup();
  const both = c.addSubmetric('http_reqs', tags({ flow: 'browse', status: '200' }));
  const flow = c.addSubmetric('http_reqs', tags({ flow: 'browse' }));
  c.add(b.http_reqs, tags({ flow: 'browse', status: '200', method: 'GET' }), 1);
  c.add(b.http_reqs, tags({ flow: 'browse', status: '500' }), 1);
  assert.equal(both.aggregate.type === 'counter' && both.aggregate.count, 1);
  assert.equal(flow.aggregate.type === 'counter' && flow.aggregate.count, 2);
});

test('adding a sub-metric to an undefined metric is an internal error', () => {
  const { c } = setup();
  assert.throws(() => c.addSubmetric('nope', TagSet.EMPTY), {
    code: 'internal',
    message: 'cannot add a sub-metric to metric "nope": no such metric',
  });
});

test('flushPeriod returns only the series touched since the last flush, then starts over', () => {
  const { c, b } = setup();
  c.add(b.http_reqs, tags({ status: '200' }), 1);
  c.add(b.http_reqs, tags({ status: '200' }), 1);
  c.add(b.vus, TagSet.EMPTY, 3, 1_500);
  const first = c.flushPeriod(2_000);
  assert.equal(first.startMs, 1_000);
  assert.equal(first.endMs, 2_000);
  assert.deepEqual(first.metrics, [
    { name: 'http_reqs', type: 'counter', contains: 'default', firstSampleMs: 1_000, series: [{ tags: { status: '200' }, aggregate: { type: 'counter', samples: 2, sum: 2 } }] },
    { name: 'vus', type: 'gauge', contains: 'default', firstSampleMs: 1_500, series: [{ tags: {}, aggregate: { type: 'gauge', samples: 1, last: 3, lastTime: 1_500, min: 3, max: 3 } }] },
  ]);
  c.add(b.http_reqs, tags({ status: '500' }), 1);
  const second = c.flushPeriod(3_000);
  assert.equal(second.startMs, 2_000);
  assert.deepEqual(second.metrics.map((m) => [m.name, m.series.map((s) => s.tags)]), [['http_reqs', [{ status: '500' }]]]);
  assert.deepEqual(c.flushPeriod(4_000).metrics, []);
  // Cumulative totals are untouched by flushing.
  const total = c.aggregate(b.http_reqs);
  assert.equal(total.type === 'counter' && total.count, 3);
});

test('merging the batches of two workers into a coordinator equals collecting everything in one place', () => {
  const one = setup();
  const workers = [setup(), setup()];
  const coord = setup();
  for (const x of [one, coord]) x.c.addSubmetric('http_req_duration', tags({ flow: 'browse' }));
  const custom = workers.map((w) => w.reg.define('orders', 'counter'));
  const customOne = one.reg.define('orders', 'counter');
  const batches: MetricsBatch[] = [];
  for (let i = 0; i < 6000; i++) {
    const w = workers[i % 2] as ReturnType<typeof setup>;
    const t = tags({ flow: i % 3 === 0 ? 'browse' : 'buy' });
    const v = (i * 37) % 1000;
    w.c.add(w.b.http_req_duration, t, v, 1_000 + i);
    one.c.add(one.b.http_req_duration, t, v, 1_000 + i);
    w.c.add(custom[i % 2]!, TagSet.EMPTY, 2, 1_000 + i);
    one.c.add(customOne, TagSet.EMPTY, 2, 1_000 + i);
    w.c.add(w.b.vus, TagSet.EMPTY, i % 50, 1_000 + i);
    one.c.add(one.b.vus, TagSet.EMPTY, i % 50, 1_000 + i);
    if (i % 1000 === 999) for (const x of workers) batches.push(JSON.parse(JSON.stringify(x.c.flushPeriod(2_000 + i))));
  }
  // Arrival order between workers is not time order; the gauge must still keep the latest.
  for (const batch of batches.reverse()) coord.c.mergeBatch(batch);
  const orders = coord.reg.get('orders');
  assert.ok(orders !== undefined && orders.type === 'counter');
  for (const name of ['http_req_duration', 'orders', 'vus']) {
    const a = coord.c.aggregate(coord.reg.get(name)!);
    const e = one.c.aggregate(one.reg.get(name)!);
    assert.deepEqual(a.toJSON().type === 'trend' ? stats(a) : a.toJSON(), e.toJSON().type === 'trend' ? stats(e) : e.toJSON(), name);
  }
  const subA = coord.c.submetric('http_req_duration{flow:browse}')!.aggregate;
  const subE = one.c.submetric('http_req_duration{flow:browse}')!.aggregate;
  assert.deepEqual(stats(subA), stats(subE));
  assert.equal(coord.c.seriesCount, one.c.seriesCount);
  assert.equal(coord.c.firstSampleMs(coord.reg.get('orders')!), 1_000);
});

function stats(a: ReturnType<Collector['aggregate']>): unknown {
  assert.ok(a.type === 'trend');
  return { count: a.count, sum: a.sum, min: a.minValue, max: a.maxValue, q: [0.5, 0.9, 0.95, 0.99].map((q) => a.quantile(q)) };
}

test('a coordinator that merged batches forwards them in its own next flush', () => {
  const w = setup();
  const coord = setup();
  w.c.add(w.b.http_reqs, tags({ status: '200' }), 1);
  w.c.add(w.b.http_reqs, tags({ status: '200' }), 1);
  coord.c.mergeBatch(w.c.flushPeriod(2_000));
  coord.c.add(coord.b.http_reqs, tags({ status: '200' }), 1);
  const out = coord.c.flushPeriod(2_000);
  assert.deepEqual(out.metrics[0]?.series, [{ tags: { status: '200' }, aggregate: { type: 'counter', samples: 3, sum: 3 } }]);
});

test('a batch defining a metric with another type than the registry has is rejected', () => {
  const { c } = setup();
  const batch: MetricsBatch = {
    startMs: 0,
    endMs: 1,
    metrics: [{ name: 'http_reqs', type: 'trend', contains: 'time', firstSampleMs: 0, series: [] }],
  };
  assert.throws(() => c.mergeBatch(batch), { code: 'script_exception' });
});

test('NaN samples are dropped', () => {
  const { c, b } = setup();
  c.add(b.http_req_duration, TagSet.EMPTY, NaN);
  assert.deepEqual(c.observedMetrics(), []);
});

test('a metric of one series shares its aggregate with the series until a second series appears, then each adds up on its own', () => {
  const { c, b } = setup();
  const a = tags({ name: 'a' });
  const z = tags({ name: 'z' });
  for (let i = 1; i <= 5000; i++) c.add(b.http_req_duration, a, i); // past the exact limit: a sketch
  c.add(b.http_req_duration, z, 100_000);
  c.add(b.http_req_duration, a, 0.5);
  const byName = new Map<string, { count: number; max: number; min: number }>();
  c.forEachSeries(b.http_req_duration, (t, agg) => {
    if (agg.type === 'trend') byName.set(t.toString(), { count: agg.count, max: agg.max, min: agg.min });
  });
  assert.deepEqual(byName.get('{name:a}'), { count: 5001, max: 5000, min: 0.5 });
  assert.deepEqual(byName.get('{name:z}'), { count: 1, max: 100_000, min: 100_000 });
  const total = c.aggregate(b.http_req_duration);
  assert.ok(total.type === 'trend');
  assert.deepEqual([total.count, total.min, total.max], [5002, 0.5, 100_000]);

  // Merged batches keep the same rule: one object while one series, no double counting.
  const coordinator = new Collector(c.registry, () => 1_000);
  const worker = new Collector(c.registry, () => 1_000);
  worker.add(b.http_reqs, a, 1);
  worker.add(b.http_reqs, a, 1);
  coordinator.mergeBatch(worker.flushPeriod(2_000));
  const merged = coordinator.aggregate(b.http_reqs);
  assert.equal(merged.type === 'counter' && merged.count, 2);
});
