import { Collector, defineBuiltinMetrics, GroupTree, MetricRegistry, TagSet, type MetricsBatch } from '../../../metrics/index.js';
import type { AgentToControl, ControlToAgent } from '../../../protocol/agent-messages.js';
import type { AgentId, RunId } from '../../../protocol/ids.js';
import type { InProcessAgentLink, InProcessTransport } from '../../transport/index.js';

/** How a fake agent behaves in a run; every field has a default of the happy path. */
export interface FakeBehaviour {
  /** Init code fails with this message (→ `failed`). */
  readonly initError?: string;
  /** setup() throws with this message (→ `ended` setup_error). */
  readonly setupError?: string;
  /** Batches sent after the start, one every `batchEveryMs`. */
  readonly batches?: number;
  readonly batchEveryMs?: number;
  /** Requests per batch and the http_req_duration of each. */
  readonly requestsPerBatch?: number;
  readonly durationMs?: number;
  /** Every batch is sent twice with the same sequence number (a re-send after a reconnect). */
  readonly duplicateBatches?: boolean;
  /** Groups reported with each batch. */
  readonly groupCount?: number;
  /** What happens after the first batch: the link drops, everything goes silent, or the script calls test.abort(). */
  readonly afterFirstBatch?: 'disconnect' | 'silence' | 'abort';
  readonly cpuPercent?: number;
  /** The assignment is lost on arrival: nothing is answered and heartbeats do not list the run. */
  readonly loseAssignment?: boolean;
}

/**
 * A load generator written for the run-lifecycle tests: it speaks agent-messages.ts over the
 * in-process transport, heartbeats, and makes its metric batches with a real Collector, so the
 * control plane merges what a real agent would send.
 */
export class FakeAgent {
  readonly received: ControlToAgent[] = [];
  readonly assignments = new Map<RunId, { segment: string; sequence: string; lifecycle: boolean; tags: Record<string, string> }>();
  #link: InProcessAgentLink | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  readonly #timers = new Set<NodeJS.Timeout>();
  #silent = false;
  readonly #stopped = new Set<RunId>();

  constructor(
    private readonly transport: InProcessTransport,
    readonly id: AgentId,
    readonly zone: string,
    readonly capacity: number,
    /** Behaviour per run, by the order of assignments (the last one repeats). */
    readonly behaviours: readonly FakeBehaviour[] = [{}],
  ) {}

