import { z } from 'zod';
import { loadZoneNameSchema } from '../../protocol/distribution.js';

/**
 * The control plane's server settings, defaults defined here only. Tests pass short timeouts.
 *
 * How a run's generators are judged (the two rules never overlap, so the status tells what happened):
 * - a generator whose link drops (the transport's onDisconnect: its process exited, its connection
 *   closed) and that does not come back within `agentGraceMs` ends its runs as Aborted by system
 *   (agent_lost), as does a generator that alone falls silent for `agentGraceMs` while the run's
 *   other generators keep reporting;
 * - when nothing at all arrives from any of a run's generators for `runTimeoutMs` while their links
 *   are up (a hung or stopped process, a partitioned network), the run ends Timed out (run_timeout).
 */
export const serverSettingsSchema = z.strictObject({
  /** How long a Queued run waits for a healthy generator in each of its load zones before Aborted by system. */
  launchTimeoutMs: z.int().positive().default(60_000),
  /** How long a generator may be disconnected (or alone silent) before its runs end Aborted by system. */
  agentGraceMs: z.int().positive().default(30_000),
  /** How long all of a run's generators may be silent before the run ends Timed out. */
  runTimeoutMs: z.int().positive().default(120_000),
  /** How often agents heartbeat; an agent unheard for three times this is not offered new runs. */
  heartbeatIntervalMs: z.int().positive().default(5_000),
  /** The load zone of runs whose options name none (k6's options.cloud.distribution). */
  defaultZone: loadZoneNameSchema.default('local'),
  /** How often thresholds are evaluated on a Running run (abortOnFail, live results). */
  thresholdEvalMs: z.int().positive().default(2_000),
  /** How often the scheduler looks at the queue and the runs' health. */
  schedulerTickMs: z.int().positive().default(200),
  /** How often a Running run emits a progress event. */
  progressIntervalMs: z.int().positive().default(1_000),
  /** How far in the future the common start time is set, so every generator gets `start` before it. */
  startDelayMs: z.int().nonnegative().default(1_000),
  /** How long a scheduler's hold on a Queued run lasts if it dies holding it. */
  claimLeaseMs: z.int().positive().default(30_000),
  /**
   * How long a replica's lead of a live run lasts unless renewed (it renews every third of it).
   * A replica that dies leading runs has them taken over by another (or by itself, restarted
   * under the same name) once this has passed.
   */
  runLeaseMs: z.int().positive().default(10_000),
  /** A generator above this CPU percent while running raises a warning on its runs. */
  warnCpuPercent: z.number().min(0).max(100).default(90),
  /** A generator using more than this fraction of its memory limit raises a warning on its runs. */
  warnMemoryFraction: z.number().min(0).max(1).default(0.9),
  /** The same warning about the same generator is raised on a run at most this often. */
  warningRepeatMs: z.int().positive().default(60_000),
});
/** Server settings, defaults applied. */
export type ServerSettings = z.output<typeof serverSettingsSchema>;
/** Server settings as given: any may be left out. */
export type ServerSettingsInput = z.input<typeof serverSettingsSchema>;

/** The settings with defaults applied; throws a ZodError naming every bad setting. */
export function resolveServerSettings(input: ServerSettingsInput = {}): ServerSettings {
  return serverSettingsSchema.parse(input);
}
