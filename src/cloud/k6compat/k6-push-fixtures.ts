// Test fixtures: metrics pushes built as k6's cloud output sends them (K6-CLOUD-API.md §3.3),
// with an encoder of its own (the real google.protobuf.Timestamp, its own schema text, its own
// HDR bucketing written from the spec), so that the decoder is checked against an independent
// reading of the protocol rather than against itself.
import protobuf from 'protobufjs';
import snappy from 'snappyjs';

const SCHEMA = `
syntax = "proto3";
package fixture.k6push;
import "google/protobuf/timestamp.proto";
enum Kind { KIND_UNSPECIFIED = 0; KIND_COUNTER = 1; KIND_GAUGE = 2; KIND_RATE = 3; KIND_TREND = 4; }
message Set { string test_run_id = 1; uint32 aggregation_period = 2; repeated M metrics = 3; }
message M { string name = 1; Kind type = 2; repeated S time_series = 3; }
message L { string name = 1; string value = 2; }
message S {
  repeated L labels = 1;
  oneof samples { CS counter_samples = 2; GS gauge_samples = 3; RS rate_samples = 4; TS trend_hdr_samples = 5; }
}
message CS { repeated CV values = 1; }
message CV { google.protobuf.Timestamp time = 1; double value = 2; }
message GS { repeated GV values = 1; }
message GV { google.protobuf.Timestamp time = 1; double last = 2; uint32 count = 3; double min = 4; double max = 5; double avg = 6; }
message RS { repeated RV values = 1; }
message RV { google.protobuf.Timestamp time = 1; uint32 nonzero_count = 2; uint32 total_count = 3; }
message TS { repeated TV values = 1; }
message Span { uint32 offset = 1; uint32 length = 2; }
message TV {
  google.protobuf.Timestamp time = 1; repeated uint32 counters = 2; repeated Span spans = 3;
  double sum = 5; uint32 count = 6; double min_value = 7; double max_value = 8;
  optional uint32 extra_low_values_counter = 9; optional uint32 extra_high_values_counter = 10;
  double min_resolution = 11; optional uint32 significant_digits = 12;
}
`;

const root = new protobuf.Root();
root.addJSON(protobuf.common.get('google/protobuf/timestamp.proto')?.nested ?? {});
protobuf.parse(SCHEMA, root, { keepCase: true });
const SetType = root.lookupType('fixture.k6push.Set');

/** One time series of a fixture push: its labels and, per period start (epoch s), one value. */
export type FixtureSeries =
  | { labels: Record<string, string>; counter: Array<{ t: number; value: number }> }
  | { labels: Record<string, string>; gauge: Array<{ t: number; last: number; count: number; min: number; max: number; avg: number }> }
  | { labels: Record<string, string>; rate: Array<{ t: number; nonzero: number; total: number }> }
  /** `override` replaces fields of the histogram built from `values`, to make inconsistent ones. */
  | { labels: Record<string, string>; trend: Array<{ t: number; values: number[]; override?: Partial<ReturnType<typeof hdrHistogram>> }> };

/** One metric of a fixture push; `type` is k6's MetricType number (1 counter … 4 trend, others invalid). */
export interface FixtureMetric {
  name: string;
  type: number;
  series: FixtureSeries[];
}

/** The protobuf bytes of a MetricSet, before compression. */
export function encodeMetricSet(metrics: FixtureMetric[], opts: { refId?: string; period?: number } = {}): Uint8Array {
  const ts = (t: number) => ({ seconds: t, nanos: 0 });
  const message = {
    test_run_id: opts.refId ?? '',
    aggregation_period: opts.period ?? 3,
    metrics: metrics.map((m) => ({
      name: m.name,
      type: m.type,
      time_series: m.series.map((s) => {
        const labels = Object.entries(s.labels).map(([name, value]) => ({ name, value }));
        if ('counter' in s) return { labels, counter_samples: { values: s.counter.map((v) => ({ time: ts(v.t), value: v.value })) } };
        if ('gauge' in s) return { labels, gauge_samples: { values: s.gauge.map((v) => ({ time: ts(v.t), last: v.last, count: v.count, min: v.min, max: v.max, avg: v.avg })) } };
        if ('rate' in s) return { labels, rate_samples: { values: s.rate.map((v) => ({ time: ts(v.t), nonzero_count: v.nonzero, total_count: v.total })) } };
        return { labels, trend_hdr_samples: { values: s.trend.map((v) => ({ time: ts(v.t), ...hdrHistogram(v.values), ...v.override })) } };
      }),
    })),
  };
  const checked = SetType.verify(message);
  if (checked !== null) throw new Error(`fixture is not a valid MetricSet: ${checked}`);
  return SetType.encode(SetType.fromObject(message)).finish();
}

/** A push body exactly as k6 sends it: snappy block format of the protobuf. */
export function k6PushBody(metrics: FixtureMetric[], opts: { refId?: string; period?: number } = {}): Buffer {
  return Buffer.from(snappy.compress(encodeMetricSet(metrics, opts)));
}

/** The headers k6's cloud output sends with a push (§1.2, §3.3). */
export function k6PushHeaders(secret: string, key: string): Record<string, string> {
  return {
    authorization: `Token ${secret}`,
    'content-type': 'application/x-protobuf',
    'content-encoding': 'snappy',
    'k6-metrics-protocol-version': '2.0',
    'user-agent': 'k6cloud/0.49.0',
    'k6-idempotency-key': key,
  };
}

/** §3.3, forward: a value over the 0.001 resolution, rounded up, to its bucket index. */
export function hdrIndexOf(value: number): number {
  const u = Math.ceil(value / 0.001);
  if (u < 256) return u;
  const n = 32 - Math.clz32(u >> 7) - 1;
  return (n << 7) + (u >> n);
}

/** An HDR histogram of `values` as k6 builds it (non-negative values, resolution 0.001). */
export function hdrHistogram(values: number[]): {
  counters: number[]; spans: Array<{ offset: number; length: number }>; sum: number; count: number; min_value: number; max_value: number; min_resolution: number;
} {
  const byIndex = new Map<number, number>();
  for (const v of values) {
    const i = hdrIndexOf(v);
    byIndex.set(i, (byIndex.get(i) ?? 0) + 1);
  }
  const indexes = [...byIndex.keys()].sort((a, b) => a - b);
  const counters = indexes.map((i) => byIndex.get(i) as number);
  const spans: Array<{ offset: number; length: number }> = [];
  let next = 0;
  for (const i of indexes) {
    const last = spans[spans.length - 1];
    if (last !== undefined && i === next) last.length++;
    else spans.push({ offset: spans.length === 0 ? i : i - next, length: 1 });
    next = i + 1;
  }
  return {
    counters, spans, sum: values.reduce((a, b) => a + b, 0), count: values.length,
    min_value: Math.min(...values), max_value: Math.max(...values), min_resolution: 0.001,
  };
}

/** k6's exact percentile (linear interpolation between the nearest ranks), for comparisons. */
export function exactPercentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 1) return s[0] as number;
  const i = (p / 100) * (s.length - 1);
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (i - lo);
}
