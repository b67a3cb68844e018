import { z } from 'zod';

// Rows that the database numbers (organizations, projects, tests, archives, runs, tokens) get
// decimal integer ids carried as strings: k6's cloud protocol uses the test-run id verbatim as
// `reference_id` and parses it as an int64 in some modes (K6-CLOUD-API.md §1, §3.7), and strings
// survive JSON and PostgreSQL's bigint without precision loss.
const decimalId = z.string().regex(/^[1-9][0-9]{0,17}$/, 'must be a decimal id like "42"');

/** A test run's id (k6's `reference_id`). */
export const runIdSchema = decimalId.brand<'RunId'>();
/** A test run's id (k6's `reference_id`). */
export type RunId = z.infer<typeof runIdSchema>;

/** A test's id (k6's "load test"). */
export const testIdSchema = decimalId.brand<'TestId'>();
/** A test's id (k6's "load test"). */
export type TestId = z.infer<typeof testIdSchema>;

/** An organization's id. */
export const orgIdSchema = decimalId.brand<'OrgId'>();
/** An organization's id. */
export type OrgId = z.infer<typeof orgIdSchema>;

/** A project's id (k6's `project_id`). */
export const projectIdSchema = decimalId.brand<'ProjectId'>();
/** A project's id (k6's `project_id`). */
export type ProjectId = z.infer<typeof projectIdSchema>;

/** An API token's id (not its secret). */
export const tokenIdSchema = decimalId.brand<'TokenId'>();
/** An API token's id (not its secret). */
export type TokenId = z.infer<typeof tokenIdSchema>;

/** A stored script archive's id. */
export const archiveIdSchema = decimalId.brand<'ArchiveId'>();
/** A stored script archive's id. */
export type ArchiveId = z.infer<typeof archiveIdSchema>;

// An agent keeps its id across reconnects and restarts, so the agent (or its operator) chooses
// it rather than the database; it ends up in the `instance_id` tag, hence the tame alphabet.
/** A load generator's id, chosen by the agent and stable across reconnects. */
export const agentIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, 'must be 1-64 letters, digits, "_", ".", ":" or "-"')
  .brand<'AgentId'>();
/** A load generator's id, chosen by the agent and stable across reconnects. */
export type AgentId = z.infer<typeof agentIdSchema>;

/** An ISO-8601 UTC instant as `Date.prototype.toISOString` writes it. */
export const isoTimeSchema = z.iso.datetime();
/** An ISO-8601 UTC instant as `Date.prototype.toISOString` writes it. */
export type IsoTime = z.infer<typeof isoTimeSchema>;
