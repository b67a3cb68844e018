import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import type { z } from 'zod';
import { archiveIdSchema, RunStatuses, runIdSchema, type RunStatus, type StatusReason } from '../../protocol/index.js';
import { unpackArchive } from '../../script/index.js';
import { startHarness, type Harness, type TestOrg } from '../api/test-harness.js';
import { estimateVuHours, planRun, transition } from '../runs/index.js';
import { ARCHIVE_TOKEN, k6FixtureArchive, k6Options } from './test-fixtures.js';
import {
  v6AuthSchema, v6ErrorBodySchema, v6ListSchema, v6LoadTestSchema, v6LoadZoneSchema, v6ProjectSchema, v6StartLoadTestResponseSchema,
  v6TestRunSchema, v6ValidateOptionsResponseSchema, type V6TestRun,
} from './v6-models.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

interface Sent {
  status: number;
  headers: Record<string, unknown>;
  body: unknown;
}

/** The headers k6 ≥ 2.0's generated client sends on every call (§1.8 "Transport"). */
function k6Headers(org: TestOrg, opts: { stack?: string | null; secret?: string } = {}): Record<string, string> {
  const stack = opts.stack === undefined ? String(Number(org.org.id)) : opts.stack;
  return {
    authorization: `Bearer ${opts.secret ?? org.memberSecret}`,
    'user-agent': 'k6cloud/v2.0.0',
    accept: 'application/json',
    ...(stack === null ? {} : { 'x-stack-id': stack }),
  };
}

async function call(method: 'GET' | 'POST' | 'PUT', url: string, opts: { org?: TestOrg; headers?: Record<string, string>; payload?: Buffer | string; contentType?: string } = {}): Promise<Sent> {
  const r = await h.app.inject({
    method, url,
    headers: { ...(opts.headers ?? k6Headers(opts.org ?? h.a)), ...(opts.contentType === undefined ? {} : { 'content-type': opts.contentType }) },
    ...(opts.payload === undefined ? {} : { payload: opts.payload }),
  });
  const text = r.body;
  if (r.statusCode !== 204) assert.match(String(r.headers['content-type']), /^application\/json/, `${method} ${url}: ${text}`);
  return { status: r.statusCode, headers: r.headers, body: text === '' ? undefined : JSON.parse(text) };
}

/** Asserts the status and that the body is exactly the v6 model (every required key present). */
function expect<S extends z.ZodType>(r: Sent, status: number, schema: S): z.output<S> {
  assert.equal(r.status, status, JSON.stringify(r.body));
  const parsed = schema.safeParse(r.body);
  assert.ok(parsed.success, `${JSON.stringify(r.body)}\n${parsed.success ? '' : JSON.stringify(parsed.error.issues)}`);
  return parsed.data;
}

function expectError(r: Sent, status: number, code: string): z.output<typeof v6ErrorBodySchema>['error'] {
  const body = expect(r, status, v6ErrorBodySchema);
  assert.equal(body.error.code, code, JSON.stringify(r.body));
  return body.error;
}

/** multipart/form-data as Go's mime/multipart writes it: fields first, then the file part `script` named `script`. */
function k6Multipart(name: string, script: Uint8Array): { payload: Buffer; contentType: string } {
  const boundary = randomBytes(30).toString('hex');
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n${name}`),
    Buffer.from(`\r\n--${boundary}\r\nContent-Disposition: form-data; name="script"; filename="script"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    Buffer.from(script),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, contentType: `multipart/form-data; boundary=${boundary}` };
}

const key = () => randomBytes(8).toString('hex');
const loadTestList = v6ListSchema(v6LoadTestSchema);

async function createLoadTest(org: TestOrg, name: string, archive = k6FixtureArchive()): Promise<Sent> {
  const mp = k6Multipart(name, archive);
  return call('POST', `/cloud/v6/projects/${org.project.id}/load_tests`, { org, payload: mp.payload, contentType: mp.contentType });
}

