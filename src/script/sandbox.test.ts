import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadScript } from './index.js';
import { BUILTINS, fakeHost, writeScripts } from './test-helpers.js';

// Each probe returns what it reached; `process` must never be Node's process object.
const PROBES = `
const attempts = {
  thisConstructor: () => this.constructor.constructor('return process')(),
  globalThisConstructor: () => globalThis.constructor.constructor('return process')(),
  functionReturnThis: () => (function () {}).constructor('return this')().process,
  arrowThis: () => (() => 0).constructor('return globalThis.process')(),
  envConstructor: () => __ENV.constructor.constructor('return process')(),
  openConstructor: () => open.constructor('return process')(),
  consoleLogConstructor: () => console.log.constructor('return process')(),
  moduleFunctionConstructor: () => http.get.constructor('return process')(),
  moduleObjectProto: () => Object.getPrototypeOf(http).constructor.constructor('return process')(),
  descriptorValue: () => Object.getOwnPropertyDescriptor(console, 'log').value.constructor('return process')(),
  requireGlobal: () => { const r = require; return r('fs'); },
  evalProcess: () => eval('typeof process') === 'undefined' ? undefined : eval('process'),
  bufferGlobal: () => typeof Buffer === 'undefined' ? undefined : Buffer,
};
export function probe() {
  const out = {};
  for (const [name, fn] of Object.entries(attempts)) {
    try { out[name] = fn(); } catch (e) { out[name] = 'threw: ' + e.message; }
  }
  return out;
}
export function globalNames() { return Object.getOwnPropertyNames(globalThis); }
`;

describe('the script sandbox', () => {
  it("gives no way back to Node's process, require or Buffer", async () => {
    const dir = await writeScripts({ 'escape.js': `import http from 'k6/http';\n${PROBES}` });
    const s = await loadScript({ entry: join(dir, 'escape.js'), cacheDir: await mkdtemp(join(tmpdir(), 'herd-cache-')), builtinModules: BUILTINS });
    const ex = await s.instantiate(fakeHost());
    const results = (ex['probe'] as () => Record<string, unknown>)();
    assert.equal(Object.keys(results).length, 13);
    for (const [name, value] of Object.entries(results)) {
      assert.notEqual(value, process, `${name} reached Node's process`);
      if (typeof value === 'object' && value !== null) {
        assert.equal(typeof (value as { pid?: unknown }).pid, 'undefined', `${name} reached a process-like object`);
      }
    }
    assert.equal(results['functionReturnThis'], undefined);
    assert.equal(results['thisConstructor'], "threw: Cannot read properties of undefined (reading 'constructor')");
    assert.match(String(results['requireGlobal']), /^threw: unknown module "fs"/);
    assert.equal(results['bufferGlobal'], undefined);
  });

  it("gives the promises of runtime modules the sandbox's own Promise as constructor, so await takes them directly", async () => {
    const dir = await writeScripts({
      'promises.js': `import http from 'k6/http';
export async function check() {
  const p = http.asyncRequest('GET', 'http://x/');
  const ctorIsPromise = p.constructor === Promise;
  const res = await p;
  return { ctorIsPromise, status: res.status };
}
`,
    });
    const s = await loadScript({ entry: join(dir, 'promises.js'), cacheDir: await mkdtemp(join(tmpdir(), 'herd-cache-')), builtinModules: BUILTINS });
    const ex = await s.instantiate(fakeHost(1));
    const r = await (ex['check'] as () => Promise<{ ctorIsPromise: boolean; status: number }>)();
    assert.equal(r.ctorIsPromise, true);
    assert.equal(r.status, 200);
  });

  it("keeps a built-in module's function read through the script's import on it, and lets the script replace it", async () => {
    const dir = await writeScripts({
      'view.js': `import http from 'k6/http';
import { get } from 'k6/http';
const own = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
export function probe() {
  const before = own(http, 'get');
  const f = http.get;
  const kept = own(http, 'get');
  const same = http.get === f && get === f;
  http.get = function mine() { return 'mine'; };
  return { before, kept, same, replaced: http.get(), constant: http.TLS_1_3, ownConstant: own(http, 'TLS_1_3') };
}
`,
    });
    const s = await loadScript({ entry: join(dir, 'view.js'), cacheDir: await mkdtemp(join(tmpdir(), 'herd-cache-')), builtinModules: BUILTINS });
    const host = fakeHost();
    (host.require('k6/http') as Record<string, unknown>)['TLS_1_3'] = 'tls1.3';
    // The transform makes probe async: it calls http.get.
    const r = await ((await s.instantiate(host))['probe'] as () => Promise<Record<string, unknown>>)();
    assert.deepEqual({ ...r }, { before: false, kept: true, same: true, replaced: 'mine', constant: 'tls1.3', ownConstant: false });
  });

  it('has only JavaScript built-ins on its global object', async () => {
    const dir = await writeScripts({ 'globals.js': `export function globalNames() { return Object.getOwnPropertyNames(globalThis); }\n` });
    const s = await loadScript({ entry: join(dir, 'globals.js'), cacheDir: await mkdtemp(join(tmpdir(), 'herd-cache-')), builtinModules: BUILTINS });
    const names = new Set(((await s.instantiate(fakeHost()))['globalNames'] as () => string[])());
    for (const forbidden of ['process', 'require', 'module', 'Buffer', 'setImmediate', '__ENV', '__VU', 'open']) {
      assert.equal(names.has(forbidden), false, `${forbidden} is on the sandbox global`);
    }
    assert.ok(names.has('Array') && names.has('JSON') && names.has('Promise'));
  });

  it('keeps per-VU globals out of the shared context global', async () => {
    const dir = await writeScripts({ 'vu.js': `export function read() { return [__VU, typeof globalThis.__VU]; }\n` });
    const s = await loadScript({ entry: join(dir, 'vu.js'), cacheDir: await mkdtemp(join(tmpdir(), 'herd-cache-')), builtinModules: BUILTINS });
    const a = await s.instantiate(fakeHost(1, 7));
    const b = await s.instantiate(fakeHost(1, 8));
    assert.deepEqual([...(a['read'] as () => unknown[])()], [7, 'undefined']);
    assert.deepEqual([...(b['read'] as () => unknown[])()], [8, 'undefined']);
  });
});
