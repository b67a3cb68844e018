import { runtimeOptions, type Options } from '../config/index.js';
import {
  addExpectedResponseSubmetric,
  buildSummaryMetrics,
  Collector,
  parseTrendStats,
  Thresholds,
  type MetricRegistry,
  type SampleSink,
  type SummaryMetrics,
  type ThresholdsEvaluation,
} from '../metrics/index.js';
import type { Metric } from '../metrics/metric.js';
import type { TagSet } from '../metrics/tags.js';

/** The outcome of one threshold evaluation, as the engine acts on it. */
export interface ThresholdVerdict {
  /** At least one threshold crossed. */
  readonly failed: boolean;
  /** Metric keys with crossed thresholds. */
  readonly failedMetrics: readonly string[];
  /** Non-empty when an abortOnFail threshold says stop now: the crossed keys. */
  readonly abort: readonly string[];
}

/** Sends each sample to the collector and to every output. */
class TeeSink implements SampleSink {
  constructor(private readonly sinks: readonly SampleSink[]) {}
  add(metric: Metric, tags: TagSet, value: number, time?: number): void {
    const t = time ?? Date.now();
    for (const s of this.sinks) s.add(metric, tags, value, t);
  }
}

/**
 * The metrics side of a run: the collector every sample goes to, the outputs that see
 * raw samples, thresholds evaluated on the merged aggregates, and the periodic ticks
 * (vus gauges every second, thresholds every two seconds).
 */
export class MetricsPipeline {
  readonly collector: Collector;
  readonly sink: SampleSink;
  private thresholds: Thresholds | undefined;
  private trendStats: readonly string[] | undefined;
  private lastEvaluation: ThresholdsEvaluation | undefined;
  private timers: NodeJS.Timeout[] = [];

  constructor(registry: MetricRegistry, outputs: readonly SampleSink[]) {
    // Nobody flushes this collector's periods (workers and agents flush their own).
    this.collector = new Collector(registry, Date.now, { periods: false });
    this.sink = outputs.length === 0 ? this.collector : new TeeSink([this.collector, ...outputs]);
  }

  /** Parses thresholds and summary stats from the consolidated options (exit 104 on errors). */
  configure(options: Options, registry: MetricRegistry): void {
    // k6 always reports http_req_duration{expected_response:true} once there are requests.
    if (runtimeOptions(options).systemTags.has('expected_response')) addExpectedResponseSubmetric(this.collector);
    if (options.summaryTrendStats !== undefined) {
      parseTrendStats(options.summaryTrendStats);
      this.trendStats = options.summaryTrendStats;
    }
    if (options.thresholds !== undefined) {
      const t = Thresholds.parse(options.thresholds);
      t.validate(registry);
      t.attach(this.collector);
      this.thresholds = t;
    }
  }


  /** Starts the periodic ticks. */
  startTicking(everySecond: () => void, thresholdsTick: () => void, thresholdEveryMs: number): void {
    const a = setInterval(everySecond, 1000);
    const b = setInterval(thresholdsTick, thresholdEveryMs);
    a.unref();
    b.unref();
    this.timers.push(a, b);
  }

  /** Stops the periodic ticks (safe to call twice). */
  stopTicking(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** Evaluates the thresholds now; `final` at the end of the test. */
  evaluate(elapsedMs: number, final = false): ThresholdVerdict {
    if (this.thresholds === undefined) return { failed: false, failedMetrics: [], abort: [] };
    const ev = this.thresholds.evaluate(this.collector, elapsedMs, { final });
    this.lastEvaluation = ev;
    return { failed: !ev.passed, failedMetrics: ev.crossedKeys, abort: ev.abort ? ev.crossedKeys : [] };
  }

  /** k6's handleSummary `metrics` object, using the last evaluation's results. */
  summaryMetrics(durationMs: number): SummaryMetrics {
    return buildSummaryMetrics(this.collector, {
      testDurationMs: durationMs,
      summaryTrendStats: this.trendStats,
      thresholds: this.thresholds,
      evaluation: this.lastEvaluation,
    });
  }
}
