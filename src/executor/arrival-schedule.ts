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

/** Iterations follow the integral of a piecewise-linear rate (see above). */
export function rampingSchedule(startRate: number, timeUnitMs: number, stages: readonly Stage[]): ArrivalSchedule {
  const twoU = 2 * timeUnitMs;
  // Per stage: its start, its start rate, and the iterations due at its end, times 2u.
  const spans: Array<{ start: number; duration: number; from: number; to: number; dueBefore2u: number; dueAfter2u: number }> = [];
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

  let cursor = 0;
  return {
    total,
    startOf(k: number): number {
      const target2u = (k + 1) * twoU;
      // Calls come in increasing k: walk forward from the last stage used.
      if (cursor >= spans.length || (spans[cursor] as (typeof spans)[number]).dueBefore2u >= target2u) cursor = 0;
      while (cursor < spans.length - 1 && (spans[cursor] as (typeof spans)[number]).dueAfter2u < target2u) cursor++;
      const s = spans[cursor] as (typeof spans)[number];
      // A, B and C of the paragraph above.
      const a = s.to - s.from;
      const b = 2 * s.duration * s.from;
      const c = (target2u - s.dueBefore2u) * s.duration;
      return s.start + (2 * c) / (b + Math.sqrt(Math.max(0, b * b + 4 * a * c)));
    },
  };
}
