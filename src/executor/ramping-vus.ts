import { z } from 'zod';
import { formatDuration } from '../config/options.js';
import { baseShape, describeBase, durationField, intField, ScenarioBase } from './base-config.js';
import { defineExecutor, isIntAtLeast } from './definition.js';
import { gracefulSteps, maxPlannedVUs, rawSteps, type Stage } from './ramping-steps.js';
import { startStopSignals } from './stop-signals.js';
import type { ExecutionPlan, ExecutionSegment, ExecutionStep, ExecutorConfig, ExecutorEnv, ExecutorRuntime, ExecutorVU } from './types.js';
import { noVUError, releaseVU } from './vu-acquire.js';
import { StartStagger } from './start-stagger.js';

/**
 * k6's ramping-vus: a number of looping VUs that follows linear stages (see ramping-steps.ts).
 * The runtime walks two curves in time order: the raw curve starts VUs and asks VUs to stop
 * after their current iteration; the graceful curve interrupts, gracefulRampDown later, the
 * iterations of ramped-down VUs that are still running. A ramped-down VU that is wanted again
 * before it stopped keeps looping without being given back.
 */

const TYPE = 'ramping-vus';

/** k6's sanity limit on concurrent VUs of one ramping scenario. */
const MAX_CONCURRENT_VUS = 100_000_000;

const stageSchema = z
  .object({
    duration: durationField(0),
    target: intField(0, MAX_CONCURRENT_VUS),
  })
  .strict();

/** The scenario options of ramping-vus, with k6's defaults (stages are required). */
export const rampingVUsSchema = z
  .object({
    executor: z.literal(TYPE, { error: TYPE }),
    startVUs: intField(0, MAX_CONCURRENT_VUS).default(1),
    stages: z
      .array(stageSchema, { error: 'a list of stages like [{ duration: "30s", target: 10 }]' })
      .min(1, { error: 'a list of at least one stage' }),
    gracefulRampDown: durationField(0, 30_000),
    ...baseShape,
  })
  .strict();

/** ramping-vus options after parsing (durations in ms). */
export type RampingVUsOptions = z.output<typeof rampingVUsSchema>;

/** One VU slot of the runtime; slot i holds the (i+1)-th VU of this segment's curve. */
interface Slot {
  vu: ExecutorVU | null;
  /** False once the raw curve dropped below this slot: finish the iteration, then stop. */
  wanted: boolean;
  /** Interrupts this slot's running iteration (graceful curve, hard stop). */
  interrupt: AbortController;
  loop: Promise<void> | null;
}

/** A validated ramping-vus scenario. */
export class RampingVUsConfig extends ScenarioBase implements ExecutorConfig {
  readonly type = TYPE;
  /** VUs at the start, for the whole test. */
  readonly startVUs: number;
  /** The stages, durations in ms. */
  readonly stages: readonly Stage[];
  /** ms a ramped-down VU may take to finish its iteration. */
  readonly gracefulRampDown: number;

  constructor(name: string, o: RampingVUsOptions) {
    super(name, o);
    this.startVUs = o.startVUs;
    this.stages = o.stages;
    this.gracefulRampDown = o.gracefulRampDown;
  }

  /** The looping-VU curve for a segment, ending with 0 VUs (k6's raw steps with zero end). */
  rawSteps(segment: ExecutionSegment): ExecutionStep[] {
    return rawSteps(this.startVUs, this.stages, segment, true);
  }

  /** The reserved-VU curve for a segment (k6's execution requirements). */
  gracefulSteps(segment: ExecutionSegment): ExecutionStep[] {
    return gracefulSteps(this.startVUs, this.stages, this.gracefulRampDown, this.gracefulStop, segment);
  }

  plan(segment: ExecutionSegment): ExecutionPlan {
    const steps = this.gracefulSteps(segment);
    const vus = maxPlannedVUs(steps);
    return {
      preAllocatedVUs: vus,
      maxVUs: vus,
      maxDurationMs: (steps[steps.length - 1] as ExecutionStep).offsetMs,
      steps,
      hasWork: vus > 0,
    };
  }

  description(segment: ExecutionSegment): string {
    const maxVUs = segment.scale(Math.max(this.startVUs, ...this.stages.map((s) => s.target)));
    const total = this.stages.reduce((sum, s) => sum + s.duration, 0);
    return `Up to ${maxVUs} looping VUs for ${formatDuration(total)} over ${this.stages.length} stages${describeBase(
      this,
      `gracefulRampDown: ${formatDuration(this.gracefulRampDown)}`,
    )}`;
  }

  newRuntime(segment: ExecutionSegment): ExecutorRuntime {
    return { run: (env) => this.run(env, segment) };
  }

