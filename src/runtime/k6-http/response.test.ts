import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTarget, type RunningTarget } from '../../target/index.js';
import { HerdError } from '../../errors/index.js';
import type { VuState } from '../vu-state.js';
import { createHttpModule } from './http-module.js';
import { fakeVu, setup } from './test-helpers.js';
import { startRawServer } from './test-server.js';

let target: RunningTarget;
before(async () => {
  target = await startTarget({ port: 0 });
});
after(async () => {
  await target.close();
});

test('a GET response carries status, status text, proto, headers, url, remote address and request', async () => {
  const { http } = setup();
  const res = await http.get(`${target.url}/get?source=corpus`, { headers: { 'x-api-key': 'k1' } });
  assert.equal(res.status, 200);
  assert.equal(res.status_text, '200 OK');
  assert.equal(res.proto, 'HTTP/1.1');
  assert.equal(res.url, `${target.url}/get?source=corpus`);
  assert.equal(res.headers['Content-Type'], 'application/json');
  assert.equal(res.remote_ip, '127.0.0.1');
  assert.equal(res.remote_port, target.port);
  assert.equal(res.tls_version, '');
  assert.equal(res.error, '');
  assert.equal(res.error_code, 0);
  assert.deepEqual(res.cookies, {});
  assert.equal(res.request.method, 'GET');
  assert.equal(res.request.url, `${target.url}/get?source=corpus`);
  assert.deepEqual(res.request.headers['X-Api-Key'], ['k1']);
  const echo = res.json() as { args: Record<string, string>; headers: Record<string, string> };
  assert.deepEqual(echo.args, { source: 'corpus' });
  assert.equal(echo.headers['User-Agent'], 'herd/0.1.0 (https://github.com/herd; k6 compatible)');
  assert.equal(echo.headers['X-Api-Key'], 'k1');
  assert.equal(echo.headers['Accept-Encoding'], undefined, 'no Accept-Encoding unless asked');
});

test('timings are non-negative and duration is sending + waiting + receiving', async () => {
  const { http } = setup();
  const res = await http.get(`${target.url}/delay/0.05`);
  const t = res.timings;
  for (const v of Object.values(t)) assert.ok(v >= 0);
  assert.ok(Math.abs(t.duration - (t.sending + t.waiting + t.receiving)) < 1e-9);
  assert.ok(t.waiting >= 45, `waiting ${t.waiting} should include the 50 ms delay`);
  assert.ok(t.connecting > 0, 'a new connection has a connect phase');
});

test('a second request reuses the keep-alive connection so connecting is 0', async () => {
  const { http, vu } = setup();
  await http.get(`${target.url}/get`);
  const second = await http.get(`${target.url}/get`);
  assert.equal(second.timings.connecting, 0);
  const pool = (vu.local.get('k6/http') as { pool: { size: number } }).pool;
  assert.equal(pool.size, 1);
});

test("the VUs of a test share one built head for the same request; a different request gets its own", async () => {
  const { http, vu, test: t } = setup();
  const vu2 = fakeVu(t, 2);
  const http2 = createHttpModule().instantiate(vu2).default as unknown as typeof http;
  const headOf = (v: VuState): unknown => (v.local.get('k6/http') as { heads: { built: unknown } }).heads.built;
  await http.get(`${target.url}/get`, { headers: { 'X-Same': '1' } });
  await http2.get(`${target.url}/get`, { headers: { 'X-Same': '1' } });
  assert.ok(headOf(vu) !== null);
  assert.equal(headOf(vu2), headOf(vu), 'the second VU took the head the first one built');
  const other = await http2.get(`${target.url}/get`, { headers: { 'X-Same': '2' } });
  assert.notEqual(headOf(vu2), headOf(vu));
  assert.deepEqual(other.request.headers['X-Same'], ['2']);
  assert.deepEqual((other.json() as { headers: Record<string, string> }).headers['X-Same'], '2');
});

test('the user agent option and a request User-Agent header are honoured, the header winning', async () => {
  const { http } = setup({ userAgent: 'custom/1.0' });
  const a = (await http.get(`${target.url}/user-agent`)).json() as Record<string, string>;
  assert.equal(a['user-agent'], 'custom/1.0');
  const b = (await http.get(`${target.url}/user-agent`, { headers: { 'User-Agent': 'mine' } })).json() as Record<string, string>;
  assert.equal(b['user-agent'], 'mine');
});

