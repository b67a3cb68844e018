import { randomUUID } from 'node:crypto';
import { debuglog } from 'node:util';
import { HerdError } from '../../errors/index.js';
import { buildSummaryMetrics, type MetricsBatch, type ThresholdsEvaluation } from '../../metrics/index.js';
import type { AgentToControl, GroupNodeJSON } from '../../protocol/agent-messages.js';
import type { AgentId, OrgId, RunId, TestId } from '../../protocol/ids.js';
import type { OrgLimits } from '../../protocol/organization.js';
import { formatStatus, isFinal, RunStatuses, type RunStatus } from '../../protocol/run-status.js';
import type { Run, RunResult } from '../../protocol/run.js';
import { statusReasonSchema, type StatusReason } from '../../protocol/status-change.js';
import type { ThresholdResult } from '../../protocol/threshold-result.js';
import {
  AgentRegistry, resolveServerSettings, Scheduler, type Placement, type PlacementShare, type ServerSettings, type ServerSettingsInput,
} from '../scheduler/index.js';
import type { Store, StoredMetricPoint, StoredRun } from '../store/index.js';
import type { ControlPlaneTransport } from '../transport/index.js';
import { unpackAndCompile, type UnpackArchive } from './archive-unpacker.js';
import { isExternalRun } from './external-marker.js';
import { SerialByKey } from './serial-by-key.js';
import {
  checkArchiveSize, checkGroups, checkMetricSeries, checkStaticLimits, checkVuHourCap, defaultLimits, type LimitViolation,
} from './limits.js';
import { newLiveRun, type LiveRun, type LiveShare } from './live-run.js';
import { planRun, vusForSegment, type RunPlan } from './run-plan.js';
import type { MetricPoint, RunEvent, RunService, SubmitRun } from './service.js';
import { canTransition, createdChange, transition } from './status-machine.js';
import { countsTowardUsage, estimateVuHours, runVuHours, usageMonth } from './usage.js';

/** A line the run manager logs (default: NODE_DEBUG=herd:runs). */
export type RunLog = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

/** How a run manager is made. */
export interface RunManagerOptions {
  readonly store: Store;
  readonly transport: ControlPlaneTransport;
  /** Reads archives; src/script's unpackArchive by default. */
  readonly unpackArchive?: UnpackArchive;
  /** Server settings; defaults for those left out (scheduler/settings.ts). */
  readonly settings?: ServerSettingsInput;
  /** Epoch ms; tests inject a clock. */
  readonly now?: () => number;
  /** This control plane's name in queue claims; unique per replica. */
  readonly schedulerId?: string;
  readonly log?: RunLog;
}

const debug = debuglog('herd:runs');
const defaultLog: RunLog = (level, message) => debug('%s %s', level, message);

// Reasons an agent's `ended` may carry that the status machine knows for Aborted by script error.
// How often a replica renews its leads and looks for runs to take over.
const LEAD_SCAN_MS = 1000;
// Store writes of one run's batches that may be in flight at once.
const MAX_WRITES_IN_FLIGHT = 16;

const SCRIPT_END_REASONS: ReadonlySet<StatusReason> = new Set(['script_abort', 'script_error', 'setup_error', 'init_error']);

// The seed's advice for an overutilized generator (cloud-test-status-codes.md, Aborted by system).
const OVERUTILIZED_ADVICE = 'Load generators might be overutilized: look at the CPU and memory utilization and add or increase sleep times. '
  + 'You also might set the option discardResponseBodies to true to lower memory pressure.';

/**
 * The test-run lifecycle (ARCHITECTURE.md §5): validates submitted runs, queues them, and with the
 * scheduler places them on generators, then leads the conversation of agent-messages.ts with the
 * generators until the run ends with exactly one final status. Every status change is decided by
 * the status machine and written with the store's compare-and-set; a lost race is resolved by
 * re-reading the run. Work on one run is serialized (one promise chain per run), so messages,
 * timers and API calls never interleave on it.
 *
 * Usage: `const runs = new RunManager({ store, transport, settings }); await runs.start();`
 */
export class RunManager implements RunService {
  readonly settings: ServerSettings;
  readonly agents: AgentRegistry;
  readonly scheduler: Scheduler;
  readonly #store: Store;
  readonly #transport: ControlPlaneTransport;
  readonly #unpack: UnpackArchive;
  readonly #now: () => number;
  readonly #log: RunLog;
  readonly #live = new Map<RunId, LiveRun>();
  readonly #chains = new SerialByKey<RunId>();
  readonly #listeners = new Set<(e: RunEvent) => void>();
  readonly #plans = new Map<RunId, RunPlan>();
  /** This replica's name in run leads and queue claims. */
  readonly #replicaId: string;
  #lastLeadScanMs = 0;
  #started = false;
  #closed: Promise<void> | undefined;

