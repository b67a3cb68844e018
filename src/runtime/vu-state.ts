import type { RuntimeOptions } from '../config/options.js';
import type { BuiltinMetrics, MetricRegistry } from '../metrics/metric.js';
import type { SampleSink } from '../metrics/sink.js';
import type { TagSet } from '../metrics/tags.js';
import type { GroupTree } from '../metrics/group-tree.js';
import type { AbortLike } from './vu-signal.js';

/** Where a VU is in the test's life: init code, setup(), an iteration, teardown(), handleSummary(). */
export type VuPhase = 'init' | 'setup' | 'iteration' | 'teardown' | 'summary';

/** Log levels of the script console and of engine messages. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Receives log lines; `fields` become `key=value` suffixes as in k6. */
export interface Logger {
  log(level: LogLevel, message: string, fields?: Readonly<Record<string, string>>): void;
}

/** What the currently running scenario exposes to k6/execution. */
export interface ScenarioInfo {
  readonly name: string;
  readonly executor: string;
  /** Epoch ms when the scenario started. */
  readonly startTime: number;
  /** Iteration number of this VU in this scenario (0-based), k6's iterationInInstance. */
  iterationInInstance: number;
  /** Unique iteration number across the test for this scenario (0-based). */
  iterationInTest: number;
  /** Scenario progress, 0..1. */
  progress(): number;
}

/**
 * Test-wide state shared by every VU of this process (k6's "module root").
 * Runtime modules keep per-test data here; per-VU data lives in VuState.
 */
export interface TestContext {
  readonly options: RuntimeOptions;
  readonly registry: MetricRegistry;
  readonly metrics: BuiltinMetrics;
  readonly sink: SampleSink;
  readonly groups: GroupTree;
  readonly logger: Logger;
  /** Epoch ms when the test started running (after setup starts). */
  readonly startTime: () => number;
  /** Ends the test as `exec.test.abort(reason)` does (exit code 108). */
  abortTest(reason: string): never;
  /** The test's consolidated options object, as `exec.test.options` shows it. */
  readonly exportedOptions: Readonly<Record<string, unknown>>;
  /**
   * Copies bytes into an ArrayBuffer of the script's realm, so that `body instanceof
   * ArrayBuffer` holds in the script. Runtime modules hand binary data to scripts through it.
   */
  scriptArrayBuffer(bytes: Uint8Array): ArrayBuffer;
  /**
   * A copy of JSON-able data made of the script realm's objects: the script may read,
   * enumerate, serialize and change it like any object of its own, without reaching herd's.
   */
  scriptCopy(value: unknown): unknown;
  /**
   * The script realm's Promise. A promise a runtime module makes with it is awaited by the
   * script as its own (one made with Node's Promise has to be adopted first, see the prelude).
   */
  readonly ScriptPromise: PromiseConstructor;
  /** Per-test storage for runtime modules (SharedArray data, module roots). */
  readonly shared: Map<string, unknown>;
  /** Total VUs configured across scenarios (exec.instance.vusInitialized). */
  vusInitialized(): number;
  /** Active VUs now (exec.instance.vusActive). */
  vusActive(): number;
  /** Iterations completed / interrupted in this instance. */
  iterationsCompleted(): number;
  iterationsInterrupted(): number;
}

/**
 * One virtual user's mutable state, shared by the runtime modules of that VU.
 * Hot-path fields are plain properties: runtime modules read them on every request.
 */
export interface VuState {
  readonly test: TestContext;
  /** 1-based VU number within this process (k6 vu.idInInstance). */
  readonly idInInstance: number;
  /** 1-based VU number across the whole test (k6 vu.idInTest, __VU). 0 during setup/teardown. */
  readonly idInTest: number;
  /** __ITER: the VU's iteration number in its current scenario (0-based). */
  iteration: number;
  phase: VuPhase;
  /** The scenario the VU runs now, or null in init/setup/teardown. */
  scenario: ScenarioInfo | null;
  /** The current group path: '' at the root, '::a::b' inside groups a then b. */
  groupPath: string;
  /**
   * Tags applied to every sample the VU emits now: options.tags, scenario tags, `scenario`,
   * `group`, and tags set through exec.vu.tags. Kept as one interned TagSet.
   */
  tags: TagSet;
  /** Metadata (exec.vu.metadata), not added to samples. */
  readonly metadata: Record<string, string>;
  /** Aborted when the VU must stop now (hard stop, test abort). */
  signal: AbortLike;
  /** Per-VU storage for runtime modules (cookie jar, connection pool). */
  readonly local: Map<string, unknown>;
}

/**
 * A k6 built-in module, e.g. `k6/http`: a root made once per test and an instance made
 * once per VU, the object the script gets from `import`.
 */
export interface RuntimeModule {
  readonly specifier: string;
  instantiate(vu: VuState): Record<string, unknown>;
}

/**
 * The object a VU's script imports from a built-in module: the API object itself, whose
 * `default` (the default import) is that same object. A `{ default: api, ...api }` copy cost
 * every VU a second object with every export again; `default` is not enumerable, so the
 * default export still lists only the module's own names. `api` must be the VU's own object.
 */
export function moduleObject(api: object): Record<string, unknown> {
  Object.defineProperty(api, 'default', { value: api, enumerable: false, writable: true, configurable: true });
  return api as Record<string, unknown>;
}
