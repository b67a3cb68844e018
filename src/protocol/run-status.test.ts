import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatStatus, isFinal, RunStatuses, runStatuses, runStatusSchema, statusByCode, statusByName, statusName } from './run-status.js';

describe('run status', () => {
  it('has the twelve statuses of the seed, with their names and codes', () => {
    assert.deepEqual(runStatuses.map((s) => `${s.code} ${s.name}`), [
      '-2 Created', '-1 Validated', '0 Queued', '1 Initializing', '2 Running', '3 Finished', '4 Timed out',
      '5 Aborted by user', '6 Aborted by system', '7 Aborted by script error', '8 Aborted by threshold', '9 Aborted by limit',
    ]);
    assert.deepEqual(Object.values(RunStatuses), runStatuses);
  });

  it('finds statuses by code and name, and nothing for other numbers', () => {
    for (const s of runStatuses) {
      assert.equal(statusByCode(s.code), s);
      assert.equal(statusByName(s.name), s);
      assert.equal(statusName(s.code), s.name);
    }
    for (const n of [-3, 10, 1.5, Number.NaN]) assert.equal(statusByCode(n), undefined);
    assert.equal(statusByName('aborted by user'), undefined);
  });

  it('calls Finished and every Timed out/Aborted final, and nothing else', () => {
    assert.deepEqual(runStatuses.filter(isFinal).map((s) => s.code), [3, 4, 5, 6, 7, 8, 9]);
  });

  it('shows a status as "Name (code)"', () => {
    assert.equal(formatStatus(RunStatuses.AbortedByThreshold), 'Aborted by threshold (8)');
    assert.equal(formatStatus(RunStatuses.Queued), 'Queued (0)');
  });

  it('parses only code and name that agree, and no other keys', () => {
    assert.deepEqual(runStatusSchema.parse({ code: 2, name: 'Running' }), RunStatuses.Running);
    assert.equal(runStatusSchema.safeParse({ code: 2, name: 'Queued' }).success, false);
    assert.equal(runStatusSchema.safeParse({ code: 11, name: 'Running' }).success, false);
    assert.equal(runStatusSchema.safeParse({ code: 2, name: 'Running', extra: 1 }).success, false);
    assert.equal(runStatusSchema.safeParse(2).success, false);
  });
});
