// The contract every ControlPlaneTransport passes, against the echo agent (testdata/echo-agent.ts)
// running on the other end: `transportContract(name, makeFixture)` defines every test, and each
// transport's test file runs it in one line.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AgentToControl, ControlToAgent } from '../../protocol/agent-messages.js';
import type { AgentId, RunId } from '../../protocol/ids.js';
import type { ControlPlaneTransport } from './transport.js';

/** A control plane end with echo agents that a test can start and cut off. */
export interface TransportFixture {
  readonly control: ControlPlaneTransport;
  /** Starts an echo agent with this id on the other end of the transport. */
  startAgent(agentId: AgentId): Promise<void>;
  /** Cuts an agent off as a crash would (kills its process, or drops its in-process link). */
  dropAgent(agentId: AgentId): void;
  /** Everything that was dropped as invalid on the control-plane side. */
  readonly invalid: unknown[];
  /** Stops the agents and closes the transport. */
  dispose(): Promise<void>;
}

const RUN = '7' as RunId;
const A1 = 'agent-1' as AgentId;
const A2 = 'agent-2' as AgentId;

/** Collects what the control plane hears, and waits for it. */
class Inbox {
  readonly messages: AgentToControl[] = [];
  readonly disconnects: Array<{ agentId: AgentId; why: string }> = [];
  constructor(control: ControlPlaneTransport) {
    control.onMessage((m) => this.messages.push(m));
    control.onDisconnect((agentId, why) => this.disconnects.push({ agentId, why }));
  }
  async until(what: string, ready: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ready()) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; got ${JSON.stringify(this.messages)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  of(agentId: AgentId): string[] {
    return this.messages.filter((m) => m.agentId === agentId).map((m) => m.type);
  }
}

const assign = (vus: number): ControlToAgent => ({
  type: 'assign', runId: RUN, archive: 'AAAA', segment: '0:1', sequence: '0,1', lifecycle: true, tags: { vus: String(vus) },
});

/** Defines the whole transport contract suite for one implementation. */
export function transportContract(name: string, makeFixture: () => Promise<TransportFixture>): void {
  describe(`Transport contract: ${name}`, () => {
    const test = (title: string, fn: (f: TransportFixture, inbox: Inbox) => Promise<void>): void => {
      it(title, async () => {
        const f = await makeFixture();
        const inbox = new Inbox(f.control);
        try {
          await fn(f, inbox);
        } finally {
          await f.dispose();
        }
      });
    };

    test('delivers an agent\'s register message to the control plane', async (f, inbox) => {
      await f.startAgent(A1);
      await inbox.until('register', () => inbox.messages.length === 1);
      assert.deepEqual(inbox.messages[0], { type: 'register', agentId: A1, zone: 'local', capacity: 100, version: 'echo' });
    });

    test('routes each message to the agent it is sent to and the answers back, in order', async (f, inbox) => {
      await f.startAgent(A1);
      await f.startAgent(A2);
      await inbox.until('both registers', () => inbox.messages.length === 2);
      f.control.send(A1, assign(3));
      f.control.send(A1, { type: 'start', runId: RUN, startAt: 1234 });
      f.control.send(A2, assign(5));
      await inbox.until('three answers', () => inbox.messages.length === 5);
      assert.deepEqual(inbox.of(A1), ['register', 'initialized', 'metrics']);
      assert.deepEqual(inbox.of(A2), ['register', 'initialized']);
      const init2 = inbox.messages.find((m) => m.agentId === A2 && m.type === 'initialized');
      assert.equal(init2?.type === 'initialized' && init2.counts.initialized, 5);
      const metrics = inbox.messages.find((m) => m.type === 'metrics');
      assert.equal(metrics?.type === 'metrics' && metrics.batch.startMs, 1234);
    });

    test('copies a message when it is sent, so changing it afterwards changes nothing that was sent', async (f, inbox) => {
      await f.startAgent(A1);
      await inbox.until('register', () => inbox.messages.length === 1);
      const m = assign(4);
      f.control.send(A1, m);
      if (m.type === 'assign') m.tags['vus'] = '99';
      await inbox.until('initialized', () => inbox.messages.length === 2);
      const init = inbox.messages[1];
      assert.equal(init?.type === 'initialized' && init.counts.initialized, 4);
    });

    test('drops an invalid agent message, reports it, and keeps the link', async (f, inbox) => {
      await f.startAgent(A1);
      f.control.send(A1, { type: 'setup', runId: RUN });
      await inbox.until('setupDone', () => inbox.messages.some((m) => m.type === 'setupDone'));
      assert.deepEqual(inbox.of(A1), ['register', 'setupDone']);
      // The IPC transport reports in the child; the control side reports what it dropped itself.
      assert.ok(f.invalid.some((raw) => (raw as { type?: string }).type === 'bogus'), 'the bogus message is reported');
    });

    test('drops an invalid control-plane message at the agent and delivers the next one', async (f, inbox) => {
      await f.startAgent(A1);
      await inbox.until('register', () => inbox.messages.length === 1);
      f.control.send(A1, { type: 'assign', runId: 'not-a-run' } as unknown as ControlToAgent);
      f.control.send(A1, { type: 'stop', runId: RUN, reason: 'user_abort', message: 'aborted via API' });
      await inbox.until('ended', () => inbox.messages.length === 2);
      assert.deepEqual(inbox.messages[1], { type: 'ended', runId: RUN, agentId: A1, reason: 'user_abort', message: 'aborted via API' });
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(inbox.messages.length, 2, 'nothing answers the invalid message');
    });

    test('tells the control plane when an agent crashes, naming the agent', async (f, inbox) => {
      await f.startAgent(A1);
      await f.startAgent(A2);
      await inbox.until('registers', () => inbox.messages.length === 2);
      f.control.send(A1, { type: 'teardown', runId: RUN, setupJSON: 'exit' });
      await inbox.until('a disconnect', () => inbox.disconnects.length === 1);
      assert.equal(inbox.disconnects[0]?.agentId, A1);
      assert.ok((inbox.disconnects[0]?.why ?? '').length > 0);
      // The other agent is not affected, and sending to the lost one is silently dropped.
      f.control.send(A1, assign(1));
      f.control.send(A2, assign(2));
      await inbox.until('A2 initialized', () => inbox.of(A2).includes('initialized'));
      assert.deepEqual(inbox.of(A1), ['register']);
    });

    test('tells the control plane when an agent\'s link is cut', async (f, inbox) => {
      await f.startAgent(A1);
      await inbox.until('register', () => inbox.messages.length === 1);
      f.dropAgent(A1);
      await inbox.until('a disconnect', () => inbox.disconnects.length === 1);
      assert.equal(inbox.disconnects[0]?.agentId, A1);
    });

    test('drops messages to an agent it does not know, and closes twice without error', async (f) => {
      f.control.send('nobody' as AgentId, assign(1));
      await f.control.close();
      await f.control.close();
    });
  });
}
