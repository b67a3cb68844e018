import { z } from 'zod';
import { loadZoneNameSchema } from './distribution.js';
import { agentIdSchema, isoTimeSchema } from './ids.js';

/** A load generator as the API shows it. */
export const agentSchema = z.strictObject({
  id: agentIdSchema,
  zone: loadZoneNameSchema,
  /** How many VUs it takes at most; shares of a run are split by capacity within a zone. */
  capacity: z.int().positive(),
  registeredAt: isoTimeSchema,
  lastHeartbeatAt: isoTimeSchema.nullable(),
  /** CPU use at the last heartbeat, 0-100 (per the whole machine). */
  cpuPercent: z.number().min(0).max(100).nullable(),
  memoryUsedBytes: z.int().nonnegative().nullable(),
  memoryLimitBytes: z.int().positive().nullable(),
  /** Heartbeat seen within the health timeout (decided by the scheduler). */
  healthy: z.boolean(),
});
/** A load generator as the API shows it. */
export type Agent = z.infer<typeof agentSchema>;

/** A load zone: the agents registered under one zone name. */
export const loadZoneSchema = z.strictObject({
  name: loadZoneNameSchema,
  agents: z.int().nonnegative(),
  healthyAgents: z.int().nonnegative(),
  /** Sum of the healthy agents' capacities, in VUs. */
  capacity: z.int().nonnegative(),
});
/** A load zone. */
export type LoadZone = z.infer<typeof loadZoneSchema>;
