import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HerdError } from '../errors/index.js';
import { random, randomSequence } from './random-sequence.js';
import { fullSegment, parseExecutionSegment, segmentsOfSequence, splitSegment } from './segment.js';
import type { ExecutionSegment } from './types.js';

/** The global 1-based positions a segment's index walks through, for its first `count` elements. */
function positions(segment: ExecutionSegment, count: number): number[] {
  const index = segment.newIndex();
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    index.next();
    out.push(index.unscaled);
  }
  return out;
}

describe('execution segments', () => {
  it('the full segment scales every value to itself', () => {
    for (const v of [0, 1, 7, 1000, 123456]) assert.equal(fullSegment.scale(v), v);
    assert.equal(fullSegment.scaleRate(2.5), 2.5);
    assert.equal(String(fullSegment), '0:1');
    assert.equal(fullSegment.sequence, '0,1');
    assert.deepEqual(positions(fullSegment, 5), [1, 2, 3, 4, 5]);
  });

  it('a half, a quarter and a quarter split values and iterations as k6 documents', () => {
    const [a, b, c] = segmentsOfSequence('0,1/2,3/4,1') as [ExecutionSegment, ExecutionSegment, ExecutionSegment];
    const scaled = (s: ExecutionSegment) => Array.from({ length: 12 }, (_, i) => s.scale(i + 1));
    assert.deepEqual(scaled(a), [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]);
    assert.deepEqual(scaled(b), [0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3]);
    assert.deepEqual(scaled(c), [0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3]);
    // 1-based positions: k6's 0-based iterators 0,2,4… / 1,5,9… / 3,7,11…
    assert.deepEqual(positions(a, 4), [1, 3, 5, 7]);
    assert.deepEqual(positions(b, 3), [2, 6, 10]);
    assert.deepEqual(positions(c, 3), [4, 8, 12]);
  });

  it('a segment without a sequence is filled around, as k6 does', () => {
    const third = parseExecutionSegment('0:1/3');
    assert.equal(third.sequence, '0,1/3,1');
    assert.equal(String(third), '0:1/3');
    assert.equal(third.scale(4), 1);
    assert.equal(third.scale(6), 2);
    assert.equal(parseExecutionSegment('50%').toString(), '0:1/2');
    assert.equal(parseExecutionSegment('0.25:0.5').toString(), '1/4:1/2');
    assert.equal(parseExecutionSegment('').toString(), '0:1');
  });

  it('the parts of any sequence add up to the whole for every value, and never shrink as it grows', () => {
    const rand = random(42);
    for (let trial = 0; trial < 60; trial++) {
      const sequence = randomSequence(rand);
      const parts = segmentsOfSequence(sequence);
      let previous = parts.map(() => 0);
      for (let v = 0; v <= 300; v++) {
        const shares = parts.map((p) => p.scale(v));
        assert.equal(shares.reduce((x, y) => x + y, 0), v, `${sequence} at ${v}`);
        shares.forEach((s, i) => assert.ok(s >= (previous[i] as number), `${sequence} shrank at ${v}`));
        previous = shares;
      }
    }
  });

  it('the indexes of a sequence visit every global position exactly once', () => {
    const rand = random(7);
    for (let trial = 0; trial < 40; trial++) {
      const sequence = randomSequence(rand);
      const parts = segmentsOfSequence(sequence);
      const n = 240;
      const seen: number[] = [];
      for (const p of parts) seen.push(...positions(p, p.scale(n)));
      assert.deepEqual(
        seen.sort((x, y) => x - y),
        Array.from({ length: n }, (_, i) => i + 1),
        sequence,
      );
    }
  });

  it('goTo and prev land on the last owned position at or below a value', () => {
    const [, b] = segmentsOfSequence('0,1/2,3/4,1') as [ExecutionSegment, ExecutionSegment];
    const index = b.newIndex();
    index.goTo(9);
    assert.deepEqual([index.scaled, index.unscaled], [2, 6]);
    index.goTo(10);
    assert.deepEqual([index.scaled, index.unscaled], [3, 10]);
    index.prev();
    assert.deepEqual([index.scaled, index.unscaled], [2, 6]);
    index.goTo(1);
    assert.deepEqual([index.scaled, index.unscaled], [0, 0]);
  });

  it('re-cutting by a value splits a second value in the same proportion, adding up to the whole', () => {
    const rand = random(99);
    for (let trial = 0; trial < 40; trial++) {
      const parts = segmentsOfSequence(randomSequence(rand));
      for (const vus of [1, 2, 3, 5, 7, 10]) {
        for (const iterations of [vus, vus + 1, 3 * vus + 2, 100]) {
          let sum = 0;
          for (const p of parts) {
            const cut = p.forValue(vus);
            assert.equal(cut === null, p.scale(vus) === 0);
            sum += cut ? cut.scale(iterations) : 0;
          }
          assert.equal(sum, iterations);
        }
      }
    }
  });

  it('malformed segments and sequences are rejected with every problem named', () => {
    assert.throws(
      () => parseExecutionSegment('abc', '0,x'),
      (e: unknown) =>
        e instanceof HerdError &&
        e.code === 'invalid_option' &&
        e.message ===
          'executionSegment must be a fraction, decimal or percentage like "1/3", "0.5" or "50%", or a range "from:to" of those, got "abc"\n' +
            'executionSegmentSequence must be at least 2 increasing points between 0 and 1 like "0,1/3,2/3,1", got "0,x"',
    );
    assert.throws(() => parseExecutionSegment('1/2:1/3'), { message: 'executionSegment must have 0 <= from < to <= 1, got "1/2:1/3"' });
    assert.throws(() => parseExecutionSegment('1/3:1/2', '0,1/2,1'), {
      message: 'executionSegmentSequence must contain executionSegment 1/3:1/2, got "0,1/2,1"',
    });
  });
});

