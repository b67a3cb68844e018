import type { AgentToControl, ControlToAgent } from '../../protocol/agent-messages.js';
import type { AgentId } from '../../protocol/ids.js';
import { dispatch, logInvalidMessage, parseAgentMessage, parseControlMessage, type InvalidMessageHandler } from './message-validation.js';
import type { AgentTransport, ControlPlaneTransport } from './transport.js';

/** An agent's end of the in-process transport, which a test (or the embedding code) can cut. */
export interface InProcessAgentLink extends AgentTransport {
  /** Cuts the link as a crash would: the control plane hears onDisconnect(agentId, why); later sends go nowhere. */
  disconnect(why: string): void;
}

/** Both ends of an in-process transport. */
export interface InProcessTransport {
  /** The control plane's end. */
  readonly control: ControlPlaneTransport;
  /** Connects an agent; connecting again with the same id replaces (and disconnects) the old link. */
  connect(agentId: AgentId): InProcessAgentLink;
}

/** Options of the in-process transport. */
export interface InProcessTransportOptions {
  /** Told about dropped messages; NODE_DEBUG=herd:transport by default. */
  readonly onInvalid?: InvalidMessageHandler;
}

interface Link {
  readonly agentId: AgentId;
  readonly handlers: Array<(m: ControlToAgent) => void>;
  open: boolean;
}

/**
 * A transport inside one process, for tests and agents embedded in the server process.
 * It behaves as the process-crossing transports do so that code tested on it holds on them:
 * every message is delivered later (setImmediate, in send order per direction), as a
 * structured clone (nothing is shared by reference), and validated by the protocol's schemas.
 */
export function createInProcessTransport(options: InProcessTransportOptions = {}): InProcessTransport {
  const onInvalid = options.onInvalid ?? logInvalidMessage;
  const messageHandlers: Array<(m: AgentToControl) => void> = [];
  const disconnectHandlers: Array<(d: { agentId: AgentId; why: string }) => void> = [];
  const links = new Map<AgentId, Link>();
  let closed = false;

  const cut = (link: Link, why: string): void => {
    if (!link.open) return;
    link.open = false;
    if (links.get(link.agentId) === link) links.delete(link.agentId);
    setImmediate(() => {
      if (!closed) dispatch(disconnectHandlers, { agentId: link.agentId, why }, onInvalid);
    });
  };

  const control: ControlPlaneTransport = {
    onMessage(handler) {
      messageHandlers.push(handler);
    },
    onDisconnect(handler) {
      disconnectHandlers.push(({ agentId, why }) => handler(agentId, why, false));
    },
    send(agentId, message) {
      const link = links.get(agentId);
      if (closed || link === undefined || !link.open) return;
      const copy = structuredClone(message);
      setImmediate(() => {
        if (!link.open) return;
        const parsed = parseControlMessage(copy, onInvalid);
        if (parsed !== undefined) dispatch(link.handlers, parsed, onInvalid);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const link of links.values()) link.open = false;
      links.clear();
    },
  };

  return {
    control,
    connect(agentId) {
      const previous = links.get(agentId);
      if (previous !== undefined) cut(previous, 'replaced by a new connection of the same agent');
      const link: Link = { agentId, handlers: [], open: !closed };
      if (!closed) links.set(agentId, link);
      return {
        onMessage(handler) {
          link.handlers.push(handler);
        },
        send(message) {
          if (!link.open) return;
          const copy = structuredClone(message);
          setImmediate(() => {
            if (closed) return;
            const parsed = parseAgentMessage(copy, onInvalid, agentId);
            if (parsed !== undefined) dispatch(messageHandlers, parsed, onInvalid);
          });
        },
        async close() {
          cut(link, 'the agent closed its connection');
        },
        disconnect(why) {
          cut(link, why);
        },
      };
    },
  };
}
