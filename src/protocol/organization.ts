import { z } from 'zod';
import { isoTimeSchema, orgIdSchema } from './ids.js';

/**
 * Per-organization limits. The defaults are the seed's numbers (cloud-test-status-codes.md,
 * "Aborted by limit") and are defined here only; `cloud/runs/limits.ts` checks against them.
 */
export const orgLimitsSchema = z.strictObject({
  /** Max VUs of one run. */
  maxVus: z.int().positive().default(20_000),
  /** Max total duration of one run, in seconds (60 minutes). */
  maxDurationSeconds: z.int().positive().default(60 * 60),
  /** Max groups in one run. */
  maxGroups: z.int().positive().default(40),
  /** Max metric time series (metric + tag set) in one run. */
  maxMetricSeries: z.int().positive().default(10_000),
  /** Max size of an uploaded archive, in bytes. */
  maxArchiveBytes: z.int().positive().default(50 * 1024 * 1024),
  /** Runs of the organization that may be Initializing or Running at once; more wait in Queued. */
  maxConcurrentRuns: z.int().positive().default(5),
  /** VU-hours the organization may use per calendar month (UTC); null for no cap. */
  monthlyVuHourCap: z.number().positive().nullable().default(null),
});
/** Per-organization limits, defaults applied. */
export type OrgLimits = z.infer<typeof orgLimitsSchema>;

/** An organization: the unit of isolation (tests, runs, usage and tokens belong to one). */
export const organizationSchema = z.strictObject({
  id: orgIdSchema,
  name: z.string().min(1).max(200),
  createdAt: isoTimeSchema,
  limits: orgLimitsSchema,
});
/** An organization. */
export type Organization = z.infer<typeof organizationSchema>;

/** Body of a request creating an organization; limits left out take the defaults. */
export const createOrganizationBodySchema = z.strictObject({
  name: z.string().min(1).max(200),
  limits: orgLimitsSchema.partial().optional(),
});
/** Body of a request creating an organization. */
export type CreateOrganizationBody = z.infer<typeof createOrganizationBodySchema>;

/** Body of a request changing some of an organization's limits. */
export const updateOrgLimitsBodySchema = orgLimitsSchema.partial();
/** Body of a request changing some of an organization's limits. */
export type UpdateOrgLimitsBody = z.infer<typeof updateOrgLimitsBodySchema>;
