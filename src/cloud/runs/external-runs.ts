import { createHash } from 'node:crypto';
import { debuglog } from 'node:util';
import { HerdError } from '../../errors/index.js';
import {
  buildSummaryMetrics, Collector, defineBuiltinMetrics, GroupTree, MetricRegistry, Thresholds,
  type MetricsBatch, type ThresholdsEvaluation,
} from '../../metrics/index.js';
import { agentIdSchema, type OrgId, type ProjectId, type RunId } from '../../protocol/ids.js';
import { formatStatus, isFinal, RunStatuses, type RunStatus } from '../../protocol/run-status.js';
import type { RunResult } from '../../protocol/run.js';
import type { StatusReason } from '../../protocol/status-change.js';
import type { ThresholdResult } from '../../protocol/threshold-result.js';
import { resolveServerSettings, type ServerSettingsInput } from '../scheduler/index.js';
import type { Store, StoredRun } from '../store/index.js';
import { externalRunArchive } from './external-archive.js';
import { externalMarker, isExternalRun } from './external-marker.js';
import type { ExternalMetricSet } from './external-metric-set.js';
import { PeriodPoints } from './period-points.js';
import { SerialByKey } from './serial-by-key.js';
import type { RunEvent } from './service.js';
import { canTransition, createdChange, transition } from './status-machine.js';

/** A line ExternalRuns logs (default: NODE_DEBUG=herd:external). */
export type ExternalRunLog = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

/** How ExternalRuns is made. */
export interface ExternalRunsOptions {
  readonly store: Store;
  /** Where status events go (RunManager.announce, so SSE subscribers see external runs too). */
  readonly emit?: (event: RunEvent) => void;
  /** Server settings; only `runTimeoutMs` is used. */
  readonly settings?: ServerSettingsInput;
  /** Overrides `settings.runTimeoutMs`: how long a run may receive nothing before it ends Timed out. */
  readonly runTimeoutMs?: number;
  /** Epoch ms; tests inject a clock. */
  readonly now?: () => number;
  /** How often silent runs are looked for; 1 s by default. */
  readonly tickMs?: number;
  /** How often a running run's summary and threshold results are stored for the dashboard; 5 s by default. */
  readonly saveEveryMs?: number;
  readonly log?: ExternalRunLog;
}

/** What k6 says about a run it is about to execute (`POST /v1/tests`). */
export interface NewExternalRun {
  readonly projectId: ProjectId;
  readonly testName: string;
  /** Most VUs of the plan. */
  readonly vus: number;
  /** Planned duration, whole seconds. */
  readonly durationSeconds: number;
  /** Metric key → threshold source strings, as in k6's `options.thresholds`. */
  readonly thresholds: Readonly<Record<string, readonly string[]>>;
  /** How the run is executed, for messages: e.g. "k6 run --out cloud". */
  readonly via: string;
}

/** How k6 says its run ended, already turned into herd's terms. */
export interface ExternalEnding {
  /** A final status. */
  readonly status: RunStatus;
  readonly reason: StatusReason;
  readonly message: string;
  /** k6's own verdict: metric key → threshold source → true when it failed. */
  readonly thresholds: Readonly<Record<string, Readonly<Record<string, boolean>>>>;
  /** k6's result_status said a threshold failed. */
  readonly resultFailed: boolean;
}

/** What became of a push. */
export type PushOutcome =
  | { readonly outcome: 'merged' }
  /** Its key was seen before: a retry, not counted again. */
  | { readonly outcome: 'duplicate' }
  /** The run has ended (finished, aborted, timed out): k6 should stop pushing. */
  | { readonly outcome: 'ended'; readonly status: RunStatus };

