import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import { HerdError } from '../../errors/index.js';
import type { SqlDialect } from './schema.js';

/** The table where applied migrations are recorded (name and time), created by Kysely's migrator. */
export const MIGRATION_TABLE = 'herd_migrations';
const MIGRATION_LOCK_TABLE = 'herd_migrations_lock';

// Migrations receive Kysely<unknown>: they must not depend on the current `Database` type, which
// describes the schema after the *last* migration.
type MigrationDb = Kysely<unknown>;

/**
 * The versioned migrations, in order; names sort lexically. A shipped migration is never edited:
 * a change to the schema is a new entry. The dialect picks column types where the two differ.
 */
function migrations(dialect: SqlDialect): Record<string, Migration> {
  const pg = dialect === 'postgres';
  const idType = pg ? 'bigint' : 'integer';
  const blobType = pg ? 'bytea' : 'blob';
  return {
    '0001_control_plane': {
      async up(db: MigrationDb): Promise<void> {
        // An auto-numbered primary key: SQLite's INTEGER PRIMARY KEY AUTOINCREMENT never reuses an
        // id (a deleted run's id stays dead), and PostgreSQL's identity does the same.
        const autoId = (table: string) =>
          db.schema.createTable(table).addColumn('id', idType, (c) =>
            pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement());

        await autoId('organizations')
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('limits_json', 'text', (c) => c.notNull())
          .execute();

        await autoId('projects')
          .addColumn('org_id', idType, (c) => c.notNull().references('organizations.id'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addUniqueConstraint('projects_org_name', ['org_id', 'name'])
          .execute();

        await autoId('api_tokens')
          .addColumn('org_id', idType, (c) => c.notNull().references('organizations.id'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('token_hash', 'text', (c) => c.notNull().unique())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('revoked_at', 'text')
          .execute();

        await autoId('tests')
          .addColumn('org_id', idType, (c) => c.notNull().references('organizations.id'))
          .addColumn('project_id', idType, (c) => c.notNull().references('projects.id'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addUniqueConstraint('tests_project_name', ['project_id', 'name'])
          .execute();
        await db.schema.createIndex('tests_org').on('tests').columns(['org_id', 'id']).execute();

        await autoId('archives')
          .addColumn('org_id', idType, (c) => c.notNull().references('organizations.id'))
          .addColumn('test_id', idType, (c) => c.notNull().references('tests.id'))
          .addColumn('size_bytes', idType, (c) => c.notNull())
          .addColumn('sha256', 'text', (c) => c.notNull())
          .addColumn('bytes', blobType, (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('archives_test').on('archives').columns(['test_id', 'id']).execute();

        await autoId('runs')
          .addColumn('org_id', idType, (c) => c.notNull().references('organizations.id'))
          .addColumn('project_id', idType, (c) => c.notNull().references('projects.id'))
          .addColumn('test_id', idType, (c) => c.notNull().references('tests.id'))
          .addColumn('archive_id', idType, (c) => c.notNull().references('archives.id'))
          .addColumn('status_code', 'integer', (c) => c.notNull().check(sql`status_code between -2 and 9`))
          .addColumn('result', 'text', (c) => c.check(sql`result in ('passed', 'failed')`))
          .addColumn('last_reason', 'text', (c) => c.notNull())
          .addColumn('last_message', 'text', (c) => c.notNull())
          .addColumn('last_change_at', 'text', (c) => c.notNull())
          .addColumn('options_json', 'text', (c) => c.notNull())
          .addColumn('distribution_json', 'text', (c) => c.notNull())
          .addColumn('vus', 'integer', (c) => c.notNull())
          .addColumn('duration_seconds', 'integer')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('queued_at', 'text')
          .addColumn('started_at', 'text')
          .addColumn('ended_at', 'text')
          .addColumn('claimed_by', 'text')
          .addColumn('claimed_at', 'text')
          .execute();
        await db.schema.createIndex('runs_org').on('runs').columns(['org_id', 'id']).execute();
        // The scheduler's queue scan: runs in one status, oldest queued first.
        await db.schema.createIndex('runs_status_queue').on('runs').columns(['status_code', 'queued_at', 'id']).execute();

        await autoId('run_status_history')
          .addColumn('run_id', idType, (c) => c.notNull().references('runs.id'))
          .addColumn('status_code', 'integer', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('message', 'text', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('run_status_history_run').on('run_status_history').columns(['run_id', 'id']).execute();
        // History is evidence: the database itself refuses to change or delete it, whatever code
        // (or operator with a SQL shell) tries.
        if (pg) {
          await sql`create function herd_history_is_append_only() returns trigger language plpgsql as $$
            begin raise exception 'run_status_history is append-only'; end $$`.execute(db);
          await sql`create trigger run_status_history_append_only before update or delete on run_status_history
            for each row execute function herd_history_is_append_only()`.execute(db);
        } else {
          for (const op of ['update', 'delete']) {
            await sql.raw(`create trigger run_status_history_no_${op} before ${op} on run_status_history
              begin select raise(abort, 'run_status_history is append-only'); end`).execute(db);
          }
        }

        await db.schema.createTable('metric_batches')
          .addColumn('run_id', idType, (c) => c.notNull().references('runs.id'))
          .addColumn('agent_id', 'text', (c) => c.notNull())
          .addColumn('sequence', idType, (c) => c.notNull())
          .addColumn('payload', blobType, (c) => c.notNull())
          .addColumn('received_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('metric_batches_pk', ['run_id', 'agent_id', 'sequence'])
          .execute();

        await db.schema.createTable('threshold_results')
          .addColumn('run_id', idType, (c) => c.notNull().references('runs.id'))
          .addColumn('metric', 'text', (c) => c.notNull())
          .addColumn('expression', 'text', (c) => c.notNull())
          .addColumn('passed', 'integer', (c) => c.notNull())
          .addColumn('abort_on_fail', 'integer', (c) => c.notNull())
          .addColumn('evaluated_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('threshold_results_pk', ['run_id', 'metric', 'expression'])
          .execute();

        await db.schema.createTable('run_usage')
          .addColumn('run_id', idType, (c) => c.primaryKey().references('runs.id'))
          .addColumn('org_id', idType, (c) => c.notNull().references('organizations.id'))
          .addColumn('project_id', idType, (c) => c.notNull().references('projects.id'))
          .addColumn('month', 'text', (c) => c.notNull())
          .addColumn('vu_hours', 'double precision', (c) => c.notNull())
          .addColumn('recorded_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('run_usage_org_month').on('run_usage').columns(['org_id', 'month']).execute();

        await db.schema.createTable('agents')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('zone', 'text', (c) => c.notNull())
          .addColumn('capacity', 'integer', (c) => c.notNull())
          .addColumn('registered_at', 'text', (c) => c.notNull())
          .addColumn('last_heartbeat_at', 'text')
          .addColumn('cpu_percent', 'double precision')
          .addColumn('memory_used_bytes', idType)
          .addColumn('memory_limit_bytes', idType)
          .execute();

        await db.schema.createTable('run_agents')
          .addColumn('run_id', idType, (c) => c.notNull().references('runs.id'))
          .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id'))
          .addColumn('zone', 'text', (c) => c.notNull())
          .addColumn('segment', 'text', (c) => c.notNull())
          .addColumn('vus', 'integer', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('assigned_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('run_agents_pk', ['run_id', 'agent_id'])
          .execute();
        await db.schema.createIndex('run_agents_agent').on('run_agents').columns(['agent_id', 'run_id']).execute();
      },
    },
    '0002_run_results': {
      async up(db: MigrationDb): Promise<void> {
        // Per-second points of each metric (and threshold sub-metric) of a run: the stats of that
        // second as JSON, written as batches arrive and rewritten when a late agent's batch for the
        // same second comes in. Stats (percentiles) do not merge, so the control plane merges the
        // aggregates and stores the result; the primary key makes the rewrite an upsert.
        await db.schema.createTable('metric_points')
          .addColumn('run_id', idType, (c) => c.notNull().references('runs.id'))
          .addColumn('metric', 'text', (c) => c.notNull())
          .addColumn('t', idType, (c) => c.notNull())
          .addColumn('values_json', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('metric_points_pk', ['run_id', 'metric', 't'])
          .execute();

        // The end-of-test summary (handleSummary's metrics and root_group), so it outlives the
        // control plane process that computed it.
        await db.schema.createTable('run_summaries')
          .addColumn('run_id', idType, (c) => c.primaryKey().references('runs.id'))
          .addColumn('summary_json', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();

        // Warnings raised on a run (an overutilized load generator, …), oldest first.
        await autoIdTable(db, pg, idType, 'run_warnings')
          .addColumn('run_id', idType, (c) => c.notNull().references('runs.id'))
          .addColumn('code', 'text', (c) => c.notNull())
          .addColumn('message', 'text', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('run_warnings_run').on('run_warnings').columns(['run_id', 'id']).execute();
      },
    },
    '0003_run_leads': {
      async up(db: MigrationDb): Promise<void> {
        // Which control-plane replica leads each live run, until when (a lease it renews), and
        // the facts of the conversation with the run's generators that a replica needs to take
        // the run over: every replica records them as agent messages arrive, whoever leads.
        await db.schema.createTable('run_leads')
          .addColumn('run_id', idType, (c) => c.primaryKey().references('runs.id'))
          .addColumn('leader_id', 'text', (c) => c.notNull())
          .addColumn('lease_until', 'text', (c) => c.notNull())
          .addColumn('setup_done_at', 'text')
          .addColumn('setup_json', 'text')
          .addColumn('start_at_ms', idType)
          .addColumn('teardown_done_at', 'text')
          .addColumn('teardown_groups_json', 'text')
          .addColumn('end_reason', 'text')
          .addColumn('end_message', 'text')
          .execute();
        // The group tree (checks) a generator reported with its `done`.
        await db.schema.alterTable('run_agents').addColumn('groups_json', 'text').execute();
      },
    },
  };
}

// An auto-numbered primary key as 0001 makes it; repeated here so 0001 stays as shipped.
function autoIdTable(db: MigrationDb, pg: boolean, idType: 'bigint' | 'integer', table: string) {
  return db.schema.createTable(table).addColumn('id', idType, (c) =>
    pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement());
}

/**
 * Brings the database to the latest schema: applies, in order and each in a transaction, every
 * migration not yet recorded in `herd_migrations`. Safe to run at every open and from two
 * processes at once (Kysely takes a lock: an advisory lock on PostgreSQL).
 */
export async function migrateToLatest(db: Kysely<unknown>, dialect: SqlDialect, schema?: string): Promise<void> {
  const all = migrations(dialect);
  const provider: MigrationProvider = { getMigrations: async () => all };
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    // Without a schema, Kysely looks for its table in *any* schema of the database, and would
    // think a database with herd in another schema already migrated.
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new HerdError('store_failure', `database migration ${failed} failed: ${String(error instanceof Error ? error.message : error)}`, {
      hint: 'the database is left at the last migration that succeeded; fix the cause and start again',
      cause: error,
    });
  }
}

/** The names of the migrations recorded as applied, in order. */
export async function appliedMigrations(db: Kysely<unknown>, schema?: string): Promise<string[]> {
  const table = schema === undefined ? sql.table(MIGRATION_TABLE) : sql.table(`${schema}.${MIGRATION_TABLE}`);
  const rows = await sql<{ name: string }>`select name from ${table} order by name`.execute(db);
  return rows.rows.map((r) => r.name);
}
