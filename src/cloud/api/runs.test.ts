import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { agentIdSchema, runHistorySchema, runListSchema, runSchema, RunStatuses } from '../../protocol/index.js';
import { bearer, type Harness, multipartBody, startHarness } from './test-harness.js';

describe('runs', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  const get = (url: string) => h.app.inject({ url, headers: bearer(h.a.memberSecret) });

  it('delivers a multipart archive to RunService.submit with every byte intact', async () => {
    // Random bytes plus CRLF and a boundary-like line: what a careless parser would mangle.
    const bytes = new Uint8Array(Buffer.concat([randomBytes(200_000), Buffer.from('\r\n------herdtest\r\n'), randomBytes(1000)]));
    const mp = multipartBody({ projectId: h.a.project.id, testName: 'upload' }, { name: 'archive', bytes });
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/runs', headers: { ...bearer(h.a.memberSecret), ...mp.headers }, payload: mp.payload });
    assert.equal(res.statusCode, 201);
    const call = h.runs.calls.find((c) => c.method === 'submit');
    assert.ok(call?.method === 'submit');
    assert.equal(call.orgId, h.a.org.id);
    assert.equal(call.input.projectId, h.a.project.id);
    assert.equal(call.input.testName, 'upload');
    assert.equal(call.input.testId, undefined);
    assert.ok(Buffer.from(call.input.archive).equals(Buffer.from(bytes)));
    // The answer is a Run exactly (the fake returns the stored row: the API strips it).
    const run = runSchema.parse(res.json());
    assert.equal(res.headers.location, `/api/v1/runs/${run.id}`);
    assert.deepEqual(Object.keys(res.json()).sort(), Object.keys(runSchema.shape).sort());
  });

  it('submits a run of an existing test by its id', async () => {
    const test = await h.store.createTest(h.a.org.id, { projectId: h.a.project.id, name: 'by id' });
    const mp = multipartBody({ projectId: h.a.project.id, testId: test.id }, { name: 'archive', bytes: new Uint8Array([7]) });
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/runs', headers: { ...bearer(h.a.memberSecret), ...mp.headers }, payload: mp.payload });
    assert.equal(res.statusCode, 201);
    assert.equal(res.json().testId, test.id);
  });

  it("starts a run of a test's latest archive with those bytes", async () => {
    const made = await h.makeRun(h.a, { testName: 'rerun' });
    const before = h.runs.calls.length;
    const res = await h.app.inject({ method: 'POST', url: `/api/v1/tests/${made.testId}/runs`, headers: bearer(h.a.memberSecret) });
    assert.equal(res.statusCode, 201);
    const call = h.runs.calls[before];
    assert.ok(call?.method === 'submit');
    assert.equal(call.input.testId, made.testId);
    assert.deepEqual([...call.input.archive], [1, 2, 3]);
  });

  it('answers 409 when a test has no archive to run', async () => {
    const test = await h.store.createTest(h.a.org.id, { projectId: h.a.project.id, name: 'empty' });
    const res = await h.app.inject({ method: 'POST', url: `/api/v1/tests/${test.id}/runs`, headers: bearer(h.a.memberSecret) });
    assert.equal(res.statusCode, 409);
    assert.equal(res.json().error.hint, `upload one first: POST /api/v1/tests/${test.id}/archives`);
  });

  it('filters the runs list by status codes, test and project', async () => {
    const queued = await h.makeRun(h.a, { testName: 'filters', to: [RunStatuses.Validated, RunStatuses.Queued] });
    const limited = await h.makeRun(h.a, { testName: 'filters', to: [RunStatuses.AbortedByLimit] });
    const other = await h.makeRun(h.a, { testName: 'other test' });
    const ids = async (q: string) => runListSchema.parse((await get(`/api/v1/runs?${q}`)).json()).runs.map((r) => r.id);

    assert.deepEqual(await ids('status=0'), [queued.id]);
    assert.deepEqual(await ids('status=0,9'), [limited.id, queued.id]);
    assert.deepEqual(await ids(`testId=${queued.testId}`), [limited.id, queued.id]);
    assert.ok((await ids(`testId=${other.testId}`)).every((id) => id === other.id));
    assert.ok((await ids(`projectId=${h.a.project.id}`)).includes(other.id));
    const run = runListSchema.parse((await get('/api/v1/runs?status=9')).json()).runs[0];
    assert.deepEqual(run?.status, { code: 9, name: 'Aborted by limit' });
    assert.equal(run?.lastChange.reason, 'limit_vus');
  });

  it('pages through runs newest first with the before cursor', async () => {
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await h.makeRun(h.a, { testName: 'paging' }));
    const testId = made[0]?.testId ?? '';
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = runListSchema.parse((await get(`/api/v1/runs?testId=${testId}&limit=2${cursor === null ? '' : `&before=${cursor}`}`)).json());
      seen.push(...page.runs.map((r) => r.id));
      cursor = page.nextBefore;
      pages++;
    } while (cursor !== null && pages < 10);
    assert.equal(pages, 3);
    assert.deepEqual(seen, made.map((r) => r.id).reverse());
  });

  it('shows one run with its status as code and name, and its history in order', async () => {
    const run = await h.makeRun(h.a, { to: [RunStatuses.Validated, RunStatuses.Queued] });
    const one = runSchema.parse((await get(`/api/v1/runs/${run.id}`)).json());
    assert.deepEqual(one.status, { code: 0, name: 'Queued' });
    assert.equal(one.result, null);
    const history = runHistorySchema.parse((await get(`/api/v1/runs/${run.id}/history`)).json());
    assert.deepEqual(history.changes.map((c) => c.status.name), ['Created', 'Validated', 'Queued']);
  });

  it('aborts through RunService.abort and answers the run as it ends', async () => {
    const run = await h.makeRun(h.a, { to: [RunStatuses.Validated, RunStatuses.Queued] });
    const res = await h.app.inject({ method: 'POST', url: `/api/v1/runs/${run.id}/abort`, headers: bearer(h.a.memberSecret) });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(h.runs.calls.at(-1), { method: 'abort', orgId: h.a.org.id, runId: run.id });
    assert.deepEqual(runSchema.parse(res.json()).status, { code: 5, name: 'Aborted by user' });
    // As browsers' fetch sends it: a JSON content type and no body.
    const again = await h.app.inject({ method: 'POST', url: `/api/v1/runs/${run.id}/abort`, headers: { ...bearer(h.a.memberSecret), 'content-type': 'application/json' } });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error.code, 'invalid_transition');
  });

  it('passes metric name and time range to RunService.metricSeries', async () => {
    const run = await h.makeRun(h.a);
    const res = await get(`/api/v1/runs/${run.id}/metrics/${encodeURIComponent('http_req_duration{status:200}')}?from=1000&to=5000`);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(h.runs.calls.at(-1), { method: 'metricSeries', orgId: h.a.org.id, runId: run.id, metric: 'http_req_duration{status:200}', fromMs: 1000, toMs: 5000 });
    assert.deepEqual(res.json(), { runId: run.id, metric: 'http_req_duration{status:200}', points: [{ t: 1000, values: { count: 3, rate: 3 } }] });
  });

  it("answers a run's summary, thresholds and warnings", async () => {
    const run = await h.makeRun(h.a);
    await h.store.putThresholdResults(run.id, [{ metric: 'http_req_duration', expression: 'p(95)<500', passed: false, abortOnFail: true, evaluatedAt: new Date().toISOString() }]);
    const summary = await get(`/api/v1/runs/${run.id}/summary`);
    assert.equal(summary.statusCode, 200);
    assert.deepEqual(Object.keys(summary.json().summary), ['metrics', 'root_group']);
    const thresholds = (await get(`/api/v1/runs/${run.id}/thresholds`)).json();
    assert.deepEqual(thresholds.thresholds.map((t: { expression: string; passed: boolean }) => [t.expression, t.passed]), [['p(95)<500', false]]);
    const warnings = await get(`/api/v1/runs/${run.id}/warnings`);
    assert.deepEqual(warnings.json(), { runId: run.id, warnings: [] });
  });

  it('estimates an uploaded archive through RunService.estimate', async () => {
    const mp = multipartBody({}, { name: 'archive', bytes: new Uint8Array([4, 5, 6]) });
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/estimate', headers: { ...bearer(h.a.memberSecret), ...mp.headers }, payload: mp.payload });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { vus: 10, durationSeconds: 360, vuHours: 1 });
    const call = h.runs.calls.at(-1);
    assert.ok(call?.method === 'estimate');
    assert.deepEqual([...call.archive], [4, 5, 6]);
  });

  it('creates tests with unique names per project and stores uploaded archives as the latest', async () => {
    const created = await h.app.inject({ method: 'POST', url: '/api/v1/tests', headers: bearer(h.a.memberSecret), payload: { projectId: h.a.project.id, name: 'unique' } });
    assert.equal(created.statusCode, 201);
    const dup = await h.app.inject({ method: 'POST', url: '/api/v1/tests', headers: bearer(h.a.memberSecret), payload: { projectId: h.a.project.id, name: 'unique' } });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().error.code, 'conflict');
    const id = created.json().id as string;
    const mp = multipartBody({}, { name: 'archive', bytes: new Uint8Array([1, 2]) });
    const uploaded = await h.app.inject({ method: 'POST', url: `/api/v1/tests/${id}/archives`, headers: { ...bearer(h.a.memberSecret), ...mp.headers }, payload: mp.payload });
    assert.equal(uploaded.statusCode, 201);
    assert.equal(uploaded.json().sizeBytes, 2);
    const test = (await get(`/api/v1/tests/${id}`)).json();
    assert.equal(test.latestArchive.id, uploaded.json().id);
  });

  it('shows agents with health and sums healthy capacity per load zone', async () => {
    const now = new Date();
    // Registering counts as a heartbeat; a2's was five minutes ago, past the 30 s default.
    const stale = new Date(now.getTime() - 5 * 60_000).toISOString();
    await h.store.upsertAgent({ id: agentIdSchema.parse('a1'), zone: 'local', capacity: 100, at: stale });
    await h.store.upsertAgent({ id: agentIdSchema.parse('a2'), zone: 'local', capacity: 50, at: stale });
    await h.store.recordHeartbeat(agentIdSchema.parse('a1'), { at: now.toISOString(), cpuPercent: 12, memoryUsedBytes: 1000, memoryLimitBytes: null });
    const agents = (await get('/api/v1/agents')).json().agents as Array<{ id: string; healthy: boolean }>;
    assert.deepEqual(agents.map((a) => [a.id, a.healthy]).sort(), [['a1', true], ['a2', false]]);
    assert.deepEqual((await get('/api/v1/load-zones')).json(), { loadZones: [{ name: 'local', agents: 2, healthyAgents: 1, capacity: 100 }] });
  });
});
