import type { ExecutorVU } from '../executor/types.js';
import { TagSet } from '../metrics/tags.js';
import type { RuntimeModule, ScenarioInfo, TestContext, VuState } from '../runtime/vu-state.js';

/** The never-aborted signal VUs hold outside iterations. */
const IDLE_SIGNAL = new AbortController().signal;

/** The tags every sample of a VU starts from: options.tags plus an empty `group` tag, as in k6. */
export function baseTags(test: TestContext): TagSet {
  let t = TagSet.from(test.options.tags);
  if (test.options.systemTags.has('group')) t = t.with('group', '');
  return t;
}

/**
 * A virtual user: its state, its own instance of the script module, and its private copy
 * of the setup data (parsed once, so changes it makes persist across its iterations only).
 */
export class VU implements ExecutorVU {
  readonly state: VuState;
  exports: Record<string, unknown> = {};
  /** The VU's copy of setup() data; undefined until first used. */
  setupData: unknown = undefined;
  hasSetupData = false;
  /** __ENV as this VU sees it now (global env, plus the scenario's env while in a scenario). */
  env: Record<string, string>;
  /** Per-scenario iteration counters (k6 __ITER restarts per scenario). */
  readonly iterationsByScenario = new Map<string, number>();

  constructor(
    test: TestContext,
    readonly idInInstance: number,
    idInTest: number,
    readonly globalEnv: Readonly<Record<string, string>>,
  ) {
    this.env = { ...globalEnv };
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
      signal: IDLE_SIGNAL,
      local: new Map(),
    };
  }

  /** Enters a scenario: tags, env and exec context as k6 sets them. */
  enterScenario(name: string, scenarioTags: Readonly<Record<string, string>>, scenarioEnv: Readonly<Record<string, string>>, info: ScenarioInfo): void {
    const test = this.state.test;
    let tags = baseTags(test).merge(TagSet.from(scenarioTags));
    if (test.options.systemTags.has('scenario')) tags = tags.with('scenario', name);
    this.state.tags = tags;
    this.state.groupPath = '';
    this.state.scenario = info;
    this.env = Object.keys(scenarioEnv).length === 0 ? { ...this.globalEnv } : { ...this.globalEnv, ...scenarioEnv };
  }

  /** The module instances this VU's script gets for each built-in specifier. */
  static moduleInstances(modules: ReadonlyMap<string, RuntimeModule>, state: VuState): Map<string, Record<string, unknown>> {
    const out = new Map<string, Record<string, unknown>>();
    for (const [spec, mod] of modules) out.set(spec, mod.instantiate(state));
    return out;
  }

  /** Resets per-phase state to idle. */
  idle(): void {
    this.state.signal = IDLE_SIGNAL;
  }
}
