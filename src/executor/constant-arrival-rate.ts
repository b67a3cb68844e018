import { z } from 'zod';
import { formatDuration } from '../config/options.js';
import { arrivalRatePlan, maxVUsFact, maxVUsRelation, ratePerSecond, runArrivalRate } from './arrival-rate.js';
import { constantSchedule, type ArrivalSchedule } from './arrival-schedule.js';
import { baseShape, describeBase, durationAboveField, durationField, intField, ScenarioBase } from './base-config.js';
import { defineExecutor } from './definition.js';
import type { ExecutionPlan, ExecutionSegment, ExecutorConfig, ExecutorRuntime } from './types.js';

/**
 * k6's constant-arrival-rate: `rate` iterations start every `timeUnit` for `duration`, evenly
 * spaced and independent of how long they take (an open model), on VUs taken from a pool of
 * preAllocatedVUs that may grow to maxVUs. See arrival-rate.ts for the runtime and
 * arrival-schedule.ts for the start times.
 */

const TYPE = 'constant-arrival-rate';

/** The scenario options of constant-arrival-rate, with k6's defaults (rate, duration and preAllocatedVUs are required). */
export const constantArrivalRateSchema = z
  .object({
    executor: z.literal(TYPE, { error: TYPE }),
    rate: intField(1),
    timeUnit: durationAboveField(0, 1000),
    duration: durationField(1000),
    preAllocatedVUs: intField(0),
    // k6: unset means preAllocatedVUs (applied by the config, as it depends on another key).
    maxVUs: intField(0).optional(),
    ...baseShape,
  })
  .strict();

/** constant-arrival-rate options after parsing (durations in ms). */
export type ConstantArrivalRateOptions = z.output<typeof constantArrivalRateSchema>;

/** A validated constant-arrival-rate scenario. */
export class ConstantArrivalRateConfig extends ScenarioBase implements ExecutorConfig {
  readonly type = TYPE;
  /** Iterations started per timeUnit, for the whole test. */
  readonly rate: number;
  /** ms the rate is counted over. */
  readonly timeUnit: number;
  /** ms during which iterations start. */
  readonly duration: number;
  /** VUs initialized before the test, for the whole test. */
  readonly preAllocatedVUs: number;
  /** Most VUs the scenario may hold, for the whole test. */
  readonly maxVUs: number;
  /** The global start times. */
  readonly schedule: ArrivalSchedule;

  constructor(name: string, o: ConstantArrivalRateOptions) {
    super(name, o);
    this.rate = o.rate;
    this.timeUnit = o.timeUnit;
    this.duration = o.duration;
    this.preAllocatedVUs = o.preAllocatedVUs;
    this.maxVUs = o.maxVUs ?? o.preAllocatedVUs;
    this.schedule = constantSchedule(this.rate, this.timeUnit, this.duration);
  }

  plan(segment: ExecutionSegment): ExecutionPlan {
    return arrivalRatePlan(this, this.schedule, this.duration + this.gracefulStop, segment);
  }

  description(segment: ExecutionSegment): string {
    const perSecond = ratePerSecond(this.rate, this.timeUnit, this, segment);
    return `${perSecond.toFixed(2)} iterations/s for ${formatDuration(this.duration)}${describeBase(this, maxVUsFact(this, segment))}`;
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

/** The constant-arrival-rate executor type. */
export const constantArrivalRate = defineExecutor({
  type: TYPE,
  schema: constantArrivalRateSchema,
  relations: maxVUsRelation,
  build: (name, options) => new ConstantArrivalRateConfig(name, options),
});
