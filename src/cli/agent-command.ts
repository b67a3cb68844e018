import os from 'node:os';
import { Agent } from '../agent/index.js';
import { parseDuration } from '../config/index.js';
import { HerdError } from '../errors/index.js';
import { ipcAgentTransport } from '../cloud/transport/index.js';
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
}

/**
 * `herd agent`: a load generator. Started by `herd server` as its embedded generator, it talks
 * over the IPC channel of its parent; standalone generators on other machines connect through
 * NATS (a later milestone).
 */
export async function agentCommand(flags: AgentFlags, io: CliIO): Promise<number> {
  const capacity = Number(flags.capacity);
  if (!/^\d+$/.test(flags.capacity) || capacity < 1) {
    throw new HerdError('invalid_flag', `--capacity must be a whole number of VUs, got ${JSON.stringify(flags.capacity)}`);
  }
  const heartbeatMs = parseDuration(flags.heartbeat);
  if (heartbeatMs === null || heartbeatMs <= 0) throw new HerdError('invalid_flag', `--heartbeat must be a duration like 1s, got ${JSON.stringify(flags.heartbeat)}`);
  const send = process.send?.bind(process);
  if (send === undefined) {
    throw new HerdError('invalid_flag', 'herd agent needs a control plane to talk to', {
      hint: 'it is started by `herd server` (the embedded load generator); agents on other machines will connect with --nats',
    });
  }
  const transport = ipcAgentTransport(
    (m: AgentToControl) => void send(m),
    (cb) => process.on('message', cb),
    () => process.disconnect(),
  );
  const logger = createLogger({ write: (t) => io.stderr(`[agent ${flags.id ?? os.hostname()}] ${t}`), color: false });
  const agent = new Agent(transport, {
    id: (flags.id ?? `${os.hostname()}-${process.pid}`) as AgentId,
    zone: flags.zone,
    capacity,
    heartbeatMs,
    logger,
    sampleResources: resourceSampler(),
  });
  agent.start();
  // The agent lives as long as its channel to the control plane.
  await new Promise<void>((resolve) => {
    process.once('disconnect', () => resolve());
    io.onInterrupt(() => resolve());
  });
  await agent.stop();
  return 0;
}
