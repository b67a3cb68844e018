import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Collector } from './collector.js';
import { MetricRegistry, defineBuiltinMetrics } from './metric.js';
import { addExpectedResponseSubmetric, buildSummaryMetrics, parseTrendStats } from './summary-data.js';
import { TagSet } from './tags.js';
import { Thresholds } from './thresholds.js';

test('custom_metrics.js: counter, gauge, rate and trend values and thresholds match k6', () => {
  const reg = new MetricRegistry();
  const b = defineBuiltinMetrics(reg);
  const c = new Collector(reg, () => 1_000);
  const orders = reg.define('orders_placed', 'counter');
  const cart = reg.define('cart_size', 'gauge');
  const ok = reg.define('order_ok', 'rate');
  const latency = reg.define('order_latency', 'trend', 'time');
  const basket = reg.define('basket_value', 'trend');
  const th = Thresholds.parse({
    orders_placed: ['count==6'],
    'orders_placed{kind:express}': ['count==2'],
    'orders_placed{kind:standard}': ['count==4'],
    cart_size: ['value==6', 'value>0'],
    order_ok: ['rate>=0.5'],
    'order_latency{kind:express}': ['avg<30'],
    basket_value: ['p(90)<12'],
  });
  th.validate(reg);
  th.attach(c);
  addExpectedResponseSubmetric(c);
  for (let i = 0; i < 6; i++) {
    const kind = TagSet.EMPTY.with('kind', i % 3 === 0 ? 'express' : 'standard');
    c.add(b.http_reqs, TagSet.EMPTY.with('expected_response', 'true'), 1);
    c.add(b.http_req_duration, TagSet.EMPTY.with('expected_response', 'true'), 5 + i);
    c.add(orders, kind, 1);
    c.add(cart, TagSet.EMPTY, i + 1, 1_000 + i);
    c.add(ok, TagSet.EMPTY, i % 2 === 0 ? 1 : 0);
    c.add(latency, kind, 10 * (i + 1));
    c.add(basket, TagSet.EMPTY, i * 2.5);
  }
  const evaluation = th.evaluate(c, 3_000, { final: true });
  assert.equal(evaluation.passed, true);
  const m = buildSummaryMetrics(c, {
    testDurationMs: 3_000,
    summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'count'],
    thresholds: th,
    evaluation,
  });
  assert.deepEqual(Object.keys(m), [
    'basket_value',
    'cart_size',
    'http_req_duration',
    'http_req_duration{expected_response:true}',
    'http_reqs',
    'order_latency',
    'order_latency{kind:express}',
    'order_ok',
    'orders_placed',
    'orders_placed{kind:express}',
    'orders_placed{kind:standard}',
  ]);
  assert.deepEqual(m.orders_placed, { type: 'counter', contains: 'default', values: { count: 6, rate: 2 }, thresholds: { 'count==6': { ok: true } } });
  assert.deepEqual(m['orders_placed{kind:express}']?.values, { count: 2, rate: 2 / 3 });
  assert.deepEqual(m['orders_placed{kind:standard}']?.thresholds, { 'count==4': { ok: true } });
  assert.deepEqual(m.cart_size, {
    type: 'gauge',
    contains: 'default',
    values: { value: 6, min: 1, max: 6 },
    thresholds: { 'value==6': { ok: true }, 'value>0': { ok: true } },
  });
  assert.deepEqual(m.order_ok, { type: 'rate', contains: 'default', values: { rate: 0.5, passes: 3, fails: 3 }, thresholds: { 'rate>=0.5': { ok: true } } });
  assert.deepEqual(m.order_latency, {
    type: 'trend',
    contains: 'time',
    values: { avg: 35, min: 10, med: 35, max: 60, 'p(90)': 55, 'p(95)': 57.5, count: 6 },
  });
  assert.equal(m['order_latency{kind:express}']?.values.avg, 25);
  assert.equal(m['order_latency{kind:express}']?.values.count, 2);
  assert.deepEqual(m['order_latency{kind:express}']?.thresholds, { 'avg<30': { ok: true } });
  assert.equal(m.basket_value?.contains, 'default');
  assert.deepEqual(
    [m.basket_value?.values.med, m.basket_value?.values['p(90)'], m.basket_value?.values['p(95)']],
    [6.25, 11.25, 11.875],
  );
  assert.deepEqual(m.basket_value?.thresholds, { 'p(90)<12': { ok: true } });
  assert.equal(m['http_req_duration{expected_response:true}']?.values.count, 6);
  assert.equal(m['http_req_duration{expected_response:true}']?.values.avg, 7.5);
});

