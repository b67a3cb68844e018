import { isIntAtLeast } from './definition.js';
import type { ArrivalSchedule } from './arrival-schedule.js';
import { startStopSignals } from './stop-signals.js';
import type { ExecutionPlan, ExecutionSegment, ExecutorEnv, ExecutorVU } from './types.js';
import { acquireVUs, releaseVU } from './vu-acquire.js';

/**
 * What k6's two open-model executors (constant-arrival-rate, ramping-arrival-rate) share:
 * the VU plan, the maxVUs rule, and the runtime that starts iterations on a schedule.
 *
 * The runtime, as in k6: the instance takes its pre-allocated VUs from the engine's pool at
 * the start and holds them (with any it initializes later) until the end, so its VUs are
 * never taken by another scenario and the `vus` metric counts the VUs it holds, as k6's does.
 * It walks the global schedule over the iterations its segment owns and, for each one, sleeps
 * until its start offset measured from the scenario's start (never from the previous start,
 * so lateness does not accumulate), then hands it to an idle VU *without waiting for it to
 * end*. With no idle VU the iteration is dropped (dropped_iterations); if fewer than maxVUs
 * VUs are held, one more starts initializing in the background (one at a time) and joins the
 * idle VUs when ready, else k6's "Insufficient VUs" warning is logged once. Every scheduled
 * iteration is attempted, even when the clock woke late; after the last one the scenario
 * still lasts its whole duration, then running iterations get gracefulStop before the hard
 * stop interrupts them.
 *
 * Segments: k6 re-cuts the segment by maxVUs (an instance's share of the iterations is its
 * share of maxVUs, so it never gets iterations without VUs) and the instance runs the global
 * iterations that re-cut segment's stripes own. Iteration numbers (exec.scenario.iterationInTest)
 * are handed out from the same stripes in the order iterations actually start, so a dropped
 * iteration takes no number, as in k6.
 *
 * Each iteration is handed how late it starts against its schedule (lateByMs), which the engine
 * records as `iteration_start_delay`: a generator that cannot keep up shows it there instead of
 * silently starting iterations late (coordinated omission).
 */

/** k6's once-only warning when an arrival-rate scenario drops iterations at its VU ceiling. */
export function insufficientVUsWarning(maxVUs: number): string {
  return `Insufficient VUs, reached ${maxVUs} active VUs and cannot initialize more`;
}

/** k6's rule: maxVUs, when given, must be at least preAllocatedVUs (checked on the raw options). */
export function maxVUsRelation(raw: Readonly<Record<string, unknown>>, prefix: string): string[] {
  const pre = raw['preAllocatedVUs'];
  const max = raw['maxVUs'];
  return isIntAtLeast(pre, 0) && isIntAtLeast(max, 0) && max < pre ? [`${prefix}.maxVUs must be at least preAllocatedVUs (${pre}), got ${max}`] : [];
}

/** The VU options of an arrival-rate scenario, for the whole test. */
export interface ArrivalVUs {
  readonly preAllocatedVUs: number;
  readonly maxVUs: number;
}

/**
 * k6's GetExecutionRequirements for arrival-rate: the pre-allocated VUs are planned from the
 * start to the end of duration + gracefulStop; the rest up to maxVUs are unplanned (initialized
 * during the run), so they are in `maxVUs` but not in the steps.
 */
export function arrivalRatePlan(vus: ArrivalVUs, schedule: ArrivalSchedule, maxDurationMs: number, segment: ExecutionSegment): ExecutionPlan {
  const preAllocatedVUs = segment.scale(vus.preAllocatedVUs);
  const maxVUs = segment.scale(vus.maxVUs);
  const iterationSegment = segment.forValue(vus.maxVUs);
  const iterations = iterationSegment === null ? 0 : iterationSegment.scale(schedule.total);
  return {
    preAllocatedVUs,
    maxVUs,
    maxDurationMs,
    steps: [{ offsetMs: 0, plannedVUs: preAllocatedVUs }, { offsetMs: maxDurationMs, plannedVUs: 0 }],
    hasWork: maxVUs > 0 && iterations > 0,
  };
}

/** k6's "maxVUs: 4" or "maxVUs: 4-10" fact of a description. */
export function maxVUsFact(vus: ArrivalVUs, segment: ExecutionSegment): string {
  const pre = segment.scale(vus.preAllocatedVUs);
  const max = segment.scale(vus.maxVUs);
  return max > pre ? `maxVUs: ${pre}-${max}` : `maxVUs: ${pre}`;
}

