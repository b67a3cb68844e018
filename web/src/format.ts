import type { Run, RunStatus } from '../../src/protocol/index.js';

// How values look on screen. Status families follow the issue: in progress, finished,
// aborted or timed out — one colour each.

/** The colour family of a status. */
export type StatusFamily = 'progress' | 'finished' | 'aborted';

/** Which family a status belongs to. */
export function statusFamily(status: RunStatus): StatusFamily {
  switch (status.name) {
    case 'Created':
    case 'Validated':
    case 'Queued':
    case 'Initializing':
    case 'Running':
      return 'progress';
    case 'Finished':
      return 'finished';
    case 'Timed out':
    case 'Aborted by user':
    case 'Aborted by system':
    case 'Aborted by script error':
    case 'Aborted by threshold':
    case 'Aborted by limit':
      return 'aborted';
    default:
      return assertNever(status);
  }
}

/** Whether a status is final (never changes again). */
export function isFinalStatus(status: RunStatus): boolean {
  return statusFamily(status) !== 'progress';
}

/** `Running (2)`, as the CLI prints it. */
export function statusText(status: RunStatus): string {
  return `${status.name} (${status.code})`;
}

/** Every status, in code order (for filters). */
export const ALL_STATUSES: readonly RunStatus[] = [
  { code: -2, name: 'Created' }, { code: -1, name: 'Validated' }, { code: 0, name: 'Queued' }, { code: 1, name: 'Initializing' },
  { code: 2, name: 'Running' }, { code: 3, name: 'Finished' }, { code: 4, name: 'Timed out' }, { code: 5, name: 'Aborted by user' },
  { code: 6, name: 'Aborted by system' }, { code: 7, name: 'Aborted by script error' }, { code: 8, name: 'Aborted by threshold' },
  { code: 9, name: 'Aborted by limit' },
];

/** A local date-time, to the second. */
export function time(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return `${d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' })} ${d.toLocaleTimeString(undefined, { hour12: false })}`;
}

/** A time with milliseconds (the timeline shows transitions a few ms apart). */
export function preciseTime(iso: string): string {
  const d = new Date(iso);
  return `${d.toLocaleTimeString(undefined, { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** `1m 05s`, `850ms`. */
export function duration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** How long a run has been (or was) running: from startedAt to endedAt or now. */
export function runElapsedMs(run: Run, now = Date.now()): number | null {
  if (run.startedAt === null) return null;
  return (run.endedAt === null ? now : Date.parse(run.endedAt)) - Date.parse(run.startedAt);
}

/** VU-hours a run used, by the control plane's rule: VUs × time Running (aborted by system does not count). */
export function runVuHours(run: Run, now = Date.now()): number | null {
  const ms = runElapsedMs(run, now);
  if (ms === null) return null;
  if (run.status.name === 'Aborted by system') return 0;
  return (Math.max(0, ms) / 3_600_000) * run.vus;
}

/** A number with up to `digits` decimals, without trailing noise. */
export function num(n: number | null | undefined, digits = 2): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return n.toLocaleString(undefined, { maximumFractionDigits: digits });
}

/** Milliseconds as k6 prints them. */
export function ms(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return n >= 1000 ? `${(n / 1000).toFixed(2)}s` : `${n.toFixed(2)}ms`;
}

/** Bytes as kB/MB. */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** A rate 0..1 as a percentage. */
export function percent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return '—';
  return `${(rate * 100).toFixed(2)}%`;
}

function assertNever(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`);
}
