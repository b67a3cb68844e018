import type { Agent, Run, RunHistory, StatusChange, ThresholdResult } from '../../../src/protocol/index.js';
import { api, subscribe } from '../api.js';
import { testsById } from '../catalog.js';
import { COLORS, LineChart } from '../charts.js';
import { h, replace, row, table } from '../dom.js';
import { bytes, duration, isFinalStatus, num, runElapsedMs, runVuHours, time } from '../format.js';
import { setLive } from '../live-indicator.js';
import { errorText, type Page } from '../page.js';
import { downloadReport } from '../report.js';
import { checkRows, columnsOf, fetchSeries, httpRows, placedAgents, thresholdRows, type Columns } from '../run-data.js';
import { checksTable, httpTable, thresholdsTable, timelineTable, warningsList } from '../run-sections.js';
import { resultBadge, statusBadge } from '../status-badge.js';
import type { LiveEvent, RunPage, RunWarning, SummaryData } from '../wire.js';

// One run: header with status and Abort, live charts, thresholds, checks, HTTP requests,
// status timeline, load generators and warnings. While the run is in progress a live-event
// stream moves the status and the page polls the metric series and summary every second.

/** The five live charts of a run. */
export interface RunCharts {
  readonly vus: LineChart;
  readonly rps: LineChart;
  readonly duration: LineChart;
  readonly failures: LineChart;
  readonly data: LineChart;
}

/** Builds the run charts (x as time, or seconds since start for overlays). */
export function makeRunCharts(labels: readonly string[] = [''], x: 'time' | 'elapsed' = 'time'): RunCharts {
  const suffix = (l: string) => (l === '' ? '' : ` ${l}`);
  const per = (names: readonly string[]) => labels.flatMap((l) => names.map((n) => `${n}${suffix(l)}`));
  const colored = (names: readonly string[]) => per(names).map((label, i) => ({ label, color: COLORS[i % COLORS.length] as string }));
  return {
    vus: new LineChart('VUs', colored(['VUs']), { format: (v) => num(v, 0), x }),
    rps: new LineChart('Requests/s', colored(['req/s']), { format: (v) => num(v, 1), x }),
    duration: new LineChart('http_req_duration', colored(['p50', 'p95', 'p99']), { format: (v) => `${num(v, 1)}ms`, x }),
    failures: new LineChart('Failure rate (http_req_failed)', colored(['failed']), { format: (v) => `${num(v * 100, 1)}%`, x }),
    data: new LineChart('Data transferred', colored(['received/s', 'sent/s']), { format: (v) => bytes(v), x }),
  };
}

/** Puts columns of one or more runs into the charts. */
export function fillRunCharts(charts: RunCharts, cols: readonly Columns[]): void {
  // Runs overlaid: union of x, each run's columns re-aligned on it.
  const xs = [...new Set(cols.flatMap((c) => c.xs))].sort((a, b) => a - b);
  const align = (c: Columns, col: readonly (number | null)[]) => {
    const at = new Map(c.xs.map((x, i) => [x, col[i] ?? null]));
    return xs.map((x) => at.get(x) ?? null);
  };
  charts.vus.setData(xs, cols.map((c) => align(c, c.vus)));
  charts.rps.setData(xs, cols.map((c) => align(c, c.rps)));
  charts.duration.setData(xs, cols.flatMap((c) => [align(c, c.p50), align(c, c.p95), align(c, c.p99)]));
  charts.failures.setData(xs, cols.map((c) => align(c, c.failRate)));
  charts.data.setData(xs, cols.flatMap((c) => [align(c, c.received), align(c, c.sent)]));
}

