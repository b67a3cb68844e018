import type { ErrorPayload, ExitCodeValue } from '../errors/index.js';
import type { GroupNode, MetricsBatch } from '../metrics/index.js';
import type { LogLevel } from '../runtime/vu-state.js';
import type { ScriptArtifact } from '../script/index.js';
import type { EngineCounts } from './engine.js';

/**
 * Messages between the coordinator of a `herd run` and its worker threads. A worker owns one
 * execution segment: it compiles the prepared script, initializes its VUs, waits for `start`
 * (which carries setup()'s data), runs its share of every scenario, and streams metric batches
 * once a second. The coordinator merges them, evaluates thresholds, runs setup/teardown and
 * handleSummary, and tells every worker to stop when the test ends early.
 */

/** What a worker is started with (its workerData). */
export interface WorkerInit {
  readonly artifact: ScriptArtifact;
  readonly entry: string;
  readonly env: Readonly<Record<string, string>>;
  /** The consolidated options, as plain JSON (durations in ms). */
  readonly options: Record<string, unknown>;
  /** The instance's execution segment and sequence, as k6 writes them ('' for the whole test). */
  readonly segment: string;
  readonly sequence: string;
  /** This worker's part of the instance's segment: part `part` (0-based) of `parts`. */
  readonly part: number;
  readonly parts: number;
  /** SharedArray data made once by the coordinator's init run. */
  readonly sharedArrays: ReadonlyArray<{ readonly name: string; readonly json: string }>;
  /** Files packed in the run's archive (path → bytes), when it runs from one. */
  readonly files?: ReadonlyArray<readonly [string, Uint8Array]>;
  /** Whether raw samples must be forwarded (JSON/CSV outputs are on). */
  readonly forwardSamples: boolean;
}

/** A raw sample on its way to the coordinator's outputs: metric name, tag pairs, value, time. */
export type ForwardedSample = [string, readonly string[], number, number];

/** Coordinator → worker. */
export type ToWorker =
  | { readonly type: 'start'; readonly setupJSON: string | undefined; readonly startedAt: number }
  | { readonly type: 'stop'; readonly code: ExitCodeValue; readonly message: string };

/** Worker → coordinator. */
export type FromWorker =
  | { readonly type: 'ready'; readonly counts: EngineCounts }
  | { readonly type: 'metrics'; readonly batch: MetricsBatch; readonly counts: EngineCounts; readonly progress: readonly number[] }
  | { readonly type: 'samples'; readonly samples: readonly ForwardedSample[] }
  | { readonly type: 'log'; readonly level: LogLevel; readonly message: string; readonly fields?: Readonly<Record<string, string>> }
  | { readonly type: 'ended'; readonly code: ExitCodeValue; readonly message: string }
  | { readonly type: 'done'; readonly batch: MetricsBatch; readonly groups: GroupNode; readonly counts: EngineCounts }
  | { readonly type: 'failed'; readonly error: ErrorPayload };
