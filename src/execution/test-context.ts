import type { RuntimeOptions } from '../config/index.js';
import { TestAbortError } from '../runtime/k6-execution/index.js';
import type { Logger, TestContext } from '../runtime/vu-state.js';
import type { BuiltinMetrics, MetricRegistry } from '../metrics/metric.js';
import type { SampleSink } from '../metrics/sink.js';
import type { GroupTree } from '../metrics/group-tree.js';

/**
 * The engine's TestContext. Options start as defaults and are replaced once the script's
 * options are consolidated (the first init run reads them), before any VU makes a request.
 */
export class EngineTestContext implements TestContext {
  options: RuntimeOptions;
  exportedOptions: Readonly<Record<string, unknown>> = {};
  readonly shared = new Map<string, unknown>();
  started = Date.now();
  initialized = 0;
  active = 0;
  completed = 0;
  interrupted = 0;

  constructor(
    options: RuntimeOptions,
    readonly registry: MetricRegistry,
    readonly metrics: BuiltinMetrics,
    readonly sink: SampleSink,
    public groups: GroupTree,
    readonly logger: Logger,
  ) {
    this.options = options;
  }

  readonly startTime = (): number => this.started;
  /** Set by the engine once the script is compiled; a host-realm copy before that. */
  scriptArrayBuffer: (bytes: Uint8Array) => ArrayBuffer = (bytes) => new Uint8Array(bytes).buffer;
  ScriptPromise: PromiseConstructor = Promise;
  scriptCopy: (value: unknown) => unknown = (value) => JSON.parse(JSON.stringify(value)) as unknown;
  abortTest(reason: string): never {
    throw new TestAbortError(reason);
  }
  vusInitialized(): number {
    return this.initialized;
  }
  vusActive(): number {
    return this.active;
  }
  iterationsCompleted(): number {
    return this.completed;
  }
  iterationsInterrupted(): number {
    return this.interrupted;
  }
}
