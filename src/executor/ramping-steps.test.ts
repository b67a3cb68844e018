import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gracefulSteps, rawSteps, type Stage } from './ramping-steps.js';
import { fullSegment, parseExecutionSegment, segmentsOfSequence } from './segment.js';
import type { ExecutionStep } from './types.js';

const s = (seconds: number, target: number): Stage => ({ duration: seconds * 1000, target });
/** Steps written as [seconds, VUs] pairs. */
const steps = (...pairs: Array<[number, number]>): ExecutionStep[] => pairs.map(([t, v]) => ({ offsetMs: t * 1000, plannedVUs: v }));

// k6's reference example (ramping_vus_test.go): 4 → 6 → 1 → 5 → 1 → 4, hold, jump to 1, hold.
const EXAMPLE = [s(2, 6), s(5, 1), s(4, 5), s(4, 1), s(3, 4), s(2, 4), s(0, 1), s(3, 1)];
const EXAMPLE_RAW = steps(
  [0, 4], [1, 5], [2, 6], [3, 5], [4, 4], [5, 3], [6, 2], [7, 1], [8, 2], [9, 3], [10, 4],
  [11, 5], [12, 4], [13, 3], [14, 2], [15, 1], [16, 2], [17, 3], [18, 4], [20, 1],
);

/** The VUs a curve plans at time t (after every step at t). */
function at(curve: readonly ExecutionStep[], t: number): number {
  let v = 0;
  for (const step of curve) if (step.offsetMs <= t) v = step.plannedVUs;
  return v;
}

describe('ramping-vus curves', () => {
  it('the raw curve starts and stops VUs where the linear target crosses integers', () => {
    assert.deepEqual(rawSteps(4, EXAMPLE, fullSegment, false), EXAMPLE_RAW);
    assert.deepEqual(rawSteps(4, EXAMPLE, fullSegment, true), [...EXAMPLE_RAW, ...steps([23, 0])]);
  });

  it('graceful ramp-down keeps ramped-down VUs reserved, cut short by the executor end', () => {
    const plan = (gracefulRampDown: number, gracefulStop: number) => gracefulSteps(4, EXAMPLE, gracefulRampDown * 1000, gracefulStop * 1000, fullSegment);
    assert.deepEqual(plan(30, 30), steps([0, 4], [1, 5], [2, 6], [33, 5], [42, 4], [50, 1], [53, 0]));
    assert.deepEqual(plan(30, 80), steps([0, 4], [1, 5], [2, 6], [33, 5], [42, 4], [50, 1], [103, 0]));
    assert.deepEqual(plan(30, 3), steps([0, 4], [1, 5], [2, 6], [26, 0]));
    assert.deepEqual(plan(30, 0), steps([0, 4], [1, 5], [2, 6], [23, 0]));
    assert.deepEqual(plan(0, 0), rawSteps(4, EXAMPLE, fullSegment, true));
  });

  it('a third of the test ramps its striped share of the VUs', () => {
    const third = parseExecutionSegment('0:1/3');
    const raw = steps([0, 1], [1, 2], [4, 1], [7, 0], [8, 1], [11, 2], [12, 1], [15, 0], [16, 1], [20, 0]);
    assert.deepEqual(rawSteps(4, EXAMPLE, third, false), raw);
    assert.deepEqual(rawSteps(4, EXAMPLE, third, true), raw);
    assert.deepEqual(gracefulSteps(4, EXAMPLE, 30_000, 30_000, third), steps([0, 1], [1, 2], [42, 1], [50, 0]));
    assert.deepEqual(gracefulSteps(4, EXAMPLE, 30_000, 3_000, third), steps([0, 1], [1, 2], [26, 0]));
  });

  it('each third of a three-way sequence gets k6s curve', () => {
    const stages = [...EXAMPLE, s(0, 5), s(3, 5), s(0, 0), s(2, 2), s(2, 0), s(4, 4)];
    const [a, b, c] = segmentsOfSequence('0,1/3,2/3,1');
    assert.deepEqual(
      rawSteps(4, stages, a!, false),
      steps([0, 2], [5, 1], [10, 2], [13, 1], [18, 2], [20, 1], [23, 2], [26, 0], [27, 1], [30, 0], [31, 1], [34, 2]),
    );
    assert.deepEqual(
      rawSteps(4, stages, b!, false),
      steps([0, 1], [1, 2], [4, 1], [7, 0], [8, 1], [11, 2], [12, 1], [15, 0], [16, 1], [20, 0], [23, 2], [26, 0], [28, 1], [29, 0], [32, 1]),
    );
    assert.deepEqual(
      rawSteps(4, stages, c!, false),
      steps([0, 1], [2, 2], [3, 1], [6, 0], [9, 1], [14, 0], [17, 1], [20, 0], [23, 1], [26, 0], [33, 1]),
    );
  });

  it('the curves of all segments add up to the whole curve at every moment', () => {
    const stages = [s(7, 13), s(3, 2), s(0, 9), s(11, 0), s(5, 17)];
    const whole = rawSteps(3, stages, fullSegment, true);
    for (const sequence of ['0,1/2,1', '0,1/3,2/3,1', '0,1/5,1/2,7/10,1', '0,3/7,1']) {
      const parts = segmentsOfSequence(sequence).map((p) => rawSteps(3, stages, p, true));
      for (let t = 0; t <= 26_000; t += 250) {
        assert.equal(parts.reduce((sum, curve) => sum + at(curve, t), 0), at(whole, t), `${sequence} at ${t}ms`);
      }
    }
  });
});
