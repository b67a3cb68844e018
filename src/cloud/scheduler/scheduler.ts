import { debuglog } from 'node:util';
import type { OrgId } from '../../protocol/ids.js';
import { RunStatuses, type RunStatus } from '../../protocol/run-status.js';
import type { Store, StoredRun } from '../store/index.js';
import type { AgentRegistry } from './agent-registry.js';
import { placeRun, type Placement } from './placement.js';
import type { ServerSettings } from './settings.js';
import type { ExecutionSegment } from '../../executor/index.js';

const debug = debuglog('herd:scheduler');

/** What the scheduler needs from the run lifecycle: the plans, and the moves it decides. */
export interface SchedulerHost {
  /** The run's most VUs and the VUs a segment of it needs; undefined when its options no longer plan (it is then left alone). */
  planOf(run: StoredRun): { readonly maxVUs: number; vusFor(segment: ExecutionSegment): number } | undefined;
  /** Starts a placed run (Queued → Initializing, assignments sent); false when the run was no longer Queued. */
  launch(run: StoredRun, placement: Extract<Placement, { ok: true }>): Promise<boolean>;
  /** Ends a run whose zones had no healthy generator within the launch timeout (Aborted by system). */
  launchTimedOut(run: StoredRun, zones: readonly string[]): Promise<void>;
  /** Periodic work of the lifecycle (health, thresholds, progress), run after each queue pass. */
  tick(): Promise<void>;
}

/** How a scheduler is made. */
export interface SchedulerOptions {
  readonly store: Store;
  readonly registry: AgentRegistry;
  readonly settings: ServerSettings;
  readonly host: SchedulerHost;
  readonly now: () => number;
  /** This scheduler's name in the store's claims (unique per control-plane replica). */
  readonly schedulerId: string;
}

/**
 * The queue: on a timer (`schedulerTickMs`) and whenever something may have freed room
 * (`wake()`), it claims every Queued run oldest first, and starts each one whose organization
 * is under its concurrency limit and whose load zones have healthy generators with room.
 * Runs that cannot start are given back to the queue; a run of an organization waits behind
 * that organization's older waiting runs, so each organization's runs start in order. A run
 * whose zone has no healthy generator for `launchTimeoutMs` after it was queued ends Aborted by
 * system; one that only waits for room in its zones waits as long as it takes.
 */
export class Scheduler {
  readonly #o: SchedulerOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(options: SchedulerOptions) {
    this.#o = options;
  }

  /** Starts the timer (unref'd: it never keeps the process alive on its own). */
  start(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = setInterval(() => this.wake(), this.#o.settings.schedulerTickMs);
    this.#timer.unref();
  }

  /** Stops the timer and waits for a pass in progress; safe to call twice. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** Runs a pass soon; passes never overlap (a wake during a pass runs one more after it). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    this.#running = this.#loop().finally(() => {
      this.#running = undefined;
    });
  }

  /** One pass now (for tests and for callers that must wait for it). */
  async pass(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
    this.wake();
    await this.#running;
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      try {
        await this.#schedule();
        await this.#o.host.tick();
      } catch (e) {
        debug('scheduler pass failed: %s', e instanceof Error ? e.stack : String(e));
      }
    } while (this.#again && !this.#stopped);
  }

  async #schedule(): Promise<void> {
    const { store, registry, settings, host } = this.#o;
    const busy = new Map<OrgId, number>();
    for (const r of await store.listActiveRuns()) {
      if (isPlaced(r.status)) busy.set(r.orgId, (busy.get(r.orgId) ?? 0) + 1);
    }
    const limitOf = new Map<OrgId, number>();
    const blockedOrgs = new Set<OrgId>();
    const held: StoredRun[] = [];
    try {
      for (;;) {
        const run = await store.claimQueuedRun(this.#o.schedulerId, { leaseMs: settings.claimLeaseMs });
        if (run === undefined) break;
        held.push(run);
        if (blockedOrgs.has(run.orgId)) continue;
        let limit = limitOf.get(run.orgId);
        if (limit === undefined) {
          limit = (await store.getOrganization(run.orgId))?.limits.maxConcurrentRuns ?? 1;
          limitOf.set(run.orgId, limit);
        }
        if ((busy.get(run.orgId) ?? 0) >= limit) {
          blockedOrgs.add(run.orgId);
          continue;
        }
        const plan = host.planOf(run);
        if (plan === undefined) continue;
        const placement = placeRun(run.distribution, registry.candidates(), (s) => plan.vusFor(s), plan.maxVUs);
        if (placement.ok) {
          if (await host.launch(run, placement)) busy.set(run.orgId, (busy.get(run.orgId) ?? 0) + 1);
          continue;
        }
        const queuedMs = run.queuedAt === null ? this.#o.now() : Date.parse(run.queuedAt);
        if (placement.why === 'no_agents' && this.#o.now() - queuedMs >= settings.launchTimeoutMs) {
          await host.launchTimedOut(run, placement.zones);
          continue;
        }
        blockedOrgs.add(run.orgId);
      }
    } finally {
      // Runs still Queued go back to the queue for the next pass (or another replica).
      for (const run of held) await store.releaseClaim(run.id, this.#o.schedulerId).catch(() => false);
    }
  }
}

function isPlaced(status: RunStatus): boolean {
  return status.code === RunStatuses.Initializing.code || status.code === RunStatuses.Running.code;
}
