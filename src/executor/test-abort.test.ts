import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseScenarios } from './registry.js';
import { fullSegment } from './segment.js';
import { every, VirtualEnv } from './virtual-env.js';

const SCENARIOS: Record<string, Record<string, unknown>> = {
  perVU: { executor: 'per-vu-iterations', vus: 3, iterations: 100 },
  shared: { executor: 'shared-iterations', vus: 3, iterations: 100 },
  constant: { executor: 'constant-vus', vus: 3, duration: '1m' },
  ramping: { executor: 'ramping-vus', startVUs: 1, stages: [{ duration: '10s', target: 5 }, { duration: '10s', target: 0 }] },
  arrivals: { executor: 'constant-arrival-rate', rate: 2, duration: '1m', preAllocatedVUs: 3 },
  rampingArrivals: { executor: 'ramping-arrival-rate', startRate: 1, stages: [{ duration: '10s', target: 2 }], preAllocatedVUs: 3 },
};

describe('aborting the test', () => {
  for (const config of parseScenarios(SCENARIOS)) {
    it(`ends a running ${config.type} scenario at once, interrupting its iterations and dropping nothing`, async () => {
      const env = new VirtualEnv(config.plan(fullSegment).maxVUs, every(1000));
      env.abortTestAt(2500);
      const end = await env.drive(config.newRuntime(fullSegment).run(env));
      assert.equal(end, 2500);
      assert.ok(env.iterations.some((i) => !i.completed && i.end === 2500));
      assert.deepEqual([env.active, env.dropped, env.pendingTimers], [0, 0, 0]);
    });

    it(`does not start a ${config.type} scenario when the test is already aborted`, async () => {
      const env = new VirtualEnv(config.plan(fullSegment).maxVUs, every(1000));
      env.abortTestAt(0);
      await env.drive(config.newRuntime(fullSegment).run(env));
      assert.equal(env.iterations.length, 0);
    });
  }

  it('a pool without the planned VUs is an internal error, and no VU is left taken', async () => {
    const [config] = parseScenarios({ x: { executor: 'constant-vus', vus: 3, duration: '1s' } });
    const env = new VirtualEnv(2, every(100));
    await assert.rejects(env.drive(config!.newRuntime(fullSegment).run(env)), {
      code: 'internal',
      message: 'scenario "x" could not get a VU from the pool although its plan reserved one',
    });
    assert.equal(env.acquireVU() !== null && env.acquireVU() !== null, true);
  });

  it('a ramping scenario whose pool runs dry stops every VU and reports it', async () => {
    const [config] = parseScenarios({ r: { executor: 'ramping-vus', startVUs: 1, stages: [{ duration: '2s', target: 3 }] } });
    const env = new VirtualEnv(2, every(100));
    await assert.rejects(env.drive(config!.newRuntime(fullSegment).run(env)), { code: 'internal' });
    assert.deepEqual([env.active, env.pendingTimers], [0, 0]);
  });
});
