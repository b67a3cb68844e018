import type { ExecutorConfig, ExecutorEnv, ExecutorVU, ExecutionSegment } from '../executor/types.js';
import type { TagSet } from '../metrics/tags.js';
import { sleepUntilAborted } from './clock.js';
import type { ScenarioContext, VU } from './vu.js';

/** What a scenario needs from the engine that owns the VU pool and the iteration runner. */
export interface ScenarioHost {
  acquireVU(): VU | null;
  releaseVU(vu: VU): void;
  initExtraVU(): Promise<VU | null>;
  /** `startedAt`: performance.now() time the iteration starts, when the caller read it. */
  runIteration(vu: VU, scenario: ScenarioRun, hardStop: AbortSignal, iterationInScenario: number, lateByMs?: number, startedAt?: number): Promise<boolean>;
  addActiveVUs(delta: number): void;
  dropIterations(scenario: ScenarioRun, n: number): void;
  warnOnce(message: string): void;
  readonly testSignal: AbortSignal;
}

/** One scenario while it runs: its config, its progress, its per-scenario counters. */
export class ScenarioRun {
  progress = 0;
  startedAt = 0;
  /** Unique iteration numbers handed out in this scenario (exec.scenario.iterationInTest). */
  nextIterationInTest = 0;
  done = false;

  /** What every VU shares while it runs this scenario (set by the engine once options are known). */
  readonly context: ScenarioContext;

  constructor(
    readonly config: ExecutorConfig,
    readonly segment: ExecutionSegment,
    tags: TagSet,
    env: Record<string, string>,
  ) {
    this.context = {
      name: config.name,
      executor: config.type,
      tags,
      env,
      startTime: () => this.startedAt,
      progress: () => this.progress,
    };
  }

  /** Waits for startTime, then runs the executor to its end. */
  async run(host: ScenarioHost): Promise<void> {
    await sleepUntilAborted(this.config.startTime, host.testSignal);
    if (host.testSignal.aborted) {
      this.done = true;
      return;
    }
    this.startedAt = Date.now();
    const t0 = performance.now();
    const env: ExecutorEnv = {
      now: () => performance.now() - t0,
      sleep: (ms, signal) => sleepUntilAborted(ms, signal ?? host.testSignal),
      acquireVU: () => host.acquireVU(),
      releaseVU: (vu: ExecutorVU) => host.releaseVU(vu as VU),
      initVU: () => host.initExtraVU(),
      runIteration: (vu, hardStop, iterationInScenario, lateByMs, now) =>
        host.runIteration(vu as VU, this, hardStop, iterationInScenario, lateByMs, now === undefined ? undefined : now + t0),
      iterationEnd: (vu) => {
        const ended = (vu as VU).iterationEndedAt;
        return ended >= 0 ? ended - t0 : performance.now() - t0;
      },
      addActiveVUs: (d) => host.addActiveVUs(d),
      dropIterations: (n) => host.dropIterations(this, n),
      testSignal: host.testSignal,
      setProgress: (f) => {
        this.progress = f;
      },
      warnOnce: (m) => host.warnOnce(m),
    };
    try {
      await this.config.newRuntime(this.segment).run(env);
    } finally {
      this.progress = 1;
      this.done = true;
    }
  }
}
