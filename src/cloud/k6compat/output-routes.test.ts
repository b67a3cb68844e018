import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RunStatuses, runIdSchema, type RunId } from '../../protocol/index.js';
import { unpackArchive } from '../../script/index.js';
import { startHarness, type Harness } from '../api/test-harness.js';
import { isExternalRun } from '../runs/index.js';
import { exactPercentile, k6PushBody, k6PushHeaders, type FixtureMetric } from './k6-push-fixtures.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

const T0 = 1_764_000_000; // a period start, whole seconds as k6 sends it
let keys = 0;
const newKey = () => (0xa000000000000000n + BigInt(++keys)).toString(16);
const json = (secret: string, key = newKey()) => ({
  authorization: `Token ${secret}`, 'content-type': 'application/json', 'user-agent': 'k6cloud/0.49.0', 'k6-idempotency-key': key,
});

// Latencies of two periods of a test, 200s and one 500 series; the 500s are slow.
const OK_A = Array.from({ length: 300 }, (_, i) => 20 + ((i * 37) % 100) * 0.9);
const OK_B = Array.from({ length: 300 }, (_, i) => 25 + ((i * 53) % 100) * 1.1);
const ERR = [400, 450, 500, 550, 600];
const ALL_OK = [...OK_A, ...OK_B];
const ALL = [...ALL_OK, ...ERR];

function createBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'checkout.js', vus: 10, duration: 60,
    thresholds: { http_req_duration: ['p(95)<500', 'avg<100'], 'http_req_duration{status:200}': ['max<200'], http_req_failed: ['rate<0.01'], checks: ['rate>0.9'] },
    ...over,
  };
}

async function createRun(secret = h.a.memberSecret, over: Record<string, unknown> = {}): Promise<RunId> {
  const r = await h.app.inject({ method: 'POST', url: '/v1/tests', headers: json(secret), payload: createBody(over) });
  assert.equal(r.statusCode, 200, r.body);
  return runIdSchema.parse((r.json() as { reference_id: string }).reference_id);
}

function push(id: string, metrics: FixtureMetric[], opts: { key?: string; secret?: string } = {}) {
  return h.app.inject({
    method: 'POST', url: `/v2/metrics/${id}`, headers: k6PushHeaders(opts.secret ?? h.a.memberSecret, opts.key ?? newKey()),
    payload: k6PushBody(metrics, { refId: id }),
  });
}

function finish(id: string, body: Record<string, unknown>, secret = h.a.memberSecret) {
  return h.app.inject({ method: 'POST', url: `/v1/tests/${id}`, headers: json(secret), payload: body });
}

// The two pushes of a short test, as k6 batches them: every series of a period in one request.
const PUSH_1: FixtureMetric[] = [
  { name: 'http_reqs', type: 1, series: [
    { labels: { method: 'GET', status: '200', scenario: 'default' }, counter: [{ t: T0, value: 300 }] },
    { labels: { method: 'GET', status: '500', scenario: 'default' }, counter: [{ t: T0, value: 5 }] },
  ] },
  { name: 'http_req_failed', type: 3, series: [{ labels: { method: 'GET', scenario: 'default' }, rate: [{ t: T0, nonzero: 5, total: 305 }] }] },
  { name: 'http_req_duration', type: 4, series: [
    { labels: { method: 'GET', status: '200', scenario: 'default' }, trend: [{ t: T0, values: OK_A }] },
    { labels: { method: 'GET', status: '500', scenario: 'default' }, trend: [{ t: T0, values: ERR }] },
  ] },
  { name: 'checks', type: 3, series: [
    { labels: { check: 'status is 200', group: '', scenario: 'default' }, rate: [{ t: T0, nonzero: 300, total: 305 }] },
    { labels: { check: 'fast', group: '::login', scenario: 'default' }, rate: [{ t: T0, nonzero: 10, total: 10 }] },
  ] },
  { name: 'vus', type: 2, series: [{ labels: {}, gauge: [{ t: T0, last: 10, count: 3, min: 10, max: 5, avg: 8 }] }] },
];
const PUSH_2: FixtureMetric[] = [
  { name: 'http_reqs', type: 1, series: [{ labels: { method: 'GET', status: '200', scenario: 'default' }, counter: [{ t: T0 + 3, value: 300 }] }] },
  { name: 'http_req_failed', type: 3, series: [{ labels: { method: 'GET', scenario: 'default' }, rate: [{ t: T0 + 3, nonzero: 0, total: 300 }] }] },
  { name: 'http_req_duration', type: 4, series: [{ labels: { method: 'GET', status: '200', scenario: 'default' }, trend: [{ t: T0 + 3, values: OK_B }] }] },
  { name: 'vus', type: 2, series: [{ labels: {}, gauge: [{ t: T0 + 3, last: 3, count: 3, min: 3, max: 10, avg: 6 }] }] },
];