  /** Connects, registers and starts heartbeating every `heartbeatMs`. */
  connect(heartbeatMs = 30): void {
    const link = this.transport.connect(this.id);
    this.#link = link;
    link.onMessage((m) => this.#on(m));
    this.register();
    this.#heartbeat = setInterval(() => {
      this.#send({
        type: 'heartbeat', agentId: this.id, cpuPercent: this.behaviours[0]?.cpuPercent ?? 10,
        memoryUsedBytes: 1_000_000, memoryLimitBytes: 8_000_000_000, runs: [...this.assignments.keys()].filter((id) => !this.#behaviourOf(id).loseAssignment),
      });
    }, heartbeatMs);
  }

  /** What its registers say it is: one process (a string) or, when undefined, nothing. */
  incarnation: string | undefined = 'fake-process-1';

  /** Registers (again), as the process `incarnation`. */
  register(incarnation = this.incarnation): void {
    this.#send({ type: 'register', agentId: this.id, zone: this.zone, capacity: this.capacity, version: 'fake', ...(incarnation === undefined ? {} : { incarnation }) });
  }

  /** Stops every timer of the agent. */
  dispose(): void {
    clearInterval(this.#heartbeat);
    for (const t of this.#timers) clearTimeout(t);
  }

  #send(m: AgentToControl): void {
    if (!this.#silent) this.#link?.send(m);
  }

  #later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
  }

  #behaviourOf(runId: RunId): FakeBehaviour {
    const i = [...this.assignments.keys()].indexOf(runId);
    return this.behaviours[Math.min(i, this.behaviours.length - 1)] ?? {};
  }

  #on(m: ControlToAgent): void {
    this.received.push(m);
    const counts = { active: 0, initialized: 1, completed: 0, interrupted: 0 };
    switch (m.type) {
      case 'assign': {
        this.assignments.set(m.runId, { segment: m.segment, sequence: m.sequence, lifecycle: m.lifecycle, tags: m.tags });
        const b = this.#behaviourOf(m.runId);
        if (b.loseAssignment === true) return;
        if (b.initError !== undefined) {
          this.#send({ type: 'failed', runId: m.runId, agentId: this.id, error: { code: 'script_exception', message: b.initError } });
        } else {
          this.#send({ type: 'initialized', runId: m.runId, agentId: this.id, counts });
        }
        return;
      }
      case 'setup': {
        const b = this.#behaviourOf(m.runId);
        if (b.setupError !== undefined) {
          this.#send({ type: 'ended', runId: m.runId, agentId: this.id, reason: 'setup_error', message: b.setupError });
        } else {
          this.#send({ type: 'setupDone', runId: m.runId, agentId: this.id, setupJSON: '{"token":"t"}' });
        }
        return;
      }
      case 'start':
        this.#later(Math.max(0, m.startAt - Date.now()), () => this.#run(m.runId));
        return;
      case 'teardown':
        this.#send({ type: 'teardownDone', runId: m.runId, agentId: this.id, seq: 10_000, batch: emptyBatch(), groups: new GroupTree().root });
        return;
      case 'stop':
        this.#stopped.add(m.runId);
        return;
      default: {
        const never: never = m;
        throw new Error(`unknown message ${JSON.stringify(never)}`);
      }
    }
  }

  #run(runId: RunId): void {
    const b = this.#behaviourOf(runId);
    const registry = new MetricRegistry();
    const metrics = defineBuiltinMetrics(registry);
    const collector = new Collector(registry);
    const tags = TagSet.from({ status: '200', name: 'home', ...(this.assignments.get(runId)?.tags ?? {}) });
    const groups = new GroupTree();
    let seq = 0;
    const total = b.batches ?? 3;
    const counts = { active: 1, initialized: 1, completed: 0, interrupted: 0 };
    const step = (i: number): void => {
      if (this.#stopped.has(runId) || this.#silent) return;
      if (i === total) {
        groups.check('', 'status is 200', true);
        const batch = toMessageBatch(collector.flushPeriod(Date.now()));
        this.#send({ type: 'done', runId, agentId: this.id, seq: ++seq, batch, groups: groups.root, counts: { ...counts, active: 0, completed: 1 } });
        return;
      }
      for (let r = 0; r < (b.requestsPerBatch ?? 10); r++) {
        collector.add(metrics.http_reqs, tags, 1);
        collector.add(metrics.http_req_duration, tags, b.durationMs ?? 100);
      }
      collector.add(metrics.iterations, tags, 1);
      const batch = toMessageBatch(collector.flushPeriod(Date.now()));
      const message: AgentToControl = {
        type: 'metrics', runId, agentId: this.id, seq: ++seq, batch, counts, groupCount: b.groupCount ?? 0, seriesCount: 5,
      };
      this.#send(message);
      if (b.duplicateBatches === true) this.#send(message);
      if (i === 0 && b.afterFirstBatch !== undefined) {
        switch (b.afterFirstBatch) {
          case 'disconnect':
            this.#link?.disconnect('the agent process exited with code 137');
            return;
          case 'silence':
            this.#silent = true;
            return;
          case 'abort':
            this.#send({ type: 'ended', runId, agentId: this.id, reason: 'script_abort', message: 'test aborted: no token at script.js:12:5' });
            return;
        }
      }
      this.#later(b.batchEveryMs ?? 20, () => step(i + 1));
    };
    step(0);
  }
}

function emptyBatch(): { startMs: number; endMs: number; metrics: Array<Record<string, unknown>> } {
  return { startMs: Date.now() - 1000, endMs: Date.now(), metrics: [] };
}

function toMessageBatch(b: MetricsBatch): { startMs: number; endMs: number; metrics: Array<Record<string, unknown>> } {
  return JSON.parse(JSON.stringify(b)) as { startMs: number; endMs: number; metrics: Array<Record<string, unknown>> };
}
