import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HerdError } from '../../errors/index.js';
import { isFinal, RunStatuses, runStatuses, type RunStatusName, type StatusReason } from '../../protocol/index.js';
import { canTransition, createdChange, transition, transitionTable } from './status-machine.js';

// ARCHITECTURE.md §5, written out again independently of the implementation's table: the test
// fails if either drifts.
const NON_FINAL: RunStatusName[] = ['Created', 'Validated', 'Queued', 'Initializing', 'Running'];
const EXPECTED: ReadonlyArray<readonly [RunStatusName, RunStatusName]> = [
  ['Created', 'Validated'],
  ['Created', 'Aborted by script error'],
  ['Created', 'Aborted by limit'],
  ['Validated', 'Queued'],
  ['Validated', 'Running'], // external runs (k6 run --out cloud) skip the queue
  ['Queued', 'Initializing'],
  ['Queued', 'Aborted by system'],
  ['Initializing', 'Running'],
  ['Initializing', 'Aborted by script error'],
  ['Running', 'Aborted by script error'],
  ['Running', 'Finished'],
  ['Running', 'Aborted by threshold'],
  ['Running', 'Aborted by limit'],
  ['Initializing', 'Aborted by system'],
  ['Running', 'Aborted by system'],
  ['Initializing', 'Timed out'],
  ['Running', 'Timed out'],
  ...NON_FINAL.map((from) => [from, 'Aborted by user'] as const),
];
const at = new Date('2026-11-02T10:00:00.000Z');

describe('status machine', () => {
  it('allows exactly the pairs of the ARCHITECTURE.md table among all 12×12', () => {
    const expected = new Set(EXPECTED.map(([a, b]) => `${a} -> ${b}`));
    assert.equal(expected.size, 22);
    let allowed = 0;
    for (const from of runStatuses) {
      for (const to of runStatuses) {
        const key = `${from.name} -> ${to.name}`;
        assert.equal(canTransition(from, to), expected.has(key), key);
        const reason = transitionTable[from.name].find((r) => r.to === to.name)?.reasons[0] ?? 'user_abort';
        if (expected.has(key)) {
          allowed++;
          assert.deepEqual(transition(from, to, reason, 'why', at), { status: to, at: at.toISOString(), reason, message: 'why' });
        } else {
          assert.throws(() => transition(from, to, reason, 'why', at), (e: unknown) =>
            e instanceof HerdError && e.code === 'invalid_transition'
            && e.message.includes(`${from.name} (${from.code})`) && e.message.includes(`${to.name} (${to.code})`), key);
        }
      }
    }
    assert.equal(allowed, 22);
  });

  it('never changes a final status, not even to itself', () => {
    for (const from of runStatuses.filter(isFinal)) {
      assert.equal(transitionTable[from.name].length, 0, from.name);
      for (const to of runStatuses) {
        assert.throws(() => transition(from, to, 'user_abort', '', at), /is final/);
      }
    }
  });

  it('has moves out of every status that is not final', () => {
    for (const s of runStatuses) assert.equal(transitionTable[s.name].length > 0, !isFinal(s), s.name);
  });

  it('names both statuses and the allowed targets when a move is not in the table', () => {
    assert.throws(() => transition(RunStatuses.Running, RunStatuses.Queued, 'queued', '', at), {
      name: 'HerdError',
      code: 'invalid_transition',
      message: 'cannot change a run from Running (2) to Queued (0); from Running a run may only go to Finished, '
        + 'Aborted by threshold, Aborted by limit, Aborted by script error, Aborted by system, Timed out, Aborted by user',
    });
  });

  it('rejects a reason that does not fit the move', () => {
    const cases: Array<[typeof RunStatuses[keyof typeof RunStatuses], typeof RunStatuses[keyof typeof RunStatuses], StatusReason]> = [
      [RunStatuses.Running, RunStatuses.AbortedByLimit, 'limit_vus'], // static limits end a run before it starts
      [RunStatuses.Running, RunStatuses.AbortedBySystem, 'launch_timeout'],
      [RunStatuses.Running, RunStatuses.AbortedByUser, 'agent_lost'],
      [RunStatuses.Created, RunStatuses.AbortedByLimit, 'limit_series'],
      // external runs start only from Validated, and only with their own reason
      [RunStatuses.Validated, RunStatuses.Running, 'started'],
      [RunStatuses.Initializing, RunStatuses.Running, 'external_start'],
      [RunStatuses.Initializing, RunStatuses.TimedOut, 'external_timeout'],
      [RunStatuses.Initializing, RunStatuses.AbortedBySystem, 'external_system_abort'],
    ];
    for (const [from, to, reason] of cases) {
      assert.throws(() => transition(from, to, reason, '', at), {
        code: 'invalid_transition',
        message: new RegExp(`for reason ${reason}; that move takes`),
      });
    }
  });

  it('starts every history with Created', () => {
    assert.deepEqual(createdChange(at), {
      status: { code: -2, name: 'Created' }, at: '2026-11-02T10:00:00.000Z', reason: 'created', message: 'test run created',
    });
  });
});
