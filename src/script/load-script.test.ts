import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isHerdError } from '../errors/index.js';
import { loadScript } from './index.js';
import { BUILTINS, fakeHost, testdata, writeScripts } from './test-helpers.js';

const COMPAT = '/work/shared/compat';

async function cacheDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'herd-cache-'));
}

async function rejection(p: Promise<unknown>): Promise<{ code: string; message: string; hint: string | undefined }> {
  try {
    await p;
  } catch (e) {
    if (isHerdError(e)) return { code: e.code, message: e.message, hint: e.hint };
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('loadScript', () => {
  it('bundles relative imports, export-star re-exports and export-from', async () => {
    const s = await loadScript({ entry: testdata('modules', 'entry.js'), cacheDir: await cacheDir(), builtinModules: BUILTINS });
    const ex = await s.instantiate(fakeHost());
    assert.equal(ex['greeting'], 'hello herd');
    assert.equal(ex['version'], '1.2.3');
    assert.equal(ex['namespaceHasGreet'], true);
    assert.equal((ex['loud'] as (s: string) => string)('hi'), 'HI');
    assert.deepEqual(JSON.parse(JSON.stringify(ex['options'])), { vus: 1 });
  });

  it('passes the directory of the calling file to open() as its third argument', async () => {
    const s = await loadScript({ entry: testdata('modules', 'entry.js'), cacheDir: await cacheDir(), builtinModules: BUILTINS });
    const host = fakeHost();
    const ex = await s.instantiate(host);
    assert.equal((ex['readData'] as () => string)(), 'file-content');
    assert.deepEqual(host.opened, [['./data.txt', undefined, testdata('modules', 'lib')]]);
  });

  it('strips types from a TypeScript entry and its TypeScript imports (written as .js, as tsc wants)', async () => {
    // Written at test time: a .ts fixture under src/ would be compiled by the project's tsc.
    const dir = await writeScripts({
      'entry.ts': [
        `import http from 'k6/http';`,
        `import { total, type Line } from './math.js';`,
        `interface Options { vus: number }`,
        `export const options: Options = { vus: 2 };`,
        `export default function (): number {`,
        `  const lines: Line[] = [{ qty: 2, price: 3 }, { qty: 1, price: 4 }];`,
        `  const res = http.get('http://x/typed') as unknown as { status: number };`,
        `  return total(lines) + res.status;`,
        `}`,
      ].join('\n'),
      'math.ts': `export type Line = { qty: number; price: number };\nexport function total(lines: Line[]): number {\n  return lines.reduce((sum: number, l: Line) => sum + l.qty * l.price, 0);\n}\n`,
    });
    const s = await loadScript({ entry: join(dir, 'entry.ts'), cacheDir: await cacheDir(), builtinModules: BUILTINS });
    const ex = await s.instantiate(fakeHost(1));
    assert.equal(await (ex['default'] as () => Promise<number>)(), 10 + 200);
  });

  it('runs the init code once per instance, so module-level state is per VU', async () => {
    const dir = await writeScripts({
      'vu.js': `let count = 0;\nexport function bump() { count += 1; return count; }\nexport const vuAtInit = __VU;\n`,
    });
    const s = await loadScript({ entry: join(dir, 'vu.js'), cacheDir: await cacheDir(), builtinModules: BUILTINS });
    const a = await s.instantiate(fakeHost(1, 1));
    const b = await s.instantiate(fakeHost(1, 2));
    const bumpA = a['bump'] as () => number;
    const bumpB = b['bump'] as () => number;
    assert.equal(bumpA(), 1);
    assert.equal(bumpA(), 2);
    assert.equal(bumpB(), 1);
    assert.equal(a['vuAtInit'], 1);
    assert.equal(b['vuAtInit'], 2);
  });

  it('reads __ITER live through the host getter on every access', async () => {
    const dir = await writeScripts({ 'iter.js': `export default function () { return __ITER * 10; }\n` });
    const s = await loadScript({ entry: join(dir, 'iter.js'), cacheDir: await cacheDir(), builtinModules: BUILTINS });
    const host = fakeHost();
    const ex = await s.instantiate(host);
    const run = ex['default'] as () => number;
    assert.equal(run(), 0);
    host.state.iter = 3;
    assert.equal(run(), 30);
  });

  it('throws a ReferenceError for a global the host does not provide, and typeof gives undefined', async () => {
    const dir = await writeScripts({
      'free.js': `export const kind = typeof notProvided;\nexport function use() { return notProvided; }\n`,
    });
    const s = await loadScript({ entry: join(dir, 'free.js'), cacheDir: await cacheDir(), builtinModules: BUILTINS });
    const ex = await s.instantiate(fakeHost());
    assert.equal(ex['kind'], 'undefined');
    assert.throws(() => (ex['use'] as () => unknown)(), (e: Error) => e.name === 'ReferenceError' && e.message === 'notProvided is not defined');
  });

  it('reports a missing entry as script_not_found naming the path', async () => {
    const r = await rejection(loadScript({ entry: '/nonexistent/dir/test.js', cacheDir: await cacheDir(), builtinModules: BUILTINS }));
    assert.equal(r.code, 'script_not_found');
    assert.match(r.message, /\/nonexistent\/dir\/test\.js/);
    assert.ok(r.hint);
  });

  it('reports a syntax error as script_syntax with file:line:column and the parser message', async () => {
    const dir = await writeScripts({ 'entry.js': `import './broken.js';\n`, 'broken.js': `const a = 1;\nconst b = (2;\n` });
    const r = await rejection(loadScript({ entry: join(dir, 'entry.js'), cacheDir: await cacheDir(), builtinModules: BUILTINS }));
    assert.equal(r.code, 'script_syntax');
    assert.match(r.message, new RegExp(`^${join(dir, 'broken.js')}:2:13: Expected "\\)" but found ";"`));
  });

  it('reports an unknown bare specifier as script_import naming it and the importing line', async () => {
    const dir = await writeScripts({ 'entry.js': `import http from 'k6/http';\n\nimport _ from 'lodash';\nexport default function () {}\n` });
    const r = await rejection(loadScript({ entry: join(dir, 'entry.js'), cacheDir: await cacheDir(), builtinModules: BUILTINS }));
    assert.equal(r.code, 'script_import');
    assert.match(r.message, new RegExp(`^${join(dir, 'entry.js')}:3:15: unknown module "lodash"`));
  });

  it('reports a missing relative file as script_import', async () => {
    const dir = await writeScripts({ 'entry.js': `import { x } from './nope.js';\nexport default function () { x(); }\n` });
    const r = await rejection(loadScript({ entry: join(dir, 'entry.js'), cacheDir: await cacheDir(), builtinModules: BUILTINS }));
    assert.equal(r.code, 'script_import');
    assert.match(r.message, /entry\.js:1:19: Could not resolve "\.\/nope\.js"/);
  });

  it('rejects http:// imports unless insecure remotes are allowed', async () => {
    const dir = await writeScripts({ 'entry.js': `import { x } from 'http://127.0.0.1:9/lib.js';\nexport default function () { x(); }\n` });
    const r = await rejection(loadScript({ entry: join(dir, 'entry.js'), cacheDir: await cacheDir(), builtinModules: BUILTINS }));
    assert.equal(r.code, 'script_import');
    assert.match(r.message, /entry\.js:1:19: insecure remote module "http:\/\/127\.0\.0\.1:9\/lib\.js"/);
  });

  it('fetches a remote module and its relative imports once, then loads them from the cache with the server down', async () => {
    const hits: string[] = [];
    const server: Server = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/k6-utils/1.4.0/index.js') res.end(`export { randomItem } from './random.js';\nexport const NAME = 'utils';\n`);
      else if (req.url === '/k6-utils/1.4.0/random.js') res.end(`export function randomItem(a) { return a[0]; }\n`);
      else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const dir = await writeScripts({
      'entry.js': `import { randomItem, NAME } from 'http://127.0.0.1:${port}/k6-utils/1.4.0/index.js';\nexport const picked = randomItem(['a', 'b']);\nexport const name = NAME;\n`,
    });
    const cache = await cacheDir();
    const opts = { entry: join(dir, 'entry.js'), cacheDir: cache, builtinModules: BUILTINS, allowInsecureRemote: true };
    try {
      const s1 = await loadScript(opts);
      const ex1 = await s1.instantiate(fakeHost());
      assert.equal(ex1['picked'], 'a');
      assert.equal(ex1['name'], 'utils');
      assert.deepEqual(hits.sort(), ['/k6-utils/1.4.0/index.js', '/k6-utils/1.4.0/random.js']);
    } finally {
      await new Promise((r) => server.close(r));
    }
    const s2 = await loadScript(opts);
    assert.equal((await s2.instantiate(fakeHost()))['picked'], 'a');
    assert.equal(hits.length, 2);
    assert.equal(readdirSync(cache).filter((f) => f.endsWith('.js')).length, 2);
  });

  it('reports a failed remote fetch as script_import with the importing file and line', async () => {
    const server: Server = createServer((_req, res) => {
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const dir = await writeScripts({ 'entry.js': `\nimport { x } from 'http://127.0.0.1:${port}/missing.js';\nexport default function () { x(); }\n` });
    try {
      const r = await rejection(loadScript({ entry: join(dir, 'entry.js'), cacheDir: await cacheDir(), builtinModules: BUILTINS, allowInsecureRemote: true }));
      assert.equal(r.code, 'script_import');
      assert.match(r.message, /entry\.js:2:19: cannot fetch remote module "http:\/\/127\.0\.0\.1:\d+\/missing\.js": GET .* answered 404/);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('maps an exception inside the default function to the user line (iteration_exception.js:25)', async () => {
    const s = await loadScript({ entry: join(COMPAT, 'iteration_exception.js'), cacheDir: await cacheDir(), builtinModules: BUILTINS });
    const host = fakeHost(1);
    const m = {
      k6: host.require('k6'),
      'k6/http': host.require('k6/http'),
      'k6/metrics': { Counter: class { add(): void {} } },
    } as Record<string, Record<string, unknown>>;
    const ex = await s.instantiate({ ...host, require: (spec) => m[spec] ?? {} });
    host.state.iter = 1;
    const err = await (ex['default'] as () => Promise<void>)().then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof Object || typeof err === 'object');
    const stack = s.mapStack(err);
    assert.match(stack, /boom in iteration 1/);
    assert.match(stack, new RegExp(`${join(COMPAT, 'iteration_exception.js')}:25:\\d+`));
    assert.doesNotMatch(stack, /herd:script/);
  });

  it('maps an exception of the init code to the user line (init_error.js:9)', async () => {
    const s = await loadScript({ entry: join(COMPAT, 'init_error.js'), cacheDir: await cacheDir(), builtinModules: BUILTINS });
    const err = await s.instantiate(fakeHost()).then(() => undefined, (e: unknown) => e);
    const stack = s.mapStack(err);
    assert.match(stack, /init failed: no API key configured/);
    assert.match(stack, new RegExp(`${join(COMPAT, 'init_error.js')}:9:\\d+`));
  });

  it('hands data to the sandbox realm with toRealm and parseJSON', async () => {
    const dir = await writeScripts({ 'r.js': `export function isArray(x) { return x instanceof Array && x[0] instanceof Object; }\n` });
    const s = await loadScript({ entry: join(dir, 'r.js'), cacheDir: await cacheDir(), builtinModules: BUILTINS });
    const isArray = (await s.instantiate(fakeHost()))['isArray'] as (x: unknown) => boolean;
    assert.equal(isArray([{ a: 1 }]), false);
    assert.equal(isArray(s.toRealm([{ a: 1 }])), true);
    assert.equal(isArray(s.parseJSON('[{"a":1}]')), true);
  });

  it('loads every script of the compat corpus', async () => {
    const files = readdirSync(COMPAT).filter((f) => /\.(js|ts)$/.test(f));
    assert.equal(files.length, 28);
    const cache = await cacheDir();
    for (const f of files) {
      const s = await loadScript({ entry: join(COMPAT, f), cacheDir: cache, builtinModules: BUILTINS });
      assert.ok(s.code.length > 0, f);
    }
  });
});
