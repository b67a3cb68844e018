import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AgentId } from '../../protocol/ids.js';
import { createInProcessTransport, type InProcessAgentLink } from './in-process.js';
import { runEchoAgent } from './testdata/echo-agent.js';
import { transportContract } from './transport.case.test.js';

transportContract('in-process', async () => {
  const invalid: unknown[] = [];
  const t = createInProcessTransport({ onInvalid: (_why, raw) => invalid.push(raw) });
  const links = new Map<AgentId, InProcessAgentLink>();
  return {
    control: t.control,
    invalid,
    async startAgent(agentId) {
      const link = t.connect(agentId);
      links.set(agentId, link);
      runEchoAgent(link, agentId, () => link.disconnect('the echo agent exited'));
    },
    dropAgent(agentId) {
      links.get(agentId)?.disconnect('dropped by the test');
    },
    async dispose() {
      await t.control.close();
    },
  };
});

describe('in-process transport', () => {
  it('delivers later, never inside send()', async () => {
    const t = createInProcessTransport();
    const got: string[] = [];
    t.control.onMessage((m) => got.push(m.type));
    const link = t.connect('a' as AgentId);
    link.send({ type: 'register', agentId: 'a' as AgentId, zone: 'local', capacity: 1, version: 'x' });
    assert.deepEqual(got, []);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(got, ['register']);
  });

  it('drops a message that names another agent than its link', async () => {
    const dropped: string[] = [];
    const t = createInProcessTransport({ onInvalid: (why) => dropped.push(why) });
    const got: string[] = [];
    t.control.onMessage((m) => got.push(m.agentId));
    t.connect('a' as AgentId).send({ type: 'register', agentId: 'b' as AgentId, zone: 'local', capacity: 1, version: 'x' });
    // Deliveries are setImmediate callbacks, run in order: this one runs after the send's.
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(got, []);
    assert.deepEqual(dropped, ['message from the link of agent a names agent b']);
  });
});
