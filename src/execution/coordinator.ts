import { Worker } from 'node:worker_threads';
import { ExitCode, HerdError, type ExitCodeValue } from '../errors/index.js';
import type { ExecutionSegment } from '../executor/types.js';
import { TagSet, type GroupNode, type MetricsBatch } from '../metrics/index.js';
import type { ScriptArtifact } from '../script/index.js';
import type { Engine, EngineCounts } from './engine.js';
import type { MetricsPipeline } from './metrics-pipeline.js';
import type { RunRequest } from './run-test.js';
import type { ForwardedSample, FromWorker, ToWorker, WorkerInit } from './worker-protocol.js';

const WORKER_ENTRY = new URL('./worker-entry.js', import.meta.url);

interface WorkerState {
  readonly worker: Worker;
  counts: EngineCounts;
  progress: readonly number[];
  done: boolean;
  ready: boolean;
}

/**
 * Drives the worker threads of a multi-threaded `herd run`. Each worker owns one part of the
 * instance's execution segment; together they run exactly the VUs, iterations and rates one
 * thread would. The coordinator merges their per-second metric batches into the one collector
 * that thresholds and the summary read, sums their VU counts for the `vus` gauges, forwards raw
 * samples to outputs, and fans a stop out to every worker when the test ends early.
 */
export class Coordinator {
  private readonly states: WorkerState[] = [];
  private readonly groups: GroupNode[] = [];
  private readyWaiters: Array<(ok: boolean) => void> = [];
  private doneWaiters: Array<() => void> = [];
  private failed = false;

  constructor(
    private readonly req: RunRequest,
    private readonly engine: Engine,
    private readonly pipeline: MetricsPipeline,
    private readonly artifact: ScriptArtifact,
    private readonly segment: ExecutionSegment,
    private readonly workers: number,
    private readonly sharedArrays: ReadonlyArray<{ name: string; json: string }>,
  ) {}

  /** Starts the workers and waits until each has initialized its VUs; false when one failed. */
  async initWorkers(): Promise<boolean> {
    for (let part = 0; part < this.workers; part++) {
      const init: WorkerInit = {
        artifact: this.artifact,
        entry: this.req.archive?.metadata.entry ?? this.req.entry,
        env: this.req.archive === undefined ? this.req.env : { ...this.req.archive.metadata.env, ...this.req.env },
        ...(this.req.archive === undefined ? {} : { files: [...this.req.archive.files.entries()] }),
        options: JSON.parse(JSON.stringify(this.engine.options)) as Record<string, unknown>,
        segment: this.segment.toString(),
        sequence: this.segment.sequence,
        part,
        parts: this.workers,
        sharedArrays: this.sharedArrays,
        forwardSamples: this.req.outputs.length > 0,
      };
      const worker = new Worker(WORKER_ENTRY, { workerData: init });
      const state: WorkerState = { worker, counts: { active: 0, initialized: 0, completed: 0, interrupted: 0 }, progress: [], done: false, ready: false };
      this.states.push(state);
      worker.on('message', (m: FromWorker) => this.onMessage(state, m));
      worker.on('error', (e) => this.onCrash(state, e));
      worker.on('exit', (code) => {
        if (!state.done) this.onCrash(state, new Error(`worker thread exited with code ${code} before finishing`));
      });
    }
    return new Promise((resolve) => {
      this.readyWaiters.push(resolve);
      this.checkReady();
    });
  }

  /** Starts the scenarios on every worker and resolves once all have finished. */
  async run(setupJSON: string | undefined, startedAt: number): Promise<void> {
    this.broadcast({ type: 'start', setupJSON, startedAt });
    await new Promise<void>((resolve) => {
      this.doneWaiters.push(resolve);
      this.checkDone();
    });
    for (const g of this.groups) this.engine.test.groups.mergeFrom(g);
  }

  /** Stops every worker thread now (safe to call twice). */
  async close(): Promise<void> {
    await Promise.all(
      this.states.map((s) => {
        s.done = true;
        return s.worker.terminate();
      }),
    );
  }

