import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  agentIdSchema, createOrganizationBodySchema, createTokenBodySchema, distributionSchema, orgLimitsSchema, runIdSchema,
  runListQuerySchema, runSchema, statusChangeSchema, usageQuerySchema,
} from './index.js';

const run = {
  id: '12', testId: '3', projectId: '1', archiveId: '4',
  status: { code: 3, name: 'Finished' }, result: 'failed',
  lastChange: { status: { code: 3, name: 'Finished' }, at: '2026-11-02T10:00:00.000Z', reason: 'completed', message: 'done' },
  createdAt: '2026-11-02T09:00:00.000Z', startedAt: '2026-11-02T09:01:00.000Z', endedAt: '2026-11-02T10:00:00.000Z',
  vus: 10, durationSeconds: 3540, distribution: { a: { loadZone: 'local', percent: 100 } }, options: { vus: 10 },
};

describe('protocol schemas', () => {
  it('accept a run with status as {code, name} plus result', () => {
    assert.deepEqual(runSchema.parse(run), run);
  });

  it('reject unknown keys at every level', () => {
    assert.equal(runSchema.safeParse({ ...run, extra: 1 }).success, false);
    assert.equal(runSchema.safeParse({ ...run, lastChange: { ...run.lastChange, extra: 1 } }).success, false);
    assert.equal(runSchema.safeParse({ ...run, distribution: { a: { loadZone: 'local', percent: 100, x: 1 } } }).success, false);
    assert.equal(createTokenBodySchema.safeParse({ name: 'ci', secret: 'x' }).success, false);
    assert.equal(createOrganizationBodySchema.safeParse({ name: 'o', limits: { maxVu: 5 } }).success, false);
  });

  it('take decimal ids only, as k6 needs for reference_id', () => {
    assert.equal(runIdSchema.safeParse('42').success, true);
    for (const bad of ['0', '042', '-1', '1.5', 'abc', '', 42]) assert.equal(runIdSchema.safeParse(bad).success, false, String(bad));
    assert.equal(agentIdSchema.safeParse('gen-1.eu:a_b').success, true);
    assert.equal(agentIdSchema.safeParse('../x').success, false);
  });

  it('know the reason codes of status changes', () => {
    const change = { status: { code: 9, name: 'Aborted by limit' }, at: '2026-11-02T10:00:00.000Z', reason: 'limit_series', message: 'too many metrics' };
    assert.deepEqual(statusChangeSchema.parse(change), change);
    assert.equal(statusChangeSchema.safeParse({ ...change, reason: 'because' }).success, false);
    assert.equal(statusChangeSchema.safeParse({ ...change, at: 'yesterday' }).success, false);
  });

  it('parse a run list query from URL strings', () => {
    assert.deepEqual(runListQuerySchema.parse({ status: '0,1,2', limit: '10', testId: '7' }), { status: [0, 1, 2], limit: 10, testId: '7' });
    assert.deepEqual(runListQuerySchema.parse({}), { limit: 50 });
    assert.equal(runListQuerySchema.safeParse({ status: '2,11' }).success, false);
    assert.equal(runListQuerySchema.safeParse({ status: 'running' }).success, false);
    assert.equal(runListQuerySchema.safeParse({ limit: '0' }).success, false);
    assert.equal(runListQuerySchema.safeParse({ limit: '501' }).success, false);
    assert.equal(runListQuerySchema.safeParse({ sort: 'id' }).success, false);
  });

  it('check a distribution as k6 does: integer percents adding up to 100', () => {
    assert.equal(distributionSchema.safeParse({ a: { loadZone: 'eu', percent: 60 }, b: { loadZone: 'us', percent: 40 } }).success, true);
    assert.equal(distributionSchema.safeParse({ a: { loadZone: 'eu', percent: 60 } }).success, false);
    assert.equal(distributionSchema.safeParse({ a: { loadZone: 'eu', percent: 50.5 }, b: { loadZone: 'us', percent: 49.5 } }).success, false);
    assert.equal(distributionSchema.safeParse({}).success, false);
  });

  it('fill limits from the seed\'s defaults', () => {
    assert.equal(orgLimitsSchema.parse({ maxVus: 5 }).maxGroups, 40);
    assert.equal(orgLimitsSchema.safeParse({ maxVus: 0 }).success, false);
  });

  it('take usage months as YYYY-MM', () => {
    assert.equal(usageQuerySchema.safeParse({ month: '2026-11' }).success, true);
    assert.equal(usageQuerySchema.safeParse({ month: '2026-13' }).success, false);
  });
});
