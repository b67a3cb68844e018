import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HerdError } from '../errors/index.js';
import { ConstantArrivalRateConfig } from './constant-arrival-rate.js';
import { ConstantVUsConfig } from './constant-vus.js';
import { PerVUIterationsConfig } from './per-vu-iterations.js';
import { RampingArrivalRateConfig } from './ramping-arrival-rate.js';
import { RampingVUsConfig } from './ramping-vus.js';
import { executors, parseScenarios } from './registry.js';
import { fullSegment } from './segment.js';
import { SharedIterationsConfig } from './shared-iterations.js';

/** The lines of the HerdError that parseScenarios throws for `scenarios`. */
function problemsOf(scenarios: Record<string, Record<string, unknown>>): string[] {
  try {
    parseScenarios(scenarios);
  } catch (e) {
    assert.ok(e instanceof HerdError);
    assert.equal(e.code, 'invalid_option');
    assert.equal(e.exitCode, 104);
    return e.message.split('\n');
  }
  assert.fail('expected the scenarios to be rejected');
}

describe('parsing scenarios', () => {
  it('the registry lists the executors herd runs, by their k6 names', () => {
    assert.deepEqual([...executors.keys()], [
      'per-vu-iterations',
      'shared-iterations',
      'constant-vus',
      'ramping-vus',
      'constant-arrival-rate',
      'ramping-arrival-rate',
    ]);
  });

  it('k6 defaults are applied to every executor', () => {
    const [c, p, r, s] = parseScenarios({
      p: { executor: 'per-vu-iterations' },
      s: { executor: 'shared-iterations' },
      c: { executor: 'constant-vus', duration: '1m' },
      r: { executor: 'ramping-vus', stages: [{ duration: '10s', target: 5 }] },
    });
    assert.ok(p instanceof PerVUIterationsConfig && s instanceof SharedIterationsConfig);
    assert.ok(c instanceof ConstantVUsConfig && r instanceof RampingVUsConfig);
    for (const config of [p, s, c, r]) {
      assert.deepEqual(
        [config.startTime, config.gracefulStop, config.exec, config.env, config.tags],
        [0, 30_000, 'default', {}, {}],
      );
    }
    assert.deepEqual([p.vus, p.iterations, p.maxDuration], [1, 1, 600_000]);
    assert.deepEqual([s.vus, s.iterations, s.maxDuration], [1, 1, 600_000]);
    assert.deepEqual([c.vus, c.duration], [1, 60_000]);
    assert.deepEqual([r.startVUs, r.stages, r.gracefulRampDown], [1, [{ duration: 10_000, target: 5 }], 30_000]);
  });

  it('k6 defaults are applied to the arrival-rate executors, maxVUs defaulting to preAllocatedVUs', () => {
    const [c, r] = parseScenarios({
      c: { executor: 'constant-arrival-rate', rate: 5, duration: '1m', preAllocatedVUs: 3 },
      r: { executor: 'ramping-arrival-rate', stages: [{ duration: '10s', target: 5 }], preAllocatedVUs: 2 },
    });
    assert.ok(c instanceof ConstantArrivalRateConfig && r instanceof RampingArrivalRateConfig);
    for (const config of [c, r]) {
      assert.deepEqual([config.startTime, config.gracefulStop, config.exec, config.env, config.tags], [0, 30_000, 'default', {}, {}]);
    }
    assert.deepEqual([c.timeUnit, c.maxVUs], [1000, 3]);
    assert.deepEqual([r.startRate, r.timeUnit, r.maxVUs], [0, 1000, 2]);
  });

  it('durations accept k6 strings and numbers of milliseconds', () => {
    const [c] = parseScenarios({ c: { executor: 'constant-vus', duration: 1500, gracefulStop: '1m30s', startTime: '2' } });
    assert.ok(c instanceof ConstantVUsConfig);
    assert.deepEqual([c.duration, c.gracefulStop, c.startTime], [1500, 90_000, 2000]);
  });

  it('configs come ordered by startTime and then by name, as k6 runs them', () => {
    const configs = parseScenarios({
      b: { executor: 'per-vu-iterations' },
      late: { executor: 'per-vu-iterations', startTime: '10s' },
      a: { executor: 'per-vu-iterations' },
    });
    assert.deepEqual(configs.map((c) => c.name), ['a', 'b', 'late']);
  });

  it('every problem of every scenario is reported at once, in plain sentences', () => {
    assert.deepEqual(
      problemsOf({
        x: { executor: 'shared-iterations', vus: 5, iterations: 2, foo: 1, maxDuration: '500ms' },
        'a b': { executor: 'foo' },
        y: { executor: 'constant-vus' },
        w: { executor: 'per-vu-iterations', vus: '5', gracefulStop: -1, env: { A: 1 }, exec: '' },
      }),
      [
        'scenarios.x.maxDuration must be at least 1s, got "500ms"',
        'scenarios.x.foo must be one of the shared-iterations options (executor, vus, iterations, maxDuration, startTime, gracefulStop, exec, env, tags, options), got an unknown key',
        'scenarios.x.iterations must be at least vus (5), got 2',
        'scenarios.a b must be named with only latin letters, digits, underscores and dashes, got "a b"',
        'scenarios.a b.executor must be one of per-vu-iterations, shared-iterations, constant-vus, ramping-vus, constant-arrival-rate, ramping-arrival-rate, got "foo"',
        'scenarios.y.duration must be a duration like "30s", "1m30s" or "500ms", got nothing',
        'scenarios.w.vus must be an integer, got "5"',
        'scenarios.w.gracefulStop must be at least 0s, got -1',
        'scenarios.w.exec must be the name of an exported function, got ""',
        'scenarios.w.env.A must be a string, got 1',
      ],
    );
  });

  it('shared-iterations needs at least as many iterations as VUs, as in k6', () => {
    assert.deepEqual(problemsOf({ x: { executor: 'shared-iterations', vus: 5, iterations: 2 } }), [
      'scenarios.x.iterations must be at least vus (5), got 2',
    ]);
    assert.deepEqual(problemsOf({ x: { executor: 'shared-iterations', vus: 3 } }), ['scenarios.x.iterations must be at least vus (3), got 1']);
    assert.equal(parseScenarios({ x: { executor: 'shared-iterations', vus: 3, iterations: 3 } }).length, 1);
  });

  it('counts below their minimum are named with the minimum', () => {
    assert.deepEqual(
      problemsOf({
        p: { executor: 'per-vu-iterations', vus: 0, iterations: 0 },
        c: { executor: 'constant-vus', vus: 1.5, duration: '0s' },
      }),
      [
        'scenarios.p.vus must be at least 1, got 0',
        'scenarios.p.iterations must be at least 1, got 0',
        'scenarios.c.vus must be an integer, got 1.5',
        'scenarios.c.duration must be at least 1s, got "0s"',
      ],
    );
  });

  it('ramping-vus stages are checked one by one, and some VU must be planned', () => {
    assert.deepEqual(
      problemsOf({
        z: { executor: 'ramping-vus', stages: [{ duration: '1s', target: 0 }, { target: -1, dur: 1 }], gracefulRampDown: 'soon' },
        t: { executor: 'ramping-vus', stages: [] },
        u: { executor: 'ramping-vus' },
        s: { executor: 'ramping-vus', startVUs: 0, stages: [{ duration: '1s', target: 0 }] },
      }),
      [
        'scenarios.z.stages[1].duration must be a duration like "30s", "1m30s" or "500ms", got nothing',
        'scenarios.z.stages[1].target must be at least 0, got -1',
        'scenarios.z.stages[1].dur must be one of the stage options (duration, target), got an unknown key',
        'scenarios.z.gracefulRampDown must be a duration like "30s", "1m30s" or "500ms", got "soon"',
        'scenarios.t.stages must be a list of at least one stage, got []',
        'scenarios.u.stages must be a list of stages like [{ duration: "30s", target: 10 }], got nothing',
        'scenarios.s.startVUs must be above 0 when no stage has a target above 0, got 0',
      ],
    );
  });

  it('a missing or not yet supported executor is named as such', () => {
    assert.deepEqual(problemsOf({ a: {}, b: { executor: 'externally-controlled' }, c: 5 as unknown as Record<string, unknown> }), [
      'scenarios.a.executor must be one of per-vu-iterations, shared-iterations, constant-vus, ramping-vus, constant-arrival-rate, ramping-arrival-rate, got nothing',
      'scenarios.b.executor must be one of per-vu-iterations, shared-iterations, constant-vus, ramping-vus, constant-arrival-rate, ramping-arrival-rate, got "externally-controlled" (a k6 executor herd does not support yet)',
      'scenarios.c must be an object of scenario options, got 5',
    ]);
  });

  it('parsing does not change the options it was given', () => {
    const raw = { executor: 'constant-vus', duration: '30s' };
    parseScenarios({ x: raw });
    assert.deepEqual(raw, { executor: 'constant-vus', duration: '30s' });
  });

  it('descriptions read like k6s scenario list', () => {
    const configs = parseScenarios({
      a: { executor: 'per-vu-iterations', vus: 2, iterations: 3 },
      b: { executor: 'shared-iterations', vus: 4, iterations: 10, gracefulStop: 0 },
      c: { executor: 'constant-vus', vus: 80, duration: '10s', exec: 'api' },
      d: { executor: 'ramping-vus', startTime: '5s', stages: [{ duration: '1m', target: 20 }, { duration: '30s', target: 0 }] },
      e: { executor: 'constant-arrival-rate', startTime: '6s', rate: 20, duration: '2s', preAllocatedVUs: 4 },
      f: { executor: 'ramping-arrival-rate', startTime: '7s', stages: [{ duration: '1m', target: 30 }], preAllocatedVUs: 5, maxVUs: 50, timeUnit: '1m' },
    });
    assert.deepEqual(configs.map((c) => c.description(fullSegment)), [
      '3 iterations for each of 2 VUs (maxDuration: 10m0s, gracefulStop: 30s)',
      '10 iterations shared among 4 VUs (maxDuration: 10m0s)',
      '80 looping VUs for 10s (exec: api, gracefulStop: 30s)',
      'Up to 20 looping VUs for 1m30s over 2 stages (gracefulRampDown: 30s, startTime: 5s, gracefulStop: 30s)',
      '20.00 iterations/s for 2s (maxVUs: 4, startTime: 6s, gracefulStop: 30s)',
      'Up to 0.50 iterations/s for 1m0s over 1 stages (maxVUs: 5-50, startTime: 7s, gracefulStop: 30s)',
    ]);
  });
});
