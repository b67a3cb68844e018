// What scripts can use, through the real binary: TypeScript, remote http:// imports (cached on
// disk), open() in the init context, __ENV/__VU/__ITER, per-VU module state, and a sandbox
// that gives no way to Node's process.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTarget, type RunningTarget } from '../src/target/index.js';
import { checkResults, readSummary, runHerd, summaryToFile, tempDir } from './helpers/herd-process.js';

/** Runs `source` (saved as `name` with extra files) and returns its checks as name → "passes/fails". */
async function checksOf(source: string, opts: { name?: string; files?: Record<string, string | Uint8Array>; env?: Record<string, string>; args?: string[] } = {}) {
  const dir = tempDir(opts.files);
  const file = path.join(dir, opts.name ?? 's.js');
  writeFileSync(file, source + summaryToFile(path.join(dir, 'summary.json')));
  const r = await runHerd(['run', '-q', ...(opts.args ?? []), file], { env: opts.env });
  assert.equal(r.code, 0, r.stderr);
  return { checks: checkResults(readSummary(path.join(dir, 'summary.json'))), stderr: r.stderr, file };
}

describe('script features', { concurrency: 3 }, () => {
  it('a TypeScript script runs with its types stripped', async () => {
    const { checks } = await checksOf(
      `import { check } from 'k6';
interface Order { id: number; items: string[] }
enum Kind { A = 'a', B = 'b' }
export const options = { iterations: 2 };
const order: Order = { id: 41, items: ['x'] };
function next<T extends Order>(o: T): number { return o.id + 1; }
export default function (): void {
  check(order, { 'typescript ran': (o: Order) => next(o) === 42 && (Kind.B as string) === 'b' && (order.items as string[]).length === 1 });
}
`,
      { name: 'test.ts' },
    );
    assert.deepEqual(checks, { 'typescript ran': '2/0' });
  });

  it('open() reads text and binary files in the init context; in an iteration it logs an error', async () => {
    const bin = randomBytes(1234);
    const { checks, stderr } = await checksOf(
      `import { check } from 'k6';
const text = open('./data.txt');
const bytes = open('./data.bin', 'b');
export const options = { iterations: 1 };
export default function () {
  check(null, {
    'text content': () => text === 'hello, herd\\n',
    'binary is an ArrayBuffer of the right size': () => bytes instanceof ArrayBuffer && bytes.byteLength === 1234,
    'binary content': () => new Uint8Array(bytes)[0] === ${bin[0]} && new Uint8Array(bytes)[1233] === ${bin[1233]},
  });
  open('./data.txt');
  check(null, { 'unreachable after open()': () => true });
}
`,
      { files: { 'data.txt': 'hello, herd\n', 'data.bin': bin } },
    );
    assert.deepEqual(checks, { 'text content': '1/0', 'binary is an ArrayBuffer of the right size': '1/0', 'binary content': '1/0' });
    assert.match(stderr, /open\(\) can only be called in the init context/);
  });

  it('__ENV, __VU and __ITER hold k6 values; setup() runs with __VU 0', async () => {
    const { checks } = await checksOf(
      `import { check } from 'k6';
export const options = { scenarios: { main: { executor: 'per-vu-iterations', vus: 2, iterations: 3 } } };
export function setup() { return { setupVU: __VU }; }
export default function (data) {
  check(null, {
    '__VU is 1 or 2': () => __VU === 1 || __VU === 2,
    '__ITER is 0, 1 or 2': () => [0, 1, 2].includes(__ITER),
    '__ENV from -e': () => __ENV.GREETING === 'hi',
    'setup ran with __VU 0': () => data.setupVU === 0,
  });
}
`,
      { args: ['-e', 'GREETING=hi'] },
    );
    assert.deepEqual(checks, { '__VU is 1 or 2': '6/0', '__ITER is 0, 1 or 2': '6/0', '__ENV from -e': '6/0', 'setup ran with __VU 0': '6/0' });
  });

  it('module-level state is per VU: a counter incremented per iteration counts that VU’s iterations', async () => {
    const { checks } = await checksOf(
      `import { check } from 'k6';
let counter = 0;
export const options = { scenarios: { main: { executor: 'per-vu-iterations', vus: 3, iterations: 4 } } };
export default function () {
  counter++;
  check(counter, { 'counter is this VU\\'s iteration count': (c) => c === __ITER + 1 });
}
`,
    );
    assert.deepEqual(checks, { "counter is this VU's iteration count": '12/0' });
  });

  it("k6/execution gives each VU its own live values, tags it can set and delete, read-only names, its own copy of the options and no way to herd", async () => {
    const { checks } = await checksOf(
      `import { check } from 'k6';
import exec, { vu, scenario } from 'k6/execution';
export const options = { scenarios: { sc: { executor: 'per-vu-iterations', vus: 3, iterations: 2 } } };
let initError = '';
try { exec.scenario.name; } catch (e) { initError = String(e.message); }
export default function () {
  exec.vu.tags.mine = 'v' + __VU;
  const seen = exec.vu.tags.mine === 'v' + __VU && exec.vu.metrics.tags.mine === 'v' + __VU && 'mine' in exec.vu.tags;
  delete exec.vu.tags.mine;
  let assignError = '';
  try { exec.vu.idInTest = 99; } catch (e) { assignError = e.name; }
  check(null, {
    'vu ids and iteration': () => exec.vu.idInTest === __VU && exec.vu.idInInstance === __VU && exec.vu.iterationInScenario === __ITER && exec.vu.iterationInInstance === __ITER,
    'scenario': () => exec.scenario.name === 'sc' && exec.scenario.executor === 'per-vu-iterations' && exec.scenario.startTime <= Date.now() && exec.scenario.startTime > Date.now() - 60000,
    'iteration in test counts every VU': () => exec.scenario.iterationInTest >= 0 && exec.scenario.iterationInTest < 6,
    'tags set, read and deleted': () => seen && exec.vu.tags.mine === undefined && exec.vu.tags.scenario === 'sc',
    'named imports are the same objects': () => vu === exec.vu && scenario === exec.scenario,
    'names': () => Object.keys(exec.vu).join() === 'idInInstance,idInTest,iterationInInstance,iterationInScenario,tags,metrics' && 'idInTest' in exec.vu && !('nope' in exec.vu) && exec.vu.nope === undefined,
    'read-only': () => assignError === 'TypeError' && exec.vu.idInTest === __VU,
    'init context': () => initError.includes('not available in the init context'),
    'instance and test': () => exec.instance.vusInitialized === 3 && typeof exec.instance.currentTestRunDuration === 'number' && typeof exec.test.abort === 'function',
    'no hidden keys and no way out': () => Reflect.ownKeys(exec.vu).length === 6 && Reflect.ownKeys(exec.scenario).length === 6 && exec.vu.constructor.constructor('return typeof process')() === 'undefined',
    'test options can be listed and serialized': () => Object.keys(exec.test.options).includes('scenarios') && JSON.parse(JSON.stringify(exec.test.options)).scenarios.sc.vus === 3 && exec.test.options === exec.test.options,
  });
}
`,
      { args: ['--workers', '1'] },
    );
    assert.deepEqual(checks, {
      'vu ids and iteration': '6/0',
      scenario: '6/0',
      'iteration in test counts every VU': '6/0',
      'tags set, read and deleted': '6/0',
      'named imports are the same objects': '6/0',
      names: '6/0',
      'read-only': '6/0',
      'init context': '6/0',
      'instance and test': '6/0',
      'no hidden keys and no way out': '6/0',
      'test options can be listed and serialized': '6/0',
    });
  });

  it('the global timer functions act for their own VU, can be replaced per VU, and no other name leaks into the global scope', async () => {
    const { checks } = await checksOf(
      `import { check } from 'k6';
import { setTimeout as importedSetTimeout } from 'k6/timers';
export const options = { scenarios: { main: { executor: 'per-vu-iterations', vus: 2, iterations: 2 } } };
const referenceError = (read) => { try { read(); return false; } catch (e) { return e instanceof ReferenceError; } };
export default async function () {
  const fired = [];
  setTimeout(() => fired.push('global ' + __VU), 5);
  importedSetTimeout(() => fired.push('imported ' + __VU), 10);
  const cancelled = setInterval(() => fired.push('never'), 1);
  clearInterval(cancelled);
  if (__VU === 1 && __ITER === 1) {
    // Replacing a global changes it for this VU only.
    setTimeout = (fn) => { fired.push('replaced'); fn(); };
  }
  await new Promise((resolve) => importedSetTimeout(resolve, 30));
  check(fired, {
    'timers ran for this VU': (f) => f.includes('global ' + __VU) && f.includes('imported ' + __VU) && !f.includes('never'),
    'engine internals are not globals': () => referenceError(() => vu) && referenceError(() => host) && referenceError(() => keep) && referenceError(() => timer),
  });
  check(setTimeout, { 'VU 2 still has its own setTimeout': () => __VU === 2 ? typeof setTimeout === 'function' && String(setTimeout).indexOf('replaced') < 0 : true });
}
`,
    );
    assert.deepEqual(checks, { 'timers ran for this VU': '4/0', 'engine internals are not globals': '4/0', 'VU 2 still has its own setTimeout': '4/0' });
  });

  it("the default function sees no Node process, no Node require and no way back to them", async () => {
    const { checks } = await checksOf(
      `import { check } from 'k6';
import http from 'k6/http';
export const options = { iterations: 1 };
const isNodeProcess = (p) => typeof p === 'object' && p !== null && typeof p.pid === 'number';
const attempt = (f) => { try { return isNodeProcess(f()); } catch (e) { return false; } };
export default function () {
  let requireFs = false;
  const fsName = ['f', 's'].join(''); // computed, so the bundler cannot resolve it ahead of time
  try { requireFs = typeof require(fsName).readFileSync === 'function'; } catch (e) { requireFs = false; }
  check(null, {
    'this.constructor.constructor': () => !attempt(() => this.constructor.constructor('return process')()),
    'globalThis.constructor.constructor': () => !attempt(() => globalThis.constructor.constructor('return process')()),
    'Function("return process")': () => !attempt(() => Function('return process')()),
    'http.get.constructor': () => !attempt(() => http.get.constructor('return process')()),
    'check.constructor': () => !attempt(() => check.constructor('return process')()),
    'globalThis.process': () => globalThis.process === undefined,
    'typeof process': () => typeof process === 'undefined',
    'require is not Node\\'s': () => !requireFs,
  });
}
`,
    );
    assert.deepEqual(checks, {
      'this.constructor.constructor': '1/0',
      'globalThis.constructor.constructor': '1/0',
      'Function("return process")': '1/0',
      'http.get.constructor': '1/0',
      'check.constructor': '1/0',
      'globalThis.process': '1/0',
      'typeof process': '1/0',
      "require is not Node's": '1/0',
    });
  });
});