/** One external run being received, in memory; what must outlive the process is in the store. */
interface ExternalRunState {
  readonly id: RunId;
  readonly orgId: OrgId;
  readonly startedAtMs: number;
  readonly collector: Collector;
  readonly thresholds: Thresholds;
  readonly points: PeriodPoints;
  lastHeardMs: number;
  lastSavedMs: number;
  /** Pushes merged into `collector`; fewer than the store holds means another replica took some. */
  merged: number;
}

const debug = debuglog('herd:external');
const defaultLog: ExternalRunLog = (level, message) => debug('%s %s', level, message);
// Pushes are stored as metric batches under this pseudo load generator; the batch's sequence is a
// hash of the push's idempotency key, so a retried push hits the same (run, agent, sequence) row.
const PUSH_AGENT = agentIdSchema.parse('k6-out-cloud');
const EXTERNAL_ZONE = 'external';

/**
 * The lifecycle of runs that k6 executes itself (`k6 run --out cloud`, K6-CLOUD-API.md §3): herd
 * creates the run straight into Running (Created → Validated → Running, never Queued, which the
 * scheduler would claim), merges each metrics push into the run's totals, points, summary and
 * threshold results, and ends the run when k6 says it ended, when nothing arrives for the run
 * timeout, or, for a run someone aborted in herd, by answering the next push "ended". Work on one
 * run is serialized, so a push and the end never interleave.
 */
export class ExternalRuns {
  readonly #store: Store;
  readonly #emit: (event: RunEvent) => void;
  readonly #now: () => number;
  readonly #log: ExternalRunLog;
  readonly #runTimeoutMs: number;
  readonly #tickMs: number;
  readonly #saveEveryMs: number;
  readonly #runs = new Map<RunId, ExternalRunState>();
  readonly #chains = new SerialByKey<RunId>();
  #timer: NodeJS.Timeout | undefined;
  #ticking = false;
  #closed = false;

  constructor(options: ExternalRunsOptions) {
    this.#store = options.store;
    this.#emit = options.emit ?? (() => undefined);
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? defaultLog;
    this.#runTimeoutMs = options.runTimeoutMs ?? resolveServerSettings(options.settings).runTimeoutMs;
    this.#tickMs = options.tickMs ?? 1000;
    this.#saveEveryMs = options.saveEveryMs ?? 5000;
  }

  /**
   * Takes over the external runs the store holds (after a restart they get a full run timeout
   * from now to push again) and starts timing out silent ones.
   */
  async start(): Promise<void> {
    if (this.#timer !== undefined || this.#closed) return;
    for (const run of await this.#store.listActiveRuns()) {
      if (!isExternalRun(run)) continue;
      await this.#exclusive(run.id, async () => {
        // A process that died while creating the run left it before Running; it starts now and
        // times out if k6 is gone.
        let current: StoredRun | undefined = run;
        if (current.status.code === RunStatuses.Created.code) current = await this.#advance(current, RunStatuses.Validated, 'validated', 'validated again after a control-plane restart');
        if (current?.status.code === RunStatuses.Validated.code) current = await this.#advance(current, RunStatuses.Running, 'external_start', 'the test runs outside herd: k6 run --out cloud');
        if (current?.status.code === RunStatuses.Running.code) await this.#stateOf(current);
      }).catch((e) => this.#log('error', `external run ${run.id}: could not be taken over: ${errorText(e)}`));
    }
    this.#timer = setInterval(() => void this.tick(), this.#tickMs);
    this.#timer.unref();
  }

