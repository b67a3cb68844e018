import { z } from 'zod';
import { formatDuration } from '../config/options.js';
import { baseShape, describeBase, durationField, intField, ScenarioBase } from './base-config.js';
import { defineExecutor, isIntAtLeast } from './definition.js';
import { StartStagger } from './start-stagger.js';
import { joinLoops, startStopSignals } from './stop-signals.js';
import type { ExecutionPlan, ExecutionSegment, ExecutorConfig, ExecutorEnv, ExecutorRuntime, ExecutorVU } from './types.js';
import { acquireVUs, releaseVU } from './vu-acquire.js';

/**
 * k6's shared-iterations: `iterations` iterations in total, pulled from one shared counter by
 * `vus` VUs, so faster VUs run more of them. Over segments, the iterations are split in the
 * same proportion as the VUs (k6 re-cuts the sequence by the VU count), so an instance never
 * gets iterations without VUs to run them. Iterations not started by maxDuration are dropped.
 */

const TYPE = 'shared-iterations';

/** The scenario options of shared-iterations, with k6's defaults. */
export const sharedIterationsSchema = z
  .object({
    executor: z.literal(TYPE, { error: TYPE }),
    vus: intField(1).default(1),
    iterations: intField(1).default(1),
    maxDuration: durationField(1000, 600_000),
    ...baseShape,
  })
  .strict();

/** shared-iterations options after parsing (durations in ms). */
export type SharedIterationsOptions = z.output<typeof sharedIterationsSchema>;

/** A validated shared-iterations scenario. */
export class SharedIterationsConfig extends ScenarioBase implements ExecutorConfig {
  readonly type = TYPE;
  /** VUs of the whole test. */
  readonly vus: number;
  /** Iterations of the whole test. */
  readonly iterations: number;
  /** ms after which no new iteration starts. */
  readonly maxDuration: number;

  constructor(name: string, o: SharedIterationsOptions) {
    super(name, o);
    this.vus = o.vus;
    this.iterations = o.iterations;
    this.maxDuration = o.maxDuration;
  }

  /** This segment's VUs and iterations, and the segment its iteration numbers are striped over. */
  private share(segment: ExecutionSegment): { vus: number; iterations: number; iterSegment: ExecutionSegment | null } {
    const iterSegment = segment.forValue(this.vus);
    return { vus: segment.scale(this.vus), iterations: iterSegment ? iterSegment.scale(this.iterations) : 0, iterSegment };
  }

  plan(segment: ExecutionSegment): ExecutionPlan {
    const { vus, iterations } = this.share(segment);
    const maxDurationMs = this.maxDuration + this.gracefulStop;
    return {
      preAllocatedVUs: vus,
      maxVUs: vus,
      maxDurationMs,
      steps: vus === 0 ? [{ offsetMs: 0, plannedVUs: 0 }] : [{ offsetMs: 0, plannedVUs: vus }, { offsetMs: maxDurationMs, plannedVUs: 0 }],
      hasWork: vus > 0 && iterations > 0,
    };
  }

  description(segment: ExecutionSegment): string {
    const { vus, iterations } = this.share(segment);
    return `${iterations} iterations shared among ${vus} VUs${describeBase(this, `maxDuration: ${formatDuration(this.maxDuration)}`)}`;
  }

  newRuntime(segment: ExecutionSegment): ExecutorRuntime {
    return { run: (env) => this.run(env, segment) };
  }

  private async run(env: ExecutorEnv, segment: ExecutionSegment): Promise<void> {
    const { vus: numVUs, iterations: total, iterSegment } = this.share(segment);
    if (numVUs === 0 || total === 0 || iterSegment === null || env.testSignal.aborted) return;
    const vus = acquireVUs(env, numVUs, this.name);
    const stops = startStopSignals(env, this.maxDuration, this.gracefulStop);
    // Pulled index k is this instance's k-th iteration; the index maps it to the test-wide number.
    const index = iterSegment.newIndex();
    let pulled = 0;
    let done = 0;
    env.setProgress(0);

    const stagger = new StartStagger();
    const loop = async (vu: ExecutorVU): Promise<void> => {
      try {
        const gate = stagger.turn();
        if (gate !== null) await gate;
        while (pulled < total && !stops.regular.aborted && env.now() < stops.regularEndsAt) {
          pulled++;
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
    if (pulled < total && !env.testSignal.aborted) env.dropIterations(total - pulled);
  }
}

/** The shared-iterations executor type. */
export const sharedIterations = defineExecutor({
  type: TYPE,
  schema: sharedIterationsSchema,
  // k6: "the number of iterations shouldn't be less than the number of VUs".
  relations: (raw, prefix) => {
    const vus = raw['vus'] ?? 1;
    const iterations = raw['iterations'] ?? 1;
    return isIntAtLeast(vus, 1) && isIntAtLeast(iterations, 1) && iterations < vus
      ? [`${prefix}.iterations must be at least vus (${vus}), got ${iterations}`]
      : [];
  },
  build: (name, options) => new SharedIterationsConfig(name, options),
});
