import { test } from 'node:test';
import assert from 'node:assert/strict';
import { textSummary, humanizeDuration, humanizeBytes, humanizeValue, defaultSummaryOutput } from './text-summary.js';
import type { SummaryData } from './summary-data.js';

function fixture(): SummaryData {
  return {
    root_group: {
      name: '',
      path: '',
      id: 'r',
      checks: [{ name: 'status is 200', path: '::status is 200', id: 'c1', passes: 10, fails: 0 }],
      groups: [
        {
          name: 'login',
          path: '::login',
          id: 'g1',
          checks: [{ name: 'token present', path: '::login::token present', id: 'c2', passes: 9, fails: 1 }],
          groups: [
            {
              name: 'nested',
              path: '::login::nested',
              id: 'g2',
              checks: [{ name: 'ok', path: '::login::nested::ok', id: 'c3', passes: 3, fails: 0 }],
              groups: [],
            },
          ],
        },
      ],
    },
    options: { summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'], summaryTimeUnit: '', noColor: false },
    state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: 41200 },
    metrics: {
      vus: { type: 'gauge', contains: 'default', values: { value: 1, min: 1, max: 19 } },
      iterations: {
        type: 'counter',
        contains: 'default',
        values: { count: 45, rate: 1.092345 },
        thresholds: { 'count>100': { ok: false } },
      },
      http_reqs: { type: 'counter', contains: 'default', values: { count: 180, rate: 4.369381 } },
      http_req_failed: { type: 'rate', contains: 'default', values: { rate: 0, passes: 0, fails: 180 } },
      'http_req_duration{expected_response:true}': {
        type: 'trend',
        contains: 'time',
        values: { avg: 99.5, min: 0.5, med: 0, max: 2000, 'p(90)': 0.0005, 'p(95)': 61000 },
      },
      http_req_duration: {
        type: 'trend',
        contains: 'time',
        values: { avg: 144.5, min: 104.25, med: 110.75, max: 1500, 'p(90)': 203.125, 'p(95)': 215.875 },
        thresholds: { 'p(95)<500': { ok: true } },
      },
      data_sent: { type: 'counter', contains: 'data', values: { count: 81000, rate: 2000 } },
      data_received: { type: 'counter', contains: 'data', values: { count: 1300000, rate: 31000 } },
      checks: { type: 'rate', contains: 'default', values: { rate: 0.95, passes: 19, fails: 1 } },
    },
  };
}

const CHECK_LINES = [
  '     ✓ status is 200',
  '',
  '     █ login',
  '',
  '       ✗ token present',
  '        ↳  90% — ✓ 9 / ✗ 1',
  '',
  '       █ nested',
  '',
  '         ✓ ok',
  '',
];

const METRIC_LINES = [
  '     checks.........................: 95.00% ✓ 19       ✗ 1   ',
  '     data_received..................: 1.3 MB 31 kB/s',
  '     data_sent......................: 81 kB  2.0 kB/s',
  '   ✓ http_req_duration..............: avg=144.5ms min=104.25ms med=110.75ms max=1.5s p(90)=203.12ms p(95)=215.87ms',
  '       { expected_response:true }...: avg=99.5ms  min=500µs    med=0s       max=2s   p(90)=500ns    p(95)=1m1s    ',
  '     http_req_failed................: 0.00%  ✓ 0        ✗ 180 ',
  '     http_reqs......................: 180    4.369381/s',
  '   ✗ iterations.....................: 45     1.092345/s',
  '     vus............................: 1      min=1      max=19',
];

test('the summary lists checks and the group tree, then metrics sorted with dotted names', () => {
  assert.deepEqual(textSummary(fixture(), { enableColors: false }).split('\n'), [...CHECK_LINES, ...METRIC_LINES]);
});

test('a custom indent prefixes every non-empty line', () => {
  const lines = textSummary(fixture(), { indent: '→', enableColors: false }).split('\n');
  assert.equal(lines[0], '→    ✓ status is 200');
  assert.equal(lines[11], '→    checks.........................: 95.00% ✓ 19       ✗ 1   ');
});

test('colors paint checks, threshold marks, dots and values as k6 does', () => {
  const lines = textSummary(fixture(), { enableColors: true }).split('\n');
  assert.equal(lines[0], '\x1b[32m     ✓ status is 200\x1b[0m');
  assert.equal(lines[4], '\x1b[31m       ✗ token present');
  assert.equal(lines[5], '        ↳  90% — ✓ 9 / ✗ 1\x1b[0m');
  const reqs = lines.find((l) => l.includes('http_reqs')) as string;
  assert.equal(reqs, '     http_reqs\x1b[2m......................:\x1b[0m \x1b[36m180\x1b[0m    \x1b[36;2m4.369381/s\x1b[0m');
  assert.ok(lines.some((l) => l.startsWith('   \x1b[32m✓\x1b[0m http_req_duration')));
  assert.ok(lines.some((l) => l.startsWith('   \x1b[31m✗\x1b[0m iterations')));
});