  /** Stops the timer and waits for work in progress; runs stay Running in the store (start() takes them over). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#chains.idle();
    this.#runs.clear();
  }

  /** Creates the run of a test k6 is about to execute, straight into Running. */
  async create(orgId: OrgId, input: NewExternalRun): Promise<StoredRun> {
    // Checks every threshold's syntax now, so a typo is a 400 naming it rather than a run that cannot be judged.
    Thresholds.parse(input.thresholds);
    const now = new Date(this.#now());
    const test = (await this.#store.findTestByName(orgId, input.projectId, input.testName))
      ?? await this.#store.createTest(orgId, { projectId: input.projectId, name: input.testName });
    // A test uploaded to herd before keeps its archive as the latest (re-running it still runs
    // the real script); only a test herd never saw gets the explanatory archive.
    const archiveId = test.latestArchive?.id ?? (await this.#store.putArchive(orgId, test.id, await externalRunArchive({
      testName: input.testName, vus: input.vus, durationSeconds: input.durationSeconds, thresholds: input.thresholds, via: input.via, now,
    }))).id;
    const created = await this.#store.createRun(orgId, {
      testId: test.id, archiveId,
      options: {
        vus: input.vus, duration: `${input.durationSeconds}s`,
        ...(Object.keys(input.thresholds).length === 0 ? {} : { thresholds: input.thresholds }),
        ...externalMarker(input.via),
      },
      vus: input.vus, durationSeconds: input.durationSeconds,
      distribution: { [EXTERNAL_ZONE]: { loadZone: EXTERNAL_ZONE, percent: 100 } },
      created: createdChange(now, `test run created by ${input.via}`),
    });
    this.#emitStatus(created);
    return this.#exclusive(created.id, async () => {
      const validated = await this.#advance(created, RunStatuses.Validated, 'validated',
        `${input.via} reported ${input.vus} VUs for up to ${input.durationSeconds}s`);
      const running = validated === undefined ? undefined
        : await this.#advance(validated, RunStatuses.Running, 'external_start', `the test runs outside herd: ${input.via} streams its metrics here`);
      const run = running ?? await this.#mustGet(created.id);
      if (run.status.code === RunStatuses.Running.code) await this.#stateOf(run);
      return run;
    });
  }

  /**
   * Merges one push into the run. `pushKey` names the push (k6's K6-Idempotency-Key): a push
   * whose key was stored before is a retry and is not counted again. Throws HerdError
   * `not_found` for a run the organization cannot see, `status_conflict` for a run herd executes
   * itself or a metric pushed with another type than before.
   */
  async push(orgId: OrgId, runId: RunId, set: ExternalMetricSet, pushKey: string): Promise<PushOutcome> {
    return this.#exclusive(runId, async () => {
      const run = await this.#externalRun(orgId, runId);
      if (isFinal(run.status)) {
        await this.#let(run);
        return { outcome: 'ended', status: run.status };
      }
      if (run.status.code !== RunStatuses.Running.code) {
        throw new HerdError('status_conflict', `run ${runId} is ${formatStatus(run.status)}, not Running; it takes metrics once it runs`);
      }
      const state = await this.#stateOf(run);
      defineMetrics(state.collector.registry, set);
      const { inserted } = await this.#store.insertMetricBatch({
        runId, agentId: PUSH_AGENT, sequence: sequenceOf(pushKey),
        payload: new TextEncoder().encode(JSON.stringify(set)), receivedAt: new Date(this.#now()).toISOString(),
      });
      state.lastHeardMs = this.#now();
      if (!inserted) return { outcome: 'duplicate' };
      try {
        state.merged++;
        state.collector.mergeBatch(toBatch(state.collector.registry, set));
        await this.#store.putMetricPoints(runId, state.points.add(set));
      } catch (e) {
        // The push is stored, so k6's retry will be a duplicate; however much of it was merged
        // before the failure, the totals in memory are dropped and the next call rebuilds them
        // from the stored pushes, so memory and store agree.
        this.#runs.delete(runId);
        throw e;
      }
      this.#emitProgress(run, state, set);
      if (this.#now() - state.lastSavedMs >= this.#saveEveryMs) await this.#save(run, state, undefined);
      return { outcome: 'merged' };
    });
  }

  /**
   * Ends the run as k6 reports, storing the final summary and threshold results (k6's verdict
   * per threshold wins over herd's own evaluation, which works from histogram buckets). A run
   * that has ended already stays as it is.
   */
  async finish(orgId: OrgId, runId: RunId, ending: ExternalEnding): Promise<StoredRun> {
    return this.#exclusive(runId, async () => {
      const run = await this.#externalRun(orgId, runId);
      if (isFinal(run.status)) {
        await this.#let(run);
        return run;
      }
      // Pushes may have reached other control-plane replicas: the final totals come from the store.
      this.#runs.delete(runId);
      return (await this.#end(run, ending)) ?? await this.#mustGet(runId);
    });
  }

  /**
   * The periodic check: a run that received nothing for the run timeout ends Timed out, and a run
   * that ended meanwhile in herd (aborted by a user) gets its summary stored and is let go.
   */
  async tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      for (const state of [...this.#runs.values()]) {
        await this.#exclusive(state.id, async () => {
          if (this.#runs.get(state.id) !== state) return;
          const run = await this.#store.getRunForSystem(state.id);
          if (run === undefined) {
            this.#runs.delete(state.id);
            return;
          }
          if (isFinal(run.status)) {
            await this.#let(run);
            return;
          }
          const silent = this.#now() - state.lastHeardMs;
          if (silent < this.#runTimeoutMs) return;
          // Silent here, but k6 may be pushing to another control-plane replica: its pushes are
          // in the store, and then the run is alive (rebuilt with them, and timed from now).
          const stored = (await this.#store.listMetricBatches(state.id)).filter((b) => b.agentId === PUSH_AGENT).length;
          if (stored > state.merged) {
            this.#runs.delete(state.id);
            await this.#stateOf(run);
            return;
          }
          await this.#end(run, {
            status: RunStatuses.TimedOut, reason: 'run_timeout',
            message: `nothing was received from k6 for ${seconds(silent)} (run timeout ${seconds(this.#runTimeoutMs)})`,
            thresholds: {}, resultFailed: false,
          });
        }).catch((e) => this.#log('error', `external run ${state.id}: periodic check failed: ${errorText(e)}`));
      }
    } finally {
      this.#ticking = false;
    }
  }

  // ---- internals ----

  async #externalRun(orgId: OrgId, runId: RunId): Promise<StoredRun> {
    const run = await this.#store.getRun(orgId, runId);
    if (run === undefined) throw new HerdError('not_found', `test run ${runId} does not exist or belongs to another organization`);
    if (!isExternalRun(run)) {
      throw new HerdError('status_conflict', `test run ${runId} is executed by herd's load generators; only runs created by k6 (POST /v1/tests) take pushed metrics and results`, {
        hint: 'start the local run with k6 run --out cloud, which creates its own run',
      });
    }
    return run;
  }

  /** The in-memory state of a Running external run; after a restart it is rebuilt from the stored pushes. */
  async #stateOf(run: StoredRun): Promise<ExternalRunState> {
    const known = this.#runs.get(run.id);
    if (known !== undefined) return known;
    const registry = new MetricRegistry();
    // Built-in metrics carry k6's value kinds (time, data), which the wire format does not.
    defineBuiltinMetrics(registry);
    const collector = new Collector(registry, this.#now);
    const thresholds = thresholdsOf(run, this.#log);
    const points = new PeriodPoints(thresholds);
    let merged = 0;
    for (const stored of await this.#store.listMetricBatches(run.id)) {
      if (stored.agentId !== PUSH_AGENT) continue;
      merged++;
      try {
        const set = JSON.parse(new TextDecoder().decode(stored.payload)) as ExternalMetricSet;
        defineMetrics(registry, set);
        collector.mergeBatch(toBatch(registry, set));
        points.add(set);
      } catch (e) {
        this.#log('warn', `external run ${run.id}: stored push ${stored.sequence} could not be merged again: ${errorText(e)}`);
      }
    }
    const now = this.#now();
    const state: ExternalRunState = {
      id: run.id, orgId: run.orgId, startedAtMs: run.startedAt === null ? now : Date.parse(run.startedAt),
      collector, thresholds, points, lastHeardMs: now, lastSavedMs: now, merged,
    };
    this.#runs.set(run.id, state);
    return state;
  }

  /** A run that ended without this object ending it (a user abort in herd): its summary is stored, its state let go. */
  async #let(run: StoredRun): Promise<void> {
    const state = this.#runs.get(run.id);
    if (state === undefined) return;
    this.#runs.delete(run.id);
    await this.#save(run, state, { thresholds: {}, resultFailed: false });
  }

  async #end(run: StoredRun, ending: ExternalEnding): Promise<StoredRun | undefined> {
    let current: StoredRun | undefined = run;
    for (let attempt = 0; current !== undefined && attempt < 3; attempt++) {
      if (isFinal(current.status)) return current;
      if (!canTransition(current.status, ending.status)) {
        throw new HerdError('invalid_transition', `run ${run.id} cannot end as ${formatStatus(ending.status)} while it is ${formatStatus(current.status)}`);
      }
      const state = await this.#stateOf(current);
      const verdict = this.#verdict(state, ending, true);
      const failed = ending.resultFailed || verdict.results.some((r) => !r.passed);
      const result: RunResult | undefined = ending.status.code === RunStatuses.Finished.code ? (failed ? 'failed' : 'passed')
        : ending.status.code === RunStatuses.AbortedByThreshold.code ? 'failed' : undefined;
      const change = transition(current.status, ending.status, ending.reason, ending.message, new Date(this.#now()));
      const r = await this.#store.transitionRun(current.id, current.status, change, result === undefined ? {} : { result });
      if (r.ok) {
        this.#runs.delete(r.run.id);
        try {
          await this.#save(r.run, state, ending);
        } catch (e) {
          this.#log('error', `external run ${r.run.id}: results could not be stored: ${errorText(e)}`);
        }
        this.#emitStatus(r.run);
        return r.run;
      }
      current = await this.#store.getRunForSystem(run.id);
    }
    return current;
  }

  /** Stores the run's threshold results and summary: final ones when `ending` is given (k6's verdict merged in). */
  async #save(run: StoredRun, state: ExternalRunState, ending: Pick<ExternalEnding, 'thresholds' | 'resultFailed'> | undefined): Promise<void> {
    const now = this.#now();
    state.lastSavedMs = now;
    const verdict = this.#verdict(state, ending ?? { thresholds: {}, resultFailed: false }, ending !== undefined);
    if (verdict.results.length > 0) await this.#store.putThresholdResults(run.id, verdict.results);
    const endMs = run.endedAt === null ? now : Date.parse(run.endedAt);
    const testRunDurationMs = Math.max(0, endMs - state.startedAtMs);
    const metrics = buildSummaryMetrics(state.collector, { testDurationMs: testRunDurationMs, thresholds: state.thresholds, evaluation: verdict.evaluation });
    await this.#store.putRunSummary(run.id, { metrics, root_group: rootGroupOf(state.collector), state: { testRunDurationMs } }, new Date(now).toISOString());
  }

  /**
   * Herd's evaluation of the thresholds over what was received, with k6's verdict (when it sent
   * one) taking the place of herd's for each threshold it names: k6 judged every sample, herd
   * only the histogram buckets. Thresholds k6 judged on metrics that never reached herd are
   * stored as k6 judged them.
   */
  #verdict(state: ExternalRunState, ending: Pick<ExternalEnding, 'thresholds'>, final: boolean): { evaluation: ThresholdsEvaluation | undefined; results: ThresholdResult[] } {
    const at = new Date(this.#now()).toISOString();
    let evaluation: ThresholdsEvaluation | undefined;
    if (state.thresholds.list.length > 0) {
      try {
        evaluation = state.thresholds.evaluate(state.collector, Math.max(1, this.#now() - state.startedAtMs), { final });
      } catch (e) {
        this.#log('warn', `external run ${state.id}: thresholds could not be evaluated: ${errorText(e)}`);
      }
    }
    const reported = (key: string, source: string): boolean | undefined => ending.thresholds[key]?.[source];
    if (evaluation !== undefined) {
      const results = evaluation.results.map((r) => {
        const failed = reported(r.threshold.key, r.threshold.source);
        return failed === undefined ? r : { ...r, ok: !failed, crossed: failed };
      });
      const crossedKeys = [...new Set(results.filter((r) => r.crossed).map((r) => r.threshold.key))].sort();
      evaluation = { results, crossedKeys, passed: crossedKeys.length === 0, abort: false };
    }
    const out: ThresholdResult[] = (evaluation?.results ?? []).map((r) => ({
      metric: r.threshold.key, expression: r.threshold.source, passed: r.ok, abortOnFail: r.threshold.abortOnFail, evaluatedAt: at,
    }));
    for (const [metric, sources] of Object.entries(ending.thresholds)) {
      for (const [expression, failed] of Object.entries(sources)) {
        if (out.some((r) => r.metric === metric && r.expression === expression)) continue;
        out.push({ metric, expression, passed: !failed, abortOnFail: false, evaluatedAt: at });
      }
    }
    return { evaluation, results: out };
  }

  async #advance(run: StoredRun, to: RunStatus, reason: StatusReason, message: string): Promise<StoredRun | undefined> {
    const r = await this.#store.transitionRun(run.id, run.status, transition(run.status, to, reason, message, new Date(this.#now())));
    if (!r.ok) return undefined;
    this.#emitStatus(r.run);
    return r.run;
  }

  async #mustGet(runId: RunId): Promise<StoredRun> {
    const run = await this.#store.getRunForSystem(runId);
    if (run === undefined) throw new HerdError('not_found', `run ${runId} does not exist`);
    return run;
  }

  /** Runs `fn` after every earlier piece of work on the same run. */
  #exclusive<T>(runId: RunId, fn: () => Promise<T>): Promise<T> {
    return this.#chains.run(runId, fn);
  }

  /** A progress event per push, as herd's own runs send one per second: the dashboard's live numbers. */
  #emitProgress(run: StoredRun, state: ExternalRunState, set: ExternalMetricSet): void {
    const now = this.#now();
    const registry = state.collector.registry;
    const vusMetric = registry.get('vus');
    const vus = vusMetric === undefined ? undefined : state.collector.aggregate(vusMetric);
    const iterationsMetric = registry.get('iterations');
    const iterations = iterationsMetric === undefined ? undefined : state.collector.aggregate(iterationsMetric);
    // Requests of this push over the periods it covers.
    const periods = new Set<number>();
    let requests = 0;
    for (const m of set.metrics) {
      for (const s of m.series) {
        for (const b of s.buckets) {
          periods.add(b.startMs);
          if (m.name === 'http_reqs' && b.aggregate.type === 'counter') requests += b.aggregate.sum;
        }
      }
    }
    const plannedMs = (run.durationSeconds ?? 0) * 1000;
    try {
      this.#emit({
        type: 'progress', orgId: run.orgId, runId: run.id, at: now,
        vus: vus?.type === 'gauge' ? vus.value : 0,
        vusMax: run.vus,
        rps: periods.size === 0 ? 0 : requests / (periods.size * set.periodMs / 1000),
        iterations: iterations?.type === 'counter' ? iterations.count : 0,
        progress: plannedMs === 0 ? 0 : Math.min(1, Math.max(0, (now - state.startedAtMs) / plannedMs)),
      });
    } catch (e) {
      this.#log('warn', `a run event listener threw: ${errorText(e)}`);
    }
  }

  #emitStatus(run: StoredRun): void {
    try {
      this.#emit({ type: 'status', orgId: run.orgId, runId: run.id, status: run.status, result: run.result, change: run.lastChange });
    } catch (e) {
      this.#log('warn', `a run event listener threw: ${errorText(e)}`);
    }
  }
}

