import { HerdError } from '../../errors/index.js';
import {
  formatStatus, isFinal, RunStatuses, type RunStatus, type RunStatusName, type StatusChange, type StatusReason,
} from '../../protocol/index.js';

/** One allowed move of the status machine: where to, why (the reasons that may lead there) and when. */
export interface TransitionRule {
  readonly to: RunStatusName;
  readonly reasons: readonly StatusReason[];
  /** When this happens, in the words of ARCHITECTURE.md §5. */
  readonly when: string;
}

const SCRIPT_ERRORS_ON_GENERATOR: readonly StatusReason[] = ['init_error', 'setup_error', 'script_abort', 'script_error'];
const GENERATOR_FAILURES: readonly StatusReason[] = ['agent_lost', 'agent_crashed', 'agent_out_of_memory', 'internal_error'];

const userAbort: TransitionRule = { to: 'Aborted by user', reasons: ['user_abort'], when: 'abort via API, CLI (Ctrl+C) or dashboard' };
const timedOut: TransitionRule = {
  to: 'Timed out', reasons: ['run_timeout'],
  when: "nothing received from or sent to any of the run's generators for the run timeout",
};
// A run executed by k6 itself (`k6 run --out cloud`) also times out when k6 says so.
const runningTimedOut: TransitionRule = {
  to: 'Timed out', reasons: ['run_timeout', 'external_timeout'],
  when: "nothing received from or sent to any of the run's generators (or from k6, for an external run) for the run timeout, "
    + 'or k6 reported that its external run timed out',
};

/**
 * The status machine of ARCHITECTURE.md §5 as data: for every status, the moves out of it.
 * Keyed by every status name (`satisfies Record<RunStatusName, …>`), so adding a status without
 * deciding its moves does not compile; final statuses have none, and the tests check that this
 * agrees with `isFinal`.
 */
export const transitionTable = {
  Created: [
    { to: 'Validated', reasons: ['validated'], when: 'archive unpacked safely, options parsed, static limits checked' },
    {
      to: 'Aborted by script error', reasons: ['script_error', 'invalid_options'],
      when: 'the script does not parse/bundle, or its options cannot be evaluated',
    },
    {
      to: 'Aborted by limit', reasons: ['limit_vus', 'limit_duration', 'archive_too_large', 'limit_vu_hours'],
      when: 'max VUs, total duration or archive size over the limit, or the monthly VU-hour cap would be exceeded',
    },
    userAbort,
  ],
  Validated: [
    { to: 'Queued', reasons: ['queued'], when: 'accepted for scheduling' },
    // Never through Queued: the scheduler claims every Queued run and would try to place it.
    { to: 'Running', reasons: ['external_start'], when: 'the test runs outside herd (k6 run --out cloud); herd only ingests its metrics' },
    userAbort,
  ],
  Queued: [
    { to: 'Initializing', reasons: ['placed'], when: 'every share of the run is placed on load generators in its load zones' },
    {
      to: 'Aborted by system', reasons: ['launch_timeout', 'internal_error'],
      when: 'a requested load zone has no healthy generator within the launch timeout',
    },
    userAbort,
  ],
  Initializing: [
    { to: 'Running', reasons: ['started'], when: 'every assigned generator initialized its VUs; a common start time is sent' },
    { to: 'Aborted by script error', reasons: SCRIPT_ERRORS_ON_GENERATOR, when: 'init code or setup() throws on a generator' },
    { to: 'Aborted by system', reasons: GENERATOR_FAILURES, when: 'a generator crashed, disconnected past its grace period, or ran out of memory' },
    timedOut,
    userAbort,
  ],
  Running: [
    { to: 'Finished', reasons: ['completed'], when: 'all generators completed; result = passed or failed by thresholds at the end' },
    { to: 'Aborted by threshold', reasons: ['thresholds_crossed'], when: 'a threshold with abortOnFail crossed (after delayAbortEval)' },
    { to: 'Aborted by limit', reasons: ['limit_groups', 'limit_series'], when: 'more than 40 groups or 10,000 metric time series' },
    { to: 'Aborted by script error', reasons: SCRIPT_ERRORS_ON_GENERATOR, when: 'init code or setup() throws on a generator' },
    {
      to: 'Aborted by system', reasons: [...GENERATOR_FAILURES, 'external_system_abort'],
      when: 'a generator crashed, disconnected past its grace period, or ran out of memory; or k6 reported a system abort of its external run',
    },
    runningTimedOut,
    userAbort,
  ],
  Finished: [],
  'Timed out': [],
  'Aborted by user': [],
  'Aborted by system': [],
  'Aborted by script error': [],
  'Aborted by threshold': [],
  'Aborted by limit': [],
} as const satisfies Record<RunStatusName, readonly TransitionRule[]>;

/** The rule allowing `from` → `to`, or undefined when the table has no such move. */
export function ruleFor(from: RunStatus, to: RunStatus): TransitionRule | undefined {
  const rules: readonly TransitionRule[] = transitionTable[from.name];
  return rules.find((r) => r.to === to.name);
}

/** True when the table allows `from` → `to` (for some reason). */
export function canTransition(from: RunStatus, to: RunStatus): boolean {
  return ruleFor(from, to) !== undefined;
}

/**
 * Decides one status change: returns the history entry to store, or throws HerdError
 * `invalid_transition` naming both statuses when the table does not allow the move or the reason
 * does not fit it. The caller stores the entry with the store's compare-and-set on `current`, so
 * a decision taken on a stale status cannot be written.
 */
export function transition(current: RunStatus, to: RunStatus, reason: StatusReason, message: string, at: Date): StatusChange {
  const move = `${formatStatus(current)} to ${formatStatus(to)}`;
  if (isFinal(current)) {
    throw new HerdError('invalid_transition', `cannot change a run from ${move}: ${current.name} is final`, {
      hint: 'a run that has ended keeps its status; start a new run instead',
    });
  }
  const rule = ruleFor(current, to);
  if (rule === undefined) {
    const allowed = transitionTable[current.name].map((r) => r.to).join(', ');
    throw new HerdError('invalid_transition', `cannot change a run from ${move}; from ${current.name} a run may only go to ${allowed}`);
  }
  if (!rule.reasons.includes(reason)) {
    throw new HerdError(
      'invalid_transition',
      `cannot change a run from ${move} for reason ${reason}; that move takes ${rule.reasons.join(', ')}`,
    );
  }
  return { status: to, at: at.toISOString(), reason, message };
}

/** The first entry of every run's history: Created. */
export function createdChange(at: Date, message = 'test run created'): StatusChange {
  return { status: RunStatuses.Created, at: at.toISOString(), reason: 'created', message };
}
