import { z } from 'zod';

// The twelve statuses with the names and codes of k6 Cloud (seed: cloud-test-status-codes.md).
// Each is its own object schema so that `RunStatus` is a discriminated union on `code` (and on
// `name`): logic switches on it instead of comparing bare numbers.
const created = z.strictObject({ code: z.literal(-2), name: z.literal('Created') });
const validated = z.strictObject({ code: z.literal(-1), name: z.literal('Validated') });
const queued = z.strictObject({ code: z.literal(0), name: z.literal('Queued') });
const initializing = z.strictObject({ code: z.literal(1), name: z.literal('Initializing') });
const running = z.strictObject({ code: z.literal(2), name: z.literal('Running') });
const finished = z.strictObject({ code: z.literal(3), name: z.literal('Finished') });
const timedOut = z.strictObject({ code: z.literal(4), name: z.literal('Timed out') });
const abortedByUser = z.strictObject({ code: z.literal(5), name: z.literal('Aborted by user') });
const abortedBySystem = z.strictObject({ code: z.literal(6), name: z.literal('Aborted by system') });
const abortedByScriptError = z.strictObject({ code: z.literal(7), name: z.literal('Aborted by script error') });
const abortedByThreshold = z.strictObject({ code: z.literal(8), name: z.literal('Aborted by threshold') });
const abortedByLimit = z.strictObject({ code: z.literal(9), name: z.literal('Aborted by limit') });

/** A test-run status as it crosses a process: always both `code` and `name`, and they must agree. */
export const runStatusSchema = z.discriminatedUnion('code', [
  created, validated, queued, initializing, running, finished,
  timedOut, abortedByUser, abortedBySystem, abortedByScriptError, abortedByThreshold, abortedByLimit,
]);
/** A test-run status: one of the twelve of k6 Cloud. */
export type RunStatus = z.infer<typeof runStatusSchema>;
/** A status code, -2 … 9. */
export type RunStatusCode = RunStatus['code'];
/** A status name, exactly as k6 Cloud spells it ("Aborted by user"). */
export type RunStatusName = RunStatus['name'];

/** Every status, in code order; frozen so nobody can rename one at run time. */
export const runStatuses: readonly RunStatus[] = Object.freeze(
  [
    { code: -2, name: 'Created' },
    { code: -1, name: 'Validated' },
    { code: 0, name: 'Queued' },
    { code: 1, name: 'Initializing' },
    { code: 2, name: 'Running' },
    { code: 3, name: 'Finished' },
    { code: 4, name: 'Timed out' },
    { code: 5, name: 'Aborted by user' },
    { code: 6, name: 'Aborted by system' },
    { code: 7, name: 'Aborted by script error' },
    { code: 8, name: 'Aborted by threshold' },
    { code: 9, name: 'Aborted by limit' },
  ].map((s) => Object.freeze(s as RunStatus)),
);

/** Every status by name, for code that names a status: `RunStatuses.Running`. */
export const RunStatuses = Object.freeze({
  Created: runStatuses[0],
  Validated: runStatuses[1],
  Queued: runStatuses[2],
  Initializing: runStatuses[3],
  Running: runStatuses[4],
  Finished: runStatuses[5],
  TimedOut: runStatuses[6],
  AbortedByUser: runStatuses[7],
  AbortedBySystem: runStatuses[8],
  AbortedByScriptError: runStatuses[9],
  AbortedByThreshold: runStatuses[10],
  AbortedByLimit: runStatuses[11],
}) as {
  readonly Created: Extract<RunStatus, { code: -2 }>;
  readonly Validated: Extract<RunStatus, { code: -1 }>;
  readonly Queued: Extract<RunStatus, { code: 0 }>;
  readonly Initializing: Extract<RunStatus, { code: 1 }>;
  readonly Running: Extract<RunStatus, { code: 2 }>;
  readonly Finished: Extract<RunStatus, { code: 3 }>;
  readonly TimedOut: Extract<RunStatus, { code: 4 }>;
  readonly AbortedByUser: Extract<RunStatus, { code: 5 }>;
  readonly AbortedBySystem: Extract<RunStatus, { code: 6 }>;
  readonly AbortedByScriptError: Extract<RunStatus, { code: 7 }>;
  readonly AbortedByThreshold: Extract<RunStatus, { code: 8 }>;
  readonly AbortedByLimit: Extract<RunStatus, { code: 9 }>;
};

/** The status with this code; undefined for a number that is no status code (e.g. from a database row). */
export function statusByCode<C extends RunStatusCode>(code: C): Extract<RunStatus, { code: C }>;
export function statusByCode(code: number): RunStatus | undefined;
export function statusByCode(code: number): RunStatus | undefined {
  // Codes are dense from -2, so the array index is code + 2.
  return Number.isInteger(code) ? runStatuses[code + 2] : undefined;
}

/** The status with this exact name; undefined otherwise. */
export function statusByName(name: string): RunStatus | undefined {
  return runStatuses.find((s) => s.name === name);
}

/** The name of a status code ("Queued" for 0). */
export function statusName(code: RunStatusCode): RunStatusName {
  return statusByCode(code).name;
}

/** True for the statuses a run ends in (Finished and every Timed out/Aborted); those never change. */
export function isFinal(status: RunStatus): boolean {
  switch (status.name) {
    case 'Created':
    case 'Validated':
    case 'Queued':
    case 'Initializing':
    case 'Running':
      return false;
    case 'Finished':
    case 'Timed out':
    case 'Aborted by user':
    case 'Aborted by system':
    case 'Aborted by script error':
    case 'Aborted by threshold':
    case 'Aborted by limit':
      return true;
    default:
      return assertNever(status);
  }
}

/** The form users see everywhere, e.g. `Queued (0)`, `Aborted by threshold (8)`. */
export function formatStatus(status: RunStatus): string {
  return `${status.name} (${status.code})`;
}

function assertNever(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`);
}
