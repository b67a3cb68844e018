import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HerdError } from '../errors/index.js';
import { random, randomSequence } from './random-sequence.js';
import { RampingArrivalRateConfig } from './ramping-arrival-rate.js';
import { parseScenarios } from './registry.js';
import { fullSegment, segmentsOfSequence } from './segment.js';
import { every, VirtualEnv } from './virtual-env.js';

function config(options: Record<string, unknown>): RampingArrivalRateConfig {
  const [c] = parseScenarios({ x: { executor: 'ramping-arrival-rate', ...options } });
  assert.ok(c instanceof RampingArrivalRateConfig);
  return c;
}

/** The lines of the HerdError that parseScenarios throws for one ramping-arrival-rate scenario. */
function problemsOf(options: Record<string, unknown>): string[] {
  try {
    parseScenarios({ x: { executor: 'ramping-arrival-rate', ...options } });
  } catch (e) {
    assert.ok(e instanceof HerdError);
    return e.message.split('\n');
  }
  assert.fail('expected the scenario to be rejected');
}

/** Asserts two lists of ms are equal to within a nanosecond (they come from square roots). */
function assertTimes(actual: readonly number[], expected: readonly number[]): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((t, i) => assert.ok(Math.abs(t - (expected[i] as number)) < 1e-6, `start ${i + 1}: ${t} vs ${expected[i]}`));
}

const range = (n: number, f: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => f(i));

