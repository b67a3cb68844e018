import type { ExecutorEnv, ExecutorVU } from './types.js';

/**
 * A test double of the engine for executor tests: a virtual clock that jumps from timer to
 * timer, a VU pool, and fake iterations that take a chosen virtual time. It records what an
 * engine would see (iterations, active VUs over time, dropped iterations, progress), so tests
 * can assert exact counts and curves without waiting in real time. Not used in production.
 */

/** One iteration as the fake engine saw it. */
export interface IterationRecord {
  readonly vu: number;
  readonly iterationInScenario: number;
  readonly start: number;
  /** The `now` the executor passed (the time it read for the start), if any. */
  readonly startedAt: number | undefined;
  end: number;
  completed: boolean;
}

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fire: () => void;
}

/** How long iteration `n` (0-based, per VU) of VU `vu` takes, in virtual ms. */
export type IterationTime = (vu: number, n: number) => number;

/** A virtual-time ExecutorEnv; drive a runtime with `drive(runtime.run(env))`. */
export class VirtualEnv implements ExecutorEnv {
  time = 0;
  active = 0;
  dropped = 0;
  readonly iterations: IterationRecord[] = [];
  /** [time, active VUs] after every change. */
  readonly activeLog: Array<[number, number]> = [[0, 0]];
  readonly progress: number[] = [];
  readonly warnings: string[] = [];
  /** How many more VUs initVU() may create (0: it returns null, as when the test is stopping). */
  initializable = 0;
  /** Virtual ms one initVU() takes. */
  initMs = 0;
  /** [requested at, ready at] of every VU initVU() created. */
  readonly inits: Array<[number, number]> = [];
  private readonly timers: Timer[] = [];
  private seq = 0;
  private readonly pool: ExecutorVU[] = [];
  private readonly perVU = new Map<number, number>();
  private readonly test = new AbortController();
  readonly testSignal: AbortSignal = this.test.signal;

  constructor(
    private readonly poolSize: number,
    private readonly iterationTime: IterationTime,
  ) {
    for (let id = poolSize; id >= 1; id--) this.pool.push({ idInInstance: id });
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer: Timer = {
        at: this.time + ms,
        seq: this.seq++,
        fire: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        const i = this.timers.indexOf(timer);
        if (i >= 0) this.timers.splice(i, 1);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
    });
  }

  acquireVU(): ExecutorVU | null {
    return this.pool.pop() ?? null;
  }

  releaseVU(vu: ExecutorVU): void {
    this.pool.push(vu);
  }

  async initVU(): Promise<ExecutorVU | null> {
    if (this.initializable <= 0) return null;
    this.initializable--;
    const requested = this.time;
    const vu: ExecutorVU = { idInInstance: this.poolSize + this.inits.length + 1 };
    this.inits.push([requested, -1]);
    const record = this.inits[this.inits.length - 1] as [number, number];
    await this.sleep(this.initMs);
    record[1] = this.time;
    return vu;
  }

  async runIteration(vu: ExecutorVU, hardStop: AbortSignal, iterationInScenario: number, _lateByMs?: number, now?: number): Promise<boolean> {
    const n = this.perVU.get(vu.idInInstance) ?? 0;
    this.perVU.set(vu.idInInstance, n + 1);
    const duration = this.iterationTime(vu.idInInstance, n);
    const record: IterationRecord = { vu: vu.idInInstance, iterationInScenario, start: this.time, startedAt: now, end: -1, completed: false };
    this.iterations.push(record);
    await this.sleep(duration, hardStop);
    record.end = this.time;
    record.completed = this.time - record.start >= duration;
    return record.completed;
  }

  iterationEnd(): number {
    return this.time;
  }

  addActiveVUs(delta: number): void {
    this.active += delta;
    this.activeLog.push([this.time, this.active]);
  }

  dropIterations(n: number): void {
    this.dropped += n;
  }

  setProgress(fraction: number): void {
    this.progress.push(fraction);
  }

  warnOnce(message: string): void {
    if (!this.warnings.includes(message)) this.warnings.push(message);
  }

  /** Active VUs at virtual time t (after every change at t). */
  activeAt(t: number): number {
    let value = 0;
    for (const [time, active] of this.activeLog) if (time <= t) value = active;
    return value;
  }

  /** Aborts env.testSignal at virtual time t (now, when t is not in the future). */
  abortTestAt(t: number): void {
    if (t <= this.time) this.test.abort();
    else this.at(t, () => this.test.abort());
  }

  /** Runs `fn` at virtual time t. */
  at(t: number, fn: () => void): void {
    this.timers.push({ at: t, seq: this.seq++, fire: fn });
  }

  /** Advances virtual time timer by timer until `run` settles; returns the time it settled at. */
  async drive(run: Promise<void>): Promise<number> {
    let settled = false;
    let failure: { error: unknown } | null = null;
    run.then(
      () => (settled = true),
      (error: unknown) => {
        settled = true;
        failure = { error };
      },
    );
    for (;;) {
      // setImmediate runs after every pending microtask, so the runtime is idle here.
      await new Promise((resolve) => setImmediate(resolve));
      if (settled) break;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift();
      if (next === undefined) throw new Error(`the runtime is stuck at t=${this.time} with no timer pending`);
      this.time = Math.max(this.time, next.at);
      next.fire();
    }
    if (failure !== null) throw (failure as { error: unknown }).error;
    return this.time;
  }

  /** Timers still pending (a finished runtime should leave none). */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Iterations run per VU id. */
  countsPerVU(): Map<number, number> {
    const counts = new Map<number, number>();
    for (const it of this.iterations) counts.set(it.vu, (counts.get(it.vu) ?? 0) + 1);
    return counts;
  }
}

/** A constant iteration time. */
export function every(ms: number): IterationTime {
  return () => ms;
}