type Summary = { metrics: Record<string, { type: string; values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }>; root_group: { groups: Array<{ name: string; checks: Array<{ name: string; passes: number; fails: number }> }>; checks: Array<{ name: string; passes: number; fails: number }> } };

describe('k6 run --out cloud: POST /v1/tests', () => {
  it('creates a run straight into Running, never Queued, marked external, and answers the reference id and the full config', async () => {
    const r = await h.app.inject({ method: 'POST', url: '/v1/tests', headers: json(h.a.memberSecret), payload: { ...createBody(), project_id: 0, instances: 2, process_thresholds: true } });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    const body = r.json() as { reference_id: string; config: Record<string, unknown> };
    assert.match(body.reference_id, /^[1-9][0-9]*$/);
    assert.deepEqual(body.config, {
      aggregationPeriod: '3s', aggregationWaitPeriod: '8s', metricPushInterval: '1s', metricPushConcurrency: 1, maxTimeSeriesInBatch: 1000,
      apiVersion: 2, tracesEnabled: false, stopOnError: false,
      webAppURL: 'http://localhost:80', testRunDetails: `http://localhost:80/#/runs/${body.reference_id}`,
    });
    const id = runIdSchema.parse(body.reference_id);
    const run = await h.store.getRun(h.a.org.id, id);
    assert.equal(run?.status.name, 'Running');
    assert.equal(run?.projectId, h.a.project.id);
    assert.equal(run?.vus, 10);
    assert.equal(run?.durationSeconds, 60);
    assert.ok(run !== undefined && isExternalRun(run));
    const history = await h.store.getStatusHistory(h.a.org.id, id);
    assert.deepEqual(history?.map((c) => [c.status.name, c.reason]), [['Created', 'created'], ['Validated', 'validated'], ['Running', 'external_start']]);
    // The run's archive is a real herd archive that explains itself; its options are not marked external.
    const archive = await h.store.getArchive(h.a.org.id, run.archiveId);
    const unpacked = await unpackArchive(archive?.bytes ?? new Uint8Array());
    assert.equal(isExternalRun({ options: unpacked.metadata.options }), false);
    assert.match(unpacked.artifact.code, /ran outside herd \(k6 run --out cloud\)/);
  });

  it('answers a retried create (same K6-Idempotency-Key) with the same run', async () => {
    const key = newKey();
    const a = await h.app.inject({ method: 'POST', url: '/v1/tests', headers: json(h.a.memberSecret, key), payload: createBody({ name: 'retried.js' }) });
    const b = await h.app.inject({ method: 'POST', url: '/v1/tests', headers: json(h.a.memberSecret, key), payload: createBody({ name: 'retried.js' }) });
    assert.equal((a.json() as { reference_id: string }).reference_id, (b.json() as { reference_id: string }).reference_id);
  });

  it("refuses a bad payload with 400 in k6's error shape, naming the field", async () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ name: '' }, 'name', /"name" must be the test's name/],
      [{ vus: -1 }, 'vus', /"vus" must be the most VUs/],
      [{ duration: '1m' }, 'duration', /"duration" must be .* seconds/],
      [{ thresholds: { http_req_duration: 'p(95)<500' } }, 'thresholds.http_req_duration', /must be a list of threshold strings/],
      [{ project_id: 'abc' }, 'project_id', /"project_id" must be a project id/],
    ];
    for (const [over, field, message] of cases) {
      const r = await h.app.inject({ method: 'POST', url: '/v1/tests', headers: json(h.a.memberSecret), payload: createBody(over) });
      assert.equal(r.statusCode, 400, JSON.stringify(over));
      const body = r.json() as { error: { code: number; message: string; details?: Record<string, string[]> } };
      assert.equal(body.error.code, 1);
      assert.match(body.error.message, message);
      assert.ok(body.error.details?.[field] !== undefined, `${field} in ${JSON.stringify(body)}`);
    }
    const bad = await h.app.inject({ method: 'POST', url: '/v1/tests', headers: json(h.a.memberSecret), payload: createBody({ thresholds: { http_req_duration: ['p95 < 500'] } }) });
    assert.equal(bad.statusCode, 400);
    assert.match((bad.json() as { error: { message: string } }).error.message, /invalid threshold "p95 < 500" on http_req_duration/);
    const foreign = await h.app.inject({ method: 'POST', url: '/v1/tests', headers: json(h.a.memberSecret), payload: createBody({ project_id: Number(h.b.project.id) }) });
    assert.equal(foreign.statusCode, 404);
    const anonymous = await h.app.inject({ method: 'POST', url: '/v1/tests', headers: { 'content-type': 'application/json' }, payload: createBody() });
    assert.equal(anonymous.statusCode, 401);
  });
});

