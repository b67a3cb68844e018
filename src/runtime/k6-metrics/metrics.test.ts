import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HerdError } from '../../errors/index.js';
import { TagSet } from '../../metrics/tags.js';
import type { Options } from '../../config/options.js';
import type { VuState } from '../vu-state.js';
import { createFakeTest, createFakeVu, type FakeTest } from './fake-vu.js';
import { createMetricsModule, type MetricsApi } from './index.js';

function metricsFor(vu: VuState): MetricsApi {
  return createMetricsModule().instantiate(vu)['default'] as MetricsApi;
}

/** A test with one VU whose init code built `make`'s metrics, then moved to an iteration. */
function inIteration<T>(make: (m: MetricsApi) => T, options: Options = {}): { test: FakeTest; vu: VuState; made: T } {
  const test = createFakeTest(options);
  const vu = createFakeVu(test, 1, 'init', TagSet.EMPTY.with('scenario', 'default').with('group', ''));
  const made = make(metricsFor(vu));
  vu.phase = 'iteration';
  return { test, vu, made };
}

describe('k6/metrics definitions', () => {
  it('defines each custom metric in the registry with k6 type and value kind', () => {
    const test = createFakeTest();
    const { Counter, Gauge, Rate, Trend } = metricsFor(createFakeVu(test));
    new Counter('my_counter');
    new Gauge('my_gauge');
    new Rate('my_rate');
    new Trend('my_trend', true);
    new Trend('my_plain_trend');
    const got = ['my_counter', 'my_gauge', 'my_rate', 'my_trend', 'my_plain_trend'].map((n) => {
      const m = test.registry.get(n);
      return `${m?.name} ${m?.type} ${m?.contains}`;
    });
    assert.deepEqual(got, [
      'my_counter counter default',
      'my_gauge gauge default',
      'my_rate rate default',
      'my_trend trend time',
      'my_plain_trend trend default',
    ]);
  });

  it('exposes a read-only enumerable name, as k6 does', () => {
    const { Counter } = metricsFor(createFakeVu(createFakeTest()));
    const c = new Counter('errors');
    assert.equal(c.name, 'errors');
    assert.deepEqual(Object.keys(c), ['name']);
    assert.throws(() => {
      (c as { name: string }).name = 'other';
    }, TypeError);
    assert.equal(Counter.name, 'Counter');
  });

  it('lets every VU declare the same metric with the same type, sharing one registry entry', () => {
    const test = createFakeTest();
    const a = new (metricsFor(createFakeVu(test, 1)).Trend)('latency', true);
    const b = new (metricsFor(createFakeVu(test, 2)).Trend)('latency', true);
    assert.equal(a.name, b.name);
    assert.equal(test.registry.all().filter((m) => m.name === 'latency').length, 1);
  });

  it('refuses a name already used with another type, including a built-in metric', () => {
    const test = createFakeTest();
    const { Counter, Gauge, Trend } = metricsFor(createFakeVu(test));
    new Counter('things');
    assert.throws(
      () => new Gauge('things'),
      (e: unknown) => e instanceof HerdError && e.code === 'script_exception' && /metric "things" is already defined as a counter/.test(e.message),
    );
    assert.throws(() => new Trend('http_req_duration'), /already defined as a trend \(time\)/);
    assert.throws(() => new Counter('http_req_duration'), HerdError);
  });

  it('refuses to declare a metric outside the init context', () => {
    const vu = createFakeVu(createFakeTest(), 1, 'iteration');
    const { Counter } = metricsFor(vu);
    assert.throws(
      () => new Counter('late'),
      (e: unknown) =>
        e instanceof HerdError && e.code === 'init_context_only' && e.message === 'metrics must be declared in the init context' && e.hint !== undefined,
    );
    vu.phase = 'setup';
    assert.throws(() => new Counter('late'), { message: 'metrics must be declared in the init context' });
  });
});

