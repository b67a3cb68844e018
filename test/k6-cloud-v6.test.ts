// End-to-end: the request sequence `k6 cloud run script.js` of k6 ≥ 2.0 sends to the v6 REST API
// (K6-CLOUD-API.md §0.2, §1.8), written byte for byte on a raw TCP socket as Go's net/http
// writes the generated client's requests (`Bearer` auth, `User-Agent: k6cloud/v2.0.0`,
// `Accept: application/json`, `X-Stack-Id`, `K6-Idempotency-Key` on start, the multipart
// with field `name` and file part `script`), replayed against a real `herd server` with its
// embedded load generator and the demo target. Every answer is checked against the v6 models,
// and each run's end is turned into the exit code k6 would give by §2.3's rules.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { z } from 'zod';
import { k6FixtureArchive, k6Options } from '../src/cloud/k6compat/test-fixtures.js';
import {
  v6AuthSchema, v6ErrorBodySchema, v6ListSchema, v6LoadTestSchema, v6StartLoadTestResponseSchema, v6TestRunSchema,
  v6ValidateOptionsResponseSchema, type V6TestRun,
} from '../src/cloud/k6compat/v6-models.js';
import { startTarget, type RunningTarget } from '../src/target/index.js';
import { ADMIN_TOKEN, startHerdServer, STATUS, type HerdServer } from './helpers/herd-server.js';
import { sendRaw, type RawAnswer } from './helpers/raw-http.js';

let server: HerdServer;
let target: RunningTarget;
let stackId: number;
let projectId: number;

before(async () => {
  [server, target] = await Promise.all([startHerdServer({ settings: { '--heartbeat': '500ms' } }), startTarget({ port: 0 })]);
  // `k6 cloud login`: the one call without X-Stack-Id; it tells the stack and default project.
  const auth = parse(await send('GET', '/cloud/v6/auth', { stack: false, extra: [['X-Stack-Url', 'https://herd.grafana.net']] }), 200, v6AuthSchema);
  stackId = auth.stack_id;
  projectId = auth.default_project_id;
});
after(async () => {
  await Promise.allSettled([server?.stop(), target?.close()]);
});

/** A request as Go's net/http writes one of the generated v6 client's: Host, User-Agent, Content-Length, the rest sorted, Accept-Encoding last. */
function send(method: 'GET' | 'POST' | 'PUT', urlPath: string, opts: { body?: Uint8Array; contentType?: string; key?: string; stack?: boolean; extra?: Array<[string, string]> } = {}): Promise<RawAnswer> {
  const lines = [`${method} ${urlPath} HTTP/1.1`, `Host: 127.0.0.1:${server.port}`, 'User-Agent: k6cloud/v2.0.0'];
  if (method !== 'GET') lines.push(`Content-Length: ${opts.body?.byteLength ?? 0}`);
  const headers: Array<[string, string]> = [['Accept', 'application/json'], ['Authorization', `Bearer ${ADMIN_TOKEN}`], ...(opts.extra ?? [])];
  if (opts.contentType !== undefined) headers.push(['Content-Type', opts.contentType]);
  if (opts.key !== undefined) headers.push(['K6-Idempotency-Key', opts.key]);
  if (opts.stack !== false) headers.push(['X-Stack-Id', String(stackId)]);
  headers.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [k, v] of headers) lines.push(`${k}: ${v}`);
  lines.push('Accept-Encoding: gzip');
  return sendRaw(server.port, Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), Buffer.from(opts.body ?? new Uint8Array())]));
}

/** The status, a JSON content type the generated client decodes, and the model with every required key. */
function parse<S extends z.ZodType>(r: RawAnswer, status: number, schema: S): z.output<S> {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.match(r.headers['content-type'] ?? '', /^application\/json/);
  const parsed = schema.safeParse(r.body);
  assert.ok(parsed.success, `${JSON.stringify(r.body)}\n${parsed.success ? '' : JSON.stringify(parsed.error.issues)}`);
  return parsed.data;
}

