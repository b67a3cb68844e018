// End-to-end: the request sequence `k6 cloud script.js` of k6 v0.49.0 sends (K6-CLOUD-API.md
// §1.2-§1.3), written byte for byte on a raw TCP socket (Go's header order, `Token` auth,
// `User-Agent: k6cloud/0.49.0`, `K6-Idempotency-Key` on POSTs, Go's multipart framing with the
// fields in k6's order and the archive in part `file` named `archive.tar`), replayed against a
// real `herd server` with its embedded load generator and the demo target.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { k6FixtureArchive, k6Options, ARCHIVE_TOKEN } from '../src/cloud/k6compat/test-fixtures.js';
import { openSqliteStore } from '../src/cloud/store/index.js';
import { archiveIdSchema, orgIdSchema, runIdSchema } from '../src/protocol/index.js';
import { startTarget, type RunningTarget } from '../src/target/index.js';
import { ADMIN_TOKEN, startHerdServer, STATUS, type HerdServer } from './helpers/herd-server.js';
import { sendRaw, type RawAnswer } from './helpers/raw-http.js';

let server: HerdServer;
let target: RunningTarget;

before(async () => {
  [server, target] = await Promise.all([startHerdServer({ settings: { '--heartbeat': '500ms' } }), startTarget({ port: 0 })]);
});
after(async () => {
  await Promise.allSettled([server?.stop(), target?.close()]);
});

/** A request exactly as k6 v0.49's cloudapi.Client writes it through Go's net/http. */
function k6Request(method: 'GET' | 'POST', urlPath: string, opts: { body?: Uint8Array; contentType?: string; key?: string; token?: string } = {}): Buffer {
  const lines = [`${method} ${urlPath} HTTP/1.1`, `Host: 127.0.0.1:${server.port}`, 'User-Agent: k6cloud/0.49.0'];
  // Go writes Content-Length for every POST (0 without a body), never for a bodiless GET.
  if (method === 'POST') lines.push(`Content-Length: ${opts.body?.byteLength ?? 0}`);
  // Then the request's own headers, sorted by name: Authorization, Content-Type, K6-Idempotency-Key.
  lines.push(`Authorization: Token ${opts.token ?? ADMIN_TOKEN}`);
  lines.push(`Content-Type: ${opts.contentType ?? 'application/json'}`);
  if (method === 'POST') lines.push(`K6-Idempotency-Key: ${opts.key ?? idempotencyKey()}`);
  // The transport's own, last.
  lines.push('Accept-Encoding: gzip');
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), Buffer.from(opts.body ?? new Uint8Array())]);
}

/** 8 random bytes as 16 lowercase hex chars, as k6 makes them. */
function idempotencyKey(): string {
  return randomBytes(8).toString('hex');
}

