// Many machines, for real (issue 6, item 4): hosts are Linux network namespaces joined by a
// bridge, made by this test with `ip netns add` and veth pairs. On the host side: PostgreSQL, a
// NATS server of the test's own bound to the bridge, and two `herd server` replicas on one
// database and one NATS. Three `herd agent`s live in their own namespaces, two in zone "east"
// and one in "west", and the target, which counts what it is sent, in another. Cutting a link
// is `ip link set <host end of its veth> down`.
//
// Needs root, iproute2 and nats-server (all on the CI machine); skipped elsewhere unless CI=true.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { freePort, packScript } from './helpers/herd-server.js';
import { HERD_BIN } from './helpers/herd-process.js';

const NATS_BIN = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find((p) => existsSync(p));
const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const ADMIN_TOKEN = 'secret';
const isRoot = process.getuid?.() === 0;
const hasIp = spawnSync('ip', ['netns', 'list']).status === 0;
const SKIP = (!isRoot || !hasIp || NATS_BIN === undefined) && process.env['CI'] !== 'true'
  ? 'needs root, iproute2 (ip netns) and nats-server; CI=true runs it regardless'
  : false;

// Names are short: Linux interface names have at most 15 characters.
const tag = (process.pid % 10_000).toString(36);
const subnet = `10.${200 + (process.pid % 50)}.${process.pid % 250}`;
const BRIDGE = `hbr${tag}`;
const HOST_IP = `${subnet}.1`;
type Host = { name: string; ns: string; hostEnd: string; ip: string };
const host = (name: string, n: number): Host => ({ name, ns: `herd-${tag}-${name}`, hostEnd: `hv${tag}${name}`, ip: `${subnet}.${n}` });
const AGENTS = [
  { ...host('a1', 11), zone: 'east' },
  { ...host('a2', 12), zone: 'east' },
  { ...host('a3', 13), zone: 'west' },
];
const TARGET = host('tg', 20);
const TARGET_PORT = 8080;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr}`);
}

/** A child process whose output is kept, stopped with SIGINT (then SIGKILL) at the end. */
class Proc {
  readonly child: ChildProcess;
  out = '';
  readonly exited: Promise<void>;
  constructor(readonly name: string, cmd: string, args: string[], env: Record<string, string> = {}) {
    this.child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (d: Buffer) => { this.out += d.toString(); });
    this.child.stderr?.on('data', (d: Buffer) => { this.out += d.toString(); });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }
  async waitFor(text: string | RegExp, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(typeof text === 'string' ? this.out.includes(text) : text.test(this.out))) {
      if (this.child.exitCode !== null || Date.now() > deadline) throw new Error(`${this.name}: no ${String(text)} (exit ${this.child.exitCode})\n${this.out}`);
      await sleep(50);
    }
  }
  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(killer);
  }
}

// The target: counts every request, and answers /count with the count so far.
const TARGET_CODE = `
const http = require('node:http');
let hits = 0;
http.createServer((req, res) => {
  if (req.url === '/count') { res.end(String(hits)); return; }
  if (req.url === '/reset') { hits = 0; res.end('0'); return; }
  hits++;
  res.end('ok');
}).listen(${TARGET_PORT}, '${TARGET.ip}', () => console.log('target ready'));
`;

interface Run { id: string; status: { code: number; name: string }; lastChange: { reason: string; message: string } }
type SummaryMetric = { values?: Record<string, number> };

describe('herd on many hosts: network namespaces, two zones, two control-plane replicas', { skip: SKIP, timeout: 10 * 60_000 }, () => {
  const schema = `herd_netns_${process.pid}`;
  let natsPort = 0;
  let natsUrl = '';
  const natsDir = mkdtempSync(path.join(tmpdir(), 'herd-netns-nats-'));
  const dataDir = mkdtempSync(path.join(tmpdir(), 'herd-netns-'));
  const ports = { a: 0, b: 0 };
  const procs: Proc[] = [];
  const replicas: Record<'a' | 'b', Proc | undefined> = { a: undefined, b: undefined };
  let db: pg.Client;

  const logs = (): string => procs.map((p) => `--- ${p.name}\n${p.out.slice(-4000)}`).join('\n');
  const startReplica = async (which: 'a' | 'b'): Promise<Proc> => {
    const p = new Proc(`replica ${which}`, process.execPath, [
      HERD_BIN, 'server', '--port', String(ports[which]), '--data-dir', dataDir, '--no-agent', '--name', `cp-${which}`,
      '--database', PG_URL, '--database-schema', schema, '--nats', natsUrl,
      '--launch-timeout', '10s', '--agent-grace', '3s', '--run-timeout', '8s', '--heartbeat', '500ms', '--run-lease', '3s',
    ], { HERD_ADMIN_TOKEN: ADMIN_TOKEN });
    procs.push(p);
    await p.waitFor('herd server listening on', 30_000);
    replicas[which] = p;
    return p;
  };
  const api = async <T>(which: 'a' | 'b', method: string, p: string, body?: FormData): Promise<{ status: number; body: T }> => {
    const res = await fetch(`http://127.0.0.1:${ports[which]}${p}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
  };
  const submit = async (which: 'a' | 'b', source: string): Promise<Run> => {
    const projects = await api<{ projects: Array<{ id: string }> }>(which, 'GET', '/api/v1/projects');
    const form = new FormData();
    form.set('projectId', projects.body.projects[0]?.id ?? '');
    form.set('testName', 'netns');
    form.set('archive', new Blob([await packScript(source, { TARGET: `http://${TARGET.ip}:${TARGET_PORT}` })]), 'archive.tar.gz');
    const r = await api<Run>(which, 'POST', '/api/v1/runs', form);
    assert.equal(r.status, 201, `${JSON.stringify(r.body)}\n${logs()}`);
    return r.body;
  };
  const waitRun = async (which: 'a' | 'b', id: string, until: (r: Run) => boolean, ms: number): Promise<Run> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const r = await api<Run>(which, 'GET', `/api/v1/runs/${id}`);
      if (r.status === 200 && until(r.body)) return r.body;
      if (Date.now() > deadline) assert.fail(`run ${id} is ${JSON.stringify(r.body)} after ${ms} ms\n${logs()}`);
      await sleep(200);
    }
  };
  const final = (r: Run) => r.status.code >= 3;
  const targetCount = async (reset = false): Promise<number> => {
    // The test reaches the target across the bridge, as the agents do.
    const res = await fetch(`http://${TARGET.ip}:${TARGET_PORT}/${reset ? 'reset' : 'count'}`);
    return Number(await res.text());
  };
  const summaryOf = async (id: string): Promise<Record<string, SummaryMetric>> => {
    const r = await api<{ summary: { metrics: Record<string, SummaryMetric> } }>('b', 'GET', `/api/v1/runs/${id}/summary`);
    assert.equal(r.status, 200, `${JSON.stringify(r.body)}\n${logs()}`);
    return r.body.summary.metrics;
  };
  const count = (m: Record<string, SummaryMetric>, name: string): number => m[name]?.values?.['count'] ?? Number.NaN;

  before(async () => {
    // The hosts.
    ip('link', 'add', BRIDGE, 'type', 'bridge');
    ip('addr', 'add', `${HOST_IP}/24`, 'dev', BRIDGE);
    ip('link', 'set', BRIDGE, 'up');
    for (const h of [...AGENTS, TARGET]) {
      ip('netns', 'add', h.ns);
      ip('link', 'add', h.hostEnd, 'type', 'veth', 'peer', 'name', `${h.hostEnd}p`);
      ip('link', 'set', `${h.hostEnd}p`, 'netns', h.ns);
      ip('link', 'set', h.hostEnd, 'master', BRIDGE, 'up');
      ip('netns', 'exec', h.ns, 'ip', 'addr', 'add', `${h.ip}/24`, 'dev', `${h.hostEnd}p`);
      ip('netns', 'exec', h.ns, 'ip', 'link', 'set', `${h.hostEnd}p`, 'up');
      ip('netns', 'exec', h.ns, 'ip', 'link', 'set', 'lo', 'up');
    }
    // Free ports now; a restarted replica takes its port again (its --name, not its port, is its identity).
    [natsPort, ports.a, ports.b] = [await freePort(), await freePort(), await freePort()];
    natsUrl = `nats://${HOST_IP}:${natsPort}`;
    db = new pg.Client({ connectionString: PG_URL });
    await db.connect();
    await db.query(`drop schema if exists ${schema} cascade`);

    const nats = new Proc('nats', NATS_BIN ?? 'nats-server', ['-a', HOST_IP, '-p', String(natsPort), '-js', '-sd', natsDir]);
    procs.push(nats);
    await nats.waitFor('Server is ready', 15_000);
    const target = new Proc('target', 'ip', ['netns', 'exec', TARGET.ns, process.execPath, '-e', TARGET_CODE]);
    procs.push(target);
    await target.waitFor('target ready', 15_000);

    await startReplica('a');
    await startReplica('b');
    for (const a of AGENTS) {
      procs.push(new Proc(`agent ${a.name}`, 'ip', [
        'netns', 'exec', a.ns, process.execPath, HERD_BIN, 'agent', '--nats', natsUrl, '--zone', a.zone, '--id', a.name, '--capacity', '100', '--heartbeat', '500ms',
      ]));
    }
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await api<{ agents: Array<{ id: string; healthy: boolean }> }>('a', 'GET', '/api/v1/agents');
      if (r.body.agents.filter((x) => x.healthy).length === 3) break;
      if (Date.now() > deadline) assert.fail(`agents not healthy: ${JSON.stringify(r.body)}\n${procs.map((p) => `--- ${p.name}\n${p.out}`).join('\n')}`);
      await sleep(200);
    }
  });

  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    for (const h of [...AGENTS, TARGET]) spawnSync('ip', ['netns', 'del', h.ns]);
    spawnSync('ip', ['link', 'del', BRIDGE]);
    await db?.query(`drop schema if exists ${schema} cascade`).catch(() => undefined);
    await db?.end().catch(() => undefined);
    rmSync(natsDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  // 100 iterations/s for 6 s, 67% in east (two agents), 33% in west: 600 iterations in all, as
  // `herd run` makes on one machine (the arrival-rate schedule is exact per execution segment).
  const ZONED = (rate: number, duration: string) => `
import http from 'k6/http';
export const options = {
  scenarios: { load: { executor: 'constant-arrival-rate', rate: ${rate}, timeUnit: '1s', duration: '${duration}', preAllocatedVUs: 20, maxVUs: 50 } },
  thresholds: { 'iterations{load_zone:east}': ['count>0'], 'iterations{load_zone:west}': ['count>0'] },
  cloud: { distribution: { east: { loadZone: 'east', percent: 67 }, west: { loadZone: 'west', percent: 33 } } },
};
export default function () { http.get(__ENV.TARGET + '/hit'); }
`;

  /** Follows a replica's live events (SSE) until stopped; returns the (type, runId) of each. */
  const follow = (which: 'a' | 'b'): { events: Array<{ type: string; runId: string }>; stop: () => void } => {
    const events: Array<{ type: string; runId: string }> = [];
    const controller = new AbortController();
    void (async () => {
      const res = await fetch(`http://127.0.0.1:${ports[which]}/api/v1/events`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: controller.signal });
      const decoder = new TextDecoder();
      let buffered = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const type = /^event: (\S+)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (type !== undefined && data !== undefined) events.push({ type, runId: String((JSON.parse(data) as { runId: unknown }).runId) });
        }
      }
    })().catch(() => undefined);
    return { events, stop: () => controller.abort() };
  };

  it('splits a constant-arrival-rate run 2:1 over two zones, three hosts, with the total of one machine; both replicas schedule, none twice', async () => {
    await targetCount(true);
    const followers = [follow('a'), follow('b')];
    await sleep(300);
    // Three runs at once, submitted through both replicas: each is placed exactly once.
    const runs = await Promise.all([submit('a', ZONED(100, '6s')), submit('b', ZONED(20, '3s')), submit('a', ZONED(20, '3s'))]);
    const ended = await Promise.all(runs.map((r) => waitRun('b', r.id, final, 90_000)));
    for (const r of ended) assert.equal(r.status.name, 'Finished', JSON.stringify(r.lastChange));
    for (const r of runs) {
      const placed = await db.query(`select count(*)::int as n from ${schema}.run_status_history where run_id = $1 and status_code = 1`, [r.id]);
      assert.equal(placed.rows[0].n, 1, `run ${r.id} was placed once`);
    }
    const main = runs[0] as Run;
    const m = await summaryOf(main.id);
    const iterations = count(m, 'iterations');
    assert.ok(Math.abs(iterations - 600) <= 6, `600 iterations within 1%, got ${iterations}`);
    const east = count(m, 'iterations{load_zone:east}');
    const west = count(m, 'iterations{load_zone:west}');
    assert.equal(east + west, iterations);
    assert.ok(Math.abs(east / iterations - 0.67) < 0.02 && Math.abs(west / iterations - 0.33) < 0.02, `2:1 by zone, got east ${east}, west ${west}`);
    const shares = await db.query(`select agent_id, zone from ${schema}.run_agents where run_id = $1 order by agent_id`, [main.id]);
    assert.deepEqual(shares.rows.map((r: { agent_id: string; zone: string }) => `${r.agent_id}@${r.zone}`), ['a1@east', 'a2@east', 'a3@west']);
    // Every request the target saw, for the three runs, is counted once in their summaries.
    let reqs = 0;
    for (const r of runs) reqs += count(await summaryOf(r.id), 'http_reqs');
    assert.equal(reqs, await targetCount());
    // Whichever replica led it, the followers of both saw the run's progress and its end live.
    await sleep(500);
    for (const [i, f] of followers.entries()) {
      f.stop();
      const mine = f.events.filter((e) => e.runId === main.id);
      assert.ok(mine.some((e) => e.type === 'progress'), `replica ${i === 0 ? 'a' : 'b'}'s followers saw progress: ${JSON.stringify(mine)}`);
      assert.ok(mine.filter((e) => e.type === 'status').length >= 5, `and the status changes: ${JSON.stringify(mine)}`);
    }
  });

  it('ends a run Finished with no metric batch lost or counted twice when the replica leading it is killed and restarted mid-run', async () => {
    await targetCount(true);
    const run = await submit('a', ZONED(50, '12s'));
    await waitRun('b', run.id, (r) => r.status.name === 'Running', 30_000);
    await sleep(2500);
    const lead = await db.query(`select leader_id from ${schema}.run_leads where run_id = $1`, [run.id]);
    const leader = lead.rows[0]?.leader_id === 'cp-b' ? 'b' : 'a';
    const other = leader === 'a' ? 'b' : 'a';
    await replicas[leader]?.stop('SIGKILL');
    // The survivor takes the run over once the lease (3s) lapsed; the killed one comes back later.
    const deadline = Date.now() + 15_000;
    while ((await db.query(`select leader_id from ${schema}.run_leads where run_id = $1`, [run.id])).rows[0]?.leader_id !== `cp-${other}`) {
      assert.ok(Date.now() < deadline, `cp-${other} takes the run over`);
      await sleep(200);
    }
    await startReplica(leader);
    const ended = await waitRun(other, run.id, final, 60_000);
    assert.equal(ended.status.name, 'Finished', JSON.stringify(ended.lastChange));
    const m = await summaryOf(run.id);
    assert.ok(Math.abs(count(m, 'iterations') - 600) <= 6, `600 iterations within 1%, got ${count(m, 'iterations')}`);
    assert.equal(count(m, 'http_reqs'), await targetCount(), 'each request the target saw is counted once');
    // The final summary is the one the restarted replica also reads.
    const again = await api<{ summary: { metrics: Record<string, SummaryMetric> } }>(leader, 'GET', `/api/v1/runs/${run.id}/summary`);
    assert.equal(count(again.body.summary.metrics, 'http_reqs'), count(m, 'http_reqs'));
  });

  it("ends a run Aborted by system, naming the generator, when one generator's link is cut past the grace period", async () => {
    const run = await submit('a', ZONED(20, '30s'));
    await waitRun('a', run.id, (r) => r.status.name === 'Running', 30_000);
    await sleep(1500);
    const a3 = AGENTS[2] as Host;
    ip('link', 'set', a3.hostEnd, 'down');
    try {
      const ended = await waitRun('a', run.id, final, 30_000);
      assert.equal(ended.status.name, 'Aborted by system', JSON.stringify(ended.lastChange));
      assert.equal(ended.lastChange.reason, 'agent_lost');
      assert.match(ended.lastChange.message, /load generator a3 in zone west lost/);
    } finally {
      ip('link', 'set', a3.hostEnd, 'up');
    }
  });

  it('ends a run Timed out when the links of all its generators are cut', async () => {
    // After the previous test, a3 must be back (healthy) before a run can use all three.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await api<{ agents: Array<{ id: string; healthy: boolean }> }>('a', 'GET', '/api/v1/agents');
      if (r.body.agents.filter((x) => x.healthy).length === 3) break;
      assert.ok(Date.now() < deadline, `all agents healthy again: ${JSON.stringify(r.body)}`);
      await sleep(200);
    }
    const run = await submit('a', ZONED(20, '30s'));
    await waitRun('a', run.id, (r) => r.status.name === 'Running', 30_000);
    await sleep(1500);
    for (const a of AGENTS) ip('link', 'set', a.hostEnd, 'down');
    try {
      const ended = await waitRun('a', run.id, final, 30_000);
      assert.equal(ended.status.name, 'Timed out', JSON.stringify(ended.lastChange));
      assert.equal(ended.lastChange.reason, 'run_timeout');
    } finally {
      for (const a of AGENTS) ip('link', 'set', a.hostEnd, 'up');
    }
  });
});
