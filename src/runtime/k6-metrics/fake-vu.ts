/**
 * A fake TestContext and VuState for the runtime modules' unit tests: a real MetricRegistry
 * with k6's built-in metrics, a sink and a logger that record what they get, a GroupTree.
 * Not used by the engine; it lives here because every runtime-module test needs the same fakes.
 */
import { runtimeOptions, type Options } from '../../config/options.js';
import { HerdError } from '../../errors/index.js';
import { GroupTree } from '../../metrics/group-tree.js';
import { defineBuiltinMetrics, MetricRegistry, type Metric } from '../../metrics/metric.js';
import type { SampleSink } from '../../metrics/sink.js';
import { TagSet } from '../../metrics/tags.js';
import type { LogLevel, Logger, TestContext, VuPhase, VuState } from '../vu-state.js';

/** One sample as the recording sink received it. */
export interface RecordedSample {
  readonly metric: Metric;
  readonly tags: TagSet;
  readonly value: number;
  readonly time: number | undefined;
}

/** A SampleSink that keeps every sample, for assertions. */
export class RecordingSink implements SampleSink {
  /** Every sample added, in order. */
  readonly samples: RecordedSample[] = [];

  /** Records the sample. */
  add(metric: Metric, tags: TagSet, value: number, time?: number): void {
    this.samples.push({ metric, tags, value, time });
  }
}

/** One log line as the recording logger received it. */
export interface LogLine {
  readonly level: LogLevel;
  readonly message: string;
  readonly fields: Readonly<Record<string, string>> | undefined;
}

/** A Logger that keeps every line, for assertions. */
export class RecordingLogger implements Logger {
  /** Every line logged, in order. */
  readonly lines: LogLine[] = [];

  /** Records the line. */
  log(level: LogLevel, message: string, fields?: Readonly<Record<string, string>>): void {
    this.lines.push({ level, message, fields });
  }
}

/** A TestContext whose sink and logger can be inspected. */
export interface FakeTest extends TestContext {
  readonly sink: RecordingSink;
  readonly logger: RecordingLogger;
}

/** Builds a fake test context; `options` are script options as written (defaults applied). */
export function createFakeTest(options: Options = {}): FakeTest {
  const registry = new MetricRegistry();
  return {
    options: runtimeOptions(options),
    registry,
    metrics: defineBuiltinMetrics(registry),
    sink: new RecordingSink(),
    groups: new GroupTree(),
    logger: new RecordingLogger(),
    startTime: () => 0,
    abortTest(reason: string): never {
      throw new HerdError('test_aborted', reason);
    },
    exportedOptions: {},
    scriptArrayBuffer: (bytes: Uint8Array) => new Uint8Array(bytes).buffer,
    ScriptPromise: Promise,
    scriptCopy: (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown,
    shared: new Map(),
    vusInitialized: () => 1,
    vusActive: () => 1,
    iterationsCompleted: () => 0,
    iterationsInterrupted: () => 0,
  };
}

/** Builds a fake VU of `test`, in the init phase with no tags unless told otherwise. */
export function createFakeVu(test: TestContext, id = 1, phase: VuPhase = 'init', tags: TagSet = TagSet.EMPTY): VuState {
  return {
    test,
    idInInstance: id,
    idInTest: id,
    iteration: 0,
    phase,
    scenario: null,
    groupPath: '',
    tags,
    metadata: {},
    signal: new AbortController().signal,
    local: new Map(),
  };
}
