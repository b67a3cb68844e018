import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTarget, type RunningTarget } from '../../target/index.js';
import { setup } from './test-helpers.js';
import { startFixture, type Fixture } from './test-server.js';

let target: RunningTarget;
let fixture: Fixture;
before(async () => {
  target = await startTarget({ port: 0 });
  fixture = await startFixture();
});
after(async () => {
  await target.close();
  await fixture.close();
});

test('redirects within the limit are followed and res.url is the final URL', async () => {
  const { http, test: t } = setup({ maxRedirects: 2 });
  const res = await http.get(`${target.url}/redirect/2`);
  assert.equal(res.status, 200);
  assert.equal(res.url, `${target.url}/get`);
  const urls = t.sink.of('http_reqs').map((s) => s.tags.url);
  assert.deepEqual(urls, [`${target.url}/redirect/2`, `${target.url}/redirect/1`, `${target.url}/get`], 'every hop is its own request');
  assert.deepEqual(t.sink.of('http_reqs').map((s) => s.tags.status), ['302', '302', '200']);
});

test('past the limit the last redirect response is returned as is', async () => {
  const { http, test: t } = setup({ maxRedirects: 2 });
  const res = await http.get(`${target.url}/redirect/3`);
  assert.equal(res.status, 302);
  assert.equal(res.url, `${target.url}/redirect/1`);
  assert.equal(res.headers.Location, '/get');
  assert.equal(t.sink.sum('http_reqs'), 3);
  assert.match(t.logger.lines[0]?.message ?? '', /Stopped after 2 redirects/);
});

test('a request redirects param overrides the global limit, 0 disabling redirects', async () => {
  const { http, test: t } = setup({ maxRedirects: 2 });
  const raised = await http.get(`${target.url}/redirect/3`, { redirects: 5 });
  assert.equal(raised.status, 200);
  assert.equal(raised.url, `${target.url}/get`);
  const none = await http.get(`${target.url}/redirect/1`, { redirects: 0 });
  assert.equal(none.status, 302);
  assert.equal(t.sink.sum('http_reqs'), 5);
});

test('the default limit is 10 redirects', async () => {
  const { http, test: t } = setup();
  const res = await http.get(`${target.url}/redirect/11`);
  assert.equal(res.status, 302);
  assert.equal(t.sink.sum('http_reqs'), 11);
});

test('a 303 after a POST becomes a GET without body', async () => {
  const { http } = setup();
  const res = await http.post(`${fixture.url}/303`, 'payload', { headers: { 'Content-Type': 'text/plain' } });
  const echo = res.json() as { method: string; body: string; headers: Record<string, string> };
  assert.equal(echo.method, 'GET');
  assert.equal(echo.body, '');
  assert.equal(echo.headers['content-type'], undefined);
  assert.equal(echo.headers.referer, `${fixture.url}/303`);
  assert.equal(res.request.method, 'GET');
});

test('the hops of a redirect to the same host take turns on one connection', async () => {
  // The next hop starts as the previous exchange ends: the connection must be back in the pool by then.
  const { http } = setup();
  const before = fixture.connections();
  const res = await http.get(`${fixture.url}/303`);
  assert.equal(res.status, 200);
  assert.equal(res.url, `${fixture.url}/echo`);
  assert.equal(fixture.connections() - before, 1);
});

test('a 307 keeps the method and the body', async () => {
  const { http } = setup();
  const res = await http.post(`${fixture.url}/307`, 'payload');
  const echo = res.json() as { method: string; body: string };
  assert.equal(echo.method, 'POST');
  assert.equal(echo.body, 'payload');
});
