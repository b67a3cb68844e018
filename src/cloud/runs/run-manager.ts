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
  AgentRegistry, resolveServerSettings, Scheduler, type Placement, type ServerSettings, type ServerSettingsInput,
} from '../scheduler/index.js';
import type { Store, StoredRun } from '../store/index.js';
import type { ControlPlaneTransport } from '../transport/index.js';
import { unpackAndCompile, type UnpackArchive } from './archive-unpacker.js';
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
  readonly #chains = new Map<RunId, Promise<unknown>>();
  readonly #listeners = new Set<(e: RunEvent) => void>();
  readonly #plans = new Map<RunId, RunPlan>();
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
    const self = this;
    this.scheduler = new Scheduler({
      store: this.#store,
      registry: this.agents,
      settings: this.settings,
      now: this.#now,
      schedulerId: options.schedulerId ?? `scheduler-${randomUUID()}`,
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
    this.#transport.onDisconnect((agentId, why) => {
      this.agents.disconnected(agentId, why);
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
      await Promise.allSettled([...this.#chains.values()]);
      // Runs still going are told to stop; a restarted control plane ends them (see #recover).
      for (const live of this.#live.values()) {
        for (const agentId of live.shares.keys()) {
          this.#transport.send(agentId, { type: 'stop', runId: live.id, reason: 'internal_error', message: 'the control plane is shutting down' });
        }
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
    return (found ?? await this.#store.createTest(orgId, { projectId: input.projectId, name })).id;
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
    const initializing = await this.#advance(current, RunStatuses.Initializing, 'placed', `placed on ${where}`);
    if (initializing === undefined) return false;
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
      const archive = await this.#store.getArchive(run.orgId, run.archiveId);
      if (archive === undefined) throw new HerdError('store_failure', `archive ${run.archiveId} of run ${run.id} is missing`);
      const base64 = Buffer.from(archive.bytes.buffer, archive.bytes.byteOffset, archive.bytes.byteLength).toString('base64');
      for (const s of placement.shares) {
        this.#transport.send(s.agentId, {
          type: 'assign', runId: run.id, archive: base64, segment: s.segment, sequence: placement.sequence, lifecycle: s.lifecycle,
          tags: { load_zone: s.zone, instance_id: s.agentId },
        });
      }
    } catch (e) {
      this.#log('error', `run ${run.id}: could not be handed to its load generators: ${errorText(e)}`);
      await this.#end(run.id, RunStatuses.AbortedBySystem, 'internal_error', `the control plane could not hand the run to its load generators: ${errorText(e)}`);
    }
    return true;
  }

  // ---- the conversation with generators ----

  #onMessage(m: AgentToControl): void {
    this.agents.heard(m.agentId);
    switch (m.type) {
      case 'register':
        // An agent registers once per process: a register from one that holds shares of live
        // runs is a new process under the same id, and those shares died with the old one.
        for (const live of this.#live.values()) {
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
          const hint = m.error.hint === undefined ? '' : ` (${m.error.hint})`;
          await this.#end(live.id, RunStatuses.AbortedByScriptError, 'init_error', `init code failed on load generator ${m.agentId}: ${m.error.message}${hint}`);
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
    for (const s of live.shares.values()) {
      s.state = 'running';
      this.#transport.send(s.agentId, {
        type: 'start', runId: live.id, startAt: live.startAtMs, ...(setupJSON === undefined ? {} : { setupJSON }),
      });
    }
    for (const s of live.shares.values()) await this.#store.setAssignmentState(live.id, s.agentId, 'running', this.#iso());
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
    const parsed = statusReasonSchema.safeParse(m.reason);
    const reason: StatusReason = parsed.success && SCRIPT_END_REASONS.has(parsed.data) ? parsed.data : 'script_error';
    const what = reason === 'script_abort' ? 'the script called test.abort()'
      : reason === 'setup_error' ? 'setup() failed'
        : 'the script failed';
    await this.#end(live.id, RunStatuses.AbortedByScriptError, reason, `${what} on load generator ${m.agentId}: ${m.message}`);
  }

  async #onDone(live: LiveRun, share: LiveShare, m: Extract<AgentToControl, { type: 'done' }>): Promise<void> {
    if (share.state === 'done') return;
    share.activeVUs = 0;
    await this.#ingest(live, share.agentId, m.seq, m.batch);
    live.groups.mergeFrom(m.groups);
    share.state = 'done';
    await this.#store.setAssignmentState(live.id, share.agentId, 'done', this.#iso());
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
    // The teardown's own groups and checks (the VU part came with `done`).
    live.groups.mergeFrom(m.groups);
    const evaluation = this.#evaluate(live, true);
    const failed = evaluation !== undefined && !evaluation.passed;
    const message = failed
      ? `all load generators completed; thresholds crossed on ${evaluation.crossedKeys.join(', ')}`
      : 'all load generators completed';
    await this.#end(live.id, RunStatuses.Finished, 'completed', message, { result: failed ? 'failed' : 'passed', evaluation });
  }

  /**
   * Merges one metric batch once: a batch whose (agent, seq) was seen in this process or is
   * already in the store (re-sent after a reconnect) is dropped before it reaches the collector.
   */
  async #ingest(live: LiveRun, agentId: AgentId, seq: number, raw: { startMs: number; endMs: number; metrics: Array<Record<string, unknown>> }): Promise<void> {
    const key = `${agentId}#${seq}`;
    if (live.seenBatches.has(key)) return;
    live.seenBatches.add(key);
    const { inserted } = await this.#store.insertMetricBatch({
      runId: live.id, agentId, sequence: seq, payload: new TextEncoder().encode(JSON.stringify(raw)), receivedAt: this.#iso(),
    });
    if (!inserted) return;
    // The message schema leaves the inside of a batch to the metrics code, which throws on what it cannot merge.
    const batch = raw as unknown as MetricsBatch;
    try {
      live.collector.mergeBatch(batch);
      await this.#store.putMetricPoints(live.id, live.points.add(batch));
    } catch (e) {
      this.#log('warn', `run ${live.id}: dropped batch ${seq} of ${agentId}: ${errorText(e)}`);
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
    for (const live of this.#live.values()) {
      const share = live.shares.get(m.agentId);
      if (share === undefined) continue;
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
      if (agent === undefined || agent.disconnectedAtMs === null) continue;
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
    if (now - live.lastHeardMs >= agentGraceMs) return false;
    for (const share of live.shares.values()) {
      if (now - share.lastHeardMs >= agentGraceMs) {
        await this.#end(live.id, RunStatuses.AbortedBySystem, 'agent_lost',
          `load generator ${share.agentId} in zone ${share.zone} lost: nothing received from it for ${seconds(now - share.lastHeardMs)} while the others kept reporting`);
        return true;
      }
    }
    return false;
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
        const ev = evaluation ?? (live.startAtMs === null ? undefined : this.#evaluate(live, true));
        if (ev !== undefined) await this.#store.putThresholdResults(run.id, thresholdResults(ev, this.#now()));
        if (live.startAtMs !== null) await this.#store.putRunSummary(run.id, this.#summaryOf(live, ev), this.#iso());
      } catch (e) {
        this.#log('error', `run ${run.id}: results could not be stored: ${errorText(e)}`);
      }
    }
    if (run.startedAt !== null && countsTowardUsage(run.status)) {
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
    for (const run of await this.#store.listActiveRuns()) {
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
          case 'Running': {
            for (const a of await this.#store.listAssignments(run.id)) {
              this.#transport.send(a.agentId, { type: 'stop', runId: run.id, reason: 'internal_error', message: 'the control plane restarted' });
            }
            await this.#end(run.id, RunStatuses.AbortedBySystem, 'internal_error',
              `the control plane restarted while the run was ${run.status.name}; the state of its load generators was lost with it`);
            return;
          }
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
    const previous = this.#chains.get(runId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(fn);
    const settled = next.catch(() => undefined);
    this.#chains.set(runId, settled);
    void settled.then(() => {
      if (this.#chains.get(runId) === settled) this.#chains.delete(runId);
    });
    return next;
  }

  async #mustGet(runId: RunId): Promise<StoredRun> {
    const run = await this.#store.getRunForSystem(runId);
    if (run === undefined) throw new HerdError('not_found', `run ${runId} does not exist`);
    return run;
  }

  #emitStatus(run: StoredRun): void {
    this.#emit({ type: 'status', orgId: run.orgId, runId: run.id, status: run.status, result: run.result, change: run.lastChange });
  }

  #emit(event: RunEvent): void {
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

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${round(ms / 1000)}s`;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
