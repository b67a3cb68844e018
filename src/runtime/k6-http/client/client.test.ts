import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resetCookieJar } from '../index.js';
import { setup } from '../test-helpers.js';
import { startFixture, startHttpsFixture, startRawServer, type Fixture } from '../test-server.js';

let fixture: Fixture;
before(async () => {
  fixture = await startFixture();
});
after(async () => {
  await fixture.close();
});

test('a chunked response arriving in several writes is reassembled', async () => {
  const { http } = setup();
  const res = await http.get(`${fixture.url}/chunked`);
  assert.equal(res.body, 'first,second,third');
  assert.equal(res.headers['Transfer-Encoding'], 'chunked');
  assert.ok(res.timings.receiving >= 15, `receiving ${res.timings.receiving} covers the pause between chunks`);
});

test('gzip, deflate and br response bodies are decompressed', async () => {
  const { http } = setup();
  for (const enc of ['gzip', 'deflate', 'br']) {
    const res = await http.get(`${fixture.url}/${enc}`);
    assert.equal(res.headers['Content-Encoding'], enc);
    assert.deepEqual(res.json(), { hello: 'world', list: [1, 2, 3] }, enc);
  }
});

test('a Connection: close answer closes the connection and the next request opens a new one', async () => {
  const { http, vu } = setup();
  const before = fixture.connections();
  assert.equal((await http.get(`${fixture.url}/close`)).body, 'bye');
  const second = await http.get(`${fixture.url}/close`);
  assert.ok(second.timings.connecting > 0);
  assert.equal(fixture.connections() - before, 2);
  const pool = (vu.local.get('k6/http') as { pool: { size: number } }).pool;
  assert.equal(pool.size, 0);
});

test('a body without length is read until the server closes', async () => {
  const raw = await startRawServer(() => 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end', true);
  try {
    const { http } = setup();
    const res = await http.get(`${raw.url}/`);
    assert.equal(res.status, 200);
    assert.equal(res.body, 'until the end');
  } finally {
    await raw.close();
  }
});

test('a server closing before answering gives an EOF error, not a hang', async () => {
  const raw = await startRawServer(() => '', true);
  try {
    const { http } = setup();
    const res = await http.get(`${raw.url}/`);
    assert.equal(res.status, 0);
    assert.equal(res.error, 'EOF');
    assert.equal(res.error_code, 1000);
  } finally {
    await raw.close();
  }
});

test('204 responses and repeated headers are handled as k6 shows them', async () => {
  const { http } = setup();
  const nc = await http.get(`${fixture.url}/no-content`);
  assert.equal(nc.status, 204);
  assert.equal(nc.body, '');
  const multi = await http.get(`${fixture.url}/multi`);
  assert.equal(multi.headers['X-Multi'], 'a, b');
});

test('an idle connection the server closed is replaced transparently', async () => {
  const server = createServer((_req, res) => res.end('ok'));
  server.keepAliveTimeout = 50;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    const { http } = setup();
    assert.equal((await http.get(url)).body, 'ok');
    await new Promise((r) => setTimeout(r, 150));
    const again = await http.get(url);
    assert.equal(again.status, 200);
    assert.equal(again.body, 'ok');
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('noConnectionReuse opens a connection per request', async () => {
  const { http } = setup({ noConnectionReuse: true });
  const before = fixture.connections();
  await http.get(`${fixture.url}/echo`);
  const second = await http.get(`${fixture.url}/echo`);
  assert.equal(fixture.connections() - before, 2);
  assert.ok(second.timings.connecting > 0);
});

test('noVUConnectionReuse drops connections between iterations but reuses them within one', async () => {
  const { http, vu } = setup({ noVUConnectionReuse: true });
  const before = fixture.connections();
  await http.get(`${fixture.url}/echo`);
  await http.get(`${fixture.url}/echo`);
  assert.equal(fixture.connections() - before, 1);
  resetCookieJar(vu);
  await http.get(`${fixture.url}/echo`);
  assert.equal(fixture.connections() - before, 2);
});

test('IPv6 literal hosts are connected to and sent in brackets in Host', async (t) => {
  const server = createServer((req, res) => res.end(req.headers.host ?? ''));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '::1', () => resolve());
    });
  } catch {
    t.skip('IPv6 loopback is not available here');
    return;
  }
  const port = (server.address() as AddressInfo).port;
  try {
    const { http } = setup();
    const res = await http.get(`http://[::1]:${port}/`);
    assert.equal(res.body, `[::1]:${port}`);
    assert.equal(res.remote_ip, '::1');
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});

function makeCert(): { key: string; cert: string; dir: string } | null {
  const dir = mkdtempSync(join(tmpdir(), 'herd-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), dir };
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
}

test('https works with insecureSkipTLSVerify and reports TLS timings and version; verification fails otherwise', async (t) => {
  const pem = makeCert();
  if (pem === null) {
    t.skip('the openssl CLI is not available to make a self-signed certificate');
    return;
  }
  const https = await startHttpsFixture(pem.key, pem.cert);
  try {
    const insecure = setup({ insecureSkipTLSVerify: true });
    const res = await insecure.http.get(`${https.url}/echo`);
    assert.equal(res.status, 200);
    assert.match(res.tls_version, /^tls1\.[23]$/);
    assert.ok(res.timings.tls_handshaking > 0);
    assert.equal(insecure.test.sink.of('http_reqs')[0]?.tags.tls_version, res.tls_version);
    const again = await insecure.http.get(`${https.url}/echo`);
    assert.equal(again.timings.tls_handshaking, 0, 'the TLS connection is reused');
    assert.equal(again.tls_version, res.tls_version);
    assert.ok(insecure.test.sink.of('data_received')[0]!.value > 500, 'the handshake bytes count as received data');

    const strict = setup();
    const refused = await strict.http.get(`${https.url}/echo`);
    assert.equal(refused.status, 0);
    assert.equal(refused.error_code, 1310);
    assert.equal(refused.error, 'x509: certificate signed by unknown authority');
  } finally {
    await https.close();
    rmSync(pem.dir, { recursive: true, force: true });
  }
});
