import assert from 'node:assert/strict';
import { test } from 'node:test';
import { abortableSleep, Sleeper } from './sleep.js';

test('sleep() waits at least its duration, though Node timers count whole milliseconds', async () => {
  // A timer is due a whole number of ms after the loop's clock, which drops the fraction of the
  // current ms: without a check it fires up to 1 ms early on a high-resolution clock.
  const sleeper = new Sleeper();
  const signal = new AbortController().signal;
  const short: number[] = [];
  for (let i = 0; i < 30; i++) {
    const start = performance.now();
    await (i % 3 === 2 ? abortableSleep(3, signal) : sleeper.sleep(3, signal));
    const slept = performance.now() - start;
    if (slept < 3) short.push(slept);
  }
  assert.deepEqual(short, [], 'no sleep was shorter than asked');
});

test('sleep() rejects with the reason as soon as its signal aborts, and the sleeper works again after', async () => {
  const sleeper = new Sleeper();
  const c = new AbortController();
  const pending = sleeper.sleep(10_000, c.signal);
  c.abort(new Error('hard stop'));
  await assert.rejects(pending, /hard stop/);
  const start = performance.now();
  await sleeper.sleep(5, new AbortController().signal);
  assert.ok(performance.now() - start >= 5);
});