/** Moves a run along herd's normal path, as the run manager would. */
async function walk(runId: string, steps: ReadonlyArray<[RunStatus, StatusReason]>): Promise<void> {
  for (const [to, reason] of steps) {
    const run = await h.store.getRunForSystem(runIdSchema.parse(runId));
    assert.ok(run !== undefined);
    const outcome = await h.store.transitionRun(run.id, run.status, transition(run.status, to, reason, `to ${to.name}`, new Date()));
    assert.ok(outcome.ok, `could not move run ${runId} to ${to.name}`);
  }
}

describe('`k6 cloud run` (k6 ≥ 2.0) request sequence against /cloud/v6', () => {
  it('validate_options → create (409) → list by name → PUT script → start (retried with its key) → poll → abort → poll until aborted', async () => {
    const name = `script.js ${key()}`;
    const options = k6Options();

    // 2. validate_options with the options k6 wrote and the project.
    const validate = await call('POST', '/cloud/v6/validate_options', { payload: JSON.stringify({ options, project_id: Number(h.a.project.id) }), contentType: 'application/json' });
    expect(validate, 200, v6ValidateOptionsResponseSchema);

    // 3. A first run of this name creates the load test.
    const created = expect(await createLoadTest(h.a, name), 201, v6LoadTestSchema);
    assert.equal(created.name, name);
    assert.equal(created.project_id, Number(h.a.project.id));

    // A second `k6 cloud run` of the same script: 409, then list by name and replace the script.
    const again = await createLoadTest(h.a, name, k6FixtureArchive({ options: k6Options({ vus: 3 }) }));
    const conflict = expectError(again, 409, 'conflict');
    assert.match(conflict.message, /already has a load test named/);
    const listed = expect(await call('GET', `/cloud/v6/projects/${h.a.project.id}/load_tests?name=${encodeURIComponent(name)}&$top=1`), 200, loadTestList);
    assert.deepEqual(listed.value.map((t) => t.id), [created.id]);
    const put = await call('PUT', `/cloud/v6/load_tests/${created.id}/script`, { payload: Buffer.from(k6FixtureArchive({ options: k6Options({ vus: 3 }) })), contentType: 'application/octet-stream' });
    assert.equal(put.status, 204, JSON.stringify(put.body));
    assert.equal(put.body, undefined);

    // What is stored is herd's archive of the new script, without the token k6 put into it.
    const test = await h.store.getTest(h.a.org.id, String(created.id) as never);
    assert.ok(test?.latestArchive != null);
    const stored = await h.store.getArchive(h.a.org.id, archiveIdSchema.parse(test.latestArchive.id));
    assert.ok(stored !== undefined);
    assert.equal(gunzipSync(stored.bytes).includes(Buffer.from(ARCHIVE_TOKEN)), false);
    assert.equal((await unpackArchive(stored.bytes)).metadata.options['vus'], 3);

    // 4. start, with k6's idempotency key; k6 retries a 5xx with the same key.
    const submitsBefore = h.runs.calls.filter((c) => c.method === 'submit').length;
    const idem = key();
    const startUrl = `/cloud/v6/load_tests/${created.id}/start`;
    const started = expect(await call('POST', startUrl, { headers: { ...k6Headers(h.a), 'k6-idempotency-key': idem } }), 200, v6StartLoadTestResponseSchema);
    const retried = expect(await call('POST', startUrl, { headers: { ...k6Headers(h.a), 'k6-idempotency-key': idem } }), 200, v6StartLoadTestResponseSchema);
    assert.equal(retried.id, started.id);
    assert.equal(h.runs.calls.filter((c) => c.method === 'submit').length, submitsBefore + 1);
    const submit = h.runs.calls.at(-1);
    assert.ok(submit?.method === 'submit');
    assert.equal(submit.input.testId, String(created.id));
    assert.deepEqual(Buffer.from(submit.input.archive), Buffer.from(stored.bytes));
    assert.equal(started.test_id, created.id);
    assert.match(started.test_run_details_page_url, new RegExp(`/#/runs/${started.id}$`));
    assert.equal(started.status, 'created');

    // 6. poll: the run goes queued, initializing, running.
    const poll = async () => expect(await call('GET', `/cloud/v6/test_runs/${started.id}`), 200, v6TestRunSchema);
    await walk(String(started.id), [[RunStatuses.Validated, 'validated'], [RunStatuses.Queued, 'queued']]);
    assert.equal((await poll()).status, 'queued');
    await walk(String(started.id), [[RunStatuses.Initializing, 'placed'], [RunStatuses.Running, 'started']]);
    const running = await poll();
    assert.equal(running.status, 'running');
    assert.deepEqual(running.status_history.map((s) => s.type), ['created', 'queued', 'initializing', 'running']);
    assert.equal(running.status_details.type, 'running');
    assert.equal(running.result, null);

    // 7. Ctrl+C: abort, then poll until aborted; k6 prints "Aborted (by user)" and exits 97.
    const abort = await call('POST', `/cloud/v6/test_runs/${started.id}/abort`, { headers: { ...k6Headers(h.a), 'k6-idempotency-key': key() } });
    assert.equal(abort.status, 204, JSON.stringify(abort.body));
    const aborted = await poll();
    assert.equal(aborted.status, 'aborted');
    assert.equal(aborted.result, 'error');
    const entry = aborted.status_history.find((s) => s.type === 'aborted');
    assert.deepEqual(entry?.extra, { by_user: h.a.org.name, message: 'aborted via the API', code: 5 });
    assert.deepEqual(aborted.status_details, entry);
    assert.match(aborted.ended ?? '', /Z$/);
    // A second abort: 409 (k6 ignores it).
    expectError(await call('POST', `/cloud/v6/test_runs/${started.id}/abort`), 409, 'conflict');
  });

  it('a start without a key makes a new run each time', async () => {
    const created = expect(await createLoadTest(h.a, `twice ${key()}`), 201, v6LoadTestSchema);
    const one = expect(await call('POST', `/cloud/v6/load_tests/${created.id}/start`), 200, v6StartLoadTestResponseSchema);
    const two = expect(await call('POST', `/cloud/v6/load_tests/${created.id}/start`), 200, v6StartLoadTestResponseSchema);
    assert.notEqual(one.id, two.id);
  });
});