test('string, binary and object bodies are sent as k6 sends them', async () => {
  const { http } = setup();
  const s = (await http.post(`${target.url}/post`, 'plain text')).json() as Record<string, unknown>;
  assert.equal(s.data, 'plain text');
  const bin = (await http.post(`${target.url}/post`, new Uint8Array([104, 105]).buffer)).json() as Record<string, unknown>;
  assert.equal(bin.data, 'hi');
  const form = (await http.post(`${target.url}/post`, { b: 'two words', a: '1&2' })).json() as Record<string, unknown>;
  assert.equal(form.data, 'a=1%262&b=two+words', 'keys sorted, Go query escaping');
  assert.deepEqual(form.form, { a: '1&2', b: 'two words' });
  assert.equal((form.headers as Record<string, string>)['Content-Type'], 'application/x-www-form-urlencoded');
  const put = (await http.put(`${target.url}/put`, JSON.stringify({ x: 1 }), { headers: { 'Content-Type': 'application/json' } })).json() as Record<string, unknown>;
  assert.deepEqual(put.json, { x: 1 });
});

test('an object body with an http.file value is sent as multipart/form-data', async () => {
  const { http } = setup();
  const res = await http.post(`${target.url}/post`, { field: 'v', upload: http.file('file content', 'a.txt', 'text/plain') });
  const echo = res.json() as Record<string, Record<string, string>>;
  assert.deepEqual(echo.form, { field: 'v' });
  assert.deepEqual(echo.files, { upload: 'file content' });
  assert.match((echo.headers as Record<string, string>)['Content-Type'] as string, /^multipart\/form-data; boundary=/);
});

test('responseType text, binary and none give a string, an ArrayBuffer and null', async () => {
  const { http } = setup();
  const text = await http.get(`${target.url}/bytes/16`);
  assert.equal(typeof text.body, 'string');
  const bin = await http.get(`${target.url}/bytes/64`, { responseType: 'binary' });
  assert.ok(bin.body instanceof ArrayBuffer);
  assert.equal(bin.body.byteLength, 64);
  const none = await http.get(`${target.url}/get`, { responseType: 'none' });
  assert.equal(none.body, null);
  assert.equal(none.status, 200);
});

test('discardResponseBodies makes bodies null unless a request asks for text', async () => {
  const { http } = setup({ discardResponseBodies: true });
  const discarded = await http.get(`${target.url}/get`);
  assert.equal(discarded.body, null);
  assert.throws(() => discarded.json(), /the body is null/);
  const kept = await http.get(`${target.url}/json`, { responseType: 'text' });
  assert.equal(kept.json('store.items.0.name'), 'apple');
});

test('json() parses once and selectors follow gjson syntax with undefined for missing paths', async () => {
  const { http } = setup();
  const res = await http.get(`${target.url}/json`);
  assert.equal(res.json(), res.json(), 'the parsed document is cached');
  assert.equal(res.json('store.items.1.name'), 'bread');
  assert.equal(res.json('store.items.#'), 3);
  assert.deepEqual(res.json('store.items.#.id'), [1, 2, 3]);
  assert.equal(res.json('store.missing'), undefined);
  const html = await http.get(`${target.url}/html`);
  assert.throws(() => html.json(), /cannot parse json/);
  assert.equal(html.json('a.b'), undefined);
});

test('HEAD responses have an empty body and 4xx statuses carry error_code 1000+status', async () => {
  const { http } = setup();
  const head = await http.head(`${target.url}/get`);
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
  const missing = await http.get(`${target.url}/status/404`);
  assert.equal(missing.status, 404);
  assert.equal(missing.error_code, 1404);
  const broken = await http.get(`${target.url}/status/503`);
  assert.equal(broken.error_code, 1503);
});

test('credentials in the URL become Basic auth, and so does an explicit header', async () => {
  const { http } = setup();
  const base = target.url.replace('://', '://alice:s3cret@');
  const good = await http.get(`${base}/basic-auth/alice/s3cret`);
  assert.equal(good.status, 200);
  assert.deepEqual(good.json(), { authenticated: true, user: 'alice' });
  const wrong = await http.get(`${target.url.replace('://', '://alice:nope@')}/basic-auth/alice/s3cret`);
  assert.equal(wrong.status, 401);
  const none = await http.get(`${target.url}/basic-auth/alice/s3cret`);
  assert.equal(none.status, 401);
  const header = await http.get(`${target.url}/basic-auth/alice/s3cret`, {
    headers: { Authorization: `Basic ${Buffer.from('alice:s3cret').toString('base64')}` },
  });
  assert.equal(header.status, 200);
  const explicit = await http.get(`${base}/basic-auth/alice/s3cret`, { auth: 'basic' });
  assert.equal(explicit.status, 200);
});