test('colors are on by default, as in k6 jslib', () => {
  assert.match(textSummary(fixture()), /\x1b\[/);
});

test('no ANSI sequence appears when colors are off', () => {
  assert.doesNotMatch(textSummary(fixture(), { enableColors: false }), /\x1b/);
});

test('summaryTimeUnit fixes the unit of every time value', () => {
  const data = fixture();
  data.options.summaryTimeUnit = 'ms';
  const line = textSummary(data, { enableColors: false }).split('\n').find((l) => l.includes('http_req_duration.'));
  assert.equal(line, '   ✓ http_req_duration..............: avg=144.50ms min=104.25ms med=110.75ms max=1500.00ms p(90)=203.13ms p(95)=215.88ms  ');
});

test('summaryTrendStats choose the trend columns, count printed as a plain number', () => {
  const data = fixture();
  data.options.summaryTrendStats = ['count', 'p(99)'];
  data.metrics = { t: { type: 'trend', contains: 'default', values: { count: 3, 'p(99)': 1.5 } } };
  assert.equal(textSummary(data, { enableColors: false }).split('\n').at(-1), '     t...: count=3 p(99)=1.5');
});

test('a metric with only passing thresholds is marked ✓ and one failing threshold makes it ✗', () => {
  const data = fixture();
  data.metrics = {
    a: { type: 'counter', contains: 'default', values: { count: 1, rate: 1 }, thresholds: { 'count>0': { ok: true }, 'count<5': { ok: true } } },
    b: { type: 'counter', contains: 'default', values: { count: 1, rate: 1 }, thresholds: { 'count>0': { ok: true }, 'count>5': { ok: false } } },
  };
  const lines = textSummary(data, { enableColors: false }).split('\n').slice(-2);
  assert.deepEqual(lines, ['   ✓ a...: 1 1/s', '   ✗ b...: 1 1/s']);
});

test('an empty root group prints only the metrics', () => {
  const data = fixture();
  data.root_group = { name: '', path: '', id: 'r', groups: [], checks: [] };
  data.metrics = { vus: { type: 'gauge', contains: 'default', values: { value: 2, min: 0, max: 3 } } };
  assert.equal(textSummary(data, { enableColors: false }), '     vus...: 2 min=0 max=3');
});

test('the default output wraps the summary in the blank lines k6 prints', () => {
  const out = defaultSummaryOutput(fixture(), { enableColors: false });
  assert.ok(out.startsWith('\n     ✓ status is 200\n'));
  assert.ok(out.endsWith('max=19\n\n'));
});

test('durations use the largest fitting unit, truncated to two decimals', () => {
  assert.equal(humanizeDuration(0), '0s');
  assert.equal(humanizeDuration(0.0005), '500ns');
  assert.equal(humanizeDuration(0.0125), '12.5µs');
  assert.equal(humanizeDuration(0.5), '500µs');
  assert.equal(humanizeDuration(999.999), '999.99ms');
  assert.equal(humanizeDuration(1500), '1.5s');
  assert.equal(humanizeDuration(59999), '59.99s');
  assert.equal(humanizeDuration(60000), '1m0s');
  assert.equal(humanizeDuration(61500), '1m1s');
  assert.equal(humanizeDuration(3723000), '1h2m3s');
});

test('a summary time unit gives two fixed decimals in that unit', () => {
  assert.equal(humanizeDuration(1500, 'ms'), '1500.00ms');
  assert.equal(humanizeDuration(1500, 's'), '1.50s');
  assert.equal(humanizeDuration(1.5, 'us'), '1500.00µs');
  assert.equal(humanizeDuration(1500, 'minutes'), '1.5s');
});

test('bytes use decimal units with one decimal below ten', () => {
  assert.equal(humanizeBytes(0), '0 B');
  assert.equal(humanizeBytes(9), '9 B');
  assert.equal(humanizeBytes(10), '10 B');
  assert.equal(humanizeBytes(999), '999 B');
  assert.equal(humanizeBytes(1000), '1.0 kB');
  assert.equal(humanizeBytes(1234567), '1.2 MB');
  assert.equal(humanizeBytes(81000), '81 kB');
  assert.equal(humanizeBytes(999999), '1000 kB');
  assert.equal(humanizeBytes(3.4e9), '3.4 GB');
});

test('rates truncate to two decimals and plain values drop trailing zeros', () => {
  const rate = { type: 'rate', contains: 'default' } as const;
  const plain = { type: 'counter', contains: 'default' } as const;
  assert.equal(humanizeValue(0.99999, rate), '99.99%');
  assert.equal(humanizeValue(1, rate), '100.00%');
  assert.equal(humanizeValue(1 / 3, plain), '0.333333');
  assert.equal(humanizeValue(2.5, plain), '2.5');
});

test('options passed to textSummary override the data options', () => {
  const data = fixture();
  data.metrics = { t: { type: 'trend', contains: 'time', values: { avg: 1500, max: 2000 } } };
  const text = textSummary(data, { enableColors: false, summaryTrendStats: ['max'], summaryTimeUnit: 's' });
  assert.equal(text.split('\n').at(-1), '     t...: max=2.00s');
});

test('a data object without options still prints with k6 default trend stats', () => {
  const partial = { root_group: { name: '', path: '', id: 'r', groups: [], checks: [] }, metrics: fixture().metrics } as unknown as SummaryData;
  const line = textSummary(partial, { enableColors: false }).split('\n').find((l) => l.includes('http_req_duration.'));
  assert.match(line ?? '', /avg=144\.5ms min=104\.25ms med=110\.75ms max=1\.5s p\(90\)=203\.12ms p\(95\)=215\.87ms/);
});
