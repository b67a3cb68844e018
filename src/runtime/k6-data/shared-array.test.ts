import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HerdError } from '../../errors/index.js';
import { createFakeTest, createFakeVu } from '../k6-metrics/fake-vu.js';
import type { TestContext, VuState } from '../vu-state.js';
import { createDataModule, restoreSharedArray, sharedArrayKey, type DataApi, type SharedArrayEntry } from './index.js';

function dataFor(vu: VuState): DataApi {
  return createDataModule().instantiate(vu)['default'] as DataApi;
}

function users(test: TestContext, id: number, calls: { n: number }): readonly unknown[] {
  const { SharedArray } = dataFor(createFakeVu(test, id));
  return new SharedArray('users', () => {
    calls.n++;
    return [{ name: 'ann', roles: ['admin'] }, { name: 'bob', roles: [] }, { name: 'cy', roles: ['dev'] }];
  });
}

function assertImmutable(fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => e instanceof TypeError && e.message === 'SharedArray is immutable');
}

describe('k6/data SharedArray', () => {
  it('runs the function once for three VUs, which all see the same data', () => {
    const test = createFakeTest();
    const calls = { n: 0 };
    const arrays = [1, 2, 3].map((id) => users(test, id, calls));
    assert.equal(calls.n, 1);
    for (const a of arrays) assert.deepEqual(a[1], { name: 'bob', roles: [] });
    assert.equal(arrays[0], arrays[2]);
  });

  it('stores the data once under SharedArray:<name> as JSON plus a parsed frozen array', () => {
    const test = createFakeTest();
    users(test, 1, { n: 0 });
    const entry = test.shared.get(sharedArrayKey('users')) as SharedArrayEntry;
    assert.equal(sharedArrayKey('users'), 'SharedArray:users');
    assert.equal(entry.json, '[{"name":"ann","roles":["admin"]},{"name":"bob","roles":[]},{"name":"cy","roles":["dev"]}]');
    assert.ok(Object.isFrozen(entry.array));
    assert.ok(Object.isFrozen(entry.array[0]));
  });

  it('keeps arrays with different names apart', () => {
    const test = createFakeTest();
    const { SharedArray } = dataFor(createFakeVu(test));
    const a = new SharedArray('a', () => [1]);
    const b = new SharedArray('b', () => [2, 3]);
    assert.deepEqual([...a], [1]);
    assert.deepEqual([...b], [2, 3]);
  });

  it('supports length, index access, for...of and the non-mutating array methods', () => {
    const data = users(createFakeTest(), 1, { n: 0 }) as ReadonlyArray<{ name: string; roles: string[] }>;
    assert.equal(data.length, 3);
    assert.equal(data[0]?.name, 'ann');
    assert.equal(data[3], undefined);
    assert.equal(data[-1], undefined);
    const names: string[] = [];
    for (const u of data) names.push(u.name);
    assert.deepEqual(names, ['ann', 'bob', 'cy']);
    assert.deepEqual(data.map((u) => u.name), names);
    assert.deepEqual(data.filter((u) => u.roles.length > 0).length, 2);
    assert.equal(data.find((u) => u.name === 'cy')?.roles[0], 'dev');
    assert.deepEqual(data.slice(1).map((u) => u.name), ['bob', 'cy']);
    assert.equal(JSON.stringify(data.slice(0, 1)), '[{"name":"ann","roles":["admin"]}]');
    assert.ok(Array.isArray(data));
  });

  it('throws k6 TypeError on every write to the array, in sloppy code too', () => {
    const data = users(createFakeTest(), 1, { n: 0 }) as unknown[];
    assertImmutable(() => {
      data[0] = 'x';
    });
    assertImmutable(() => {
      data[10] = 'x';
    });
    assertImmutable(() => data.push('x'));
    assertImmutable(() => {
      data.length = 0;
    });
    assertImmutable(() => delete data[0]);
    assertImmutable(() => data.sort());
    // new Function bodies are sloppy mode, where a plain frozen array would fail silently.
    assertImmutable(() => new Function('a', 'a[0] = 1;')(data));
    assert.equal(data.length, 3);
  });

  it('hands out frozen elements, so nested writes fail too', () => {
    const data = users(createFakeTest(), 1, { n: 0 }) as Array<{ name: string; roles: string[] }>;
    const first = data[0] as { name: string; roles: string[] };
    assert.throws(() => {
      first.name = 'eve';
    }, TypeError);
    assert.throws(() => first.roles.push('root'), TypeError);
    assert.equal(data[0]?.name, 'ann');
  });

  it('refuses construction outside the init context', () => {
    const vu = createFakeVu(createFakeTest(), 1, 'iteration');
    const { SharedArray } = dataFor(vu);
    assert.throws(
      () => new SharedArray('late', () => []),
      (e: unknown) =>
        e instanceof HerdError && e.code === 'init_context_only' && e.message === 'new SharedArray must be called in the init context' && e.hint !== undefined,
    );
  });

  it('refuses a function that does not return an array, and does not store anything', () => {
    const test = createFakeTest();
    const { SharedArray } = dataFor(createFakeVu(test));
    const notArray = (() => 'whatever') as unknown as () => unknown[];
    assert.throws(() => new SharedArray('bad', notArray), { message: 'only arrays can be made into SharedArray' });
    assert.equal(test.shared.size, 0);
  });

  it('refuses an empty name, a missing function and an async function with k6 messages', () => {
    const { SharedArray } = dataFor(createFakeVu(createFakeTest()));
    assert.throws(() => new SharedArray('', () => []), { message: "empty name provided to SharedArray's constructor" });
    assert.throws(() => new SharedArray('x', undefined as unknown as () => unknown[]), {
      message: "a function is expected as the second argument of SharedArray's constructor",
    });
    const asyncFn = (async () => []) as unknown as () => unknown[];
    assert.throws(() => new SharedArray('x', asyncFn), { message: 'SharedArray constructor does not support async functions as second argument' });
  });

  it('reports data that JSON cannot hold', () => {
    const { SharedArray } = dataFor(createFakeVu(createFakeTest()));
    assert.throws(() => new SharedArray('big', () => [1n]), (e: unknown) => e instanceof HerdError && /^SharedArray "big": its data cannot be serialised to JSON/.test(e.message));
  });

  it('must be called with new', () => {
    const { SharedArray } = dataFor(createFakeVu(createFakeTest()));
    const call = SharedArray as unknown as (n: string, f: () => unknown[]) => unknown;
    assert.throws(() => call('x', () => []), TypeError);
  });

  it('reuses data restored from another thread without calling the function', () => {
    const test = createFakeTest();
    restoreSharedArray(test, 'users', '[{"name":"zed"}]');
    const calls = { n: 0 };
    const data = users(test, 4, calls);
    assert.equal(calls.n, 0);
    assert.deepEqual(data[0], { name: 'zed' });
  });
});
