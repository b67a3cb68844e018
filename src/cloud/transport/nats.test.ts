// The NATS transport against the NATS server (with JetStream) at 127.0.0.1:4222: the shared
// transport contract, then what only NATS promises (delivery across cut links and restarts,
// replicas). Every fixture uses its own subject prefix and stream, deleted at its end, so
// parallel test runs on one NATS server do not meet.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect as tcpConnect, createServer, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { connect } from 'nats';
import type { AgentToControl, ControlToAgent } from '../../protocol/agent-messages.js';
import type { AgentId, RunId } from '../../protocol/ids.js';
import { connectNatsAgent, connectNatsControl, type NatsAgentTransport, type NatsControlPlaneTransport } from './nats.js';
import { agentOfToken, agentToken, natsNames, natsStreamName } from './nats-subjects.js';
import { ACK_WAIT_MS } from './nats-stream.js';
import { runEchoAgent } from './testdata/echo-agent.js';
import { tcpReachable } from '../../../test/helpers/reachable.js';
import { transportContract } from './transport.case.test.js';

const NATS_URL = 'nats://127.0.0.1:4222';

// CI must test NATS: there an unreachable server fails the tests instead of skipping them.
const SKIP = !(await tcpReachable('127.0.0.1', 4222)) && process.env['CI'] !== 'true'
  ? 'no NATS server at 127.0.0.1:4222 (start one with `nats-server -js`; CI=true runs these tests regardless)'
  : false;

const uniquePrefix = (): string => `herdtest_${process.pid}_${randomUUID().slice(0, 8)}`;

