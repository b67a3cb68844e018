import type { Run, ThresholdResult } from '../../src/protocol/index.js';
import { api } from './api.js';
import type { MetricPoint, MetricSeries, SummaryData, SummaryGroup } from './wire.js';

// A run's numbers as the pages need them: the 1 s series behind the charts, threshold rows
// with their current values, checks by group, and HTTP requests by sub-metric.

/** The metrics the charts read, by name. */
export const CHART_METRICS = ['vus', 'http_reqs', 'http_req_duration', 'http_req_failed', 'data_received', 'data_sent'] as const;
/** One of the charted metrics. */
export type ChartMetric = (typeof CHART_METRICS)[number];

/** The charted metrics' points, by metric. */
export type RunSeries = Record<ChartMetric, readonly MetricPoint[]>;

/** Fetches every charted metric of a run. */
export async function fetchSeries(runId: string): Promise<RunSeries> {
  const all = await Promise.all(CHART_METRICS.map((m) => api.get<MetricSeries>(`/runs/${runId}/metrics/${encodeURIComponent(m)}`)));
  const out = {} as Record<ChartMetric, readonly MetricPoint[]>;
  CHART_METRICS.forEach((m, i) => (out[m] = all[i]?.points ?? []));
  return out;
}

/** Chart-ready columns: x in seconds and one column per line, aligned on the union of seconds. */
export interface Columns {
  readonly xs: number[];
  readonly vus: (number | null)[];
  readonly rps: (number | null)[];
  readonly p50: (number | null)[];
  readonly p95: (number | null)[];
  readonly p99: (number | null)[];
  readonly failRate: (number | null)[];
  readonly received: (number | null)[];
  readonly sent: (number | null)[];
}

/**
 * Aligns the series on seconds. VUs come from the `vus` metric when the generators sent it,
 * else from the live progress events seen by this page (`liveVus`, epoch ms → VUs).
 * `origin` (epoch ms) makes x relative (seconds since start) for overlaying two runs.
 */
export function columnsOf(series: RunSeries, liveVus: ReadonlyMap<number, number> = new Map(), origin?: number): Columns {
  const sec = (t: number) => Math.floor(t / 1000);
  const seconds = new Set<number>();
  for (const m of CHART_METRICS) for (const p of series[m]) seconds.add(sec(p.t));
  if (series.vus.length === 0) for (const t of liveVus.keys()) seconds.add(sec(t));
  const xs = [...seconds].sort((a, b) => a - b);
  const index = (points: readonly MetricPoint[]) => new Map(points.map((p) => [sec(p.t), p.values]));
  const col = (points: readonly MetricPoint[], stat: string) => {
    const byS = index(points);
    return xs.map((x) => byS.get(x)?.[stat] ?? null);
  };
  let vus: (number | null)[];
  if (series.vus.length > 0) vus = col(series.vus, 'value');
  else {
    const byS = new Map<number, number>();
    for (const [t, v] of liveVus) byS.set(sec(t), v);
    vus = xs.map((x) => byS.get(x) ?? null);
  }
  const shift = origin === undefined ? 0 : sec(origin);
  return {
    xs: xs.map((x) => x - shift),
    vus,
    rps: col(series.http_reqs, 'count'),
    p50: col(series.http_req_duration, 'med'),
    p95: col(series.http_req_duration, 'p(95)'),
    p99: col(series.http_req_duration, 'p(99)'),
    failRate: col(series.http_req_failed, 'rate'),
    received: col(series.data_received, 'count'),
    sent: col(series.data_sent, 'count'),
  };
}

/** One row of the thresholds table. */
export interface ThresholdRow {
  readonly metric: string;
  readonly expression: string;
  /** The value the expression compares, from the summary (null when the summary lacks that stat). */
  readonly value: number | null;
  readonly stat: string | null;
  /** null while not evaluated yet. */
  readonly passed: boolean | null;
  readonly abortOnFail: boolean;
  /** This threshold crossed with abortOnFail and ended the run (Aborted by threshold). */
  readonly abortedRun: boolean;
}

/** The stat a threshold expression compares: `p(95)` of `p(95)<500`. */
export function statOf(expression: string): string | null {
  const m = /^\s*(avg|min|max|med|count|rate|value|p\(\s*\d+(?:\.\d+)?\s*\))\s*(?:<=|>=|===|==|!=|<|>)/.exec(expression);
  return m?.[1]?.replace(/\s+/g, '') ?? null;
}

/** The thresholds declared in a run's options (before the control plane evaluated any). */
function declaredThresholds(run: Run): { metric: string; expression: string; abortOnFail: boolean }[] {
  const out: { metric: string; expression: string; abortOnFail: boolean }[] = [];
  const raw = run.options['thresholds'];
  if (raw === null || typeof raw !== 'object') return out;
  for (const [metric, list] of Object.entries(raw as Record<string, unknown>)) {
    for (const t of Array.isArray(list) ? list : [list]) {
      if (typeof t === 'string') out.push({ metric, expression: t, abortOnFail: false });
      else if (t !== null && typeof t === 'object' && typeof (t as { threshold?: unknown }).threshold === 'string') {
        out.push({ metric, expression: (t as { threshold: string }).threshold, abortOnFail: (t as { abortOnFail?: unknown }).abortOnFail === true });
      }
    }
  }
  return out;
}