describe('k6 run --out cloud: the recorded sequence', () => {
  let id: RunId;
  before(async () => {
    id = await createRun();
  });

  it('merges pushes into per-period points; a retried push (same key) is not counted twice', async () => {
    const key1 = newKey();
    const first = await push(id, PUSH_1, { key: key1 });
    assert.equal(first.statusCode, 200, first.body);
    const retry = await push(id, PUSH_1, { key: key1 });
    assert.equal(retry.statusCode, 200, retry.body);
    assert.equal((await push(id, PUSH_2)).statusCode, 200);

    const reqs = await h.store.listMetricPoints(id, 'http_reqs');
    assert.deepEqual(reqs.map((p) => [p.t, p.values['count'], p.values['rate']]), [[T0 * 1000, 305, 305 / 3], [(T0 + 3) * 1000, 300, 100]]);
    const failed = await h.store.listMetricPoints(id, 'http_req_failed');
    assert.deepEqual(failed.map((p) => p.values['rate']), [5 / 305, 0]);
    const vus = await h.store.listMetricPoints(id, 'vus');
    assert.deepEqual(vus.map((p) => [p.values['value'], p.values['min'], p.values['max']]), [[10, 5, 10], [3, 3, 10]]);
    const duration = await h.store.listMetricPoints(id, 'http_req_duration');
    assert.equal(duration[0]?.values['count'], 305);
    assert.equal(duration[0]?.values['max'], 600);
    // The threshold's sub-metric has its own points, only of the status 200 series.
    const ok = await h.store.listMetricPoints(id, 'http_req_duration{status:200}');
    assert.deepEqual(ok.map((p) => p.values['count']), [300, 300]);
    assert.equal(ok[0]?.values['max'], Math.max(...OK_A));
  });

  it('finishes as k6 reports, with summary values and threshold results from the pushed aggregates', async () => {
    const r = await finish(id, {
      result_status: 1, run_status: 3,
      thresholds: { http_req_duration: { 'p(95)<500': false, 'avg<100': false }, 'http_req_duration{status:200}': { 'max<200': false }, http_req_failed: { 'rate<0.01': true }, checks: { 'rate>0.9': false } },
    });
    assert.equal(r.statusCode, 200, r.body);
    const run = await h.store.getRun(h.a.org.id, id);
    assert.equal(run?.status.name, 'Finished');
    assert.equal(run?.result, 'failed');
    assert.equal(run?.lastChange.reason, 'completed');
    assert.match(run?.lastChange.message ?? '', /"rate<0.01" on http_req_failed/);

    const results = await h.store.listThresholdResults(h.a.org.id, id);
    const byKey = Object.fromEntries((results ?? []).map((t) => [`${t.metric} ${t.expression}`, t.passed]));
    assert.deepEqual(byKey, {
      'http_req_duration p(95)<500': true, 'http_req_duration avg<100': true, 'http_req_duration{status:200} max<200': true,
      'http_req_failed rate<0.01': false, 'checks rate>0.9': true,
    });

    const summary = await h.store.getRunSummary(id) as Summary;
    assert.equal(summary.metrics['http_reqs']?.values['count'], 605);
    assert.equal(summary.metrics['http_req_failed']?.values['rate'], 5 / 605);
    assert.equal(summary.metrics['http_req_failed']?.values['passes'], 5);
    assert.deepEqual(summary.metrics['http_req_failed']?.thresholds, { 'rate<0.01': { ok: false } });
    const d = summary.metrics['http_req_duration']?.values ?? {};
    assert.equal(d['min'], Math.min(...ALL));
    assert.equal(d['max'], Math.max(...ALL));
    assert.ok(Math.abs((d['avg'] ?? 0) - ALL.reduce((a, b) => a + b, 0) / ALL.length) < 1e-9);
    const p95 = exactPercentile(ALL, 95);
    assert.ok(Math.abs((d['p(95)'] ?? 0) - p95) / p95 < 0.02, `p(95) ${d['p(95)']} vs ${p95}`);
    const sub = summary.metrics['http_req_duration{status:200}']?.values ?? {};
    assert.equal(sub['max'], Math.max(...ALL_OK));
    assert.equal(summary.metrics['vus']?.values['value'], 3);
    assert.equal(summary.metrics['checks']?.values['rate'], 310 / 315);
    assert.deepEqual(summary.root_group.checks.map((c) => [c.name, c.passes, c.fails]), [['status is 200', 300, 5]]);
    assert.deepEqual(summary.root_group.groups.map((g) => [g.name, g.checks.map((c) => [c.name, c.passes, c.fails])]), [['login', [['fast', 10, 0]]]]);
  });

  it("answers a push after the end with 403 and k6's error code 4, so k6 stops pushing", async () => {
    const r = await push(id, PUSH_2);
    assert.equal(r.statusCode, 403);
    const body = r.json() as { error: { code: number; message: string } };
    assert.equal(body.error.code, 4);
    assert.match(body.error.message, new RegExp(`test run ${id} has ended \\(Finished\\)`));
    // A finish sent again changes nothing.
    assert.equal((await finish(id, { result_status: 0, run_status: 5, thresholds: {} })).statusCode, 200);
    assert.equal((await h.store.getRun(h.a.org.id, id))?.status.name, 'Finished');
  });
});

