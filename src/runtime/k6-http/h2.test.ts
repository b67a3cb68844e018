import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './test-helpers.js';
import { makeCert, startH2Fixture, startHttpsFixture, type Fixture, type TestCert } from './test-server.js';

let pem: TestCert | null;
let h2: Fixture;

before(async () => {
  pem = makeCert();
  if (pem !== null) h2 = await startH2Fixture(pem.key, pem.cert);
});
after(async () => {
  await h2?.close();
});

const insecure = { insecureSkipTLSVerify: true };

test('a GET to an HTTP/2 server negotiates h2 and reports proto HTTP/2.0 with status, headers and body', async (t) => {
  if (pem === null) return t.skip('the openssl CLI is not available to make a self-signed certificate');
  const { http, test: ctx } = setup(insecure);
  const res = await http.get(`${h2.url}/version`);
  assert.equal(res.error, '');
  assert.equal(res.status, 200);
  assert.equal(res.status_text, '200 OK');
  assert.equal(res.proto, 'HTTP/2.0');
  assert.equal(res.body, '2.0', 'the server saw an HTTP/2 request');
  assert.match(res.tls_version, /^tls1\.[23]$/);
  assert.ok(res.timings.connecting > 0);
  assert.ok(res.timings.tls_handshaking > 0);
  assert.ok(res.timings.duration > 0);
  const tags = ctx.sink.of('http_reqs')[0]?.tags;
  assert.equal(tags?.proto, 'HTTP/2.0');
  assert.equal(tags?.status, '200');
  assert.equal(tags?.tls_version, res.tls_version);
  const multi = await http.get(`${h2.url}/multi`);
  assert.equal(multi.headers['X-Multi'], 'a, b');
  assert.equal(multi.proto, 'HTTP/2.0');
  const missing = await http.get(`${h2.url}/nope`);
  assert.equal(missing.status, 404);
  assert.equal(missing.body, 'not found');
  assert.ok(ctx.sink.sum('data_received') > 1000, 'the handshake and frames count as received data');
  assert.ok(ctx.sink.sum('data_sent') > 200);
});

test('a POST over HTTP/2 sends the body and the headers and gets the echo back', async (t) => {
  if (pem === null) return t.skip('no openssl');
  const { http } = setup(insecure);
  const res = await http.post(`${h2.url}/echo`, { a: '1', b: 'two' }, { headers: { 'X-Custom': 'yes' } });
  assert.equal(res.proto, 'HTTP/2.0');
  assert.equal(res.status, 200);
  const echo = res.json() as { method: string; body: string; headers: Record<string, string> };
  assert.equal(echo.method, 'POST');
  assert.equal(echo.body, 'a=1&b=two');
  assert.equal(echo.headers['x-custom'], 'yes');
  assert.equal(echo.headers['content-type'], 'application/x-www-form-urlencoded');
  assert.equal(echo.headers['content-length'], '9');
  assert.equal(echo.headers[':authority'], h2.url.slice('https://'.length));
  assert.equal(echo.headers.connection, undefined, 'no connection-specific header goes out on HTTP/2');
  assert.equal(res.headers['Content-Type'], 'application/json');
});

test('two requests to one HTTP/2 origin share one session: the second has no connect or TLS time', async (t) => {
  if (pem === null) return t.skip('no openssl');
  const { http, vu } = setup(insecure);
  const before = h2.connections();
  const first = await http.get(`${h2.url}/echo`);
  const second = await http.get(`${h2.url}/echo`);
  assert.equal(second.proto, 'HTTP/2.0');
  assert.ok(first.timings.connecting > 0);
  assert.equal(second.timings.connecting, 0);
  assert.equal(second.timings.tls_handshaking, 0);
  assert.equal(h2.connections() - before, 1);
  const pool = (vu.local.get('k6/http') as { pool: { size: number } }).pool;
  assert.equal(pool.size, 1);
});

test('a batch to an HTTP/2 origin runs its requests as streams of the same session', async (t) => {
  if (pem === null) return t.skip('no openssl');
  const { http } = setup(insecure);
  await http.get(`${h2.url}/echo`);
  const before = h2.connections();
  const rs = (await http.batch([`${h2.url}/echo`, `${h2.url}/chunked`, ['POST', `${h2.url}/echo`, 'x']])) as Array<{ status: number; proto: string; body: string }>;
  assert.deepEqual(rs.map((r) => [r.status, r.proto]), [[200, 'HTTP/2.0'], [200, 'HTTP/2.0'], [200, 'HTTP/2.0']]);
  assert.equal(rs[1]?.body, 'first,second,third');
  assert.equal(h2.connections(), before);
});

test('redirects, cookies, gzip and discarded bodies behave over HTTP/2 as over HTTP/1.1', async (t) => {
  if (pem === null) return t.skip('no openssl');
  const { http, test: ctx } = setup({ ...insecure, discardResponseBodies: false });
  const res = await http.get(`${h2.url}/set-cookie`);
  assert.equal(res.status, 200);
  assert.equal(res.url, `${h2.url}/echo`);
  const echo = res.json() as { headers: Record<string, string> };
  assert.equal(echo.headers.cookie, 'h2=yes');
  assert.equal(echo.headers.referer, `${h2.url}/set-cookie`);
  assert.deepEqual(ctx.sink.of('http_reqs').map((s) => s.tags.status), ['302', '200']);
  const gz = await http.get(`${h2.url}/gzip`);
  assert.deepEqual(gz.json(), { hello: 'world', list: [1, 2, 3] });
  const none = await http.get(`${h2.url}/echo`, { responseType: 'none' });
  assert.equal(none.status, 200);
  assert.equal(none.body, null);
  const bin = await http.get(`${h2.url}/version`, { responseType: 'binary' });
  assert.ok(bin.body instanceof ArrayBuffer);
  assert.equal(Buffer.from(bin.body).toString(), '2.0');
});

test('a timeout on an HTTP/2 stream fails that request with 1050 and the session serves the next one', async (t) => {
  if (pem === null) return t.skip('no openssl');
  const { http } = setup(insecure);
  await http.get(`${h2.url}/echo`);
  const before = h2.connections();
  const hung = await http.get(`${h2.url}/hang`, { timeout: '150ms' });
  assert.equal(hung.status, 0);
  assert.equal(hung.error_code, 1050);
  const next = await http.get(`${h2.url}/echo`);
  assert.equal(next.status, 200);
  assert.equal(next.timings.connecting, 0);
  assert.equal(h2.connections(), before);
});

test('noConnectionReuse opens a new HTTP/2 connection per request', async (t) => {
  if (pem === null) return t.skip('no openssl');
  const { http } = setup({ ...insecure, noConnectionReuse: true });
  const before = h2.connections();
  await http.get(`${h2.url}/echo`);
  const second = await http.get(`${h2.url}/echo`);
  assert.equal(second.proto, 'HTTP/2.0');
  assert.ok(second.timings.connecting > 0);
  assert.equal(h2.connections() - before, 2);
});

test('an HTTPS server that only speaks HTTP/1.1 still gets HTTP/1.1 requests', async (t) => {
  if (pem === null) return t.skip('no openssl');
  const https = await startHttpsFixture(pem.key, pem.cert);
  try {
    const { http, test: ctx } = setup(insecure);
    const res = await http.get(`${https.url}/version`);
    assert.equal(res.status, 200);
    assert.equal(res.proto, 'HTTP/1.1');
    assert.equal(res.body, '1.1');
    assert.equal(ctx.sink.of('http_reqs')[0]?.tags.proto, 'HTTP/1.1');
  } finally {
    await https.close();
  }
});
