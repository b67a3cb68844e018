import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unwatchAbort, watchAbort } from './abort-watch.js';
import { VuAbortSignal } from './vu-signal.js';

describe('VuAbortSignal', () => {
  it('runs listeners and handleEvent objects once, in order, with an abort event; removed ones and duplicates do not run twice', () => {
    const s = new VuAbortSignal();
    const seen: string[] = [];
    const fn = (e: Event): void => void seen.push(`fn:${e.type}`);
    const gone = (): void => void seen.push('removed');
    const obj = { handleEvent: (e: Event) => void seen.push(`obj:${e.type}`) };
    s.addEventListener('abort', fn);
    s.addEventListener('abort', fn);
    s.addEventListener('abort', gone);
    s.addEventListener('abort', obj);
    s.removeEventListener('abort', gone);
    s.abort('why');
    s.abort('again');
    assert.deepEqual(seen, ['fn:abort', 'obj:abort']);
    assert.equal(s.aborted, true);
    assert.equal(s.reason, 'why');
    s.addEventListener('abort', fn);
    assert.deepEqual(seen, ['fn:abort', 'obj:abort'], 'a listener added after the abort never runs');
  });

  it('aborts with an AbortError DOMException when given no reason, and throwIfAborted throws it', () => {
    const s = new VuAbortSignal();
    s.throwIfAborted();
    s.abort();
    assert.ok(s.reason instanceof DOMException);
    assert.equal((s.reason as DOMException).name, 'AbortError');
    assert.throws(() => s.throwIfAborted(), (e) => e === s.reason);
  });

  it('serves watchAbort: callbacks get the reason; unwatched ones do not run', () => {
    const s = new VuAbortSignal();
    const got: unknown[] = [];
    const a = (r: unknown): void => void got.push(['a', r]);
    const b = (r: unknown): void => void got.push(['b', r]);
    watchAbort(s, a);
    watchAbort(s, b);
    unwatchAbort(s, a);
    s.abort(42);
    assert.deepEqual(got, [['b', 42]]);
  });
});