describe('k6 run --out cloud: how runs end', () => {
  it("maps k6's run_status to herd's final status and reason", async () => {
    const cases: Array<[number, 0 | 1, string, string, string | null]> = [
      [3, 0, 'Finished', 'completed', 'passed'],
      [4, 0, 'Timed out', 'external_timeout', null],
      [5, 0, 'Aborted by user', 'user_abort', null],
      [6, 0, 'Aborted by system', 'external_system_abort', null],
      [7, 0, 'Aborted by script error', 'script_error', null],
      [8, 1, 'Aborted by threshold', 'thresholds_crossed', 'failed'],
      [9, 0, 'Timed out', 'external_timeout', null],
    ];
    for (const [runStatus, resultStatus, name, reason, result] of cases) {
      const id = await createRun(h.a.memberSecret, { name: `end-${runStatus}.js`, thresholds: {} });
      assert.equal((await push(id, PUSH_2)).statusCode, 200);
      const r = await finish(id, { result_status: resultStatus, run_status: runStatus, thresholds: {} });
      assert.equal(r.statusCode, 200, r.body);
      const run = await h.store.getRun(h.a.org.id, id);
      assert.deepEqual([run?.status.name, run?.lastChange.reason, run?.result], [name, reason, result], `run_status ${runStatus}`);
      assert.equal((await push(id, PUSH_2)).statusCode, 403, `push after run_status ${runStatus}`);
      // Whatever ended it, what was received is in the summary.
      assert.equal((await h.store.getRunSummary(id) as Summary).metrics['http_reqs']?.values['count'], 300);
    }
  });

  it('refuses a finish with a run_status that is no end', async () => {
    const id = await createRun(h.a.memberSecret, { name: 'bad-end.js' });
    for (const body of [{ run_status: 2 }, { run_status: 10 }, { run_status: '3' }, { run_status: 3, result_status: 2 }, { run_status: 3, thresholds: { checks: { 'rate>0.9': 'yes' } } }]) {
      const r = await finish(id, body);
      assert.equal(r.statusCode, 400, JSON.stringify(body));
      assert.equal((r.json() as { error: { code: number } }).error.code, 1);
    }
    assert.equal((await h.store.getRun(h.a.org.id, id))?.status.name, 'Running');
  });

  it('makes the next push answer 403 after a user aborts the run in herd', async () => {
    const id = await createRun(h.a.memberSecret, { name: 'aborted-in-herd.js' });
    assert.equal((await push(id, PUSH_1)).statusCode, 200);
    const abort = await h.app.inject({ method: 'POST', url: `/api/v1/runs/${id}/abort`, headers: { authorization: `Bearer ${h.a.memberSecret}` } });
    assert.equal(abort.statusCode, 200, abort.body);
    const r = await push(id, PUSH_2);
    assert.equal(r.statusCode, 403);
    assert.match((r.json() as { error: { message: string } }).error.message, /Aborted by user/);
    // What arrived before the abort is kept as the run's summary.
    assert.equal((await h.store.getRunSummary(id) as Summary).metrics['http_reqs']?.values['count'], 305);
  });
});

