import type { AggregateJSON, MetricType } from '../../metrics/index.js';

// What one metrics push of an external run (k6 run --out cloud) holds once decoded into herd's
// own aggregates. The decoder of k6's wire format (k6compat/metrics-v2.ts) makes it; ExternalRuns
// merges it and stores it as JSON, so a restarted control plane can rebuild a run's totals from
// its stored pushes without knowing k6's wire format.

/** One aggregation period of one time series. */
export interface ExternalBucket {
  /** Epoch ms the period starts (k6 sends whole seconds). */
  readonly startMs: number;
  /** The period's samples as one of herd's aggregates. */
  readonly aggregate: AggregateJSON;
}

/** One time series: a metric with one full tag set. */
export interface ExternalSeries {
  readonly tags: Readonly<Record<string, string>>;
  readonly buckets: readonly ExternalBucket[];
}

/** One metric of a push with its series. */
export interface ExternalMetric {
  readonly name: string;
  readonly type: MetricType;
  readonly series: readonly ExternalSeries[];
}

/** A decoded push. */
export interface ExternalMetricSet {
  /** Length of every bucket of the push, in ms (k6's aggregation period). */
  readonly periodMs: number;
  readonly metrics: readonly ExternalMetric[];
}
