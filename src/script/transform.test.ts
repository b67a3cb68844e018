import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isHerdError } from '../errors/index.js';
import { loadScript, type ModuleExports } from './index.js';
import { BUILTINS, type FakeHost, fakeHost, writeScripts } from './test-helpers.js';

async function load(source: string, host: FakeHost = fakeHost()): Promise<{ ex: ModuleExports; host: FakeHost; dir: string; code: string }> {
  const dir = await writeScripts({ 'script.js': source });
  const s = await loadScript({ entry: join(dir, 'script.js'), cacheDir: await mkdtemp(join(tmpdir(), 'herd-cache-')), builtinModules: BUILTINS });
  return { ex: await s.instantiate(host), host, dir, code: s.code };
}

async function loadError(source: string): Promise<{ code: string; message: string; hint: string | undefined; dir: string }> {
  const dir = await writeScripts({ 'script.js': source });
  try {
    await loadScript({ entry: join(dir, 'script.js'), cacheDir: await mkdtemp(join(tmpdir(), 'herd-cache-')), builtinModules: BUILTINS });
  } catch (e) {
    if (isHerdError(e)) return { code: e.code, message: e.message, hint: e.hint, dir };
    throw e;
  }
  throw new Error('expected the script to be rejected');
}

// Values made in the sandbox have the sandbox's prototypes; compare their JSON shape.
const run = async (ex: ModuleExports, name = 'default', ...args: unknown[]): Promise<unknown> =>
  JSON.parse(JSON.stringify(await (ex[name] as (...a: unknown[]) => unknown)(...args)) ?? 'null') as unknown;

