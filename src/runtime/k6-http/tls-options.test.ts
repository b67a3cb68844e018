import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { HerdError } from '../../errors/index.js';
import { CIPHER_SUITES } from './tls-config.js';
import { runtimeOptions } from '../../config/options.js';
import { createHttpModule } from './index.js';
import { fakeTest, fakeVu, setup, type HttpApi } from './test-helpers.js';
import { makeCert, startH2Fixture, startHttpsFixture, type Fixture, type TestCert } from './test-server.js';

let pem: TestCert | null;
let client: TestCert | null;
let tls12: Fixture;
let mtls: Fixture;

before(async () => {
  pem = makeCert();
  client = makeCert('herd-client');
  if (pem === null || client === null) return;
  tls12 = await startH2Fixture(pem.key, pem.cert, { maxVersion: 'TLSv1.2' });
  mtls = await startH2Fixture(pem.key, pem.cert, { requestCert: true, rejectUnauthorized: true, ca: [client.cert] });
});
after(async () => {
  await tls12?.close();
  await mtls?.close();
});

const insecure = { insecureSkipTLSVerify: true };

test('tlsVersion min tls1.3 against a server capped at TLS 1.2 fails with k6 TLS error 1300', async (t) => {
  if (pem === null) return t.skip('the openssl CLI is not available to make certificates');
  const { http, test: ctx } = setup({ ...insecure, tlsVersion: { min: 'tls1.3' } });
  const res = await http.get(`${tls12.url}/echo`);
  assert.equal(res.status, 0);
  assert.equal(res.error_code, 1300);
  assert.equal(res.error, 'remote error: tls: protocol version not supported');
  assert.equal(ctx.sink.of('http_reqs')[0]?.tags.error_code, '1300');
  const ok = await setup({ ...insecure, tlsVersion: 'tls1.2' }).http.get(`${tls12.url}/echo`);
  assert.equal(ok.status, 200);
  assert.equal(ok.tls_version, 'tls1.2');
});

test('tlsVersion given as one version pins it: a TLS 1.3 capable server is spoken to with TLS 1.2', async (t) => {
  if (pem === null) return t.skip('no openssl');
  const modern = await startH2Fixture(pem.key, pem.cert);
  try {
    const free = await setup(insecure).http.get(`${modern.url}/echo`);
    assert.equal(free.tls_version, 'tls1.3');
    const { http, test: ctx } = setup({ ...insecure, tlsVersion: 'tls1.2' });
    const pinned = await http.get(`${modern.url}/echo`);
    assert.equal(pinned.status, 200);
    assert.equal(pinned.tls_version, 'tls1.2');
    assert.equal(ctx.sink.of('http_reqs')[0]?.tags.tls_version, 'tls1.2');
    const capped = await setup({ ...insecure, tlsVersion: { max: 'tls1.2' } }).http.get(`${modern.url}/echo`);
    assert.equal(capped.tls_version, 'tls1.2');
  } finally {
    await modern.close();
  }
});