/** Threshold rows: the control plane's outcomes when there are any, else the declared ones with live pass/fail from the summary. */
export function thresholdRows(run: Run, results: readonly ThresholdResult[], summary: SummaryData): ThresholdRow[] {
  const metrics = summary.metrics ?? {};
  const abortedBy = run.status.name === 'Aborted by threshold' ? run.lastChange.message : null;
  const base = results.length > 0
    ? results.map((r) => ({ metric: r.metric, expression: r.expression, abortOnFail: r.abortOnFail, passed: r.passed as boolean | null }))
    : declaredThresholds(run).map((t) => ({ ...t, passed: metrics[t.metric]?.thresholds?.[t.expression]?.ok ?? null }));
  return base.map((t) => {
    const stat = statOf(t.expression);
    const value = stat === null ? null : metrics[t.metric]?.values[stat] ?? null;
    const abortedRun = abortedBy !== null && t.abortOnFail && t.passed === false && abortedBy.includes(`"${t.expression}" on ${t.metric}`);
    return { metric: t.metric, expression: t.expression, stat, value, passed: t.passed, abortOnFail: t.abortOnFail, abortedRun };
  });
}

/** One check with the group it is in. */
export interface CheckRow {
  readonly group: string;
  readonly name: string;
  readonly passes: number;
  readonly fails: number;
}

/** Every check of the summary's group tree, with its group path (`catalog`, `a › b`, or "(no group)"). */
export function checkRows(summary: SummaryData): CheckRow[] {
  const out: CheckRow[] = [];
  const walk = (g: SummaryGroup, names: string[]) => {
    for (const c of g.checks) out.push({ group: names.length === 0 ? '(no group)' : names.join(' › '), name: c.name, passes: c.passes, fails: c.fails });
    for (const sub of g.groups) walk(sub, [...names, sub.name]);
  };
  if (summary.root_group !== undefined) walk(summary.root_group, []);
  return out;
}

/** One row of the HTTP requests table. */
export interface HttpRow {
  /** `name`/`url` tag, or "all requests". */
  readonly request: string;
  readonly method: string;
  readonly status: string;
  readonly count: number | null;
  readonly p95: number | null;
  readonly failures: number | null;
}

/** Tags of a sub-metric key: `http_req_duration{method:GET,status:200}` → {method: GET, status: 200}. */
function selectorOf(key: string): { metric: string; tags: Record<string, string> } | null {
  const m = /^([^{]+)\{(.*)\}$/.exec(key);
  if (m === null) return null;
  const tags: Record<string, string> = {};
  for (const part of (m[2] ?? '').split(',')) {
    const i = part.indexOf(':');
    if (i > 0) tags[part.slice(0, i).trim()] = part.slice(i + 1).trim().replace(/^["']|["']$/g, '');
  }
  return { metric: m[1] ?? '', tags };
}

/**
 * HTTP requests by name/URL, method and status. The summary breaks requests down only where
 * sub-metrics exist (those named in thresholds), so the first row is all requests and the
 * others are the `http_req*{…}` sub-metrics the run has.
 */
export function httpRows(summary: SummaryData): HttpRow[] {
  const metrics = summary.metrics ?? {};
  const rows: HttpRow[] = [];
  if (metrics['http_reqs'] !== undefined || metrics['http_req_duration'] !== undefined) {
    rows.push({
      request: 'all requests', method: '*', status: '*',
      count: metrics['http_reqs']?.values['count'] ?? metrics['http_req_duration']?.values['count'] ?? null,
      p95: metrics['http_req_duration']?.values['p(95)'] ?? null,
      failures: metrics['http_req_failed']?.values['passes'] ?? null,
    });
  }
  const groups = new Map<string, { tags: Record<string, string>; count: number | null; p95: number | null; failures: number | null }>();
  for (const [key, m] of Object.entries(metrics)) {
    const sel = selectorOf(key);
    if (sel === null || !['http_reqs', 'http_req_duration', 'http_req_failed'].includes(sel.metric)) continue;
    const id = JSON.stringify(Object.entries(sel.tags).sort());
    const g = groups.get(id) ?? { tags: sel.tags, count: null, p95: null, failures: null };
    if (sel.metric === 'http_reqs') g.count = m.values['count'] ?? g.count;
    if (sel.metric === 'http_req_duration') {
      g.p95 = m.values['p(95)'] ?? g.p95;
      g.count ??= m.values['count'] ?? null;
    }
    if (sel.metric === 'http_req_failed') g.failures = m.values['passes'] ?? g.failures;
    groups.set(id, g);
  }
  for (const g of groups.values()) {
    const other = Object.entries(g.tags).filter(([k]) => !['name', 'url', 'method', 'status'].includes(k)).map(([k, v]) => `${k}=${v}`);
    rows.push({
      request: [g.tags['name'] ?? g.tags['url'] ?? '', ...other].filter((s) => s !== '').join(' ') || '(any)',
      method: g.tags['method'] ?? '*', status: g.tags['status'] ?? '*', count: g.count, p95: g.p95, failures: g.failures,
    });
  }
  return rows;
}

/** Agent ids named in the run's "placed" change ("placed on local-1 (local, 0:1, 5 VUs), …"). */
export function placedAgents(message: string): string[] {
  const m = /^placed on (.*)$/.exec(message);
  if (m === null) return [];
  return [...(m[1] ?? '').matchAll(/(?:^|,\s*)([A-Za-z0-9][A-Za-z0-9_.:-]*) \(/g)].map((x) => x[1] ?? '').filter((s) => s !== '');
}

/** Advice for warnings whose message does not carry it (the seed's words). */
export const WARNING_ADVICE: Readonly<Record<string, string>> = {
  agent_high_cpu: 'Load generators might be overutilized: look at the CPU and memory utilization and add or increase sleep times.',
  agent_high_memory: 'Load generators might be overutilized: add or increase sleep times, or set discardResponseBodies to true to lower memory pressure.',
  groups_near_limit: 'If your test has too many groups, reduce their number.',
  series_near_limit: 'If it has too many metrics, use URL grouping to combine similar URLs.',
  too_many_urls: 'Too many URLs: use URL grouping (the `name` tag) to combine similar URLs.',
};
