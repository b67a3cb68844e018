import type { Stage } from './ramping-steps.js';

/**
 * When the iterations of an arrival-rate scenario start, as pure functions of its options
 * (k6's constant-arrival-rate ticker and ramping-arrival-rate `cal`).
 *
 * The schedule is global: it numbers the iterations of the whole test 0, 1, 2, … and gives
 * each one its start offset from the scenario's start. An instance running a segment starts
 * only the iterations its (re-cut) segment owns, so N instances together start exactly the
 * iterations one instance would, at the same moments.
 *
 * Constant rate r per timeUnit u: iteration k starts at k·u/r, from 0 while that is before
 * the duration, so the scenario starts ceil(duration·r/u) iterations.
 *
 * Ramping rate: the rate moves linearly through the stages, and iteration k (0-based) starts
 * when the area under the rate curve, i.e. the number of iterations due so far, reaches k+1.
 * Within a stage of duration d going from `from` to `to` iterations per u, the count due t ms
 * into the stage is from·t/u + (to−from)·t²/(2·u·d); solving count = c gives
 * t = 2C / (B + √(B² + 4AC)) with A = to−from, B = 2·d·from, C = 2·u·c·d, which is the exact root
 * of the quadratic written so that it stays stable when A is 0 (constant stage) or negative
 * (ramp down). Counts are compared as integers (multiplied by 2u) so the number of iterations
 * of a stage edge is never lost to rounding: a schedule whose area is exactly 50 has 50
 * iterations, the last at the end of the stages.
 */

/** The global start times of an arrival-rate scenario. */
export interface ArrivalSchedule {
  /** Iterations in the whole schedule. */
  readonly total: number;
  /** ms after the scenario's start at which global iteration k (0-based, < total) starts. */
  startOf(k: number): number;
}

/** Iterations start every timeUnit/rate ms from 0 until `durationMs` (exclusive). */
export function constantSchedule(rate: number, timeUnitMs: number, durationMs: number): ArrivalSchedule {
  // total = ceil(duration·rate/timeUnit), corrected by exact products so 2000·20/1000 is 40, not 40.000001.
  const due = durationMs * rate;
  let total = Math.max(0, Math.ceil(due / timeUnitMs));
  while (total > 0 && (total - 1) * timeUnitMs >= due) total--;
  while (total * timeUnitMs < due) total++;
  return { total, startOf: (k) => (k * timeUnitMs) / rate };
}

/** One stage of a ramping schedule, with the iterations due before and after it, times 2u (integers). */
interface Span {
  readonly start: number;
  readonly duration: number;
  readonly from: number;
  readonly to: number;
  readonly dueBefore2u: number;
  readonly dueAfter2u: number;
}

/** Iterations follow the integral of a piecewise-linear rate (see above). */
export function rampingSchedule(startRate: number, timeUnitMs: number, stages: readonly Stage[]): ArrivalSchedule {
  const twoU = 2 * timeUnitMs;
  const spans: Span[] = [];
  let start = 0;
  let from = startRate;
  let due2u = 0;
  for (const { duration, target } of stages) {
    const after = due2u + duration * (from + target);
    spans.push({ start, duration, from, to: target, dueBefore2u: due2u, dueAfter2u: after });
    due2u = after;
    start += duration;
    from = target;
  }
  let total = Math.floor(due2u / twoU);
  while (total > 0 && total * twoU > due2u) total--;
  while ((total + 1) * twoU <= due2u) total++;

  return {
    total,
    startOf(k: number): number {
      const target2u = (k + 1) * twoU;
      // The first stage whose end has iterations due up to k+1 (binary search: stages only add).
      let lo = 0;
      let hi = spans.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((spans[mid] as Span).dueAfter2u >= target2u) hi = mid;
        else lo = mid + 1;
      }
      const s = spans[lo] as Span;
      // A, B and C of the paragraph above.
      const a = s.to - s.from;
      const b = 2 * s.duration * s.from;
      const c = (target2u - s.dueBefore2u) * s.duration;
      return s.start + (2 * c) / (b + Math.sqrt(Math.max(0, b * b + 4 * a * c)));
    },
  };
}
