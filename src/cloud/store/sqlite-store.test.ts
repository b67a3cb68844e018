import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeContract } from './store.case.test.js';
import { openSqliteStore } from './sqlite-store.js';

// A fresh database file per test, in a temp directory removed afterwards (WAL files included).
storeContract('SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'herd-store-'));
  const file = join(dir, 'herd.db');
  return {
    open: (opts) => openSqliteStore({ file, ...(opts?.now === undefined ? {} : { now: opts.now }) }),
    // Two better-sqlite3 connections in one thread would deadlock on the write lock; one store
    // per file is the embedded model, and concurrency is tested through one store.
    replicas: false,
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
});
