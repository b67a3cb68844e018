import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HerdError } from '../errors/index.js';
import { constantSchedule } from './arrival-schedule.js';
import { ConstantArrivalRateConfig } from './constant-arrival-rate.js';
import { random, randomSequence } from './random-sequence.js';
import { parseScenarios } from './registry.js';
import { fullSegment, segmentsOfSequence } from './segment.js';
import type { ExecutorEnv } from './types.js';
import { every, VirtualEnv } from './virtual-env.js';

function config(options: Record<string, unknown>): ConstantArrivalRateConfig {
  const [c] = parseScenarios({ x: { executor: 'constant-arrival-rate', ...options } });
  assert.ok(c instanceof ConstantArrivalRateConfig);
  return c;
}

/** The lines of the HerdError that parseScenarios throws for one constant-arrival-rate scenario. */
function problemsOf(options: Record<string, unknown>): string[] {
  try {
    parseScenarios({ x: { executor: 'constant-arrival-rate', ...options } });
  } catch (e) {
    assert.ok(e instanceof HerdError);
    return e.message.split('\n');
  }
  assert.fail('expected the scenario to be rejected');
}

const range = (n: number, f: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => f(i));

describe('constant-arrival-rate', () => {
  it('20 iterations per second for 2s start 40 iterations 50 ms apart from 0, numbered in order', async () => {
    const c = config({ rate: 20, duration: '2s', preAllocatedVUs: 4 });
    const env = new VirtualEnv(4, every(10));
    const end = await env.drive(c.newRuntime(fullSegment).run(env));
    assert.deepEqual(env.iterations.map((i) => i.start), range(40, (i) => i * 50));
    assert.deepEqual(env.iterations.map((i) => i.iterationInScenario), range(40, (i) => i));
    // The scenario lasts its duration even though its last iteration ended at 1960 ms.
    assert.equal(end, 2000);
    assert.deepEqual([env.dropped, env.warnings, env.pendingTimers, env.progress.at(-1)], [0, [], 0, 1]);
  });

  it('starts do not wait for slow iterations: they overlap on more VUs', async () => {
    const c = config({ rate: 20, duration: '2s', preAllocatedVUs: 10 });
    const env = new VirtualEnv(10, every(300));
    const end = await env.drive(c.newRuntime(fullSegment).run(env));
    assert.deepEqual(env.iterations.map((i) => i.start), range(40, (i) => i * 50));
    assert.ok(env.iterations.every((i) => i.completed));
    assert.equal(new Set(env.iterations.map((i) => i.vu)).size, 6);
    assert.equal(end, 1950 + 300);
  });

  it('the vus metric counts the VUs the scenario holds, as in k6, not the running iterations', async () => {
    const c = config({ rate: 2, duration: '1s', preAllocatedVUs: 3 });
    const env = new VirtualEnv(3, every(100));
    await env.drive(c.newRuntime(fullSegment).run(env));
    assert.deepEqual(env.activeLog, [[0, 0], [0, 3], [1000, 2], [1000, 1], [1000, 0]]);
  });

  it('iterations that find every VU busy are dropped, with one warning', async () => {
    const c = config({ rate: 10, duration: '1s', preAllocatedVUs: 2 });
    const env = new VirtualEnv(2, every(250));
    const end = await env.drive(c.newRuntime(fullSegment).run(env));
    // Starts every 100 ms; both VUs are busy at 200, 500 and 800.
    assert.deepEqual(env.iterations.map((i) => [i.start, i.vu]), [[0, 1], [100, 2], [300, 1], [400, 2], [600, 1], [700, 2], [900, 1]]);
    assert.deepEqual(env.iterations.map((i) => i.iterationInScenario), range(7, (i) => i));
    assert.equal(env.dropped, 3);
    assert.deepEqual(env.warnings, ['Insufficient VUs, reached 2 active VUs and cannot initialize more']);
    assert.equal(end, 1150);
  });

  it('grows toward maxVUs one VU at a time in the background, dropping the iteration that found none', async () => {
    const c = config({ rate: 10, duration: '1s', preAllocatedVUs: 1, maxVUs: 3 });
    const env = new VirtualEnv(1, every(250));
    env.initializable = 5;
    env.initMs = 30;
    const end = await env.drive(c.newRuntime(fullSegment).run(env));
    assert.deepEqual(env.inits, [[100, 130], [400, 430]]);
    assert.deepEqual(
      env.iterations.map((i) => [i.start, i.vu]),
      // Idle VUs are taken last-returned first, so the freshly initialized VU 3 waits until 700.
      [[0, 1], [200, 2], [300, 1], [500, 2], [600, 1], [700, 3], [800, 2], [900, 1]],
    );
    assert.deepEqual([env.dropped, env.warnings], [2, []]);
    assert.deepEqual(env.activeLog.slice(0, 4), [[0, 0], [0, 1], [130, 2], [430, 3]]);
    assert.deepEqual([end, env.active], [1150, 0]);
  });

  it('warns once the VUs it may still initialize are used up', async () => {
    // initVU gives nothing (as when the engine cannot make more): the one unplanned VU is spent.
    const c = config({ rate: 10, duration: '1s', preAllocatedVUs: 0, maxVUs: 1 });
    const env = new VirtualEnv(0, every(10));
    await env.drive(c.newRuntime(fullSegment).run(env));
    assert.deepEqual([env.iterations.length, env.dropped], [0, 10]);
    assert.deepEqual(env.warnings, ['Insufficient VUs, reached 1 active VUs and cannot initialize more']);
  });

  it('running iterations get gracefulStop after the duration, then are interrupted', async () => {
    const c = config({ rate: 1, duration: '2s', preAllocatedVUs: 2, gracefulStop: '500ms' });
    const env = new VirtualEnv(2, every(3000));
    const end = await env.drive(c.newRuntime(fullSegment).run(env));
    assert.equal(end, 2500);
    assert.deepEqual(env.iterations.map((i) => [i.start, i.end, i.completed]), [[0, 2500, false], [1000, 2500, false]]);
    assert.deepEqual([env.active, env.pendingTimers], [0, 0]);
  });

  it('a timeUnit of 1m spreads the rate over a minute', async () => {
    const c = config({ rate: 30, timeUnit: '1m', duration: '10s', preAllocatedVUs: 1 });
    const env = new VirtualEnv(1, every(10));
    await env.drive(c.newRuntime(fullSegment).run(env));
    assert.deepEqual(env.iterations.map((i) => i.start), [0, 2000, 4000, 6000, 8000]);
    assert.equal(c.description(fullSegment), '0.50 iterations/s for 10s (maxVUs: 1, gracefulStop: 30s)');
  });

  it('a duration that is not a whole number of periods starts the iteration of the last partial period', () => {
    assert.equal(constantSchedule(3, 1000, 1100).total, 4);
    assert.equal(constantSchedule(3, 1000, 1000).total, 3);
    assert.equal(constantSchedule(7, 60_000, 3_600_000).total, 420);
  });

  it('plans the pre-allocated VUs for duration + gracefulStop and keeps maxVUs for growth', () => {
    const c = config({ rate: 20, duration: '2s', preAllocatedVUs: 4, maxVUs: 10, gracefulStop: '1s' });
    assert.deepEqual(c.plan(fullSegment), {
      preAllocatedVUs: 4,
      maxVUs: 10,
      maxDurationMs: 3000,
      steps: [{ offsetMs: 0, plannedVUs: 4 }, { offsetMs: 3000, plannedVUs: 0 }],
      hasWork: true,
    });
    assert.equal(config({ rate: 1, duration: '1s', preAllocatedVUs: 3 }).maxVUs, 3);
    assert.equal(config({ rate: 1, duration: '1s', preAllocatedVUs: 0 }).plan(fullSegment).hasWork, false);
    const [a, b] = segmentsOfSequence('0,1/2,1').map((s) => c.plan(s));
    assert.deepEqual([a?.preAllocatedVUs, b?.preAllocatedVUs, a?.maxVUs, b?.maxVUs], [2, 2, 5, 5]);
  });

  it('describes itself like k6, with this segment’s share of the rate', () => {
    const c = config({ rate: 20, duration: '2s', preAllocatedVUs: 4, maxVUs: 8, exec: 'api' });
    assert.equal(c.description(fullSegment), '20.00 iterations/s for 2s (maxVUs: 4-8, exec: api, gracefulStop: 30s)');
    const [half] = segmentsOfSequence('0,1/2,1');
    assert.equal(c.description(half!), '10.00 iterations/s for 2s (maxVUs: 2-4, exec: api, gracefulStop: 30s)');
  });

  it('reports every problem at once, in the folder’s sentences', () => {
    assert.deepEqual(problemsOf({ timeUnit: '0s', maxVUs: 2, preAllocatedVUs: 5, rate: 0, bogus: 1 }), [
      'scenarios.x.rate must be at least 1, got 0',
      'scenarios.x.timeUnit must be more than 0s, got "0s"',
      'scenarios.x.duration must be a duration like "30s", "1m30s" or "500ms", got nothing',
      'scenarios.x.bogus must be one of the constant-arrival-rate options (executor, rate, timeUnit, duration, preAllocatedVUs, maxVUs, startTime, gracefulStop, exec, env, tags, options), got an unknown key',
      'scenarios.x.maxVUs must be at least preAllocatedVUs (5), got 2',
    ]);
    assert.deepEqual(problemsOf({ duration: '500ms', maxVUs: -1 }), [
      'scenarios.x.rate must be an integer, got nothing',
      'scenarios.x.duration must be at least 1s, got "500ms"',
      'scenarios.x.preAllocatedVUs must be an integer, got nothing',
      'scenarios.x.maxVUs must be at least 0, got -1',
    ]);
  });

  it('the instances of any sequence together start exactly the iterations of the whole test, at the same times', async () => {
    const rand = random(5);
    const c = config({ rate: 20, duration: '3s', preAllocatedVUs: 9 });
    const whole = new VirtualEnv(9, every(1));
    await whole.drive(c.newRuntime(fullSegment).run(whole));
    const expected = whole.iterations.map((i) => [i.iterationInScenario, i.start]);
    assert.equal(expected.length, 60);
    for (let trial = 0; trial < 25; trial++) {
      const sequence = randomSequence(rand);
      const seen: number[][] = [];
      let maxVUs = 0;
      for (const segment of segmentsOfSequence(sequence)) {
        const plan = c.plan(segment);
        maxVUs += plan.maxVUs;
        if (!plan.hasWork) continue;
        const env = new VirtualEnv(plan.preAllocatedVUs, every(1));
        await env.drive(c.newRuntime(segment).run(env));
        assert.equal(env.dropped, 0, sequence);
        seen.push(...env.iterations.map((i) => [i.iterationInScenario, i.start]));
      }
      assert.equal(maxVUs, 9, sequence);
      assert.deepEqual(seen.sort((x, y) => (x[0] as number) - (y[0] as number)), expected, sequence);
    }
  });

  it('keeps the rate on the real clock within 2%', async () => {
    // 20 VUs for iterations of 20 ms at 100/s: only an event-loop stall of ~180 ms could drop one.
    const c = config({ rate: 100, duration: '1s', preAllocatedVUs: 20, gracefulStop: 0 });
    const starts: number[] = [];
    let dropped = 0;
    const t0 = performance.now();
    const env = { ...realClockEnv(t0, 20, 20, starts), dropIterations: (n: number) => void (dropped += n) };
    await c.newRuntime(fullSegment).run(env);
    const elapsed = performance.now() - t0;
    assert.deepEqual([starts.length, dropped], [100, 0]);
    const achieved = ((starts.length - 1) * 1000) / ((starts.at(-1) as number) - (starts[0] as number));
    assert.ok(Math.abs(achieved - 100) / 100 < 0.02, `achieved ${achieved}/s`);
    assert.ok(elapsed >= 999 && elapsed < 1400, `took ${elapsed}ms`);
  });
});

/** An ExecutorEnv on the real clock with `vus` VUs whose iterations take `iterationMs`, recording start times. */
function realClockEnv(t0: number, vus: number, iterationMs: number, starts: number[]): ExecutorEnv {
  const pool = Array.from({ length: vus }, (_, i) => ({ idInInstance: i + 1 }));
  const sleep = (ms: number, signal?: AbortSignal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
  return {
    now: () => performance.now() - t0,
    sleep,
    acquireVU: () => pool.pop() ?? null,
    releaseVU: (vu) => void pool.push(vu),
    initVU: async () => null,
    runIteration: async (_vu, hardStop) => {
      starts.push(performance.now() - t0);
      await sleep(iterationMs, hardStop);
      return !hardStop.aborted;
    },
    iterationEnd: () => performance.now() - t0,
    addActiveVUs: () => {},
    dropIterations: () => {},
    testSignal: new AbortController().signal,
    setProgress: () => {},
    warnOnce: () => {},
  };
}
