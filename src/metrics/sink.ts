import type { Metric } from './metric.js';
import type { TagSet } from './tags.js';

/**
 * Where samples go. `add` is on the hot path: implementations aggregate in place and keep
 * no per-sample object. `time` is epoch milliseconds; when omitted, "now".
 * For a rate metric, `value` is 1 (pass / non-zero) or 0.
 */
export interface SampleSink {
  add(metric: Metric, tags: TagSet, value: number, time?: number): void;
}
