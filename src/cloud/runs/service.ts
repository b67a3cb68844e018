import type { OrgId, ProjectId, RunId, TestId } from '../../protocol/ids.js';
import type { Run, RunResult } from '../../protocol/run.js';
import type { RunStatus } from '../../protocol/run-status.js';
import type { StatusChange } from '../../protocol/status-change.js';

/**
 * The contract between the HTTP API (src/cloud/api) and the run lifecycle (src/cloud/runs,
 * src/cloud/scheduler). The API authenticates, validates bodies and maps errors to HTTP; the
 * service owns every status change, the queue, the agents and the live metrics.
 */

/** A live event about a run, for SSE subscribers and the CLI's follow mode. */
export type RunEvent =
  | { readonly type: 'status'; readonly orgId: OrgId; readonly runId: RunId; readonly status: RunStatus; readonly result: RunResult; readonly change: StatusChange }
  | {
      readonly type: 'progress';
      readonly orgId: OrgId;
      readonly runId: RunId;
      /** Epoch ms of the second these numbers describe. */
      readonly at: number;
      readonly vus: number;
      readonly vusMax: number;
      /** Requests per second over the last second. */
      readonly rps: number;
      readonly iterations: number;
      /** Fraction of the planned duration elapsed, 0..1. */
      readonly progress: number;
    }
  | { readonly type: 'warning'; readonly orgId: OrgId; readonly runId: RunId; readonly code: string; readonly message: string; readonly at: number }
  | { readonly type: 'log'; readonly orgId: OrgId; readonly runId: RunId; readonly level: string; readonly message: string; readonly at: number };

/** What a client submits to start a run. */
export interface SubmitRun {
  readonly projectId: ProjectId;
  /** The test to run: an existing one, or created by name in the project. */
  readonly testId?: TestId;
  readonly testName?: string;
  /** The run's archive (src/script/archive format). */
  readonly archive: Uint8Array;
}

/** A point of a metric time series at 1 s resolution. */
export interface MetricPoint {
  /** Epoch ms of the second. */
  readonly t: number;
  /** k6 stats of that second: count/rate for counters, rate for rates, value for gauges, avg/min/med/max/p(90)/p(95)/p(99) for trends. */
  readonly values: Readonly<Record<string, number>>;
}

/** The run lifecycle as the API sees it. */
export interface RunService {
  /**
   * Stores the archive and creates the run, then validates it (Created → Validated → Queued,
   * or Created → Aborted by script error / Aborted by limit with the reason). Resolves with
   * the run as stored after validation.
   */
  submit(orgId: OrgId, input: SubmitRun): Promise<Run>;
  /** Aborts a run (Aborted by user); undefined when the run does not exist for this org. */
  abort(orgId: OrgId, runId: RunId): Promise<Run | undefined>;
  /** Subscribes to live events of every run; returns the unsubscribe function. */
  subscribe(listener: (event: RunEvent) => void): () => void;
  /** 1 s points of a metric (optionally a sub-metric like `http_req_duration{status:200}`) in [fromMs, toMs]. */
  metricSeries(orgId: OrgId, runId: RunId, metric: string, fromMs?: number, toMs?: number): Promise<MetricPoint[] | undefined>;
  /** k6's summary of the run so far (or final): handleSummary-style `metrics` and `root_group`. */
  summary(orgId: OrgId, runId: RunId): Promise<Record<string, unknown> | undefined>;
  /** Estimated VU-hours of an archive's plan, before it runs. */
  estimate(orgId: OrgId, archive: Uint8Array): Promise<{ vus: number; durationSeconds: number; vuHours: number }>;
  /** Stops timers, tells agents to stop, closes transports (safe to call twice). */
  close(): Promise<void>;
}
