/**
 * The contract between executors (src/executor) and the engine (src/execution).
 *
 * An executor is two things, as in k6: a *config* (validated from the scenario's options,
 * a pure description that can say, for any execution segment, how many VUs it needs and how
 * long it runs) and a *runtime* that, given an ExecutorEnv, starts iterations on VUs over time.
 *
 * startTime is the engine's business: it waits `config.startTime` ms after the test start,
 * then calls `runtime.run(env)`; every offset an executor talks about (plan steps,
 * maxDurationMs, env.now()) is relative to that moment.
 */

/** A VU as an executor sees it: something that can run iterations of the scenario. */
export interface ExecutorVU {
  /** 1-based id within this instance. */
  readonly idInInstance: number;
}

/** What the engine gives an executor runtime while its scenario runs. */
export interface ExecutorEnv {
  /** Monotonic milliseconds since the scenario started (performance.now()-based, injectable in tests). */
  now(): number;
  /** Resolves after `ms` or when `signal` aborts (then resolves early, never rejects). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Takes an idle initialized VU from the pool; null when none is left. */
  acquireVU(): ExecutorVU | null;
  /** Gives a VU back to the pool. */
  releaseVU(vu: ExecutorVU): void;
  /**
   * Initializes one more VU beyond those pre-allocated (arrival-rate maxVUs); null when the
   * test is stopping. Resolves once its init code ran.
   */
  initVU(): Promise<ExecutorVU | null>;
  /**
   * Runs one iteration on `vu`. Resolves when it ends (normally, by exception, or by
   * `hardStop`); never rejects for script errors. `iterationInScenario` is the 0-based global
   * iteration number for this scenario (exec.scenario.iterationInTest), striped over execution
   * segments as k6 does. Within one instance an executor calls runIteration in increasing
   * `iterationInScenario` order, so the engine's own call count is exec.scenario.iterationInInstance.
   * Returns false when the iteration was interrupted.
   *
   * The engine must let the event loop turn (a macrotask) at least now and then inside
   * runIteration: executors loop `await runIteration(...)` and their stop timers are env.sleep()s.
   *
   * `now`, when given, is the env.now() the executor read just before the call: the iteration
   * starts then, and the engine reads no clock of its own (a clock read costs about as much as
   * a tenth of a small request's whole JavaScript).
   */
  runIteration(vu: ExecutorVU, hardStop: AbortSignal, iterationInScenario: number, lateByMs?: number, now?: number): Promise<boolean>;
  /**
   * The env.now() at which `vu`'s last iteration ended, as the engine read it when it recorded
   * the iteration; a fresh env.now() when it has none (the iteration was interrupted, or the
   * engine let the event loop turn since). A loop that checks the time after each iteration
   * reads it here instead of reading the clock again.
   */
  iterationEnd(vu: ExecutorVU): number;
  /** Marks `n` VUs active/inactive for the `vus` metric (delta). */
  addActiveVUs(delta: number): void;
  /** Records iterations that could not start (dropped_iterations). */
  dropIterations(n: number): void;
  /** Aborted when the whole test must stop now (abort, Ctrl+C): executors end promptly. */
  readonly testSignal: AbortSignal;
  /** Reports scenario progress 0..1 for the progress display (pushed at iteration ends and ramping steps). */
  setProgress(fraction: number): void;
  /** Logs a warning once per distinct message (e.g. dropped iterations). */
  warnOnce(message: string): void;
}

/** One point of k6's execution requirements: from `offsetMs` on, `plannedVUs` VUs are reserved. */
export interface ExecutionStep {
  /** ms after the scenario's start (startTime excluded). */
  readonly offsetMs: number;
  /** VUs this scenario needs from that moment until the next step. */
  readonly plannedVUs: number;
}

