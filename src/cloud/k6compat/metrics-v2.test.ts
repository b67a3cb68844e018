import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import snappy from 'snappyjs';
import { TrendAggregate, type TrendJSON } from '../../metrics/index.js';
import { ApiError } from '../api/errors.js';
import { encodeMetricSet, exactPercentile, hdrHistogram, k6PushBody } from './k6-push-fixtures.js';
import { decodeMetricsPush, hdrBucketRange } from './metrics-v2.js';

const T0 = 1_700_000_001;

function decodeError(body: Uint8Array, maxDecodedBytes?: number): ApiError {
  try {
    decodeMetricsPush(body, maxDecodedBytes);
  } catch (e) {
    assert.ok(e instanceof ApiError, String(e));
    return e;
  }
  assert.fail('the body decoded');
}

describe('HDR buckets (K6-CLOUD-API.md §3.3)', () => {
  it('builds the histogram of 0.5, 0.5, 1.2 and 250 ms as worked out by hand', () => {
    // 0.5 ms → u = 500: n = bitlen(500 >> 7 = 3) − 1 = 1, i = 128 + 250 = 378
    // 1.2 ms → u = 1200: n = bitlen(9) − 1 = 3, i = 384 + 150 = 534
    // 250 ms → u = 250000: n = bitlen(1953) − 1 = 10, i = 1280 + 244 = 1524
    const h = hdrHistogram([0.5, 0.5, 1.2, 250]);
    assert.deepEqual(h.counters, [2, 1, 1]);
    assert.deepEqual(h.spans, [{ offset: 378, length: 1 }, { offset: 155, length: 1 }, { offset: 989, length: 1 }]);
  });

  it('maps each bucket index back to the range of integers k6 put in it', () => {
    assert.deepEqual(hdrBucketRange(0), { lo: 0, hi: 0 });
    assert.deepEqual(hdrBucketRange(255), { lo: 255, hi: 255 });
    assert.deepEqual(hdrBucketRange(256), { lo: 256, hi: 257 });
    assert.deepEqual(hdrBucketRange(378), { lo: 500, hi: 501 });
    assert.deepEqual(hdrBucketRange(534), { lo: 1200, hi: 1207 });
    assert.deepEqual(hdrBucketRange(1524), { lo: 249856, hi: 250879 });
    // Every integer falls in the range of the bucket k6's forward formula gives it.
    for (let u = 1; u < 300_000; u += 37) {
      const n = u < 256 ? -1 : 32 - Math.clz32(u >> 7) - 1;
      const i = u < 256 ? u : (n << 7) + (u >> n);
      const { lo, hi } = hdrBucketRange(i);
      assert.ok(lo <= u && u <= hi, `u=${u} i=${i} [${lo}, ${hi}]`);
    }
  });
});