test('tlsVersion tls1.0 reaches a server that only speaks TLS 1.0, which the default range refuses', async (t) => {
  if (pem === null) return t.skip('no openssl');
  const old = await startHttpsFixture(pem.key, pem.cert, { minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' });
  try {
    const res = await setup({ ...insecure, tlsVersion: { min: 'tls1.0', max: 'tls1.3' } }).http.get(`${old.url}/echo`);
    assert.equal(res.status, 200, res.error);
    assert.equal(res.tls_version, 'tls1.0');
    const refused = await setup(insecure).http.get(`${old.url}/echo`);
    assert.equal(refused.status, 0);
    assert.equal(refused.error_code, 1300);
  } finally {
    await old.close();
  }
});

test('tlsCipherSuites restricted to one suite shows that suite in tls_cipher_suite on TLS 1.2', async (t) => {
  if (pem === null) return t.skip('no openssl');
  for (const suite of ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA']) {
    const { http } = setup({ ...insecure, tlsCipherSuites: [suite] });
    const res = await http.get(`${tls12.url}/echo`);
    assert.equal(res.status, 200, res.error);
    assert.equal(res.tls_version, 'tls1.2');
    assert.equal(res.tls_cipher_suite, suite);
  }
});

test('tlsAuth presents the client certificate to hosts in its domains, and none elsewhere', async (t) => {
  if (pem === null || client === null) return t.skip('no openssl');
  const withCert = setup({ ...insecure, tlsAuth: [{ domains: ['127.0.0.1'], cert: client.cert, key: client.key }] });
  const res = await withCert.http.get(`${mtls.url}/peer`);
  assert.equal(res.status, 200, res.error);
  assert.equal(res.body, 'herd-client', 'the server saw the configured certificate');
  assert.equal(res.proto, 'HTTP/2.0');

  const everywhere = setup({ ...insecure, tlsAuth: [{ cert: client.cert, key: client.key }] });
  assert.equal((await everywhere.http.get(`${mtls.url}/peer`)).body, 'herd-client', 'no domains: the certificate is used for every host');

  const without = await setup(insecure).http.get(`${mtls.url}/peer`);
  assert.equal(without.status, 0);
  assert.equal(without.error_code, 1300);
  assert.equal(without.error, 'remote error: tls: certificate required');

  const otherHost = await setup({ ...insecure, tlsAuth: [{ domains: ['example.com'], cert: client.cert, key: client.key }] }).http.get(`${mtls.url}/peer`);
  assert.equal(otherHost.status, 0);
  assert.equal(otherHost.error, 'remote error: tls: certificate required');
});

function initError(options: Record<string, unknown>): HerdError {
  try {
    setup(options);
  } catch (e) {
    assert.ok(e instanceof HerdError, String(e));
    return e;
  }
  assert.fail('setup did not throw');
}

test('invalid TLS options fail the test at init with the option path and the allowed values', () => {
  const v = initError({ tlsVersion: 'tls9' });
  assert.equal(v.code, 'invalid_option');
  assert.equal(v.message, 'invalid option tlsVersion: unknown TLS version "tls9"; allowed values: ssl3.0, tls1.0, tls1.1, tls1.2, tls1.3');
  assert.equal(v.hint, "use one of 'ssl3.0', 'tls1.0', 'tls1.1', 'tls1.2', 'tls1.3' (http.SSL_3_0 … http.TLS_1_3), or { min, max } with those values");

  assert.equal(initError({ tlsVersion: { min: 'tls1.3', max: 'tls1.2' } }).message, 'invalid option tlsVersion: min "tls1.3" is newer than max "tls1.2"');
  assert.equal(initError({ tlsVersion: { max: 12 } }).message, 'invalid option tlsVersion.max: unknown TLS version number 12; allowed values: ssl3.0, tls1.0, tls1.1, tls1.2, tls1.3');

  const c = initError({ tlsCipherSuites: ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'ECDHE-RSA-AES128-GCM-SHA256'] });
  assert.equal(c.code, 'invalid_option');
  assert.equal(c.message, `invalid option tlsCipherSuites[1]: unknown cipher suite "ECDHE-RSA-AES128-GCM-SHA256"; allowed values: ${Object.keys(CIPHER_SUITES).join(', ')}`);
  assert.ok(c.message.includes('TLS_RSA_WITH_AES_128_GCM_SHA256, '));
  assert.equal(initError({ tlsCipherSuites: 'TLS_AES_128_GCM_SHA256' }).message.startsWith('invalid option tlsCipherSuites: expected an array of cipher suite names, got "TLS_AES_128_GCM_SHA256"; allowed values: '), true);

  assert.equal(initError({ tlsAuth: { cert: 'x', key: 'y' } }).message, 'invalid option tlsAuth: expected an array, got an object');
  assert.equal(initError({ tlsAuth: [{ cert: 'not pem', key: 'y' }] }).message, 'invalid option tlsAuth[0].cert: expected a PEM-encoded certificate string');
  assert.equal(initError({ tlsAuth: [{ domains: 'example.com', cert: '-----BEGIN CERTIFICATE-----', key: '-----BEGIN PRIVATE KEY-----' }] }).message, 'invalid option tlsAuth[0].domains: expected an array of host names, got "example.com"');
});

test('a tlsAuth certificate and key that do not load are refused at init', (t) => {
  if (pem === null || client === null) return t.skip('no openssl');
  const e = initError({ tlsAuth: [{ domains: ['a.test'], cert: client.cert, key: pem.key }] });
  assert.equal(e.code, 'invalid_option');
  assert.match(e.message, /^invalid option tlsAuth\[0\]: the certificate and key cannot be used: /);
});

test('valid TLS options are accepted, with k6 constants and TLS 1.3 suite names', () => {
  assert.doesNotThrow(() => setup({ tlsVersion: { min: 'ssl3.0', max: 'tls1.3' }, tlsCipherSuites: ['TLS_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305'] }));
  const { http } = setup();
  const k6 = http as unknown as Record<string, string>;
  assert.deepEqual([k6.SSL_3_0, k6.TLS_1_0, k6.TLS_1_1, k6.TLS_1_2, k6.TLS_1_3], ['ssl3.0', 'tls1.0', 'tls1.1', 'tls1.2', 'tls1.3']);
});

test('TLS options consolidated after the first init are validated once and reach VUs made before', async (t) => {
  if (pem === null) return t.skip('no openssl');
  const ctx = fakeTest();
  const firstVu = fakeVu(ctx, 0);
  const first = createHttpModule().instantiate(firstVu).default as unknown as HttpApi;
  // The engine replaces both options objects once the first init run has read the script's.
  const options = { insecureSkipTLSVerify: true, tlsVersion: 'tls1.2' };
  const m = ctx as unknown as { options: unknown; exportedOptions: unknown };
  m.options = runtimeOptions(options);
  m.exportedOptions = Object.freeze({ ...options });
  const second = createHttpModule().instantiate(fakeVu(ctx, 1)).default as unknown as HttpApi;
  const shared = ctx.shared.get('k6/http');
  createHttpModule().instantiate(fakeVu(ctx, 2));
  assert.equal(ctx.shared.get('k6/http'), shared, 'one k6/http state per test once the options are final');
  const modern = await startH2Fixture(pem.key, pem.cert);
  try {
    assert.equal((await second.get(`${modern.url}/echo`)).tls_version, 'tls1.2');
    const r = await first.get(`${modern.url}/echo`);
    assert.equal(r.status, 200, r.error);
    assert.equal(r.tls_version, 'tls1.2', 'the VU initialized before consolidation (setup/teardown) uses the final options');
  } finally {
    await modern.close();
  }
  m.exportedOptions = Object.freeze({ tlsVersion: 'nope' });
  assert.throws(() => createHttpModule().instantiate(fakeVu(ctx, 3)), (e: unknown) => e instanceof HerdError && e.code === 'invalid_option');
});
