import { type RunStatus, type UsageMonth } from '../../protocol/index.js';

const MS_PER_HOUR = 3_600_000;

/**
 * Whether a run that ended (or is going on) in this status counts against usage. The seed says
 * runs aborted by user count; ARCHITECTURE.md §5 adds that runs aborted by the system (herd's
 * fault, or its generators') do not. Every other status counts from the moment it started Running;
 * a run that never ran has nothing to count anyway.
 */
export function countsTowardUsage(status: RunStatus): boolean {
  switch (status.name) {
    case 'Aborted by system':
      return false;
    case 'Created':
    case 'Validated':
    case 'Queued':
    case 'Initializing':
    case 'Running':
    case 'Finished':
    case 'Timed out':
    case 'Aborted by user':
    case 'Aborted by script error':
    case 'Aborted by threshold':
    case 'Aborted by limit':
      return true;
    default: {
      const never: never = status;
      throw new Error(`unknown status ${JSON.stringify(never)}`);
    }
  }
}

/** The facts of a run that its usage depends on. */
export interface RunUsageFacts {
  readonly status: RunStatus;
  readonly vus: number;
  /** When it entered Running, ISO time; null if it never did. */
  readonly startedAt: string | null;
  /** When it reached its final status, ISO time; null while it goes on. */
  readonly endedAt: string | null;
}

/**
 * VU-hours of a run: VUs × hours from entering Running until it ended (or `now`, for a run still
 * going on). Zero for a run that never ran and for one aborted by the system.
 */
export function runVuHours(run: RunUsageFacts, now: Date): number {
  if (run.startedAt === null || !countsTowardUsage(run.status)) return 0;
  const start = Date.parse(run.startedAt);
  const end = run.endedAt === null ? now.getTime() : Date.parse(run.endedAt);
  return Math.max(0, end - start) / MS_PER_HOUR * run.vus;
}

/** The VU-hours a run is expected to use before it starts: max VUs for its whole planned duration. */
export function estimateVuHours(maxVus: number, durationSeconds: number): number {
  return maxVus * durationSeconds / 3600;
}

/** The UTC calendar month a run's usage is booked in: the month it started Running. */
export function usageMonth(startedAt: string): UsageMonth {
  return startedAt.slice(0, 7);
}
