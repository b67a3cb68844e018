import { z } from 'zod';
import { formatDuration } from '../config/options.js';
import { baseShape, describeBase, durationField, intField, ScenarioBase } from './base-config.js';
import { defineExecutor } from './definition.js';
import { StartStagger } from './start-stagger.js';
import { joinLoops, startStopSignals } from './stop-signals.js';
import type { ExecutionPlan, ExecutionSegment, ExecutorConfig, ExecutorEnv, ExecutorRuntime, ExecutorVU } from './types.js';
import { acquireVUs, releaseVU } from './vu-acquire.js';

/**
 * k6's per-vu-iterations: each VU runs exactly `iterations` iterations. Splitting the test over
 * segments splits the VUs only (never the per-VU iterations, which would scale quadratically).
 * `maxDuration` ends the scenario early: no new iterations after it, running ones get
 * gracefulStop to finish; the iterations never started are counted as dropped.
 */

const TYPE = 'per-vu-iterations';

/** The scenario options of per-vu-iterations, with k6's defaults. */
export const perVUIterationsSchema = z
  .object({
    executor: z.literal(TYPE, { error: TYPE }),
    vus: intField(1).default(1),
    iterations: intField(1).default(1),
    maxDuration: durationField(1000, 600_000),
    ...baseShape,
  })
  .strict();

/** per-vu-iterations options after parsing (durations in ms). */
export type PerVUIterationsOptions = z.output<typeof perVUIterationsSchema>;

/** A validated per-vu-iterations scenario. */
export class PerVUIterationsConfig extends ScenarioBase implements ExecutorConfig {
  readonly type = TYPE;
  /** VUs of the whole test. */
  readonly vus: number;
  /** Iterations each VU runs. */
  readonly iterations: number;
  /** ms after which no new iteration starts. */
  readonly maxDuration: number;

  constructor(name: string, o: PerVUIterationsOptions) {
    super(name, o);
    this.vus = o.vus;
    this.iterations = o.iterations;
    this.maxDuration = o.maxDuration;
  }

  plan(segment: ExecutionSegment): ExecutionPlan {
    const vus = segment.scale(this.vus);
    const maxDurationMs = this.maxDuration + this.gracefulStop;
    return {
      preAllocatedVUs: vus,
      maxVUs: vus,
      maxDurationMs,
      steps: [{ offsetMs: 0, plannedVUs: vus }, { offsetMs: maxDurationMs, plannedVUs: 0 }],
      hasWork: vus > 0,
    };
  }

  description(segment: ExecutionSegment): string {
    return `${this.iterations} iterations for each of ${segment.scale(this.vus)} VUs${describeBase(this, `maxDuration: ${formatDuration(this.maxDuration)}`)}`;
  }

  newRuntime(segment: ExecutionSegment): ExecutorRuntime {
    return { run: (env) => this.run(env, segment) };
  }

  private async run(env: ExecutorEnv, segment: ExecutionSegment): Promise<void> {
    const numVUs = segment.scale(this.vus);
    if (numVUs === 0 || env.testSignal.aborted) return;
    const vus = acquireVUs(env, numVUs, this.name);
    const stops = startStopSignals(env, this.maxDuration, this.gracefulStop);
    const index = segment.newIndex();
    const total = numVUs * this.iterations;
    let done = 0;
    env.setProgress(0);

    const stagger = new StartStagger();
    const loop = async (vu: ExecutorVU): Promise<void> => {
      try {
        const gate = stagger.turn();
        if (gate !== null) await gate;
        for (let i = 0; i < this.iterations; i++) {
          if (stops.regular.aborted || env.now() >= stops.regularEndsAt) {
            // An aborted test drops nothing: its iterations were not due to run.
            if (!env.testSignal.aborted) env.dropIterations(this.iterations - i);
            return;
          }
          index.next();
          await env.runIteration(vu, stops.hard, index.unscaled - 1);
          done++;
          env.setProgress(done / total);
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

/** The per-vu-iterations executor type. */
export const perVUIterations = defineExecutor({
  type: TYPE,
  schema: perVUIterationsSchema,
  build: (name, options) => new PerVUIterationsConfig(name, options),
});
