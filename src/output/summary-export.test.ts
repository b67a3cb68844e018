import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summaryExport } from './summary-export.js';
import type { SummaryData } from './summary-data.js';

const data: SummaryData = {
  root_group: {
    name: '',
    path: '',
    id: 'r',
    checks: [{ name: 'is 200', path: '::is 200', id: 'c1', passes: 3, fails: 1 }],
    groups: [{ name: 'g', path: '::g', id: 'g1', checks: [], groups: [] }],
  },
  options: { summaryTrendStats: ['avg'], summaryTimeUnit: '', noColor: true },
  state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: 1000 },
  metrics: {
    checks: { type: 'rate', contains: 'default', values: { rate: 0.75, passes: 3, fails: 1 }, thresholds: { 'rate>0.9': { ok: false } } },
    http_req_duration: { type: 'trend', contains: 'time', values: { avg: 12.5, 'p(95)': 20 }, thresholds: { 'p(95)<500': { ok: true } } },
    iterations: { type: 'counter', contains: 'default', values: { count: 4, rate: 4 }, thresholds: {} },
  },
  setup_data: { token: 'x' },
};

test('the export flattens metrics to values, with thresholds as failed flags', () => {
  const doc = JSON.parse(summaryExport(data));
  assert.deepEqual(doc.metrics, {
    checks: { passes: 3, fails: 1, thresholds: { 'rate>0.9': true }, value: 0.75 },
    http_req_duration: { avg: 12.5, 'p(95)': 20, thresholds: { 'p(95)<500': false } },
    iterations: { count: 4, rate: 4 },
  });
});

test('a rate metric lists value last, as k6 writes it', () => {
  const doc = JSON.parse(summaryExport(data));
  assert.deepEqual(Object.keys(doc.metrics.checks), ['passes', 'fails', 'thresholds', 'value']);
});

test('the export keys groups and checks by name and drops options and state', () => {
  const doc = JSON.parse(summaryExport(data));
  assert.deepEqual(Object.keys(doc), ['root_group', 'metrics', 'setup_data']);
  assert.deepEqual(doc.root_group, {
    name: '',
    path: '',
    id: 'r',
    groups: { g: { name: 'g', path: '::g', id: 'g1', groups: {}, checks: {} } },
    checks: { 'is 200': { name: 'is 200', path: '::is 200', id: 'c1', passes: 3, fails: 1 } },
  });
  assert.deepEqual(doc.setup_data, { token: 'x' });
});

test('the export is indented by four spaces', () => {
  assert.ok(summaryExport(data).startsWith('{\n    "root_group": {\n        "name": ""'));
});

test('the export leaves the input untouched', () => {
  summaryExport(data);
  assert.equal(data.metrics['checks']?.values['rate'], 0.75);
  assert.ok('options' in data);
});
