import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RunStatuses, runStatuses } from '../../protocol/index.js';
import { countsTowardUsage, estimateVuHours, runVuHours, usageMonth } from './usage.js';

const started = '2026-11-02T10:00:00.000Z';
const halfHourLater = '2026-11-02T10:30:00.000Z';

describe('usage', () => {
  it('counts VU-hours from entering Running to the end', () => {
    assert.equal(runVuHours({ status: RunStatuses.Finished, vus: 100, startedAt: started, endedAt: halfHourLater }, new Date()), 50);
  });

  it('counts runs aborted by user, as the seed says, and not runs aborted by system', () => {
    const facts = { vus: 10, startedAt: started, endedAt: halfHourLater };
    assert.equal(runVuHours({ ...facts, status: RunStatuses.AbortedByUser }, new Date()), 5);
    assert.equal(runVuHours({ ...facts, status: RunStatuses.AbortedBySystem }, new Date()), 0);
    assert.deepEqual(runStatuses.filter((s) => !countsTowardUsage(s)).map((s) => s.name), ['Aborted by system']);
  });

  it('counts nothing for a run that never ran', () => {
    assert.equal(runVuHours({ status: RunStatuses.AbortedByLimit, vus: 50_000, startedAt: null, endedAt: halfHourLater }, new Date()), 0);
  });

  it('counts a run still going up to now', () => {
    assert.equal(runVuHours({ status: RunStatuses.Running, vus: 4, startedAt: started, endedAt: null }, new Date(halfHourLater)), 2);
  });

  it('estimates VU-hours from max VUs and planned duration', () => {
    assert.equal(estimateVuHours(20_000, 3600), 20_000);
    assert.equal(estimateVuHours(10, 90), 0.25);
  });

  it('books usage in the UTC month the run started', () => {
    assert.equal(usageMonth('2026-11-30T23:59:59.999Z'), '2026-11');
  });
});
