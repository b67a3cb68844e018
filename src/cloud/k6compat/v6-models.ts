// The JSON models of k6's v6 REST API that herd answers with (K6-CLOUD-API.md §5.2-§5.3), as
// strict zod schemas and builders from herd's own records. k6's generated client rejects an
// object that lacks any required key and then carries on with a zero-valued one (a run that
// never ends), so every required key is always sent, nullable ones as null. The schemas are
// strict about presence for that reason; tests check every answer against them.
import { z } from 'zod';
import type { Distribution, LoadTest, Project, Run, StatusChange } from '../../protocol/index.js';
import { runVuHours } from '../runs/index.js';
import { rfc3339, v6Result, v6Status, v6StatusHistory, V6_RESULTS, V6_STATUSES } from './v6-status.js';

/** RFC 3339 in UTC with `Z` (Go's time.Time needs a zone; toISOString writes this). */
const dateTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/, 'must be RFC 3339 in UTC, like 2026-01-01T10:00:00Z');
/** An int64 id as a JSON number (herd's decimal ids stay within 2^53). */
const id = z.int().positive();

/** `ValidateOptionsResponse.breakdown` and `TestRun.cost.breakdown`. */
export const v6VuhBreakdownSchema = z.strictObject({
  protocol_vuh: z.number().nonnegative(),
  browser_vuh: z.number().nonnegative(),
  base_total_vuh: z.number().nonnegative(),
  reduction_rate: z.number(),
  reduction_rate_breakdown: z.record(z.string(), z.unknown()).nullable(),
});

/** `ValidateOptionsResponse`. */
export const v6ValidateOptionsResponseSchema = z.strictObject({ vuh_usage: z.number().nonnegative(), breakdown: v6VuhBreakdownSchema });
/** `ValidateOptionsResponse`. */
export type V6ValidateOptionsResponse = z.infer<typeof v6ValidateOptionsResponseSchema>;

/** `StatusApiModel`. */
export const v6StatusEntrySchema = z.strictObject({
  type: z.enum(V6_STATUSES),
  entered: dateTime,
  extra: z.strictObject({ by_user: z.string().nullable(), message: z.string().nullable(), code: z.int().nullable() }).nullable(),
});

/** `TestRunApiModel`: every key required, nullable ones present as null. */
export const v6TestRunSchema = z.strictObject({
  id,
  test_id: id,
  project_id: id,
  started_by: z.string().nullable(),
  created: dateTime,
  ended: dateTime.nullable(),
  note: z.string(),
  retention_expiry: dateTime.nullable(),
  cost: z.strictObject({ total_vuh: z.number().nonnegative(), breakdown: v6VuhBreakdownSchema }).nullable(),
  status: z.enum(V6_STATUSES),
  status_details: v6StatusEntrySchema,
  status_history: z.array(v6StatusEntrySchema).min(1),
  distribution: z.array(z.strictObject({ load_zone: z.string(), percent: z.number() })).nullable(),
  result: z.enum(V6_RESULTS).nullable(),
  result_details: z.strictObject({ type: z.enum(V6_RESULTS), message: z.string().nullable(), code: z.int().nullable() }).nullable(),
  options: z.record(z.string(), z.unknown()).nullable(),
  k6_dependencies: z.record(z.string(), z.string()),
  k6_versions: z.record(z.string(), z.string()),
  max_vus: z.int().nonnegative().nullable(),
  max_browser_vus: z.int().nonnegative().nullable(),
  estimated_duration: z.int().nonnegative().nullable(),
  execution_duration: z.int().nonnegative(),
  is_starred: z.boolean(),
});
/** `TestRunApiModel`. */
export type V6TestRun = z.infer<typeof v6TestRunSchema>;

/** `StartLoadTestResponse`: the new run plus the URL k6 prints. */
export const v6StartLoadTestResponseSchema = v6TestRunSchema.extend({ test_run_details_page_url: z.string().min(1) });
/** `StartLoadTestResponse`. */
export type V6StartLoadTestResponse = z.infer<typeof v6StartLoadTestResponseSchema>;

/** `LoadTestApiModel`. */
export const v6LoadTestSchema = z.strictObject({
  id,
  project_id: id,
  name: z.string().min(1).max(300),
  baseline_test_run_id: id.nullable(),
  k6_version: z.int().nullable().optional(),
  created: dateTime,
  updated: dateTime,
});
/** `LoadTestApiModel`. */
export type V6LoadTest = z.infer<typeof v6LoadTestSchema>;

/** `ProjectApiModel`. */
export const v6ProjectSchema = z.strictObject({
  id,
  name: z.string(),
  is_default: z.boolean(),
  grafana_folder_uid: z.string().nullable(),
  created: dateTime,
  updated: dateTime,
});
/** `ProjectApiModel`. */
export type V6Project = z.infer<typeof v6ProjectSchema>;

/** `LoadZoneApiModel`. */
export const v6LoadZoneSchema = z.strictObject({
  id,
  name: z.string(),
  k6_load_zone_id: z.string(),
  available: z.boolean(),
  custom_load_runner_image: z.string().nullable(),
  public: z.boolean(),
});
/** `LoadZoneApiModel`. */
export type V6LoadZone = z.infer<typeof v6LoadZoneSchema>;

