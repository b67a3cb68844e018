import os from 'node:os';
import { Agent } from '../agent/index.js';
import { parseDuration } from '../config/index.js';
import { HerdError } from '../errors/index.js';
import { ipcAgentTransport, type AgentTransport } from '../cloud/transport/index.js';
import { connectNatsAgent } from '../cloud/transport/nats.js';
import { applyHeapPolicy } from '../execution/heap-policy.js';
import type { AgentToControl } from '../protocol/agent-messages.js';
import type { AgentId } from '../protocol/ids.js';
import type { CliIO } from './io.js';
import { createLogger } from './logger.js';
import { resourceSampler } from './resources.js';

/** Flags of `herd agent`. */
export interface AgentFlags {
  zone: string;
  id?: string;
  capacity: string;
  heartbeat: string;
  /** NATS URL (or HERD_NATS): a standalone generator; without it, the IPC channel of `herd server`. */
  nats?: string;
  natsPrefix?: string;
}

/**
 * `herd agent`: a load generator. Started by `herd server` as its embedded generator, it talks
 * over the IPC channel of its parent; standalone generators on other machines connect through
 * NATS with --nats.
 */
export async function agentCommand(flags: AgentFlags, io: CliIO): Promise<number> {
  applyHeapPolicy(io.env);
  const capacity = Number(flags.capacity);
  if (!/^\d+$/.test(flags.capacity) || capacity < 1) {
    throw new HerdError('invalid_flag', `--capacity must be a whole number of VUs, got ${JSON.stringify(flags.capacity)}`);
  }
  const heartbeatMs = parseDuration(flags.heartbeat);
  if (heartbeatMs === null || heartbeatMs <= 0) throw new HerdError('invalid_flag', `--heartbeat must be a duration like 1s, got ${JSON.stringify(flags.heartbeat)}`);
  const id = (flags.id ?? `${os.hostname()}-${process.pid}`) as AgentId;
  const natsUrl = flags.nats ?? io.env['HERD_NATS'];
  let transport: AgentTransport;
  if (natsUrl !== undefined) {
    const prefix = flags.natsPrefix ?? io.env['HERD_NATS_PREFIX'];
    transport = await connectNatsAgent(natsUrl, id, prefix === undefined ? {} : { prefix });
  } else {
    const send = process.send?.bind(process);
    if (send === undefined) {
      throw new HerdError('invalid_flag', 'herd agent needs a control plane to talk to', {
        hint: 'give it one with --nats nats://…, or let `herd server` start it as its embedded load generator',
      });
    }
    transport = ipcAgentTransport(
      (m: AgentToControl) => void send(m),
      (cb) => process.on('message', cb),
      () => process.disconnect(),
    );
  }
  const logger = createLogger({ write: (t) => io.stderr(`[agent ${flags.id ?? os.hostname()}] ${t}`), color: false });
  const agent = new Agent(transport, {
    id,
    zone: flags.zone,
    capacity,
    heartbeatMs,
    logger,
    sampleResources: resourceSampler(),
  });
  agent.start();
  // The agent lives as long as its channel to the control plane; over NATS, until interrupted
  // (or, when a parent started it with an IPC channel, until that parent is gone).
  await new Promise<void>((resolve) => {
    if (process.send !== undefined) process.once('disconnect', () => resolve());
    io.onInterrupt(() => resolve());
  });
  await agent.stop();
  return 0;
}
