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

/** Blocks the event loop for `ms` (so that timers expire together, as after a collection). */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

test('VUs whose sleeps ended together resume a few per event-loop turn, with I/O and other callbacks in between', async () => {
  const signal = new AbortController().signal;
  const resumed: string[] = [];
  const sleeps = Array.from({ length: 100 }, (_, i) => new Sleeper().sleep(5, signal).then(() => { resumed.push(`vu ${i}`); }));
  // A 1 ms timer, due before the sleeps in the same timers phase, queues the marker: it runs in
  // that turn's check phase, after every expired timer and the poll phase.
  const turn = new Promise<void>((resolve) => setTimeout(() => setImmediate(() => { resumed.push('turn'); resolve(); }), 1));
  block(20);
  await Promise.all([...sleeps, turn]);
  const before = resumed.indexOf('turn');
  assert.ok(before >= 1 && before <= 32, `at most 32 VUs resumed in the turn their timers fired, got ${before}`);
  assert.equal(resumed.length, 101, 'every sleep ended');
  assert.deepEqual(resumed.filter((x) => x !== 'turn'), Array.from({ length: 100 }, (_, i) => `vu ${i}`), 'in the order their timers fired');
});

test('a sleep waiting in the resume queue rejects at once when its signal aborts, and never resumes', async () => {
  const c = new AbortController();
  const outcomes = Array.from({ length: 100 }, () => new Sleeper().sleep(5, c.signal).then(() => 'slept', (e: Error) => e.message));
  setTimeout(() => setImmediate(() => c.abort(new Error('hard stop'))), 1);
  block(20);
  const results = await Promise.all(outcomes);
  const slept = results.filter((r) => r === 'slept').length;
  assert.ok(slept >= 1 && slept <= 32, `only the VUs resumed in the first turn slept to the end, got ${slept}`);
  assert.equal(results.filter((r) => r === 'hard stop').length, 100 - slept);
});
