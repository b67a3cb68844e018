// herd's twelve run statuses in the words of k6's v6 REST API (K6-CLOUD-API.md §2.2-§2.3,
// §5.2). v6 has seven coarse statuses plus a separate `result`; `k6 cloud run` of k6 ≥ 2.0
// stops polling on `completed` or `aborted` and picks its exit code from `result` alone:
// `failed` → 99, `error` → 97, `passed`/null → 0. So every ending herd counts as a failure of
// the run (not of its thresholds) must say `error`, and both threshold failures say `failed`,
// which gives the same exit codes as `herd cloud run` (src/cli/cloud-command.ts `cloudExitCode`).
import type { Run, RunStatus, StatusChange } from '../../protocol/index.js';

/** The `status` of a v6 test run. herd never reports `processing_metrics`: its metrics are final when a run ends. */
export type V6Status = 'created' | 'queued' | 'initializing' | 'running' | 'processing_metrics' | 'completed' | 'aborted';
/** Every v6 status, in lifecycle order. */
export const V6_STATUSES = ['created', 'queued', 'initializing', 'running', 'processing_metrics', 'completed', 'aborted'] as const satisfies readonly V6Status[];

/** The `result` of a v6 test run: thresholds held, thresholds failed, or the run did not complete. */
export type V6Result = 'passed' | 'failed' | 'error';
/** Every v6 result. */
export const V6_RESULTS = ['passed', 'failed', 'error'] as const satisfies readonly V6Result[];

/** `extra` of an `aborted` status entry: who aborted (k6 prints "Aborted (by user)" when set), why, and herd's status code. */
export interface V6StatusExtra {
  readonly by_user: string | null;
  readonly message: string | null;
  readonly code: number | null;
}

/** One v6 `StatusApiModel`: a status and when the run entered it. */
export interface V6StatusEntry {
  readonly type: V6Status;
  readonly entered: string;
  readonly extra: V6StatusExtra | null;
}

/** The v6 status of a herd status: Validated and Queued are both `queued`; every ending but Finished is `aborted`. */
export function v6Status(status: RunStatus): V6Status {
  switch (status.name) {
    case 'Created':
      return 'created';
    case 'Validated':
    case 'Queued':
      return 'queued';
    case 'Initializing':
      return 'initializing';
    case 'Running':
      return 'running';
    case 'Finished':
      return 'completed';
    case 'Timed out':
    case 'Aborted by user':
    case 'Aborted by system':
    case 'Aborted by script error':
    case 'Aborted by threshold':
    case 'Aborted by limit':
      return 'aborted';
    default: {
      const never: never = status;
      throw new Error(`unknown run status ${JSON.stringify(never)}`);
    }
  }
}

/**
 * The v6 result of a run; null while it goes on. Finished says what its thresholds said;
 * Aborted by threshold is `failed` too (k6 exits 99 for both, as it did with the legacy API).
 * Any other ending, the user's abort included, means the test did not run to its end: `error`.
 * A Finished run without a recorded result cannot claim to have passed, so it is `error` too.
 */
export function v6Result(run: Pick<Run, 'status' | 'result'>): V6Result | null {
  switch (run.status.name) {
    case 'Created':
    case 'Validated':
    case 'Queued':
    case 'Initializing':
    case 'Running':
      return null;
    case 'Finished':
      return run.result === 'passed' ? 'passed' : run.result === 'failed' ? 'failed' : 'error';
    case 'Aborted by threshold':
      return 'failed';
    case 'Timed out':
    case 'Aborted by user':
    case 'Aborted by system':
    case 'Aborted by script error':
    case 'Aborted by limit':
      return 'error';
    default: {
      const never: never = run.status;
      throw new Error(`unknown run status ${JSON.stringify(never)}`);
    }
  }
}

/**
 * herd's status history as v6 `status_history`: each change mapped with `v6Status`, and a change
 * that maps to the type of the one before it (Validated then Queued) dropped, so each v6 status
 * appears once, entered when the run first reached it. The `aborted` entry carries `extra`:
 * `by_user` is `abortedBy` for Aborted by user (herd records that a user of the organization
 * aborted, not which one) and null otherwise; `message` is herd's reason text; `code` is herd's
 * (and the legacy k6 API's) numeric status, e.g. 8 for Aborted by threshold.
 */
export function v6StatusHistory(changes: readonly StatusChange[], abortedBy: string): V6StatusEntry[] {
  const out: V6StatusEntry[] = [];
  for (const change of changes) {
    const type = v6Status(change.status);
    if (out.at(-1)?.type === type) continue;
    const extra = type === 'aborted'
      ? { by_user: change.status.name === 'Aborted by user' ? abortedBy : null, message: change.message, code: change.status.code }
      : null;
    out.push({ type, entered: rfc3339(change.at), extra });
  }
  return out;
}

/** An instant as RFC 3339 in UTC with `Z`, which Go's time.Time (and so k6) requires. */
export function rfc3339(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`not a time: ${JSON.stringify(iso)}`);
  return new Date(ms).toISOString();
}
