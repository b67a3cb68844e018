import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseScenarios } from './registry.js';
import { fullSegment, segmentsOfSequence } from './segment.js';
import { SharedIterationsConfig } from './shared-iterations.js';
import { every, VirtualEnv } from './virtual-env.js';

function config(options: Record<string, unknown>): SharedIterationsConfig {
  const [c] = parseScenarios({ x: { executor: 'shared-iterations', ...options } });
  assert.ok(c instanceof SharedIterationsConfig);
  return c;
}

describe('shared-iterations', () => {
  it('10 iterations over 3 VUs run every index 0..9 exactly once, faster VUs taking more', async () => {
    const c = config({ vus: 3, iterations: 10 });
    const speeds: Record<number, number> = { 1: 100, 2: 250, 3: 400 };
    const env = new VirtualEnv(3, (vu) => speeds[vu] as number);
    await env.drive(c.newRuntime(fullSegment).run(env));
    assert.deepEqual(env.iterations.map((i) => i.iterationInScenario).sort((a, b) => a - b), [...Array(10).keys()]);
    const counts = env.countsPerVU();
    assert.ok((counts.get(1) as number) > (counts.get(3) as number));
    assert.deepEqual([env.dropped, env.active, env.progress.at(-1), env.pendingTimers], [0, 0, 1, 0]);
  });

  it('iterations not started by maxDuration are dropped', async () => {
    const c = config({ vus: 2, iterations: 100, maxDuration: '1s', gracefulStop: '0s' });
    const env = new VirtualEnv(2, every(300));
    const end = await env.drive(c.newRuntime(fullSegment).run(env));
    assert.equal(end, 1000);
    assert.equal(env.iterations.length, 8);
    assert.equal(env.iterations.filter((i) => !i.completed).length, 2);
    assert.equal(env.dropped, 92);
  });

  it('the instances of a sequence together run every iteration exactly once', async () => {
    const c = config({ vus: 3, iterations: 10 });
    const all: number[] = [];
    for (const segment of segmentsOfSequence('0,1/3,2/3,1')) {
      const plan = c.plan(segment);
      const env = new VirtualEnv(plan.maxVUs, every(50));
      await env.drive(c.newRuntime(segment).run(env));
      assert.equal(env.countsPerVU().size, plan.maxVUs);
      all.push(...env.iterations.map((i) => i.iterationInScenario));
    }
    assert.deepEqual(all.sort((a, b) => a - b), [...Array(10).keys()]);
  });
});
