// Decoding of k6's metrics push, protocol v2 (K6-CLOUD-API.md §3.3): the body of
// `POST /v2/metrics/{reference_id}` is a protobuf `MetricSet` compressed with snappy's *block*
// format. Each time series carries one value per aggregation period; counters, gauges and rates
// map one to one onto herd's aggregates, trends arrive as HDR histogram buckets and become a
// herd trend with exact count/sum/min/max and a sketch of the buckets' values.
import protobuf from 'protobufjs';
import snappy from 'snappyjs';
import { TrendSketch, type AggregateJSON, type MetricType } from '../../metrics/index.js';
import { ApiError } from '../api/errors.js';
import type { ExternalMetric, ExternalMetricSet, ExternalSeries } from '../runs/external-metric-set.js';

/**
 * The MetricSet schema of §3.3, written out here. `Timestamp` has the wire shape of
 * google.protobuf.Timestamp (seconds = 1, nanos = 2), which is all that decoding needs.
 */
export const METRIC_SET_PROTO = `
syntax = "proto3";
package herd.k6out;

message Timestamp { int64 seconds = 1; int32 nanos = 2; }

enum MetricType { UNSPECIFIED = 0; COUNTER = 1; GAUGE = 2; RATE = 3; TREND = 4; }

message MetricSet { string test_run_id = 1; uint32 aggregation_period = 2; repeated Metric metrics = 3; }
message Metric { string name = 1; MetricType type = 2; repeated TimeSeries time_series = 3; }
message Label { string name = 1; string value = 2; }
message TimeSeries {
  repeated Label labels = 1;
  oneof samples {
    CounterSamples counter_samples = 2;
    GaugeSamples gauge_samples = 3;
    RateSamples rate_samples = 4;
    TrendHdrSamples trend_hdr_samples = 5;
  }
}
message CounterSamples { repeated CounterValue values = 1; }
message CounterValue { Timestamp time = 1; double value = 2; }
message GaugeSamples { repeated GaugeValue values = 1; }
message GaugeValue { Timestamp time = 1; double last = 2; uint32 count = 3; double min = 4; double max = 5; double avg = 6; }
message RateSamples { repeated RateValue values = 1; }
message RateValue { Timestamp time = 1; uint32 nonzero_count = 2; uint32 total_count = 3; }
message TrendHdrSamples { repeated TrendHdrValue values = 1; }
message BucketSpan { uint32 offset = 1; uint32 length = 2; }
message TrendHdrValue {
  Timestamp time = 1;
  repeated uint32 counters = 2;
  repeated BucketSpan spans = 3;
  double sum = 5;
  uint32 count = 6;
  double min_value = 7;
  double max_value = 8;
  optional uint32 extra_low_values_counter = 9;
  optional uint32 extra_high_values_counter = 10;
  double min_resolution = 11;
  optional uint32 significant_digits = 12;
}
`;

const root = protobuf.parse(METRIC_SET_PROTO, { keepCase: true }).root;
/** The MetricSet message type (tests encode with it). */
export const MetricSetType = root.lookupType('herd.k6out.MetricSet');

/** The largest decompressed push accepted; k6 sends at most 1,000 series per request, far below. */
export const MAX_DECODED_PUSH_BYTES = 64 * 1024 * 1024;
// k6 divides trend values by this before bucketing; it never sends another value (§3.3).
const DEFAULT_MIN_RESOLUTION = 0.001;

const TYPES: Readonly<Record<number, MetricType>> = { 1: 'counter', 2: 'gauge', 3: 'rate', 4: 'trend' };
const SAMPLES_OF: Readonly<Record<MetricType, string>> = {
  counter: 'counter_samples', gauge: 'gauge_samples', rate: 'rate_samples', trend: 'trend_hdr_samples',
};

