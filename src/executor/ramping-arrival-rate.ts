import { z } from 'zod';
import { formatDuration } from '../config/options.js';
import { arrivalRatePlan, maxVUsFact, maxVUsRelation, ratePerSecond, runArrivalRate } from './arrival-rate.js';
import { rampingSchedule, type ArrivalSchedule } from './arrival-schedule.js';
import { baseShape, describeBase, durationAboveField, durationField, intField, ScenarioBase } from './base-config.js';
import { defineExecutor } from './definition.js';
import type { Stage } from './ramping-steps.js';
import type { ExecutionPlan, ExecutionSegment, ExecutorConfig, ExecutorRuntime } from './types.js';

/**
 * k6's ramping-arrival-rate: the iteration rate moves linearly from startRate through the
 * stages' targets (iterations per timeUnit), and iterations start when the integral of that
 * rate reaches each whole number, independent of how long they take, on VUs taken from a pool
 * of preAllocatedVUs that may grow to maxVUs. See arrival-rate.ts for the runtime and
 * arrival-schedule.ts for the start times.
 */

const TYPE = 'ramping-arrival-rate';

const stageSchema = z
  .object({
    duration: durationField(0),
    target: intField(0),
  })
  .strict();

/** The scenario options of ramping-arrival-rate, with k6's defaults (stages and preAllocatedVUs are required). */
export const rampingArrivalRateSchema = z
  .object({
    executor: z.literal(TYPE, { error: TYPE }),
    startRate: intField(0).default(0),
    timeUnit: durationAboveField(0, 1000),
    stages: z
      .array(stageSchema, { error: 'a list of stages like [{ duration: "30s", target: 10 }]' })
      .min(1, { error: 'a list of at least one stage' }),
    preAllocatedVUs: intField(0),
    // k6: unset means preAllocatedVUs (applied by the config, as it depends on another key).
    maxVUs: intField(0).optional(),
    ...baseShape,
  })
  .strict();

/** ramping-arrival-rate options after parsing (durations in ms). */
export type RampingArrivalRateOptions = z.output<typeof rampingArrivalRateSchema>;

/** A validated ramping-arrival-rate scenario. */
export class RampingArrivalRateConfig extends ScenarioBase implements ExecutorConfig {
  readonly type = TYPE;
  /** Iterations per timeUnit at the start, for the whole test. */
  readonly startRate: number;
  /** ms the rates are counted over. */
  readonly timeUnit: number;
  /** The stages, durations in ms, targets in iterations per timeUnit. */
  readonly stages: readonly Stage[];
  /** VUs initialized before the test, for the whole test. */
  readonly preAllocatedVUs: number;
  /** Most VUs the scenario may hold, for the whole test. */
  readonly maxVUs: number;
  /** ms during which iterations start: the stages' total. */
  readonly duration: number;
  /** The global start times. */
  readonly schedule: ArrivalSchedule;

  constructor(name: string, o: RampingArrivalRateOptions) {
    super(name, o);
    this.startRate = o.startRate;
    this.timeUnit = o.timeUnit;
    this.stages = o.stages;
    this.preAllocatedVUs = o.preAllocatedVUs;
    this.maxVUs = o.maxVUs ?? o.preAllocatedVUs;
    this.duration = o.stages.reduce((sum, s) => sum + s.duration, 0);
    this.schedule = rampingSchedule(this.startRate, this.timeUnit, this.stages);
  }

  plan(segment: ExecutionSegment): ExecutionPlan {
    return arrivalRatePlan(this, this.schedule, this.duration + this.gracefulStop, segment);
  }

  description(segment: ExecutionSegment): string {
    const peak = Math.max(this.startRate, ...this.stages.map((s) => s.target));
    const perSecond = ratePerSecond(peak, this.timeUnit, this, segment);
    return `Up to ${perSecond.toFixed(2)} iterations/s for ${formatDuration(this.duration)} over ${this.stages.length} stages${describeBase(
      this,
      maxVUsFact(this, segment),
    )}`;
  }

  newRuntime(segment: ExecutionSegment): ExecutorRuntime {
    return {
      run: (env) =>
        runArrivalRate(env, segment, {
          scenario: this.name,
          vus: this,
          durationMs: this.duration,
          gracefulStopMs: this.gracefulStop,
          schedule: this.schedule,
        }),
    };
  }
}

/** The ramping-arrival-rate executor type. */
export const rampingArrivalRate = defineExecutor({
  type: TYPE,
  schema: rampingArrivalRateSchema,
  nested: { stages: { what: 'stage options', keys: ['duration', 'target'] } },
  relations: maxVUsRelation,
  build: (name, options) => new RampingArrivalRateConfig(name, options),
});
