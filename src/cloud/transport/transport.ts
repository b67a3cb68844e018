import type { AgentToControl, ControlToAgent } from '../../protocol/agent-messages.js';
import type { AgentId } from '../../protocol/ids.js';

/**
 * How the control plane talks to load generators. Implementations: in-process (tests, and
 * agents in this process), IPC to the embedded agent's child process, and NATS (many machines).
 * All pass one shared contract suite. Delivery is at-least-once at best: receivers must accept
 * repeats (metric batches carry sequence numbers for that).
 */
export interface ControlPlaneTransport {
  /** Called for every message from any agent. */
  onMessage(handler: (message: AgentToControl) => void): void;
  /**
   * Called when the link to an agent is lost: known closed (its process exited, it said
   * goodbye), or, with `silent`, only presumed from its silence (a NATS agent unheard for a
   * while: dead, hung or cut off, which the control plane cannot tell apart).
   */
  onDisconnect(handler: (agentId: AgentId, why: string, silent: boolean) => void): void;
  /** Sends to one agent; dropped silently when it is not connected (the scheduler's timeouts decide). */
  send(agentId: AgentId, message: ControlToAgent): void;
  /** Closes the transport (safe to call twice). */
  close(): Promise<void>;
  /** Live events between control-plane replicas; absent where there is only one control plane. */
  readonly replicas?: ReplicaChannel;
}

/**
 * Fire-and-forget messages between control-plane replicas: each publishes the live events of the
 * runs it leads (progress, logs, warnings, status changes), so that every replica's API serves
 * them to its followers. A lost one is replaced by the next; the store stays the record.
 */
export interface ReplicaChannel {
  /** Sends to every other replica (not back to this one). */
  publish(payload: unknown): void;
  /** Called with what the other replicas publish. */
  onMessage(handler: (payload: unknown) => void): void;
}

/** How an agent talks to the control plane. */
export interface AgentTransport {
  /** Called for every message from the control plane. */
  onMessage(handler: (message: ControlToAgent) => void): void;
  /** Sends to the control plane; dropped when the link is down (metric batches are re-sent by sequence). */
  send(message: AgentToControl): void;
  /** Closes the agent's end (safe to call twice). */
  close(): Promise<void>;
}
