import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { HerdError } from '../../errors/index.js';
import { setup } from './test-helpers.js';
import { startFixture, type Fixture } from './test-server.js';

let fixture: Fixture;
before(async () => {
  fixture = await startFixture();
});
after(async () => {
  await fixture.close();
});

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('a timeout gives status 0 and error_code 1050 promptly, with a failed-request sample', async () => {
  const { http, test: t } = setup();
  const started = Date.now();
  const res = await http.get(`${fixture.url}/hang`, { timeout: '200ms' });
  const elapsed = Date.now() - started;
  assert.equal(res.status, 0);
  assert.equal(res.error_code, 1050);
  assert.equal(res.error, 'request timeout');
  assert.ok(elapsed < 1000, `took ${elapsed} ms`);
  const s = t.sink.of('http_reqs')[0];
  assert.equal(s?.tags.status, '0');
  assert.equal(s?.tags.error_code, '1050');
  assert.equal(t.sink.of('http_req_failed')[0]?.value, 1);
  assert.deepEqual(t.logger.lines[0], { level: 'warn', message: 'Request Failed', fields: { error: 'request timeout' } });
});

test('a numeric timeout is milliseconds', async () => {
  const { http } = setup();
  const res = await http.get(`${fixture.url}/hang`, { timeout: 100 });
  assert.equal(res.error_code, 1050);
});

test('a refused connection gives error_code 1212 with Go-style wording', async () => {
  const { http } = setup();
  const port = await closedPort();
  const res = await http.get(`http://127.0.0.1:${port}/`);
  assert.equal(res.status, 0);
  assert.equal(res.error_code, 1212);
  assert.equal(res.error, `dial tcp 127.0.0.1:${port}: connect: connection refused`);
  assert.equal(res.body, null);
});

test('an unknown host gives a DNS error code', async () => {
  const { http } = setup();
  const res = await http.get('http://no-such-host.invalid/');
  assert.equal(res.status, 0);
  assert.ok(res.error_code === 1101 || res.error_code === 1100, `code ${res.error_code}`);
});

test('blockHostnames refuses matching hosts with error_code 1111', async () => {
  const { http } = setup({ blockHostnames: ['*.blocked.test', 'exact.test'] });
  const a = await http.get('http://api.blocked.test/');
  assert.equal(a.error_code, 1111);
  assert.equal(a.error, 'hostname (api.blocked.test) is in a blocked pattern (*.blocked.test)');
  assert.equal((await http.get('http://exact.test/')).error_code, 1111);
});

test('the hosts option points a name (optionally with port) to another address', async () => {
  const port = Number(new URL(fixture.url).port);
  const { http } = setup({ hosts: { 'my.service': '127.0.0.1', 'other.service:80': `127.0.0.1:${port}` } });
  const a = await http.get(`http://my.service:${port}/echo`);
  assert.equal(a.status, 200);
  assert.equal((a.json() as { headers: Record<string, string> }).headers.host, `my.service:${port}`);
  const b = await http.get('http://other.service/echo');
  assert.equal(b.status, 200);
  assert.equal((b.json() as { headers: Record<string, string> }).headers.host, 'other.service');
});

test('an invalid URL gives error_code 1020 and no request', async () => {
  const { http, test: t } = setup();
  const res = await http.get('not a url');
  assert.equal(res.error_code, 1020);
  assert.equal(t.sink.of('http_reqs').length, 0);
});

test('with the throw option request errors throw instead of returning status 0', async () => {
  const { http } = setup({ throw: true });
  const port = await closedPort();
  await assert.rejects(http.get(`http://127.0.0.1:${port}/`), (e: unknown) => e instanceof HerdError && /connection refused/.test(e.message));
});

test('aborting the VU signal cancels an in-flight request with the signal reason', async () => {
  const { http, vu } = setup();
  const ac = new AbortController();
  vu.signal = ac.signal;
  const pending = http.get(`${fixture.url}/hang`);
  const reason = new Error('hard stop');
  setTimeout(() => ac.abort(reason), 50);
  const started = Date.now();
  await assert.rejects(pending, (e: unknown) => e === reason);
  assert.ok(Date.now() - started < 500);
});

test('invalid params are rejected with messages naming the param', async () => {
  const { http } = setup();
  await assert.rejects(http.get(`${fixture.url}/echo`, { responseType: 'blob' }), /invalid responseType "blob"/);
  await assert.rejects(http.get(`${fixture.url}/echo`, { timeout: 'soon' }), /params.timeout must be a duration/);
  await assert.rejects(http.get(`${fixture.url}/echo`, { auth: 'ntlm' }), /params.auth "ntlm" is not supported/);
});

test('each request times out at its own deadline, also when a request with a later one is on the wire', async () => {
  const { http } = setup();
  // A long timeout first: the VU's one deadline timer is armed for it, and must be moved
  // earlier for the short one.
  const fast = await http.get(`${fixture.url}/echo`, { timeout: '60s' });
  assert.equal(fast.status, 200);
  let started = Date.now();
  const short = await http.get(`${fixture.url}/hang`, { timeout: '150ms' });
  assert.equal(short.error_code, 1050);
  assert.ok(Date.now() - started < 1000, `the 150 ms timeout took ${Date.now() - started} ms`);

  started = Date.now();
  const both = (await http.batch([
    ['GET', `${fixture.url}/hang`, null, { timeout: '500ms' }],
    ['GET', `${fixture.url}/hang`, null, { timeout: '100ms' }],
  ])) as Array<{ error_code: number; timings: { duration: number } }>;
  const elapsed = Date.now() - started;
  assert.deepEqual(both.map((r) => r.error_code), [1050, 1050]);
  assert.ok(both[1]!.timings.duration >= 90 && both[1]!.timings.duration < 400, `short one lasted ${both[1]!.timings.duration} ms`);
  assert.ok(both[0]!.timings.duration >= 490, `long one lasted ${both[0]!.timings.duration} ms`);
  assert.ok(elapsed < 1500, `the batch took ${elapsed} ms`);
});

test('the VU\'s deadline timer keeps the process alive only while a request is on the wire', async () => {
  const { http } = setup();
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const hung = http.get(`${fixture.url}/hang`, { timeout: '300ms' });
  await new Promise((r) => setImmediate(r));
  assert.equal(timers(), before + 1, 'a request on the wire holds the process through its timeout timer');
  assert.equal(((await hung) as { error_code: number }).error_code, 1050);
  const done = (await http.get(`${fixture.url}/echo`, { timeout: '60s' })) as { status: number };
  assert.equal(done.status, 200);
  assert.equal(timers(), before, 'the timer, still armed for the 60 s deadline, no longer holds the process');
});
