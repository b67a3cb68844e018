import type { Run, ThresholdResult } from '../../../src/protocol/index.js';
import { api } from '../api.js';
import { testsById } from '../catalog.js';
import type { LineChart } from '../charts.js';
import { h, replace, row, table } from '../dom.js';
import { bytes, duration, ms, num, percent, runElapsedMs, time } from '../format.js';
import type { Page } from '../page.js';
import { columnsOf, fetchSeries, thresholdRows } from '../run-data.js';
import { resultBadge, statusBadge } from '../status-badge.js';
import type { SummaryData, SummaryMetric } from '../wire.js';
import { fillRunCharts, makeRunCharts } from './run.js';

// Two runs of the same test side by side: thresholds, key metrics, and the charts overlaid
// on "seconds since start".

interface Side {
  run: Run;
  thresholds: ThresholdResult[];
  summary: SummaryData;
}

async function load(id: string): Promise<Side> {
  const [run, t, s] = await Promise.all([
    api.get<Run>(`/runs/${id}`),
    api.get<{ thresholds: ThresholdResult[] }>(`/runs/${id}/thresholds`),
    api.get<{ summary: SummaryData }>(`/runs/${id}/summary`),
  ]);
  return { run, thresholds: t.thresholds, summary: s.summary };
}

const KEY_METRICS: readonly [string, string, string, (v: number | undefined) => string][] = [
  ['Requests', 'http_reqs', 'count', (v) => num(v, 0)],
  ['Requests/s', 'http_reqs', 'rate', (v) => num(v, 1)],
  ['http_req_duration avg', 'http_req_duration', 'avg', (v) => ms(v)],
  ['http_req_duration med', 'http_req_duration', 'med', (v) => ms(v)],
  ['http_req_duration p(90)', 'http_req_duration', 'p(90)', (v) => ms(v)],
  ['http_req_duration p(95)', 'http_req_duration', 'p(95)', (v) => ms(v)],
  ['http_req_duration max', 'http_req_duration', 'max', (v) => ms(v)],
  ['Failure rate', 'http_req_failed', 'rate', (v) => percent(v)],
  ['Checks passed', 'checks', 'rate', (v) => percent(v)],
  ['Iterations', 'iterations', 'count', (v) => num(v, 0)],
  ['Data received', 'data_received', 'count', (v) => bytes(v)],
  ['Data sent', 'data_sent', 'count', (v) => bytes(v)],
];

/** `#/compare/:a/:b` */
export const comparePage: Page = async (main, [a = '', b = ''], scope) => {
  const [left, right, tests] = await Promise.all([load(a), load(b), testsById()]);
  if (!scope.alive) return;
  const sides = [left, right];
  const name = tests.get(left.run.testId)?.name ?? `test ${left.run.testId}`;
  const label = (s: Side) => `#${s.run.id}`;
  const warn = left.run.testId === right.run.testId ? null
    : h('p', { class: 'banner banner--bad' }, `These runs belong to different tests (${left.run.testId} and ${right.run.testId}); comparing them may mislead.`);

  const value = (s: Side, metric: string, stat: string): number | undefined => (s.summary.metrics?.[metric] as SummaryMetric | undefined)?.values[stat];
  const delta = (x: number | undefined, y: number | undefined) => (x === undefined || y === undefined || x === 0 ? '' : `${y >= x ? '+' : ''}${(((y - x) / x) * 100).toFixed(1)}%`);

  const tRows = new Map<string, (boolean | null)[]>();
  sides.forEach((s, i) => {
    for (const t of thresholdRows(s.run, s.thresholds, s.summary)) {
      const key = `${t.metric}: ${t.expression}`;
      const r = tRows.get(key) ?? [null, null];
      r[i] = t.passed;
      tRows.set(key, r);
    }
  });
  const pass = (p: boolean | null | undefined) => (p === null || p === undefined ? h('span', { class: 'muted' }, '—') : h('span', { class: `result result--${p ? 'passed' : 'failed'}` }, p ? 'pass' : 'fail'));

  const charts = makeRunCharts([label(left), label(right)], 'elapsed');
  scope.add(() => Object.values(charts).forEach((c: LineChart) => c.destroy()));
  replace(main,
    h('div', { class: 'page-head' }, h('h1', null, `Compare ${name}: ${label(left)} and ${label(right)}`)),
    warn,
    h('section', { class: 'card' }, h('h2', null, 'Runs'), table(['', label(left), label(right)], [
      row(['Status', statusBadge(left.run.status), statusBadge(right.run.status)]),
      row(['Result', resultBadge(left.run.result), resultBadge(right.run.result)]),
      row(['Created', time(left.run.createdAt), time(right.run.createdAt)]),
      row(['VUs', String(left.run.vus), String(right.run.vus)]),
      row(['Duration', duration(runElapsedMs(left.run)), duration(runElapsedMs(right.run))]),
    ])),
    h('section', { class: 'card' }, h('h2', null, 'Thresholds'), tRows.size === 0 ? h('p', { class: 'muted' }, 'No thresholds.')
      : table(['Threshold', label(left), label(right)], [...tRows].map(([k, [x, y]]) => row([h('td', { class: 'mono' }, k), h('td', null, pass(x)), h('td', null, pass(y))])))),
    h('section', { class: 'card' }, h('h2', null, 'Key metrics'), table(['Metric', label(left), label(right), 'Change'], KEY_METRICS.map(([title, metric, stat, fmt]) => {
      const x = value(left, metric, stat);
      const y = value(right, metric, stat);
      return row([title, h('td', { class: 'num' }, fmt(x)), h('td', { class: 'num' }, fmt(y)), h('td', { class: 'num' }, delta(x, y))]);
    }), { 'data-testid': 'key-metrics' })),
    h('section', { class: 'card' }, h('h2', null, 'Charts (seconds since start)'),
      h('div', { class: 'charts' }, charts.vus.el, charts.rps.el, charts.duration.el, charts.failures.el, charts.data.el)));

  const cols = await Promise.all(sides.map(async (s) => columnsOf(await fetchSeries(s.run.id), new Map(), s.run.startedAt === null ? undefined : Date.parse(s.run.startedAt))));
  if (scope.alive) fillRunCharts(charts, cols);
};
