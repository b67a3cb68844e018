import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { HerdError } from '../../errors/index.js';
import { KyselyStore } from './kysely-store.js';
import { migrateToLatest } from './migrations.js';
import type { Database } from './schema.js';

/** Where and how to open the PostgreSQL store. */
export interface PostgresStoreOptions {
  /** `postgres://user@host:port/database`. */
  readonly connectionString: string;
  /** The schema holding herd's tables, created if missing; default `public`. */
  readonly schema?: string;
  /** Connections in the pool; default 10. */
  readonly maxConnections?: number;
  /** The clock for bookkeeping times; tests inject one. */
  readonly now?: () => Date;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Opens the PostgreSQL store, for many control-plane replicas on one database: a pool whose
 * connections all use `schema`, migrated to the latest schema (concurrent openers wait on
 * Kysely's migration lock).
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<KyselyStore> {
  const schema = options.schema ?? 'public';
  // The schema name goes into a connection option and DDL, not a bound parameter.
  if (!SCHEMA_NAME.test(schema)) {
    throw new HerdError('invalid_option', `PostgreSQL schema must be a lower-case SQL identifier, got ${JSON.stringify(schema)}`);
  }
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    // Every connection resolves unqualified table names in herd's schema, so the one query code
    // path needs no schema prefixes.
    options: `-c search_path=${schema}`,
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
    await migrateToLatest(db as unknown as Kysely<unknown>, 'postgres', schema);
  } catch (e) {
    await db.destroy();
    if (e instanceof HerdError) throw e;
    throw new HerdError('store_failure', `cannot open PostgreSQL database: ${e instanceof Error ? e.message : String(e)}`, {
      hint: 'check the connection string and that the server is running', cause: e,
    });
  }
  return new KyselyStore(db, { dialect: 'postgres', schema, ...(options.now === undefined ? {} : { now: options.now }) });
}
