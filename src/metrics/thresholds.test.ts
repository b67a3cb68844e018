import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Collector } from './collector.js';
import { MetricRegistry, defineBuiltinMetrics } from './metric.js';
import { TagSet } from './tags.js';
import { Thresholds, type ThresholdsConfig } from './thresholds.js';

function setup(): { reg: MetricRegistry; c: Collector; b: ReturnType<typeof defineBuiltinMetrics> } {
  const reg = new MetricRegistry();
  const b = defineBuiltinMetrics(reg);
  return { reg, c: new Collector(reg, () => 1_000), b };
}

function errorOf(fn: () => unknown): { code: string; message: string; exitCode: number } {
  try {
    fn();
  } catch (e) {
    return e as { code: string; message: string; exitCode: number };
  }
  assert.fail('expected an error');
}

test('parse accepts strings and objects and keeps keys and sources as written', () => {
  const th = Thresholds.parse({
    http_req_duration: ['p(95)<500', { threshold: 'max<5000', abortOnFail: true, delayAbortEval: 10_000 }],
    'http_reqs{group:::catalog::item}': ['count==4'],
    [`http_reqs{name:http://127.0.0.1:8099/anything/plain/1}`]: ['count==1'],
  });
  assert.deepEqual(th.keys, ['http_req_duration', 'http_reqs{group:::catalog::item}', 'http_reqs{name:http://127.0.0.1:8099/anything/plain/1}']);
  const [p95, max, group, url] = th.list;
  assert.deepEqual([p95?.source, p95?.abortOnFail, p95?.delayAbortEvalMs, p95?.selector], ['p(95)<500', false, undefined, null]);
  assert.deepEqual([max?.abortOnFail, max?.delayAbortEvalMs], [true, 10_000]);
  assert.equal(group?.metricName, 'http_reqs');
  assert.equal(group?.selector, TagSet.EMPTY.with('group', '::catalog::item'));
  assert.equal(url?.selector, TagSet.EMPTY.with('name', 'http://127.0.0.1:8099/anything/plain/1'));
});

test('a sub-metric key may hold braces in its value, as URL templates do', () => {
  const th = Thresholds.parse({ 'http_reqs{name:${}/anything/item/${}}': ['count==5'] });
  assert.equal(th.list[0]?.selector, TagSet.EMPTY.with('name', '${}/anything/item/${}'));
});

test('parse reports every invalid expression and key at once, with exit code 104', () => {
  const e = errorOf(() =>
    Thresholds.parse({
      http_req_duration: ['p(95)<500', 'p(95)<abc', 'avgg<3'],
      'http_reqs{flow:browse': ['count>1'],
      'http_reqs{flow}': ['count>1'],
      checks: [{ threshold: 'rate>' }],
    }),
  );
  assert.equal(e.code, 'invalid_threshold');
  assert.equal(e.exitCode, 104);
  assert.equal(
    e.message,
    [
      '5 invalid thresholds:',
      '  - invalid threshold "p(95)<abc" on http_req_duration; reason: malformed right hand side "abc", it must be a number',
      '  - invalid threshold "avgg<3" on http_req_duration; reason: unknown aggregation method "avgg" on the left hand side, expected count, rate, value, avg, min, max, med or p(N)',
      '  - invalid threshold defined on http_reqs{flow:browse; reason: metric "http_reqs{flow:browse" has unmatched opening/close curly brace',
      '  - invalid threshold defined on http_reqs{flow}; reason: metric "http_reqs{flow}" tag expression "flow" is malformed, it must be key:value',
      '  - invalid threshold "rate>" on checks; reason: malformed right hand side nothing, it must be a number',
    ].join('\n'),
  );
});

test('a single problem is reported on its own line', () => {
  const e = errorOf(() => Thresholds.parse({ http_reqs: ['count'] }));
  assert.equal(e.message, 'invalid threshold "count" on http_reqs; reason: malformed threshold expression, no operator (<, <=, >, >=, ==, ===, !=) found');
});

test('validate rejects unknown metrics with k6 wording and aggregations the metric type lacks', () => {
  const { reg } = setup();
  reg.define('cart_size', 'gauge');
  const th = Thresholds.parse({
    nope: ['count>1'],
    'nope{a:b}': ['count>1'],
    http_req_duration: ['count>1', 'p(99.9)<3'],
    http_reqs: ['count>1', 'rate>2', 'avg<3'],
    checks: ['rate>0.9', 'count>1'],
    cart_size: ['value==6', 'max<3'],
  });
  const e = errorOf(() => th.validate(reg));
  assert.equal(e.code, 'invalid_threshold');
  assert.equal(
    e.message,
    [
      '6 invalid thresholds:',
      '  - invalid threshold defined on nope; reason: no metric name "nope" found',
      '  - invalid threshold defined on nope{a:b}; reason: no metric name "nope{a:b}" found',
      '  - invalid threshold "count>1" on http_req_duration; reason: unsupported aggregation method count on metric of type trend, supported aggregation methods for this metric are: avg, min, max, med, p',
      '  - invalid threshold "avg<3" on http_reqs; reason: unsupported aggregation method avg on metric of type counter, supported aggregation methods for this metric are: count, rate',
      '  - invalid threshold "count>1" on checks; reason: unsupported aggregation method count on metric of type rate, supported aggregation methods for this metric are: rate',
      '  - invalid threshold "max<3" on cart_size; reason: unsupported aggregation method max on metric of type gauge, supported aggregation methods for this metric are: value',
    ].join('\n'),
  );
  assert.doesNotThrow(() => Thresholds.parse({ http_reqs: ['count>1', 'rate<10'] }).validate(reg));
});