/** Go's mime/multipart: random 60-hex-char boundary, first part without a leading CRLF. */
function k6Multipart(fields: ReadonlyArray<[string, string]>, archive: Uint8Array): { body: Buffer; contentType: string } {
  const boundary = randomBytes(30).toString('hex');
  const parts: Buffer[] = [];
  let first = true;
  const open = (headers: string) => {
    parts.push(Buffer.from(`${first ? '' : '\r\n'}--${boundary}\r\n${headers}\r\n\r\n`));
    first = false;
  };
  for (const [name, value] of fields) {
    open(`Content-Disposition: form-data; name="${name}"`);
    parts.push(Buffer.from(value));
  }
  open('Content-Disposition: form-data; name="file"; filename="archive.tar"\r\nContent-Type: application/octet-stream');
  parts.push(Buffer.from(archive));
  parts.push(Buffer.from(`\r\n--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** Sends raw request bytes to the server and reads one HTTP/1.1 answer. */
function send(request: Buffer): Promise<RawAnswer> {
  return sendRaw(server.port, request);
}

interface Progress {
  run_status: number;
  run_status_text: string;
  result_status: number;
  progress: number;
}

/** Step F: polls test-progress (k6 every 2 s; here every 200 ms) until run_status > 2 or `until` holds. */
async function poll(ref: string, until: (p: Progress) => boolean = (p) => p.run_status > 2, timeoutMs = 60_000): Promise<{ last: Progress; seen: Progress[] }> {
  const seen: Progress[] = [];
  const end = performance.now() + timeoutMs;
  for (;;) {
    const r = await send(k6Request('GET', `/v1/test-progress/${ref}`));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const p = r.body as Progress;
    assert.deepEqual(Object.keys(p).sort(), ['progress', 'result_status', 'run_status', 'run_status_text']);
    assert.ok(p.progress >= 0 && p.progress <= 1, JSON.stringify(p));
    seen.push(p);
    if (until(p)) return { last: p, seen };
    if (performance.now() > end) throw new Error(`run ${ref} still ${JSON.stringify(p)} after ${timeoutMs} ms`);
    await new Promise((r2) => setTimeout(r2, 200));
  }
}

/** Steps B and C of `k6 cloud script.js`: validate the options, upload the archive. */
async function k6Cloud(archive: Uint8Array, options: Record<string, unknown>, name = 'script.js', key = idempotencyKey()): Promise<{ ref: string; upload: RawAnswer }> {
  const validate = await send(k6Request('POST', '/v1/validate-options', { body: Buffer.from(JSON.stringify({ options })) }));
  assert.equal(validate.status, 200, JSON.stringify(validate.body));
  const mp = k6Multipart([['name', name]], archive);
  const upload = await send(k6Request('POST', '/v1/archive-upload', { body: mp.body, contentType: mp.contentType, key }));
  assert.equal(upload.status, 200, JSON.stringify(upload.body));
  assert.match(upload.headers['content-type'] ?? '', /^application\/json/);
  const ref = (upload.body as { reference_id: string }).reference_id;
  assert.match(ref, /^[1-9][0-9]*$/);
  return { ref, upload };
}

describe('k6 cloud script.js (k6 v0.49, legacy /v1 protocol) against herd server', { concurrency: 2 }, () => {
  it('runs the uploaded k6 archive on the agent to Finished: test-progress ends at run_status 3, result_status 0, progress 1', async () => {
    const options = k6Options();
    const archive = k6FixtureArchive({ env: { TARGET: target.url, GREETING: 'hi' }, options });
    const { ref, upload } = await k6Cloud(archive, options);
    const config = (upload.body as { config: { webAppURL: string; testRunDetails: string } }).config;
    assert.equal(config.testRunDetails, `${server.url}/#/runs/${ref}`);
    const { last, seen } = await poll(ref);
    assert.deepEqual(last, { run_status: 3, run_status_text: 'Finished', result_status: 0, progress: 1 }, JSON.stringify(seen));
    const codes = seen.map((p) => p.run_status);
    for (let i = 1; i < codes.length; i++) assert.ok(codes[i]! >= codes[i - 1]!, `status went back: ${codes.join(',')}`);
    const run = await server.getRun(ref);
    assert.equal(run.status.code, STATUS.Finished);
    assert.equal(run.result, 'passed');
    assert.equal(run.vus, 2);
    const summary = await server.api<{ summary: { metrics: Record<string, { values: Record<string, number> }> } }>('GET', `/api/v1/runs/${ref}/summary`);
    assert.equal(summary.body.summary.metrics['http_reqs']?.values['count'], 4);
    assert.equal(summary.body.summary.metrics['checks']?.values['rate'], 1);
    const thresholds = await server.api<{ thresholds: Array<{ metric: string; passed: boolean }> }>('GET', `/api/v1/runs/${ref}/thresholds`);
    assert.deepEqual(thresholds.body.thresholds.map((t) => `${t.metric} ${t.passed}`).sort(), ['checks true', 'http_req_duration true']);
  });

  it('does not store the token k6 put into the archive: neither in the run\'s options nor in the stored archive', async () => {
    const options = k6Options({ vus: 1, iterations: 1 });
    const { ref } = await k6Cloud(k6FixtureArchive({ env: { TARGET: target.url }, options }), options);
    const run = await server.api<{ options: Record<string, unknown>; archiveId: string }>('GET', `/api/v1/runs/${ref}`);
    assert.equal(JSON.stringify(run.body).includes(ARCHIVE_TOKEN), false);
    assert.deepEqual(run.body.options['ext'], { loadimpact: { name: 'script.js' } });
    const store = await openSqliteStore({ file: path.join(server.dataDir, 'herd.db') });
    try {
      const stored = await store.getRunForSystem(runIdSchema.parse(ref));
      assert.ok(stored !== undefined);
      const archive = await store.getArchive(orgIdSchema.parse(stored.orgId), archiveIdSchema.parse(run.body.archiveId));
      assert.ok(archive !== undefined);
      assert.equal(gunzipSync(archive.bytes).includes(Buffer.from(ARCHIVE_TOKEN)), false);
      assert.equal(Buffer.from(archive.bytes).includes(Buffer.from(ARCHIVE_TOKEN)), false);
    } finally {
      await store.close();
    }
    await poll(ref);
  });

  it('a stop (the first Ctrl+C) ends a running run Aborted by user: run_status 5', async () => {
    const options = k6Options({ vus: 1, iterations: null, duration: '60s' });
    const { ref } = await k6Cloud(k6FixtureArchive({ env: { TARGET: target.url, SLEEP: '0.2' }, options }), options);
    await poll(ref, (p) => p.run_status === 2 || p.run_status > 2);
    const stop = await send(k6Request('POST', `/v1/tests/${ref}/stop`));
    assert.equal(stop.status, 200, JSON.stringify(stop.body));
    const { last } = await poll(ref, (p) => p.run_status > 2, 20_000);
    assert.deepEqual(last, { run_status: 5, run_status_text: 'Aborted by user', result_status: 0, progress: 1 });
  });

  it("answers invalid options on validate-options with 400 and k6's error body", async () => {
    const r = await send(k6Request('POST', '/v1/validate-options', { body: Buffer.from(JSON.stringify({ options: k6Options({ iterations: 'many' }) })) }));
    assert.equal(r.status, 400);
    const body = r.body as { error: { code: number; message: string; details?: Record<string, string[]> } };
    assert.deepEqual(Object.keys(body), ['error']);
    assert.equal(typeof body.error.code, 'number');
    assert.match(body.error.message, /iterations/);
  });

  it('a retried archive-upload with the same K6-Idempotency-Key gets the same reference_id and makes one run', async () => {
    const options = k6Options({ vus: 1, iterations: 1 });
    const archive = k6FixtureArchive({ env: { TARGET: target.url }, options });
    const key = idempotencyKey();
    const name = `idempotent-${key}`;
    const first = await k6Cloud(archive, options, name, key);
    const second = await k6Cloud(archive, options, name, key);
    assert.equal(second.ref, first.ref);
    const tests = await server.api<{ tests: Array<{ id: string; name: string }> }>('GET', '/api/v1/tests');
    const test = tests.body.tests.find((t) => t.name === name);
    assert.ok(test !== undefined);
    const runs = await server.api<{ runs: Array<{ id: string }> }>('GET', `/api/v1/runs?testId=${test.id}`);
    assert.deepEqual(runs.body.runs.map((r) => r.id), [first.ref]);
    await poll(first.ref);
  });
});