/** The run's thresholds from its stored options (checked when it was created). */
function thresholdsOf(run: StoredRun, log: ExternalRunLog): Thresholds {
  const raw = run.options['thresholds'];
  try {
    return Thresholds.parse(typeof raw === 'object' && raw !== null ? raw as Record<string, string[]> : {});
  } catch (e) {
    log('warn', `external run ${run.id}: its stored thresholds do not parse: ${errorText(e)}`);
    return Thresholds.parse({});
  }
}

/**
 * Defines the push's metrics in the run's registry, refusing a metric pushed with another type
 * than it has (k6's built-ins have fixed types; a custom metric keeps the type it was first
 * pushed with), so that what is stored can always be merged.
 */
function defineMetrics(registry: MetricRegistry, set: ExternalMetricSet): void {
  for (const m of set.metrics) {
    const known = registry.get(m.name);
    if (known === undefined) registry.define(m.name, m.type);
    else if (known.type !== m.type) {
      throw new HerdError('status_conflict', `metric "${m.name}" is a ${known.type} in this run, but this push sends it as a ${m.type}`);
    }
  }
}

/** A push as the collector's batch: every bucket of a series becomes one series delta. */
function toBatch(registry: MetricRegistry, set: ExternalMetricSet): MetricsBatch {
  let startMs = Infinity;
  let endMs = -Infinity;
  const metrics = set.metrics.map((m) => {
    const metric = registry.get(m.name);
    const series = m.series.flatMap((s) => s.buckets.map((b) => ({ tags: s.tags, aggregate: b.aggregate })));
    let first = Infinity;
    for (const s of m.series) {
      for (const b of s.buckets) {
        first = Math.min(first, b.startMs);
        startMs = Math.min(startMs, b.startMs);
        endMs = Math.max(endMs, b.startMs + set.periodMs);
      }
    }
    return { name: m.name, type: m.type, contains: metric?.contains ?? 'default', firstSampleMs: Number.isFinite(first) ? first : 0, series };
  });
  return { startMs: Number.isFinite(startMs) ? startMs : 0, endMs: Number.isFinite(endMs) ? endMs : 0, metrics };
}

