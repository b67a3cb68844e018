import type { Agent, LoadZone } from '../../../src/protocol/index.js';
import { api } from '../api.js';
import { h, replace, row, table } from '../dom.js';
import { bytes, num, time } from '../format.js';
import type { Page } from '../page.js';

// Load zones and their load generators, with the last CPU/memory heartbeat; refreshed every 2 s.

/** `#/agents` */
export const agentsPage: Page = async (main, _params, scope) => {
  const zonesBox = h('div');
  const agentsBox = h('div');
  replace(main, h('div', { class: 'page-head' }, h('h1', null, 'Load zones and generators')),
    h('section', { class: 'card' }, h('h2', null, 'Load zones'), zonesBox),
    h('section', { class: 'card' }, h('h2', null, 'Load generators'), agentsBox));
  const load = async () => {
    const [z, a] = await Promise.all([api.get<{ loadZones: LoadZone[] }>('/load-zones'), api.get<{ agents: Agent[] }>('/agents')]);
    if (!scope.alive) return;
    replace(zonesBox, z.loadZones.length === 0 ? h('p', { class: 'muted' }, 'No load zone has a generator.')
      : table(['Zone', 'Agents', 'Healthy', 'Capacity (healthy)'], z.loadZones.map((zone) =>
        row([h('td', { class: 'mono' }, zone.name), h('td', { class: 'num' }, zone.agents), h('td', { class: 'num' }, zone.healthyAgents), h('td', { class: 'num' }, `${zone.capacity} VUs`)]))));
    replace(agentsBox, a.agents.length === 0 ? h('p', { class: 'muted' }, 'No load generator registered.')
      : table(['Agent', 'Zone', 'State', 'Capacity', 'CPU', 'Memory', 'Last heartbeat'], a.agents.map((ag) => row([
        h('td', { class: 'mono' }, ag.id), ag.zone, h('span', { class: ag.healthy ? 'ok' : 'bad' }, ag.healthy ? 'healthy' : 'unhealthy'),
        h('td', { class: 'num' }, `${ag.capacity} VUs`),
        h('td', { class: 'num' }, ag.cpuPercent === null ? '—' : h('span', { class: 'meter', style: `--v:${Math.min(100, ag.cpuPercent)}%` }, `${num(ag.cpuPercent, 0)}%`)),
        h('td', { class: 'num' }, ag.memoryUsedBytes === null ? '—' : `${bytes(ag.memoryUsedBytes)}${ag.memoryLimitBytes === null ? '' : ` / ${bytes(ag.memoryLimitBytes)}`}`),
        time(ag.lastHeartbeatAt),
      ])), { 'data-testid': 'agents' }));
  };
  await load();
  scope.every(2000, () => void load().catch((e: unknown) => reportError(e)));
};
