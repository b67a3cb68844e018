import { type Agent, type LoadZone, type Run, statusByCode } from '../../protocol/index.js';
import type { RunEvent } from '../runs/index.js';
import type { AgentRecord } from '../store/index.js';
import type { LiveEvent } from './api-schemas.js';

// What stored records look like to API clients. Stored rows carry control-plane fields (org,
// scheduler claims) and the run service may hand back its stored row typed as a Run; copying
// field by field means nothing internal ever reaches a client by accident.

/** A run as the API shows it, from a stored run or the service's answer (extra fields dropped). */
export function runView(run: Run): Run {
  return {
    id: run.id,
    testId: run.testId,
    projectId: run.projectId,
    archiveId: run.archiveId,
    status: statusByCode(run.status.code),
    result: run.result,
    lastChange: {
      status: statusByCode(run.lastChange.status.code),
      at: run.lastChange.at,
      reason: run.lastChange.reason,
      message: run.lastChange.message,
    },
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    vus: run.vus,
    durationSeconds: run.durationSeconds,
    distribution: run.distribution,
    options: run.options,
  };
}

/** An agent as the API shows it, with health decided by the given rule. */
export function agentView(agent: AgentRecord, healthy: boolean): Agent {
  return {
    id: agent.id,
    zone: agent.zone,
    capacity: agent.capacity,
    registeredAt: agent.registeredAt,
    lastHeartbeatAt: agent.lastHeartbeatAt,
    cpuPercent: agent.cpuPercent,
    memoryUsedBytes: agent.memoryUsedBytes,
    memoryLimitBytes: agent.memoryLimitBytes,
    healthy,
  };
}

/** Load zones from the agents registered in them, sorted by name; capacity counts healthy agents only. */
export function loadZonesOf(agents: readonly Agent[]): LoadZone[] {
  const zones = new Map<string, LoadZone>();
  for (const a of agents) {
    const z = zones.get(a.zone) ?? { name: a.zone, agents: 0, healthyAgents: 0, capacity: 0 };
    zones.set(a.zone, {
      name: z.name,
      agents: z.agents + 1,
      healthyAgents: z.healthyAgents + (a.healthy ? 1 : 0),
      capacity: z.capacity + (a.healthy ? a.capacity : 0),
    });
  }
  return [...zones.values()].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}

/** A live event as sent to a client: without the organization (the client knows its own). */
export function liveEventView(event: RunEvent): LiveEvent {
  switch (event.type) {
    case 'status':
      return { type: 'status', runId: event.runId, status: statusByCode(event.status.code), result: event.result, change: event.change };
    case 'progress':
      return {
        type: 'progress', runId: event.runId, at: event.at, vus: event.vus, vusMax: event.vusMax,
        rps: event.rps, iterations: event.iterations, progress: event.progress,
      };
    case 'warning':
      return { type: 'warning', runId: event.runId, code: event.code, message: event.message, at: event.at };
    case 'log':
      return { type: 'log', runId: event.runId, level: event.level, message: event.message, at: event.at };
    default:
      return assertNever(event);
  }
}

function assertNever(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`);
}