describe('POST /cloud/v6/validate_options', () => {
  it("answers herd's VU-hour estimate of the options' plan", async () => {
    const options = k6Options({ vus: 6, iterations: null, duration: '2m', thresholds: null });
    const body = expect(await call('POST', '/cloud/v6/validate_options', { payload: JSON.stringify({ options }), contentType: 'application/json' }), 200, v6ValidateOptionsResponseSchema);
    // 6 VUs for 2 minutes plus the 30 s default graceful stop.
    assert.equal(body.vuh_usage, 6 * 150 / 3600);
    const plan = planRun({ vus: 6, duration: '2m' }, 'local');
    assert.equal(body.vuh_usage, estimateVuHours(plan.maxVUs, plan.durationSeconds));
    assert.deepEqual(body.breakdown, { protocol_vuh: body.vuh_usage, browser_vuh: 0, base_total_vuh: body.vuh_usage, reduction_rate: 0, reduction_rate_breakdown: null });
  });

  it('answers invalid options with 400 in the v6 error shape, naming the option', async () => {
    const r = await call('POST', '/cloud/v6/validate_options', { payload: JSON.stringify({ options: k6Options({ vus: -1 }) }), contentType: 'application/json' });
    const error = expectError(r, 400, 'invalid_option');
    assert.equal(error.target, 'options');
    assert.match(error.message, /vus/);
    assert.ok(error.details?.some((d) => d.target === 'options.vus' && /vus/.test(d.message)), JSON.stringify(error));
  });

  it('answers a body that is not JSON with 400 in the v6 shape', async () => {
    const error = expectError(await call('POST', '/cloud/v6/validate_options', { payload: '{"options":', contentType: 'application/json' }), 400, 'invalid_request');
    assert.match(error.message, /JSON/);
  });

  it('answers a body without options, and a project of another stack, with errors naming them', async () => {
    const missing = expectError(await call('POST', '/cloud/v6/validate_options', { payload: '{}', contentType: 'application/json' }), 400, 'invalid_request');
    assert.equal(missing.target, 'options');
    const foreign = await call('POST', '/cloud/v6/validate_options', { payload: JSON.stringify({ options: k6Options(), project_id: Number(h.b.project.id) }), contentType: 'application/json' });
    assert.match(expectError(foreign, 404, 'not_found').message, new RegExp(`project ${h.b.project.id}`));
  });
});

