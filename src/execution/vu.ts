import type { ExecutorVU } from '../executor/types.js';
import type { IterationRun } from './engine.js';
import { TagSet } from '../metrics/tags.js';
import type { ScenarioInfo, TestContext, VuState } from '../runtime/vu-state.js';
import { VuAbortSignal } from '../runtime/vu-signal.js';

/** The tags every sample of a VU starts from: options.tags plus an empty `group` tag, as in k6. */
export function baseTags(test: TestContext): TagSet {
  let t = TagSet.from(test.options.tags);
  if (test.options.systemTags.has('group')) t = t.with('group', '');
  return t;
}

/** What every VU of one scenario shares: computed once per scenario, not per iteration. */
export interface ScenarioContext {
  readonly name: string;
  readonly executor: string;
  /** The scenario's base tags (options.tags, scenario tags, `scenario`, empty `group`). */
  readonly tags: TagSet;
  /** __ENV inside the scenario: the global env plus the scenario's env, one object for all VUs. */
  readonly env: Record<string, string>;
  readonly startTime: () => number;
  readonly progress: () => number;
}

/** A VU's exec.scenario view of one scenario, updated in place every iteration. */
class ScenarioSlot implements ScenarioInfo {
  iterationInInstance = 0;
  iterationInTest = 0;
  /** Iterations this VU started in the scenario (the next __ITER). */
  started = 0;
  constructor(readonly ctx: ScenarioContext) {}
  get name(): string {
    return this.ctx.name;
  }
  get executor(): string {
    return this.ctx.executor;
  }
  get startTime(): number {
    return this.ctx.startTime();
  }
  progress(): number {
    return this.ctx.progress();
  }
}

/**
 * A virtual user: its state, its own instance of the script module, and its private copy
 * of the setup data (parsed once, so changes it makes persist across its iterations only).
 *
 * Per-VU memory is what limits how many VUs one machine holds, so a VU keeps only what is
 * its own; what all VUs of a scenario share (env, tags) lives once in the ScenarioContext.
 */
export class VU implements ExecutorVU {
  readonly state: VuState;
  exports: Record<string, unknown> = {};
  /** The VU's copy of setup() data; undefined until first used. */
  setupData: unknown = undefined;
  hasSetupData = false;
  /** __ENV as this VU sees it now (the global env, or its scenario's while in a scenario). */
  env: Record<string, string>;
  /** The slot of the first scenario the VU ran; a Map only for VUs that run several scenarios. */
  private firstSlot: ScenarioSlot | undefined;
  private slots: Map<ScenarioContext, ScenarioSlot> | undefined;
  private current: ScenarioContext | undefined;
  /** The engine's iteration runner for this VU, made on its first iteration (see Engine). */
  iterationRun: IterationRun | null = null;
  /**
   * performance.now() when the engine recorded the VU's last iteration, -1 when it has no such
   * time to hand on (see ExecutorEnv.iterationEnd).
   */
  iterationEndedAt = -1;
  /** The hard-stop signal of the iteration the VU runs now, null between iterations (see Engine). */
  runningUnder: AbortSignal | null = null;
  /** Aborts the VU's current iteration; replaced once used. */
  private controller = new VuAbortSignal();

  constructor(
    test: TestContext,
    readonly idInInstance: number,
    idInTest: number,
    globalEnv: Record<string, string>,
  ) {
    this.env = globalEnv;
    this.state = {
      test,
      idInInstance,
      idInTest,
      iteration: 0,
      phase: 'init',
      scenario: null,
      groupPath: '',
      tags: baseTags(test),
      metadata: {},
      signal: this.controller,
      local: new Map(),
    };
  }

  /**
   * Prepares an iteration of `scenario`: tags, env, exec.scenario and the abort signal as k6
   * sets them. Returns __ITER. Allocates nothing in the steady state (a new abort signal
   * only after an interruption).
   */
  beginIteration(scenario: ScenarioContext, iterationInTest: number): number {
    const state = this.state;
    let slot: ScenarioSlot | undefined;
    if (this.current !== scenario) {
      slot = this.slotOf(scenario);
      this.current = scenario;
      this.env = scenario.env;
      state.scenario = slot;
    } else {
      slot = state.scenario as ScenarioSlot;
    }
    state.tags = scenario.tags;
    state.groupPath = '';
    const iteration = slot.started++;
    slot.iterationInInstance = iteration;
    slot.iterationInTest = iterationInTest;
    state.iteration = iteration;
    state.phase = 'iteration';
    if (this.controller.aborted) this.controller = new VuAbortSignal();
    state.signal = this.controller;
    return iteration;
  }

  private slotOf(scenario: ScenarioContext): ScenarioSlot {
    const first = this.firstSlot;
    if (first === undefined) return (this.firstSlot = new ScenarioSlot(scenario));
    if (first.ctx === scenario) return first;
    this.slots ??= new Map();
    let slot = this.slots.get(scenario);
    if (slot === undefined) {
      slot = new ScenarioSlot(scenario);
      this.slots.set(scenario, slot);
    }
    return slot;
  }

  /** The signal that aborts this VU's current iteration (hard stop or end of the test). */
  get signal(): VuAbortSignal {
    return this.controller;
  }

  /**
   * Interrupts the VU's current iteration. The engine calls it for every VU linked to a hard
   * stop, rather than each VU listening on shared signals: thousands of listeners on one
   * AbortSignal make every addEventListener a linear scan.
   */
  abort(reason: unknown): void {
    this.controller.abort(reason);
  }
}
