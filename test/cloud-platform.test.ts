// End-to-end: the platform around the runs, through a real `herd server`: tokens and
// organization isolation (issue 4 item 10), queueing past an organization's concurrency limit
// (item 6), the same threshold results through `herd run` and `herd cloud run` on entries of
// the k6 compatibility corpus (item 11), and a second server on the same data directory
// resuming (item 1).
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startTarget, type RunningTarget } from '../src/target/index.js';
import { readSummary, runHerd, tempDir } from './helpers/herd-process.js';
import {
  codesOf, isAlive, packScript, runIdOf, scriptDir, startHerdServer, STATUS, type ApiRun, type ApiThreshold, type HerdServer,
} from './helpers/herd-server.js';

/** The k6 compatibility corpus (../shared/compat from the project root; this file runs from dist/test/). */
const COMPAT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'compat');

let server: HerdServer;
let target: RunningTarget;

before(async () => {
  [server, target] = await Promise.all([startHerdServer(), startTarget({ port: 0 })]);
});
after(async () => {
  await Promise.allSettled([server?.stop(), target?.close()]);
});

const show = (r: { code: number | null; stdout: string; stderr: string }) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

const QUICK = `import { sleep } from 'k6';
export const options = { vus: 1, iterations: 2 };
export default function () { sleep(0.1); }
`;

describe('tokens and organizations', () => {
  let run: ApiRun;
  let other: { orgId: string; token: string; projectId: string };
  let firstOrgId: string;

  before(async () => {
    const r = await server.submit(await packScript(QUICK));
    assert.equal(r.status, 201, JSON.stringify(r.body));
    run = await server.waitEnded(r.body.id);
    other = await server.createOrg('other');
    const orgs = await server.api<{ organizations: Array<{ id: string }> }>('GET', '/api/v1/organizations');
    firstOrgId = orgs.body.organizations[0]!.id;
  });

  it('every endpoint answers 401 without a token or with a wrong one', async () => {
    const paths: Array<[string, string]> = [
      ['GET', '/api/v1/runs'], ['GET', `/api/v1/runs/${run.id}`], ['GET', `/api/v1/runs/${run.id}/history`],
      ['GET', `/api/v1/runs/${run.id}/summary`], ['GET', `/api/v1/runs/${run.id}/thresholds`], ['POST', `/api/v1/runs/${run.id}/abort`],
      ['GET', '/api/v1/usage'], ['GET', '/api/v1/agents'], ['GET', '/api/v1/projects'], ['GET', '/api/v1/events'],
      ['POST', '/api/v1/organizations'],
    ];
    for (const [method, p] of paths) {
      for (const token of [null, 'not-a-token']) {
        const r = await server.api(method, p, { token, ...(method === 'POST' && p.endsWith('organizations') ? { json: { name: 'x' } } : {}) });
        assert.equal(r.status, 401, `${method} ${p} with ${token ?? 'no token'}: ${r.status} ${JSON.stringify(r.body)}`);
      }
    }
    // Uploading a run without a token is refused too, and creates nothing.
    const count = async () => (await server.api<{ runs: ApiRun[] }>('GET', '/api/v1/runs?limit=100')).body.runs.length;
    const runsBefore = await count();
    const form = new FormData();
    form.set('projectId', run.projectId);
    form.set('testName', 'anonymous');
    form.set('archive', new Blob([await packScript(QUICK)]), 'archive.tar.gz');
    const upload = await fetch(new URL('/api/v1/runs', server.url), { method: 'POST', body: form });
    assert.equal(upload.status, 401);
    assert.equal(await count(), runsBefore, 'no run was created by the anonymous upload');
  });

  it("another organization gets 404 for the first organization's run, its history, results, abort and usage", async () => {
    const token = other.token;
    for (const p of [`/api/v1/runs/${run.id}`, `/api/v1/runs/${run.id}/history`, `/api/v1/runs/${run.id}/summary`,
      `/api/v1/runs/${run.id}/thresholds`, `/api/v1/runs/${run.id}/metrics/http_reqs`, `/api/v1/runs/${run.id}/warnings`,
      `/api/v1/usage?projectId=${run.projectId}`, `/api/v1/projects/${run.projectId}`, `/api/v1/organizations/${firstOrgId}`]) {
      const r = await server.api('GET', p, { token });
      assert.equal(r.status, 404, `GET ${p}: ${r.status} ${JSON.stringify(r.body)}`);
      assert.doesNotMatch(JSON.stringify(r.body), /Finished/, 'nothing of the run leaks');
    }
    const abort = await server.api('POST', `/api/v1/runs/${run.id}/abort`, { token });
    assert.equal(abort.status, 404);
    assert.equal((await server.getRun(run.id)).status.code, STATUS.Finished, 'the run is untouched');
    // Its own lists and usage hold nothing of the first organization.
    const list = await server.api<{ runs: ApiRun[] }>('GET', '/api/v1/runs', { token });
    assert.deepEqual(list.body.runs, []);
    const usage = await server.api<{ vuHours: number; runs: number }>('GET', '/api/v1/usage', { token });
    assert.equal(usage.status, 200);
    assert.deepEqual([usage.body.vuHours, usage.body.runs], [0, 0]);
    // Submitting into the first organization's project is a 404 as well.
    const foreign = await server.submit(await packScript(QUICK), { token, projectId: run.projectId });
    assert.equal(foreign.status, 404, JSON.stringify(foreign.body));
    // And the CLI says so.
    const status = await server.cloud(['status', run.id], { token });
    assert.notEqual(status.code, 0, show(status));
    assert.match(status.stderr, /not found|404|does not exist/i);
    // The first organization still sees its run.
    const mine = await server.cloud(['status', run.id]);
    assert.equal(mine.code, 0, show(mine));
    assert.match(mine.stdout, /Finished \(3\)/);
  });
});