/** This segment's share of a rate per timeUnit, per second (k6 scales rates by the re-cut segment). */
export function ratePerSecond(rate: number, timeUnitMs: number, vus: ArrivalVUs, segment: ExecutionSegment): number {
  const iterationSegment = segment.forValue(vus.maxVUs);
  return iterationSegment === null ? 0 : (iterationSegment.scaleRate(rate) * 1000) / timeUnitMs;
}

/** One instance's arrival-rate run. */
export interface ArrivalRateRun {
  /** The scenario's name, for errors. */
  readonly scenario: string;
  readonly vus: ArrivalVUs;
  /** ms during which iterations start. */
  readonly durationMs: number;
  /** ms running iterations get after durationMs. */
  readonly gracefulStopMs: number;
  /** The global start times. */
  readonly schedule: ArrivalSchedule;
}

/** Runs an arrival-rate scenario on `segment` (see above). */
export async function runArrivalRate(env: ExecutorEnv, segment: ExecutionSegment, run: ArrivalRateRun): Promise<void> {
  const maxVUs = segment.scale(run.vus.maxVUs);
  const iterationSegment = segment.forValue(run.vus.maxVUs);
  if (maxVUs === 0 || iterationSegment === null || env.testSignal.aborted) return;
  const held = acquireVUs(env, segment.scale(run.vus.preAllocatedVUs), run.scenario);
  const idle: ExecutorVU[] = [...held].reverse();
  let unplanned = maxVUs - held.length;
  let initializing: Promise<void> | null = null;
  const start = env.now();
  const stops = startStopSignals(env, run.durationMs, run.gracefulStopMs);
  const slots = iterationSegment.newIndex();
  const numbers = iterationSegment.newIndex();
  // Iterations in flight, and the wake-up of the final wait when they reach 0.
  let running = 0;
  let drained: (() => void) | null = null;
  let failure: { error: unknown } | null = null;
  const fail = (error: unknown): void => {
    failure ??= { error };
    stops.abort();
  };

  const ended = (vu: ExecutorVU): void => {
    idle.push(vu);
    if (--running === 0) drained?.();
  };
  const startIteration = (vu: ExecutorVU, lateByMs: number): void => {
    numbers.next();
    running++;
    env.runIteration(vu, stops.hard, numbers.unscaled - 1, lateByMs).then(
      () => ended(vu),
      (error: unknown) => {
        ended(vu);
        fail(error);
      },
    );
  };

  const initOneMore = (): void => {
    unplanned--;
    initializing = env.initVU().then(
      (vu) => {
        initializing = null;
        if (vu === null) return;
        held.push(vu);
        env.addActiveVUs(1);
        idle.push(vu);
      },
      (error: unknown) => {
        // k6 logs a VU that failed to initialize and goes on with the VUs it has.
        initializing = null;
        env.warnOnce(`scenario "${run.scenario}" could not initialize one more VU: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
  };

  const startOnSchedule = async (): Promise<void> => {
    for (;;) {
      slots.next();
      const k = slots.unscaled - 1;
      if (k >= run.schedule.total) return;
      const due = start + run.schedule.startOf(k);
      const delay = due - env.now();
      if (delay > 0) await env.sleep(delay, stops.hard);
      if (stops.hard.aborted) return;
      const now = env.now();
      env.setProgress(Math.min(1, (now - start) / run.durationMs));
      const vu = idle.pop();
      if (vu !== undefined) {
        startIteration(vu, Math.max(0, now - due));
        continue;
      }
      env.dropIterations(1);
      if (unplanned === 0) env.warnOnce(insufficientVUsWarning(maxVUs));
      else if (initializing === null) initOneMore();
    }
  };

  try {
    await startOnSchedule().catch(fail);
    // The scenario lasts its whole duration, as in k6, even when its last iteration started earlier.
    if (!stops.regular.aborted) await env.sleep(stops.regularEndsAt - env.now(), stops.regular);
    while (running > 0 || initializing !== null) {
      if (initializing !== null) await initializing;
      else await new Promise<void>((resolve) => (drained = resolve));
    }
  } finally {
    stops.dispose();
    for (const vu of held) releaseVU(env, vu);
  }
  env.setProgress(1);
  if (failure !== null) throw (failure as { error: unknown }).error;
}
