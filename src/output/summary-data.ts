import type { MetricType, ValueType } from '../metrics/metric.js';

/** One check of a group as it appears in `root_group` (k6's handleSummary data). */
export interface SummaryCheck {
  name: string;
  path: string;
  id: string;
  passes: number;
  fails: number;
}

/** One group as it appears in `root_group`: sub-groups and checks in order of first use. */
export interface SummaryGroup {
  name: string;
  path: string;
  id: string;
  groups: SummaryGroup[];
  checks: SummaryCheck[];
}

/** The outcome of one threshold, keyed by its source text in `SummaryMetric.thresholds`. */
export interface SummaryThreshold {
  ok: boolean;
}

/**
 * One metric or sub-metric of the summary. `values` holds, per type: counter `count`, `rate`;
 * gauge `value`, `min`, `max`; rate `rate`, `passes`, `fails`; trend the stats named in
 * `options.summaryTrendStats`.
 */
export interface SummaryMetric {
  type: MetricType;
  contains: ValueType;
  values: Record<string, number>;
  thresholds?: Record<string, SummaryThreshold>;
}

/** The summary options k6 passes along in `data.options`. */
export interface SummaryOptions {
  summaryTrendStats: string[];
  /** '' when unset; otherwise 's', 'ms' or 'us'. */
  summaryTimeUnit: string;
  noColor: boolean;
}

/** Facts about the run k6 passes along in `data.state`. */
export interface SummaryState {
  isStdOutTTY: boolean;
  isStdErrTTY: boolean;
  testRunDurationMs: number;
}

/**
 * The argument of a script's `handleSummary(data)`, with k6's field names. The engine builds
 * it; `textSummary`, `summaryExport` and scripts read it. Mutable, as in k6: scripts delete
 * metrics before printing, and the CLI fills in the TTY facts.
 */
export interface SummaryData {
  root_group: SummaryGroup;
  options: SummaryOptions;
  state: SummaryState;
  /** Metrics and sub-metrics by name (`http_req_duration{expected_response:true}`). */
  metrics: Record<string, SummaryMetric>;
  /** What `setup()` returned, after its JSON round trip; absent when there was no setup. */
  setup_data?: unknown;
}