/** Decodes a push body (snappy block of a protobuf MetricSet); throws a 400 ApiError that says what is wrong. */
export function decodeMetricsPush(body: Uint8Array, maxDecodedBytes = MAX_DECODED_PUSH_BYTES): ExternalMetricSet {
  const raw = uncompressBlock(body, maxDecodedBytes);
  let message: protobuf.Message;
  try {
    message = MetricSetType.decode(raw);
  } catch (e) {
    throw bad(`the body is not a protobuf MetricSet (K6-Metrics-Protocol-Version 2.0): ${e instanceof Error ? e.message : String(e)}`);
  }
  const set = MetricSetType.toObject(message, { longs: Number, defaults: true, oneofs: true }) as WireMetricSet;
  const periodSeconds = set.aggregation_period;
  if (!(periodSeconds > 0)) throw bad('aggregation_period must be a positive number of seconds, got 0');
  const periodMs = periodSeconds * 1000;
  const metrics = set.metrics.map((m, i) => decodeMetric(m, i));
  return { periodMs, metrics };
}

/** Snappy block format (not the framed one); snappyjs checks the declared length against the limit before allocating. */
function uncompressBlock(body: Uint8Array, maxDecodedBytes: number): Uint8Array {
  if (body.byteLength === 0) throw bad('the body is empty; it must be a snappy-compressed (block format) protobuf MetricSet');
  try {
    return snappy.uncompress(body, maxDecodedBytes);
  } catch (e) {
    throw bad(`the body is not valid snappy block data (Content-Encoding: snappy means the block format, not the framed one): ${e instanceof Error ? e.message : String(e)}`);
  }
}

function decodeMetric(m: WireMetric, index: number): ExternalMetric {
  const where = `metric ${index} ("${m.name}")`;
  if (m.name === '') throw bad(`metric ${index} has no name`);
  const type = TYPES[m.type];
  if (type === undefined) {
    throw bad(`${where} has an unknown metric type ${m.type}; k6 sends 1 (counter), 2 (gauge), 3 (rate) or 4 (trend)`);
  }
  const field = SAMPLES_OF[type];
  const series = m.time_series.map((ts, j): ExternalSeries => {
    const tags: Record<string, string> = {};
    for (const l of ts.labels) tags[l.name] = l.value;
    const samples = ts[field as keyof WireTimeSeries] as { values: unknown[] } | undefined;
    if (ts.samples !== undefined && ts.samples !== field) {
      throw bad(`time series ${j} of ${where}, a ${type}, carries ${ts.samples}; a ${type} carries ${field}`);
    }
    const values = samples?.values ?? [];
    return { tags, buckets: values.map((v, k) => bucketOf(type, v, `value ${k} of time series ${j} of ${where}`)) };
  });
  return { name: m.name, type, series };
}

function bucketOf(type: MetricType, value: unknown, where: string): { startMs: number; aggregate: AggregateJSON } {
  const v = value as WireValue;
  const startMs = v.time === null || v.time === undefined ? NaN : v.time.seconds * 1000 + Math.floor(v.time.nanos / 1e6);
  if (!Number.isFinite(startMs) || startMs <= 0) throw bad(`${where} has no time`);
  switch (type) {
    case 'counter':
      return { startMs, aggregate: { type: 'counter', samples: 1, sum: finite(v.value, `${where}: value`) } };
    case 'gauge': {
      const count = v.count ?? 0;
      // k6 v0.49 writes min and max swapped (§3.3); the smaller one is the minimum either way.
      const a = finite(v.min, `${where}: min`);
      const b = finite(v.max, `${where}: max`);
      return {
        startMs,
        aggregate: { type: 'gauge', samples: Math.max(1, count), last: finite(v.last, `${where}: last`), lastTime: startMs, min: Math.min(a, b), max: Math.max(a, b) },
      };
    }
    case 'rate': {
      const passes = v.nonzero_count ?? 0;
      const total = v.total_count ?? 0;
      if (passes > total) throw bad(`${where}: nonzero_count ${passes} is more than total_count ${total}`);
      return { startMs, aggregate: { type: 'rate', passes, total } };
    }
    case 'trend':
      return { startMs, aggregate: trendOf(v, where) };
  }
}