  constructor(options: RunManagerOptions) {
    this.settings = resolveServerSettings(options.settings);
    this.#store = options.store;
    this.#transport = options.transport;
    this.#unpack = options.unpackArchive ?? unpackAndCompile;
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? defaultLog;
    this.agents = new AgentRegistry(this.#store, this.settings, this.#now);
    this.#replicaId = options.schedulerId ?? `scheduler-${randomUUID()}`;
    const self = this;
    this.scheduler = new Scheduler({
      store: this.#store,
      registry: this.agents,
      settings: this.settings,
      now: this.#now,
      schedulerId: this.#replicaId,
      host: {
        planOf: (run) => self.#planOf(run),
        launch: (run, placement) => self.#exclusive(run.id, () => self.#launch(run, placement)),
        launchTimedOut: (run, zones) => self.#exclusive(run.id, async () => {
          const names = zones.map((z) => `"${z}"`).join(', ');
          await self.#end(run.id, RunStatuses.AbortedBySystem, 'launch_timeout',
            `load zone ${names} had no healthy load generator within the launch timeout of ${seconds(self.settings.launchTimeoutMs)}; `
            + 'the load zone may have an underlying issue: check that its load generators (herd agent) are running');
        }),
        tick: () => self.#tick(),
      },
    });
  }

  /**
   * Takes over the runs the store holds (a restarted control plane: see `#recover`), starts
   * listening to the transport and starts the scheduler's timer.
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.#transport.onMessage((m) => this.#onMessage(m));
    // Other replicas' live events reach this one's followers (SSE) as if they happened here.
    this.#transport.replicas?.onMessage((payload) => {
      if (isRunEvent(payload)) this.#emitHere(payload);
      else this.#log('warn', `dropped a live event from another replica that is not one: ${JSON.stringify(payload)?.slice(0, 200)}`);
    });
    this.#transport.onDisconnect((agentId, why, silent) => {
      this.agents.disconnected(agentId, why, silent);
      this.#log('warn', `load generator ${agentId} disconnected: ${why}`);
    });
    await this.#recover();
    this.scheduler.start();
    this.scheduler.wake();
  }

  // ---- RunService ----

  async submit(orgId: OrgId, input: SubmitRun): Promise<Run> {
    const org = await this.#store.getOrganization(orgId);
    if (org === undefined) throw new HerdError('not_found', `organization ${orgId} does not exist`);
    const testId = await this.#resolveTest(orgId, input);
    const archive = await this.#store.putArchive(orgId, testId, input.archive);
    const verdict = await this.#validate(orgId, input.archive, org.limits);
    const plan = verdict.plan;
    const run = await this.#store.createRun(orgId, {
      testId, archiveId: archive.id, options: verdict.rawOptions ?? {},
      vus: plan?.maxVUs ?? 0, durationSeconds: plan?.durationSeconds ?? null,
      distribution: plan?.distribution ?? { [this.settings.defaultZone]: { loadZone: this.settings.defaultZone, percent: 100 } },
      created: createdChange(this.#date()),
    });
    this.#emitStatus(run);
    return this.#exclusive(run.id, async () => {
      if (verdict.ok) {
        this.#plans.set(run.id, verdict.plan);
        await this.#queue(run, verdict.plan);
      } else {
        await this.#end(run.id, verdict.status, verdict.reason, verdict.message);
      }
      return publicRun(await this.#mustGet(run.id));
    });
  }

  async abort(orgId: OrgId, runId: RunId): Promise<Run | undefined> {
    const run = await this.#store.getRun(orgId, runId);
    if (run === undefined) return undefined;
    if (isFinal(run.status)) {
      throw new HerdError('invalid_transition', `run ${runId} already ended as ${formatStatus(run.status)}; it cannot be aborted`, {
        hint: 'only runs that are still Created, Validated, Queued, Initializing or Running can be aborted',
      });
    }
    return this.#exclusive(runId, async () => {
      const ended = await this.#end(runId, RunStatuses.AbortedByUser, 'user_abort', 'aborted by the user');
      return publicRun(ended ?? await this.#mustGet(runId));
    });
  }

  subscribe(listener: (event: RunEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Tells subscribers about a run this manager does not drive (external-runs.ts), so it shows up in live events too. */
  announce(event: RunEvent): void {
    this.#emit(event);
  }

  async metricSeries(orgId: OrgId, runId: RunId, metric: string, fromMs?: number, toMs?: number): Promise<MetricPoint[] | undefined> {
    if ((await this.#store.getRun(orgId, runId)) === undefined) return undefined;
    const points = await this.#store.listMetricPoints(runId, metric, {
      ...(fromMs === undefined ? {} : { fromMs }), ...(toMs === undefined ? {} : { toMs }),
    });
    return points.map((p) => ({ t: p.t, values: p.values }));
  }

  async summary(orgId: OrgId, runId: RunId): Promise<Record<string, unknown> | undefined> {
    if ((await this.#store.getRun(orgId, runId)) === undefined) return undefined;
    const live = this.#live.get(runId);
    if (live !== undefined) return this.#summaryOf(live, this.#evaluate(live, false));
    return (await this.#store.getRunSummary(runId)) ?? { metrics: {}, root_group: { name: '', path: '', id: '', groups: [], checks: [] } };
  }

  async estimate(orgId: OrgId, archive: Uint8Array): Promise<{ vus: number; durationSeconds: number; vuHours: number }> {
    if ((await this.#store.getOrganization(orgId)) === undefined) throw new HerdError('not_found', `organization ${orgId} does not exist`);
    const unpacked = await this.#unpack(archive);
    const plan = planRun(unpacked.metadata.options, this.settings.defaultZone);
    return { vus: plan.maxVUs, durationSeconds: plan.durationSeconds, vuHours: estimateVuHours(plan.maxVUs, plan.durationSeconds) };
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.scheduler.stop();
      await this.#chains.idle();
      // Runs go on on their generators: their leads are given up, so another replica (or this
      // one, restarted) takes them over at once instead of after the lease (see #takeOver).
      for (const live of this.#live.values()) {
        await this.#settleWrites(live);
        await this.#store.releaseRunLead(live.id, this.#replicaId).catch((e: unknown) => this.#log('warn', `run ${live.id}: its lead could not be given up: ${errorText(e)}`));
      }
      this.#live.clear();
      await this.#transport.close();
    })();
    return this.#closed;
  }

  // ---- validation and queueing ----

  async #resolveTest(orgId: OrgId, input: SubmitRun): Promise<TestId> {
    if (input.testId !== undefined) {
      const test = await this.#store.getTest(orgId, input.testId);
      if (test === undefined || test.projectId !== input.projectId) {
        throw new HerdError('not_found', `test ${input.testId} does not exist in project ${input.projectId}`);
      }
      return test.id;
    }
    const name = input.testName ?? 'default';
    const found = await this.#store.findTestByName(orgId, input.projectId, name);
    if (found !== undefined) return found.id;
    try {
      return (await this.#store.createTest(orgId, { projectId: input.projectId, name })).id;
    } catch (e) {
      // Two submits of a new name at once (on one replica or two): the name is unique per
      // project, so the one that lost the race uses the test the other made.
      const made = await this.#store.findTestByName(orgId, input.projectId, name);
      if (made !== undefined) return made.id;
      throw e;
    }
  }

  /** Everything checked before a run may be queued, in the order a user would fix it. */
  async #validate(orgId: OrgId, bytes: Uint8Array, limits: OrgLimits): Promise<Verdict> {
    const tooBig = checkArchiveSize(bytes.byteLength, limits);
    if (tooBig !== null) return limitVerdict(tooBig, undefined, undefined);
    let rawOptions: Record<string, unknown>;
    try {
      rawOptions = (await this.#unpack(bytes)).metadata.options;
    } catch (e) {
      if (e instanceof HerdError && e.code === 'archive_too_large') {
        return { ok: false, status: RunStatuses.AbortedByLimit, reason: 'archive_too_large', message: e.message };
      }
      return { ok: false, status: RunStatuses.AbortedByScriptError, reason: 'script_error', message: `the archive cannot be read: ${errorText(e)}` };
    }
    let plan: RunPlan;
    try {
      plan = planRun(rawOptions, this.settings.defaultZone);
    } catch (e) {
      return { ok: false, status: RunStatuses.AbortedByScriptError, reason: 'invalid_options', message: `invalid options: ${errorText(e)}`, rawOptions };
    }
    const violations = checkStaticLimits({ maxVus: plan.maxVUs, durationSeconds: plan.durationSeconds, archiveBytes: bytes.byteLength }, limits);
    const first = violations[0];
    if (first !== undefined) {
      return { ok: false, status: RunStatuses.AbortedByLimit, reason: first.reason, message: violations.map((v) => v.message).join('; '), rawOptions, plan };
    }
    const used = (await this.#store.getUsage(orgId, usageMonth(this.#date().toISOString()))).vuHours;
    const cap = checkVuHourCap(estimateVuHours(plan.maxVUs, plan.durationSeconds), used, limits);
    if (cap !== null) return limitVerdict(cap, rawOptions, plan);
    return { ok: true, rawOptions, plan };
  }

  async #queue(run: StoredRun, plan: RunPlan): Promise<void> {
    const estimate = estimateVuHours(plan.maxVUs, plan.durationSeconds);
    const validated = await this.#advance(run, RunStatuses.Validated, 'validated',
      `${plan.maxVUs} VUs for up to ${seconds(plan.durationMs)}; estimated ${round(estimate)} VU-hours`);
    if (validated === undefined) return;
    const zones = [...new Set(Object.values(plan.distribution).map((d) => d.loadZone))].join(', ');
    const queued = await this.#advance(validated, RunStatuses.Queued, 'queued', `waiting for load generators in ${zones}`);
    if (queued !== undefined) this.scheduler.wake();
  }

  #planOf(run: StoredRun): { maxVUs: number; vusFor: (s: Parameters<typeof vusForSegment>[1]) => number } | undefined {
    let plan = this.#plans.get(run.id);
    if (plan === undefined) {
      try {
        plan = planRun(run.options, this.settings.defaultZone);
      } catch (e) {
        this.#log('error', `run ${run.id}: its stored options no longer plan: ${errorText(e)}`);
        return undefined;
      }
      this.#plans.set(run.id, plan);
    }
    const configs = plan.configs;
    return { maxVUs: plan.maxVUs, vusFor: (segment) => vusForSegment(configs, segment) };
  }

  // ---- placing a run on generators ----

  async #launch(run: StoredRun, placement: Extract<Placement, { ok: true }>): Promise<boolean> {
    const plan = this.#plans.get(run.id) ?? planRun(run.options, this.settings.defaultZone);
    const where = placement.shares.map((s) => `${s.agentId} (${s.zone}, ${s.segment}, ${s.vus} VUs)`).join(', ');
    const current = await this.#store.getRunForSystem(run.id);
    if (current === undefined || current.status.code !== RunStatuses.Queued.code) return false;
    // The lead comes first, so that no other replica sees the run Initializing without a leader
    // and takes it over.
    if (!(await this.#lead(run.id))) return false;
    const initializing = await this.#advance(current, RunStatuses.Initializing, 'placed', `placed on ${where}`);
    if (initializing === undefined) {
      await this.#store.releaseRunLead(run.id, this.#replicaId);
      return false;
    }
    const limits = (await this.#store.getOrganization(run.orgId))?.limits ?? defaultLimits;
    const now = this.#now();
    const live = newLiveRun({
      id: run.id, orgId: run.orgId, projectId: run.projectId, vus: run.vus, plannedDurationMs: plan.durationMs, limits,
      sequence: placement.sequence, shares: placement.shares, thresholds: plan.thresholds, now,
    });
    this.#live.set(run.id, live);
    this.agents.reserve(run.id, placement.shares);
    try {
      await this.#store.assignAgents(run.id, placement.shares.map((s) => ({ agentId: s.agentId, zone: s.zone, segment: s.segment, vus: s.vus })), new Date(now).toISOString());
      await this.#assign(run, placement.sequence, placement.shares);
    } catch (e) {
      this.#log('error', `run ${run.id}: could not be handed to its load generators: ${errorText(e)}`);
      await this.#end(run.id, RunStatuses.AbortedBySystem, 'internal_error', `the control plane could not hand the run to its load generators: ${errorText(e)}`);
    }
    return true;
  }

  /** Sends the run's archive and share to each of `shares` (an agent ignores a repeat). */
  async #assign(run: StoredRun, sequence: string, shares: readonly PlacementShare[]): Promise<void> {
    const archive = await this.#store.getArchive(run.orgId, run.archiveId);
    if (archive === undefined) throw new HerdError('store_failure', `archive ${run.archiveId} of run ${run.id} is missing`);
    const base64 = Buffer.from(archive.bytes.buffer, archive.bytes.byteOffset, archive.bytes.byteLength).toString('base64');
    for (const s of shares) {
      this.#transport.send(s.agentId, {
        type: 'assign', runId: run.id, archive: base64, segment: s.segment, sequence, lifecycle: s.lifecycle,
        tags: { load_zone: s.zone, instance_id: s.agentId },
      });
    }
  }

  // ---- the conversation with generators ----

  #onMessage(m: AgentToControl): void {
    this.agents.heard(m.agentId);
    if ('runId' in m && m.type !== 'log' && !this.#live.has(m.runId)) {
      // Another replica leads the run (or nobody does, for now): record what the generator says,
      // so that whoever leads it next can go on from there.
      void this.#exclusive(m.runId, () => this.#record(m))
        .catch((e) => this.#log('error', `run ${m.runId}: recording ${m.type} from ${m.agentId} failed: ${errorText(e)}`));
      return;
    }
    switch (m.type) {
      case 'register':
        // A register from a new process under the id of one that holds shares of live runs:
        // those shares died with the old process. The same process registers again when a
        // control plane that reported it lost hears it again (each replica asks on its own),
        // which is no restart; an agent that gives no incarnation is taken as restarted.
        for (const live of this.agents.isSameProcess(m) ? [] : this.#live.values()) {
          const share = live.shares.get(m.agentId);
          if (share === undefined || share.state === 'done') continue;
          void this.#exclusive(live.id, () =>
            this.#end(live.id, RunStatuses.AbortedBySystem, 'agent_lost',
              `load generator ${m.agentId} in zone ${share.zone} lost: it restarted during the run. ${OVERUTILIZED_ADVICE}`),
          ).catch((e) => this.#log('error', `run ${live.id}: ${errorText(e)}`));
        }
        void this.agents.register(m).then(() => this.scheduler.wake(), (e) => this.#log('error', `register of ${m.agentId} failed: ${errorText(e)}`));
        return;
      case 'heartbeat':
        void this.#onHeartbeat(m).catch((e) => this.#log('error', `heartbeat of ${m.agentId} failed: ${errorText(e)}`));
        return;
      case 'initialized':
        this.#withShare(m, (live, share) => this.#onInitialized(live, share));
        return;
      case 'setupDone':
        this.#withShare(m, (live, share) => this.#onSetupDone(live, share, m.setupJSON));
        return;
      case 'metrics':
        this.#withShare(m, (live, share) => this.#onMetrics(live, share, m));
        return;
      case 'log':
        this.#withShare(m, async (live) => {
          this.#emit({ type: 'log', orgId: live.orgId, runId: live.id, level: m.level, message: `[${m.agentId}] ${m.message}`, at: this.#now() });
        });
        return;
      case 'ended':
        this.#withShare(m, (live) => this.#onEnded(live, m));
        return;
      case 'done':
        this.#withShare(m, (live, share) => this.#onDone(live, share, m));
        return;
      case 'teardownDone':
        this.#withShare(m, (live, share) => this.#onTeardownDone(live, share, m));
        return;
      case 'failed':
        this.#withShare(m, async (live) => {
          const { reason, message } = scriptEnd(m);
          await this.#end(live.id, RunStatuses.AbortedByScriptError, reason, message);
        });
        return;
      default: {
        const never: never = m;
        this.#log('error', `unknown agent message ${JSON.stringify(never)}`);
      }
    }
  }

  /** Runs `fn` on the run's chain when the message is from one of the run's generators; drops it otherwise. */
  #withShare(m: { runId: RunId; agentId: AgentId; type: string }, fn: (live: LiveRun, share: LiveShare) => Promise<void>): void {
    const live = this.#live.get(m.runId);
    const share = live?.shares.get(m.agentId);
    if (live === undefined || share === undefined) {
      this.#log('debug', `dropped ${m.type} from ${m.agentId} for run ${m.runId}: not a live run of that generator here`);
      return;
    }
    const now = this.#now();
    share.lastHeardMs = now;
    live.lastHeardMs = now;
    void this.#exclusive(m.runId, async () => {
      // The run may have ended while this message waited its turn.
      if (this.#live.get(m.runId) !== live) return;
      await fn(live, share);
    }).catch((e) => this.#log('error', `run ${m.runId}: handling ${m.type} from ${m.agentId} failed: ${errorText(e)}`));
  }

  async #onInitialized(live: LiveRun, share: LiveShare): Promise<void> {
    if (live.phase !== 'initializing' || share.state !== 'assigned') return;
    share.state = 'initialized';
    await this.#store.setAssignmentState(live.id, share.agentId, 'initialized', this.#iso());
    if ([...live.shares.values()].every((s) => s.state === 'initialized')) {
      live.phase = 'setup';
      this.#transport.send(live.lifecycleAgent, { type: 'setup', runId: live.id });
    }
  }

  async #onSetupDone(live: LiveRun, share: LiveShare, setupJSON: string | undefined): Promise<void> {
    if (live.phase !== 'setup' || share.agentId !== live.lifecycleAgent) return;
    await this.#store.recordRunFacts(live.id, { setupDoneAt: this.#iso(), ...(setupJSON === undefined ? {} : { setupJSON }) });
    await this.#startScenarios(live, setupJSON);
  }

  /** Moves the run to Running and sends every generator the common start time. */
  async #startScenarios(live: LiveRun, setupJSON: string | undefined): Promise<void> {
    const run = await this.#mustGet(live.id);
    const n = live.shares.size;
    const running = await this.#advance(run, RunStatuses.Running, 'started',
      `started on ${n} load generator${n === 1 ? '' : 's'} (execution segment sequence ${live.sequence})`);
    if (running === undefined) return;
    live.phase = 'running';
    live.setupJSON = setupJSON;
    const now = this.#now();
    live.startAtMs = now + this.settings.startDelayMs;
    live.lastEvalMs = now;
    live.lastProgressMs = now;
    await this.#store.recordRunFacts(live.id, { startAtMs: live.startAtMs });
    this.#sendStart(live, [...live.shares.values()]);
    for (const s of live.shares.values()) await this.#store.setAssignmentState(live.id, s.agentId, 'running', this.#iso());
  }

  #sendStart(live: LiveRun, shares: readonly LiveShare[]): void {
    for (const s of shares) {
      s.state = 'running';
      this.#transport.send(s.agentId, {
        type: 'start', runId: live.id, startAt: live.startAtMs ?? this.#now(), ...(live.setupJSON === undefined ? {} : { setupJSON: live.setupJSON }),
      });
    }
  }

  async #onMetrics(live: LiveRun, share: LiveShare, m: Extract<AgentToControl, { type: 'metrics' }>): Promise<void> {
    share.activeVUs = m.counts.active;
    share.groupCount = Math.max(share.groupCount, m.groupCount);
    share.seriesCount = Math.max(share.seriesCount, m.seriesCount);
    await this.#ingest(live, share.agentId, m.seq, m.batch);
    if (live.phase !== 'running') return;
    const violation = this.#runningLimit(live);
    if (violation !== null) await this.#end(live.id, RunStatuses.AbortedByLimit, violation.reason, violation.message);
  }

  async #onEnded(live: LiveRun, m: Extract<AgentToControl, { type: 'ended' }>): Promise<void> {
    const { reason, message } = scriptEnd(m);
    await this.#end(live.id, RunStatuses.AbortedByScriptError, reason, message);
  }

  /**
   * What a replica that does not lead a run keeps of a generator's message: the facts a leader
   * would need to go on (batches, share states, setup and teardown reports, a script's end).
   * All writes are idempotent, so every replica may record the same message.
   */
  async #record(m: AgentToControl): Promise<void> {
    const at = this.#iso();
    switch (m.type) {
      case 'metrics':
        await this.#store.insertMetricBatch({ runId: m.runId, agentId: m.agentId, sequence: m.seq, payload: encodeBatch(m.batch), receivedAt: at });
        return;
      case 'initialized':
        await this.#store.setAssignmentState(m.runId, m.agentId, 'initialized', at);
        return;
      case 'setupDone':
        await this.#store.recordRunFacts(m.runId, { setupDoneAt: at, ...(m.setupJSON === undefined ? {} : { setupJSON: m.setupJSON }) });
        return;
      case 'done':
        await this.#store.insertMetricBatch({ runId: m.runId, agentId: m.agentId, sequence: m.seq, payload: encodeBatch(m.batch), receivedAt: at });
        await this.#store.setAssignmentState(m.runId, m.agentId, 'done', at, { groupsJSON: JSON.stringify(m.groups) });
        return;
      case 'teardownDone':
        await this.#store.insertMetricBatch({ runId: m.runId, agentId: m.agentId, sequence: m.seq, payload: encodeBatch(m.batch), receivedAt: at });
        await this.#store.recordRunFacts(m.runId, { teardownDoneAt: at, teardownGroupsJSON: JSON.stringify(m.groups) });
        return;
      case 'ended':
      case 'failed': {
        const { reason, message } = scriptEnd(m);
        await this.#store.recordRunFacts(m.runId, { endReason: reason, endMessage: message });
        return;
      }
      case 'register':
      case 'heartbeat':
      case 'log':
        return;
      default: {
        const never: never = m;
        this.#log('error', `unknown agent message ${JSON.stringify(never)}`);
      }
    }
  }

  async #onDone(live: LiveRun, share: LiveShare, m: Extract<AgentToControl, { type: 'done' }>): Promise<void> {
    if (share.state === 'done') return;
    share.activeVUs = 0;
    await this.#ingest(live, share.agentId, m.seq, m.batch);
    live.groups.mergeFrom(m.groups);
    share.state = 'done';
    await this.#store.setAssignmentState(live.id, share.agentId, 'done', this.#iso(), { groupsJSON: JSON.stringify(m.groups) });
    if (live.phase === 'running' && [...live.shares.values()].every((s) => s.state === 'done')) {
      live.phase = 'teardown';
      this.#transport.send(live.lifecycleAgent, {
        type: 'teardown', runId: live.id, ...(live.setupJSON === undefined ? {} : { setupJSON: live.setupJSON }),
      });
    }
  }

  async #onTeardownDone(live: LiveRun, share: LiveShare, m: Extract<AgentToControl, { type: 'teardownDone' }>): Promise<void> {
    if (live.phase !== 'teardown' || share.agentId !== live.lifecycleAgent) return;
    await this.#ingest(live, share.agentId, m.seq, m.batch);
    await this.#store.recordRunFacts(live.id, { teardownDoneAt: this.#iso(), teardownGroupsJSON: JSON.stringify(m.groups) });
    // The teardown's own groups and checks (the VU part came with `done`).
    live.groups.mergeFrom(m.groups);
    await this.#finish(live);
  }

  /** Ends a run whose generators all completed: Finished, passed or failed by its thresholds. */
  async #finish(live: LiveRun): Promise<void> {
    const evaluation = this.#evaluate(live, true);
    const failed = evaluation !== undefined && !evaluation.passed;
    const message = failed
      ? `all load generators completed; thresholds crossed on ${evaluation.crossedKeys.join(', ')}`
      : 'all load generators completed';
    await this.#end(live.id, RunStatuses.Finished, 'completed', message, { result: failed ? 'failed' : 'passed', evaluation });
  }

  /**
   * Stores and merges one metric batch once. A live run knows every (agent, seq) it merged: the
   * ones it received, and, when it was taken over, every batch in the store (#resume). So a
   * batch re-sent after a reconnect or replayed by the transport is dropped here, and one that
   * another replica stored first (it records every batch too) is still merged.
   */
  async #ingest(live: LiveRun, agentId: AgentId, seq: number, raw: { startMs: number; endMs: number; metrics: Array<Record<string, unknown>> }): Promise<void> {
    const key = `${agentId}#${seq}`;
    if (live.seenBatches.has(key)) return;
    live.seenBatches.add(key);
    // The batch is stored behind the merge, not before it: the run's work waits for no database
    // round trip per batch (thresholds and limits see it at once), and the run's end waits for
    // every write (#settleWrites) before its summary is stored.
    this.#track(live, this.#store.insertMetricBatch({ runId: live.id, agentId, sequence: seq, payload: encodeBatch(raw), receivedAt: this.#iso() }).then(() => undefined));
    // The message schema leaves the inside of a batch to the metrics code, which throws on what it cannot merge.
    const batch = raw as unknown as MetricsBatch;
    try {
      live.collector.mergeBatch(batch);
      for (const p of live.points.add(batch)) live.pendingPoints.set(`${p.metric}\n${p.t}`, p);
    } catch (e) {
      this.#log('warn', `run ${live.id}: dropped batch ${seq} of ${agentId}: ${errorText(e)}`);
    }
    // Bounded: a database slower than the generators slows the run's work down, not memory up.
    while (live.writes.size >= MAX_WRITES_IN_FLIGHT) await Promise.race(live.writes);
  }

  /** Writes the points merged since the last write, in one go: a second rewritten by many batches is written once. */
  #flushPoints(live: LiveRun): void {
    if (live.pendingPoints.size === 0) return;
    const points = [...live.pendingPoints.values()];
    live.pendingPoints.clear();
    this.#track(live, this.#store.putMetricPoints(live.id, points));
  }

  #track(live: LiveRun, write: Promise<void>): void {
    const tracked: Promise<void> = write.catch((e: unknown) => this.#log('error', `run ${live.id}: a metrics write failed: ${errorText(e)}`))
      .finally(() => {
        live.writes.delete(tracked);
        // Points merged while writes were in flight go out when the last one is done.
        if (live.writes.size === 0 && live.pendingPoints.size > 0 && live.phase !== 'ended') this.#flushPoints(live);
      });
    live.writes.add(tracked);
  }

  /** Waits for every write of the run's batches and points. */
  async #settleWrites(live: LiveRun): Promise<void> {
    for (let i = 0; i < 100 && (live.writes.size > 0 || live.pendingPoints.size > 0); i++) {
      this.#flushPoints(live);
      await Promise.allSettled([...live.writes]);
    }
  }

  #runningLimit(live: LiveRun): LimitViolation | null {
    // A generator reports the groups and series of its own share; every share runs the same
    // script, so the run's count is the largest any generator reports (herd's own per-generator
    // tags, load_zone and instance_id, do not multiply a user's series).
    let groups = live.groups.groupCount;
    let series = 0;
    for (const s of live.shares.values()) {
      groups = Math.max(groups, s.groupCount);
      series = Math.max(series, s.seriesCount);
    }
    return checkGroups(groups, live.limits) ?? checkMetricSeries(series, live.limits);
  }

  async #onHeartbeat(m: Extract<AgentToControl, { type: 'heartbeat' }>): Promise<void> {
    await this.agents.heartbeat(m);
    const now = this.#now();
    const memory = m.memoryUsedBytes / m.memoryLimitBytes;
    for (const live of [...this.#live.values()]) {
      const share = live.shares.get(m.agentId);
      if (share === undefined) continue;
      // A generator that is alive but does not hold its share (its assignment was lost, or
      // closed after an error nobody heard of) would keep the run waiting forever on its
      // heartbeats: past the grace period the run ends, naming it.
      if (m.runs.includes(live.id) || share.state === 'done') {
        share.notHeldSinceMs = null;
      } else {
        share.notHeldSinceMs ??= now;
        if (now - share.notHeldSinceMs >= this.settings.agentGraceMs) {
          void this.#exclusive(live.id, async () => {
            if (this.#live.get(live.id) !== live) return;
            await this.#end(live.id, RunStatuses.AbortedBySystem, 'agent_lost',
              `load generator ${m.agentId} in zone ${share.zone} lost its share of the run: its heartbeats have not listed the run for ${seconds(now - (share.notHeldSinceMs ?? now))}`);
          }).catch((e) => this.#log('error', `run ${live.id}: ${errorText(e)}`));
        }
        continue;
      }
      share.lastHeardMs = now;
      live.lastHeardMs = now;
      if (live.phase !== 'running') continue;
      if (m.cpuPercent > this.settings.warnCpuPercent) {
        await this.#warn(live, share, 'agent_high_cpu', `load generator ${m.agentId} in zone ${share.zone} is at ${Math.round(m.cpuPercent)}% CPU. ${OVERUTILIZED_ADVICE}`);
      }
      if (memory > this.settings.warnMemoryFraction) {
        await this.#warn(live, share, 'agent_high_memory', `load generator ${m.agentId} in zone ${share.zone} uses ${Math.round(memory * 100)}% of its memory. ${OVERUTILIZED_ADVICE}`);
      }
    }
  }

  async #warn(live: LiveRun, share: LiveShare, code: string, message: string): Promise<void> {
    const now = this.#now();
    const last = share.warnedAt.get(code);
    if (last !== undefined && now - last < this.settings.warningRepeatMs) return;
    share.warnedAt.set(code, now);
    await this.#store.addRunWarning(live.id, { code, message, at: new Date(now).toISOString() });
    this.#emit({ type: 'warning', orgId: live.orgId, runId: live.id, code, message, at: now });
  }

  // ---- the periodic checks ----

  async #tick(): Promise<void> {
    const now = this.#now();
    if (now - this.#lastLeadScanMs >= LEAD_SCAN_MS) {
      this.#lastLeadScanMs = now;
      await this.#scanLeads().catch((e) => this.#log('error', `looking for runs to take over failed: ${errorText(e)}`));
    }
    for (const live of [...this.#live.values()]) {
      await this.#exclusive(live.id, async () => {
        if (this.#live.get(live.id) !== live) return;
        if (await this.#checkHealth(live)) return;
        if (live.phase === 'running') await this.#checkRunning(live);
      }).catch((e) => this.#log('error', `run ${live.id}: periodic check failed: ${errorText(e)}`));
    }
  }

  /**
   * The rule of settings.ts. A disconnected generator is judged by the grace period only: past
   * it, Aborted by system; before it, the run waits for the generator to come back, whatever
   * the silence. With every link up: nothing from any generator for the run timeout → Timed out;
   * one generator silent for the grace period while another was heard within it → Aborted by
   * system. So a dead process reads "load generator lost" and a hung one "timed out", whichever
   * of the two settings is shorter.
   */
  async #checkHealth(live: LiveRun): Promise<boolean> {
    const now = this.#now();
    const { agentGraceMs, runTimeoutMs } = this.settings;
    let anyDisconnected = false;
    for (const share of live.shares.values()) {
      const agent = this.agents.get(share.agentId);
      if (agent === undefined && live.resumedAtMs !== null) {
        // Taken over from another replica (or an earlier process), and its generator has not made
        // itself known here: judged as one whose link dropped when the run was taken over.
        anyDisconnected = true;
        if (now - share.lastHeardMs < agentGraceMs) continue;
        await this.#end(live.id, RunStatuses.AbortedBySystem, 'agent_lost',
          `load generator ${share.agentId} in zone ${share.zone} lost: nothing received from it for ${seconds(now - share.lastHeardMs)} since this control plane took the run over`);
        return true;
      }
      // A link presumed lost from silence alone is judged by the silence rules below, so that
      // a run whose generators all fell silent reads Timed out and one alone silent Aborted by system.
      if (agent === undefined || agent.disconnectedAtMs === null || agent.disconnectSilent) continue;
      anyDisconnected = true;
      if (now - agent.disconnectedAtMs >= agentGraceMs) {
        await this.#end(live.id, RunStatuses.AbortedBySystem, 'agent_lost',
          `load generator ${share.agentId} in zone ${share.zone} lost: ${agent.disconnectWhy ?? 'disconnected'}, and it did not come back within ${seconds(agentGraceMs)}. ${OVERUTILIZED_ADVICE}`);
        return true;
      }
    }
    if (anyDisconnected) return false;
    if (now - live.lastHeardMs >= runTimeoutMs) {
      await this.#end(live.id, RunStatuses.TimedOut, 'run_timeout',
        `nothing was received from the run's load generators for ${seconds(now - live.lastHeardMs)} (run timeout ${seconds(runTimeoutMs)})`);
      return true;
    }
    // "Alone" silent: another of the run's generators is plainly alive (heard within a few
    // heartbeats). Generators cut off together stop at slightly different moments, and none of
    // them is alive then: that is the run timing out, not one generator lost.
    const aliveWindowMs = Math.min(agentGraceMs / 2, 3 * this.settings.heartbeatIntervalMs);
    const anyAlive = [...live.shares.values()].some((s) => now - s.lastHeardMs < aliveWindowMs);
    if (!anyAlive) return false;
    for (const share of live.shares.values()) {
      if (now - share.lastHeardMs >= agentGraceMs) {
        await this.#end(live.id, RunStatuses.AbortedBySystem, 'agent_lost',
          `load generator ${share.agentId} in zone ${share.zone} lost: nothing received from it for ${seconds(now - share.lastHeardMs)} while the others kept reporting`);
        return true;
      }
    }
    return false;
  }

  // ---- leads: which replica conducts which live run ----

  /** Takes or renews this replica's lead of a run for one lease. */
  #lead(runId: RunId): Promise<boolean> {
    const now = this.#now();
    return this.#store.leadRun(runId, this.#replicaId, { now: new Date(now).toISOString(), until: new Date(now + this.settings.runLeaseMs).toISOString() });
  }

  /**
   * Renews the leads of this replica's live runs (a run whose lead another replica took is let
   * go, without a word to its generators) and takes over Initializing and Running runs whose
   * lead lapsed. (The other replicas' live events arrive through the transport's replica channel.)
   */
  async #scanLeads(): Promise<void> {
    const now = this.#now();
    for (const live of [...this.#live.values()]) {
      if (now - live.leaseRenewedMs < this.settings.runLeaseMs / 3) continue;
      await this.#exclusive(live.id, async () => {
        if (this.#live.get(live.id) !== live) return;
        if (await this.#lead(live.id)) {
          live.leaseRenewedMs = now;
          return;
        }
        this.#log('warn', `run ${live.id}: another control-plane replica leads it now; letting it go`);
        this.#live.delete(live.id);
        this.agents.release(live.id);
      });
    }
    for (const run of await this.#store.listActiveRuns()) {
      if (this.#live.has(run.id) || isExternalRun(run)) continue;
      if (run.status.code === RunStatuses.Initializing.code || run.status.code === RunStatuses.Running.code) {
        await this.#exclusive(run.id, () => this.#takeOver(run.id));
      }
    }
  }

  /**
   * Leads a live run nobody leads (its leader died or gave it up, or this replica restarted):
   * true when this replica took it and goes on with it. The live state is rebuilt from what
   * every replica recorded (#record): the shares and their states, every metric batch, the
   * setup data, the start time, the group trees, a script's end.
   */
  async #takeOver(runId: RunId): Promise<boolean> {
    if (this.#live.has(runId)) return true;
    const run = await this.#store.getRunForSystem(runId);
    if (run === undefined || (run.status.code !== RunStatuses.Initializing.code && run.status.code !== RunStatuses.Running.code)) return false;
    if (!(await this.#lead(runId))) return false;
    try {
      await this.#resume(run);
    } catch (e) {
      this.#log('error', `run ${runId}: could not be taken over: ${errorText(e)}`);
      await this.#end(runId, RunStatuses.AbortedBySystem, 'internal_error', `the control plane could not take the run over from another replica: ${errorText(e)}`);
    }
    return true;
  }

  async #resume(run: StoredRun): Promise<void> {
    const now = this.#now();
    const assignments = await this.#store.listAssignments(run.id);
    if (assignments.length === 0) {
      await this.#end(run.id, RunStatuses.AbortedBySystem, 'internal_error', 'the control plane stopped while handing the run to its load generators');
      return;
    }
    const plan = this.#plans.get(run.id) ?? planRun(run.options, this.settings.defaultZone);
    const limits = (await this.#store.getOrganization(run.orgId))?.limits ?? defaultLimits;
    const shares: PlacementShare[] = assignments.map((a) => ({
      agentId: a.agentId, zone: a.zone, segment: a.segment, vus: a.vus, lifecycle: segmentStart(a.segment) === '0',
    }));
    const sequence = sequenceOf(assignments.map((a) => a.segment));
    const live = newLiveRun({
      id: run.id, orgId: run.orgId, projectId: run.projectId, vus: run.vus, plannedDurationMs: plan.durationMs, limits,
      sequence, shares, thresholds: plan.thresholds, now,
    });
    live.resumedAtMs = now;
    const lead = await this.#store.getRunLead(run.id);
    for (const a of assignments) {
      const share = live.shares.get(a.agentId);
      if (share === undefined) continue;
      share.state = a.state === 'failed' ? 'done' : a.state;
      if (a.groupsJSON !== null) live.groups.mergeFrom(JSON.parse(a.groupsJSON) as GroupNodeJSON);
    }
    if (lead?.teardownGroupsJSON != null) live.groups.mergeFrom(JSON.parse(lead.teardownGroupsJSON) as GroupNodeJSON);
    // Every batch any replica stored, merged once, in the order each generator sent them.
    // Later batches rewrite a second's point: one row per (metric, second), the last one wins.
    const points = new Map<string, StoredMetricPoint>();
    for (const b of await this.#store.listMetricBatches(run.id)) {
      live.seenBatches.add(`${b.agentId}#${b.sequence}`);
      try {
        const batch = JSON.parse(new TextDecoder().decode(b.payload)) as MetricsBatch;
        live.collector.mergeBatch(batch);
        for (const p of live.points.add(batch)) points.set(`${p.metric}\n${p.t}`, p);
      } catch (e) {
        this.#log('warn', `run ${run.id}: dropped stored batch ${b.sequence} of ${b.agentId}: ${errorText(e)}`);
      }
    }
    await this.#store.putMetricPoints(run.id, [...points.values()]);
    live.setupJSON = lead?.setupJSON ?? undefined;
    live.startAtMs = lead?.startAtMs ?? (run.startedAt === null ? null : Date.parse(run.startedAt) + this.settings.startDelayMs);
    this.#plans.set(run.id, plan);
    this.#live.set(run.id, live);
    this.agents.reserve(run.id, shares);
    this.#log('info', `run ${run.id}: taken over by ${this.#replicaId} (${run.status.name}, ${live.seenBatches.size} metric batches)`);

    if (lead?.endReason != null) {
      const parsed = statusReasonSchema.safeParse(lead.endReason);
      await this.#end(run.id, RunStatuses.AbortedByScriptError, parsed.success ? parsed.data : 'script_error', lead.endMessage ?? 'the script failed');
      return;
    }
    const all = [...live.shares.values()];
    const lifecycle = live.shares.get(live.lifecycleAgent);
    if (run.status.code === RunStatuses.Initializing.code) {
      // An agent ignores a repeated assign, so the shares the old leader may not have sent go out now.
      await this.#assign(run, sequence, shares.filter((s) => live.shares.get(s.agentId)?.state === 'assigned'));
      if (!all.every((s) => s.state === 'initialized')) return;
      if (lead?.setupDoneAt != null) {
        live.phase = 'setup';
        await this.#startScenarios(live, live.setupJSON);
      } else {
        live.phase = 'setup';
        this.#transport.send(live.lifecycleAgent, { type: 'setup', runId: run.id });
      }
      return;
    }
    live.phase = 'running';
    live.lastEvalMs = now;
    live.lastProgressMs = now;
    // Running but `start` perhaps never sent to some (the old leader died in between); agents ignore a repeat.
    this.#sendStart(live, all.filter((s) => s.state === 'initialized' || s.state === 'assigned'));
    if (!all.every((s) => s.state === 'done')) return;
    if (lead?.teardownDoneAt != null && lifecycle !== undefined) {
      live.phase = 'teardown';
      await this.#finish(live);
      return;
    }
    live.phase = 'teardown';
    this.#transport.send(live.lifecycleAgent, { type: 'teardown', runId: run.id, ...(live.setupJSON === undefined ? {} : { setupJSON: live.setupJSON }) });
  }

  async #checkRunning(live: LiveRun): Promise<void> {
    const now = this.#now();
    if (now - live.lastEvalMs >= this.settings.thresholdEvalMs) {
      live.lastEvalMs = now;
      const evaluation = this.#evaluate(live, false);
      if (evaluation !== undefined) {
        await this.#store.putThresholdResults(live.id, thresholdResults(evaluation, now));
        if (evaluation.abort) {
          const crossed = evaluation.results.filter((r) => r.crossed && r.threshold.abortOnFail)
            .map((r) => `"${r.threshold.source}" on ${r.threshold.key}${r.observed === undefined ? '' : ` (observed ${round(r.observed)})`}`);
          await this.#end(live.id, RunStatuses.AbortedByThreshold, 'thresholds_crossed',
            `threshold ${crossed.join(', ')} crossed; it has abortOnFail set`, { result: 'failed', evaluation });
          return;
        }
      }
    }
    if (now - live.lastProgressMs >= this.settings.progressIntervalMs) {
      const requests = counterOf(live, 'http_reqs');
      const elapsed = (now - live.lastProgressMs) / 1000;
      const sinceStart = live.startAtMs === null ? 0 : Math.max(0, now - live.startAtMs);
      this.#emit({
        type: 'progress', orgId: live.orgId, runId: live.id, at: now,
        vus: [...live.shares.values()].reduce((s, x) => s + x.activeVUs, 0),
        vusMax: live.vus,
        rps: (requests - live.lastProgressRequests) / elapsed,
        iterations: counterOf(live, 'iterations'),
        progress: live.plannedDurationMs === 0 ? 1 : Math.min(1, sinceStart / live.plannedDurationMs),
      });
      live.lastProgressMs = now;
      live.lastProgressRequests = requests;
    }
  }

  #evaluate(live: LiveRun, final: boolean): ThresholdsEvaluation | undefined {
    if (live.thresholds.list.length === 0) return undefined;
    const elapsed = live.startAtMs === null ? 0 : Math.max(0, this.#now() - live.startAtMs);
    try {
      return live.thresholds.evaluate(live.collector, elapsed, { final });
    } catch (e) {
      this.#log('warn', `run ${live.id}: thresholds could not be evaluated: ${errorText(e)}`);
      return undefined;
    }
  }

  #summaryOf(live: LiveRun, evaluation: ThresholdsEvaluation | undefined): Record<string, unknown> {
    const testRunDurationMs = live.startAtMs === null ? 0 : Math.max(0, this.#now() - live.startAtMs);
    const metrics = buildSummaryMetrics(live.collector, {
      testDurationMs: testRunDurationMs, thresholds: live.thresholds, evaluation,
    });
    return { metrics, root_group: structuredClone(live.groups.root) as GroupNodeJSON, state: { testRunDurationMs } };
  }

  // ---- status changes ----

  /** A non-final move along the normal path; undefined when the run had moved on (the caller re-reads). */
  async #advance(run: StoredRun, to: RunStatus, reason: StatusReason, message: string): Promise<StoredRun | undefined> {
    const change = transition(run.status, to, reason, message, this.#date());
    const r = await this.#store.transitionRun(run.id, run.status, change);
    if (!r.ok) {
      this.#log('info', `run ${run.id}: not moved to ${formatStatus(to)}: it is ${formatStatus(r.current)} now`);
      return undefined;
    }
    this.#emitStatus(r.run);
    return r.run;
  }

  /**
   * Ends a run with a final status, from whatever non-final status it is in now: a compare-and-set
   * that lost to another writer re-reads the run and tries again, unless the run has ended
   * meanwhile or can no longer take this move. Then: generators are stopped (unless they
   * completed), VUs released, thresholds, summary and usage stored, and the change announced.
   */
  async #end(
    runId: RunId, to: RunStatus, reason: StatusReason, message: string,
    opts: { result?: RunResult; evaluation?: ThresholdsEvaluation | undefined } = {},
  ): Promise<StoredRun | undefined> {
    let current = await this.#store.getRunForSystem(runId);
    for (let attempt = 0; current !== undefined && attempt < 3; attempt++) {
      if (isFinal(current.status)) return current;
      if (!canTransition(current.status, to)) {
        this.#log('warn', `run ${runId}: cannot end as ${formatStatus(to)} from ${formatStatus(current.status)} (${message})`);
        return undefined;
      }
      const change = transition(current.status, to, reason, message, this.#date());
      const r = await this.#store.transitionRun(runId, current.status, change, opts.result === undefined ? {} : { result: opts.result });
      if (r.ok) {
        await this.#afterEnd(r.run, to, reason, message, opts.evaluation);
        return r.run;
      }
      current = await this.#store.getRunForSystem(runId);
    }
    return current;
  }

  async #afterEnd(run: StoredRun, to: RunStatus, reason: StatusReason, message: string, evaluation: ThresholdsEvaluation | undefined): Promise<void> {
    const live = this.#live.get(run.id);
    this.#live.delete(run.id);
    this.#plans.delete(run.id);
    this.agents.release(run.id);
    if (live !== undefined) {
      live.phase = 'ended';
      if (to.code !== RunStatuses.Finished.code) {
        for (const agentId of live.shares.keys()) this.#transport.send(agentId, { type: 'stop', runId: run.id, reason, message });
      }
      try {
        await this.#settleWrites(live);
        const ev = evaluation ?? (live.startAtMs === null ? undefined : this.#evaluate(live, true));
        if (ev !== undefined) await this.#store.putThresholdResults(run.id, thresholdResults(ev, this.#now()));
        if (live.startAtMs !== null) await this.#store.putRunSummary(run.id, this.#summaryOf(live, ev), this.#iso());
      } catch (e) {
        this.#log('error', `run ${run.id}: results could not be stored: ${errorText(e)}`);
      }
    }
    // A run k6 executed itself used no load generator of herd's, so it costs no VU-hours.
    if (run.startedAt !== null && countsTowardUsage(run.status) && !isExternalRun(run)) {
      await this.#store.recordUsage({
        runId: run.id, projectId: run.projectId, month: usageMonth(run.startedAt), vuHours: runVuHours(run, this.#date()),
      });
    }
    this.#emitStatus(run);
    this.scheduler.wake();
  }

  // ---- restart ----

  /**
   * What a restarted control plane does with the runs it finds: Created ones are validated again
   * (the process died while validating), Validated ones are queued, Queued ones wait for the
   * scheduler, and Initializing/Running ones end Aborted by system: the conversation with their
   * generators (which VUs started, which batches were merged) lived in the dead process, so
   * they cannot be finished truthfully. Their generators are told to stop, if they are connected.
   */
  async #recover(): Promise<void> {
    this.#lastLeadScanMs = this.#now();
    for (const run of await this.#store.listActiveRuns()) {
      // Runs k6 executes itself are ExternalRuns' (which moves half-made ones on to Running).
      if (isExternalRun(run)) continue;
      await this.#exclusive(run.id, async () => {
        switch (run.status.name) {
          case 'Created': {
            const org = await this.#store.getOrganization(run.orgId);
            const archive = await this.#store.getArchive(run.orgId, run.archiveId);
            if (org === undefined || archive === undefined) {
              await this.#end(run.id, RunStatuses.AbortedByScriptError, 'script_error', 'the run\'s archive is missing');
              return;
            }
            const verdict = await this.#validate(run.orgId, archive.bytes, org.limits);
            if (verdict.ok) await this.#queue(run, verdict.plan);
            else await this.#end(run.id, verdict.status, verdict.reason, verdict.message);
            return;
          }
          case 'Validated': {
            const queued = await this.#advance(run, RunStatuses.Queued, 'queued', 'queued again after a control-plane restart');
            if (queued !== undefined) this.scheduler.wake();
            return;
          }
          case 'Queued':
            return;
          case 'Initializing':
          case 'Running':
            // Taken over when its lead is this replica's (restarted under the same name), was
            // given up, or lapsed; left to the replica that leads it otherwise.
            await this.#takeOver(run.id);
            return;
          case 'Finished':
          case 'Timed out':
          case 'Aborted by user':
          case 'Aborted by system':
          case 'Aborted by script error':
          case 'Aborted by threshold':
          case 'Aborted by limit':
            return;
          default: {
            const never: never = run.status;
            throw new Error(`unknown status ${JSON.stringify(never)}`);
          }
        }
      });
    }
  }

  // ---- plumbing ----

  /** Runs `fn` after every earlier piece of work on the same run. */
  #exclusive<T>(runId: RunId, fn: () => Promise<T>): Promise<T> {
    return this.#chains.run(runId, fn);
  }

  async #mustGet(runId: RunId): Promise<StoredRun> {
    const run = await this.#store.getRunForSystem(runId);
    if (run === undefined) throw new HerdError('not_found', `run ${runId} does not exist`);
    return run;
  }

  #emitStatus(run: StoredRun): void {
    this.#emit({ type: 'status', orgId: run.orgId, runId: run.id, status: run.status, result: run.result, change: run.lastChange });
  }

  /** Announces an event of this replica's to its listeners and to the other replicas. */
  #emit(event: RunEvent): void {
    this.#transport.replicas?.publish(event);
    this.#emitHere(event);
  }

  #emitHere(event: RunEvent): void {
    for (const l of this.#listeners) {
      try {
        l(event);
      } catch (e) {
        this.#log('warn', `a run event listener threw: ${errorText(e)}`);
      }
    }
  }

  #date(): Date {
    return new Date(this.#now());
  }

  #iso(): string {
    return this.#date().toISOString();
  }
}