  private async run(env: ExecutorEnv, segment: ExecutionSegment): Promise<void> {
    const raw = this.rawSteps(segment);
    const graceful = this.gracefulSteps(segment);
    const maxVUs = maxPlannedVUs(graceful);
    if (maxVUs === 0 || env.testSignal.aborted) return;
    const regularEnd = (raw[raw.length - 1] as ExecutionStep).offsetMs;
    const maxEnd = (graceful[graceful.length - 1] as ExecutionStep).offsetMs;
    const start = env.now();
    const stops = startStopSignals(env, regularEnd, Math.max(0, maxEnd - regularEnd));
    const index = segment.newIndex();
    const slots: Slot[] = Array.from({ length: maxVUs }, () => ({ vu: null, wanted: false, interrupt: new AbortController(), loop: null }));
    const loops = new Set<Promise<void>>();
    let failure: { error: unknown } | null = null;
    const fail = (error: unknown): void => {
      failure ??= { error };
      stops.abort();
    };
    const interruptAll = (): void => {
      for (const slot of slots) slot.interrupt.abort();
    };
    stops.hard.addEventListener('abort', interruptAll);

    // Only the VUs of one step share a stagger: a later step starts its own count.
    let stagger = new StartStagger();
    const loop = async (slot: Slot, vu: ExecutorVU, gate: Promise<void> | null): Promise<void> => {
      try {
        if (gate !== null) await gate;
        while (slot.wanted && !stops.hard.aborted) {
          // A slot interrupted by the graceful curve and then wanted again needs a fresh signal.
          if (slot.interrupt.signal.aborted) slot.interrupt = new AbortController();
          index.next();
          await env.runIteration(vu, slot.interrupt.signal, index.unscaled - 1);
        }
      } finally {
        slot.vu = null;
        slot.loop = null;
        releaseVU(env, vu);
      }
    };
    const startSlot = (slot: Slot): void => {
      slot.wanted = true;
      if (slot.loop !== null) return; // still finishing an iteration: keep it looping
      const vu = env.acquireVU();
      if (vu === null) return fail(noVUError(this.name));
      env.addActiveVUs(1);
      slot.vu = vu;
      slot.interrupt = new AbortController();
      const running = loop(slot, vu, stagger.turn()).catch(fail);
      slot.loop = running;
      loops.add(running);
      void running.then(() => loops.delete(running));
    };

    let looping = 0;
    const applyRaw = (planned: number): void => {
      stagger = new StartStagger();
      while (looping < planned && failure === null) startSlot(slots[looping++] as Slot);
      while (looping > planned) (slots[--looping] as Slot).wanted = false;
    };
    let reserved = 0;
    const applyGraceful = (planned: number): void => {
      for (; reserved > planned; reserved--) {
        const slot = slots[reserved - 1] as Slot;
        slot.wanted = false;
        slot.interrupt.abort();
      }
      reserved = planned;
    };
    const waitUntil = async (offsetMs: number, signal: AbortSignal): Promise<boolean> => {
      const delay = start + offsetMs - env.now();
      if (delay > 0) await env.sleep(delay, signal);
      return !signal.aborted;
    };
    const progress = (): void => env.setProgress(regularEnd > 0 ? Math.min(1, (env.now() - start) / regularEnd) : 1);

    // Both curves in time order; on a tie the raw step goes first, as in k6.
    let r = 0;
    let g = 0;
    while (r < raw.length && failure === null) {
      const rawStep = raw[r] as ExecutionStep;
      const gracefulStep = graceful[g];
      if (gracefulStep !== undefined && gracefulStep.offsetMs < rawStep.offsetMs) {
        if (!(await waitUntil(gracefulStep.offsetMs, stops.hard))) break;
        applyGraceful(gracefulStep.plannedVUs);
        g++;
      } else {
        if (!(await waitUntil(rawStep.offsetMs, stops.hard))) break;
        applyRaw(rawStep.plannedVUs);
        r++;
      }
      progress();
    }

    // Every VU is now asked to stop; the rest of the graceful curve interrupts the slow ones
    // while we wait for them.
    const restDone = new AbortController();
    const restSignal = AbortSignal.any([stops.hard, restDone.signal]);
    const rest = (async () => {
      for (; g < graceful.length; g++) {
        const step = graceful[g] as ExecutionStep;
        if (!(await waitUntil(step.offsetMs, restSignal))) return;
        applyGraceful(step.plannedVUs);
      }
    })();
    try {
      while (loops.size > 0) await Promise.all([...loops]);
    } finally {
      restDone.abort();
      await rest;
      stops.hard.removeEventListener('abort', interruptAll);
      stops.dispose();
    }
    progress();
    if (failure !== null) throw (failure as { error: unknown }).error;
  }
}

/** The ramping-vus executor type. */
export const rampingVUs = defineExecutor({
  type: TYPE,
  schema: rampingVUsSchema,
  nested: { stages: { what: 'stage options', keys: ['duration', 'target'] } },
  // k6: "either startVUs or one of the stages' target values must be greater than 0".
  relations: (raw, prefix) => {
    const startVUs = raw['startVUs'] ?? 1;
    const stages = raw['stages'];
    if (!isIntAtLeast(startVUs, 0) || !Array.isArray(stages) || stages.length === 0) return [];
    const targets = stages.map((s: unknown) => (typeof s === 'object' && s !== null ? (s as Record<string, unknown>)['target'] : undefined));
    if (!targets.every((t) => isIntAtLeast(t, 0))) return [];
    return startVUs === 0 && targets.every((t) => t === 0)
      ? [`${prefix}.startVUs must be above 0 when no stage has a target above 0, got 0`]
      : [];
  },
  build: (name, options) => new RampingVUsConfig(name, options),
});
