// End-to-end over NATS: a real `herd server --nats … --no-agent`, two standalone
// `herd agent --nats …` processes in zone local, the demo target and the real `herd cloud run`
// (issue 6, item 2). Needs the NATS server with JetStream at 127.0.0.1:4222; skipped without it
// unless CI=true. Its own subject prefix and stream (deleted at the end) keep it apart from
// other runs on the same NATS server.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from 'nats';
import { natsStreamName } from '../src/cloud/transport/nats-subjects.js';
import { startTarget, type RunningTarget } from '../src/target/index.js';
import { runHerd, spawnHerd, tempDir, waitForText } from './helpers/herd-process.js';
import { freePort } from './helpers/herd-server.js';
import { tcpReachable } from './helpers/reachable.js';

const NATS_URL = 'nats://127.0.0.1:4222';
const ADMIN_TOKEN = 'secret';

const reachable = await tcpReachable('127.0.0.1', 4222);
const SKIP = !reachable && process.env['CI'] !== 'true'
  ? 'no NATS server at 127.0.0.1:4222 (start one with `nats-server -js`; CI=true runs this test regardless)'
  : false;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Proc = ReturnType<typeof spawnHerd>;
const show = (name: string, p: { output: { stdout: string; stderr: string } }) => `--- ${name} stdout\n${p.output.stdout}\n--- ${name} stderr\n${p.output.stderr}`;