describe('sandbox: objects handed to the script by herd', { concurrency: 2 }, () => {
  let target: RunningTarget;
  before(async () => {
    target = await startTarget({ port: 0 });
  });
  after(async () => {
    await target.close();
  });

  it("an http.get() response and an error from open() give no way back to Node's process", async () => {
    const { checks } = await checksOf(
      `import { check } from 'k6';
import http from 'k6/http';
export const options = { iterations: 1 };
const isNodeProcess = (p) => typeof p === 'object' && p !== null && typeof p.pid === 'number';
const attempt = (f) => { try { return isNodeProcess(f()); } catch (e) { return false; } };
export default function () {
  const res = http.get(${JSON.stringify(`${target.url}/get`)});
  let openError;
  try { open('./nothing.txt'); } catch (e) { openError = e; }
  check(null, {
    'response': () => !attempt(() => res.constructor.constructor('return process')()),
    'response headers': () => !attempt(() => res.headers.constructor.constructor('return process')()),
    'response method': () => !attempt(() => res.json.constructor('return process')()),
    'open() error': () => !attempt(() => openError.constructor.constructor('return process')()),
  });
}
`,
    );
    assert.deepEqual(checks, { response: '1/0', 'response headers': '1/0', 'response method': '1/0', 'open() error': '1/0' });
  });
});

