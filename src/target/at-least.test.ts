import assert from 'node:assert/strict';
import { test } from 'node:test';
import { atLeast, type SetTimer } from './at-least.js';

test('atLeast calls back only once its full delay has passed, also when the timer fires early', async () => {
  // A timer that fires after a fifth of what it was asked for: the worst case of an early timer.
  const early: SetTimer = (fn, ms) => setTimeout(fn, ms / 5);
  const took = await Promise.all(Array.from({ length: 10 }, () => new Promise<number>((resolve) => {
    const started = performance.now();
    atLeast(25, () => resolve(performance.now() - started), early);
  })));
  assert.ok(Math.min(...took) >= 25, `fastest after ${Math.min(...took).toFixed(3)} ms`);
});

test('atLeast can be cancelled, also between an early timer and the next', async () => {
  let called = 0;
  const cancel = atLeast(5, () => called++);
  cancel();
  const early: SetTimer = (fn, ms) => setTimeout(fn, ms / 5);
  const cancelLater = atLeast(30, () => called++, early);
  setTimeout(cancelLater, 15);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(called, 0);
});