describe('k6/metrics add', () => {
  it('refuses to add in the init context', () => {
    const test = createFakeTest();
    const c = new (metricsFor(createFakeVu(test)).Counter)('c');
    assert.throws(
      () => c.add(1),
      (e: unknown) => e instanceof HerdError && e.code === 'init_context_only' && e.message === 'Adding to metrics in the init context is not supported',
    );
    assert.equal(test.sink.samples.length, 0);
  });

  it('sends the value to the sink with the VU tags plus the given ones, values as strings', () => {
    const { test, made: c } = inIteration((m) => new m.Counter('hits'));
    assert.equal(c.add(2, { page: 'home', code: 200, scenario: 'mine' }), true);
    const s = test.sink.samples[0];
    assert.equal(s?.metric, test.registry.get('hits'));
    assert.equal(s?.value, 2);
    // Added tags win over the VU's own, as in k6.
    assert.deepEqual(s?.tags.toObject(), { code: '200', group: '', page: 'home', scenario: 'mine' });
  });

  it('uses the VU tag set itself when no tags are given, so samples share interned tags', () => {
    const { test, vu, made: t } = inIteration((m) => new m.Trend('t', true));
    t.add(12.5);
    t.add(3, null);
    assert.equal(test.sink.samples[0]?.tags, vu.tags);
    assert.equal(test.sink.samples[1]?.tags, vu.tags);
    assert.equal(test.sink.samples[0]?.value, 12.5);
  });

  it('reads tags from the VU at add time, not at declaration', () => {
    const { test, vu, made: g } = inIteration((m) => new m.Gauge('g'));
    vu.tags = vu.tags.with('group', '::login');
    g.add(7);
    assert.equal(test.sink.samples[0]?.tags.get('group'), '::login');
  });

  it('records Rate values as 1 for any truthy or non-zero value and 0 otherwise', () => {
    const { test, made: r } = inIteration((m) => new m.Rate('ok'));
    for (const v of [true, false, 1, 0, 5, -1, '0', '2', 0.5]) r.add(v);
    assert.deepEqual(test.sink.samples.map((s) => s.value), [1, 0, 1, 0, 1, 1, 1, 1, 1]);
  });

  it('converts booleans and numeric strings with ToNumber for other metric types', () => {
    const { test, made: c } = inIteration((m) => new m.Counter('c'));
    c.add(true);
    c.add(false);
    c.add('5.3');
    c.add(Infinity);
    assert.deepEqual(test.sink.samples.map((s) => s.value), [1, 0, 5.3, Infinity]);
  });

  it('warns and returns false for values that are not numbers, adding nothing', () => {
    const { test, made: c } = inIteration((m) => new m.Counter('c'));
    for (const v of [null, undefined, NaN, 'abc', { something: 3 }, Symbol('s')]) assert.equal(c.add(v), false);
    assert.equal(test.sink.samples.length, 0);
    assert.deepEqual(
      test.logger.lines.map((l) => `${l.level} ${l.message}`),
      [
        "warn 'null' is an invalid value for metric 'c', a number or a boolean value is expected",
        "warn 'undefined' is an invalid value for metric 'c', a number or a boolean value is expected",
        "warn 'NaN' is an invalid value for metric 'c', a number or a boolean value is expected",
        "warn 'abc' is an invalid value for metric 'c', a number or a boolean value is expected",
        "warn '[object Object]' is an invalid value for metric 'c', a number or a boolean value is expected",
        "warn 'Symbol(s)' is an invalid value for metric 'c', a number or a boolean value is expected",
      ],
    );
  });

  it('says when no value was given at all', () => {
    const { test, made: c } = inIteration((m) => new m.Counter('c'));
    assert.equal(c.add(), false);
    assert.equal(test.logger.lines[0]?.message, "no value was provided for metric 'c', a number or a boolean value is expected");
  });

  it('shortens a long invalid value in the message, keeping both ends', () => {
    const { test, made: c } = inIteration((m) => new m.Counter('c'));
    c.add('a'.repeat(60) + 'b'.repeat(60));
    assert.equal(
      test.logger.lines[0]?.message,
      `'${'a'.repeat(50)}... omitting 20 characters ...${'b'.repeat(50)}' is an invalid value for metric 'c', a number or a boolean value is expected`,
    );
  });

  it('throws instead of warning when the throw option is set', () => {
    const { test, made: c } = inIteration((m) => new m.Counter('c'), { throw: true });
    assert.throws(
      () => c.add('abc'),
      (e: unknown) => e instanceof HerdError && e.code === 'script_exception' && /^'abc' is an invalid value for metric 'c'/.test(e.message),
    );
    assert.equal(test.logger.lines.length, 0);
  });
});