describe('auth and stacks', () => {
  it('GET /cloud/v6/auth (no X-Stack-Id) tells the stack id (the organization id) and the default project', async () => {
    const body = expect(await call('GET', '/cloud/v6/auth', { headers: { ...k6Headers(h.b, { stack: null }), 'x-stack-url': 'https://beta.grafana.net' } }), 200, v6AuthSchema);
    assert.deepEqual(body, { stack_id: Number(h.b.org.id), default_project_id: Number(h.b.project.id) });
  });

  it('answers a missing or unknown token with 401 in the v6 shape', async () => {
    for (const authorization of [undefined, 'Bearer not-a-token']) {
      const headers = { ...k6Headers(h.a) };
      if (authorization === undefined) delete (headers as Partial<typeof headers>).authorization;
      else headers.authorization = authorization;
      expectError(await call('GET', '/cloud/v6/projects', { headers }), 401, 'unauthorized');
    }
  });

  it('requires X-Stack-Id everywhere but /auth (400 naming it) and refuses another stack with 403', async () => {
    const missing = expectError(await call('GET', `/cloud/v6/projects`, { headers: k6Headers(h.a, { stack: null }) }), 400, 'invalid_request');
    assert.equal(missing.target, 'X-Stack-Id');
    assert.match(missing.message, /X-Stack-Id/);
    const garbage = expectError(await call('GET', `/cloud/v6/projects`, { headers: k6Headers(h.a, { stack: 'abc' }) }), 400, 'invalid_request');
    assert.equal(garbage.target, 'X-Stack-Id');
    const other = expectError(await call('GET', `/cloud/v6/projects`, { headers: k6Headers(h.a, { stack: String(Number(h.b.org.id)) }) }), 403, 'forbidden');
    assert.match(other.message, new RegExp(`belongs to stack ${Number(h.a.org.id)}, not to stack ${Number(h.b.org.id)}`));
  });

  it("answers another stack's project, load test and test run with 404", async () => {
    const created = expect(await createLoadTest(h.a, `private ${key()}`), 201, v6LoadTestSchema);
    const run = expect(await call('POST', `/cloud/v6/load_tests/${created.id}/start`), 200, v6StartLoadTestResponseSchema);
    const b = { org: h.b };
    expectError(await call('GET', `/cloud/v6/load_tests/${created.id}`, b), 404, 'not_found');
    expectError(await call('POST', `/cloud/v6/load_tests/${created.id}/start`, b), 404, 'not_found');
    expectError(await call('PUT', `/cloud/v6/load_tests/${created.id}/script`, { ...b, payload: Buffer.from(k6FixtureArchive()), contentType: 'application/octet-stream' }), 404, 'not_found');
    expectError(await call('GET', `/cloud/v6/test_runs/${run.id}`, b), 404, 'not_found');
    expectError(await call('POST', `/cloud/v6/test_runs/${run.id}/abort`, b), 404, 'not_found');
    expectError(await call('GET', `/cloud/v6/projects/${h.a.project.id}/load_tests`, b), 404, 'not_found');
    const list = expect(await call('GET', '/cloud/v6/test_runs', b), 200, v6ListSchema(v6TestRunSchema));
    assert.equal(list.value.some((r) => r.id === run.id), false);
  });
});

