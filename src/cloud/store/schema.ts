import type { ColumnType } from 'kysely';

// The tables as Kysely sees them. One query code path serves SQLite and PostgreSQL, so column
// types are chosen to read back the same way from both drivers, and the few differences are
// normalized where rows become records (row-mapping.ts):
// - ids are integers; PostgreSQL's bigint comes back from `pg` as a string, SQLite's as a number;
// - instants are ISO-8601 UTC text (`toISOString`), which sorts correctly as text and avoids
//   PostgreSQL's Date objects versus SQLite's strings;
// - booleans are integers 0/1; JSON is text; bytes are BLOB/bytea (a Buffer from both drivers).

/** An integer id column: number from SQLite, decimal string from PostgreSQL's bigint. */
type IdColumn = ColumnType<number | string, string, never>;
/** An auto-numbered primary key: the database chooses it, so inserts never set it. */
type AutoId = ColumnType<number | string, never, never>;
/** A bigint count: number from SQLite, string from PostgreSQL. */
type BigIntColumn = ColumnType<number | string, number, number>;

/** The organizations table. */
export interface OrganizationsTable {
  id: AutoId;
  name: string;
  created_at: string;
  /** Only the limits that differ from the defaults, as JSON, so changed defaults reach old rows. */
  limits_json: string;
}

/** The projects table. */
export interface ProjectsTable {
  id: AutoId;
  org_id: IdColumn;
  name: string;
  created_at: string;
}

/** The API tokens table: only a hash of each secret is kept. */
export interface ApiTokensTable {
  id: AutoId;
  org_id: IdColumn;
  name: string;
  role: string;
  token_hash: string;
  created_at: string;
  revoked_at: string | null;
}

/** The tests table ("load tests"); the latest archive is the newest row in `archives`. */
export interface TestsTable {
  id: AutoId;
  org_id: IdColumn;
  project_id: IdColumn;
  name: string;
  created_at: string;
  updated_at: string;
}

/** The archives table: uploaded archives as blobs. */
export interface ArchivesTable {
  id: AutoId;
  org_id: IdColumn;
  test_id: IdColumn;
  size_bytes: BigIntColumn;
  sha256: string;
  bytes: Uint8Array;
  created_at: string;
}

/** The runs table; `status_code` is the one place a run's current status lives. */
export interface RunsTable {
  id: AutoId;
  org_id: IdColumn;
  project_id: IdColumn;
  test_id: IdColumn;
  archive_id: IdColumn;
  status_code: number;
  result: string | null;
  last_reason: string;
  last_message: string;
  last_change_at: string;
  options_json: string;
  distribution_json: string;
  vus: number;
  duration_seconds: number | null;
  created_at: string;
  queued_at: string | null;
  started_at: string | null;
  ended_at: string | null;
  claimed_by: string | null;
  claimed_at: string | null;
}

/** The append-only status history (UPDATE and DELETE are refused by a trigger). */
export interface RunStatusHistoryTable {
  id: AutoId;
  run_id: IdColumn;
  status_code: number;
  reason: string;
  message: string;
  at: string;
}

/** Metric batches from agents, keyed by (run, agent, sequence) so a re-sent batch is stored once. */
export interface MetricBatchesTable {
  run_id: IdColumn;
  agent_id: string;
  sequence: BigIntColumn;
  payload: Uint8Array;
  received_at: string;
}

/** Threshold outcomes per run, one row per (metric, expression). */
export interface ThresholdResultsTable {
  run_id: IdColumn;
  metric: string;
  expression: string;
  passed: number;
  abort_on_fail: number;
  evaluated_at: string;
}

/** Usage per run, booked in the month the run started Running. */
export interface RunUsageTable {
  run_id: IdColumn;
  org_id: IdColumn;
  project_id: IdColumn;
  month: string;
  vu_hours: number;
  recorded_at: string;
}

/** Registered load generators and their last heartbeat. */
export interface AgentsTable {
  id: string;
  zone: string;
  capacity: number;
  registered_at: string;
  last_heartbeat_at: string | null;
  cpu_percent: number | null;
  memory_used_bytes: BigIntColumn | null;
  memory_limit_bytes: BigIntColumn | null;
}

/** Which agents run which share (execution segment) of which run. */
export interface RunAgentsTable {
  run_id: IdColumn;
  agent_id: string;
  zone: string;
  segment: string;
  vus: number;
  state: string;
  assigned_at: string;
  updated_at: string;
  groups_json: string | null;
}

/** Who leads a live run and what its generators reported (migration 0003). */
export interface RunLeadsTable {
  run_id: IdColumn;
  leader_id: string;
  lease_until: string;
  setup_done_at: string | null;
  setup_json: string | null;
  start_at_ms: ColumnType<number | string | null, number | null, number | null>;
  teardown_done_at: string | null;
  teardown_groups_json: string | null;
  end_reason: string | null;
  end_message: string | null;
}

/** Per-second points of a run's metrics: one row per (run, metric or sub-metric, second). */
export interface MetricPointsTable {
  run_id: IdColumn;
  metric: string;
  /** Epoch ms of the second. */
  t: BigIntColumn;
  values_json: string;
}

/** A run's summary as JSON, one row per run. */
export interface RunSummariesTable {
  run_id: IdColumn;
  summary_json: string;
  updated_at: string;
}

/** Warnings raised on runs. */
export interface RunWarningsTable {
  id: AutoId;
  run_id: IdColumn;
  code: string;
  message: string;
  at: string;
}

/** The whole database, for Kysely. */
export interface Database {
  organizations: OrganizationsTable;
  projects: ProjectsTable;
  api_tokens: ApiTokensTable;
  tests: TestsTable;
  archives: ArchivesTable;
  runs: RunsTable;
  run_status_history: RunStatusHistoryTable;
  metric_batches: MetricBatchesTable;
  threshold_results: ThresholdResultsTable;
  run_usage: RunUsageTable;
  agents: AgentsTable;
  run_agents: RunAgentsTable;
  run_leads: RunLeadsTable;
  metric_points: MetricPointsTable;
  run_summaries: RunSummariesTable;
  run_warnings: RunWarningsTable;
}

/** Which SQL dialect a store speaks; the only switch in the shared query code. */
export type SqlDialect = 'sqlite' | 'postgres';