/** The outcome of validating a submitted archive. */
type Verdict =
  | { readonly ok: true; readonly rawOptions: Record<string, unknown>; readonly plan: RunPlan }
  | {
    readonly ok: false;
    readonly status: typeof RunStatuses.AbortedByLimit | typeof RunStatuses.AbortedByScriptError;
    readonly reason: StatusReason;
    readonly message: string;
    readonly rawOptions?: Record<string, unknown> | undefined;
    readonly plan?: RunPlan | undefined;
  };

function limitVerdict(v: LimitViolation, rawOptions: Record<string, unknown> | undefined, plan: RunPlan | undefined): Verdict {
  return { ok: false, status: RunStatuses.AbortedByLimit, reason: v.reason, message: v.message, rawOptions, plan };
}

/** The API's view of a stored run (the store's bookkeeping fields left out). */
function publicRun(run: StoredRun): Run {
  const { orgId: _o, queuedAt: _q, claimedBy: _c, claimedAt: _a, ...rest } = run;
  return rest;
}

function thresholdResults(ev: ThresholdsEvaluation, now: number): ThresholdResult[] {
  const at = new Date(now).toISOString();
  return ev.results.map((r) => ({ metric: r.threshold.key, expression: r.threshold.source, passed: r.ok, abortOnFail: r.threshold.abortOnFail, evaluatedAt: at }));
}

