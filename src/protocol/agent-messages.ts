import { z } from 'zod';
import { loadZoneNameSchema } from './distribution.js';
import { agentIdSchema, runIdSchema } from './ids.js';

/**
 * Messages between the control plane and load generators (agents), whatever carries them
 * (the embedded agent's IPC channel, NATS). Every message names its run and agent; metric
 * batches carry a per-(run, agent) sequence number so a batch re-sent after a reconnect is
 * recognised and not counted twice.
 *
 * A run's conversation:
 *   CP → assign (archive, segment of the run, whether this agent runs setup/teardown)
 *   agent → initialized (its VUs are ready)            … or failed (init code threw)
 *   CP → setup (to the setup agent, once every agent is initialized)
 *   agent → setupDone (setup()'s data as JSON)          … or ended (setup threw)
 *   CP → start (common start time, setup data) to every agent
 *   agent → metrics (once a second), log, ended (test.abort(), script errors that end the run)
 *   agent → done (its scenarios finished; final batch and its group tree)
 *   CP → teardown (to the setup agent, once every agent is done) → agent → teardownDone
 *   CP → stop (abort: user, threshold, limit, system) at any time
 */

/** An error as it crosses a process: stable code, message, hint. */
export const errorPayloadSchema = z.strictObject({
  code: z.string(),
  message: z.string(),
  hint: z.string().optional(),
});

/** A metric batch (src/metrics MetricsBatch) as plain JSON; the metrics code validates the inside. */
export const metricsBatchSchema = z.strictObject({
  startMs: z.number(),
  endMs: z.number(),
  metrics: z.array(z.record(z.string(), z.unknown())),
});

/** k6's group tree (src/metrics GroupNode) as plain JSON. */
export const groupNodeSchema: z.ZodType<GroupNodeJSON> = z.lazy(() =>
  z.strictObject({
    name: z.string(),
    path: z.string(),
    id: z.string(),
    groups: z.array(groupNodeSchema),
    checks: z.array(z.strictObject({ name: z.string(), path: z.string(), id: z.string(), passes: z.int(), fails: z.int() })),
  }),
);
/** k6's group tree as plain JSON. */
export interface GroupNodeJSON {
  name: string;
  path: string;
  id: string;
  groups: GroupNodeJSON[];
  checks: Array<{ name: string; path: string; id: string; passes: number; fails: number }>;
}

/** VU and iteration counters of one agent. */
export const agentCountsSchema = z.strictObject({
  active: z.int().nonnegative(),
  initialized: z.int().nonnegative(),
  completed: z.int().nonnegative(),
  interrupted: z.int().nonnegative(),
});

/** Control plane → agent. */
export const controlToAgentSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('assign'),
    runId: runIdSchema,
    /** The run's archive (src/script/archive), base64. */
    archive: z.string(),
    /** The agent's execution segment and the run's sequence, as k6 writes them. */
    segment: z.string(),
    sequence: z.string(),
    /** This agent runs setup() and teardown() for the whole run. */
    lifecycle: z.boolean(),
    /** Tags every sample of this agent carries (load_zone, instance_id). */
    tags: z.record(z.string(), z.string()),
  }),
  z.strictObject({ type: z.literal('setup'), runId: runIdSchema }),
  z.strictObject({
    type: z.literal('start'),
    runId: runIdSchema,
    /** Epoch ms at which every agent starts its scenarios. */
    startAt: z.number(),
    setupJSON: z.string().optional(),
  }),
  z.strictObject({ type: z.literal('teardown'), runId: runIdSchema, setupJSON: z.string().optional() }),
  z.strictObject({
    type: z.literal('stop'),
    runId: runIdSchema,
    /** Why: the run's final status reason (user_abort, thresholds_crossed, …). */
    reason: z.string(),
    message: z.string(),
  }),
]);
/** Control plane → agent. */
export type ControlToAgent = z.infer<typeof controlToAgentSchema>;

/** Agent → control plane. */
export const agentToControlSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('register'),
    agentId: agentIdSchema,
    zone: loadZoneNameSchema,
    /** Most VUs it takes. */
    capacity: z.int().positive(),
    version: z.string(),
    /**
     * Made anew by each agent process. A process registers more than once (every control
     * plane that saw it lost asks it to): a register with the incarnation already known is
     * that, one with another incarnation is a restarted process whose runs died with the old one.
     */
    incarnation: z.string().min(1).max(100).optional(),
  }),
  z.strictObject({
    type: z.literal('heartbeat'),
    agentId: agentIdSchema,
    /** CPU use of the agent's machine since the last heartbeat, 0-100. */
    cpuPercent: z.number().min(0).max(100),
    memoryUsedBytes: z.int().nonnegative(),
    memoryLimitBytes: z.int().positive(),
    /** Runs the agent is working on. */
    runs: z.array(runIdSchema),
    /** The process's incarnation, as in its register: a control plane that learns of the agent from heartbeats knows it too. */
    incarnation: z.string().min(1).max(100).optional(),
  }),
  z.strictObject({ type: z.literal('initialized'), runId: runIdSchema, agentId: agentIdSchema, counts: agentCountsSchema }),
  z.strictObject({ type: z.literal('setupDone'), runId: runIdSchema, agentId: agentIdSchema, setupJSON: z.string().optional() }),
  z.strictObject({
    type: z.literal('metrics'),
    runId: runIdSchema,
    agentId: agentIdSchema,
    /** 1, 2, 3 … per (run, agent); a repeat of a seen number is dropped. */
    seq: z.int().positive(),
    batch: metricsBatchSchema,
    counts: agentCountsSchema,
    /** Groups seen so far (for the 40-groups limit) and metric time series count (10,000 limit). */
    groupCount: z.int().nonnegative(),
    seriesCount: z.int().nonnegative(),
  }),
  z.strictObject({
    type: z.literal('log'),
    runId: runIdSchema,
    agentId: agentIdSchema,
    level: z.enum(['debug', 'info', 'warn', 'error']),
    message: z.string(),
    fields: z.record(z.string(), z.string()).optional(),
  }),
  z.strictObject({
    type: z.literal('ended'),
    runId: runIdSchema,
    agentId: agentIdSchema,
    /** 'script_aborted' (test.abort()), 'script_error' (setup threw), … */
    reason: z.string(),
    message: z.string(),
  }),
  z.strictObject({
    type: z.literal('done'),
    runId: runIdSchema,
    agentId: agentIdSchema,
    seq: z.int().positive(),
    batch: metricsBatchSchema,
    groups: groupNodeSchema,
    counts: agentCountsSchema,
  }),
  z.strictObject({
    type: z.literal('teardownDone'),
    runId: runIdSchema,
    agentId: agentIdSchema,
    seq: z.int().positive(),
    batch: metricsBatchSchema,
    groups: groupNodeSchema,
  }),
  z.strictObject({ type: z.literal('failed'), runId: runIdSchema, agentId: agentIdSchema, error: errorPayloadSchema }),
]);
/** Agent → control plane. */
export type AgentToControl = z.infer<typeof agentToControlSchema>;
