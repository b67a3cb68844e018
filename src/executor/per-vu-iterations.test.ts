import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PerVUIterationsConfig } from './per-vu-iterations.js';
import { parseScenarios } from './registry.js';
import { fullSegment, segmentsOfSequence } from './segment.js';
import { every, VirtualEnv } from './virtual-env.js';

function config(options: Record<string, unknown>): PerVUIterationsConfig {
  const [c] = parseScenarios({ x: { executor: 'per-vu-iterations', ...options } });
  assert.ok(c instanceof PerVUIterationsConfig);
  return c;
}

describe('per-vu-iterations', () => {
  it('each VU runs exactly its iterations, numbered once each across the scenario', async () => {
    const c = config({ vus: 3, iterations: 4 });
    const env = new VirtualEnv(3, every(100));
    const end = await env.drive(c.newRuntime(fullSegment).run(env));
    assert.equal(end, 400);
    assert.deepEqual([...env.countsPerVU().values()], [4, 4, 4]);
    assert.ok(env.iterations.every((i) => i.completed));
    assert.deepEqual(env.iterations.map((i) => i.iterationInScenario).sort((a, b) => a - b), [...Array(12).keys()]);
    assert.deepEqual([env.active, Math.max(...env.activeLog.map(([, v]) => v)), env.dropped], [0, 3, 0]);
    assert.equal(env.progress.at(-1), 1);
    assert.equal(env.pendingTimers, 0);
  });

  it('the plan reserves the VUs until maxDuration plus gracefulStop', () => {
    assert.deepEqual(config({ vus: 3, iterations: 4, maxDuration: '1m', gracefulStop: '5s' }).plan(fullSegment), {
      preAllocatedVUs: 3,
      maxVUs: 3,
      maxDurationMs: 65_000,
      steps: [{ offsetMs: 0, plannedVUs: 3 }, { offsetMs: 65_000, plannedVUs: 0 }],
      hasWork: true,
    });
  });

  it('maxDuration stops new iterations, lets running ones finish, and drops the rest', async () => {
    const c = config({ vus: 2, iterations: 10, maxDuration: '1s', gracefulStop: '500ms' });
    const env = new VirtualEnv(2, every(300));
    const end = await env.drive(c.newRuntime(fullSegment).run(env));
    // Iterations start at 0, 300, 600 and 900 ms; the last ends at 1200, inside the graceful stop.
    assert.equal(end, 1200);
    assert.equal(env.iterations.length, 8);
    assert.ok(env.iterations.every((i) => i.completed));
    assert.equal(env.dropped, 12);
  });

  it('iterations still running after the graceful stop are interrupted', async () => {
    const c = config({ vus: 2, iterations: 10, maxDuration: '1s', gracefulStop: '200ms' });
    const env = new VirtualEnv(2, every(700));
    const end = await env.drive(c.newRuntime(fullSegment).run(env));
    assert.equal(end, 1200);
    assert.deepEqual(
      env.iterations.map((i) => [i.start, i.end, i.completed]),
      [[0, 700, true], [0, 700, true], [700, 1200, false], [700, 1200, false]],
    );
    assert.equal(env.dropped, 16);
    assert.equal(env.active, 0);
  });

  it('a segment runs its share of the VUs, each with all of its iterations', async () => {
    const [first, second] = segmentsOfSequence('0,1/2,1');
    const c = config({ vus: 3, iterations: 2 });
    assert.deepEqual([c.plan(first!).maxVUs, c.plan(second!).maxVUs], [2, 1]);
    const env = new VirtualEnv(2, every(10));
    await env.drive(c.newRuntime(first!).run(env));
    assert.equal(env.iterations.length, 4);
  });
});
