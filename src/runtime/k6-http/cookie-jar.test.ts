import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CookieJar } from './cookie-jar.js';
import { parseUrl, type UrlParts } from './url-parts.js';

function u(s: string): UrlParts {
  const p = parseUrl(s);
  if (p instanceof Error) throw p;
  return p;
}

test('a host-only cookie is sent to its host only, a domain cookie to subdomains too', () => {
  const jar = new CookieJar();
  jar.storeSetCookies(u('http://example.com/'), ['host=1', 'dom=2; Domain=example.com']);
  assert.deepEqual(jar.cookiesForURL('http://example.com/'), { host: ['1'], dom: ['2'] });
  assert.deepEqual(jar.cookiesForURL('http://api.example.com/'), { dom: ['2'] });
  assert.deepEqual(jar.cookiesForURL('http://other.com/'), {});
});

test('a Domain attribute that does not cover the host is refused', () => {
  const jar = new CookieJar();
  jar.storeSetCookies(u('http://example.com/'), ['evil=1; Domain=other.com']);
  assert.deepEqual(jar.cookiesForURL('http://other.com/'), {});
});

test('paths match on segment boundaries and the default path is the request directory', () => {
  const jar = new CookieJar();
  jar.storeSetCookies(u('http://h.test/a/b/page'), ['def=1', 'root=2; Path=/', 'api=3; Path=/api']);
  assert.deepEqual(jar.cookiesForURL('http://h.test/a/b/other'), { def: ['1'], root: ['2'] });
  assert.deepEqual(jar.cookiesForURL('http://h.test/a/bc'), { root: ['2'] });
  assert.deepEqual(jar.cookiesForURL('http://h.test/api/x'), { root: ['2'], api: ['3'] });
  assert.deepEqual(jar.cookiesForURL('http://h.test/apix'), { root: ['2'] });
});

test('longer paths come first in the Cookie order', () => {
  const jar = new CookieJar();
  jar.storeSetCookies(u('http://h.test/'), ['a=root; Path=/', 'a=deep; Path=/x/y']);
  assert.deepEqual(jar.cookiesForURL('http://h.test/x/y/z'), { a: ['deep', 'root'] });
});

test('Secure cookies are only sent over https', () => {
  const jar = new CookieJar();
  jar.storeSetCookies(u('https://h.test/'), ['s=1; Secure', 'p=2']);
  assert.deepEqual(jar.cookiesForURL('http://h.test/'), { p: ['2'] });
  assert.deepEqual(jar.cookiesForURL('https://h.test/'), { s: ['1'], p: ['2'] });
});

test('Max-Age=0 and past Expires delete a stored cookie, Max-Age wins over Expires', () => {
  const jar = new CookieJar();
  const url = u('http://h.test/');
  jar.storeSetCookies(url, ['a=1', 'b=2', 'c=3; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=60']);
  jar.storeSetCookies(url, ['a=; Max-Age=0', 'b=; Expires=Thu, 01 Jan 1970 00:00:00 GMT']);
  assert.deepEqual(jar.cookiesForURL('http://h.test/'), { c: ['3'] });
});

test('set, delete and clear work through the script API', () => {
  const jar = new CookieJar();
  jar.set('http://h.test', 'a', '1');
  jar.set('http://h.test', 'b', '2', { path: '/p', max_age: 60 });
  jar.set('http://h.test', 'old', 'x', { expires: 'Thu, 01 Jan 1970 00:00:00 GMT' });
  assert.deepEqual(jar.cookiesForURL('http://h.test/p'), { b: ['2'], a: ['1'] });
  jar.delete('http://h.test/p', 'b');
  assert.deepEqual(jar.cookiesForURL('http://h.test/p'), { a: ['1'] });
  jar.clear('http://h.test/');
  assert.deepEqual(jar.cookiesForURL('http://h.test/'), {});
  assert.equal(jar.empty, true);
});

test('quoted cookie values are unquoted and cookies without a name are ignored', () => {
  const jar = new CookieJar();
  jar.storeSetCookies(u('http://h.test/'), ['q="v"', 'novalue', '=x']);
  assert.deepEqual(jar.cookiesForURL('http://h.test/'), { q: ['v'] });
});
