import type { Run, RunStatus } from '../../../src/protocol/index.js';
import { api, subscribe } from '../api.js';
import { testsById, projectsById } from '../catalog.js';
import { h, replace } from '../dom.js';
import { ALL_STATUSES, duration, isFinalStatus, num, runElapsedMs, runVuHours, statusFamily, time } from '../format.js';
import { errorText, type Page } from '../page.js';
import { resultBadge, statusBadge } from '../status-badge.js';
import type { LiveEvent, RunPage } from '../wire.js';
import { setLive } from '../live-indicator.js';

// The runs list: newest first, filtered by status (or status family), test and project, and
// kept current by live events: a new run appears, statuses change in place, durations tick.

interface Filters {
  status: string;
  testId: string;
  projectId: string;
}
// Kept across visits, so that coming back from a run shows the same list.
const filters: Filters = { status: '', testId: '', projectId: '' };

const FAMILIES: Record<string, string> = {
  progress: '-2,-1,0,1,2',
  finished: '3',
  aborted: '4,5,6,7,8,9',
};

function statusCodes(): string | undefined {
  if (filters.status === '') return undefined;
  return FAMILIES[filters.status] ?? filters.status;
}

function matchesStatus(status: RunStatus): boolean {
  const codes = statusCodes();
  return codes === undefined || codes.split(',').includes(String(status.code));
}

