import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StartStagger } from './start-stagger.js';

test('VUs that start together go in groups of a hundred, one event-loop turn apart', async () => {
  const stagger = new StartStagger();
  const turnOf: number[] = [];
  let turn = 0;
  const gates = Array.from({ length: 250 }, () => stagger.turn());
  assert.equal(gates.slice(0, 100).every((g) => g === null), true, 'the first hundred start at once');
  assert.equal(gates.slice(100).every((g) => g !== null), true);
  gates.forEach((g, i) => void g?.then(() => (turnOf[i] = turn)));
  // Count event-loop turns (setImmediate callbacks run once per turn).
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setImmediate(r));
    turn++;
  }
  assert.deepEqual([turnOf[100], turnOf[199], turnOf[200], turnOf[249]], [turnOf[100], turnOf[100], (turnOf[100] as number) + 1, (turnOf[100] as number) + 1]);
  assert.ok((turnOf[100] as number) <= 1, `the second hundred waited ${turnOf[100]} turns`);
});
