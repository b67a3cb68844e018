import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RunStatuses, type OrgId, type ProjectId } from '../../protocol/index.js';
import { decodeMetricsPush } from '../k6compat/metrics-v2.js';
import { k6PushBody } from '../k6compat/k6-push-fixtures.js';
import { openSqliteStore, type KyselyStore } from '../store/index.js';
import { createdChange } from './status-machine.js';
import { ExternalRuns } from './external-runs.js';
import { externalMarker, isExternalRun } from './external-marker.js';
import type { RunEvent } from './service.js';

const T0 = 1_764_000_000;
const requests = (t: number, n: number) => decodeMetricsPush(k6PushBody([
  { name: 'http_reqs', type: 1, series: [{ labels: { status: '200' }, counter: [{ t, value: n }] }] },
]));

let dir: string;
let store: KyselyStore;
let orgId: OrgId;
let projectId: ProjectId;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'herd-external-'));
  store = await openSqliteStore({ file: join(dir, 'herd.db') });
  const org = await store.createOrganization({ name: 'ext' });
  orgId = org.id;
  projectId = (await store.createProject(orgId, { name: 'p' })).id;
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const newRun = (name: string) => ({ projectId, testName: name, vus: 2, durationSeconds: 30, thresholds: { http_reqs: ['count>100'] }, via: 'k6 run --out cloud' });

