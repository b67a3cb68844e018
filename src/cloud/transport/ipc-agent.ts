import type { AgentToControl, ControlToAgent } from '../../protocol/agent-messages.js';
import { dispatch, logInvalidMessage, parseControlMessage, type InvalidMessageHandler } from './message-validation.js';
import type { AgentTransport } from './transport.js';

/**
 * The agent's end of the IPC channel to its parent control plane. The caller passes the
 * channel's three operations (the CLI: `m => process.send!(m)`, `cb => process.on('message', cb)`,
 * `() => process.disconnect()`), so this file never touches `process` itself.
 * Incoming messages are validated; invalid ones are reported to `onInvalid` and dropped.
 */
export function ipcAgentTransport(
  send: (message: AgentToControl) => void,
  onMessage: (callback: (raw: unknown) => void) => void,
  close: () => void,
  options: { readonly onInvalid?: InvalidMessageHandler } = {},
): AgentTransport {
  const onInvalid = options.onInvalid ?? logInvalidMessage;
  const handlers: Array<(m: ControlToAgent) => void> = [];
  let closed = false;
  onMessage((raw) => {
    if (closed) return;
    const parsed = parseControlMessage(raw, onInvalid);
    if (parsed !== undefined) dispatch(handlers, parsed, onInvalid);
  });
  return {
    onMessage(handler) {
      handlers.push(handler);
    },
    send(message) {
      if (!closed) send(message);
    },
    async close() {
      if (closed) return;
      closed = true;
      close();
    },
  };
}
