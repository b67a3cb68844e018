import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadScript } from '../script/index.js';
import { BUILTINS, writeScripts } from '../script/test-helpers.js';
import { lazyModule } from './lazy-module.js';

interface Vu {
  id: number;
}

function counted() {
  const made: string[] = [];
  const make = lazyModule<Vu>(
    {
      whoAmI: (vu) => {
        made.push(`whoAmI@${vu.id}`);
        return () => vu.id;
      },
      twice: (vu) => {
        made.push(`twice@${vu.id}`);
        return (x: number) => 2 * x + vu.id * 0;
      },
    },
    { LIMIT: 7 },
  );
  return { made, make };
}

describe('lazyModule', () => {
  it('makes a member for a VU on its first read only, and keeps it', () => {
    const { made, make } = counted();
    const a = make({ id: 1 });
    const b = make({ id: 2 });
    assert.deepEqual(made, []);
    const f = a['whoAmI'] as () => number;
    assert.equal(f(), 1);
    assert.equal(a['whoAmI'], f, 'the same function on the second read');
    assert.equal((b['whoAmI'] as () => number)(), 2);
    assert.deepEqual(made, ['whoAmI@1', 'whoAmI@2']);
    assert.equal(a['LIMIT'], 7);
  });

  it('lets a script replace a member on its VU only, and its default import is the object', () => {
    const { make } = counted();
    const a = make({ id: 1 });
    const b = make({ id: 2 });
    a['whoAmI'] = () => 'mocked';
    assert.equal((a['whoAmI'] as () => string)(), 'mocked');
    assert.equal((b['whoAmI'] as () => number)(), 2);
    assert.equal(a['default'], a);
    const names: string[] = [];
    for (const k in b) names.push(k);
    assert.deepEqual(names.sort(), ['LIMIT', 'twice', 'whoAmI']);
  });

  it('is wrapped by the script sandbox like any plain module object', async () => {
    const { make } = counted();
    const dir = await writeScripts({
      'use.js': `import lazy from 'k6/lazy';
export function run() {
  const reached = [];
  for (const probe of [
    () => lazy.whoAmI.constructor('return process')(),
    () => Object.getPrototypeOf(lazy).constructor,
    () => lazy.twice.constructor.constructor('return process')(),
  ]) { try { reached.push(probe()); } catch (e) { reached.push('threw'); } }
  return { who: lazy.whoAmI(), twice: lazy.twice(21), limit: lazy.LIMIT, reached };
}
`,
    });
    const s = await loadScript({ entry: join(dir, 'use.js'), cacheDir: await mkdtemp(join(tmpdir(), 'herd-cache-')), builtinModules: [...BUILTINS, 'k6/lazy'] });
    const ex = await s.instantiate({ require: () => make({ id: 5 }), globals: {} });
    const out = (ex['run'] as () => { who: number; twice: number; limit: number; reached: unknown[] })();
    assert.equal(out.who, 5);
    assert.equal(out.twice, 42);
    assert.equal(out.limit, 7);
    for (const r of out.reached) assert.notEqual(r, process);
    assert.notEqual(out.reached[1], Object, "the prototype the script sees leads to the sandbox's Object, not Node's");
  });
});
