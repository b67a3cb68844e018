import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RunStatuses } from '../../protocol/index.js';
import type { StoredRun } from '../store/index.js';
import { bearer, type Harness, multipartBody, startHarness } from './test-harness.js';

describe('organization isolation', () => {
  let h: Harness;
  let runOfA: StoredRun;
  before(async () => {
    h = await startHarness();
    runOfA = await h.makeRun(h.a, { testName: 'checkout' });
  });
  after(async () => {
    await h.close();
  });

  const asB = (url: string, method: 'GET' | 'POST' | 'DELETE' = 'GET') => h.app.inject({ method, url, headers: bearer(h.b.adminSecret) });

  it("answers 404, never 403, for every read of another organization's run", async () => {
    for (const path of ['', '/history', '/summary', '/thresholds', '/warnings', '/metrics/http_reqs']) {
      const res = await asB(`/api/v1/runs/${runOfA.id}${path}`);
      assert.equal(res.statusCode, 404, path);
      assert.deepEqual(res.json(), { error: { code: 'not_found', message: `run ${runOfA.id} does not exist or belongs to another organization` } }, path);
    }
  });

  it("does not abort another organization's run", async () => {
    const res = await asB(`/api/v1/runs/${runOfA.id}/abort`, 'POST');
    assert.equal(res.statusCode, 404);
    assert.deepEqual((await h.store.getRun(h.a.org.id, runOfA.id))?.status, RunStatuses.Created);
  });

  it("answers 404 for another organization's test, project and organization", async () => {
    assert.equal((await asB(`/api/v1/tests/${runOfA.testId}`)).statusCode, 404);
    assert.equal((await asB(`/api/v1/tests/${runOfA.testId}/runs`, 'POST')).statusCode, 404);
    assert.equal((await asB(`/api/v1/projects/${h.a.project.id}`)).statusCode, 404);
    assert.equal((await asB(`/api/v1/organizations/${h.a.org.id}`)).statusCode, 404);
    const created = await h.app.inject({
      method: 'POST', url: '/api/v1/tests', headers: bearer(h.b.adminSecret), payload: { projectId: h.a.project.id, name: 'sneaky' },
    });
    assert.equal(created.statusCode, 404);
  });

  it("does not store an archive into another organization's test", async () => {
    const mp = multipartBody({}, { name: 'archive', bytes: new Uint8Array([1]) });
    const res = await h.app.inject({
      method: 'POST', url: `/api/v1/tests/${runOfA.testId}/archives`, headers: { ...bearer(h.b.adminSecret), ...mp.headers }, payload: mp.payload,
    });
    assert.equal(res.statusCode, 404);
    assert.equal((await h.store.getTest(h.a.org.id, runOfA.testId))?.latestArchive?.id, runOfA.archiveId);
  });

  it("does not submit a run into another organization's project or test", async () => {
    const intoProject = multipartBody({ projectId: h.a.project.id, testName: 'x' }, { name: 'archive', bytes: new Uint8Array([1]) });
    const r1 = await h.app.inject({ method: 'POST', url: '/api/v1/runs', headers: { ...bearer(h.b.adminSecret), ...intoProject.headers }, payload: intoProject.payload });
    assert.equal(r1.statusCode, 404);
    const intoTest = multipartBody({ projectId: h.b.project.id, testId: runOfA.testId }, { name: 'archive', bytes: new Uint8Array([1]) });
    const r2 = await h.app.inject({ method: 'POST', url: '/api/v1/runs', headers: { ...bearer(h.b.adminSecret), ...intoTest.headers }, payload: intoTest.payload });
    assert.equal(r2.statusCode, 404);
    assert.equal(h.runs.calls.filter((c) => c.method === 'submit').length, 0);
  });

  it("answers 404 for usage of another organization's project and counts only the caller's runs", async () => {
    assert.equal((await asB(`/api/v1/usage?projectId=${h.a.project.id}`)).statusCode, 404);
    const month = new Date().toISOString().slice(0, 7);
    await h.store.recordUsage({ runId: runOfA.id, projectId: h.a.project.id, month, vuHours: 2.5 });
    const mine = await h.app.inject({ url: `/api/v1/usage?month=${month}`, headers: bearer(h.a.memberSecret) });
    assert.equal(mine.json().vuHours, 2.5);
    const theirs = await asB(`/api/v1/usage?month=${month}`);
    assert.equal(theirs.statusCode, 200);
    assert.equal(theirs.json().vuHours, 0);
    assert.equal(theirs.json().orgId, h.b.org.id);
  });

  it("lists none of another organization's runs, tests, projects or tokens", async () => {
    const lists = {
      runs: (await asB('/api/v1/runs')).json().runs,
      tests: (await asB('/api/v1/tests')).json().tests,
      projects: (await asB('/api/v1/projects')).json().projects.map((p: { id: string }) => p.id),
      tokens: (await asB('/api/v1/tokens')).json().tokens.map((t: { orgId: string }) => t.orgId),
    };
    assert.deepEqual(lists.runs, []);
    assert.deepEqual(lists.tests, []);
    assert.deepEqual(lists.projects, [h.b.project.id]);
    assert.ok(lists.tokens.every((orgId: string) => orgId === h.b.org.id));
  });
});
