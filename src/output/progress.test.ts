import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Progress, formatProgressDuration, progressHeader, renderProgressPlain, renderProgressLines, type ProgressSnapshot, type ProgressTimers } from './progress.js';

function snapshot(elapsedMs: number, progress = 1 / 6): ProgressSnapshot {
  return {
    elapsedMs,
    vus: 2,
    vusMax: 10,
    iterationsCompleted: 120,
    iterationsInterrupted: 0,
    scenarios: [
      { name: 'default', executor: 'constant-vus', progress, label: '02/10 VUs  00m05.0s/30s' },
      { name: 'api', executor: 'per-vu-iterations', progress: 1, label: '10 VUs  3/3 iters, 1 per VU' },
    ],
  };
}

/** Timers driven by hand: `tick()` runs the interval callback. */
function fakeTimers(): ProgressTimers & { tick(): void; cleared: boolean; unrefed: boolean; ms: number } {
  let fn: (() => void) | undefined;
  const t = {
    cleared: false,
    unrefed: false,
    ms: 0,
    setInterval(f: () => void, ms: number) {
      fn = f;
      t.ms = ms;
      return { unref: () => (t.unrefed = true) };
    },
    clearInterval() {
      t.cleared = true;
      fn = undefined;
    },
    tick() {
      fn?.();
    },
  };
  return t;
}

test('elapsed time is printed as k6 does, to the tenth of a second', () => {
  assert.equal(formatProgressDuration(0), '00m00.0s');
  assert.equal(formatProgressDuration(5000), '00m05.0s');
  assert.equal(formatProgressDuration(65_432), '01m05.4s');
  assert.equal(formatProgressDuration(3_725_099), '1h02m05.0s');
});

test('the header pads the VU count to the width of the maximum', () => {
  assert.equal(progressHeader(snapshot(5000)), 'running (00m05.0s), 02/10 VUs, 120 complete and 0 interrupted iterations');
});

test('the plain frame has the header and one percentage bar per scenario', () => {
  assert.equal(
    renderProgressPlain(snapshot(5000)),
    'running (00m05.0s), 02/10 VUs, 120 complete and 0 interrupted iterations\n' +
      'default   [ 17% ] 02/10 VUs  00m05.0s/30s\n' +
      'api     ✓ [100% ] 10 VUs  3/3 iters, 1 per VU',
  );
});

test('the terminal bar fills with = and points with >', () => {
  const [, line] = renderProgressLines(snapshot(5000, 0.25), true);
  assert.equal(line, `default   [${'='.repeat(10)}>${'-'.repeat(29)}] 02/10 VUs  00m05.0s/30s`);
});

test('off a terminal each tick prints a plain frame read from the source', () => {
  const timers = fakeTimers();
  const written: string[] = [];
  let now = 5000;
  const p = new Progress({ tty: false, write: (s) => written.push(s), timers });
  p.start(() => snapshot(now));
  assert.equal(timers.ms, 1000);
  assert.equal(timers.unrefed, true);
  assert.equal(written.length, 0);
  timers.tick();
  now = 7500;
  timers.tick();
  assert.equal(written.length, 2);
  assert.ok((written[0] as string).startsWith('running (00m05.0s), 02/10 VUs'));
  assert.ok((written[1] as string).startsWith('running (00m07.5s), 02/10 VUs'));
  assert.ok((written[1] as string).endsWith('\n'));
});

test('stop clears the timer and prints the final frame once', () => {
  const timers = fakeTimers();
  const written: string[] = [];
  const p = new Progress({ tty: false, write: (s) => written.push(s), timers });
  p.start(() => snapshot(1000));
  p.stop(snapshot(30_000, 1));
  assert.equal(timers.cleared, true);
  timers.tick();
  assert.deepEqual(written, [
    'running (00m30.0s), 02/10 VUs, 120 complete and 0 interrupted iterations\n' +
      'default ✓ [100% ] 02/10 VUs  00m05.0s/30s\n' +
      'api     ✓ [100% ] 10 VUs  3/3 iters, 1 per VU\n',
  ]);
});

test('on a terminal frames clear each line and move back up, except the final one', () => {
  const timers = fakeTimers();
  const written: string[] = [];
  const p = new Progress({ tty: true, write: (s) => written.push(s), timers });
  p.start(() => snapshot(5000));
  assert.equal(timers.ms, 150);
  timers.tick();
  const frame = written[0] as string;
  assert.equal(frame.split('\x1b[K\n').length, 4);
  assert.ok(frame.endsWith('\r\x1b[3A'));
  p.stop(snapshot(6000));
  assert.ok((written[1] as string).endsWith('\x1b[K\n'));
  assert.doesNotMatch(written[1] as string, /\x1b\[\d+A/);
});
