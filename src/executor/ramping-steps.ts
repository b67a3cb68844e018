import type { ExecutionSegment, ExecutionStep } from './types.js';

/**
 * The VU curve of ramping-vus (k6's getRawExecutionSteps and reserveVUsForGracefulRampDowns),
 * as pure functions of the stages and the segment.
 *
 * Raw steps: the number of VUs that should be *looping* at each moment. Between a stage's start
 * and end the target moves linearly from the previous target to the stage's; the n-th VU of the
 * whole test starts at the moment the line reaches n on the way up, and stops at the moment it
 * reaches n-1 on the way down (so a VU is never stopped before it must be). A segment takes the
 * VUs its striped index owns, so the curves of all segments of a sequence add up to the curve of
 * the whole test at every moment. A stage of duration 0 jumps at once.
 *
 * Graceful steps: the VUs to *reserve*, which is what the engine plans the pool with and what
 * the runtime hard-stops by. A VU ramped down may finish its iteration for gracefulRampDown, so
 * on every downward slope the reservation keeps the previous level until gracefulRampDown after
 * the drop, unless the curve climbs back to that level within the window (then the reserved VUs
 * are simply reused). Nothing is reserved past the executor's end (stages + gracefulStop), where
 * a final step of 0 VUs ends everything.
 */

/** One stage after parsing. */
export interface Stage {
  /** ms the stage lasts. */
  readonly duration: number;
  /** VUs at the end of the stage, for the whole test. */
  readonly target: number;
}

/** The looping-VU curve; with `zeroEnd`, a final step of 0 VUs at the end of the stages is added if needed. */
export function rawSteps(startVUs: number, stages: readonly Stage[], segment: ExecutionSegment, zeroEnd: boolean): ExecutionStep[] {
  const index = segment.newIndex();
  index.goTo(startVUs);
  const steps: ExecutionStep[] = [{ offsetMs: 0, plannedVUs: index.scaled }];
  const add = (offsetMs: number, plannedVUs: number): void => {
    if ((steps[steps.length - 1] as ExecutionStep).plannedVUs !== plannedVUs) steps.push({ offsetMs, plannedVUs });
  };
  let from = startVUs;
  let end = 0;
  for (const { duration, target } of stages) {
    end += duration;
    const diff = target - from;
    if (diff === 0) continue;
    if (duration === 0) {
      index.goTo(target);
      add(end, index.scaled);
    } else if (index.unscaled > target) {
      // Going down: the VU at global position u stops when the line reaches u - 1.
      for (; index.unscaled > target; index.prev()) {
        add(end - (duration * (target - index.unscaled + 1)) / diff, index.scaled - 1);
      }
    } else {
      // Going up: the VU at global position u starts when the line reaches u.
      for (; index.unscaled <= target; index.next()) {
        add(end - (duration * (target - index.unscaled)) / diff, index.scaled);
      }
    }
    from = target;
  }
  if (zeroEnd && (steps[steps.length - 1] as ExecutionStep).plannedVUs !== 0) steps.push({ offsetMs: end, plannedVUs: 0 });
  return steps;
}

/** Raises the raw curve so that ramped-down VUs stay reserved for gracefulRampDown (see above). */
function reserveForRampDowns(raw: readonly ExecutionStep[], gracefulRampDown: number, endOffset: number): ExecutionStep[] {
  const out: ExecutionStep[] = [];
  let level = 0;
  // Where the last downward slope seen so far ends: later look-aheads start there, because
  // every step on a slope is in the shadow of the ones before it.
  let slopeEnd = 0;
  for (let i = 0; i < raw.length; i++) {
    const step = raw[i] as ExecutionStep;
    if (i === 0 || step.plannedVUs > level) {
      out.push(step);
      level = step.plannedVUs;
      continue;
    }
    if (step.plannedVUs === level) continue;

    const deadline = step.offsetMs + gracefulRampDown;
    let climbsBack = false;
    let descending = true;
    for (let j = Math.max(slopeEnd, i + 1); j < raw.length; j++) {
      const ahead = raw[j] as ExecutionStep;
      if (ahead.offsetMs > deadline) break;
      if (ahead.plannedVUs >= level) {
        i = j - 1;
        climbsBack = true;
        break;
      }
      if (descending) {
        if ((raw[j - 1] as ExecutionStep).plannedVUs > ahead.plannedVUs) slopeEnd = j;
        else descending = false;
      }
    }
    if (climbsBack) continue;
    if (deadline >= endOffset) break;
    out.push({ offsetMs: deadline, plannedVUs: step.plannedVUs });
    level = step.plannedVUs;
  }
  return out;
}

/** k6's GetExecutionRequirements for ramping-vus: reserved VUs over time, ending with 0 VUs. */
export function gracefulSteps(
  startVUs: number,
  stages: readonly Stage[],
  gracefulRampDown: number,
  gracefulStop: number,
  segment: ExecutionSegment,
): ExecutionStep[] {
  const endOffset = stages.reduce((sum, s) => sum + s.duration, 0) + gracefulStop;
  let steps = rawSteps(startVUs, stages, segment, false);
  if (gracefulRampDown > 0) steps = reserveForRampDowns(steps, gracefulRampDown, endOffset);
  if ((steps[steps.length - 1] as ExecutionStep).plannedVUs !== 0) steps.push({ offsetMs: endOffset, plannedVUs: 0 });
  return steps;
}

/** The largest planned VU count of a curve. */
export function maxPlannedVUs(steps: readonly ExecutionStep[]): number {
  return steps.reduce((max, s) => Math.max(max, s.plannedVUs), 0);
}
