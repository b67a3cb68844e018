import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HerdError } from '../../errors/index.js';
import { createFakeTest, createFakeVu, type FakeTest } from '../k6-metrics/fake-vu.js';
import type { VuState } from '../vu-state.js';
import { clearVuTimers, createTimersModule, whenVuTimersIdle, type TimersApi } from './index.js';

function setup(): { test: FakeTest; vu: VuState; timers: TimersApi } {
  const test = createFakeTest();
  const vu = createFakeVu(test, 1, 'iteration');
  const timers = createTimersModule().instantiate(vu)['default'] as TimersApi;
  return { test, vu, timers };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('k6/timers', () => {
  it('runs timeouts in order of due time, equal delays in order of creation', async () => {
    const { vu, timers } = setup();
    const order: string[] = [];
    timers.setTimeout(() => order.push('a'), 30);
    timers.setTimeout(() => order.push('b'), 0);
    timers.setTimeout(() => order.push('c'), 10);
    timers.setTimeout(() => order.push('d'), 0);
    timers.setTimeout(() => order.push('e'), -5);
    await whenVuTimersIdle(vu);
    assert.deepEqual(order, ['b', 'd', 'e', 'c', 'a']);
  });

  it('numbers timers from 1 per VU and passes the extra arguments to the callback', async () => {
    const { vu, timers } = setup();
    const seen: unknown[] = [];
    const first = timers.setTimeout((x: unknown, y: unknown) => seen.push(x, y), 1, 'x', 2);
    const second = timers.setInterval(() => timers.clearInterval(second), 1);
    assert.equal(first, 1);
    assert.equal(second, 2);
    await whenVuTimersIdle(vu);
    assert.deepEqual(seen, ['x', 2]);
  });

  it('does not run a timeout cleared before it is due', async () => {
    const { vu, timers } = setup();
    let ran = false;
    const id = timers.setTimeout(() => (ran = true), 5);
    timers.clearTimeout(id);
    timers.clearTimeout(999); // unknown ids are ignored
    await whenVuTimersIdle(vu);
    await sleep(15);
    assert.equal(ran, false);
  });

  it('repeats an interval until the callback clears it', async () => {
    const { vu, timers } = setup();
    let runs = 0;
    const id = timers.setInterval(() => {
      runs++;
      if (runs === 3) timers.clearInterval(id);
    }, 2);
    await whenVuTimersIdle(vu);
    await sleep(10);
    assert.equal(runs, 3);
  });

  it('lets clearTimeout and clearInterval cancel either kind, as in k6', async () => {
    const { vu, timers } = setup();
    let runs = 0;
    const interval = timers.setInterval(() => runs++, 1);
    const timeout = timers.setTimeout(() => runs++, 1);
    timers.clearTimeout(interval);
    timers.clearInterval(timeout);
    await whenVuTimersIdle(vu);
    assert.equal(runs, 0);
  });

  it('logs a rejected async callback at error level instead of crashing', async () => {
    const { test, vu, timers } = setup();
    timers.setTimeout(async () => {
      await Promise.resolve();
      throw new Error('boom');
    }, 0);
    await whenVuTimersIdle(vu);
    assert.equal(test.logger.lines.length, 1);
    const line = test.logger.lines[0];
    assert.equal(line?.level, 'error');
    assert.match(line?.message ?? '', /^Uncaught \(in promise\) Error: boom/);
  });

  it('logs a callback that throws and keeps running the other timers', async () => {
    const { test, vu, timers } = setup();
    let after = false;
    timers.setTimeout(() => {
      throw new TypeError('bad');
    }, 0);
    timers.setTimeout(() => (after = true), 1);
    await whenVuTimersIdle(vu);
    assert.equal(after, true);
    assert.equal(test.logger.lines[0]?.level, 'error');
    assert.match(test.logger.lines[0]?.message ?? '', /^Uncaught TypeError: bad/);
  });

  it('waits for async callbacks before reporting the VU idle', async () => {
    const { vu, timers } = setup();
    let finished = false;
    timers.setTimeout(async () => {
      await sleep(10);
      finished = true;
    }, 0);
    await whenVuTimersIdle(vu);
    assert.equal(finished, true);
  });

  it('clearVuTimers cancels every pending timer of that VU only, logging k6 warnings when asked', async () => {
    const { test, vu, timers } = setup();
    const other = createFakeVu(test, 2, 'iteration');
    const otherTimers = createTimersModule().instantiate(other)['default'] as TimersApi;
    let ran = 0;
    timers.setTimeout(() => ran++, 5);
    timers.setInterval(() => ran++, 5);
    let otherRan = false;
    otherTimers.setTimeout(() => (otherRan = true), 1);
    assert.equal(clearVuTimers(vu, { logInterrupted: true }), 2);
    assert.equal(clearVuTimers(vu), 0);
    assert.deepEqual(
      test.logger.lines.map((l) => `${l.level} ${l.message}`),
      [
        'warn setTimeout 1 was stopped because the VU iteration was interrupted',
        'warn setInterval 2 was stopped because the VU iteration was interrupted',
      ],
    );
    await whenVuTimersIdle(vu);
    await whenVuTimersIdle(other);
    await sleep(10);
    assert.equal(ran, 0);
    assert.equal(otherRan, true);
  });

  it('clearVuTimers is a no-op for a VU that never used timers', () => {
    const test = createFakeTest();
    assert.equal(clearVuTimers(createFakeVu(test)), 0);
  });

  it('drops pending timers once the VU signal is aborted', async () => {
    const test = createFakeTest();
    const vu = createFakeVu(test, 1, 'iteration');
    const stop = new AbortController();
    vu.signal = stop.signal;
    const timers = createTimersModule().instantiate(vu)['default'] as TimersApi;
    let ran = false;
    timers.setTimeout(() => (ran = true), 1);
    stop.abort();
    await whenVuTimersIdle(vu);
    assert.equal(ran, false);
  });

  it('rejects a callback that is not a function with k6 message', () => {
    const { timers } = setup();
    assert.throws(
      () => timers.setTimeout('code', 1),
      (e: unknown) => e instanceof HerdError && e.message === "setTimeout's callback isn't a callable function",
    );
    assert.throws(() => timers.setInterval(undefined, 1), { message: "setInterval's callback isn't a callable function" });
  });
});