test('requests in the init context throw k6 init_context_only error', async () => {
  const { http, vu } = setup();
  vu.phase = 'init';
  assert.throws(
    () => http.get(`${target.url}/get`),
    (e: unknown) => e instanceof HerdError && e.code === 'init_context_only' && e.message === 'making HTTP requests in the init context is not supported',
  );
  assert.throws(() => http.batch([`${target.url}/get`]), HerdError);
});

test('data_sent and data_received count exactly the bytes on the socket, headers included', async () => {
  const reply = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
  let headBytes = 0;
  const raw = await startRawServer((head) => {
    headBytes = Buffer.byteLength(head, 'latin1') + 4;
    return reply;
  }, false);
  try {
    const { http, test: t } = setup();
    const res = await http.post(`${raw.url}/x`, 'twelve bytes');
    assert.equal(res.body, 'ok');
    assert.equal(t.sink.sum('data_sent'), headBytes + 12);
    assert.equal(t.sink.sum('data_received'), Buffer.byteLength(reply));
  } finally {
    await raw.close();
  }
});

test('lower-case methods are upper-cased and OPTIONS and DELETE carry bodies', async () => {
  const { http } = setup();
  const res = await http.request('patch', `${target.url}/patch`, 'p');
  assert.equal(res.request.method, 'PATCH');
  assert.equal((res.json() as { data: string }).data, 'p');
  const del = await http.del(`${target.url}/delete`, 'gone');
  assert.equal((del.json() as { data: string }).data, 'gone');
  const opt = await http.request('OPTIONS', `${target.url}/anything`);
  assert.equal((opt.json() as { method: string }).method, 'OPTIONS');
});

test('params.compression gzips the request body and sets Content-Encoding', async () => {
  const { http } = setup();
  const res = await http.post(`${target.url}/post`, 'x'.repeat(1000), { compression: 'gzip' });
  const echo = res.json() as { headers: Record<string, string> };
  assert.equal(echo.headers['Content-Encoding'], 'gzip');
  assert.ok(Number(echo.headers['Content-Length']) < 100, 'the body went out compressed');
});

test('Response.request and Response.headers of repeated requests are each response\'s own: changing one changes no other', async () => {
  const { http } = setup();
  const url = `${target.url}/get?same=1`;
  const first = await http.get(url, { headers: { 'X-Same': 'a' } });
  first.request.headers['X-Same']?.push('changed');
  first.request.headers['X-Added'] = ['x'];
  first.request.cookies['c'] = [{ name: 'c', value: '1', replace: false }];
  first.headers['Content-Type'] = 'changed';
  const second = await http.get(url, { headers: { 'X-Same': 'a' } });
  assert.deepEqual(second.request.headers['X-Same'], ['a']);
  assert.equal(second.request.headers['X-Added'], undefined);
  assert.deepEqual(second.request.cookies, {});
  assert.equal(second.headers['Content-Type'], 'application/json');
  assert.notEqual(second.request, first.request);
  assert.equal(second.request, second.request, 'one object per response, kept once read');
  second.request = { method: 'SET', url: '', headers: {}, body: '', cookies: {} };
  assert.equal(second.request.method, 'SET', 'a script may replace it');
});

test('JSON.stringify(res) shows every field, request included', async () => {
  const { http } = setup();
  const res = await http.get(`${target.url}/get?json=1`);
  const shown = JSON.parse(JSON.stringify(res)) as Record<string, unknown>;
  assert.deepEqual(Object.keys(shown), [
    'status', 'status_text', 'proto', 'url', 'body', 'headers', 'cookies', 'timings', 'error', 'error_code',
    'remote_ip', 'remote_port', 'tls_version', 'tls_cipher_suite', 'ocsp', 'request',
  ]);
  assert.equal((shown.request as { method: string }).method, 'GET');
  assert.equal((shown.request as { headers: Record<string, string[]> }).headers['Host']?.[0], `127.0.0.1:${target.port}`);
});
