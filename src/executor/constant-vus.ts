import { z } from 'zod';
import { formatDuration } from '../config/options.js';
import { baseShape, describeBase, durationField, intField, ScenarioBase } from './base-config.js';
import { defineExecutor } from './definition.js';
import { StartStagger } from './start-stagger.js';
import { joinLoops, startStopSignals } from './stop-signals.js';
import type { ExecutionPlan, ExecutionSegment, ExecutorConfig, ExecutorEnv, ExecutorRuntime, ExecutorVU } from './types.js';
import { acquireVUs, releaseVU } from './vu-acquire.js';

/**
 * k6's constant-vus: `vus` VUs loop iterations for `duration`; then running iterations get
 * gracefulStop to finish before they are interrupted.
 */

const TYPE = 'constant-vus';

/** The scenario options of constant-vus, with k6's defaults (duration is required). */
export const constantVUsSchema = z
  .object({
    executor: z.literal(TYPE, { error: TYPE }),
    vus: intField(1).default(1),
    duration: durationField(1000),
    ...baseShape,
  })
  .strict();

/** constant-vus options after parsing (durations in ms). */
export type ConstantVUsOptions = z.output<typeof constantVUsSchema>;

/** A validated constant-vus scenario. */
export class ConstantVUsConfig extends ScenarioBase implements ExecutorConfig {
  readonly type = TYPE;
  /** VUs of the whole test. */
  readonly vus: number;
  /** ms during which iterations start. */
  readonly duration: number;

  constructor(name: string, o: ConstantVUsOptions) {
    super(name, o);
    this.vus = o.vus;
    this.duration = o.duration;
  }

  plan(segment: ExecutionSegment): ExecutionPlan {
    const vus = segment.scale(this.vus);
    const maxDurationMs = this.duration + this.gracefulStop;
    return {
      preAllocatedVUs: vus,
      maxVUs: vus,
      maxDurationMs,
      steps: [{ offsetMs: 0, plannedVUs: vus }, { offsetMs: maxDurationMs, plannedVUs: 0 }],
      hasWork: vus > 0,
    };
  }

  description(segment: ExecutionSegment): string {
    return `${segment.scale(this.vus)} looping VUs for ${formatDuration(this.duration)}${describeBase(this)}`;
  }

  newRuntime(segment: ExecutionSegment): ExecutorRuntime {
    return { run: (env) => this.run(env, segment) };
  }

  private async run(env: ExecutorEnv, segment: ExecutionSegment): Promise<void> {
    const numVUs = segment.scale(this.vus);
    if (numVUs === 0 || env.testSignal.aborted) return;
    const vus = acquireVUs(env, numVUs, this.name);
    const start = env.now();
    const stops = startStopSignals(env, this.duration, this.gracefulStop);
    const index = segment.newIndex();
    env.setProgress(0);

    const stagger = new StartStagger();
    const loop = async (vu: ExecutorVU): Promise<void> => {
      try {
        const gate = stagger.turn();
        if (gate !== null) await gate;
        // One clock read per iteration, the engine's at its end: it checks the end of the
        // duration, sets the progress and is the next iteration's start.
        let now = env.now();
        for (;;) {
          env.setProgress(Math.min(1, (now - start) / this.duration));
          if (stops.regular.aborted || now >= stops.regularEndsAt) break;
          index.next();
          await env.runIteration(vu, stops.hard, index.unscaled - 1, undefined, now);
          now = env.iterationEnd(vu);
        }
      } finally {
        releaseVU(env, vu);
      }
    };

    try {
      await joinLoops(vus.map(loop), stops);
    } finally {
      stops.dispose();
    }
  }
}

/** The constant-vus executor type. */
export const constantVUs = defineExecutor({
  type: TYPE,
  schema: constantVUsSchema,
  build: (name, options) => new ConstantVUsConfig(name, options),
});