async function stop(p: Proc | undefined): Promise<void> {
  if (p === undefined || p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGINT');
  const killer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
  await p.done.catch(() => undefined);
  clearTimeout(killer);
}

describe('herd server and agents over NATS', { skip: SKIP }, () => {
  const prefix = `herde2e_${process.pid}_${randomUUID().slice(0, 8)}`;
  const nats = ['--nats', NATS_URL, '--nats-prefix', prefix];
  let server: Proc | undefined;
  const agents: Proc[] = [];
  let target: RunningTarget | undefined;
  let url = '';

  const api = async <T>(p: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(new URL(p, url), { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    return { status: res.status, body: (await res.json()) as T };
  };

  before(async () => {
    target = await startTarget({ port: 0 });
    const port = await freePort();
    const dataDir = mkdtempSync(path.join(tmpdir(), 'herd-nats-'));
    server = spawnHerd([
      'server', '--port', String(port), '--data-dir', dataDir, '--no-agent', ...nats,
      '--launch-timeout', '5s', '--agent-grace', '5s', '--run-timeout', '10s', '--heartbeat', '500ms',
    ], { env: { HERD_ADMIN_TOKEN: ADMIN_TOKEN }, timeoutMs: 30 * 60_000 });
    const srv = server;
    await waitForText(() => srv.output.stdout, 'herd server listening on', 20_000).catch((e: Error) => assert.fail(`${e.message}\n${show('server', srv)}`));
    url = /herd server listening on (\S+)/.exec(srv.output.stdout)?.[1] ?? '';
    for (const id of ['nats-e2e-1', 'nats-e2e-2']) {
      agents.push(spawnHerd(['agent', ...nats, '--zone', 'local', '--capacity', '10', '--id', id, '--heartbeat', '500ms'], { timeoutMs: 30 * 60_000 }));
    }
    // Both agents registered over NATS and heartbeating.
    const deadline = performance.now() + 20_000;
    for (;;) {
      const r = await api<{ agents: Array<{ id: string; healthy: boolean }> }>('/api/v1/agents');
      const healthy = r.body.agents.filter((a) => a.healthy).map((a) => a.id).sort();
      if (healthy.join() === 'nats-e2e-1,nats-e2e-2') break;
      if (performance.now() > deadline) {
        assert.fail(`agents not healthy: ${JSON.stringify(r.body)}\n${show('server', srv)}\n${agents.map((a, i) => show(`agent ${i + 1}`, a)).join('\n')}`);
      }
      await sleep(100);
    }
  });

  after(async () => {
    await Promise.all(agents.map(stop));
    await stop(server);
    await target?.close();
    const nc = await connect({ servers: NATS_URL });
    try {
      await (await nc.jetstreamManager()).streams.delete(natsStreamName(prefix)).catch(() => undefined);
    } finally {
      await nc.close();
    }
  });

  it('runs a constant-vus test on both agents to Finished, and the iterations of both add up in the summary', async () => {
    const dir = tempDir({
      'script.js': `
import http from 'k6/http';
import { check, sleep } from 'k6';
export const options = { scenarios: { steady: { executor: 'constant-vus', vus: 4, duration: '3s' } } };
export default function () {
  const res = http.get(\`\${__ENV.TARGET}/get\`);
  check(res, { 'status is 200': (r) => r.status === 200 });
  sleep(0.5);
}
`,
    });
    const r = await runHerd(['cloud', 'run', '-e', `TARGET=${target?.url ?? ''}`, path.join(dir, 'script.js')], {
      env: { HERD_HOST: url, HERD_TOKEN: ADMIN_TOKEN }, timeoutMs: 60_000,
    });
    const all = `exit ${r.code}\n--- cloud stdout\n${r.stdout}\n--- cloud stderr\n${r.stderr}\n${server === undefined ? '' : show('server', server)}`;
    assert.equal(r.code, 0, all);
    assert.match(r.stdout, /^Finished \(3\)/m, all);
    const id = /^run (\S+): /m.exec(r.stdout)?.[1];
    assert.ok(id !== undefined, all);

    const history = await api<{ changes: Array<{ reason: string; message: string }> }>(`/api/v1/runs/${id}/history`);
    const started = history.body.changes.find((c) => c.reason === 'started');
    assert.match(started?.message ?? '', /^started on 2 load generators /, JSON.stringify(history.body));

    const summary = await api<{ summary: { metrics: Record<string, { values: Record<string, number> }> } }>(`/api/v1/runs/${id}/summary`);
    assert.equal(summary.status, 200);
    const value = (metric: string, v: string): number | undefined => summary.body.summary.metrics[metric]?.values[v];
    const iterations = value('iterations', 'count') ?? 0;
    // 4 VUs for 3 s, one request and 0.5 s of sleep per iteration: 6 each when nothing is slow.
    assert.ok(iterations >= 12 && iterations <= 32, `iterations ${iterations}`);
    assert.equal(value('http_reqs', 'count'), iterations, 'one request per iteration, from both agents');
    assert.equal(value('checks', 'passes'), iterations);
    assert.equal(value('checks', 'fails'), 0);
  });

  it("sends a second of thousands of series in parts under NATS's message limit, and the run gets all of them", async () => {
    // 3,000 URLs in one second: a period's batch of every http_req_* series is several MB of
    // JSON, over NATS's 1 MiB max_payload, so the agent must cut it into parts.
    const dir = tempDir({
      'script.js': `
import http from 'k6/http';
export const options = { scenarios: { burst: { executor: 'shared-iterations', vus: 2, iterations: 2 } } };
export default function () {
  // Grouped by name (within the series limit), each URL still its own series in the batches.
  for (let i = 0; i < 1500; i++) http.get(\`\${__ENV.TARGET}/get?vu=\${__VU}&i=\${i}\`, { tags: { name: 'burst' } });
}
`,
    });
    const r = await runHerd(['cloud', 'run', '-e', `TARGET=${target?.url ?? ''}`, path.join(dir, 'script.js')], {
      env: { HERD_HOST: url, HERD_TOKEN: ADMIN_TOKEN }, timeoutMs: 90_000,
    });
    const all = `exit ${r.code}\n--- cloud stdout\n${r.stdout}\n--- cloud stderr\n${r.stderr}\n${server === undefined ? '' : show('server', server)}`;
    assert.equal(r.code, 0, all);
    const id = /^run (\S+): /m.exec(r.stdout)?.[1];
    const summary = await api<{ summary: { metrics: Record<string, { values: Record<string, number> }> } }>(`/api/v1/runs/${id ?? ''}/summary`);
    assert.equal(summary.body.summary.metrics['http_reqs']?.values['count'], 3000, all);
    assert.equal(summary.body.summary.metrics['iterations']?.values['count'], 2);
  });
});
