/**
 * Metrics: tag sets, the metric registry, mergeable aggregates, the sample collector,
 * thresholds and the handleSummary `metrics` data. The only entry point of this folder.
 */
export { TagSet } from './tags.js';
export {
  Metric,
  MetricRegistry,
  defineBuiltinMetrics,
  type BuiltinMetrics,
  type MetricType,
  type ValueType,
} from './metric.js';
export type { SampleSink } from './sink.js';
export { GroupTree, type GroupNode, type CheckNode } from './group-tree.js';
export {
  TrendSketch,
  SKETCH_RELATIVE_ACCURACY,
  SKETCH_MAX_BUCKETS,
  type TrendSketchJSON,
} from './trend-sketch.js';
export {
  CounterAggregate,
  GaugeAggregate,
  RateAggregate,
  TrendAggregate,
  TREND_EXACT_LIMIT,
  createAggregate,
  mergeAggregate,
  aggregateFromJSON,
  type Aggregate,
  type AggregateJSON,
  type CounterJSON,
  type GaugeJSON,
  type RateJSON,
  type TrendJSON,
} from './aggregates.js';
export { parseSubmetricKey, type SubmetricKey } from './submetric-key.js';
export {
  Collector,
  Submetric,
  type BatchMetric,
  type BatchSeries,
  type MetricsBatch,
} from './collector.js';
export {
  parseThresholdExpression,
  compareThreshold,
  AGGREGATIONS_BY_TYPE,
  type AggregationMethod,
  type ThresholdOperator,
  type ThresholdExpression,
  type ThresholdParseResult,
} from './threshold-parser.js';
export {
  Thresholds,
  type Threshold,
  type ThresholdDefinition,
  type ThresholdsConfig,
  type ThresholdResult,
  type ThresholdsEvaluation,
} from './thresholds.js';
export {
  buildSummaryMetrics,
  parseTrendStats,
  summaryValues,
  trendStatValue,
  addExpectedResponseSubmetric,
  DEFAULT_SUMMARY_TREND_STATS,
  type TrendStat,
  type SummaryMetric,
  type SummaryMetrics,
  type SummaryMetricsOptions,
} from './summary-data.js';
export { splitBatch } from './split-batch.js';