/** Go's mime/multipart: random 60-hex-char boundary, first part without a leading CRLF. */
function multipart(name: string, tar: Uint8Array): { body: Buffer; contentType: string } {
  const boundary = randomBytes(30).toString('hex');
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n${name}`),
    Buffer.from(`\r\n--${boundary}\r\nContent-Disposition: form-data; name="script"; filename="script"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    Buffer.from(tar),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

const key = () => randomBytes(8).toString('hex');

/** §1.8 steps 2-4: validate, create the load test (on 409: find it by name, replace its script), start it. */
async function cloudRun(name: string, options: Record<string, unknown>, env: Record<string, string>): Promise<z.output<typeof v6StartLoadTestResponseSchema>> {
  parse(await send('POST', '/cloud/v6/validate_options', { body: Buffer.from(JSON.stringify({ options, project_id: projectId })), contentType: 'application/json' }), 200, v6ValidateOptionsResponseSchema);
  const tar = k6FixtureArchive({ env: { TARGET: target.url, ...env }, options });
  const mp = multipart(name, tar);
  const created = await send('POST', `/cloud/v6/projects/${projectId}/load_tests`, { body: mp.body, contentType: mp.contentType });
  let testId: number;
  if (created.status === 409) {
    parse(created, 409, v6ErrorBodySchema);
    const list = parse(await send('GET', `/cloud/v6/projects/${projectId}/load_tests?name=${encodeURIComponent(name)}&$top=1`), 200, v6ListSchema(v6LoadTestSchema));
    testId = list.value[0]?.id ?? assert.fail(`load test ${name} not found`);
    const put = await send('PUT', `/cloud/v6/load_tests/${testId}/script`, { body: tar, contentType: 'application/octet-stream' });
    assert.equal(put.status, 204, JSON.stringify(put.body));
  } else {
    testId = parse(created, 201, v6LoadTestSchema).id;
  }
  return parse(await send('POST', `/cloud/v6/load_tests/${testId}/start`, { key: key() }), 200, v6StartLoadTestResponseSchema);
}

const ORDER = ['created', 'queued', 'initializing', 'running', 'processing_metrics', 'completed', 'aborted'];

/** §1.8 step 6: polls (k6 every 2 s; here every 200 ms) until completed/aborted or `until` holds. */
async function poll(id: number, until: (r: V6TestRun) => boolean = (r) => r.status === 'completed' || r.status === 'aborted', timeoutMs = 60_000): Promise<{ last: V6TestRun; seen: string[] }> {
  const seen: string[] = [];
  const end = performance.now() + timeoutMs;
  for (;;) {
    const run = parse(await send('GET', `/cloud/v6/test_runs/${id}`), 200, v6TestRunSchema);
    if (seen.at(-1) !== run.status) seen.push(run.status);
    if (until(run)) return { last: run, seen };
    if (performance.now() > end) throw new Error(`test run ${id} still ${JSON.stringify(run)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// §2.3, v2.x: failed → 99, error → 97, otherwise 0.
const k6ExitCode = (r: V6TestRun) => (r.result === 'failed' ? 99 : r.result === 'error' ? 97 : 0);

describe('k6 cloud run (k6 ≥ 2.0, v6 REST API) against herd server', { concurrency: 2 }, () => {
  it('runs the uploaded archive on the agent to completed/passed, exit 0, with the status history k6 reads', async () => {
    const options = k6Options();
    const started = await cloudRun(`v6 pass ${key()}`, options, { GREETING: 'hi' });
    assert.equal(started.test_run_details_page_url, `${server.url}/#/runs/${started.id}`);
    const { last, seen } = await poll(started.id);
    assert.equal(last.status, 'completed', JSON.stringify(last));
    assert.equal(last.result, 'passed');
    assert.equal(k6ExitCode(last), 0);
    for (let i = 1; i < seen.length; i++) assert.ok(ORDER.indexOf(seen[i]!) > ORDER.indexOf(seen[i - 1]!), `status went back: ${seen.join(',')}`);
    assert.deepEqual(last.status_history.map((s) => s.type), ['created', 'queued', 'initializing', 'running', 'completed']);
    assert.equal(last.max_vus, 2);
    assert.ok(last.ended !== null && Date.parse(last.ended) >= Date.parse(last.created));
    // The same run as herd's own API sees it.
    const run = await server.getRun(String(started.id));
    assert.equal(run.status.code, STATUS.Finished);
    assert.equal(run.result, 'passed');
  });

  it('a second run of the same name goes 409 → list by name → PUT script; failed thresholds end completed/failed, exit 99', async () => {
    const name = `v6 rerun ${key()}`;
    const first = await cloudRun(name, k6Options({ vus: 1, iterations: 1 }), {});
    await poll(first.id);
    const options = k6Options({ vus: 1, iterations: 2, thresholds: { checks: ['rate<0.5'] } });
    const second = await cloudRun(name, options, {});
    assert.equal(second.test_id, first.test_id);
    const { last } = await poll(second.id);
    assert.equal(last.status, 'completed', JSON.stringify(last));
    assert.equal(last.result, 'failed');
    assert.equal(k6ExitCode(last), 99);
    // The run used the replaced script's options.
    assert.equal(last.max_vus, 1);
    assert.deepEqual(last.options?.['thresholds'], { checks: ['rate<0.5'] });
  });

  it('a load test created from plain JavaScript (not what k6 sends, but what the API takes) runs with the options it exports', async () => {
    const script = `import http from 'k6/http';\nimport { check } from 'k6';\nexport const options = { vus: 3, iterations: 6, thresholds: { checks: ['rate==1'] } };\nexport default function () {\n  check(http.get('${target.url}/get'), { ok: (r) => r.status === 200 });\n}\n`;
    const mp = multipart(`v6 plain ${key()}`, new TextEncoder().encode(script));
    const created = parse(await send('POST', `/cloud/v6/projects/${projectId}/load_tests`, { body: mp.body, contentType: mp.contentType }), 201, v6LoadTestSchema);
    const started = parse(await send('POST', `/cloud/v6/load_tests/${created.id}/start`, { key: key() }), 200, v6StartLoadTestResponseSchema);
    const { last } = await poll(started.id);
    assert.equal(last.status, 'completed', JSON.stringify(last));
    assert.equal(last.result, 'passed');
    assert.equal(last.max_vus, 3);
    const summary = await server.api<{ summary: { metrics: Record<string, { values: Record<string, number> }> } }>('GET', `/api/v1/runs/${started.id}/summary`);
    assert.equal(summary.body.summary.metrics['http_reqs']?.values['count'], 6);
  });

  it('Ctrl+C aborts a running run: 204, then aborted with by_user set ("Aborted (by user)"), result error, exit 97; a second abort is 409', async () => {
    const options = k6Options({ vus: 1, iterations: null, duration: '60s' });
    const started = await cloudRun(`v6 abort ${key()}`, options, { SLEEP: '0.2' });
    const running = await poll(started.id, (r) => r.status === 'running' || r.status === 'completed' || r.status === 'aborted');
    assert.equal(running.last.status, 'running', JSON.stringify(running.last));
    assert.equal(running.last.estimated_duration, 90);
    const abort = await send('POST', `/cloud/v6/test_runs/${started.id}/abort`);
    assert.equal(abort.status, 204, JSON.stringify(abort.body));
    const { last } = await poll(started.id, undefined, 20_000);
    assert.equal(last.status, 'aborted');
    assert.equal(last.result, 'error');
    assert.equal(k6ExitCode(last), 97);
    const extra = last.status_history.find((s) => s.type === 'aborted')?.extra;
    assert.ok(extra?.by_user !== null && extra?.by_user !== undefined && extra.by_user !== '', JSON.stringify(last.status_history));
    assert.equal(extra.code, STATUS.AbortedByUser);
    parse(await send('POST', `/cloud/v6/test_runs/${started.id}/abort`), 409, v6ErrorBodySchema);
  });
});
