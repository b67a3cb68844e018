import { runtimeOptions, type Options } from '../config/index.js';
import { ExitCode, HerdError, isHerdError, type ExitCodeValue } from '../errors/index.js';
import { parseExecutionSegment } from '../executor/index.js';
import { Engine } from '../execution/engine.js';
import { EngineTestContext } from '../execution/test-context.js';
import type { VU } from '../execution/vu.js';
import { Collector, defineBuiltinMetrics, GroupTree, MetricRegistry, splitBatch, type GroupNode, type MetricsBatch, type TagSet } from '../metrics/index.js';
import type { AgentToControl, ControlToAgent } from '../protocol/agent-messages.js';
import type { AgentId, RunId } from '../protocol/ids.js';
import type { Logger } from '../runtime/vu-state.js';
import { archiveFileReader, compileScript, unpackArchive } from '../script/index.js';

type Assign = Extract<ControlToAgent, { type: 'assign' }>;

// A metric batch per message stays well under NATS's default max_payload of 1 MiB, leaving room
// for the message's other fields and JSON escaping.
const MAX_MESSAGE_BATCH_BYTES = 512 * 1024;

/** Maps the control plane's stop reasons to the exit code the engine records. */
function stopCode(reason: string): ExitCodeValue {
  switch (reason) {
    case 'thresholds_crossed':
      return ExitCode.thresholdsHaveFailed;
    case 'user_abort':
      return ExitCode.externalAbort;
    default:
      return ExitCode.genericEngine;
  }
}

/**
 * One run on one agent: the agent side of the conversation in protocol/agent-messages.ts.
 * It runs the very same Engine as `herd run`, on the execution segment the control plane
 * assigned, with open() reading the files packed in the archive, and streams its metrics
 * (per-second batches with sequence numbers) instead of evaluating thresholds itself.
 */
export class Assignment {
  private engine: Engine | undefined;
  private first: VU | undefined;
  private collector: Collector | undefined;
  private seq = 0;
  private tick: NodeJS.Timeout | undefined;
  private finished = false;
  /** This agent runs setup() and teardown() for the whole run. */
  private lifecycle = false;
  /** What the run is doing here, to tell the control plane why it ended. */
  private phase: 'init' | 'setup' | 'running' | 'teardown' = 'init';
  /** The `setupDone` sent, to answer a repeated `setup`. */
  private setupReport: AgentToControl | undefined;

  constructor(
    private readonly agentId: AgentId,
    private readonly runId: RunId,
    private readonly send: (m: AgentToControl) => void,
    private readonly onClosed: () => void,
  ) {}

  /** Unpacks the archive, compiles it, initializes this agent's VUs, reports `initialized`. */
  async assign(msg: Assign): Promise<void> {
    this.lifecycle = msg.lifecycle;
    try {
      const archive = await unpackArchive(Buffer.from(msg.archive, 'base64'));
      const readFile = archiveFileReader(archive);
      const registry = new MetricRegistry();
      const collector = new Collector(registry);
      this.collector = collector;
      const options = { ...(archive.metadata.options as Options) };
      // Every sample of this agent carries its zone and instance (k6 cloud's load_zone, instance_id).
      options.tags = { ...(options.tags ?? {}), ...msg.tags };
      const logger: Logger = {
        log: (level, message, fields) =>
          this.send({ type: 'log', runId: this.runId, agentId: this.agentId, level, message, ...(fields === undefined ? {} : { fields }) }),
      };
      const test = new EngineTestContext(runtimeOptions(options), registry, defineBuiltinMetrics(registry), collector, new GroupTree(), logger);
      const engine = new Engine(
        {
          env: archive.metadata.env,
          entry: archive.metadata.entry,
          logger,
          readFile,
          onEnd: (code, message) => {
            if (code !== ExitCode.externalAbort && code !== ExitCode.thresholdsHaveFailed && code !== ExitCode.genericEngine) {
              const reason = code === ExitCode.scriptAborted ? 'script_abort' : this.phase === 'setup' ? 'setup_error' : 'script_error';
              this.send({ type: 'ended', runId: this.runId, agentId: this.agentId, reason, message });
            }
          },
        },
        test,
        compileScript(archive.artifact),
      );
      this.engine = engine;
      const first = await engine.initFirst();
      this.first = first;
      engine.configure(options, parseExecutionSegment(msg.segment, msg.sequence), first.exports);
      await engine.initPool();
      this.send({ type: 'initialized', runId: this.runId, agentId: this.agentId, counts: engine.counts() });
    } catch (e) {
      const err = isHerdError(e) ? e : new HerdError('internal', e instanceof Error ? e.message : String(e));
      this.send({ type: 'failed', runId: this.runId, agentId: this.agentId, error: err.toPayload() });
      this.close();
    }
  }