/** Deletes the stream of `prefix` (and so its consumers). */
async function deleteStream(prefix: string): Promise<void> {
  const nc = await connect({ servers: NATS_URL });
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(natsStreamName(prefix)).catch(() => undefined);
  } finally {
    await nc.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, ready: () => boolean, timeoutMs = 5000, state: () => unknown = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; ${JSON.stringify(state())}`);
    await sleep(5);
  }
}

/** A TCP proxy in front of NATS whose link a test can cut and give back. */
class CuttableLink {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #cut = false;
  port = 0;
  constructor() {
    this.#server = createServer((client) => {
      if (this.#cut) {
        client.destroy();
        return;
      }
      const upstream = tcpConnect({ host: '127.0.0.1', port: 4222 });
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }
  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const addr = this.#server.address();
    this.port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  }
  cut(): void {
    this.#cut = true;
    for (const s of this.#sockets) s.destroy();
  }
  restore(): void {
    this.#cut = false;
  }
  async close(): Promise<void> {
    this.cut();
    await new Promise((r) => this.#server.close(r));
  }
}

const RUN = '7' as RunId;
const A1 = 'agent-1' as AgentId;
const counts = { active: 0, initialized: 0, completed: 0, interrupted: 0 };
const metrics = (agentId: AgentId, seq: number): AgentToControl => ({
  type: 'metrics', runId: RUN, agentId, seq, batch: { startMs: seq * 1000, endMs: seq * 1000 + 1000, metrics: [] }, counts, groupCount: 0, seriesCount: 0,
});
const register = (agentId: AgentId): AgentToControl => ({ type: 'register', agentId, zone: 'local', capacity: 10, version: 'test' });
const stop = (message: string): ControlToAgent => ({ type: 'stop', runId: RUN, reason: 'user_abort', message });
const seqs = (ms: readonly AgentToControl[]): number[] => ms.flatMap((m) => (m.type === 'metrics' ? [m.seq] : []));

describe('NATS subjects', () => {
  it('writes agent ids as subject tokens and reads them back', () => {
    for (const id of ['agent-1', 'host.example.com:42', 'a_b', 'A-9_.:']) {
      assert.match(agentToken(id), /^[A-Za-z0-9_-]+$/);
      assert.equal(agentOfToken(agentToken(id)), id);
    }
    const names = natsNames('acme.herd');
    assert.deepEqual([names.stream, names.toAgent('x.1' as AgentId), names.agentConsumer('x.1' as AgentId)], ['HERD_acme-herd', 'acme.herd.agent.x_2e1', 'agent_x_2e1']);
    assert.equal(natsStreamName(), 'HERD');
    assert.throws(() => natsNames('herd.>'), { code: 'invalid_flag', message: 'the NATS subject prefix must be words of letters, digits, "_" or "-" joined by ".", got "herd.>"' });
  });
});

if (SKIP !== false) {
  describe('NATS transport', () => {
    it('runs against a NATS server with JetStream', { skip: SKIP }, () => undefined);
  });
} else {
  transportContract('NATS', async () => {
    const prefix = uniquePrefix();
    const invalid: unknown[] = [];
    const control = await connectNatsControl(NATS_URL, { prefix, lostAfterMs: 1000, onInvalid: (_why, raw) => invalid.push(raw) });
    const agents = new Map<AgentId, NatsAgentTransport>();
    return {
      control,
      invalid,
      async startAgent(agentId) {
        const t = await connectNatsAgent(NATS_URL, agentId, { prefix, keepaliveMs: 200 });
        agents.set(agentId, t);
        runEchoAgent(t, agentId, () => t.destroy());
      },
      dropAgent(agentId) {
        agents.get(agentId)?.destroy();
      },
      async dispose() {
        await control.close();
        await Promise.all([...agents.values()].map((a) => a.close()));
        await deleteStream(prefix);
      },
    };
  });

  describe('NATS transport', () => {
    const prefixes: string[] = [];
    const open: Array<{ close(): Promise<void> }> = [];
    const fresh = (): string => {
      const p = uniquePrefix();
      prefixes.push(p);
      return p;
    };
    const control = async (prefix: string, opts: { name?: string; lostAfterMs?: number } = {}): Promise<NatsControlPlaneTransport> => {
      const c = await connectNatsControl(NATS_URL, { prefix, ...opts });
      open.push(c);
      return c;
    };
    const agent = async (prefix: string, id: AgentId, opts: { url?: string; keepaliveMs?: number } = {}): Promise<NatsAgentTransport> => {
      const a = await connectNatsAgent(opts.url ?? NATS_URL, id, { prefix, reconnectTimeWaitMs: 50, keepaliveMs: opts.keepaliveMs ?? 200 });
      open.push(a);
      return a;
    };
    after(async () => {
      await Promise.all(open.map((c) => c.close()));
      await Promise.all(prefixes.map(deleteStream));
    });

    it('says which NATS server it could not reach', async () => {
      await assert.rejects(connectNatsControl('nats://127.0.0.1:1', { reconnectTimeWaitMs: 10 }), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'invalid_flag');
        assert.match(e.message, /^could not connect to NATS at nats:\/\/127\.0\.0\.1:1: /);
        return true;
      });
    });

    it('delivers what was sent to and by a cut-off agent once its link is back, once each, and the agent, reported lost, registers again', async () => {
      const prefix = fresh();
      const link = new CuttableLink();
      await link.listen();
      try {
        const cp = await control(prefix, { lostAfterMs: 600 });
        const heard: AgentToControl[] = [];
        const lost: string[] = [];
        cp.onMessage((m) => heard.push(m));
        cp.onDisconnect((id) => lost.push(id));
        const a = await agent(prefix, A1, { url: link.url });
        const got: ControlToAgent[] = [];
        a.onMessage((m) => got.push(m));
        a.send(register(A1));
        await until('register', () => heard.length === 1);

        link.cut();
        cp.send(A1, stop('while cut off'));
        a.send(metrics(A1, 1));
        a.send(metrics(A1, 2));
        await until('the agent reported lost', () => lost.length === 1);
        assert.deepEqual(got, []);
        assert.deepEqual(seqs(heard), []);

        link.restore();
        await until('the stop, both batches and a new register', () =>
          got.length === 1 && seqs(heard).length === 2 && heard.filter((m) => m.type === 'register').length === 2, 20_000, () => ({ got, heard, lost }));
        await sleep(500);
        assert.deepEqual(got, [stop('while cut off')]);
        assert.deepEqual(seqs(heard), [1, 2]);
        assert.deepEqual(lost, [A1]);
      } finally {
        await link.close();
      }
    });

    it('hands a message that reached a reader gone before acknowledging it to the next reader within the ack wait', async () => {
      // What happens when a stop is sent just as an agent's link goes down: the server may
      // deliver it into the dying connection, and only the ack wait brings it back.
      const prefix = fresh();
      const cp = await control(prefix);
      const a = await agent(prefix, A1);
      cp.send(A1, stop('into a dying link'));
      const names = natsNames(prefix);
      const nc = await connect({ servers: NATS_URL });
      try {
        const consumer = await nc.jetstream().consumers.get(names.stream, names.agentConsumer(A1));
        const taken = await consumer.next({ expires: 5000 });
        assert.ok(taken !== null, 'the first reader got the message');
      } finally {
        await nc.close(); // gone without acknowledging
      }
      const started = Date.now();
      const got: ControlToAgent[] = [];
      a.onMessage((m) => got.push(m));
      await until('the message again', () => got.length === 1, ACK_WAIT_MS + 5000);
      const waited = Date.now() - started;
      assert.deepEqual(got, [stop('into a dying link')]);
      assert.ok(waited <= ACK_WAIT_MS + 2000, `redelivered after ${waited} ms`);
    });

    it('rides out a cut shorter than lostAfterMs: no loss reported, no second register, nothing lost', async () => {
      const prefix = fresh();
      const link = new CuttableLink();
      await link.listen();
      try {
        const cp = await control(prefix, { lostAfterMs: 5000 });
        const heard: AgentToControl[] = [];
        const lost: string[] = [];
        cp.onMessage((m) => heard.push(m));
        cp.onDisconnect((id) => lost.push(id));
        const a = await agent(prefix, A1, { url: link.url });
        const got: ControlToAgent[] = [];
        a.onMessage((m) => got.push(m));
        a.send(register(A1));
        await until('register', () => heard.length === 1);
        link.cut();
        cp.send(A1, stop('during a blip'));
        a.send(metrics(A1, 1));
        await sleep(300);
        link.restore();
        await until('the stop and the batch', () => got.length === 1 && seqs(heard).length === 1, 20_000, () => ({ got, heard }));
        await sleep(500);
        assert.deepEqual(heard.map((m) => m.type), ['register', 'metrics']);
        assert.deepEqual(lost, []);
      } finally {
        await link.close();
      }
    });

    it('gives a control plane restarted under its name what agents sent while it was down, in order', async () => {
      const prefix = fresh();
      const first = await control(prefix, { name: 'cp' });
      const before: AgentToControl[] = [];
      first.onMessage((m) => before.push(m));
      const a = await agent(prefix, A1);
      a.send(metrics(A1, 1));
      await until('batch 1', () => before.length === 1);
      await first.close();

      for (let seq = 2; seq <= 4; seq++) a.send(metrics(A1, seq));
      await sleep(200);
      const second = await control(prefix, { name: 'cp' });
      const after: AgentToControl[] = [];
      second.onMessage((m) => after.push(m));
      await until('batches 2-4', () => after.length === 3);
      await sleep(200);
      assert.deepEqual(seqs(after), [2, 3, 4]);
    });

    it('gives every agent message to each control plane with its own name, and shares them between planes of one name', async () => {
      const prefix = fresh();
      const inbox = async (name: string): Promise<number[]> => {
        const got: number[] = [];
        (await control(prefix, { name })).onMessage((m) => {
          if (m.type === 'metrics') got.push(m.seq);
        });
        return got;
      };
      const [a, b, shared1, shared2] = [await inbox('a'), await inbox('b'), await inbox('shared'), await inbox('shared')];
      const ag = await agent(prefix, A1);
      const n = 600;
      for (let seq = 1; seq <= n; seq++) ag.send(metrics(A1, seq));
      const all = Array.from({ length: n }, (_, i) => i + 1);
      await until('every batch everywhere', () => a.length === n && b.length === n && shared1.length + shared2.length >= n, 20_000);
      await sleep(300);
      assert.deepEqual(a, all, 'replica a hears every batch, in order');
      assert.deepEqual(b, all, 'replica b hears every batch, in order');
      assert.deepEqual([...shared1, ...shared2].sort((x, y) => x - y), all, 'one name: every batch once, to one of the two');
      assert.ok(shared1.length > 0 && shared2.length > 0, `both planes of one name get a share (${shared1.length} + ${shared2.length})`);
    });

    it('registers again when a control plane that lost the agent hears from it', async () => {
      const prefix = fresh();
      const cp = await control(prefix, { lostAfterMs: 300 });
      const heard: string[] = [];
      const lost: string[] = [];
      cp.onMessage((m) => heard.push(m.type));
      cp.onDisconnect((id) => lost.push(id));
      // Pings slower than the control plane's patience: lost between pings, then heard again.
      const a = await agent(prefix, A1, { keepaliveMs: 700 });
      a.onMessage(() => undefined);
      a.send(register(A1));
      await until('lost, then registered again', () => lost.length >= 1 && heard.filter((t) => t === 'register').length >= 2, 5000);
    });
  });
}
