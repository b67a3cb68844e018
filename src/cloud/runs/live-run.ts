import { Collector, defineBuiltinMetrics, GroupTree, MetricRegistry, type Thresholds } from '../../metrics/index.js';
import type { AgentId, OrgId, ProjectId, RunId } from '../../protocol/ids.js';
import type { OrgLimits } from '../../protocol/organization.js';
import type { PlacementShare } from '../scheduler/index.js';
import type { StoredMetricPoint } from '../store/index.js';
import { SecondAggregator } from './metric-points.js';

/** Where the conversation with a run's generators is (ARCHITECTURE.md §5, agent-messages.ts). */
export type RunPhase = 'initializing' | 'setup' | 'running' | 'teardown' | 'ended';

/** One generator's share of a live run. */
export interface LiveShare extends PlacementShare {
  state: 'assigned' | 'initialized' | 'running' | 'done';
  /** Epoch ms of the last message from this generator (any kind). */
  lastHeardMs: number;
  /** Its latest VU counters. */
  activeVUs: number;
  /** Groups and series it reported last (limits). */
  groupCount: number;
  seriesCount: number;
  /** Epoch ms each warning code was last raised about it. */
  readonly warnedAt: Map<string, number>;
  /** Epoch ms since when its generator's heartbeats have not listed the run; null while they do. */
  notHeldSinceMs: number | null;
}

/**
 * A run that is Initializing or Running on this control plane: its generators, the merged
 * metrics thresholds are evaluated on, and the bookkeeping of the conversation. It lives in
 * memory only; what must outlive the process (status, batches, points, results) is in the store.
 */
export interface LiveRun {
  readonly id: RunId;
  readonly orgId: OrgId;
  readonly projectId: ProjectId;
  readonly vus: number;
  readonly plannedDurationMs: number;
  /** The organization's limits when the run was placed (groups, series). */
  readonly limits: OrgLimits;
  readonly sequence: string;
  readonly shares: Map<AgentId, LiveShare>;
  readonly lifecycleAgent: AgentId;
  phase: RunPhase;
  readonly collector: Collector;
  readonly thresholds: Thresholds;
  readonly groups: GroupTree;
  readonly points: SecondAggregator;
  /** `agent#seq` of every batch merged, so a re-sent batch is not counted twice. */
  readonly seenBatches: Set<string>;
  setupJSON: string | undefined;
  /** Epoch ms the scenarios start (the common start time); null before Running. */
  startAtMs: number | null;
  /** Epoch ms of the last message from any of its generators. */
  lastHeardMs: number;
  lastEvalMs: number;
  lastProgressMs: number;
  lastProgressRequests: number;
  /** Epoch ms this control plane took the run over from another (or its own earlier process); null when it launched it. */
  resumedAtMs: number | null;
  /** Epoch ms the lead was last renewed in the store. */
  leaseRenewedMs: number;
  /** Store writes of its batches in flight: merging does not wait for them, ending the run does. */
  readonly writes: Set<Promise<void>>;
  /** Per-second points not yet written, by `metric\nt` (a later one of a second replaces it). */
  readonly pendingPoints: Map<string, StoredMetricPoint>;
}

/** A new live run for a placed run. */
export function newLiveRun(init: {
  id: RunId; orgId: OrgId; projectId: ProjectId; vus: number; plannedDurationMs: number; limits: OrgLimits; sequence: string;
  shares: readonly PlacementShare[]; thresholds: Thresholds; now: number;
}): LiveRun {
  const registry = new MetricRegistry();
  // Built-in metrics exist from the start (as in an agent's engine), so thresholds on them can
  // be attached before the first sample arrives.
  defineBuiltinMetrics(registry);
  const collector = new Collector(registry, () => init.now);
  const lifecycle = init.shares.find((s) => s.lifecycle) ?? init.shares[0];
  if (lifecycle === undefined) throw new Error('a run is placed on at least one generator');
  return {
    id: init.id, orgId: init.orgId, projectId: init.projectId, vus: init.vus, plannedDurationMs: init.plannedDurationMs, limits: init.limits,
    sequence: init.sequence,
    shares: new Map(init.shares.map((s) => [s.agentId, {
      ...s, state: 'assigned', lastHeardMs: init.now, activeVUs: 0, groupCount: 0, seriesCount: 0, warnedAt: new Map(), notHeldSinceMs: null,
    }])),
    lifecycleAgent: lifecycle.agentId,
    phase: 'initializing',
    collector,
    thresholds: init.thresholds,
    groups: new GroupTree(),
    points: new SecondAggregator(init.thresholds),
    seenBatches: new Set(),
    setupJSON: undefined,
    startAtMs: null,
    lastHeardMs: init.now,
    lastEvalMs: init.now,
    lastProgressMs: init.now,
    lastProgressRequests: 0,
    resumedAtMs: null,
    leaseRenewedMs: init.now,
    writes: new Set(),
    pendingPoints: new Map(),
  };
}
