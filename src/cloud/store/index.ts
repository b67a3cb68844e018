// Persistence of the control plane behind one interface: SQLite (embedded) and PostgreSQL.
export type {
  Store, StoredRun, StoredArchive, StoredToken, NewRun, TransitionOutcome, StoredRunPage, MetricBatch, AgentRecord, Heartbeat,
  AssignmentState, RunAssignment, StoredMetricPoint, RunWarning, RunLead, RunFacts,
} from './store.js';
export type { SqlDialect } from './schema.js';
export { KyselyStore } from './kysely-store.js';
export { openSqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
export { openPostgresStore, type PostgresStoreOptions } from './postgres-store.js';
export { hashToken, newTokenSecret } from './token-hash.js';
export { MIGRATION_TABLE } from './migrations.js';
