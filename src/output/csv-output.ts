import type { Writable } from 'node:stream';
import type { Metric } from '../metrics/metric.js';
import type { SampleSink } from '../metrics/sink.js';
import type { TagSet } from '../metrics/tags.js';
import { BufferedWriter, targetOf, type BufferOptions } from './buffered-writer.js';

/** How the CSV `timestamp` column is written (k6's `timeFormat`): unix seconds by default. */
export type CsvTimeFormat = 'unix' | 'unix_nano' | 'rfc3339';

/** Settings of the `--out csv` output. */
export interface CsvOutputOptions extends BufferOptions {
  /** The file to write; gzipped when it ends in `.gz`; `-` or '' means `stdout`. */
  path: string;
  /** Where `-` writes (the CLI passes process.stdout); required for `-`. */
  stdout?: Writable;
  /** Default `unix`. */
  timeFormat?: CsvTimeFormat;
  /** Epoch milliseconds for samples added without a time (default Date.now). */
  now?: () => number;
}

/** The system tags k6 gives their own CSV column by default, in k6's (sorted) order. */
export const CSV_TAG_COLUMNS: readonly string[] = [
  'check',
  'error',
  'error_code',
  'expected_response',
  'group',
  'method',
  'name',
  'proto',
  'scenario',
  'service',
  'status',
  'subproto',
  'tls_version',
  'url',
];

/** Tags k6 records as sample metadata rather than tags; they go to the `metadata` column. */
const METADATA_TAGS: ReadonlySet<string> = new Set(['vu', 'iter']);

/** k6's CSV header line. */
export const CSV_HEADER = ['metric_name', 'timestamp', 'metric_value', ...CSV_TAG_COLUMNS, 'extra_tags', 'metadata'].join(',');

const TAG_COLUMN_SET: ReadonlySet<string> = new Set(CSV_TAG_COLUMNS);

/**
 * k6's `--out csv`: a header, then one row per sample with the metric name, the time, the
 * value with six decimals, one column per common system tag, the other tags as
 * `k=v&k2=v2` in `extra_tags`, and `vu`/`iter` in `metadata`. Fields are quoted as Go's
 * encoding/csv quotes them.
 */
export class CsvOutput implements SampleSink {
  private readonly writer: BufferedWriter;
  private readonly timeFormat: CsvTimeFormat;
  private readonly now: () => number;
  private readonly names: Array<string | undefined> = [];
  /** Tag sets are interned, so the tag columns of a set are built once. */
  private readonly tagColumns = new WeakMap<TagSet, string>();
  private lastTime = Number.NaN;
  private lastTimeText = '';

  constructor(options: CsvOutputOptions) {
    this.writer = new BufferedWriter(targetOf(options.path, options.stdout, 'csv'), 'csv', options);
    this.timeFormat = options.timeFormat ?? 'unix';
    this.now = options.now ?? Date.now;
  }

  /** Opens the file and writes the header. */
  async start(): Promise<void> {
    await this.writer.open();
    this.writer.append(CSV_HEADER + '\n');
    this.writer.flush();
  }

  /** Writes one sample row. */
  add(metric: Metric, tags: TagSet, value: number, time?: number): void {
    let name = this.names[metric.id];
    if (name === undefined) {
      name = csvField(metric.name);
      this.names[metric.id] = name;
    }
    const t = time ?? this.now();
    if (t !== this.lastTime) {
      this.lastTime = t;
      this.lastTimeText = formatTime(t, this.timeFormat);
    }
    let columns = this.tagColumns.get(tags);
    if (columns === undefined) {
      columns = tagColumnsOf(tags);
      this.tagColumns.set(tags, columns);
    }
    this.writer.append(`${name},${this.lastTimeText},${value.toFixed(6)},${columns}\n`);
  }

  /** Writes what is buffered and closes the file. */
  async stop(): Promise<void> {
    await this.writer.close();
  }
}

function tagColumnsOf(tags: TagSet): string {
  const cells = CSV_TAG_COLUMNS.map((key) => csvField(tags.get(key) ?? ''));
  const extra: string[] = [];
  const metadata: string[] = [];
  const p = tags.pairs;
  for (let i = 0; i < p.length; i += 2) {
    const key = p[i] as string;
    if (TAG_COLUMN_SET.has(key)) continue;
    (METADATA_TAGS.has(key) ? metadata : extra).push(`${key}=${p[i + 1] as string}`);
  }
  cells.push(csvField(extra.join('&')), csvField(metadata.join('&')));
  return cells.join(',');
}

/** `time` (epoch ms) in the CSV's time format. */
function formatTime(time: number, format: CsvTimeFormat): string {
  switch (format) {
    case 'unix':
      return String(Math.floor(time / 1000));
    case 'unix_nano': {
      // Through strings: epoch nanoseconds exceed 2^53.
      const whole = Math.floor(time);
      const nanos = Math.min(999_999, Math.round((time - whole) * 1e6));
      return `${whole}${String(nanos).padStart(6, '0')}`;
    }
    case 'rfc3339':
      return new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
}

/** A field quoted the way Go's encoding/csv quotes it. */
export function csvField(text: string): string {
  if (text === '') return text;
  const needsQuotes = text === '\\.' || /[,"\r\n]/.test(text) || /^\s/.test(text);
  return needsQuotes ? `"${text.replaceAll('"', '""')}"` : text;
}