test('thresholds pass and fail on the corpus values, per metric and per sub-metric', () => {
  const { reg, c, b } = setup();
  const latency = reg.define('order_latency', 'trend', 'time');
  const th = Thresholds.parse({
    http_req_duration: ['p(95)<30', 'max<5000'],
    http_reqs: ['count<3', 'rate>1'],
    checks: ['rate>0.9'],
    'order_latency{kind:express}': ['avg<30', 'p(99.9)<=40'],
  });
  th.validate(reg);
  th.attach(c);
  for (const v of [61, 62, 63, 64]) {
    c.add(b.http_req_duration, TagSet.EMPTY, v);
    c.add(b.http_reqs, TagSet.EMPTY, 1);
    c.add(b.checks, TagSet.EMPTY, 1);
  }
  for (let i = 0; i < 6; i++) c.add(latency, TagSet.EMPTY.with('kind', i % 3 === 0 ? 'express' : 'standard'), 10 * (i + 1));
  const ev = th.evaluate(c, 2_000, { final: true });
  assert.deepEqual(
    ev.results.map((r) => [r.threshold.key, r.threshold.source, r.ok, r.observed]),
    [
      ['http_req_duration', 'p(95)<30', false, 63.85],
      ['http_req_duration', 'max<5000', true, 64],
      ['http_reqs', 'count<3', false, 4],
      ['http_reqs', 'rate>1', true, 2],
      ['checks', 'rate>0.9', true, 1],
      ['order_latency{kind:express}', 'avg<30', true, 25],
      ['order_latency{kind:express}', 'p(99.9)<=40', true, 39.97],
    ],
  );
  assert.deepEqual(ev.crossedKeys, ['http_req_duration', 'http_reqs']);
  assert.equal(ev.passed, false);
  assert.equal(ev.abort, false);
});

test('while the test runs, metrics without samples are skipped; at the end they count as zero', () => {
  const { reg, c } = setup();
  const th = Thresholds.parse({ http_reqs: ['count>0'], 'iterations{scenario:x}': ['count==0'], http_req_duration: ['p(95)<1'] });
  th.validate(reg);
  th.attach(c);
  const running = th.evaluate(c, 1_000);
  assert.deepEqual(running.results, []);
  assert.equal(running.passed, true);
  const final = th.evaluate(c, 1_000, { final: true });
  assert.deepEqual(final.results.map((r) => [r.threshold.source, r.ok, r.observed]), [
    ['count>0', false, 0],
    ['count==0', true, 0],
    ['p(95)<1', true, 0],
  ]);
  assert.deepEqual(final.crossedKeys, ['http_reqs']);
});

test('a rate without samples at the end errors on its first threshold without failing the run, as k6', () => {
  const { reg, c } = setup();
  const th = Thresholds.parse({ checks: ['rate>0.9', 'rate<2'] });
  th.validate(reg);
  const ev = th.evaluate(c, 1_000, { final: true });
  assert.deepEqual(ev.results.map((r) => [r.ok, r.crossed, r.error]), [
    [false, false, 'unable to apply threshold rate>0.9 over metrics; reason: no metric supporting the rate aggregation method found'],
    [true, false, undefined],
  ]);
  assert.equal(ev.passed, true);
});

test('abortOnFail asks to abort only once delayAbortEval has passed since the test started', () => {
  const { reg, c, b } = setup();
  const config: ThresholdsConfig = {
    http_reqs: [{ threshold: 'count<5', abortOnFail: true, delayAbortEval: 10_000 }],
    iterations: [{ threshold: 'count<1', abortOnFail: false }],
  };
  const th = Thresholds.parse(config);
  th.validate(reg);
  for (let i = 0; i < 5; i++) c.add(b.http_reqs, TagSet.EMPTY, 1);
  c.add(b.iterations, TagSet.EMPTY, 1);
  assert.equal(th.evaluate(c, 2_000).abort, false);
  assert.equal(th.evaluate(c, 10_000).abort, false);
  assert.equal(th.evaluate(c, 10_001).abort, true);
  const noDelay = Thresholds.parse({ http_reqs: [{ threshold: 'count<5', abortOnFail: true }] });
  assert.equal(noDelay.evaluate(c, 1).abort, true);
  const passing = Thresholds.parse({ http_reqs: [{ threshold: 'count<6', abortOnFail: true }] });
  assert.equal(passing.evaluate(c, 60_000).abort, false);
  const notAborting = Thresholds.parse({ iterations: ['count<1'] }).evaluate(c, 60_000);
  assert.deepEqual([notAborting.passed, notAborting.abort], [false, false]);
});