  /** Runs setup() (this agent is the run's lifecycle agent) and reports its data. */
  async setup(): Promise<void> {
    // A control-plane replica that took the run over may ask again: setup() runs once, and a
    // repeat after it finished only repeats its report.
    if (this.phase !== 'init') {
      if (this.setupReport !== undefined && this.phase === 'setup') this.send(this.setupReport);
      return;
    }
    const { engine, first } = this.ready();
    this.phase = 'setup';
    if (typeof first.exports['setup'] === 'function' && engine.options.noSetup !== true) {
      const ok = await engine.runLifecycle(first, 'setup', []);
      if (!ok) return; // onEnd already reported why
    }
    this.setupReport = { type: 'setupDone', runId: this.runId, agentId: this.agentId, ...(engine.setupJSON === undefined ? {} : { setupJSON: engine.setupJSON }) };
    this.send(this.setupReport);
  }

  /** Waits for the common start time, runs the scenarios, streams metrics, reports `done`. */
  async start(startAt: number, setupJSON: string | undefined): Promise<void> {
    if (this.phase === 'running' || this.phase === 'teardown') return; // a repeat from a replica that took the run over
    const { engine } = this.ready();
    engine.setupJSON = setupJSON;
    this.phase = 'running';
    const wait = startAt - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    engine.test.started = startAt;
    this.tick = setInterval(() => this.sendMetrics(), 1000);
    try {
      if (!engine.testSignal.aborted) await engine.runScenarios();
    } finally {
      clearInterval(this.tick);
      this.tick = undefined;
    }
    const batch = this.sendParts(this.flush(), true);
    this.send({
      type: 'done',
      runId: this.runId,
      agentId: this.agentId,
      seq: ++this.seq,
      batch: batch as unknown as Extract<AgentToControl, { type: 'done' }>['batch'],
      groups: engine.test.groups.root as GroupNode,
      counts: { ...engine.counts(), active: 0 },
    });
    // Only the lifecycle agent has more to do (teardown).
    if (!this.lifecycle) this.close();
  }

  /** Runs teardown() with setup's data and reports its samples and checks; then closes. */
  async teardown(setupJSON: string | undefined): Promise<void> {
    if (this.phase === 'teardown') return; // teardown() runs once
    const { engine, first } = this.ready();
    engine.setupJSON = setupJSON ?? engine.setupJSON;
    this.phase = 'teardown';
    // teardown's checks travel on their own: the iterations' tree was already sent with `done`.
    engine.test.groups = new GroupTree();
    if (typeof first.exports['teardown'] === 'function' && engine.options.noTeardown !== true) {
      await engine.runLifecycle(first, 'teardown', [engine.parseSetupData()]);
    }
    const batch = this.sendParts(this.flush(), true);
    this.send({
      type: 'teardownDone',
      runId: this.runId,
      agentId: this.agentId,
      seq: ++this.seq,
      batch: batch as unknown as Extract<AgentToControl, { type: 'teardownDone' }>['batch'],
      groups: engine.test.groups.root as GroupNode,
    });
    this.close();
  }

  /** Ends the run on this agent now (abort by user, threshold, limit, system). */
  stop(reason: string, message: string): void {
    this.engine?.endTest(stopCode(reason), message);
  }

  /** Releases every VU's connections and timers (safe to call twice). */
  close(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.tick !== undefined) clearInterval(this.tick);
    this.engine?.closeAll();
    this.onClosed();
  }

  private sendMetrics(): void {
    if (this.engine === undefined) return;
    this.sendParts(this.flush());
  }

  /**
   * Sends a period's batch as `metrics` messages of at most MAX_MESSAGE_BATCH_BYTES each (NATS
   * refuses larger messages), each with its own sequence number; returns the last part, unsent,
   * when `keepLast` (it travels in `done` or `teardownDone`).
   */
  private sendParts(batch: MetricsBatch, keepLast = false): MetricsBatch {
    const { engine } = this.ready();
    const parts = splitBatch(batch, MAX_MESSAGE_BATCH_BYTES);
    const last = keepLast ? parts.pop() : undefined;
    for (const part of parts) {
      this.send({
        type: 'metrics',
        runId: this.runId,
        agentId: this.agentId,
        seq: ++this.seq,
        batch: part as unknown as Extract<AgentToControl, { type: 'metrics' }>['batch'],
        counts: engine.counts(),
        groupCount: engine.test.groups.groupCount,
        seriesCount: this.limitSeries(),
      });
    }
    return last ?? { startMs: batch.startMs, endMs: batch.endMs, metrics: [] };
  }

  /**
   * Time series as the cloud's 10,000-metrics limit counts them: without the `url` tag, so that
   * URL grouping (the `name` tag, http.url``) is what decides — the seed's advice for the limit.
   */
  private limitSeries(): number {
    const c = this.collector;
    if (c === undefined) return 0;
    let n = 0;
    for (const m of c.observedMetrics()) {
      const seen = new Set<TagSet>();
      c.forEachSeries(m, (tags) => seen.add(tags.without('url')));
      n += seen.size;
    }
    return n;
  }

  private flush(): MetricsBatch {
    return (this.collector as Collector).flushPeriod(Date.now());
  }

  private ready(): { engine: Engine; first: VU } {
    if (this.engine === undefined || this.first === undefined) {
      throw new HerdError('internal', `run ${this.runId} was not initialized on agent ${this.agentId}`);
    }
    return { engine: this.engine, first: this.first };
  }
}
