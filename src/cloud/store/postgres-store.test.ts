import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { storeContract } from './store.case.test.js';
import { openPostgresStore } from './postgres-store.js';

// The real PostgreSQL of the dev machines and CI (trust auth). HERD_TEST_POSTGRES overrides it.
const URL = process.env['HERD_TEST_POSTGRES'] ?? 'postgres://postgres@127.0.0.1:5432/test';

async function unreachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (e) {
    return `PostgreSQL is not reachable at ${URL} (${e instanceof Error ? e.message : String(e)})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const skip = await unreachable();
// CI always has PostgreSQL: there, a skip would hide a broken setup, so it fails instead.
if (skip !== undefined && process.env['CI'] === 'true') throw new Error(skip);

// A fresh schema per test, dropped afterwards: tests never see each other's rows, and parallel
// test processes (and a developer's own data in `public`) are left alone.
storeContract('PostgreSQL', async () => {
  const schema = `herd_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  return {
    open: (opts) => openPostgresStore({ connectionString: URL, schema, ...(opts?.now === undefined ? {} : { now: opts.now }) }),
    replicas: true,
    dispose: () => admin(async (c) => { await c.query(`drop schema if exists ${schema} cascade`); }),
  };
}, skip === undefined ? {} : { skip });
