import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { archiveIdSchema, RunStatuses } from '../../protocol/index.js';
import { unpackArchive } from '../../script/index.js';
import { multipartBody, startHarness, type Harness } from '../api/test-harness.js';
import { testProgress } from './legacy-routes.js';
import { ARCHIVE_TOKEN, k6FixtureArchive, k6Options } from './test-fixtures.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

const token = (secret: string) => ({ authorization: `Token ${secret}` });
let keyCounter = 0;
const newKey = () => (0x1000000000000000n + BigInt(++keyCounter)).toString(16);

async function upload(fields: Record<string, string>, opts: { key?: string; secret?: string; archive?: Uint8Array } = {}) {
  const body = multipartBody(fields, { name: 'file', bytes: opts.archive ?? k6FixtureArchive() });
  return h.app.inject({
    method: 'POST', url: '/v1/archive-upload', payload: body.payload,
    headers: { ...body.headers, ...token(opts.secret ?? h.a.memberSecret), 'user-agent': 'k6cloud/0.49.0', ...(opts.key === undefined ? {} : { 'k6-idempotency-key': opts.key }) },
  });
}

describe('POST /v1/validate-options', () => {
  it('answers 200 for valid options k6 sends with every unset key as null', async () => {
    const r = await h.app.inject({ method: 'POST', url: '/v1/validate-options', headers: { ...token(h.a.memberSecret), 'content-type': 'application/json' }, payload: { options: k6Options() } });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
  });

  it("answers invalid options with 400 in k6's error shape, naming the option", async () => {
    const r = await h.app.inject({ method: 'POST', url: '/v1/validate-options', headers: { ...token(h.a.memberSecret), 'content-type': 'application/json' }, payload: { options: k6Options({ vus: -1 }) } });
    assert.equal(r.statusCode, 400);
    const body = r.json() as { error: { code: number; message: string; details: Record<string, string[]> } };
    assert.deepEqual(Object.keys(body), ['error']);
    assert.equal(typeof body.error.code, 'number');
    assert.match(body.error.message, /vus/);
    assert.ok(body.error.details['options']?.some((l) => /vus/.test(l)), JSON.stringify(body));
  });

  it("answers a missing or unknown token with 401 in k6's error shape", async () => {
    for (const headers of [{}, token('not-a-token')]) {
      const r = await h.app.inject({ method: 'POST', url: '/v1/validate-options', headers: { ...headers, 'content-type': 'application/json' }, payload: {} });
      assert.equal(r.statusCode, 401);
      const body = r.json() as { error: { code: number; message: string } };
      assert.equal(body.error.code, 2);
      assert.equal(typeof body.error.message, 'string');
    }
  });
});

describe('POST /v1/archive-upload', () => {
  it('converts the k6 archive, submits it into the first project under the given name and answers reference_id and the run URL', async () => {
    const before = h.runs.calls.length;
    const r = await upload({ name: 'checkout flow' });
    assert.equal(r.statusCode, 200, r.body);
    const body = r.json() as { reference_id: string; config: { webAppURL: string; testRunDetails: string }; logs: unknown[] };
    assert.match(body.reference_id, /^[1-9][0-9]*$/);
    assert.equal(body.config.testRunDetails, `${body.config.webAppURL}/#/runs/${body.reference_id}`);
    assert.deepEqual(body.logs, []);
    const calls = h.runs.calls.slice(before);
    assert.equal(calls.length, 1);
    const call = calls[0];
    assert.ok(call?.method === 'submit');
    assert.equal(call.input.testName, 'checkout flow');
    assert.equal(call.input.projectId, h.a.project.id);
    // What is stored is herd's archive, without the token k6 put into the options.
    const run = await h.store.getRun(h.a.org.id, body.reference_id as never);
    assert.ok(run !== undefined);
    const stored = await h.store.getArchive(h.a.org.id, archiveIdSchema.parse(run.archiveId));
    assert.ok(stored !== undefined);
    assert.equal(gunzipSync(stored.bytes).includes(Buffer.from(ARCHIVE_TOKEN)), false);
    const unpacked = await unpackArchive(stored.bytes);
    assert.deepEqual(unpacked.metadata.options['ext'], { loadimpact: { name: 'script.js' } });
    assert.equal(unpacked.metadata.options['vus'], 2);
  });

  it('uses project_id when given, and refuses a project of another organization with 404', async () => {
    const ok = await upload({ name: 'p', project_id: h.a.project.id });
    assert.equal(ok.statusCode, 200, ok.body);
    const foreign = await upload({ name: 'p', project_id: h.b.project.id });
    assert.equal(foreign.statusCode, 404);
    assert.equal((foreign.json() as { error: { code: number } }).error.code, 3);
  });

  it('replays the first answer for a repeated K6-Idempotency-Key and creates one run', async () => {
    const key = newKey();
    const before = h.runs.calls.filter((c) => c.method === 'submit').length;
    const first = await upload({ name: 'idem' }, { key });
    const second = await upload({ name: 'idem' }, { key });
    assert.equal(first.statusCode, 200);
    assert.equal(second.statusCode, 200);
    assert.equal((second.json() as { reference_id: string }).reference_id, (first.json() as { reference_id: string }).reference_id);
    assert.equal(h.runs.calls.filter((c) => c.method === 'submit').length, before + 1);
    // The same key from another token is another request.
    const other = await upload({ name: 'idem' }, { key, secret: h.a.adminSecret });
    assert.notEqual((other.json() as { reference_id: string }).reference_id, (first.json() as { reference_id: string }).reference_id);
  });

  it("answers a broken archive with 400 in k6's error shape", async () => {
    const r = await upload({ name: 'broken' }, { archive: new Uint8Array(4096).fill(7) });
    assert.equal(r.statusCode, 400);
    assert.match((r.json() as { error: { message: string } }).error.message, /invalid archive/);
  });

  it('stores an upload_only archive without running it and reports it Archived (10)', async () => {
    const before = h.runs.calls.filter((c) => c.method === 'submit').length;
    const r = await upload({ name: 'only upload', upload_only: 'true' });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(h.runs.calls.filter((c) => c.method === 'submit').length, before);
    const ref = (r.json() as { reference_id: string }).reference_id;
    const p = await h.app.inject({ method: 'GET', url: `/v1/test-progress/${ref}`, headers: token(h.a.memberSecret) });
    assert.deepEqual(p.json(), { run_status: 10, run_status_text: 'Archived', result_status: 0, progress: 1 });
    const foreign = await h.app.inject({ method: 'GET', url: `/v1/test-progress/${ref}`, headers: token(h.b.memberSecret) });
    assert.equal(foreign.statusCode, 404);
  });
});