/**
 * k6's root_group, rebuilt from what the push carries: the `checks` rate per check and group
 * (tags `check` and `group`) and every group a sample was tagged with.
 */
function rootGroupOf(collector: Collector): unknown {
  const tree = new GroupTree();
  const checks = new Map<string, { group: string; name: string; passes: number; fails: number }>();
  for (const metric of collector.observedMetrics()) {
    collector.forEachSeries(metric, (tags, agg) => {
      const group = tags.get('group') ?? '';
      // k6 writes group paths as "::outer::inner"; anything else is not a group path.
      if (group !== '' && !group.startsWith('::')) return;
      tree.group(group);
      const name = tags.get('check');
      if (metric.name !== 'checks' || name === undefined || agg.type !== 'rate' || agg.total === 0) return;
      const key = `${group}\n${name}`;
      const c = checks.get(key) ?? { group, name, passes: 0, fails: 0 };
      c.passes += agg.passes;
      c.fails += agg.fails;
      checks.set(key, c);
    });
  }
  for (const c of checks.values()) {
    // GroupTree counts one result at a time; the node it creates then takes the totals.
    tree.check(c.group, c.name, true);
    const node = tree.group(c.group).checks.find((n) => n.name === c.name);
    if (node === undefined) continue;
    node.passes = c.passes;
    node.fails = c.fails;
  }
  return structuredClone(tree.root);
}

/** A push's key as a batch sequence number: 48 bits of its SHA-256, a safe integer in both stores. */
function sequenceOf(key: string): number {
  return createHash('sha256').update(key).digest().readUIntBE(0, 6);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${Math.round(ms / 10) / 100}s`;
}