describe('ExternalRuns', () => {
  it('ends a run that receives nothing for the run timeout as Timed out, keeping what it received', async () => {
    let now = 1_000_000;
    const events: RunEvent[] = [];
    const runs = new ExternalRuns({ store, now: () => now, runTimeoutMs: 60_000, emit: (e) => events.push(e) });
    const run = await runs.create(orgId, newRun('silent'));
    assert.deepEqual(events.map((e) => e.type === 'status' ? e.status.name : e.type), ['Created', 'Validated', 'Running']);
    assert.equal((await runs.push(orgId, run.id, requests(T0, 40), 'a')).outcome, 'merged');
    const progress = events.at(-1);
    assert.ok(progress?.type === 'progress', JSON.stringify(progress));
    assert.equal(progress.rps, 40 / 3);
    assert.equal(progress.vusMax, 2);
    now += 59_999;
    await runs.tick();
    assert.equal((await store.getRun(orgId, run.id))?.status.name, 'Running');
    assert.equal((await runs.push(orgId, run.id, requests(T0 + 3, 2), 'b')).outcome, 'merged');
    now += 59_999;
    await runs.tick();
    assert.equal((await store.getRun(orgId, run.id))?.status.name, 'Running', 'the push reset the clock');
    now += 1;
    await runs.tick();
    const ended = await store.getRun(orgId, run.id);
    assert.deepEqual([ended?.status.name, ended?.lastChange.reason], ['Timed out', 'run_timeout']);
    assert.match(ended?.lastChange.message ?? '', /nothing was received from k6 for 60s \(run timeout 60s\)/);
    const last = events.at(-1);
    assert.ok(last?.type === 'status' && last.runId === run.id && last.status.name === 'Timed out');
    const summary = await store.getRunSummary(run.id) as { metrics: Record<string, { values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }> };
    assert.equal(summary.metrics['http_reqs']?.values['count'], 42);
    assert.deepEqual(summary.metrics['http_reqs']?.thresholds, { 'count>100': { ok: false } });
    assert.deepEqual((await store.listThresholdResults(orgId, run.id))?.map((t) => [t.metric, t.expression, t.passed]), [['http_reqs', 'count>100', false]]);
    assert.equal((await runs.push(orgId, run.id, requests(T0 + 6, 1), 'c')).outcome, 'ended');
    await runs.close();
  });

  it('with two control-plane replicas, one that gets no pushes does not time the run out, and the finish counts every push', async () => {
    let now = 2_000_000;
    const a = new ExternalRuns({ store, now: () => now, runTimeoutMs: 60_000 });
    const b = new ExternalRuns({ store, now: () => now, runTimeoutMs: 60_000 });
    const run = await a.create(orgId, newRun('two-replicas'));
    await b.start(); // b knows the run from the store, and hears nothing from k6 itself
    await b.push(orgId, run.id, requests(T0, 5), 'first');
    for (let i = 1; i <= 3; i++) {
      now += 30_000;
      assert.equal((await a.push(orgId, run.id, requests(T0 + 3 * i, 10), `a${i}`)).outcome, 'merged');
      await b.tick();
      assert.equal((await store.getRun(orgId, run.id))?.status.name, 'Running', `b sees a's pushes in the store (${i})`);
    }
    // k6 finishes through b, which got one push of four.
    const ended = await b.finish(orgId, run.id, { status: RunStatuses.Finished, reason: 'completed', message: 'k6 finished', thresholds: {}, resultFailed: false });
    assert.equal(ended.status.name, 'Finished');
    const summary = await store.getRunSummary(run.id) as { metrics: Record<string, { values: Record<string, number> }> };
    assert.equal(summary.metrics['http_reqs']?.values['count'], 35);
    await a.close();
    await b.close();
  });

  it('after a restart, rebuilds a run from its stored pushes and still recognises a retried push', async () => {
    const first = new ExternalRuns({ store });
    const run = await first.create(orgId, newRun('restarted'));
    await first.push(orgId, run.id, requests(T0, 70), 'key-1');
    await first.push(orgId, run.id, requests(T0 + 3, 20), 'key-2');
    await first.close();

    const second = new ExternalRuns({ store });
    await second.start();
    assert.equal((await second.push(orgId, run.id, requests(T0 + 3, 20), 'key-2')).outcome, 'duplicate');
    assert.equal((await second.push(orgId, run.id, requests(T0 + 6, 15), 'key-3')).outcome, 'merged');
    const ended = await second.finish(orgId, run.id, {
      status: RunStatuses.Finished, reason: 'completed', message: 'k6 reported the test finished', thresholds: {}, resultFailed: false,
    });
    assert.deepEqual([ended.status.name, ended.result], ['Finished', 'passed']);
    const summary = await store.getRunSummary(run.id) as { metrics: Record<string, { values: Record<string, number> }> };
    assert.equal(summary.metrics['http_reqs']?.values['count'], 105);
    const points = await store.listMetricPoints(run.id, 'http_reqs');
    assert.deepEqual(points.map((p) => p.values['count']), [70, 20, 15]);
    await second.close();
  });

  it('counts a push whose points write failed once; its retry (same key) is a duplicate and not counted again', async () => {
    let failPoints = false;
    const flaky = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'putMetricPoints' && failPoints) {
          return async () => {
            failPoints = false;
            throw new Error('database is locked');
          };
        }
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const runs = new ExternalRuns({ store: flaky });
    const run = await runs.create(orgId, newRun('flaky'));
    await runs.push(orgId, run.id, requests(T0, 10), 'p1');
    failPoints = true;
    await assert.rejects(runs.push(orgId, run.id, requests(T0 + 3, 5), 'p2'), /database is locked/);
    assert.equal((await runs.push(orgId, run.id, requests(T0 + 3, 5), 'p2')).outcome, 'duplicate');
    await runs.finish(orgId, run.id, { status: RunStatuses.Finished, reason: 'completed', message: 'done', thresholds: {}, resultFailed: false });
    const summary = await store.getRunSummary(run.id) as { metrics: Record<string, { values: Record<string, number> }> };
    assert.equal(summary.metrics['http_reqs']?.values['count'], 15);
    await runs.close();
  });

  it('takes over an external run a dead process left before Running, and leaves herd runs alone', async () => {
    const test = await store.createTest(orgId, { projectId, name: 'half-made' });
    const archive = await store.putArchive(orgId, test.id, new Uint8Array([1]));
    const base = { testId: test.id, archiveId: archive.id, vus: 1, durationSeconds: 10, distribution: { external: { loadZone: 'external', percent: 100 } }, created: createdChange(new Date()) };
    const external = await store.createRun(orgId, { ...base, options: { ...externalMarker('k6 run --out cloud') } });
    const herdRun = await store.createRun(orgId, { ...base, options: { vus: 1 } });
    assert.equal(isExternalRun(external), true);
    assert.equal(isExternalRun(herdRun), false);
    const runs = new ExternalRuns({ store });
    await runs.start();
    assert.equal((await store.getRun(orgId, external.id))?.status.name, 'Running');
    assert.equal((await store.getRun(orgId, herdRun.id))?.status.name, 'Created');
    await runs.close();
  });

  it('refuses a push to a run herd executes, and to a run the organization cannot see', async () => {
    const runs = new ExternalRuns({ store });
    const test = await store.createTest(orgId, { projectId, name: 'herd-run' });
    const archive = await store.putArchive(orgId, test.id, new Uint8Array([1]));
    const herdRun = await store.createRun(orgId, {
      testId: test.id, archiveId: archive.id, options: {}, vus: 1, durationSeconds: 10,
      distribution: { local: { loadZone: 'local', percent: 100 } }, created: createdChange(new Date()),
    });
    await assert.rejects(runs.push(orgId, herdRun.id, requests(T0, 1), 'x'), { code: 'status_conflict' });
    const other = await store.createOrganization({ name: 'other' });
    await assert.rejects(runs.push(other.id, herdRun.id, requests(T0, 1), 'x'), { code: 'not_found' });
    await runs.close();
  });
});