describe('GET /v1/test-progress and POST /v1/tests/:id/stop', () => {
  it("reports a run's status code and name, and a stop ends it Aborted by user (5)", async () => {
    const run = await h.makeRun(h.a, { to: [RunStatuses.Validated, RunStatuses.Queued] });
    const p1 = await h.app.inject({ method: 'GET', url: `/v1/test-progress/${run.id}`, headers: { authorization: `Bearer ${h.a.memberSecret}` } });
    assert.deepEqual(p1.json(), { run_status: 0, run_status_text: 'Queued', result_status: 0, progress: 0 });
    const stop = await h.app.inject({ method: 'POST', url: `/v1/tests/${run.id}/stop`, headers: { ...token(h.a.memberSecret), 'content-type': 'application/json', 'k6-idempotency-key': newKey() } });
    assert.equal(stop.statusCode, 200, stop.body);
    const p2 = await h.app.inject({ method: 'GET', url: `/v1/test-progress/${run.id}`, headers: token(h.a.memberSecret) });
    assert.deepEqual(p2.json(), { run_status: 5, run_status_text: 'Aborted by user', result_status: 0, progress: 1 });
    // Stopping again is harmless.
    const again = await h.app.inject({ method: 'POST', url: `/v1/tests/${run.id}/stop`, headers: token(h.a.memberSecret) });
    assert.equal(again.statusCode, 200);
  });

  it("answers another organization's run and a malformed id with 404", async () => {
    const run = await h.makeRun(h.a);
    for (const url of [`/v1/test-progress/${run.id}`, '/v1/test-progress/abc']) {
      const r = await h.app.inject({ method: 'GET', url, headers: token(h.b.memberSecret) });
      assert.equal(r.statusCode, 404);
      assert.equal((r.json() as { error: { code: number } }).error.code, 3);
    }
    const stop = await h.app.inject({ method: 'POST', url: `/v1/tests/${run.id}/stop`, headers: token(h.b.memberSecret) });
    assert.equal(stop.statusCode, 404);
  });

  it('maps results to result_status as k6 reads it, and progress to the elapsed share of the planned duration', () => {
    const at = Date.parse('2024-01-01T00:00:00Z');
    const running = testProgress({ status: RunStatuses.Running, result: null, startedAt: '2024-01-01T00:00:00.000Z', durationSeconds: 10 }, at + 2_500);
    assert.deepEqual(running, { run_status: 2, run_status_text: 'Running', result_status: 0, progress: 0.25 });
    assert.equal(testProgress({ status: RunStatuses.Finished, result: 'failed', startedAt: null, durationSeconds: 1 }, at).result_status, 1);
    assert.equal(testProgress({ status: RunStatuses.AbortedByThreshold, result: 'failed', startedAt: null, durationSeconds: 1 }, at).result_status, 1);
    assert.equal(testProgress({ status: RunStatuses.AbortedByScriptError, result: null, startedAt: null, durationSeconds: 1 }, at).result_status, 1);
    assert.equal(testProgress({ status: RunStatuses.Finished, result: 'passed', startedAt: null, durationSeconds: 1 }, at).result_status, 0);
  });
});