/** `AuthenticationResponse`. */
export const v6AuthSchema = z.strictObject({ stack_id: z.int().positive().max(2_147_483_647), default_project_id: id });

/** An OData page: `value`, `@count` when `$count=true`, `@nextLink` unless it is the last page. */
export function v6ListSchema<T extends z.ZodType>(item: T) {
  return z.strictObject({ value: z.array(item), '@count': z.int().nonnegative().optional(), '@nextLink': z.string().optional() });
}

/** The v6 error body, for 400/401/403/404/409/500. */
export const v6ErrorBodySchema = z.strictObject({
  error: z.strictObject({
    message: z.string().min(1),
    code: z.string().min(1),
    target: z.string().nullable(),
    details: z.array(z.strictObject({ message: z.string(), code: z.string(), target: z.string().nullable() })).nullable(),
  }),
});
/** The v6 error body. */
export type V6ErrorBody = z.infer<typeof v6ErrorBodySchema>;

/** A herd id (decimal string) as the int64 JSON number v6 models carry. */
export function v6Id(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`id ${value} does not fit a JSON number exactly; the v6 API cannot carry it`);
  return n;
}

/** The VU-hour breakdown of an amount: herd has no browser VUs and no discounts, so it is all protocol VU-hours. */
export function vuhBreakdown(vuh: number): z.infer<typeof v6VuhBreakdownSchema> {
  return { protocol_vuh: vuh, browser_vuh: 0, base_total_vuh: vuh, reduction_rate: 0, reduction_rate_breakdown: null };
}

/** A herd test as `LoadTestApiModel`. herd keeps no baseline run nor k6 version per test. */
export function v6LoadTest(test: Pick<LoadTest, 'id' | 'projectId' | 'name' | 'createdAt' | 'updatedAt'>): V6LoadTest {
  return {
    id: v6Id(test.id),
    project_id: v6Id(test.projectId),
    name: test.name,
    baseline_test_run_id: null,
    k6_version: null,
    created: rfc3339(test.createdAt),
    updated: rfc3339(test.updatedAt),
  };
}

/** A herd project as `ProjectApiModel`; projects never change after creation, so `updated` is `created`. */
export function v6Project(project: Pick<Project, 'id' | 'name' | 'createdAt'>, isDefault: boolean): V6Project {
  const created = rfc3339(project.createdAt);
  return { id: v6Id(project.id), name: project.name, is_default: isDefault, grafana_folder_uid: null, created, updated: created };
}

/** What a test run's model needs besides the run and its history. */
export interface V6TestRunContext {
  /** `extra.by_user` of an Aborted by user entry (see `v6StatusHistory`). */
  readonly abortedBy: string;
  /** For the duration and cost of a run still going on. */
  readonly now: Date;
}

/**
 * A herd run as `TestRunApiModel`. `estimated_duration` is the planned duration (k6 draws its
 * progress bar from it), `execution_duration` the whole seconds spent Running so far, `cost`
 * the VU-hours herd books for it (null before it ran). herd tracks neither who started a run
 * nor retention, stars, notes or k6 versions: those are null, false, "" and {}.
 */
export function v6TestRun(run: Run, history: readonly StatusChange[], ctx: V6TestRunContext): V6TestRun {
  const statusHistory = v6StatusHistory(history.length > 0 ? history : [run.lastChange], ctx.abortedBy);
  const current = statusHistory.at(-1);
  if (current === undefined) throw new Error(`run ${run.id} has no status history`);
  const result = v6Result(run);
  const endMs = run.endedAt === null ? ctx.now.getTime() : Date.parse(run.endedAt);
  const executionSeconds = run.startedAt === null ? 0 : Math.max(0, Math.floor((endMs - Date.parse(run.startedAt)) / 1000));
  const vuh = runVuHours(run, ctx.now);
  return {
    id: v6Id(run.id),
    test_id: v6Id(run.testId),
    project_id: v6Id(run.projectId),
    started_by: null,
    created: rfc3339(run.createdAt),
    ended: run.endedAt === null ? null : rfc3339(run.endedAt),
    note: '',
    retention_expiry: null,
    cost: run.startedAt === null ? null : { total_vuh: vuh, breakdown: vuhBreakdown(vuh) },
    status: v6Status(run.status),
    status_details: current,
    status_history: statusHistory,
    distribution: v6Distribution(run.distribution),
    result,
    result_details: result === null ? null : { type: result, message: run.lastChange.message, code: run.status.code },
    options: run.options,
    k6_dependencies: {},
    k6_versions: {},
    max_vus: run.vus,
    max_browser_vus: 0,
    estimated_duration: run.durationSeconds,
    execution_duration: executionSeconds,
    is_starred: false,
  };
}

function v6Distribution(distribution: Distribution): Array<{ load_zone: string; percent: number }> {
  return Object.values(distribution).map((d) => ({ load_zone: d.loadZone, percent: d.percent }));
}