describe('decodeMetricsPush', () => {
  it('decodes a trend with exact count, sum, min and max, and percentiles within the bucket error', () => {
    const values = Array.from({ length: 2000 }, (_, i) => 5 + ((i * 7919) % 1000) * 0.731);
    const set = decodeMetricsPush(k6PushBody([{ name: 'http_req_duration', type: 4, series: [{ labels: { status: '200' }, trend: [{ t: T0, values }] }] }]));
    assert.equal(set.periodMs, 3000);
    const m = set.metrics[0];
    assert.equal(m?.name, 'http_req_duration');
    assert.equal(m?.type, 'trend');
    assert.deepEqual(m?.series[0]?.tags, { status: '200' });
    const bucket = m?.series[0]?.buckets[0];
    assert.equal(bucket?.startMs, T0 * 1000);
    const json = bucket?.aggregate as TrendJSON;
    const trend = TrendAggregate.fromJSON(json);
    assert.equal(trend.count, 2000);
    assert.equal(trend.sum, values.reduce((a, b) => a + b, 0));
    assert.equal(trend.minValue, Math.min(...values));
    assert.equal(trend.maxValue, Math.max(...values));
    for (const p of [50, 90, 95, 99]) {
      const want = exactPercentile(values, p);
      const got = trend.quantile(p / 100);
      // HDR buckets are at most 1/128 wide and the sketch adds at most 1%.
      assert.ok(Math.abs(got - want) / want < 0.02, `p(${p}): got ${got}, want ${want}`);
    }
  });

  it('decodes counters, gauges (min and max in either order, as k6 v0.49 swaps them) and rates', () => {
    const set = decodeMetricsPush(k6PushBody([
      { name: 'http_reqs', type: 1, series: [{ labels: { method: 'GET' }, counter: [{ t: T0, value: 12 }, { t: T0 + 3, value: 7 }] }] },
      { name: 'vus', type: 2, series: [{ labels: {}, gauge: [{ t: T0, last: 4, count: 3, min: 9, max: 2, avg: 5 }] }] },
      { name: 'checks', type: 3, series: [{ labels: { check: 'is 200' }, rate: [{ t: T0, nonzero: 9, total: 10 }] }] },
    ], { period: 3 }));
    assert.deepEqual(set.metrics.map((m) => [m.name, m.type]), [['http_reqs', 'counter'], ['vus', 'gauge'], ['checks', 'rate']]);
    assert.deepEqual(set.metrics[0]?.series[0]?.buckets, [
      { startMs: T0 * 1000, aggregate: { type: 'counter', samples: 1, sum: 12 } },
      { startMs: (T0 + 3) * 1000, aggregate: { type: 'counter', samples: 1, sum: 7 } },
    ]);
    assert.deepEqual(set.metrics[1]?.series[0]?.buckets[0]?.aggregate, { type: 'gauge', samples: 3, last: 4, lastTime: T0 * 1000, min: 2, max: 9 });
    assert.deepEqual(set.metrics[2]?.series[0]?.buckets[0]?.aggregate, { type: 'rate', passes: 9, total: 10 });
  });

  it('says what is wrong with a body that is not snappy, not a MetricSet or not consistent', () => {
    assert.match(decodeError(Buffer.from('not snappy at all, just text')).message, /snappy block/);
    assert.match(decodeError(new Uint8Array()).message, /empty/);
    // Valid snappy around bytes that are no protobuf (field 1 of wire type 7 does not exist).
    assert.match(decodeError(Buffer.from(snappy.compress(Buffer.from([0x0f, 0xff, 0xff, 0xff])))).message, /not a protobuf MetricSet/);
    const unknownType = decodeError(k6PushBody([{ name: 'x', type: 9, series: [] }]));
    assert.match(unknownType.message, /metric 0 \("x"\) has an unknown metric type 9/);
    assert.equal(unknownType.status, 400);
    assert.match(decodeError(k6PushBody([{ name: 'x', type: 0, series: [] }])).message, /unknown metric type 0/);
    assert.match(decodeError(k6PushBody([{ name: 'x', type: 1, series: [{ labels: {}, rate: [{ t: T0, nonzero: 1, total: 1 }] }] }])).message, /a counter carries counter_samples/);
    assert.match(decodeError(k6PushBody([{ name: 'x', type: 3, series: [{ labels: {}, rate: [{ t: T0, nonzero: 3, total: 1 }] }] }])).message, /nonzero_count 3 is more than total_count 1/);
    assert.match(decodeError(k6PushBody([], { period: 0 })).message, /aggregation_period/);
  });

  it('refuses a trend whose spans, counters and count disagree', () => {
    const trend = (override: Partial<ReturnType<typeof hdrHistogram>>) =>
      k6PushBody([{ name: 'd', type: 4, series: [{ labels: {}, trend: [{ t: T0, values: [1, 2, 3], override }] }] }]);
    assert.equal((decodeMetricsPush(trend({})).metrics[0]?.series[0]?.buckets[0]?.aggregate as TrendJSON).count, 3);
    assert.match(decodeError(trend({ counters: [1, 1] })).message, /value 0 of time series 0 of metric 0 \("d"\): its spans cover 3 buckets but it has 2 counters/);
    assert.match(decodeError(trend({ count: 5 })).message, /count is 5 but its buckets hold 3 values/);
  });

  it('refuses a body that decompresses to more than the limit before inflating it', () => {
    const big = Buffer.from(snappy.compress(new Uint8Array(100_000)));
    assert.match(decodeError(big, 1000).message, /too big/);
  });
});
