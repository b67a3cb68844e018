import { debuglog } from 'node:util';
import {
  agentToControlSchema, controlToAgentSchema, type AgentToControl, type ControlToAgent,
} from '../../protocol/agent-messages.js';
import type { AgentId } from '../../protocol/ids.js';

/** Told about every message a transport drops, with why; the default writes to NODE_DEBUG=herd:transport. */
export type InvalidMessageHandler = (why: string, raw: unknown) => void;

const debug = debuglog('herd:transport');

/** The default handler for dropped messages: cheap when NODE_DEBUG does not name herd:transport. */
export const logInvalidMessage: InvalidMessageHandler = (why, raw) => {
  debug('dropped a message: %s: %j', why, raw);
};

// Both directions go through a zod schema: a peer on the other side of a process (or a
// machine) is not trusted to speak the protocol, and a bad message must not reach the run
// lifecycle, which switches exhaustively on message types.

/** An agent's message parsed, or undefined (reported to `onInvalid`) when it is not one. */
export function parseAgentMessage(raw: unknown, onInvalid: InvalidMessageHandler, expectedAgent?: AgentId): AgentToControl | undefined {
  const r = agentToControlSchema.safeParse(raw);
  if (!r.success) {
    onInvalid(`not an agent message: ${r.error.issues.map((i) => `${i.path.join('.') || '(message)'} ${i.message}`).join('; ')}`, raw);
    return undefined;
  }
  // A link belongs to one agent: a message naming another would let one generator speak for
  // (and end the runs of) another.
  if (expectedAgent !== undefined && r.data.agentId !== expectedAgent) {
    onInvalid(`message from the link of agent ${expectedAgent} names agent ${r.data.agentId}`, raw);
    return undefined;
  }
  return r.data;
}

/** A control-plane message parsed, or undefined (reported to `onInvalid`) when it is not one. */
export function parseControlMessage(raw: unknown, onInvalid: InvalidMessageHandler): ControlToAgent | undefined {
  const r = controlToAgentSchema.safeParse(raw);
  if (!r.success) {
    onInvalid(`not a control-plane message: ${r.error.issues.map((i) => `${i.path.join('.') || '(message)'} ${i.message}`).join('; ')}`, raw);
    return undefined;
  }
  return r.data;
}

/** Calls every handler with `value`; one throwing handler does not keep the message from the others. */
export function dispatch<T>(handlers: ReadonlyArray<(value: T) => void>, value: T, onInvalid: InvalidMessageHandler): void {
  for (const h of handlers) {
    try {
      h(value);
    } catch (e) {
      onInvalid(`a message handler threw: ${e instanceof Error ? e.message : String(e)}`, value);
    }
  }
}
