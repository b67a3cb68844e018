import { randomUUID } from 'node:crypto';
import { debuglog } from 'node:util';
import { HERD_VERSION } from '../config/index.js';
import type { ControlToAgent } from '../protocol/agent-messages.js';
import type { AgentId, RunId } from '../protocol/ids.js';
import type { AgentTransport } from '../cloud/transport/transport.js';
import type { Logger } from '../runtime/vu-state.js';
import { Assignment } from './assignment.js';

// NODE_DEBUG=herd:agent traces the control plane's messages as the agent takes them.
const debug = debuglog('herd:agent');

/** A sample of the agent machine's load, for heartbeats. */
export interface ResourceSample {
  /** CPU use of the machine since the previous sample, 0-100. */
  cpuPercent: number;
  memoryUsedBytes: number;
  memoryLimitBytes: number;
}

/** How an agent is set up. */
export interface AgentOptions {
  readonly id: AgentId;
  readonly zone: string;
  /** Most VUs it takes. */
  readonly capacity: number;
  readonly heartbeatMs?: number;
  readonly logger: Logger;
  /** Reads the machine's CPU and memory (the CLI supplies it; tests fake it). */
  sampleResources(): ResourceSample;
}

/**
 * A load generator: registers with its zone and capacity, heartbeats CPU and memory, and runs
 * the assignments the control plane sends (several runs at once if capacity allows).
 */
export class Agent {
  private readonly runs = new Map<RunId, Assignment>();
  private heartbeat: NodeJS.Timeout | undefined;
  /** Tells this process's registers from those of a restarted process under the same id. */
  private readonly incarnation = randomUUID();

  constructor(
    private readonly transport: AgentTransport,
    private readonly opts: AgentOptions,
  ) {}

  /** Registers and starts heartbeating; messages are handled from then on. */
  start(): void {
    this.transport.onMessage((m) => this.onMessage(m));
    this.transport.send({ type: 'register', agentId: this.opts.id, zone: this.opts.zone, capacity: this.opts.capacity, version: HERD_VERSION, incarnation: this.incarnation });
    this.beat();
    this.heartbeat = setInterval(() => this.beat(), this.opts.heartbeatMs ?? 1000);
  }

  /** Stops every run and the heartbeat (safe to call twice). */
  async stop(): Promise<void> {
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    for (const a of this.runs.values()) {
      a.stop('agent_stopped', 'the load generator is shutting down');
      a.close();
    }
    this.runs.clear();
    await this.transport.close();
  }

  private beat(): void {
    const r = this.opts.sampleResources();
    this.transport.send({
      type: 'heartbeat',
      agentId: this.opts.id,
      cpuPercent: Math.min(100, Math.max(0, r.cpuPercent)),
      memoryUsedBytes: Math.max(0, Math.round(r.memoryUsedBytes)),
      memoryLimitBytes: Math.max(1, Math.round(r.memoryLimitBytes)),
      runs: [...this.runs.keys()],
      incarnation: this.incarnation,
    });
  }

  private onMessage(m: ControlToAgent): void {
    debug('run %s: %s (%s)', m.runId, m.type, this.runs.has(m.runId) ? 'held' : 'not held');
    const log = (e: unknown): void => this.opts.logger.log('error', `run ${m.runId}: ${e instanceof Error ? e.message : String(e)}`);
    switch (m.type) {
      case 'assign': {
        if (this.runs.has(m.runId)) return; // a repeat after a reconnect
        const a = new Assignment(this.opts.id, m.runId, (msg) => {
          if (msg.type !== 'metrics' && msg.type !== 'log') debug('run %s: sends %s', m.runId, msg.type);
          this.transport.send(msg);
        }, () => {
          debug('run %s: closed', m.runId);
          this.runs.delete(m.runId);
        });
        this.runs.set(m.runId, a);
        a.assign(m).catch(log);
        return;
      }
      case 'setup':
        this.runs.get(m.runId)?.setup().catch(log);
        return;
      case 'start':
        this.runs.get(m.runId)?.start(m.startAt, m.setupJSON).catch(log);
        return;
      case 'teardown':
        this.runs.get(m.runId)?.teardown(m.setupJSON).catch(log);
        return;
      case 'stop': {
        const a = this.runs.get(m.runId);
        a?.stop(m.reason, m.message);
        return;
      }
      default: {
        const never: never = m;
        this.opts.logger.log('warn', `unknown message ${JSON.stringify(never)}`);
      }
    }
  }
}
