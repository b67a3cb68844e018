import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Organization, OrgId, Project, RunId, RunStatus, TestId } from '../../protocol/index.js';
import { createdChange, transition } from '../runs/index.js';
import { hashToken, type KyselyStore, newTokenSecret, openSqliteStore, type StoredRun } from '../store/index.js';
import { FakeRunService } from './fake-run-service.js';
import { createApiServer, type ApiServerDeps } from './server.js';

/** One organization of a test world, with a project and one token of each role. */
export interface TestOrg {
  readonly org: Organization;
  readonly project: Project;
  readonly adminSecret: string;
  readonly memberSecret: string;
}

/** A server on a real SQLite store with a fake run service, and two organizations. */
export interface Harness {
  readonly app: FastifyInstance;
  readonly store: KyselyStore;
  readonly runs: FakeRunService;
  readonly a: TestOrg;
  readonly b: TestOrg;
  /** Creates a test with an archive and a run of it, directly in the store; optionally walks it to `to`. */
  makeRun(org: TestOrg, opts?: { testName?: string; to?: readonly RunStatus[] }): Promise<StoredRun>;
  close(): Promise<void>;
}

/** The Authorization header of a secret. */
export function bearer(secret: string): { authorization: string } {
  return { authorization: `Bearer ${secret}` };
}

/** Builds a multipart/form-data body by hand, so tests control every byte of it. */
export function multipartBody(fields: Record<string, string>, file?: { name: string; bytes: Uint8Array }): { payload: Buffer; headers: Record<string, string> } {
  const boundary = '----herdtest' + Math.random().toString(16).slice(2);
  const chunks: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  }
  if (file !== undefined) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${file.name}"; filename="test.tar"\r\nContent-Type: application/octet-stream\r\n\r\n`));
    chunks.push(Buffer.from(file.bytes));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** Opens a fresh SQLite store in a temp folder and builds the server on it. */
export async function startHarness(overrides: Partial<Omit<ApiServerDeps, 'store' | 'runs'>> = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'herd-api-'));
  const store = await openSqliteStore({ file: join(dir, 'herd.db') });
  const runs = new FakeRunService(store);
  const app = createApiServer({ store, runs, validateResponses: true, ...overrides });
  const makeOrg = async (name: string): Promise<TestOrg> => {
    const org = await store.createOrganization({ name });
    const project = await store.createProject(org.id, { name: `${name} project` });
    const adminSecret = newTokenSecret();
    const memberSecret = newTokenSecret();
    await store.createToken({ orgId: org.id, name: 'admin', role: 'admin', hash: hashToken(adminSecret) });
    await store.createToken({ orgId: org.id, name: 'member', role: 'member', hash: hashToken(memberSecret) });
    return { org, project, adminSecret, memberSecret };
  };
  const a = await makeOrg('alpha');
  const b = await makeOrg('beta');
  let n = 0;
  return {
    app, store, runs, a, b,
    async makeRun(org, opts = {}) {
      const orgId: OrgId = org.org.id;
      const name = opts.testName ?? `test ${++n}`;
      const test = (await store.findTestByName(orgId, org.project.id, name)) ?? await store.createTest(orgId, { projectId: org.project.id, name });
      const archive = await store.putArchive(orgId, test.id as TestId, new Uint8Array([1, 2, 3]));
      let run = await store.createRun(orgId, {
        testId: test.id, archiveId: archive.id, options: {}, vus: 5, durationSeconds: 60,
        distribution: { local: { loadZone: 'local', percent: 100 } }, created: createdChange(new Date()),
      });
      for (const to of opts.to ?? []) {
        const reason = to.name === 'Validated' ? 'validated' : to.name === 'Queued' ? 'queued' : to.name === 'Aborted by limit' ? 'limit_vus' : 'user_abort';
        const outcome = await store.transitionRun(run.id as RunId, run.status, transition(run.status, to, reason, `to ${to.name}`, new Date()));
        if (!outcome.ok) throw new Error(`could not move run ${run.id} to ${to.name}`);
        run = outcome.run;
      }
      return run;
    },
    async close() {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
