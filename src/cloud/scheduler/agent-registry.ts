import type { AgentToControl } from '../../protocol/agent-messages.js';
import type { AgentId, RunId } from '../../protocol/ids.js';
import type { Store } from '../store/index.js';
import type { PlacementCandidate } from './placement.js';
import type { ServerSettings } from './settings.js';

/** What the control plane knows of one generator right now (the store keeps the durable part). */
export interface AgentState {
  readonly id: AgentId;
  readonly zone: string;
  readonly capacity: number;
  /** Epoch ms of the last message of any kind from it. */
  readonly lastHeardMs: number;
  /** Epoch ms its link dropped, with why; null while connected. */
  readonly disconnectedAtMs: number | null;
  readonly disconnectWhy: string | null;
  /** The link is only presumed lost, from the generator's silence (see ControlPlaneTransport.onDisconnect). */
  readonly disconnectSilent: boolean;
  /** VUs reserved by each run placed on it. */
  readonly reservedVUs: number;
}

interface MutableAgent {
  id: AgentId;
  zone: string;
  capacity: number;
  lastHeardMs: number;
  disconnectedAtMs: number | null;
  disconnectWhy: string | null;
  disconnectSilent: boolean;
  reserved: Map<RunId, number>;
  /** The incarnation of its last register, or of its heartbeats; undefined when it never said. */
  incarnation: string | undefined;
}

/**
 * The generators this control plane can use: registered over the transport, heard from
 * recently, and how many of their VUs the runs placed on them hold. Health is decided here and
 * only here: connected and heard within three heartbeat intervals (and the grace period).
 */
export class AgentRegistry {
  readonly #agents = new Map<AgentId, MutableAgent>();

  constructor(
    private readonly store: Store,
    private readonly settings: ServerSettings,
    private readonly now: () => number,
  ) {}

  /** Records a registration (first or again after a reconnect) in memory and in the store. */
  async register(m: Extract<AgentToControl, { type: 'register' }>): Promise<void> {
    const existing = this.#agents.get(m.agentId);
    const agent: MutableAgent = {
      id: m.agentId, zone: m.zone, capacity: m.capacity, lastHeardMs: this.now(),
      disconnectedAtMs: null, disconnectWhy: null, disconnectSilent: false, reserved: existing?.reserved ?? new Map(),
      incarnation: m.incarnation,
    };
    this.#agents.set(m.agentId, agent);
    await this.store.upsertAgent({ id: m.agentId, zone: m.zone, capacity: m.capacity, at: new Date(this.now()).toISOString() });
  }

  /**
   * Records a heartbeat. A generator this process has not seen register (the control plane
   * restarted, the generator did not) is taken back from the store's record of it.
   */
  async heartbeat(m: Extract<AgentToControl, { type: 'heartbeat' }>): Promise<void> {
    // A control plane restarted after the agent registered learns its incarnation here, so a
    // later register of the same process (asked for after a cut) is not taken for a restart.
    const existing = this.#agents.get(m.agentId);
    if (existing !== undefined && existing.incarnation === undefined) existing.incarnation = m.incarnation;
    const at = new Date(this.now()).toISOString();
    const known = await this.store.recordHeartbeat(m.agentId, {
      at, cpuPercent: m.cpuPercent, memoryUsedBytes: m.memoryUsedBytes, memoryLimitBytes: m.memoryLimitBytes,
    });
    if (!this.#agents.has(m.agentId) && known) {
      const rec = await this.store.getAgent(m.agentId);
      if (rec !== undefined && !this.#agents.has(m.agentId)) {
        this.#agents.set(m.agentId, {
          id: m.agentId, zone: rec.zone, capacity: rec.capacity, lastHeardMs: this.now(), disconnectedAtMs: null, disconnectWhy: null, disconnectSilent: false, reserved: new Map(),
          incarnation: m.incarnation,
        });
      }
    }
  }

  /** Notes that something arrived from the generator (any message counts as a sign of life). */
  heard(agentId: AgentId): void {
    const a = this.#agents.get(agentId);
    if (a === undefined) return;
    a.lastHeardMs = this.now();
  }

  /** Notes that the generator's link dropped. */
  disconnected(agentId: AgentId, why: string, silent = false): void {
    const a = this.#agents.get(agentId);
    if (a === undefined || a.disconnectedAtMs !== null) return;
    a.disconnectedAtMs = this.now();
    a.disconnectWhy = why;
    a.disconnectSilent = silent;
  }

  /**
   * Whether `m` comes from the very process whose register this control plane holds (it
   * registers again, asked to after it was reported lost), as opposed to a new process.
   */
  isSameProcess(m: Extract<AgentToControl, { type: 'register' }>): boolean {
    const known = this.#agents.get(m.agentId)?.incarnation;
    return known !== undefined && known === m.incarnation;
  }

  /** The generator's state, if it ever registered with this process. */
  get(agentId: AgentId): AgentState | undefined {
    const a = this.#agents.get(agentId);
    return a === undefined ? undefined : view(a);
  }

  /** Every generator known to this process. */
  list(): AgentState[] {
    return [...this.#agents.values()].map(view);
  }

  /** Connected and heard recently enough to be given new work. */
  isHealthy(agentId: AgentId): boolean {
    const a = this.#agents.get(agentId);
    if (a === undefined || a.disconnectedAtMs !== null) return false;
    const window = Math.min(this.settings.agentGraceMs, 3 * this.settings.heartbeatIntervalMs);
    return this.now() - a.lastHeardMs <= window;
  }

  /** Healthy generators with the VUs they have left, for placement. */
  candidates(): PlacementCandidate[] {
    return [...this.#agents.values()]
      .filter((a) => this.isHealthy(a.id))
      .map((a) => ({ id: a.id, zone: a.zone, freeVUs: Math.max(0, a.capacity - sum(a.reserved)) }));
  }

  /** Holds VUs on generators for a run placed on them. */
  reserve(runId: RunId, shares: ReadonlyArray<{ agentId: AgentId; vus: number }>): void {
    for (const s of shares) this.#agents.get(s.agentId)?.reserved.set(runId, s.vus);
  }

  /** Gives back the VUs a run held. */
  release(runId: RunId): void {
    for (const a of this.#agents.values()) a.reserved.delete(runId);
  }
}

function sum(m: ReadonlyMap<RunId, number>): number {
  let s = 0;
  for (const v of m.values()) s += v;
  return s;
}

function view(a: MutableAgent): AgentState {
  return {
    id: a.id, zone: a.zone, capacity: a.capacity, lastHeardMs: a.lastHeardMs,
    disconnectedAtMs: a.disconnectedAtMs, disconnectWhy: a.disconnectWhy, disconnectSilent: a.disconnectSilent, reservedVUs: sum(a.reserved),
  };
}
