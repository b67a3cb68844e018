import type { ChildProcess } from 'node:child_process';
import type { AgentToControl, ControlToAgent } from '../../protocol/agent-messages.js';
import type { AgentId } from '../../protocol/ids.js';
import { dispatch, logInvalidMessage, parseAgentMessage, type InvalidMessageHandler } from './message-validation.js';
import type { ControlPlaneTransport } from './transport.js';

/** Options of the child-process transport. */
export interface ChildProcessAgentsOptions {
  /** Told about dropped messages; NODE_DEBUG=herd:transport by default. */
  readonly onInvalid?: InvalidMessageHandler;
}

interface Attached {
  readonly child: ChildProcess;
  readonly detach: () => void;
}

/**
 * The control plane's end of the IPC channels to agents running as child processes (the
 * embedded agent of `herd server`): messages travel over `child.send` / the child's
 * `'message'` event. The agent is lost when its process exits or its channel closes.
 * The caller owns the processes: close() stops listening but neither kills nor disconnects them.
 */
export class ChildProcessAgents implements ControlPlaneTransport {
  readonly #onInvalid: InvalidMessageHandler;
  readonly #messageHandlers: Array<(m: AgentToControl) => void> = [];
  readonly #disconnectHandlers: Array<(d: { agentId: AgentId; why: string }) => void> = [];
  readonly #children = new Map<AgentId, Attached>();
  #closed = false;

  constructor(options: ChildProcessAgentsOptions = {}) {
    this.#onInvalid = options.onInvalid ?? logInvalidMessage;
  }

  /** Starts talking to `child` as agent `agentId` (a child attached under the same id replaces the old one). */
  attach(child: ChildProcess, agentId: AgentId): void {
    if (this.#closed) return;
    this.#children.get(agentId)?.detach();
    let lost = false;
    const onMessage = (raw: unknown): void => {
      const parsed = parseAgentMessage(raw, this.#onInvalid, agentId);
      if (parsed !== undefined) dispatch(this.#messageHandlers, parsed, this.#onInvalid);
    };
    const loseWith = (why: string) => (): void => {
      if (lost) return;
      lost = true;
      detach();
      dispatch(this.#disconnectHandlers, { agentId, why }, this.#onInvalid);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      loseWith(signal !== null ? `its process was killed by ${signal}` : `its process exited with code ${code ?? 'unknown'}`)();
    const onChannelClosed = loseWith('its IPC channel closed');
    const onError = (e: Error): void => loseWith(`its process failed: ${e.message}`)();
    const detach = (): void => {
      child.off('message', onMessage);
      child.off('exit', onExit);
      child.off('disconnect', onChannelClosed);
      child.off('error', onError);
      if (this.#children.get(agentId)?.child === child) this.#children.delete(agentId);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
    child.on('disconnect', onChannelClosed);
    child.on('error', onError);
    this.#children.set(agentId, { child, detach });
    // A child that is already gone never emits again: report it now (later, as events are).
    if (child.exitCode !== null || child.signalCode !== null || !child.connected) setImmediate(onChannelClosed);
  }

  onMessage(handler: (message: AgentToControl) => void): void {
    this.#messageHandlers.push(handler);
  }

  onDisconnect(handler: (agentId: AgentId, why: string, silent: boolean) => void): void {
    this.#disconnectHandlers.push(({ agentId, why }) => handler(agentId, why, false));
  }

  send(agentId: AgentId, message: ControlToAgent): void {
    const attached = this.#children.get(agentId);
    if (this.#closed || attached === undefined || !attached.child.connected) return;
    // The channel may close between the check and the write; the 'disconnect' event reports that.
    attached.child.send(message, (e) => {
      if (e !== null && e !== undefined) this.#onInvalid(`could not send to agent ${agentId}: ${e.message}`, message);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const a of [...this.#children.values()]) a.detach();
    this.#children.clear();
  }
}
