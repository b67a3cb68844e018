import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConstantVUsConfig } from './constant-vus.js';
import { parseScenarios } from './registry.js';
import { fullSegment } from './segment.js';
import type { ExecutorEnv } from './types.js';
import { every, VirtualEnv } from './virtual-env.js';

function config(options: Record<string, unknown>): ConstantVUsConfig {
  const [c] = parseScenarios({ x: { executor: 'constant-vus', ...options } });
  assert.ok(c instanceof ConstantVUsConfig);
  return c;
}

describe('constant-vus', () => {
  it('VUs loop for the duration and finish their last iteration within gracefulStop', async () => {
    const c = config({ vus: 2, duration: '1s' });
    const env = new VirtualEnv(2, every(300));
    const end = await env.drive(c.newRuntime(fullSegment).run(env));
    assert.equal(end, 1200);
    assert.equal(env.iterations.length, 8);
    assert.ok(env.iterations.every((i) => i.completed));
    // Each iteration starts at the time the loop has (the previous one's end), not a later read.
    assert.ok(env.iterations.every((i) => i.startedAt === i.start));
    assert.deepEqual(env.activeLog, [[0, 0], [0, 2], [1200, 1], [1200, 0]]);
    assert.deepEqual([env.progress.at(-1), env.pendingTimers], [1, 0]);
  });

  it('the graceful stop interrupts iterations that outlast it', async () => {
    const c = config({ vus: 1, duration: '1s', gracefulStop: '500ms' });
    const env = new VirtualEnv(1, every(2000));
    const end = await env.drive(c.newRuntime(fullSegment).run(env));
    assert.equal(end, 1500);
    assert.deepEqual(env.iterations.map((i) => [i.start, i.end, i.completed]), [[0, 1500, false]]);
  });

  it('a zero graceful stop interrupts at the end of the duration', async () => {
    const c = config({ vus: 3, duration: '2s', gracefulStop: 0 });
    const env = new VirtualEnv(3, every(700));
    const end = await env.drive(c.newRuntime(fullSegment).run(env));
    assert.equal(end, 2000);
    assert.equal(env.iterations.filter((i) => i.completed).length, 6);
    assert.equal(env.iterations.filter((i) => !i.completed).length, 3);
  });

  it('runs on the real clock too', async () => {
    // Built directly: the schema's 1s minimum would make this test slow.
    const c = new ConstantVUsConfig('x', { executor: 'constant-vus', vus: 2, duration: 200, startTime: 0, gracefulStop: 100, exec: 'default', env: {}, tags: {} });
    const controller = new AbortController();
    let iterations = 0;
    const t0 = performance.now();
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
    const env: ExecutorEnv = {
      now: () => performance.now() - t0,
      sleep,
      acquireVU: () => ({ idInInstance: 1 }),
      releaseVU: () => {},
      initVU: async () => null,
      runIteration: async (_vu, hardStop) => {
        await sleep(30, hardStop);
        iterations++;
        return !hardStop.aborted;
      },
      iterationEnd: () => performance.now() - t0,
      addActiveVUs: () => {},
      dropIterations: () => {},
      testSignal: controller.signal,
      setProgress: () => {},
      warnOnce: () => {},
    };
    await c.newRuntime(fullSegment).run(env);
    const elapsed = performance.now() - t0;
    assert.ok(elapsed >= 200 && elapsed < 290, `took ${elapsed}ms`);
    assert.ok(iterations >= 10 && iterations <= 16, `ran ${iterations} iterations`);
  });
});
