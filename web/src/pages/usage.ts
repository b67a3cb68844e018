import type { Usage } from '../../../src/protocol/index.js';
import { api } from '../api.js';
import { projectsById } from '../catalog.js';
import { h, replace, row, table } from '../dom.js';
import { num } from '../format.js';
import type { Page } from '../page.js';

// VU-hours per project per month: the last six UTC months.

function lastMonths(n: number): string[] {
  const now = new Date();
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1));
    out.push(`${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`);
  }
  return out;
}

/** `#/usage` */
export const usagePage: Page = async (main, _params, scope) => {
  const months = lastMonths(6);
  const [projects, usages] = await Promise.all([projectsById(true), Promise.all(months.map((month) => api.get<Usage>('/usage', { month })))]);
  if (!scope.alive) return;
  const cell = (u: Usage, projectId: string) => {
    const p = u.projects.find((x) => x.projectId === projectId);
    return h('td', { class: 'num' }, p === undefined ? '—' : `${num(p.vuHours, 4)} (${p.runs} run${p.runs === 1 ? '' : 's'})`);
  };
  const cap = usages[0]?.cap ?? null;
  replace(main,
    h('div', { class: 'page-head' }, h('h1', null, 'Usage')),
    h('section', { class: 'card' },
      h('h2', null, 'VU-hours per project per month (UTC)'),
      h('p', { class: 'muted' }, `Counted from when a run starts Running; runs aborted by the system do not count. Monthly cap: ${cap === null ? 'none' : `${num(cap)} VU-hours`}.`),
      table(['Project', ...months], [
        ...[...projects.values()].map((p) => row([p.name, ...usages.map((u) => cell(u, p.id))])),
        row([h('td', null, h('strong', null, 'Total')), ...usages.map((u) => h('td', { class: 'num' }, h('strong', null, `${num(u.vuHours, 4)} (${u.runs})`)))]),
      ], { 'data-testid': 'usage' })));
};