  /** Tells every worker to end the test now. */
  stopAll(code: ExitCodeValue, message: string): void {
    this.broadcast({ type: 'stop', code, message });
  }

  /** The sum of the workers' latest counters. */
  counts(): EngineCounts {
    const sum: EngineCounts = { active: 0, initialized: 0, completed: 0, interrupted: 0 };
    for (const s of this.states) {
      sum.active += s.counts.active;
      sum.initialized += s.counts.initialized;
      sum.completed += s.counts.completed;
      sum.interrupted += s.counts.interrupted;
    }
    return sum;
  }

  /** Each scenario's progress, averaged over the workers that run it. */
  scenarioProgress(): Array<{ name: string; executor: string; progress: number; label: string }> {
    return this.engine.scenarioProgress().map((s, i) => {
      const reports = this.states.map((w) => w.progress[i]).filter((p): p is number => p !== undefined);
      const progress = reports.length === 0 ? 0 : reports.reduce((a, b) => a + b, 0) / reports.length;
      return { ...s, progress };
    });
  }

  private onMessage(state: WorkerState, m: FromWorker): void {
    switch (m.type) {
      case 'ready':
        state.ready = true;
        state.counts = m.counts;
        this.checkReady();
        return;
      case 'metrics':
        this.merge(m.batch);
        state.counts = m.counts;
        state.progress = m.progress;
        return;
      case 'samples':
        this.forward(m.samples);
        return;
      case 'log':
        this.req.logger.log(m.level, m.message, m.fields);
        return;
      case 'ended':
        this.engine.endTest(m.code, m.message);
        return;
      case 'done':
        this.merge(m.batch);
        this.groups.push(m.groups);
        state.counts = { ...m.counts, active: 0 };
        state.done = true;
        // Its work is merged; nothing it still holds (idle sockets, timers) may keep the process up.
        void state.worker.terminate();
        this.checkDone();
        return;
      case 'failed': {
        const e = HerdError.fromPayload(m.error);
        if (!this.failed) {
          this.failed = true;
          this.req.logger.log('error', e.hint === undefined ? e.message : `${e.message}\nhint: ${e.hint}`);
          this.engine.endTest(e.exitCode, e.message);
        }
        state.done = true;
        this.checkReady();
        this.checkDone();
        return;
      }
      default: {
        const never: never = m;
        throw new Error(`unknown worker message ${JSON.stringify(never)}`);
      }
    }
  }

  private onCrash(state: WorkerState, e: Error): void {
    if (state.done) return;
    state.done = true;
    if (!this.failed) {
      this.failed = true;
      this.req.logger.log('error', `a worker thread failed: ${e.message}`);
      this.engine.endTest(ExitCode.genericEngine, `a worker thread failed: ${e.message}`);
    }
    this.checkReady();
    this.checkDone();
  }

  private merge(batch: MetricsBatch): void {
    if (batch.metrics.length > 0) this.pipeline.collector.mergeBatch(batch);
  }

  private forward(samples: readonly ForwardedSample[]): void {
    const registry = this.engine.test.registry;
    for (const [name, pairs, value, time] of samples) {
      const metric = registry.get(name);
      if (metric === undefined) continue;
      let tags = TagSet.EMPTY;
      for (let i = 0; i < pairs.length; i += 2) tags = tags.with(pairs[i] as string, pairs[i + 1] as string);
      for (const out of this.req.outputs) out.add(metric, tags, value, time);
    }
  }

  private broadcast(m: ToWorker): void {
    for (const s of this.states) if (!s.done) s.worker.postMessage(m);
  }

  private checkReady(): void {
    if (this.readyWaiters.length === 0) return;
    if (this.failed || this.states.every((s) => s.ready || s.done)) {
      const ok = !this.failed;
      for (const w of this.readyWaiters) w(ok);
      this.readyWaiters = [];
    }
  }

  private checkDone(): void {
    if (this.doneWaiters.length === 0) return;
    if (this.states.every((s) => s.done)) {
      for (const w of this.doneWaiters) w();
      this.doneWaiters = [];
    }
  }
}