describe('load tests', () => {
  it('takes plain JavaScript with literal options, making it a herd archive with those options', async () => {
    const script = "import http from 'k6/http';\nexport const options = { vus: 3, duration: '10s', thresholds: { checks: ['rate==1'] } };\nexport default function () { http.get(__ENV.TARGET); }\n";
    const created = expect(await createLoadTest(h.a, `plain ${key()}`, new TextEncoder().encode(script)), 201, v6LoadTestSchema);
    const test = await h.store.getTest(h.a.org.id, String(created.id) as never);
    assert.ok(test?.latestArchive != null);
    const stored = await h.store.getArchive(h.a.org.id, archiveIdSchema.parse(test.latestArchive.id));
    assert.ok(stored !== undefined);
    const options = (await unpackArchive(stored.bytes)).metadata.options;
    assert.equal(options['vus'], 3);
    assert.deepEqual(options['thresholds'], { checks: ['rate==1'] });
  });

  it('refuses computed options, unparsable scripts, binary data and a missing name with 400 naming the field', async () => {
    const refused = async (bytes: Uint8Array, code: string, message: RegExp) => {
      const name = `refused ${key()}`;
      const error = expectError(await createLoadTest(h.a, name, bytes), 400, code);
      assert.equal(error.target, 'script');
      assert.match(error.message, message);
      // Nothing was created.
      const listed = expect(await call('GET', `/cloud/v6/projects/${h.a.project.id}/load_tests?name=${encodeURIComponent(name)}`), 200, loadTestList);
      assert.deepEqual(listed.value, []);
    };
    const text = (s: string) => new TextEncoder().encode(s);
    await refused(text('export const options = { vus: Number(__ENV.VUS) };\nexport default function () {}\n'), 'script_unsupported', /options\.vus is computed \(CallExpression\) at line 1/);
    await refused(text('export default function ( {\n'), 'script_syntax', /does not parse/);
    await refused(new Uint8Array(4096).fill(0xff), 'invalid_request', /neither a k6 archive/);
    await refused(k6FixtureArchive({ options: k6Options({ vus: 'many' }) }), 'invalid_option', /vus/);
    const mp = k6Multipart('', k6FixtureArchive());
    const noName = expectError(await call('POST', `/cloud/v6/projects/${h.a.project.id}/load_tests`, { payload: mp.payload, contentType: mp.contentType }), 400, 'invalid_request');
    assert.equal(noName.target, 'name');
  });

  it('two concurrent creates of one name: one 201, the other 409, one load test', async () => {
    const name = `race ${key()}`;
    const answers = await Promise.all([createLoadTest(h.a, name), createLoadTest(h.a, name)]);
    assert.deepEqual(answers.map((a) => a.status).sort(), [201, 409], JSON.stringify(answers.map((a) => a.body)));
    const conflict = answers.find((a) => a.status === 409);
    assert.ok(conflict !== undefined);
    expectError(conflict, 409, 'conflict');
    const listed = expect(await call('GET', `/cloud/v6/projects/${h.a.project.id}/load_tests?name=${encodeURIComponent(name)}`), 200, loadTestList);
    assert.equal(listed.value.length, 1);
  });

  it('lists load tests as OData pages: $top, $skip, @count and @nextLink', async () => {
    const org = h.b;
    const names = ['p1', 'p2', 'p3'].map((n) => `${n} ${key()}`);
    for (const n of names) expect(await createLoadTest(org, n), 201, v6LoadTestSchema);
    const all = expect(await call('GET', `/cloud/v6/projects/${org.project.id}/load_tests?$count=true`, { org }), 200, loadTestList);
    const total = all['@count'];
    assert.ok(total !== undefined && total >= 3);
    assert.equal(all['@nextLink'], undefined);
    const page = expect(await call('GET', `/cloud/v6/projects/${org.project.id}/load_tests?$top=1&$skip=1`, { org }), 200, loadTestList);
    assert.deepEqual(page.value.map((t) => t.id), [all.value[1]?.id]);
    const next = new URL(page['@nextLink'] ?? assert.fail('no @nextLink'));
    assert.equal(next.searchParams.get('$skip'), '2');
    assert.equal(next.searchParams.get('$top'), '1');
    const bad = expectError(await call('GET', `/cloud/v6/projects/${org.project.id}/load_tests?$top=0`, { org }), 400, 'invalid_request');
    assert.equal(bad.target, '$top');
  });

  it('answers an id that is not a number and a route herd does not implement with 404 in the v6 shape', async () => {
    expectError(await call('GET', '/cloud/v6/load_tests/12abc'), 404, 'not_found');
    expectError(await call('GET', '/cloud/v6/no_such_thing'), 404, 'not_found');
  });
});

