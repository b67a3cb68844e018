import { z } from 'zod';
import {
  agentSchema, apiTokenSchema, isoTimeSchema, createdTokenSchema, loadTestSchema, loadZoneNameSchema, loadZoneSchema, organizationSchema,
  orgIdSchema, projectIdSchema, projectSchema, runIdSchema, runResultSchema, runStatusSchema, statusChangeSchema, testIdSchema,
  thresholdResultSchema, tokenIdSchema,
} from '../../protocol/index.js';

// The wire shapes the API needs beyond src/protocol: path params, list envelopes and a few
// answers that wrap protocol types. Built only from protocol schemas, strict like them.
// TODO(#4): move the answers the dashboard reads (envelopes, live events) into src/protocol.

/** `:id` of an organization. */
export const orgParamsSchema = z.strictObject({ id: orgIdSchema });
/** `:id` of a project. */
export const projectParamsSchema = z.strictObject({ id: projectIdSchema });
/** `:id` of a token. */
export const tokenParamsSchema = z.strictObject({ id: tokenIdSchema });
/** `:id` of a test. */
export const testParamsSchema = z.strictObject({ id: testIdSchema });
/** `:id` of a run. */
export const runParamsSchema = z.strictObject({ id: runIdSchema });
/** `:id` of a run and `:metric`, a metric name with an optional sub-metric selector. */
export const runMetricParamsSchema = z.strictObject({
  id: runIdSchema,
  metric: z.string().min(1).max(500),
});

/** Query of a metric series: epoch-millisecond bounds, both inclusive. */
export const metricSeriesQuerySchema = z.strictObject({
  from: z.coerce.number().int().nonnegative().optional(),
  to: z.coerce.number().int().nonnegative().optional(),
}).refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, { message: 'must not be before from', path: ['to'] });

/** Query of the agent list. */
export const agentListQuerySchema = z.strictObject({ zone: loadZoneNameSchema.optional() });

/** Query of the live-event stream: every run of the organization, or one. */
export const eventsQuerySchema = z.strictObject({ runId: runIdSchema.optional() });

/**
 * Form fields of `POST /api/v1/runs` (next to the file part `archive`): the project, and the
 * test either by id or by name (created in the project when no test has that name yet).
 */
export const submitRunFieldsSchema = z.strictObject({
  projectId: projectIdSchema,
  testId: testIdSchema.optional(),
  testName: z.string().min(1).max(200).optional(),
}).superRefine((f, ctx) => {
  if ((f.testId === undefined) === (f.testName === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['testId'], message: 'must be given, or testName, but not both' });
  }
});
/** Form fields of a run submission. */
export type SubmitRunFields = z.infer<typeof submitRunFieldsSchema>;

/** Form fields of an archive upload to an existing test, or of an estimate: none besides the file. */
export const noFieldsSchema = z.strictObject({});

/** Answer of `GET /health`. */
export const healthSchema = z.strictObject({ status: z.literal('ok') });

/** The organizations the caller can see: its own. */
export const organizationListSchema = z.strictObject({ organizations: z.array(organizationSchema) });
/** Answer to creating an organization: it and its first admin token (the secret shown once). */
export const createdOrganizationSchema = z.strictObject({ organization: organizationSchema, adminToken: createdTokenSchema });
/** The organization's projects. */
export const projectListSchema = z.strictObject({ projects: z.array(projectSchema) });
/** The organization's tokens, revoked ones included, never their secrets. */
export const tokenListSchema = z.strictObject({ tokens: z.array(apiTokenSchema) });
/** The organization's tests. */
export const loadTestListSchema = z.strictObject({ tests: z.array(loadTestSchema) });
/** Load generators. */
export const agentListSchema = z.strictObject({ agents: z.array(agentSchema) });
/** Load zones. */
export const loadZoneListSchema = z.strictObject({ loadZones: z.array(loadZoneSchema) });

/** A metric's 1 s points in a time range. */
export const metricSeriesSchema = z.strictObject({
  runId: runIdSchema,
  metric: z.string(),
  points: z.array(z.strictObject({ t: z.number(), values: z.record(z.string(), z.number()) })),
});
/** k6's end-of-test summary data (handleSummary's `data`) of a run, so far or final. */
export const runSummarySchema = z.strictObject({ runId: runIdSchema, summary: z.record(z.string(), z.unknown()) });
/** A run's threshold outcomes. */
export const runThresholdsSchema = z.strictObject({ runId: runIdSchema, thresholds: z.array(thresholdResultSchema) });
/** Warnings the control plane raised on a run (overutilized generator, limits coming near), oldest first. */
export const runWarningsSchema = z.strictObject({
  runId: runIdSchema,
  warnings: z.array(z.strictObject({ code: z.string(), message: z.string(), at: isoTimeSchema })),
});
/** Estimated size of an archive's test before it runs. */
export const estimateSchema = z.strictObject({
  vus: z.int().nonnegative(),
  durationSeconds: z.number().nonnegative(),
  vuHours: z.number().nonnegative(),
});

/** `data` of a live `status` event: the run moved to a new status. */
export const statusEventSchema = z.strictObject({
  type: z.literal('status'), runId: runIdSchema, status: runStatusSchema, result: runResultSchema, change: statusChangeSchema,
});
/** `data` of a live `progress` event: the run's numbers for one second while Running. */
export const progressEventSchema = z.strictObject({
  type: z.literal('progress'), runId: runIdSchema, at: z.number(), vus: z.number(), vusMax: z.number(),
  rps: z.number(), iterations: z.number(), progress: z.number().min(0).max(1),
});
/** `data` of a live `warning` event: e.g. an overloaded generator or a limit coming near. */
export const warningEventSchema = z.strictObject({
  type: z.literal('warning'), runId: runIdSchema, code: z.string(), message: z.string(), at: z.number(),
});
/** `data` of a live `log` event: a line the script logged. */
export const logEventSchema = z.strictObject({
  type: z.literal('log'), runId: runIdSchema, level: z.string(), message: z.string(), at: z.number(),
});
/** `data` of any live event; the SSE `event:` field names its `type`. */
export const liveEventSchema = z.discriminatedUnion('type', [statusEventSchema, progressEventSchema, warningEventSchema, logEventSchema]);
/** `data` of any live event. */
export type LiveEvent = z.infer<typeof liveEventSchema>;

