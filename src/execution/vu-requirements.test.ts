import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maxConcurrentVUs } from './vu-requirements.js';

test('overlapping scenarios add their VUs', () => {
  const a = { startTime: 0, steps: [{ offsetMs: 0, plannedVUs: 2 }, { offsetMs: 10_000, plannedVUs: 0 }] };
  const b = { startTime: 1000, steps: [{ offsetMs: 0, plannedVUs: 1 }, { offsetMs: 5000, plannedVUs: 0 }] };
  assert.equal(maxConcurrentVUs([a, b]), 3);
});

test('scenarios that follow each other share VUs', () => {
  const a = { startTime: 0, steps: [{ offsetMs: 0, plannedVUs: 5 }, { offsetMs: 1000, plannedVUs: 0 }] };
  const b = { startTime: 1000, steps: [{ offsetMs: 0, plannedVUs: 3 }, { offsetMs: 1000, plannedVUs: 0 }] };
  assert.equal(maxConcurrentVUs([a, b]), 5);
});

test('a ramping profile needs its peak', () => {
  const r = { startTime: 0, steps: [1, 3, 5, 2, 0].map((v, i) => ({ offsetMs: i * 1000, plannedVUs: v })) };
  assert.equal(maxConcurrentVUs([r]), 5);
});
