import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cloudExitCode } from '../../cli/cloud-command.js';
import { RunStatuses, type Run, type RunResult, type RunStatus, type StatusChange, type StatusReason } from '../../protocol/index.js';
import { v6TestRunSchema, v6TestRun, type V6TestRun } from './v6-models.js';
import { v6Status, v6StatusHistory } from './v6-status.js';

// What k6 ≥ 2.0 does with the TestRun it polls, written from K6-CLOUD-API.md as rules, not
// code: §2.3 "v2.x / HEAD" for the exit code, §1.8 step 6 for the status it prints.
function k6ExitCode(run: Pick<V6TestRun, 'result'>): number {
  if (run.result === 'failed') return 99;
  if (run.result === 'error') return 97;
  return 0;
}
function k6PrintedStatus(run: Pick<V6TestRun, 'status' | 'status_history'>): string {
  if (run.status === 'completed') return 'Finished';
  if (run.status_history.some((s) => s.type === 'aborted' && s.extra !== null && s.extra.by_user !== null && s.extra.by_user !== '')) return 'Aborted (by user)';
  return run.status.split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' ');
}
function k6StopsPolling(run: Pick<V6TestRun, 'status'>): boolean {
  return run.status === 'completed' || run.status === 'aborted';
}

const T0 = Date.parse('2026-01-01T10:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const change = (status: RunStatus, s: number, reason: StatusReason, message = `to ${status.name}`): StatusChange => ({ status, at: at(s), reason, message });

/** A run that went the whole normal way and ended in `end` at t=70 s, having run from t=10 s. */
function endedRun(end: RunStatus, reason: StatusReason, result: RunResult, message: string): { run: Run; history: StatusChange[] } {
  const history = [
    change(RunStatuses.Created, 0, 'created'), change(RunStatuses.Validated, 1, 'validated'), change(RunStatuses.Queued, 2, 'queued'),
    change(RunStatuses.Initializing, 3, 'placed'), change(RunStatuses.Running, 10, 'started'), change(end, 70, reason, message),
  ];
  const run: Run = {
    id: '41' as Run['id'], testId: '7' as Run['testId'], projectId: '3' as Run['projectId'], archiveId: '9' as Run['archiveId'],
    status: end, result, lastChange: history[5]!, createdAt: at(0), startedAt: at(10), endedAt: at(70),
    vus: 10, durationSeconds: 60, distribution: { local: { loadZone: 'local', percent: 100 } }, options: { vus: 10, duration: '60s' },
  };
  return { run, history };
}

describe('herd statuses as v6 test runs, and the exit code `k6 cloud run` (k6 ≥ 2.0) gives for each', () => {
  const table: Array<{ end: RunStatus; reason: StatusReason; result: RunResult; status: string; v6result: string; printed: string; exit: number }> = [
    { end: RunStatuses.Finished, reason: 'completed', result: 'passed', status: 'completed', v6result: 'passed', printed: 'Finished', exit: 0 },
    { end: RunStatuses.Finished, reason: 'completed', result: 'failed', status: 'completed', v6result: 'failed', printed: 'Finished', exit: 99 },
    { end: RunStatuses.Finished, reason: 'completed', result: null, status: 'completed', v6result: 'error', printed: 'Finished', exit: 97 },
    { end: RunStatuses.AbortedByThreshold, reason: 'thresholds_crossed', result: 'failed', status: 'aborted', v6result: 'failed', printed: 'Aborted', exit: 99 },
    { end: RunStatuses.TimedOut, reason: 'run_timeout', result: null, status: 'aborted', v6result: 'error', printed: 'Aborted', exit: 97 },
    { end: RunStatuses.AbortedByUser, reason: 'user_abort', result: null, status: 'aborted', v6result: 'error', printed: 'Aborted (by user)', exit: 97 },
    { end: RunStatuses.AbortedBySystem, reason: 'agent_lost', result: null, status: 'aborted', v6result: 'error', printed: 'Aborted', exit: 97 },
    { end: RunStatuses.AbortedByScriptError, reason: 'setup_error', result: null, status: 'aborted', v6result: 'error', printed: 'Aborted', exit: 97 },
    { end: RunStatuses.AbortedByLimit, reason: 'limit_vus', result: null, status: 'aborted', v6result: 'error', printed: 'Aborted', exit: 97 },
  ];
  for (const row of table) {
    it(`${row.end.name}${row.result === null ? '' : ` with result ${row.result}`} → status ${row.status}, result ${row.v6result} → "${row.printed}", exit ${row.exit}`, () => {
      const { run, history } = endedRun(row.end, row.reason, row.result, `why it ended ${row.end.name}`);
      const model = v6TestRun(run, history, { abortedBy: 'alpha', now: new Date(T0 + 3_600_000) });
      const json = JSON.parse(JSON.stringify(model)) as unknown;
      const parsed = v6TestRunSchema.parse(json);
      assert.equal(parsed.status, row.status);
      assert.equal(parsed.result, row.v6result);
      assert.deepEqual(parsed.result_details, { type: row.v6result, message: `why it ended ${row.end.name}`, code: row.end.code });
      assert.equal(k6StopsPolling(parsed), true);
      assert.equal(k6PrintedStatus(parsed), row.printed);
      assert.equal(k6ExitCode(parsed), row.exit);
      // herd's own `herd cloud run` ends a run in this state with the same code.
      assert.equal(cloudExitCode(run), row.exit);
      // Ended and durations come from the run, not from the clock.
      assert.equal(parsed.ended, '2026-01-01T10:01:10.000Z');
      assert.equal(parsed.execution_duration, 60);
      assert.equal(parsed.estimated_duration, 60);
      // herd books 10 VUs × 60 s, except for a run the system aborted (herd's fault, not billed).
      assert.equal(parsed.cost?.total_vuh, row.end.code === 6 ? 0 : 10 * 60 / 3600);
    });
  }

  it('every herd status maps to one v6 status, and only the final ones make k6 stop polling', () => {
    const expected: Record<string, string> = {
      Created: 'created', Validated: 'queued', Queued: 'queued', Initializing: 'initializing', Running: 'running', Finished: 'completed',
      'Timed out': 'aborted', 'Aborted by user': 'aborted', 'Aborted by system': 'aborted', 'Aborted by script error': 'aborted',
      'Aborted by threshold': 'aborted', 'Aborted by limit': 'aborted',
    };
    for (const s of Object.values(RunStatuses)) {
      assert.equal(v6Status(s), expected[s.name], s.name);
      assert.equal(k6StopsPolling({ status: v6Status(s) }), s.code >= 3, s.name);
    }
  });

  it('collapses Validated and Queued into one queued entry, entered at Validated, and puts extra only on aborted', () => {
    const { history } = endedRun(RunStatuses.AbortedByUser, 'user_abort', null, 'aborted by the user');
    assert.deepEqual(v6StatusHistory(history, 'alpha'), [
      { type: 'created', entered: '2026-01-01T10:00:00.000Z', extra: null },
      { type: 'queued', entered: '2026-01-01T10:00:01.000Z', extra: null },
      { type: 'initializing', entered: '2026-01-01T10:00:03.000Z', extra: null },
      { type: 'running', entered: '2026-01-01T10:00:10.000Z', extra: null },
      { type: 'aborted', entered: '2026-01-01T10:01:10.000Z', extra: { by_user: 'alpha', message: 'aborted by the user', code: 5 } },
    ]);
    const threshold = endedRun(RunStatuses.AbortedByThreshold, 'thresholds_crossed', 'failed', 'threshold crossed').history;
    assert.deepEqual(v6StatusHistory(threshold, 'alpha').at(-1)?.extra, { by_user: null, message: 'threshold crossed', code: 8 });
  });

  it('describes a run still going on with result null, the seconds it has run so far and every required key', () => {
    const { run, history } = endedRun(RunStatuses.Finished, 'completed', 'passed', 'done');
    const running: Run = { ...run, status: RunStatuses.Running, result: null, lastChange: history[4]!, endedAt: null };
    const model = v6TestRunSchema.parse(JSON.parse(JSON.stringify(v6TestRun(running, history.slice(0, 5), { abortedBy: 'alpha', now: new Date(T0 + 25_500) }))));
    assert.equal(model.status, 'running');
    assert.equal(model.result, null);
    assert.equal(model.result_details, null);
    assert.equal(model.ended, null);
    assert.equal(model.execution_duration, 15);
    assert.deepEqual(model.status_details, { type: 'running', entered: '2026-01-01T10:00:10.000Z', extra: null });
    assert.deepEqual(model.distribution, [{ load_zone: 'local', percent: 100 }]);
    // The generated client rejects an object missing a nullable key: they must be present as null.
    const { started_by: _omitted, ...withoutNullable } = model;
    assert.equal(v6TestRunSchema.safeParse(withoutNullable).success, false);
  });
});
