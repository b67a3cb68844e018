import type { ExecutionStep } from '../executor/types.js';

/** One scenario's VU needs: its start time and its planned VUs over time. */
export interface ScenarioRequirement {
  readonly startTime: number;
  readonly steps: readonly ExecutionStep[];
}

/**
 * The most VUs the test ever needs at once (k6's MaxPlannedVUs): each scenario's planned VU
 * steps are shifted by its startTime and summed over time, so scenarios that do not overlap
 * share VUs instead of each getting its own.
 */
export function maxConcurrentVUs(scenarios: readonly ScenarioRequirement[]): number {
  const events: Array<{ at: number; delta: number }> = [];
  for (const s of scenarios) {
    let previous = 0;
    for (const step of s.steps) {
      if (step.plannedVUs !== previous) events.push({ at: s.startTime + step.offsetMs, delta: step.plannedVUs - previous });
      previous = step.plannedVUs;
    }
    if (previous !== 0) events.push({ at: Number.POSITIVE_INFINITY, delta: -previous });
  }
  // At equal times, releases come before reservations: a scenario ending exactly when another starts hands its VUs over.
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let current = 0;
  let max = 0;
  for (const e of events) {
    current += e.delta;
    if (current > max) max = current;
  }
  return max;
}
