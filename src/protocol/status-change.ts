import { z } from 'zod';
import { isoTimeSchema } from './ids.js';
import { runStatusSchema } from './run-status.js';

/**
 * Why a run changed status, as a stable machine code (the human text goes in `message`).
 * Grouped here by the status each leads to; `cloud/runs` checks that pairing on every transition.
 */
export const statusReasonSchema = z.enum([
  // the normal path
  'created', // -> Created: the run row exists
  'validated', // -> Validated: archive unpacked, options parsed, static limits checked
  'queued', // -> Queued: accepted for scheduling
  'placed', // -> Initializing: every share of the run has a load generator
  'started', // -> Running: every generator initialized its VUs; common start time sent
  'completed', // -> Finished: every generator completed
  // runs executed outside herd (k6 run --out cloud); herd only ingests their metrics
  'external_start', // -> Running: the test runs outside herd: k6 run --out cloud
  'external_timeout', // -> Timed out: k6 reported a timeout (e.g. setup() or teardown() took too long)
  'external_system_abort', // -> Aborted by system: k6 reported an abort outside the script's control (e.g. its cloud output gave up)
  // Aborted by script error
  'script_error', // the script does not parse or bundle
  'invalid_options', // its options cannot be evaluated
  'init_error', // init code threw on a generator
  'setup_error', // setup() threw
  'script_abort', // the script called test.abort()
  // Aborted by limit
  'limit_vus',
  'limit_duration',
  'limit_groups',
  'limit_series',
  'archive_too_large',
  'limit_vu_hours', // the organization's monthly VU-hour cap
  // Aborted by threshold
  'thresholds_crossed',
  // Aborted by system
  'launch_timeout', // a requested load zone had no healthy generator in time
  'agent_lost', // a generator disconnected past its grace period
  'agent_crashed',
  'agent_out_of_memory',
  'internal_error', // the control plane could not go on with the run
  // Timed out
  'run_timeout', // nothing received from or sent to any generator for the run timeout
  // Aborted by user
  'user_abort', // API, CLI (Ctrl+C) or dashboard
]);
/** Why a run changed status, as a stable machine code. */
export type StatusReason = z.infer<typeof statusReasonSchema>;

/** One entry of a run's status history: never changed once written. */
export const statusChangeSchema = z.strictObject({
  status: runStatusSchema,
  at: isoTimeSchema,
  reason: statusReasonSchema,
  /** Human text shown to the user, e.g. which limit and the seed's advice. */
  message: z.string().max(4000),
});
/** One entry of a run's status history. */
export type StatusChange = z.infer<typeof statusChangeSchema>;