/**
 * The value range of HDR bucket `index`, in units of the minimal resolution (§3.3): the value
 * was divided by the resolution and rounded up to an integer u; u < 256 has its own bucket, above
 * that a bucket holds 2ⁿ consecutive integers.
 */
export function hdrBucketRange(index: number): { lo: number; hi: number } {
  if (index < 256) return { lo: index, hi: index };
  const n = (index >> 7) - 1;
  const m = (index & 127) + 128;
  return { lo: m * 2 ** n, hi: (m + 1) * 2 ** n - 1 };
}

function trendOf(v: WireValue, where: string): AggregateJSON {
  const counters = v.counters ?? [];
  const spans = v.spans ?? [];
  const count = v.count ?? 0;
  const low = v.extra_low_values_counter ?? 0;
  const high = v.extra_high_values_counter ?? 0;
  const resolution = v.min_resolution !== undefined && v.min_resolution > 0 ? v.min_resolution : DEFAULT_MIN_RESOLUTION;
  const min = finite(v.min_value, `${where}: min_value`);
  const max = finite(v.max_value, `${where}: max_value`);
  const sum = finite(v.sum, `${where}: sum`);
  const covered = spans.reduce((s, x) => s + x.length, 0);
  if (covered !== counters.length) {
    throw bad(`${where}: its spans cover ${covered} buckets but it has ${counters.length} counters`);
  }
  const sketch = new TrendSketch();
  let index = 0;
  let c = 0;
  let inBuckets = 0;
  spans.forEach((span, k) => {
    // The first span's offset is an absolute bucket index, every later one the gap since the previous span.
    index = k === 0 ? span.offset : index + span.offset;
    for (let j = 0; j < span.length; j++, index++) {
      const n = counters[c++] as number;
      if (n === 0) continue;
      const { lo, hi } = hdrBucketRange(index);
      // A value v went to u = ceil(v / resolution), so the bucket holds (lo − 1, hi] × resolution:
      // its middle, kept within the exact min and max, stands for all of them.
      const middle = lo === 0 ? 0 : ((lo - 1 + hi) / 2) * resolution;
      sketch.add(Math.min(max, Math.max(min, middle)), n);
      inBuckets += n;
    }
  });
  if (low > 0) sketch.add(min, low);
  if (high > 0) sketch.add(max, high);
  if (inBuckets + low + high !== count) {
    throw bad(`${where}: count is ${count} but its buckets hold ${inBuckets + low + high} values`);
  }
  if (count === 0) return { type: 'trend', count: 0, sum: 0, min: 0, max: 0, values: [] };
  if (min > max) throw bad(`${where}: min_value ${min} is greater than max_value ${max}`);
  return { type: 'trend', count, sum, min, max, sketch: sketch.toJSON() };
}

function finite(n: number | undefined, what: string): number {
  const v = n ?? 0;
  if (!Number.isFinite(v)) throw bad(`${what} is ${v}, not a finite number`);
  return v;
}

function bad(message: string): ApiError {
  return new ApiError('invalid_request', message, { fields: [{ path: 'body', message }] });
}

// The shapes protobufjs' toObject gives (longs as numbers, defaults filled, the oneof's name in `samples`).
interface WireMetricSet { test_run_id: string; aggregation_period: number; metrics: WireMetric[] }
interface WireMetric { name: string; type: number; time_series: WireTimeSeries[] }
interface WireTimeSeries {
  labels: Array<{ name: string; value: string }>;
  samples?: string;
  counter_samples?: { values: unknown[] };
  gauge_samples?: { values: unknown[] };
  rate_samples?: { values: unknown[] };
  trend_hdr_samples?: { values: unknown[] };
}
interface WireValue {
  time?: { seconds: number; nanos: number } | null;
  value?: number;
  last?: number; count?: number; min?: number; max?: number; avg?: number;
  nonzero_count?: number; total_count?: number;
  counters?: number[]; spans?: Array<{ offset: number; length: number }>; sum?: number;
  min_value?: number; max_value?: number; extra_low_values_counter?: number; extra_high_values_counter?: number;
  min_resolution?: number;
}
