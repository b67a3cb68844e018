import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTarget, type RunningTarget } from '../../target/index.js';
import { resetCookieJar } from './index.js';
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

test('cookies set by a redirect response are stored and sent on the next hop and later', async () => {
  const { http } = setup();
  const set = await http.get(`${target.url}/cookies/set?session=vu1&iter=0`);
  assert.equal(set.status, 200);
  assert.equal(set.url, `${target.url}/cookies`);
  assert.deepEqual(set.json(), { cookies: { session: 'vu1', iter: '0' } });
  const later = await http.get(`${target.url}/cookies`);
  assert.deepEqual(later.json(), { cookies: { session: 'vu1', iter: '0' } });
  assert.deepEqual(later.request.cookies.session, [{ name: 'session', value: 'vu1', replace: false }]);
});

test('the jar API lists, sets, deletes and clears cookies that requests then use', async () => {
  const { http } = setup();
  await http.get(`${target.url}/cookies/set?session=s1`);
  const jar = http.cookieJar();
  assert.deepEqual(jar.cookiesForURL(`${target.url}/`), { session: ['s1'] });
  jar.set(target.url, 'manual', 'm1');
  const withManual = await http.get(`${target.url}/cookies`, { cookies: { extra: 'e1' } });
  assert.deepEqual(withManual.json(), { cookies: { session: 's1', manual: 'm1', extra: 'e1' } });
  jar.delete(target.url, 'session');
  assert.deepEqual(jar.cookiesForURL(`${target.url}/`), { manual: ['m1'] });
  jar.clear(target.url);
  assert.deepEqual((await http.get(`${target.url}/cookies`)).json(), { cookies: {} });
});

test('a per-request cookie with replace overrides the jar cookie of the same name', async () => {
  const { http } = setup();
  http.cookieJar().set(target.url, 'k', 'jar');
  const kept = await http.get(`${target.url}/cookies`, { cookies: { k: 'req' } });
  assert.equal(kept.request.headers.Cookie?.[0], 'k=jar; k=req');
  const replaced = await http.get(`${target.url}/cookies`, { cookies: { k: { value: 'req', replace: true } } });
  assert.deepEqual(replaced.json(), { cookies: { k: 'req' } });
});

test('the server deleting a cookie removes it from the jar', async () => {
  const { http } = setup();
  await http.get(`${target.url}/cookies/set?a=1&b=2`);
  const res = await http.get(`${target.url}/cookies/delete?a`);
  assert.deepEqual(res.json(), { cookies: { b: '2' } });
});

test('Response.cookies lists the final response cookies with their attributes', async () => {
  const { http } = setup();
  const res = await http.get(`${fixture.url}/attrs`);
  assert.deepEqual(res.cookies.plain, [{ name: 'plain', value: '1', domain: '', path: '', http_only: false, secure: false, max_age: 0, expires: 0 }]);
  assert.equal(res.cookies.scoped?.[0]?.path, '/attrs/sub');
  assert.equal(res.cookies.scoped?.[0]?.http_only, true);
  assert.equal(res.cookies.aged?.[0]?.max_age, 100);
  assert.equal(res.cookies.aged?.[0]?.secure, true);
  const jar = http.cookieJar().cookiesForURL(`${fixture.url}/attrs/sub/x`);
  assert.deepEqual(jar, { scoped: ['2'], plain: ['1'] }, 'secure and expired cookies are not sent over http');
});

test('resetCookieJar empties the jar at iteration start unless noCookiesReset', async () => {
  const a = setup();
  await a.http.get(`${target.url}/cookies/set?x=1`);
  resetCookieJar(a.vu);
  assert.deepEqual((await a.http.get(`${target.url}/cookies`)).json(), { cookies: {} });

  const b = setup({ noCookiesReset: true });
  await b.http.get(`${target.url}/cookies/set?x=1`);
  resetCookieJar(b.vu);
  assert.deepEqual((await b.http.get(`${target.url}/cookies`)).json(), { cookies: { x: '1' } });
});

test('jar: null sends and stores no cookies, and a custom jar is used instead of the VU jar', async () => {
  const { http } = setup();
  http.cookieJar().set(target.url, 'vu', '1');
  const bare = await http.get(`${target.url}/cookies/set?y=2`, { jar: null });
  assert.deepEqual(bare.json(), { cookies: {} });
  const own = new http.CookieJar();
  const res = await http.get(`${target.url}/cookies/set?z=3`, { jar: own });
  assert.deepEqual(res.json(), { cookies: { z: '3' } });
  assert.deepEqual(own.cookiesForURL(target.url), { z: ['3'] });
  assert.deepEqual(http.cookieJar().cookiesForURL(target.url), { vu: ['1'] });
});