/** `#/runs` */
export const runsPage: Page = async (main, _params, scope) => {
  const [tests, projects] = await Promise.all([testsById(), projectsById()]);
  if (!scope.alive) return;
  // `latest` is the last status event of the run: the stream is ordered and authoritative, so a
  // run fetched from the API (maybe ahead of the events still in flight) shows the event's status.
  const rows = new Map<string, { run: Run | undefined; tr: HTMLTableRowElement; liveVus: number | null; latest?: Extract<LiveEvent, { type: 'status' }> }>();
  const body = h('tbody');
  const empty = h('p', { class: 'muted empty' }, 'No runs yet. Start one from "New run", or with the CLI.');
  const tableEl = h('div', { class: 'table-wrap' }, h('table', { class: 'runs', 'data-testid': 'runs-table' },
    h('thead', null, h('tr', null, ['Run', 'Test', 'Project', 'Status', 'Result', 'VUs', 'Duration', 'Usage (VU-h)', 'Created'].map((t) => h('th', null, t)))),
    body));

  const select = (name: keyof Filters, label: string, options: [string, string][]) =>
    h('label', { class: 'filter' }, label, h('select', {
      name,
      onchange: (e: Event) => {
        filters[name] = (e.target as HTMLSelectElement).value;
        void reload();
      },
    }, options.map(([value, text]) => h('option', { value, ...(filters[name] === value ? { selected: true } : {}) }, text))));

  replace(main,
    h('div', { class: 'page-head' }, h('h1', null, 'Test runs'), h('a', { class: 'button', href: '#/new' }, 'New run')),
    h('div', { class: 'filters' },
      select('status', 'Status', [['', 'All'], ['progress', 'In progress'], ['finished', 'Finished'], ['aborted', 'Aborted or timed out'],
        ...ALL_STATUSES.map((s): [string, string] => [String(s.code), `${s.name} (${s.code})`])]),
      select('testId', 'Test', [['', 'All tests'], ...[...tests.values()].map((t): [string, string] => [t.id, t.name])]),
      select('projectId', 'Project', [['', 'All projects'], ...[...projects.values()].map((p): [string, string] => [p.id, p.name])])),
    tableEl, empty);

  const testName = (run: Run) => tests.get(run.testId)?.name ?? `test ${run.testId}`;
  const render = (runId: string): void => {
    const entry = rows.get(runId);
    if (entry === undefined) return;
    const { run, tr } = entry;
    if (run === undefined) return;
    const now = Date.now();
    const vus = entry.liveVus !== null && run.status.name === 'Running' ? `${entry.liveVus} / ${run.vus}` : String(run.vus);
    replace(tr,
      h('td', null, h('a', { href: `#/runs/${run.id}` }, `#${run.id}`)),
      h('td', null, h('a', { href: `#/runs/${run.id}` }, testName(run))),
      h('td', null, projects.get(run.projectId)?.name ?? run.projectId),
      h('td', { class: 'status-cell' }, statusBadge(run.status)),
      h('td', { class: 'result-cell' }, resultBadge(run.result)),
      h('td', { class: 'num' }, vus),
      h('td', { class: 'num' }, duration(runElapsedMs(run, now))),
      h('td', { class: 'num' }, num(runVuHours(run, now), 4)),
      h('td', null, time(run.createdAt)));
    tr.className = `family-${statusFamily(run.status)}`;
  };
  const add = (runId: string, run: Run | undefined, atTop: boolean): HTMLTableRowElement => {
    const tr = h('tr', { 'data-run-id': runId });
    rows.set(runId, { run, tr, liveVus: null });
    if (atTop) body.insertBefore(tr, body.firstChild);
    else body.appendChild(tr);
    empty.hidden = true;
    return tr;
  };

  let loading = 0;
  const reload = async (): Promise<void> => {
    const mine = ++loading;
    try {
      const page = await api.get<RunPage>('/runs', { limit: 100, status: statusCodes(), testId: filters.testId, projectId: filters.projectId });
      if (!scope.alive || mine !== loading) return;
      rows.clear();
      replace(body);
      for (const run of page.runs) {
        add(run.id, run, false);
        render(run.id);
      }
      empty.hidden = page.runs.length > 0;
    } catch (e) {
      if (scope.alive) replace(body, h('tr', null, h('td', { colspan: 9, class: 'error' }, errorText(e))));
    }
  };

  const fetchRun = async (runId: string): Promise<void> => {
    try {
      const run = await api.get<Run>(`/runs/${runId}`);
      if (!scope.alive) return;
      if (!tests.has(run.testId)) {
        const fresh = await testsById(true);
        for (const [k, v] of fresh) tests.set(k, v);
      }
      const entry = rows.get(runId);
      const latest = entry?.latest;
      const shown = latest === undefined ? run : withStatus(run, latest);
      if ((filters.testId !== '' && run.testId !== filters.testId) || (filters.projectId !== '' && run.projectId !== filters.projectId)) {
        entry?.tr.remove();
        rows.delete(runId);
        return;
      }
      if (entry === undefined) add(runId, shown, true);
      else entry.run = shown;
      render(runId);
    } catch (e) {
      reportError(e);
    }
  };

  const onEvent = (e: LiveEvent): void => {
    if (e.type === 'progress') {
      const entry = rows.get(e.runId);
      if (entry !== undefined) {
        entry.liveVus = e.vus;
        render(e.runId);
      }
      return;
    }
    if (e.type !== 'status') return;
    const entry = rows.get(e.runId);
    if (entry === undefined) {
      if (!matchesStatus(e.status)) return;
      // Shown at once with the status the event carries (a run passes Queued within
      // milliseconds), then completed from the API.
      const tr = add(e.runId, undefined, true);
      const fresh = rows.get(e.runId);
      if (fresh !== undefined) fresh.latest = e;
      tr.className = `family-${statusFamily(e.status)}`;
      replace(tr, h('td', null, h('a', { href: `#/runs/${e.runId}` }, `#${e.runId}`)), h('td', null, '…'), h('td', null, '…'),
        h('td', { class: 'status-cell' }, statusBadge(e.status)), h('td', { class: 'result-cell' }, resultBadge(e.result)),
        h('td', null, ''), h('td', null, ''), h('td', null, ''), h('td', null, time(e.change.at)));
      void fetchRun(e.runId);
      return;
    }
    entry.latest = e;
    if (entry.run === undefined) {
      // Still being fetched: show the newer status meanwhile (a new cell: cells are never changed in place).
      entry.tr.querySelector('.status-cell')?.replaceWith(h('td', { class: 'status-cell' }, statusBadge(e.status)));
      entry.tr.className = `family-${statusFamily(e.status)}`;
      return;
    }
    entry.run = withStatus(entry.run, e);
    render(e.runId);
    if (!matchesStatus(e.status)) {
      // Out of the filter now: leave it a moment so the change is seen, then reload.
      setTimeout(() => {
        if (scope.alive) void reload();
      }, 1500);
    }
  };

  scope.add(subscribe(undefined, onEvent, setLive));
  scope.every(1000, () => {
    for (const [id, entry] of rows) if (entry.run !== undefined && !isFinalStatus(entry.run.status)) render(id);
  });
  await reload();
};

/** A run moved to the status a live event announced. */
function withStatus(run: Run, e: Extract<LiveEvent, { type: 'status' }>): Run {
  return {
    ...run,
    status: e.status,
    result: e.result,
    lastChange: e.change,
    startedAt: run.startedAt ?? (e.status.name === 'Running' ? e.change.at : null),
    endedAt: isFinalStatus(e.status) ? e.change.at : run.endedAt,
  };
}
