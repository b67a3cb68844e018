import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RampingVUsConfig } from './ramping-vus.js';
import { parseScenarios } from './registry.js';
import { fullSegment, segmentsOfSequence } from './segment.js';
import { every, VirtualEnv } from './virtual-env.js';

function config(options: Record<string, unknown>): RampingVUsConfig {
  const [c] = parseScenarios({ x: { executor: 'ramping-vus', ...options } });
  assert.ok(c instanceof RampingVUsConfig);
  return c;
}

const UP_AND_DOWN = { startVUs: 0, stages: [{ duration: '10s', target: 10 }, { duration: '10s', target: 0 }] };

describe('ramping-vus', () => {
  it('the active VU count follows the stages, one VU per integer crossed', async () => {
    const c = config(UP_AND_DOWN);
    const env = new VirtualEnv(10, every(100));
    const end = await env.drive(c.newRuntime(fullSegment).run(env));
    // Sampled mid-second: k VUs during second k up to 10, then one fewer each second.
    const sampled = Array.from({ length: 21 }, (_, k) => env.activeAt(k * 1000 + 500));
    assert.deepEqual(sampled, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    assert.equal(end, 20_000);
    assert.deepEqual([env.active, env.pendingTimers, env.progress.at(-1)], [0, 0, 1]);
  });

  it('vus_max is the largest of startVUs and the stage targets', () => {
    const c = config({ startVUs: 12, stages: [{ duration: '5s', target: 3 }, { duration: '5s', target: 8 }] });
    const plan = c.plan(fullSegment);
    assert.deepEqual([plan.maxVUs, plan.preAllocatedVUs, plan.hasWork], [12, 12, true]);
    assert.equal(config(UP_AND_DOWN).plan(fullSegment).maxVUs, 10);
  });

  it('a ramped-down VU finishes its iteration within gracefulRampDown', async () => {
    const c = config({ startVUs: 2, stages: [{ duration: '1s', target: 2 }, { duration: '1s', target: 0 }], gracefulRampDown: '10s' });
    const env = new VirtualEnv(2, every(1400));
    const end = await env.drive(c.newRuntime(fullSegment).run(env));
    assert.equal(end, 2800);
    assert.deepEqual(
      env.iterations.map((i) => [i.vu, i.start, i.end, i.completed]),
      [[1, 0, 1400, true], [2, 0, 1400, true], [1, 1400, 2800, true], [2, 1400, 2800, true]],
    );
  });

  it('an iteration outlasting gracefulRampDown is interrupted', async () => {
    const c = config({ startVUs: 2, stages: [{ duration: '1s', target: 2 }, { duration: '1s', target: 0 }], gracefulRampDown: '500ms' });
    assert.deepEqual(c.gracefulSteps(fullSegment), [
      { offsetMs: 0, plannedVUs: 2 },
      { offsetMs: 2000, plannedVUs: 1 },
      { offsetMs: 2500, plannedVUs: 0 },
    ]);
    const env = new VirtualEnv(2, every(1400));
    const end = await env.drive(c.newRuntime(fullSegment).run(env));
    assert.equal(end, 2500);
    // The second VU was ramped down at 1.5s and cut at 2s; the first at 2s and cut at 2.5s.
    assert.deepEqual(
      env.iterations.filter((i) => !i.completed).map((i) => [i.vu, i.end]),
      [[1, 2500], [2, 2000]],
    );
  });

  it('a VU wanted again before its iteration ended keeps looping without being given back', async () => {
    const c = config({
      startVUs: 1,
      stages: [{ duration: '1s', target: 0 }, { duration: '1s', target: 1 }, { duration: '1s', target: 1 }],
    });
    const env = new VirtualEnv(1, every(2500));
    const end = await env.drive(c.newRuntime(fullSegment).run(env));
    assert.equal(end, 5000);
    assert.deepEqual(env.activeLog, [[0, 0], [0, 1], [5000, 0]]);
    assert.deepEqual(env.iterations.map((i) => [i.start, i.completed]), [[0, true], [2500, true]]);
  });

  it('the instances of a sequence together follow the curve of the whole test', async () => {
    const c = config({ ...UP_AND_DOWN, gracefulRampDown: '0s' });
    const runs = await Promise.all(
      segmentsOfSequence('0,1/3,2/3,1').map(async (segment) => {
        const env = new VirtualEnv(c.plan(segment).maxVUs, every(10));
        await env.drive(c.newRuntime(segment).run(env));
        return env;
      }),
    );
    const sampled = Array.from({ length: 21 }, (_, k) => runs.reduce((sum, env) => sum + env.activeAt(k * 1000 + 500), 0));
    assert.deepEqual(sampled, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    assert.deepEqual(runs.map((env) => Math.max(...env.activeLog.map(([, v]) => v))), [4, 3, 3]);
  });
});
