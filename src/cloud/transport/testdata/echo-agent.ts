import type { AgentToControl } from '../../../protocol/agent-messages.js';
import type { AgentId, RunId } from '../../../protocol/ids.js';
import type { AgentTransport } from '../transport.js';

/**
 * A scripted agent for the transport contract suite, the same code in-process and in a child
 * process: it registers, then answers each control-plane message with one it can be checked by.
 *   assign   → initialized (counts.initialized = the assign's tag `vus`)
 *   setup    → an invalid message, then setupDone (the control plane must drop the first)
 *   start    → metrics whose batch.startMs is the start's startAt
 *   teardown → teardownDone; with setupJSON "exit", calls `exit` instead (a crash)
 *   stop     → ended with the stop's reason and message
 */
export function runEchoAgent(transport: AgentTransport, agentId: AgentId, exit: () => void): void {
  const counts = (initialized: number) => ({ active: 0, initialized, completed: 0, interrupted: 0 });
  const emptyGroups = { name: '', path: '', id: 'root', groups: [], checks: [] };
  transport.onMessage((m) => {
    switch (m.type) {
      case 'assign':
        transport.send({ type: 'initialized', runId: m.runId, agentId, counts: counts(Number(m.tags['vus'] ?? 0)) });
        return;
      case 'setup':
        transport.send({ type: 'bogus', runId: m.runId, agentId } as unknown as AgentToControl);
        transport.send({ type: 'setupDone', runId: m.runId, agentId, setupJSON: JSON.stringify({ from: agentId }) });
        return;
      case 'start':
        transport.send({
          type: 'metrics', runId: m.runId, agentId, seq: 1, batch: { startMs: m.startAt, endMs: m.startAt + 1000, metrics: [] },
          counts: counts(0), groupCount: 0, seriesCount: 0,
        });
        return;
      case 'teardown':
        if (m.setupJSON === 'exit') {
          exit();
          return;
        }
        transport.send({ type: 'teardownDone', runId: m.runId, agentId, seq: 2, batch: { startMs: 0, endMs: 1, metrics: [] }, groups: emptyGroups });
        return;
      case 'stop':
        transport.send({ type: 'ended', runId: m.runId as RunId, agentId, reason: m.reason, message: m.message });
        return;
      default: {
        const never: never = m;
        throw new Error(`unknown message ${JSON.stringify(never)}`);
      }
    }
  });
  transport.send({ type: 'register', agentId, zone: 'local', capacity: 100, version: 'echo' });
}