describe('splitSegment', () => {
  it('splits the whole test into parts whose shares add up to every value', () => {
    const parts = splitSegment(parseExecutionSegment('', ''), 3);
    assert.equal(parts.map((p) => p.toString()).join(' '), '0:1/3 1/3:2/3 2/3:1');
    for (const v of [0, 1, 2, 5, 10, 99, 1000, 12345]) {
      assert.equal(parts.reduce((sum, p) => sum + p.scale(v), 0), v, `value ${v}`);
    }
  });

  it('splits a segment of a larger sequence so that its parts add up to its own share', () => {
    const seg = parseExecutionSegment('1/2:1', '0,1/2,1');
    const parts = splitSegment(seg, 2);
    assert.equal(parts.map((p) => p.toString()).join(' '), '0:1/2 of 1/2:1 1/2:1 of 1/2:1');
    for (let v = 0; v < 200; v++) assert.equal(parts.reduce((s, p) => s + p.scale(v), 0), seg.scale(v), `value ${v}`);
  });

  it('hands out disjoint global VU numbers to the parts', () => {
    const parts = splitSegment(parseExecutionSegment('', ''), 2);
    const ids = parts.flatMap((p) => {
      const idx = p.newIndex();
      return Array.from({ length: 5 }, () => {
        idx.next();
        return idx.unscaled;
      });
    });
    assert.deepEqual([...ids].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

describe('worker parts of an instance segment', () => {
  it('add up to the instance for every value, segment and re-cut, and use disjoint positions', () => {
    const rnd = random(7);
    for (let round = 0; round < 30; round++) {
      const seq = randomSequence(rnd);
      for (const seg of segmentsOfSequence(seq)) {
        const parts = splitSegment(seg, 1 + Math.floor(rnd() * 4));
        for (const v of [1, 2, 3, 7, 10, 33, 100, 1001]) {
          assert.equal(parts.reduce((s, p) => s + p.scale(v), 0), seg.scale(v), `${seq} ${seg.toString()} value ${v}`);
          const recut = parts.map((p) => p.forValue(v));
          const whole = seg.forValue(v);
          if (whole !== null) {
            for (const iters of [5, 50, 999]) {
              assert.equal(recut.reduce((s, p) => s + (p?.scale(iters) ?? 0), 0), whole.scale(iters), `${seq} ${seg.toString()} re-cut ${v} iterations ${iters}`);
            }
          }
        }
        const seen = new Set<number>();
        for (const p of parts) {
          const idx = p.newIndex();
          for (let i = 0; i < 20; i++) {
            idx.next();
            assert.ok(!seen.has(idx.unscaled), `position ${idx.unscaled} used twice`);
            seen.add(idx.unscaled);
          }
        }
      }
    }
  });
});