describe('ramping-arrival-rate', () => {
  it('a ramp from 0 to 10/s over 10s starts 50 iterations, the i-th at √(2i/slope)', async () => {
    const c = config({ startRate: 0, stages: [{ duration: '10s', target: 10 }], preAllocatedVUs: 2 });
    const env = new VirtualEnv(2, every(10));
    const end = await env.drive(c.newRuntime(fullSegment).run(env));
    // slope = 10 iterations/s over 10 s = 1 iteration/s²; the count due by t is t²/2.
    assertTimes(env.iterations.map((i) => i.start), range(50, (i) => 1000 * Math.sqrt(2 * (i + 1))));
    assert.equal(env.iterations.at(-1)?.start, 10_000);
    assert.deepEqual(env.iterations.map((i) => i.iterationInScenario), range(50, (i) => i));
    assert.deepEqual([end, env.dropped, env.pendingTimers, env.progress.at(-1)], [10_010, 0, 0, 1]);
  });

  it('a steady stage and a ramp down follow the integral of the rate exactly', async () => {
    const c = config({ startRate: 10, stages: [{ duration: '2s', target: 10 }, { duration: '2s', target: 0 }], preAllocatedVUs: 1 });
    const env = new VirtualEnv(1, every(1));
    await env.drive(c.newRuntime(fullSegment).run(env));
    // 10/s for 2 s: one every 100 ms. Then 10t − 2.5t² are due t s into the ramp down.
    const steady = range(20, (i) => (i + 1) * 100);
    const down = range(10, (i) => 2000 + 1000 * ((10 - Math.sqrt(100 - 10 * (i + 1))) / 5));
    assertTimes(env.iterations.map((i) => i.start), [...steady, ...down]);
    assert.equal(env.iterations.at(-1)?.start, 4000);
  });

  it('a timeUnit of 1m counts rates per minute', async () => {
    const c = config({ timeUnit: '1m', stages: [{ duration: '1m', target: 60 }], preAllocatedVUs: 1 });
    const env = new VirtualEnv(1, every(10));
    await env.drive(c.newRuntime(fullSegment).run(env));
    // 0 → 1 iteration/s over 60 s: slope 1/60 per s², 30 iterations, the i-th at √(120i) s.
    assertTimes(env.iterations.map((i) => i.start), range(30, (i) => 1000 * Math.sqrt(120 * (i + 1))));
    assert.equal(c.description(fullSegment), 'Up to 1.00 iterations/s for 1m0s over 1 stages (maxVUs: 1, gracefulStop: 30s)');
  });

  it('a stage of zero duration jumps to its target', async () => {
    const c = config({ stages: [{ duration: 0, target: 5 }, { duration: '1s', target: 5 }], preAllocatedVUs: 1 });
    const env = new VirtualEnv(1, every(1));
    await env.drive(c.newRuntime(fullSegment).run(env));
    assert.deepEqual(env.iterations.map((i) => i.start), [200, 400, 600, 800, 1000]);
  });

  it('drops iterations beyond maxVUs with one warning, like constant-arrival-rate', async () => {
    const c = config({ startRate: 10, stages: [{ duration: '1s', target: 10 }], preAllocatedVUs: 1, maxVUs: 2 });
    const env = new VirtualEnv(1, every(250));
    env.initializable = 1;
    await env.drive(c.newRuntime(fullSegment).run(env));
    // Starts at 100..1000; VU 2 is initialized when the one at 200 finds VU 1 busy.
    assert.deepEqual(env.iterations.map((i) => [i.start, i.vu]), [[100, 1], [300, 2], [400, 1], [600, 2], [700, 1], [900, 2], [1000, 1]]);
    assert.deepEqual([env.dropped, env.warnings], [3, ['Insufficient VUs, reached 2 active VUs and cannot initialize more']]);
  });

  it('plans like k6 and has no work when every rate is 0', () => {
    const c = config({ startRate: 5, stages: [{ duration: '30s', target: 50 }, { duration: '30s', target: 0 }], preAllocatedVUs: 10, maxVUs: 40 });
    assert.deepEqual(c.plan(fullSegment), {
      preAllocatedVUs: 10,
      maxVUs: 40,
      maxDurationMs: 90_000,
      steps: [{ offsetMs: 0, plannedVUs: 10 }, { offsetMs: 90_000, plannedVUs: 0 }],
      hasWork: true,
    });
    assert.equal(c.description(fullSegment), 'Up to 50.00 iterations/s for 1m0s over 2 stages (maxVUs: 10-40, gracefulStop: 30s)');
    assert.equal(config({ stages: [{ duration: '10s', target: 0 }], preAllocatedVUs: 3 }).plan(fullSegment).hasWork, false);
  });

  it('reports every problem at once, in the folder’s sentences', () => {
    assert.deepEqual(problemsOf({ startRate: -1, timeUnit: 'soon', stages: [{ duration: '1s', target: -2, x: 1 }], maxVUs: 1, preAllocatedVUs: 2 }), [
      'scenarios.x.startRate must be at least 0, got -1',
      'scenarios.x.timeUnit must be a duration like "30s", "1m30s" or "500ms", got "soon"',
      'scenarios.x.stages[0].target must be at least 0, got -2',
      'scenarios.x.stages[0].x must be one of the stage options (duration, target), got an unknown key',
      'scenarios.x.maxVUs must be at least preAllocatedVUs (2), got 1',
    ]);
    assert.deepEqual(problemsOf({}), [
      'scenarios.x.stages must be a list of stages like [{ duration: "30s", target: 10 }], got nothing',
      'scenarios.x.preAllocatedVUs must be an integer, got nothing',
    ]);
  });

  it('the instances of any sequence together start exactly the iterations of the whole test, at the same times', async () => {
    const rand = random(11);
    for (let trial = 0; trial < 20; trial++) {
      const stages = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => ({ duration: 500 + Math.floor(rand() * 2000), target: Math.floor(rand() * 40) }));
      const c = config({ startRate: Math.floor(rand() * 20), stages, preAllocatedVUs: 6 });
      const whole = new VirtualEnv(6, every(1));
      await whole.drive(c.newRuntime(fullSegment).run(whole));
      const expected = whole.iterations.map((i) => [i.iterationInScenario, i.start]);
      assert.equal(expected.length, c.schedule.total);
      const sequence = randomSequence(rand);
      const seen: number[][] = [];
      for (const segment of segmentsOfSequence(sequence)) {
        const plan = c.plan(segment);
        if (!plan.hasWork) continue;
        const env = new VirtualEnv(plan.preAllocatedVUs, every(1));
        await env.drive(c.newRuntime(segment).run(env));
        assert.equal(env.dropped, 0, sequence);
        seen.push(...env.iterations.map((i) => [i.iterationInScenario, i.start]));
      }
      // Virtual time adds up sleeps, so start times may differ from the whole run's in the last bit.
      seen.sort((x, y) => (x[0] as number) - (y[0] as number));
      const what = `${sequence} ${JSON.stringify(stages)}`;
      assert.deepEqual(seen.map((x) => x[0]), expected.map((x) => x[0]), what);
      seen.forEach((x, i) => assert.ok(Math.abs((x[1] as number) - (expected[i]?.[1] as number)) < 1e-6, what));
    }
  });
});
