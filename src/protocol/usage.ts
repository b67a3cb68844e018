import { z } from 'zod';
import { orgIdSchema, projectIdSchema, runIdSchema } from './ids.js';

/** A calendar month in UTC, `YYYY-MM`; usage is summed per month. */
export const usageMonthSchema = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month like "2026-11"');
/** A calendar month in UTC, `YYYY-MM`. */
export type UsageMonth = z.infer<typeof usageMonthSchema>;

/** Query of a request for usage; the month defaults to the current one (chosen by the API). */
export const usageQuerySchema = z.strictObject({
  month: usageMonthSchema.optional(),
  projectId: projectIdSchema.optional(),
});
/** Query of a request for usage. */
export type UsageQuery = z.infer<typeof usageQuerySchema>;

/** One run's usage: VU-hours counted from when it started Running. */
export const runUsageSchema = z.strictObject({
  runId: runIdSchema,
  projectId: projectIdSchema,
  month: usageMonthSchema,
  vuHours: z.number().nonnegative(),
});
/** One run's usage. */
export type RunUsage = z.infer<typeof runUsageSchema>;

/** An organization's usage for one month, in total and per project. */
export const usageSchema = z.strictObject({
  orgId: orgIdSchema,
  month: usageMonthSchema,
  vuHours: z.number().nonnegative(),
  runs: z.int().nonnegative(),
  /** The organization's monthly VU-hour cap, null for none. */
  cap: z.number().positive().nullable(),
  projects: z.array(z.strictObject({
    projectId: projectIdSchema,
    vuHours: z.number().nonnegative(),
    runs: z.int().nonnegative(),
  })),
});
/** An organization's usage for one month. */
export type Usage = z.infer<typeof usageSchema>;
