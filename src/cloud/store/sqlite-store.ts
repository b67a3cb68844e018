import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery, type DatabaseConnection, type Driver, Kysely, SqliteAdapter, SqliteDialect, type SqliteDialectConfig, SqliteDriver,
  type DialectAdapter,
} from 'kysely';
import { HerdError } from '../../errors/index.js';
import { KyselyStore } from './kysely-store.js';
import { migrateToLatest } from './migrations.js';
import type { Database } from './schema.js';

/** Where and how to open the embedded SQLite store. */
export interface SqliteStoreOptions {
  /** The database file; created with its schema when missing. `:memory:` for a throwaway store. */
  readonly file: string;
  /** The clock for bookkeeping times; tests inject one. */
  readonly now?: () => Date;
}

// Kysely opens SQLite transactions with a plain (deferred) BEGIN, which takes the write lock only
// at the first write and can fail with SQLITE_BUSY instead of waiting when a reader must upgrade.
// BEGIN IMMEDIATE takes the write lock up front, making every store transaction the single writer
// (claimQueuedRun relies on it) and letting busy_timeout queue writers from another process.
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

// SQLite runs DDL inside transactions; Kysely's adapter says it does not, which would leave a
// half-applied migration behind a crash. Saying so makes each migration all-or-nothing.
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class HerdSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

/**
 * Opens (creating if needed) the embedded store: one SQLite file in WAL mode, migrated to the
 * latest schema. Meant for one `herd server` process per file; several replicas need PostgreSQL.
 */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<KyselyStore> {
  let sqlite: BetterSqlite3.Database;
  try {
    sqlite = new BetterSqlite3(options.file);
    // WAL: readers (API, live events) never block the writer and the writer never blocks them;
    // a crash loses no committed transaction.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    // Wait for another connection's write lock instead of failing at once.
    sqlite.pragma('busy_timeout = 5000');
  } catch (e) {
    throw new HerdError('store_failure', `cannot open SQLite database ${options.file}: ${e instanceof Error ? e.message : String(e)}`, {
      hint: 'check that the directory exists and is writable', cause: e,
    });
  }
  const db = new Kysely<Database>({ dialect: new HerdSqliteDialect({ database: sqlite }) });
  try {
    await migrateToLatest(db as unknown as Kysely<unknown>, 'sqlite');
  } catch (e) {
    await db.destroy();
    throw e;
  }
  return new KyselyStore(db, { dialect: 'sqlite', ...(options.now === undefined ? {} : { now: options.now }) });
}