describe('the synchronous-style transform', () => {
  it('awaits blocking calls through helper functions and chains like helper().json().items', async () => {
    const { ex, host } = await load(`
import http from 'k6/http';
function getJson(path) { return http.get(path).json(); }
function names() { return getJson('/a').items.map((i) => i.name); }
const post = (p) => http.post(p);
export default function () {
  const n = names();
  const token = post('/login').json('token');
  return [n.join(','), token];
}
`);
    assert.deepEqual(await run(ex), ['apple,bread', 't-/login']);
    assert.deepEqual(host.log, ['start GET /a', 'end GET /a', 'start POST /login', 'end POST /login']);
  });

  it('recognises named, default and namespace imports of the blocking APIs', async () => {
    const { ex, host } = await load(`
import http from 'k6/http';
import * as h from 'k6/http';
import { get as fetchIt } from 'k6/http';
import { sleep } from 'k6';
export default function () { fetchIt('/1'); h.get('/2'); http.get('/3'); sleep(0.01); return 'done'; }
`);
    assert.equal(await run(ex), 'done');
    assert.deepEqual(host.log.filter((l) => l.startsWith('end')), ['end GET /1', 'end GET /2', 'end GET /3', 'end sleep 0.01']);
  });

  it('makes class methods async through this, super and static factories, leaving getters and constructors alone', async () => {
    const { ex, code } = await load(`
import http from 'k6/http';
class Client {
  constructor(base) { this.base = base; this.calls = 0; }
  static create() { return new this('/base'); }
  get callCount() { return this.calls; }
  request(p) { this.calls++; return http.get(this.base + p); }
}
class Store extends Client {
  items() { return super.request('/items').json().items; }
  first() { return this.items()[0].name; }
}
const c = Store.create();
export default function () { return [c.first(), c.callCount, c instanceof Client]; }
`);
    assert.deepEqual(await run(ex), ['apple', 1, true]);
    assert.match(code, /async request\(p\)/);
    assert.match(code, /async items\(\)/);
    assert.match(code, /static create\(\)/);
    assert.match(code, /get callCount\(\)/);
  });

  it('runs forEach, map and reduce callbacks one at a time, in order, with the array method results', async () => {
    const { ex, host } = await load(`
import http from 'k6/http';
const STEPS = ['a', 'b', 'c'];
export default function () {
  const seen = [];
  STEPS.forEach((s, i) => { http.get('/f/' + s); seen.push(s + i); });
  const urls = STEPS.map((s) => http.get('/m/' + s).url);
  const total = STEPS.reduce((sum, s) => sum + http.get('/r/' + s).url.length, 0);
  const found = STEPS.find((s) => http.get('/x/' + s).url === '/x/b');
  const some = STEPS.filter((s) => http.get('/y/' + s).url !== '/y/a');
  return { seen, urls, total, found, some };
}
`, fakeHost(10));
    const started = Date.now();
    const r = await run(ex);
    const elapsed = Date.now() - started;
    assert.deepEqual(r, {
      seen: ['a0', 'b1', 'c2'], urls: ['/m/a', '/m/b', '/m/c'], total: 12, found: 'b', some: ['b', 'c'],
    });
    // Strictly sequential: every request ends before the next one starts.
    for (let i = 0; i < host.log.length; i += 2) {
      assert.match(host.log[i] ?? '', /^start /);
      assert.equal(host.log[i + 1], (host.log[i] ?? '').replace('start', 'end'));
    }
    assert.deepEqual(host.log.filter((l) => l.startsWith('start GET /f/')), ['start GET /f/a', 'start GET /f/b', 'start GET /f/c']);
    assert.ok(elapsed >= 11 * 10 - 5, `took ${elapsed} ms for 11 sequential 10 ms requests`);
  });

  it('awaits callbacks given to group() and check() and top-level blocking calls of the init code', async () => {
    const { ex, host } = await load(`
import http from 'k6/http';
import { group, check } from 'k6';
const boot = http.get('/init').url;
export default function () {
  const v = group('g', () => http.get('/in-group').url);
  check(v, { 'group returned': (x) => x === '/in-group' });
  return boot;
}
`);
    assert.equal(await run(ex), '/init');
    assert.deepEqual(host.log, ['start GET /init', 'end GET /init', 'group g', 'start GET /in-group', 'end GET /in-group', 'check group returned pass']);
  });

  it('leaves explicit async functions async and does not await their calls from other code', async () => {
    const { ex, host } = await load(`
import http from 'k6/http';
async function fetchBoth() { const a = await http.get('/a'); const b = http.get('/b'); return a.url + b.url; }
export default async function () { const p = fetchBoth(); const r = await p; return [typeof p.then, r]; }
`);
    assert.deepEqual(await run(ex), ['function', '/a/b']);
    assert.deepEqual(host.log, ['start GET /a', 'end GET /a', 'start GET /b', 'end GET /b']);
  });

  it('rejects a blocking function passed as a value to an unknown function, with both positions', async () => {
    const e = await loadError(`import http from 'k6/http';
function later(fn) { return fn; }
function fetchIt() {
  return http.get('/x');
}
export default function () {
  later(fetchIt);
}
`);
    const f = join(e.dir, 'script.js');
    assert.equal(e.code, 'script_unsupported');
    assert.equal(e.message, `function fetchIt makes blocking calls (http.get at ${f}:4:10) but is passed as a value at ${f}:7:9; herd cannot tell when it runs`);
    assert.match(e.hint ?? '', /Call the function directly/);
  });

  it('rejects a blocking sort comparator', async () => {
    const e = await loadError(`import http from 'k6/http';
export default function () {
  return ['a', 'b'].sort((x, y) => http.get(x).status - 1);
}
`);
    const f = join(e.dir, 'script.js');
    assert.equal(e.code, 'script_unsupported');
    assert.equal(e.message, `an anonymous function makes blocking calls (http.get at ${f}:3:36) but is a callback of sort() at ${f}:3:26, which cannot wait for it`);
  });

  it('rejects blocking calls in a class constructor and in a getter', async () => {
    const e = await loadError(`import http from 'k6/http';
class A {
  constructor() { this.r = http.get('/c'); }
  get value() { return http.get('/g'); }
}
export default function () { return new A().value; }
`);
    const f = join(e.dir, 'script.js');
    assert.equal(e.code, 'script_unsupported');
    assert.equal(e.message, [
      `the constructor of class A at ${f}:3:3 makes blocking calls (http.get at ${f}:3:28), but a constructor cannot wait for them`,
      `the getter value at ${f}:4:7 makes blocking calls (http.get at ${f}:4:24), but a getter cannot wait for them`,
    ].join('\n'));
  });

  it('rejects a blocking callback to new Promise and to an unknown callee', async () => {
    const e = await loadError(`import { sleep } from 'k6';
export default function () {
  return new Promise((resolve) => { sleep(1); resolve(); });
}
`);
    assert.equal(e.code, 'script_unsupported');
    assert.match(e.message, /is a callback of new Promise\(\) at .*script\.js:3:22, which cannot wait for it/);
  });

  it('accepts socket handlers and timers that make blocking calls', async () => {
    const { code } = await load(`
import ws from 'k6/ws';
import http from 'k6/http';
export default function () {
  ws.connect('ws://x', {}, function (socket) {
    socket.on('open', () => { http.get('/on-open'); });
    socket.setTimeout(() => http.get('/later'), 10);
  });
  setTimeout(() => http.get('/timer'), 1);
}
`);
    assert.match(code, /\(await import_ws\.default\.connect\(/);
  });

  it("passes the calling file's directory to open()", async () => {
    const { host, dir } = await load(`export const a = open('./a.txt');\nexport const b = open('./b.bin', 'b');\n`);
    assert.deepEqual(host.opened, [['./a.txt', undefined, dir], ['./b.bin', 'b', dir]]);
  });
});
