import type { StatusChange } from '../../src/protocol/index.js';
import { h, row, table } from './dom.js';
import { ms, num, percent, preciseTime } from './format.js';
import type { CheckRow, HttpRow, ThresholdRow } from './run-data.js';
import { WARNING_ADVICE } from './run-data.js';
import { statusBadge } from './status-badge.js';
import type { RunWarning } from './wire.js';

// The run page's tables, as plain DOM: the page shows them and the offline report copies
// their markup, so both always say the same.

/** Formats a threshold's value by its stat: rates as %, counts as numbers, the rest as ms. */
function thresholdValue(t: ThresholdRow): string {
  if (t.value === null) return '—';
  if (t.stat === 'rate') return percent(t.value);
  if (t.stat === 'count' || t.stat === 'value') return num(t.value, 2);
  return t.metric.includes('duration') || t.metric.includes('waiting') || t.metric.includes('blocked') ? ms(t.value) : num(t.value, 2);
}

/** The thresholds table. */
export function thresholdsTable(rows: readonly ThresholdRow[]): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'muted' }, 'This run has no thresholds.');
  return table(['Metric', 'Expression', 'Value', 'Result', 'abortOnFail'], rows.map((t) =>
    row([
      h('td', { class: 'mono' }, t.metric),
      h('td', { class: 'mono' }, t.expression),
      h('td', { class: 'num' }, thresholdValue(t)),
      h('td', null, t.passed === null ? h('span', { class: 'result result--none' }, 'pending') : h('span', { class: `result result--${t.passed ? 'passed' : 'failed'}` }, t.passed ? 'pass' : 'fail')),
      h('td', null, t.abortOnFail ? h('span', { class: 'tag' }, 'abortOnFail') : '', t.abortedRun ? h('strong', { class: 'aborted-by' }, ' aborted the run') : ''),
    ], { class: t.abortedRun ? 'threshold aborted-run' : 'threshold', 'data-metric': t.metric, 'data-expression': t.expression })), { 'data-testid': 'thresholds' });
}

/** Checks, grouped by group. */
export function checksTable(rows: readonly CheckRow[]): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'muted' }, 'No checks so far.');
  return table(['Group', 'Check', 'Passes', 'Fails', 'Success'], rows.map((c) =>
    row([c.group, c.name, h('td', { class: 'num' }, num(c.passes, 0)), h('td', { class: `num${c.fails > 0 ? ' bad' : ''}` }, num(c.fails, 0)),
      h('td', { class: 'num' }, percent(c.passes + c.fails === 0 ? null : c.passes / (c.passes + c.fails)))],
    { 'data-check': c.name, 'data-group': c.group })), { 'data-testid': 'checks' });
}

/** HTTP requests by name/URL, method and status. */
export function httpTable(rows: readonly HttpRow[]): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'muted' }, 'No HTTP requests so far.');
  return h('div', null,
    table(['Request', 'Method', 'Status', 'Count', 'p(95)', 'Failures'], rows.map((r) =>
      row([r.request, r.method, r.status, h('td', { class: 'num' }, num(r.count, 0)), h('td', { class: 'num' }, ms(r.p95)),
        h('td', { class: `num${(r.failures ?? 0) > 0 ? ' bad' : ''}` }, num(r.failures, 0))])), { 'data-testid': 'http' }),
    rows.length === 1 ? h('p', { class: 'muted small' }, 'Per-request rows appear for sub-metrics the script names in thresholds, e.g. http_req_duration{name:login}.') : null);
}

/** The status timeline. */
export function timelineTable(changes: readonly StatusChange[]): HTMLElement {
  return table(['Time', 'Status', 'Reason', 'Message'], changes.map((c) =>
    row([h('td', { class: 'mono nowrap' }, preciseTime(c.at)), h('td', null, statusBadge(c.status)), h('td', { class: 'mono' }, c.reason), c.message],
      { 'data-reason': c.reason })), { 'data-testid': 'timeline' });
}

/** Warnings with their advice. */
export function warningsList(warnings: readonly RunWarning[]): HTMLElement {
  if (warnings.length === 0) return h('p', { class: 'muted' }, 'No warnings.');
  return h('ul', { class: 'warnings', 'data-testid': 'warnings' }, warnings.map((w) => {
    const advice = WARNING_ADVICE[w.code];
    const carriesAdvice = advice === undefined || w.message.includes(advice.slice(0, 30));
    return h('li', { class: 'warning' },
      h('span', { class: 'mono nowrap' }, preciseTime(w.at)), ' ', h('span', { class: 'tag' }, w.code), ' ', w.message,
      carriesAdvice ? null : h('div', { class: 'advice' }, advice));
  }));
}