describe('remote imports', () => {
  let server: Server;
  let hits = 0;
  let base = '';
  before(async () => {
    server = createServer((_req, res) => {
      hits++;
      res.setHeader('content-type', 'application/javascript');
      res.end('export function twice(x) { return x * 2; }\nexport const NAME = "remote lib";\n');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    if (server.listening) server.close();
  });

  it('an http:// module is imported once, cached in HERD_CACHE_DIR, and the cache serves the next run', async () => {
    const cache = tempDir();
    const script = `import { check } from 'k6';
import { twice, NAME } from '${base}/lib.js';
export const options = { iterations: 1 };
export default function () { check(null, { 'remote module works': () => twice(21) === 42 && NAME === 'remote lib' }); }
`;
    const env = { HERD_ALLOW_INSECURE_IMPORTS: 'true', HERD_CACHE_DIR: cache };
    const first = await checksOf(script, { env });
    assert.deepEqual(first.checks, { 'remote module works': '1/0' });
    assert.equal(hits, 1);
    server.close();
    server.closeAllConnections();
    const second = await checksOf(script, { env });
    assert.deepEqual(second.checks, { 'remote module works': '1/0' });
    assert.equal(hits, 1, 'the second run used the cache');
  });

  it('an http:// import without HERD_ALLOW_INSECURE_IMPORTS exits 107 naming the URL', async () => {
    const dir = tempDir({ 's.js': "import { twice } from 'http://127.0.0.1:9/lib.js';\nexport default function () { twice(1); }\n" });
    const r = await runHerd(['run', '-q', path.join(dir, 's.js')], { env: { HERD_CACHE_DIR: tempDir() } });
    assert.equal(r.code, 107, r.stderr);
    assert.match(r.stderr, /insecure remote module "http:\/\/127\.0\.0\.1:9\/lib\.js"/);
  });
});
