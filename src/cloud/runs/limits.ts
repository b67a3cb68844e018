import { orgLimitsSchema, type OrgLimits, type StatusReason } from '../../protocol/index.js';

/** The seed's limits (cloud-test-status-codes.md), as the schema's defaults give them. */
export const defaultLimits: OrgLimits = Object.freeze(orgLimitsSchema.parse({}));

/** A limit a run went over: the reason code for its Aborted by limit change, and the user's message. */
export interface LimitViolation {
  readonly reason: Extract<StatusReason, 'limit_vus' | 'limit_duration' | 'limit_groups' | 'limit_series' | 'archive_too_large' | 'limit_vu_hours'>;
  readonly message: string;
}

// The seed's advice, quoted so users of herd read what k6 Cloud users read.
const GROUPS_ADVICE = 'If your test has too many groups, reduce their number.';
const METRICS_ADVICE = 'If it has too many metrics, use URL grouping to combine similar URLs. '
  + 'You should also remove external requests from your test script: each captured URL accounts for '
  + 'multiple individual metrics that k6 measures.';
const RAISE = "an organization admin can raise the organization's limit";

const fmt = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 2 });

/** Checks a run's max VUs (all zones together) against the organization's limit. */
export function checkVus(maxVus: number, limits: OrgLimits): LimitViolation | null {
  if (maxVus <= limits.maxVus) return null;
  return {
    reason: 'limit_vus',
    message: `max VUs ${fmt(maxVus)} exceeds the limit of ${fmt(limits.maxVus)} VUs; lower the VUs or ${RAISE} (maxVus)`,
  };
}

/** Checks a run's planned total duration (seconds, including graceful stops) against the limit. */
export function checkDuration(durationSeconds: number, limits: OrgLimits): LimitViolation | null {
  if (durationSeconds <= limits.maxDurationSeconds) return null;
  return {
    reason: 'limit_duration',
    message: `total duration ${formatSeconds(durationSeconds)} exceeds the limit of ${formatSeconds(limits.maxDurationSeconds)}; `
      + `shorten the test or ${RAISE} (maxDurationSeconds)`,
  };
}

/** Checks an uploaded archive's size in bytes against the limit. */
export function checkArchiveSize(bytes: number, limits: OrgLimits): LimitViolation | null {
  if (bytes <= limits.maxArchiveBytes) return null;
  return {
    reason: 'archive_too_large',
    message: `archive of ${formatBytes(bytes)} exceeds the limit of ${formatBytes(limits.maxArchiveBytes)}; `
      + 'leave large data files out of the archive or split them',
  };
}

/** Checks the number of groups a running test has produced so far. */
export function checkGroups(groups: number, limits: OrgLimits): LimitViolation | null {
  if (groups <= limits.maxGroups) return null;
  return {
    reason: 'limit_groups',
    message: `too many groups: ${fmt(groups)}, more than the limit of ${fmt(limits.maxGroups)}. ${GROUPS_ADVICE}`,
  };
}

/** Checks the number of metric time series (metric + tag set) a running test has produced so far. */
export function checkMetricSeries(series: number, limits: OrgLimits): LimitViolation | null {
  if (series <= limits.maxMetricSeries) return null;
  return {
    reason: 'limit_series',
    message: `too many metrics: ${fmt(series)} time series, more than the limit of ${fmt(limits.maxMetricSeries)}. ${METRICS_ADVICE}`,
  };
}

/** Checks that a run's estimated VU-hours fit in what is left of the organization's monthly cap. */
export function checkVuHourCap(estimatedVuHours: number, usedThisMonth: number, limits: OrgLimits): LimitViolation | null {
  const cap = limits.monthlyVuHourCap;
  if (cap === null || usedThisMonth + estimatedVuHours <= cap) return null;
  return {
    reason: 'limit_vu_hours',
    message: `this run needs an estimated ${fmt(estimatedVuHours)} VU-hours, but ${fmt(usedThisMonth)} of the monthly cap of `
      + `${fmt(cap)} VU-hours are used; lower VUs or duration, or ${RAISE} (monthlyVuHourCap)`,
  };
}

/** What is known of a run before it starts, for the static checks. */
export interface StaticRunFacts {
  readonly maxVus: number;
  /** Planned total duration in seconds; null when unknown (unbounded iterations) and so not checked here. */
  readonly durationSeconds: number | null;
  readonly archiveBytes: number;
}

/**
 * Every limit a run goes over before it starts (VUs, duration, archive size), all at once so the
 * user fixes them in one go; the first one becomes the Aborted by limit reason.
 */
export function checkStaticLimits(facts: StaticRunFacts, limits: OrgLimits): LimitViolation[] {
  return [
    checkVus(facts.maxVus, limits),
    facts.durationSeconds === null ? null : checkDuration(facts.durationSeconds, limits),
    checkArchiveSize(facts.archiveBytes, limits),
  ].filter((v): v is LimitViolation => v !== null);
}

function formatSeconds(s: number): string {
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${fmt(s)}s`;
}

function formatBytes(b: number): string {
  if (b >= 1024 * 1024) return `${fmt(b / (1024 * 1024))} MiB`;
  if (b >= 1024) return `${fmt(b / 1024)} KiB`;
  return `${b} bytes`;
}