function counterOf(live: LiveRun, name: string): number {
  const metric = live.collector.registry.get(name);
  if (metric === undefined) return 0;
  const agg = live.collector.aggregate(metric);
  return agg.type === 'counter' ? agg.count : 0;
}

/** The status reason and message of a generator's report that the script ended the run. */
function scriptEnd(m: Extract<AgentToControl, { type: 'ended' | 'failed' }>): { reason: StatusReason; message: string } {
  if (m.type === 'failed') {
    const hint = m.error.hint === undefined ? '' : ` (${m.error.hint})`;
    return { reason: 'init_error', message: `init code failed on load generator ${m.agentId}: ${m.error.message}${hint}` };
  }
  const parsed = statusReasonSchema.safeParse(m.reason);
  const reason: StatusReason = parsed.success && SCRIPT_END_REASONS.has(parsed.data) ? parsed.data : 'script_error';
  const what = reason === 'script_abort' ? 'the script called test.abort()'
    : reason === 'setup_error' ? 'setup() failed'
      : 'the script failed';
  return { reason, message: `${what} on load generator ${m.agentId}: ${m.message}` };
}

/** A live event as another replica published it (trusted: same installation; checked for shape only). */
function isRunEvent(v: unknown): v is RunEvent {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return (e['type'] === 'status' || e['type'] === 'progress' || e['type'] === 'warning' || e['type'] === 'log')
    && typeof e['orgId'] === 'string' && typeof e['runId'] === 'string';
}

/** `0` of `0:1/3`. */
function segmentStart(segment: string): string {
  return segment.split(':')[0] ?? segment;
}

/** The execution-segment sequence the segments of a run's shares cut: `0,1/3,1` from `0:1/3` and `1/3:1`. */
function sequenceOf(segments: readonly string[]): string {
  const cuts = segments.map((s) => s.split(':')).sort((a, b) => fraction(a[0] ?? '0') - fraction(b[0] ?? '0'));
  return [cuts[0]?.[0] ?? '0', ...cuts.map((c) => c[1] ?? '1')].join(',');
}

function fraction(text: string): number {
  const [n, d] = text.split('/');
  return Number(n) / (d === undefined ? 1 : Number(d));
}

function encodeBatch(batch: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(batch));
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${round(ms / 1000)}s`;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