test('metrics and sub-metrics named in thresholds appear with zero values even without samples', () => {
  const reg = new MetricRegistry();
  const b = defineBuiltinMetrics(reg);
  const c = new Collector(reg, () => 0);
  const th = Thresholds.parse({ 'http_reqs{flow:purchase}': ['count==0'], group_duration: ['avg<1'] });
  th.validate(reg);
  th.attach(c);
  addExpectedResponseSubmetric(c);
  c.add(b.iterations, TagSet.EMPTY, 1);
  const m = buildSummaryMetrics(c, { testDurationMs: 1_000, thresholds: th, evaluation: th.evaluate(c, 1_000, { final: true }) });
  assert.deepEqual(Object.keys(m), ['group_duration', 'http_reqs', 'http_reqs{flow:purchase}', 'iterations']);
  assert.deepEqual(m['http_reqs{flow:purchase}'], {
    type: 'counter',
    contains: 'default',
    values: { count: 0, rate: 0 },
    thresholds: { 'count==0': { ok: true } },
  });
  assert.deepEqual(m.group_duration?.values, { avg: 0, min: 0, med: 0, max: 0, 'p(90)': 0, 'p(95)': 0 });
  assert.equal(m.http_reqs?.thresholds, undefined);
});

test('a failed threshold reports ok false in the summary, keyed by its source text', () => {
  const reg = new MetricRegistry();
  const b = defineBuiltinMetrics(reg);
  const c = new Collector(reg, () => 0);
  const th = Thresholds.parse({ http_req_duration: ['p(95) < 30', 'max<5000'] });
  th.attach(c);
  c.add(b.http_req_duration, TagSet.EMPTY, 60);
  const m = buildSummaryMetrics(c, { testDurationMs: 1_000, thresholds: th, evaluation: th.evaluate(c, 1_000, { final: true }) });
  assert.deepEqual(m.http_req_duration?.thresholds, { 'p(95) < 30': { ok: false }, 'max<5000': { ok: true } });
});

test('summaryTrendStats accepts any percentile and count, and rejects other names with k6 wording', () => {
  assert.deepEqual(parseTrendStats(['count', 'p(99.9)', 'p(0)']), [
    { name: 'count', kind: 'count' },
    { name: 'p(99.9)', kind: 'p', percentile: 99.9 },
    { name: 'p(0)', kind: 'p', percentile: 0 },
  ]);
  assert.throws(() => parseTrendStats(['avg', 'p95', 'p(101)', 'p()']), {
    code: 'invalid_option',
    message:
      "summaryTrendStats: invalid trend stat 'p95', unknown format; invalid percentile trend stat value 'p(101)', provide a number between 0 and 100; invalid percentile trend stat value 'p()', provide a number between 0 and 100",
  });
});

test('a gauge reports max 0 when it only saw negative values, as k6 does', () => {
  const reg = new MetricRegistry();
  const g = reg.define('temp', 'gauge');
  const c = new Collector(reg, () => 0);
  c.add(g, TagSet.EMPTY, -5, 1);
  c.add(g, TagSet.EMPTY, -3, 2);
  assert.deepEqual(buildSummaryMetrics(c, { testDurationMs: 1 }).temp?.values, { value: -3, min: -5, max: 0 });
});

test('p(99.9) in summaryTrendStats interpolates like k6 on exact values', () => {
  const reg = new MetricRegistry();
  const t = reg.define('t', 'trend');
  const c = new Collector(reg, () => 0);
  for (let i = 1; i <= 1000; i++) c.add(t, TagSet.EMPTY, i);
  const v = buildSummaryMetrics(c, { testDurationMs: 1, summaryTrendStats: ['p(99.9)', 'med'] }).t?.values;
  assert.deepEqual(v, { 'p(99.9)': 1 + (99.9 / 100) * 999, med: 500.5 });
});