describe('queueing', () => {
  it("runs beyond the organization's concurrency limit wait in Queued, in order, and start when the first ends", async () => {
    const org = await server.createOrg('one at a time', { maxConcurrentRuns: 1 });
    const o = { token: org.token, projectId: org.projectId };
    const [archiveA, archiveB, archiveC] = await Promise.all([
      packScript(`import { sleep } from 'k6';
export const options = { vus: 1, duration: '3s' };
export default function () { sleep(0.1); }
`),
      packScript(QUICK),
      packScript(QUICK),
    ]);
    const a = (await server.submit(archiveA, o)).body;
    const b = (await server.submit(archiveB, o)).body;
    const c = (await server.submit(archiveC, o)).body;
    await server.waitRun(a.id, (r) => r.status.code === STATUS.Running, 20_000, org.token);
    // While the first runs, the others wait.
    for (let i = 0; i < 5; i++) {
      const [rb, rc] = await Promise.all([server.getRun(b.id, org.token), server.getRun(c.id, org.token)]);
      assert.equal(rb.status.code, STATUS.Queued, `second run: ${JSON.stringify(rb.lastChange)}`);
      assert.equal(rc.status.code, STATUS.Queued, `third run: ${JSON.stringify(rc.lastChange)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const [ra, rb, rc] = await Promise.all([a, b, c].map((x) => server.waitEnded(x.id, 40_000, org.token)));
    for (const r of [ra!, rb!, rc!]) assert.equal(r.status.code, STATUS.Finished, JSON.stringify(r.lastChange));
    const initAt = async (id: string) => {
      const h = await server.history(id, org.token);
      assert.deepEqual(codesOf(h), [STATUS.Created, STATUS.Validated, STATUS.Queued, STATUS.Initializing, STATUS.Running, STATUS.Finished]);
      return Date.parse(h.find((x) => x.status.code === STATUS.Initializing)!.at);
    };
    const [ia, ib, ic] = [await initAt(a.id), await initAt(b.id), await initAt(c.id)];
    assert.ok(ib >= Date.parse(ra!.endedAt!), 'the second starts after the first ended');
    assert.ok(ic >= Date.parse(rb!.endedAt!), 'the third starts after the second ended (in order)');
    assert.ok(ia < ib && ib < ic);
  });
});

interface LocalSummary {
  metrics: Record<string, { values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }>;
}

/** `metric expression passed` of every threshold in a local summary, sorted. */
function localThresholds(summary: LocalSummary): string[] {
  const out: string[] = [];
  for (const [metric, m] of Object.entries(summary.metrics)) {
    for (const [expr, t] of Object.entries(m.thresholds ?? {})) out.push(`${metric} ${expr} ${t.ok}`);
  }
  return out.sort();
}

describe('parity of herd run and herd cloud run on the compatibility corpus', { concurrency: 2 }, () => {
  for (const [file, exit] of [['thresholds_pass.js', 0], ['thresholds_fail.js', 99], ['custom_metrics.js', 0], ['groups_checks.js', 0]] as const) {
    it(`${file} gives the same threshold results and exit code (${exit}) locally and in the cloud`, async () => {
      const out = path.join(tempDir(), 'summary.json');
      const [local, cloud] = await Promise.all([
        runHerd(['run', '-q', file], { cwd: COMPAT, env: { TARGET: target.url, SUMMARY_JSON: out }, timeoutMs: 60_000 }),
        server.cloud(['run', '-q', '-e', `TARGET=${target.url}`, file], { cwd: COMPAT, timeoutMs: 60_000 }),
      ]);
      assert.equal(local.code, exit, show(local));
      assert.equal(cloud.code, exit, show(cloud));
      const id = runIdOf(cloud.stdout);
      const run = await server.getRun(id);
      assert.equal(run.status.code, STATUS.Finished, JSON.stringify(run.lastChange));
      assert.equal(run.result, exit === 0 ? 'passed' : 'failed');
      const summary = readSummary(out) as unknown as LocalSummary;
      const th = await server.api<{ thresholds: ApiThreshold[] }>('GET', `/api/v1/runs/${id}/thresholds`);
      const cloudThresholds = th.body.thresholds.map((t) => `${t.metric} ${t.expression} ${t.passed}`).sort();
      const expected = localThresholds(summary);
      assert.ok(expected.length > 0, 'the script has thresholds');
      assert.deepEqual(cloudThresholds, expected);
      // The cloud summary agrees on the counts these thresholds are about.
      const cs = await server.api<{ summary: LocalSummary }>('GET', `/api/v1/runs/${id}/summary`);
      for (const [metric, value] of [['iterations', 'count'], ['http_reqs', 'count'], ['checks', 'passes'], ['checks', 'fails']] as const) {
        assert.equal(cs.body.summary.metrics[metric]?.values[value], summary.metrics[metric]?.values[value], `${metric}.${value}`);
      }
    });
  }
});

describe('a second herd server on the same data directory', () => {
  it('resumes: old runs are still listed, a run left Running is taken back and ends Aborted by system (its generator restarted), and a new run works', async () => {
    const done = await server.submit(await packScript(QUICK));
    const finished = await server.waitEnded(done.body.id);
    assert.equal(finished.status.code, STATUS.Finished);
    const long = await server.submit(await packScript(`import { sleep } from 'k6';
export const options = { vus: 1, duration: '60s' };
export default function () { sleep(0.1); }
`));
    await server.waitRun(long.body.id, (r) => r.status.code === STATUS.Running);
    const before = await server.api<{ runs: ApiRun[] }>('GET', '/api/v1/runs?limit=100');
    const agentPid = server.agentPid;

    const stopped = await server.stop();
    assert.equal(stopped.code, 0, show(stopped));
    assert.match(stopped.stderr, /stopping herd server/);
    for (let i = 0; i < 50 && isAlive(agentPid); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(!isAlive(agentPid), 'the embedded agent stopped with the server');

    server = await startHerdServer({ dataDir: server.dataDir });
    const after = await server.api<{ runs: ApiRun[] }>('GET', '/api/v1/runs?limit=100');
    assert.equal(after.status, 200);
    assert.deepEqual(after.body.runs.map((r) => r.id), before.body.runs.map((r) => r.id), 'the same runs, newest first');
    assert.equal((await server.getRun(finished.id)).status.code, STATUS.Finished);
    const ls = await server.cloud(['ls', '--limit', '100']);
    assert.equal(ls.code, 0, show(ls));
    assert.match(ls.stdout, new RegExp(`^\\s*${finished.id}\\s+Finished \\(3\\)`, 'm'));

    const orphan = await server.waitEnded(long.body.id, 10_000);
    assert.equal(orphan.status.code, STATUS.AbortedBySystem, JSON.stringify(orphan.lastChange));
    // The restarted server takes the run back (its lead was given up at the stop), and the
    // generator's share died with the old embedded process: whether the new one registers
    // within the agent grace (2s here) or not, the run ends naming the lost generator.
    assert.equal(orphan.lastChange.reason, 'agent_lost');
    assert.match(orphan.lastChange.message, /load generator local-1 in zone local lost: (it restarted during the run|nothing received from it for \S+ since this control plane took the run over)/);

    const dir = scriptDir({ 'script.js': QUICK });
    const fresh = await server.cloud(['run', '-q', path.join(dir, 'script.js')]);
    assert.equal(fresh.code, 0, show(fresh));
    const id = runIdOf(fresh.stdout);
    assert.ok(!before.body.runs.some((r) => r.id === id), 'a new run id');
    assert.equal((await server.getRun(id)).status.code, STATUS.Finished);
  });
});
