import type { Writable } from 'node:stream';
import type { Metric } from '../metrics/metric.js';
import type { SampleSink } from '../metrics/sink.js';
import type { TagSet } from '../metrics/tags.js';
import { BufferedWriter, targetOf, type BufferOptions } from './buffered-writer.js';

/** Settings of the `--out json` output. */
export interface JsonOutputOptions extends BufferOptions {
  /** The file to write; gzipped when it ends in `.gz`; `-` or '' means `stdout`. */
  path: string;
  /** Where `-` writes (the CLI passes process.stdout); required for `-`. */
  stdout?: Writable;
  /** Threshold sources by metric name, listed in each metric's `Metric` line as k6 does. */
  thresholds?: Readonly<Record<string, readonly string[]>>;
  /** Epoch milliseconds for samples added without a time (default Date.now). */
  now?: () => number;
}

/**
 * k6's `--out json`: one JSON object per line. The first sample of each metric is preceded by
 * a `{"type":"Metric",...}` line describing it; every sample is a `{"type":"Point",...}` line
 * with an RFC 3339 time (UTC, milliseconds), the value and the sample's tags.
 */
export class JsonOutput implements SampleSink {
  private readonly writer: BufferedWriter;
  private readonly thresholds: Readonly<Record<string, readonly string[]>>;
  private readonly now: () => number;
  /** `,"metric":"<name>"}\n` per metric id, built once: names are fixed. */
  private readonly pointEnds: Array<string | undefined> = [];
  /** Tag sets are interned, so their JSON text is computed once per set. */
  private readonly tagJson = new WeakMap<TagSet, string>();
  private lastTime = Number.NaN;
  private lastTimeText = '';

  constructor(options: JsonOutputOptions) {
    this.writer = new BufferedWriter(targetOf(options.path, options.stdout, 'json'), 'json', options);
    this.thresholds = options.thresholds ?? {};
    this.now = options.now ?? Date.now;
  }

  /** Opens the file. */
  async start(): Promise<void> {
    await this.writer.open();
  }

  /** Writes one sample (and its metric's description before the metric's first sample). */
  add(metric: Metric, tags: TagSet, value: number, time?: number): void {
    let end = this.pointEnds[metric.id];
    if (end === undefined) {
      end = `},"metric":${JSON.stringify(metric.name)}}\n`;
      this.pointEnds[metric.id] = end;
      this.writer.append(this.metricLine(metric));
    }
    const t = time ?? this.now();
    if (t !== this.lastTime) {
      this.lastTime = t;
      this.lastTimeText = new Date(t).toISOString();
    }
    let tagText = this.tagJson.get(tags);
    if (tagText === undefined) {
      tagText = JSON.stringify(tags.toObject());
      this.tagJson.set(tags, tagText);
    }
    // Go's encoder rejects NaN and infinities; null keeps the line valid JSON.
    const valueText = Number.isFinite(value) ? String(value) : 'null';
    this.writer.append(`{"type":"Point","data":{"time":"${this.lastTimeText}","value":${valueText},"tags":${tagText}${end}`);
  }

  /** Writes what is buffered and closes the file. */
  async stop(): Promise<void> {
    await this.writer.close();
  }

  private metricLine(metric: Metric): string {
    const data = {
      name: metric.name,
      type: metric.type,
      contains: metric.contains,
      thresholds: this.thresholds[metric.name] ?? [],
      submetrics: null,
    };
    return `{"type":"Metric","data":${JSON.stringify(data)},"metric":${JSON.stringify(metric.name)}}\n`;
  }
}
