import type { Run, RunResult, RunStatus, StatusChange } from '../../src/protocol/index.js';

// Answers the dashboard reads that are declared in src/cloud/api/api-schemas.ts rather than in
// src/protocol (the dashboard imports protocol types only). Mirrored here by hand until they
// move. TODO(#4): import them from src/protocol once the envelopes and live events live there.

/** A metric's 1 s points (`GET /runs/:id/metrics/:metric`). */
export interface MetricSeries {
  readonly runId: string;
  readonly metric: string;
  readonly points: readonly MetricPoint[];
}
/** One second of a metric: `t` in epoch ms, values by stat (`count`, `rate`, `p(95)`, …). */
export interface MetricPoint {
  readonly t: number;
  readonly values: Readonly<Record<string, number>>;
}

/** One metric of k6's summary data. */
export interface SummaryMetric {
  readonly type: 'counter' | 'gauge' | 'rate' | 'trend';
  readonly contains?: string;
  readonly values: Readonly<Record<string, number>>;
  readonly thresholds?: Readonly<Record<string, { ok: boolean }>>;
}
/** A group of k6's summary data, with its checks. */
export interface SummaryGroup {
  readonly name: string;
  readonly path: string;
  readonly groups: readonly SummaryGroup[];
  readonly checks: readonly { name: string; path: string; passes: number; fails: number }[];
}
/** k6's summary data (`GET /runs/:id/summary`). */
export interface SummaryData {
  readonly metrics?: Readonly<Record<string, SummaryMetric>>;
  readonly root_group?: SummaryGroup;
  readonly state?: { testRunDurationMs?: number };
}

/** A warning raised on a run (`GET /runs/:id/warnings`). */
export interface RunWarning {
  readonly code: string;
  readonly message: string;
  readonly at: string;
}

/** Live events (`GET /events`, SSE). */
export type LiveEvent =
  | { type: 'status'; runId: string; status: RunStatus; result: RunResult; change: StatusChange }
  | { type: 'progress'; runId: string; at: number; vus: number; vusMax: number; rps: number; iterations: number; progress: number }
  | { type: 'warning'; runId: string; code: string; message: string; at: number }
  | { type: 'log'; runId: string; level: string; message: string; at: number };

/** A page of runs. */
export interface RunPage {
  readonly runs: Run[];
  readonly nextBefore: string | null;
}