/** `#/runs/:id` */
export const runPage: Page = async (main, [runId = ''], scope) => {
  let run = await api.get<Run>(`/runs/${runId}`);
  const tests = await testsById(!(await testsById()).has(run.testId));
  if (!scope.alive) return;
  const testName = tests.get(run.testId)?.name ?? `test ${run.testId}`;
  document.title = `${testName} #${run.id} · herd`;

  let changes: StatusChange[] = [];
  let thresholds: readonly ThresholdResult[] = [];
  let summary: SummaryData = {};
  let warnings: RunWarning[] = [];
  const logs: { at: number; level: string; message: string }[] = [];
  const liveVus = new Map<number, number>();
  const agentHistory = new Map<string, { t: number; cpu: number | null; mem: number | null }[]>();
  let agents: Agent[] = [];

  const head = h('div', { class: 'run-head' });
  const facts = h('dl', { class: 'facts' });
  const reasonBox = h('div', { class: 'reason' });
  const charts = makeRunCharts();
  scope.add(() => Object.values(charts).forEach((c: LineChart) => c.destroy()));
  const thresholdsBox = h('div');
  const checksBox = h('div');
  const httpBox = h('div');
  const timelineBox = h('div');
  const agentsBox = h('div');
  const agentChartBox = h('div', { class: 'charts charts--small' });
  const warningsBox = h('div');
  const logsBox = h('pre', { class: 'logs', hidden: true });
  const compareBox = h('div', { class: 'compare-pick' });

  const section = (title: string, id: string, ...body: HTMLElement[]) => h('section', { class: 'card', id }, h('h2', null, title), ...body);
  replace(main,
    head, facts, reasonBox,
    section('Metrics', 'charts', h('div', { class: 'charts' }, charts.vus.el, charts.rps.el, charts.duration.el, charts.failures.el, charts.data.el)),
    h('div', { class: 'grid2' },
      section('Thresholds', 'thresholds', thresholdsBox),
      section('Status timeline', 'timeline', timelineBox)),
    section('Checks', 'checks', checksBox),
    section('HTTP requests', 'http', httpBox),
    h('div', { class: 'grid2' },
      section('Load generators', 'generators', agentsBox, agentChartBox),
      section('Warnings', 'warnings', warningsBox, logsBox)),
    section('Compare', 'compare', compareBox));

  const abort = async (): Promise<void> => {
    const ok = await confirmDialog(`Abort run #${run.id} of ${testName}?`, 'Its load generators stop now and the run ends as Aborted by user (5). VU-hours used so far still count.', 'Abort run');
    if (!ok) return;
    try {
      run = await api.post<Run>(`/runs/${run.id}/abort`);
      renderHead();
    } catch (e) {
      alertBox(errorText(e));
    }
  };
  const alertBox = (text: string) => replace(reasonBox, h('div', { class: 'banner banner--error', role: 'alert' }, text));

  const renderHead = (): void => {
    const final = isFinalStatus(run.status);
    replace(head,
      h('div', { class: 'title' },
        h('h1', null, testName, h('span', { class: 'muted' }, ` #${run.id}`)),
        h('span', { id: 'run-status' }, statusBadge(run.status)), ' ', h('span', { id: 'run-result' }, resultBadge(run.result))),
      h('div', { class: 'actions' },
        final ? null : h('button', { class: 'danger', type: 'button', id: 'abort', onclick: () => void abort() }, 'Abort'),
        h('button', { type: 'button', id: 'report', onclick: () => void exportReport() }, 'Download report'),
        h('a', { class: 'button secondary', href: '#/new' }, 'Run again…')));
    const now = Date.now();
    const planned = run.durationSeconds === null ? '' : ` of ${duration(run.durationSeconds * 1000)} planned`;
    replace(facts, ...([
      ['VUs', String(run.vus)],
      ['Duration', `${duration(runElapsedMs(run, now))}${final ? '' : planned}`],
      ['Usage', `${num(runVuHours(run, now), 4)} VU-h`],
      ['Load zones', Object.values(run.distribution).map((d) => `${d.loadZone} ${d.percent}%`).join(', ')],
      ['Created', time(run.createdAt)],
      ['Started', time(run.startedAt)],
      ['Ended', time(run.endedAt)],
    ] as const).map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v))));
    const reasonFinal = final && !(run.status.name === 'Finished' && run.result === 'passed');
    replace(reasonBox, final
      ? h('div', { class: `banner ${reasonFinal ? 'banner--bad' : 'banner--ok'}`, 'data-testid': 'reason' },
        h('strong', null, `${run.status.name} (${run.status.code})`), ` — ${run.lastChange.reason}: ${run.lastChange.message}`)
      : '');
  };

  const renderResults = (): void => {
    replace(thresholdsBox, thresholdsTable(thresholdRows(run, thresholds, summary)));
    replace(checksBox, checksTable(checkRows(summary)));
    replace(httpBox, httpTable(httpRows(summary)));
  };
  const renderTimeline = () => replace(timelineBox, timelineTable(changes));
  const renderWarnings = () => replace(warningsBox, warningsList(warnings));
  const renderLogs = () => {
    logsBox.hidden = logs.length === 0;
    logsBox.textContent = logs.slice(-200).map((l) => `${new Date(l.at).toLocaleTimeString(undefined, { hour12: false })} ${l.level} ${l.message}`).join('\n');
  };

  const runAgentIds = (): string[] => {
    const placed = changes.filter((c) => c.reason === 'placed').flatMap((c) => placedAgents(c.message));
    if (placed.length > 0) return placed;
    const zones = new Set(Object.values(run.distribution).map((d) => d.loadZone));
    return agents.filter((a) => zones.has(a.zone)).map((a) => a.id);
  };
  const agentCharts = new Map<string, LineChart>();
  scope.add(() => agentCharts.forEach((c) => c.destroy()));
  const renderAgents = (): void => {
    const ids = runAgentIds();
    const mine = agents.filter((a) => ids.includes(a.id));
    replace(agentsBox, mine.length === 0 ? h('p', { class: 'muted' }, ids.length === 0 ? 'Not placed on a load generator yet.' : `Placed on ${ids.join(', ')} (no longer registered).`)
      : table(['Agent', 'Zone', 'Capacity', 'Health', 'CPU', 'Memory'], mine.map((a) => row([
        h('td', { class: 'mono' }, a.id), a.zone, h('td', { class: 'num' }, `${a.capacity} VUs`),
        h('span', { class: a.healthy ? 'ok' : 'bad' }, a.healthy ? 'healthy' : 'unhealthy'),
        h('td', { class: `num${(a.cpuPercent ?? 0) > 90 ? ' bad' : ''}` }, a.cpuPercent === null ? '—' : `${num(a.cpuPercent, 0)}%`),
        h('td', { class: 'num' }, a.memoryUsedBytes === null ? '—' : `${bytes(a.memoryUsedBytes)}${a.memoryLimitBytes === null ? '' : ` of ${bytes(a.memoryLimitBytes)}`}`),
      ])), { 'data-testid': 'generators' }));
    for (const a of mine) {
      const hist = agentHistory.get(a.id);
      // One reading makes no line (and a one-point time axis spans years).
      if (hist === undefined || hist.length < 2) continue;
      let chart = agentCharts.get(a.id);
      if (chart === undefined) {
        chart = new LineChart(`${a.id}: CPU and memory (while this page is open)`, [{ label: 'CPU %', color: COLORS[4] }, { label: 'memory %', color: COLORS[3] }], { format: (v) => `${num(v, 0)}%`, height: 140 });
        agentCharts.set(a.id, chart);
        agentChartBox.appendChild(chart.el);
      }
      chart.setData(hist.map((p) => p.t), [hist.map((p) => p.cpu), hist.map((p) => p.mem)]);
    }
  };

  const loadAgents = async (record: boolean): Promise<void> => {
    agents = (await api.get<{ agents: Agent[] }>('/agents')).agents;
    if (record) {
      const t = Math.floor(Date.now() / 1000);
      for (const a of agents) {
        const hist = agentHistory.get(a.id) ?? [];
        hist.push({ t, cpu: a.cpuPercent, mem: a.memoryUsedBytes === null || a.memoryLimitBytes === null ? null : (a.memoryUsedBytes / a.memoryLimitBytes) * 100 });
        if (hist.length > 900) hist.shift();
        agentHistory.set(a.id, hist);
      }
    }
  };
  const loadHistory = async () => {
    changes = (await api.get<RunHistory>(`/runs/${run.id}/history`)).changes;
  };
  const loadResults = async () => {
    const [t, s] = await Promise.all([
      api.get<{ thresholds: ThresholdResult[] }>(`/runs/${run.id}/thresholds`),
      api.get<{ summary: SummaryData }>(`/runs/${run.id}/summary`),
    ]);
    thresholds = t.thresholds;
    summary = s.summary;
  };
  const loadWarnings = async () => {
    warnings = (await api.get<{ warnings: RunWarning[] }>(`/runs/${run.id}/warnings`)).warnings;
  };
  const loadCharts = async () => {
    const series = await fetchSeries(run.id);
    fillRunCharts(charts, [columnsOf(series, liveVus)]);
    // The generators may not send the vus gauge; then the VUs line is what live events showed.
    const caption = charts.vus.el.querySelector('figcaption');
    if (caption !== null) caption.textContent = series.vus.length > 0 ? 'VUs' : liveVus.size > 0 ? 'VUs (from live progress)' : 'VUs (not recorded for this run)';
  };

  const refreshAll = async (): Promise<void> => {
    await Promise.all([loadHistory(), loadResults(), loadWarnings(), loadAgents(!isFinalStatus(run.status)), loadCharts()]);
    if (!scope.alive) return;
    renderHead();
    renderTimeline();
    renderResults();
    renderWarnings();
    renderAgents();
  };

  const exportReport = async (): Promise<void> => {
    downloadReport({ run, testName, changes, thresholds: thresholdRows(run, thresholds, summary), checks: checkRows(summary), http: httpRows(summary), warnings, charts: Object.values(charts) });
  };

  // Live: status changes at once; numbers every second while the run is in progress.
  let ticking = false;
  const tick = async (): Promise<void> => {
    if (ticking || isFinalStatus(run.status)) return;
    ticking = true;
    try {
      // Status changes made between the page's first read and its live stream connecting would
      // otherwise be missed: re-read the run and catch up from its history when it moved.
      const fresh = await api.get<Run>(`/runs/${run.id}`);
      if (fresh.status.code !== run.status.code) {
        run = fresh;
        await loadHistory();
        renderTimeline();
      }
      await Promise.all([loadResults(), loadCharts(), loadAgents(true)]);
      if (!scope.alive) return;
      renderHead();
      renderResults();
      renderAgents();
    } catch (e) {
      if (scope.alive) reportError(e);
    } finally {
      ticking = false;
    }
  };
  const onEvent = (e: LiveEvent): void => {
    if (e.runId !== run.id) return;
    switch (e.type) {
      case 'status':
        run = {
          ...run, status: e.status, result: e.result, lastChange: e.change,
          startedAt: run.startedAt ?? (e.status.name === 'Running' ? e.change.at : null),
          endedAt: isFinalStatus(e.status) ? e.change.at : run.endedAt,
        };
        if (!changes.some((c) => c.at === e.change.at && c.status.code === e.change.status.code)) changes.push(e.change);
        renderHead();
        renderTimeline();
        // The final results (thresholds, summary, usage) are written as the run ends.
        if (isFinalStatus(e.status)) {
          setTimeout(() => {
            if (scope.alive) refreshAll().catch((err: unknown) => reportError(err));
          }, 300);
        }
        return;
      case 'progress':
        liveVus.set(e.at, e.vus);
        return;
      case 'warning':
        warnings.push({ code: e.code, message: e.message, at: new Date(e.at).toISOString() });
        renderWarnings();
        return;
      case 'log':
        logs.push({ at: e.at, level: e.level, message: e.message });
        renderLogs();
        return;
      default:
        return;
    }
  };
  if (!isFinalStatus(run.status)) {
    scope.add(subscribe(run.id, onEvent, setLive));
    scope.every(1000, () => void tick());
  }
  await refreshAll();
  if (!scope.alive) return;
  // Same test's other runs, to compare with.
  try {
    const others = (await api.get<RunPage>('/runs', { testId: run.testId, limit: 50 })).runs.filter((r) => r.id !== run.id);
    if (!scope.alive) return;
    replace(compareBox, others.length === 0 ? h('p', { class: 'muted' }, 'No other run of this test to compare with yet.')
      : h('form', {
        class: 'inline',
        onsubmit: (e: Event) => {
          e.preventDefault();
          const other = ((e.target as HTMLFormElement).elements.namedItem('other') as HTMLSelectElement).value;
          location.hash = `#/compare/${other}/${run.id}`;
        },
      }, h('label', null, 'Compare with ', h('select', { name: 'other' }, others.map((r) => h('option', { value: r.id }, `#${r.id} — ${r.status.name} — ${time(r.createdAt)}`)))),
      ' ', h('button', { type: 'submit' }, 'Compare')));
  } catch (e) {
    replace(compareBox, h('p', { class: 'error' }, errorText(e)));
  }
};

/** A modal confirmation; resolves true when confirmed. */
export function confirmDialog(title: string, text: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'confirm', 'data-testid': 'confirm' },
      h('form', { method: 'dialog' },
        h('h2', null, title), h('p', null, text),
        h('div', { class: 'actions' },
          h('button', { value: 'cancel', type: 'submit', class: 'secondary' }, 'Cancel'),
          h('button', { value: 'ok', type: 'submit', class: 'danger', id: 'confirm-ok' }, confirmLabel))));
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'ok');
      dialog.remove();
    });
    document.body.appendChild(dialog);
    dialog.showModal();
  });
}