describe('k6 run --out cloud: refused pushes', () => {
  let id: RunId;
  before(async () => {
    id = await createRun(h.a.memberSecret, { name: 'refused.js' });
  });

  it('says what is wrong with a malformed body, in a 400', async () => {
    const send = (payload: Buffer, over: Record<string, string> = {}) => h.app.inject({
      method: 'POST', url: `/v2/metrics/${id}`, headers: { ...k6PushHeaders(h.a.memberSecret, newKey()), ...over }, payload,
    });
    const notSnappy = await send(Buffer.from('{"metrics": []}'));
    assert.equal(notSnappy.statusCode, 400);
    assert.match((notSnappy.json() as { error: { message: string } }).error.message, /not valid snappy block data/);
    const unknownType = await send(k6PushBody([{ name: 'http_reqs', type: 7, series: [] }]));
    assert.equal(unknownType.statusCode, 400);
    const body = unknownType.json() as { error: { code: number; message: string; details: Record<string, string[]> } };
    assert.equal(body.error.code, 1);
    assert.match(body.error.message, /unknown metric type 7/);
    assert.ok(body.error.details['body'] !== undefined);
    const notProtobuf = await send(Buffer.from([0x04, 0x0c, 0x0f, 0xff, 0xff, 0xff]));
    assert.equal(notProtobuf.statusCode, 400);
    assert.match((notProtobuf.json() as { error: { message: string } }).error.message, /not a protobuf MetricSet/);
    const gzip = await send(k6PushBody(PUSH_2), { 'content-encoding': 'gzip' });
    assert.equal(gzip.statusCode, 415);
    assert.match((gzip.json() as { error: { message: string } }).error.message, /Content-Encoding: snappy, got gzip/);
    const asJson = await send(Buffer.from('[]'), { 'content-type': 'application/json' });
    assert.equal(asJson.statusCode, 415);
    // Nothing of it was counted.
    assert.deepEqual(await h.store.listMetricPoints(id, 'http_reqs'), []);
  });

  it('refuses a metric pushed with another type than before', async () => {
    const r = await push(id, [{ name: 'vus', type: 1, series: [{ labels: {}, counter: [{ t: T0, value: 1 }] }] }]);
    assert.equal(r.statusCode, 409);
    assert.match((r.json() as { error: { message: string } }).error.message, /metric "vus" is a gauge in this run, but this push sends it as a counter/);
  });

  it("answers 404 for another organization's run, and 409 for a run herd executes itself", async () => {
    const foreign = await push(id, PUSH_2, { secret: h.b.memberSecret });
    assert.equal(foreign.statusCode, 404);
    assert.equal((foreign.json() as { error: { code: number } }).error.code, 3);
    assert.equal((await finish(id, { run_status: 3, result_status: 0 }, h.b.memberSecret)).statusCode, 404);
    assert.equal((await push('999999', PUSH_2)).statusCode, 404);
    assert.equal((await h.store.getRun(h.a.org.id, id))?.status.name, 'Running');
    const own = await h.makeRun(h.a, { to: [RunStatuses.Validated, RunStatuses.Queued] });
    const r = await push(own.id, PUSH_2);
    assert.equal(r.statusCode, 409);
    assert.match((r.json() as { error: { message: string } }).error.message, /executed by herd's load generators/);
    assert.equal((await finish(own.id, { run_status: 3, result_status: 0 })).statusCode, 409);
  });
});