/** How a scenario's work looks for one execution segment (a pure plan). */
export interface ExecutionPlan {
  /** VUs to initialize before the test starts. */
  readonly preAllocatedVUs: number;
  /** Most VUs this executor may ever use (vus_max contribution). */
  readonly maxVUs: number;
  /** Longest time the scenario may run, graceful stop included, in ms (excluding startTime). */
  readonly maxDurationMs: number;
  /**
   * k6's GetExecutionRequirements: planned VUs over time, starting at offset 0 and ending with
   * a step of 0 VUs at maxDurationMs. The engine shifts each scenario's steps by its startTime
   * and takes the maximum of their sum over time to size the VU pool, so scenarios that do not
   * overlap share VUs, as in k6.
   */
  readonly steps: readonly ExecutionStep[];
  /** False when this segment gets no work (k6's HasWork): the engine then skips the scenario. */
  readonly hasWork: boolean;
}

/** A validated executor config for one scenario. */
export interface ExecutorConfig {
  /** k6's executor name, e.g. "per-vu-iterations". */
  readonly type: string;
  /** The scenario's name (its key in `options.scenarios`). */
  readonly name: string;
  /** ms after test start; the engine waits this long before calling run(). */
  readonly startTime: number;
  /** ms that running iterations get to finish after the scenario's regular end. */
  readonly gracefulStop: number;
  /** Name of the exported function to run (its existence is checked by the engine). */
  readonly exec: string;
  /** Extra __ENV entries for this scenario's VUs. */
  readonly env: Readonly<Record<string, string>>;
  /** Extra tags for this scenario's samples. */
  readonly tags: Readonly<Record<string, string>>;
  /** The plan for the given segment (a fraction [from, to] of the whole; [0,1] by default). */
  plan(segment: ExecutionSegment): ExecutionPlan;
  /** k6's one-line description for the "scenarios:" header, e.g. "10 looping VUs for 30s (gracefulStop: 30s)". */
  description(segment: ExecutionSegment): string;
  /** Makes the runtime that runs this scenario on that segment. */
  newRuntime(segment: ExecutionSegment): ExecutorRuntime;
}

/** The runtime of one scenario. */
export interface ExecutorRuntime {
  /**
   * Runs the scenario to its end (including graceful stop). Resolves, never rejects for script
   * errors; rejects with HerdError('internal') only when the engine breaks the contract (no VU
   * in the pool although the plan reserved it).
   */
  run(env: ExecutorEnv): Promise<void>;
}

/**
 * k6's SegmentedIndex: walks this segment's share of the global 1-based sequence 1, 2, 3, …
 * `scaled` counts the elements this segment owns so far, `unscaled` is the global position of
 * the last one (0 before the first).
 */
export interface SegmentedIndex {
  /** How many elements of the segment were passed (1-based position in the segment). */
  readonly scaled: number;
  /** The global 1-based position of the current element; 0 when scaled is 0. */
  readonly unscaled: number;
  /** Moves to the segment's next element. */
  next(): void;
  /** Moves to the segment's previous element; undefined below 0. */
  prev(): void;
  /** Moves to the segment's last element whose global position is ≤ value. */
  goTo(value: number): void;
}

/**
 * An execution segment: this instance's share of the whole test, as k6 defines it
 * (a sub-range of [0,1] within a sequence). The full test is the segment [0,1] of sequence [0,1].
 */
export interface ExecutionSegment {
  /** Scales an integer (VUs, iterations) to this segment's share exactly, with k6's striping. */
  scale(value: number): number;
  /** Scales a rate without rounding. */
  scaleRate(value: number): number;
  /** Start of the segment (display only; arithmetic is exact inside). */
  readonly from: number;
  /** End of the segment (display only; arithmetic is exact inside). */
  readonly to: number;
  /** The sequence this segment belongs to, as k6 writes it ("0,1/3,2/3,1"); "0,1" for the full test. */
  readonly sequence: string;
  /** "from:to" with exact fractions, as k6 writes a segment ("0:1", "1/3:2/3"). */
  toString(): string;
  /** A new striped iterator over this segment's share (k6's NewSegmentedIndex). */
  newIndex(): SegmentedIndex;
  /**
   * k6's GetNewExecutionTupleFromValue: the segment re-cut so that each segment of the sequence
   * gets scale(value)/value of the whole (shared-iterations splits iterations in the proportion
   * its VUs were split). Null when this segment gets none of `value`.
   */
  forValue(value: number): ExecutionSegment | null;
}
