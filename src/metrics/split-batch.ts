import type { BatchMetric, BatchSeries, MetricsBatch } from './collector.js';

/**
 * Cuts a batch into batches whose JSON stays under `maxBytes` each (a single series larger than
 * that gets a batch of its own), for transports with a message size limit: NATS refuses messages
 * over its max_payload (1 MiB by default), and one second of 5,000 series is about 2 MB of JSON.
 * Every part covers the same period; merging the parts, in any order, is merging the batch,
 * because a series' aggregate travels whole in exactly one part.
 */
export function splitBatch(batch: MetricsBatch, maxBytes: number): MetricsBatch[] {
  // Sizes are of each series' JSON, plus a fixed allowance for a metric's own fields in each part.
  const metricOverhead = 256;
  const whole = JSON.stringify(batch).length;
  if (whole <= maxBytes) return [batch];
  const parts: MetricsBatch[] = [];
  let metrics: BatchMetric[] = [];
  let size = 64;
  let open: { metric: BatchMetric; series: BatchSeries[] } | undefined;
  const close = (): void => {
    if (open !== undefined && open.series.length > 0) metrics.push({ ...open.metric, series: open.series });
    open = undefined;
  };
  const cut = (): void => {
    close();
    if (metrics.length > 0) parts.push({ startMs: batch.startMs, endMs: batch.endMs, metrics });
    metrics = [];
    size = 64;
  };
  for (const metric of batch.metrics) {
    size += metricOverhead;
    open = { metric, series: [] };
    for (const series of metric.series) {
      const bytes = JSON.stringify(series).length + 1;
      if (size + bytes > maxBytes && (metrics.length > 0 || open.series.length > 0)) {
        const current: BatchMetric = open.metric;
        cut();
        open = { metric: current, series: [] };
        size += metricOverhead;
      }
      open.series.push(series);
      size += bytes;
    }
    close();
  }
  cut();
  return parts;
}
