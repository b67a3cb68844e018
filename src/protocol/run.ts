import { z } from 'zod';
import { distributionSchema } from './distribution.js';
import { archiveIdSchema, isoTimeSchema, projectIdSchema, runIdSchema, testIdSchema } from './ids.js';
import { runStatusSchema, type RunStatusCode, statusByCode } from './run-status.js';
import { statusChangeSchema } from './status-change.js';

/**
 * Whether the run's thresholds held, separate from its status as in k6 Cloud: a run that ends
 * normally with failed thresholds is Finished with result `failed`. Null until known.
 */
export const runResultSchema = z.enum(['passed', 'failed']).nullable();
/** Whether the run's thresholds held; null until known. */
export type RunResult = z.infer<typeof runResultSchema>;

/** A test run as the API shows it: status always as `{code, name}`, plus `result`. */
export const runSchema = z.strictObject({
  id: runIdSchema,
  testId: testIdSchema,
  projectId: projectIdSchema,
  archiveId: archiveIdSchema,
  status: runStatusSchema,
  result: runResultSchema,
  /** The change that led to the current status (its reason says why a run ended as it did). */
  lastChange: statusChangeSchema,
  createdAt: isoTimeSchema,
  /** When the run entered Running; usage counts from here. */
  startedAt: isoTimeSchema.nullable(),
  /** When the run reached its final status. */
  endedAt: isoTimeSchema.nullable(),
  /** Max VUs of the whole run (all zones together). */
  vus: z.int().nonnegative(),
  /** Planned total duration in seconds, from the executor plan; null when unbounded/unknown. */
  durationSeconds: z.int().nonnegative().nullable(),
  distribution: distributionSchema,
  /** The run's consolidated k6 options as JSON. */
  options: z.record(z.string(), z.unknown()),
});
/** A test run as the API shows it. */
export type Run = z.infer<typeof runSchema>;

const statusCodeList = z
  .string()
  .regex(/^-?\d+(,-?\d+)*$/, 'must be status codes separated by commas, like "0,1,2"')
  .transform((s, ctx) => {
    const codes: RunStatusCode[] = [];
    for (const part of s.split(',')) {
      const status = statusByCode(Number(part));
      if (status === undefined) {
        ctx.addIssue({ code: 'custom', message: `must hold only status codes -2 to 9, got ${part}` });
        return z.NEVER;
      }
      codes.push(status.code);
    }
    return codes;
  });

/**
 * Query of a request listing runs, as it comes in a URL (every value a string): newest first,
 * `before` is the cursor (the last id of the previous page).
 */
export const runListQuerySchema = z.strictObject({
  projectId: projectIdSchema.optional(),
  testId: testIdSchema.optional(),
  /** Only runs in these statuses, e.g. `0,1,2` for the active ones. */
  status: statusCodeList.optional(),
  createdAfter: isoTimeSchema.optional(),
  createdBefore: isoTimeSchema.optional(),
  before: runIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
/** Query of a request listing runs, parsed. */
export type RunListQuery = z.infer<typeof runListQuerySchema>;

/** A page of runs; `nextBefore` is the cursor of the next page, null on the last. */
export const runListSchema = z.strictObject({
  runs: z.array(runSchema),
  nextBefore: runIdSchema.nullable(),
});
/** A page of runs. */
export type RunList = z.infer<typeof runListSchema>;

/** A run's status history, oldest first. */
export const runHistorySchema = z.strictObject({
  runId: runIdSchema,
  changes: z.array(statusChangeSchema),
});
/** A run's status history, oldest first. */
export type RunHistory = z.infer<typeof runHistorySchema>;

/** Body of a request to start a run of a test's latest archive. */
export const startRunBodySchema = z.strictObject({ testId: testIdSchema });
/** Body of a request to start a run. */
export type StartRunBody = z.infer<typeof startRunBodySchema>;