describe('test runs', () => {
  it('reports a run that ended by threshold as aborted with result failed and a run that finished as completed', async () => {
    const created = expect(await createLoadTest(h.a, `thr ${key()}`), 201, v6LoadTestSchema);
    const start = async () => expect(await call('POST', `/cloud/v6/load_tests/${created.id}/start`), 200, v6StartLoadTestResponseSchema);
    const normal: ReadonlyArray<[RunStatus, StatusReason]> = [[RunStatuses.Validated, 'validated'], [RunStatuses.Queued, 'queued'], [RunStatuses.Initializing, 'placed'], [RunStatuses.Running, 'started']];
    const byThreshold = await start();
    await walk(String(byThreshold.id), normal);
    const run = await h.store.getRunForSystem(runIdSchema.parse(String(byThreshold.id)));
    assert.ok(run !== undefined);
    await h.store.transitionRun(run.id, run.status, transition(run.status, RunStatuses.AbortedByThreshold, 'thresholds_crossed', 'threshold p(95)<100 crossed', new Date()), { result: 'failed' });
    const t: V6TestRun = expect(await call('GET', `/cloud/v6/test_runs/${byThreshold.id}`), 200, v6TestRunSchema);
    assert.equal(t.status, 'aborted');
    assert.equal(t.result, 'failed');
    assert.deepEqual(t.status_details.extra, { by_user: null, message: 'threshold p(95)<100 crossed', code: 8 });

    const finished = await start();
    await walk(String(finished.id), normal);
    const run2 = await h.store.getRunForSystem(runIdSchema.parse(String(finished.id)));
    assert.ok(run2 !== undefined);
    await h.store.transitionRun(run2.id, run2.status, transition(run2.status, RunStatuses.Finished, 'completed', 'all generators completed', new Date()), { result: 'passed' });
    const f = expect(await call('GET', `/cloud/v6/test_runs/${finished.id}`), 200, v6TestRunSchema);
    assert.equal(f.status, 'completed');
    assert.equal(f.result, 'passed');
    assert.deepEqual(f.result_details, { type: 'passed', message: 'all generators completed', code: 3 });
    expectError(await call('POST', `/cloud/v6/test_runs/${finished.id}/abort`), 409, 'conflict');

    const list = expect(await call('GET', '/cloud/v6/test_runs?$top=1&$count=true'), 200, v6ListSchema(v6TestRunSchema));
    assert.equal(list.value.length, 1);
    assert.equal(list.value[0]?.id, finished.id);
    assert.ok((list['@count'] ?? 0) >= 2);
    assert.equal(new URL(list['@nextLink'] ?? assert.fail('no @nextLink')).searchParams.get('$skip'), '1');
  });
});

describe('projects and load zones', () => {
  it('lists the stack\'s projects, the first as default', async () => {
    const body = expect(await call('GET', '/cloud/v6/projects'), 200, v6ListSchema(v6ProjectSchema));
    assert.deepEqual(body.value.map((p) => [p.id, p.name, p.is_default]), [[Number(h.a.project.id), h.a.project.name, true]]);
  });

  it("lists the zones herd's agents serve, available when one of them is healthy", async () => {
    const now = new Date().toISOString();
    await h.store.upsertAgent({ id: 'agent-z1' as never, zone: 'eu-west', capacity: 100, at: now });
    await h.store.recordHeartbeat('agent-z1' as never, { at: now, cpuPercent: 1, memoryUsedBytes: 1, memoryLimitBytes: null });
    // Registered (its last sign of life) a minute ago: not healthy.
    await h.store.upsertAgent({ id: 'agent-z2' as never, zone: 'us-east', capacity: 100, at: new Date(Date.now() - 60_000).toISOString() });
    const body = expect(await call('GET', '/cloud/v6/load_zones'), 200, v6ListSchema(v6LoadZoneSchema));
    const byName = new Map(body.value.map((z) => [z.k6_load_zone_id, z]));
    assert.equal(byName.get('eu-west')?.available, true);
    assert.equal(byName.get('us-east')?.available, false);
    const one = expect(await call('GET', '/cloud/v6/load_zones?k6_load_zone_id=eu-west'), 200, v6ListSchema(v6LoadZoneSchema));
    assert.deepEqual(one.value, [byName.get('eu-west')]);
  });
});
