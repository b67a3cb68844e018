// The contract every Store implementation passes: `storeContract(name, makeFixture)` defines every
// test, and each implementation's test file runs it in one line (as hono runs every router through
// one `*.case.test.ts`). Each test gets a fresh, empty database from the fixture.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { HerdError } from '../../errors/index.js';
import {
  type AgentId, type OrgId, type ProjectId, type RunId, type RunListQuery, type RunStatus, RunStatuses, runListQuerySchema,
  type StatusReason, type TestId,
} from '../../protocol/index.js';
import { createdChange, transition } from '../runs/index.js';
import type { KyselyStore } from './kysely-store.js';
import type { StoredRun } from './store.js';
import { hashToken, newTokenSecret } from './token-hash.js';

/** A place a store lives: opened as often as a test likes (same data each time), then removed. */
export interface StoreFixture {
  /** Opens a store on the fixture's database. */
  open(opts?: { now?: () => Date }): Promise<KyselyStore>;
  /** True when two stores opened at once behave as two control-plane replicas (separate connections). */
  readonly replicas: boolean;
  /** Removes the database. */
  dispose(): Promise<void>;
}

const T0 = Date.parse('2026-11-02T10:00:00.000Z');
const iso = (offsetMs = 0): string => new Date(T0 + offsetMs).toISOString();
const DISTRIBUTION = { local: { loadZone: 'local', percent: 100 } };
const query = (q: Record<string, string> = {}): RunListQuery => runListQuerySchema.parse(q);

// The normal path into each pre-final status, with the reason that leads there.
const PATH: ReadonlyArray<readonly [RunStatus, StatusReason]> = [
  [RunStatuses.Validated, 'validated'],
  [RunStatuses.Queued, 'queued'],
  [RunStatuses.Initializing, 'placed'],
  [RunStatuses.Running, 'started'],
];

interface Seeded {
  orgId: OrgId;
  projectId: ProjectId;
  testId: TestId;
  archiveId: StoredRun['archiveId'];
}

async function seedOrg(store: KyselyStore, name = 'acme'): Promise<Seeded> {
  const org = await store.createOrganization({ name });
  const project = await store.createProject(org.id, { name: 'default' });
  const test = await store.createTest(org.id, { projectId: project.id, name: 'checkout' });
  const archive = await store.putArchive(org.id, test.id, new Uint8Array([1, 2, 3]));
  return { orgId: org.id, projectId: project.id, testId: test.id, archiveId: archive.id };
}

async function newRun(store: KyselyStore, s: Seeded, atMs = 0): Promise<StoredRun> {
  return store.createRun(s.orgId, {
    testId: s.testId, archiveId: s.archiveId, options: { vus: 10, duration: '30s' }, vus: 10, durationSeconds: 30,
    distribution: DISTRIBUTION, created: createdChange(new Date(T0 + atMs)),
  });
}

/** Moves a run along the normal path until it reaches `target` (Validated … Running). */
async function advance(store: KyselyStore, run: StoredRun, target: RunStatus, atMs = 0): Promise<StoredRun> {
  let current = run;
  for (const [to, reason] of PATH) {
    const change = transition(current.status, to, reason, `to ${to.name}`, new Date(T0 + atMs));
    const r = await store.transitionRun(current.id, current.status, change);
    assert.ok(r.ok, `moving run ${current.id} to ${to.name}`);
    current = r.run;
    if (to.code === target.code) return current;
  }
  throw new Error(`cannot advance to ${target.name}`);
}

async function withStore(fixture: StoreFixture, fn: (store: KyselyStore) => Promise<void>): Promise<void> {
  const store = await fixture.open();
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

/** Defines the whole Store contract suite for one implementation. */
export function storeContract(name: string, makeFixture: () => Promise<StoreFixture>, options: { skip?: string } = {}): void {
  describe(`Store contract: ${name}`, { skip: options.skip ?? false }, () => {
    const test = (title: string, fn: (fixture: StoreFixture) => Promise<void>): void => {
      it(title, async () => {
        const fixture = await makeFixture();
        try {
          await fn(fixture);
        } finally {
          await fixture.dispose();
        }
      });
    };

    test('one organization never sees another organization\'s tests, runs, archives or usage', (f) => withStore(f, async (store) => {
      const a = await seedOrg(store, 'a');
      const b = await seedOrg(store, 'b');
      const runA = await newRun(store, a);
      await store.recordUsage({ runId: runA.id, projectId: a.projectId, month: '2026-11', vuHours: 2.5 });
      await store.putThresholdResults(runA.id, [{ metric: 'http_req_duration', expression: 'p(95)<500', passed: true, abortOnFail: false, evaluatedAt: iso() }]);

      assert.equal(await store.getProject(b.orgId, a.projectId), undefined);
      assert.equal(await store.getTest(b.orgId, a.testId), undefined);
      assert.equal(await store.findTestByName(b.orgId, a.projectId, 'checkout'), undefined);
      assert.equal(await store.getArchive(b.orgId, a.archiveId), undefined);
      assert.equal(await store.getRun(b.orgId, runA.id), undefined);
      assert.equal(await store.getStatusHistory(b.orgId, runA.id), undefined);
      assert.equal(await store.listThresholdResults(b.orgId, runA.id), undefined);
      assert.deepEqual((await store.listTests(b.orgId)).map((t) => t.id), [b.testId]);
      assert.deepEqual((await store.listProjects(b.orgId)).map((p) => p.id), [b.projectId]);
      assert.deepEqual((await store.listRuns(b.orgId, query())).runs, []);
      const usageB = await store.getUsage(b.orgId, '2026-11');
      assert.equal(usageB.vuHours, 0);
      assert.deepEqual(usageB.projects, []);
      assert.equal((await store.getUsage(a.orgId, '2026-11')).vuHours, 2.5);

      // Writing through another organization's ids fails as if they did not exist.
      await assert.rejects(store.createTest(b.orgId, { projectId: a.projectId, name: 'x' }), { code: 'not_found' });
      await assert.rejects(store.putArchive(b.orgId, a.testId, new Uint8Array([9])), { code: 'not_found' });
      await assert.rejects(store.createRun(b.orgId, {
        testId: a.testId, archiveId: a.archiveId, options: {}, vus: 1, durationSeconds: 1, distribution: DISTRIBUTION, created: createdChange(new Date(T0)),
      }), { code: 'not_found' });
      // Mixing one's own test with another's archive is refused too.
      await assert.rejects(store.createRun(b.orgId, {
        testId: b.testId, archiveId: a.archiveId, options: {}, vus: 1, durationSeconds: 1, distribution: DISTRIBUTION, created: createdChange(new Date(T0)),
      }), { code: 'not_found' });
      const tokenA = await store.createToken({ orgId: a.orgId, name: 'ci', role: 'member', hash: hashToken(newTokenSecret()) });
      assert.equal(await store.revokeToken(b.orgId, tokenA.id, iso()), false);
      assert.deepEqual(await store.listTokens(b.orgId), []);
    }));

    test('finds a token by the hash of its secret and never stores the secret', (f) => withStore(f, async (store) => {
      const { orgId } = await seedOrg(store);
      const secret = newTokenSecret();
      const created = await store.createToken({ orgId, name: 'ci', role: 'admin', hash: hashToken(secret) });
      assert.deepEqual(Object.keys(created).sort(), ['createdAt', 'id', 'name', 'orgId', 'revokedAt', 'role']);
      const found = await store.findTokenByHash(hashToken(secret));
      assert.equal(found?.id, created.id);
      assert.equal(found?.orgId, orgId);
      assert.equal(found?.role, 'admin');
      assert.equal(found?.hash, hashToken(secret));
      assert.equal(await store.findTokenByHash(hashToken(`${secret}x`)), undefined);
      assert.equal(await store.findTokenByHash(secret), undefined);
      const rows = await store.kysely.selectFrom('api_tokens').selectAll().execute();
      assert.ok(!JSON.stringify(rows).includes(secret), 'the secret is stored nowhere');

      assert.equal(await store.revokeToken(orgId, created.id, iso(1000)), true);
      assert.equal(await store.revokeToken(orgId, created.id, iso(2000)), false);
      assert.equal(await store.findTokenByHash(hashToken(secret)), undefined);
      assert.equal((await store.listTokens(orgId))[0]?.revokedAt, iso(1000));
    }));

    test('returns an archive\'s bytes exactly as stored and tracks the test\'s latest archive', (f) => withStore(f, async (store) => {
      const s = await seedOrg(store);
      const bytes = new Uint8Array(randomBytes(3 * 1024 * 1024 + 7));
      bytes[0] = 0;
      bytes[bytes.length - 1] = 0;
      const info = await store.putArchive(s.orgId, s.testId, bytes);
      assert.equal(info.sizeBytes, bytes.byteLength);
      assert.match(info.sha256, /^[0-9a-f]{64}$/);
      const back = await store.getArchive(s.orgId, info.id);
      assert.ok(back !== undefined);
      assert.equal(back.testId, s.testId);
      assert.deepEqual(back.info, info);
      assert.equal(Buffer.compare(Buffer.from(back.bytes), Buffer.from(bytes)), 0);
      assert.deepEqual((await store.getTest(s.orgId, s.testId))?.latestArchive, info);
      // An empty archive is still an archive.
      const empty = await store.putArchive(s.orgId, s.testId, new Uint8Array());
      assert.equal((await store.getArchive(s.orgId, empty.id))?.bytes.byteLength, 0);
      assert.equal((await store.getTest(s.orgId, s.testId))?.latestArchive?.id, empty.id);
    }));

    test('lets exactly one of two concurrent transitions from Running win', async (f) => {
      const storeA = await f.open();
      const storeB = f.replicas ? await f.open() : storeA;
      try {
        const s = await seedOrg(storeA);
        for (let i = 0; i < 10; i++) {
          const run = await advance(storeA, await newRun(storeA, s), RunStatuses.Running);
          const finish = transition(run.status, RunStatuses.Finished, 'completed', 'all generators completed', new Date(T0 + 1000));
          const abort = transition(run.status, RunStatuses.AbortedByUser, 'user_abort', 'aborted via API', new Date(T0 + 1000));
          const [x, y] = await Promise.all([
            storeA.transitionRun(run.id, run.status, finish, { result: 'passed' }),
            storeB.transitionRun(run.id, run.status, abort),
          ]);
          assert.equal([x, y].filter((r) => r.ok).length, 1, `exactly one wins (round ${i})`);
          const winner = x.ok ? x.run : y.ok ? y.run : assert.fail('no winner');
          const loser = x.ok ? y : x;
          assert.ok(!loser.ok);
          assert.deepEqual(loser.current, winner.status);
          const history = await storeA.getStatusHistory(s.orgId, run.id);
          assert.deepEqual(history?.map((h) => h.status.name), ['Created', 'Validated', 'Queued', 'Initializing', 'Running', winner.status.name]);
          assert.deepEqual((await storeA.getRun(s.orgId, run.id))?.status, winner.status);
        }
      } finally {
        if (storeB !== storeA) await storeB.close();
        await storeA.close();
        await f.dispose();
      }
    });

    test('refuses a transition from a status the run is no longer in, and reports a missing run', (f) => withStore(f, async (store) => {
      const s = await seedOrg(store);
      const run = await newRun(store, s);
      const stale = transition(RunStatuses.Queued, RunStatuses.Initializing, 'placed', '', new Date(T0));
      const r = await store.transitionRun(run.id, RunStatuses.Queued, stale);
      assert.deepEqual(r, { ok: false, current: RunStatuses.Created });
      assert.equal((await store.getStatusHistory(s.orgId, run.id))?.length, 1);
      await assert.rejects(store.transitionRun('999999' as RunId, RunStatuses.Created, stale), (e: unknown) =>
        e instanceof HerdError && e.code === 'not_found' && e.message.includes('run 999999'));
    }));

    test('keeps the status history in order, with times, reasons and messages, and refuses to change it', (f) => withStore(f, async (store) => {
      const s = await seedOrg(store);
      const created = await newRun(store, s);
      assert.equal(created.status.name, 'Created');
      assert.equal(created.lastChange.reason, 'created');
      const running = await advance(store, created, RunStatuses.Running, 5_000);
      assert.equal(running.startedAt, iso(5_000));
      assert.notEqual(running.queuedAt, null);
      const before = await store.getStatusHistory(s.orgId, running.id);
      const end = transition(running.status, RunStatuses.AbortedByThreshold, 'thresholds_crossed', 'http_req_duration p(95)<500 crossed', new Date(T0 + 9_000));
      const ended = await store.transitionRun(running.id, running.status, end, { result: 'failed' });
      assert.ok(ended.ok);
      assert.equal(ended.run.endedAt, iso(9_000));
      assert.equal(ended.run.result, 'failed');
      assert.deepEqual(ended.run.lastChange, end);

      const history = await store.getStatusHistory(s.orgId, running.id);
      assert.deepEqual(history?.map((h) => `${h.status.name}:${h.reason}`), [
        'Created:created', 'Validated:validated', 'Queued:queued', 'Initializing:placed', 'Running:started', 'Aborted by threshold:thresholds_crossed',
      ]);
      assert.deepEqual(history?.slice(0, -1), before, 'earlier entries are unchanged by later ones');
      assert.deepEqual(history?.at(-1), end);

      // Even SQL that goes around the store cannot rewrite or delete history.
      await assert.rejects(sql`update run_status_history set reason = 'user_abort'`.execute(store.kysely), /append-only/);
      await assert.rejects(sql`delete from run_status_history`.execute(store.kysely), /append-only/);
      assert.deepEqual(await store.getStatusHistory(s.orgId, running.id), history);
    }));

    test('stores a metric batch once per (run, agent, sequence) and reports a repeat as not inserted', (f) => withStore(f, async (store) => {
      const s = await seedOrg(store);
      const run = await newRun(store, s);
      const agent = 'agent-1' as AgentId;
      const batch = { runId: run.id, agentId: agent, sequence: 0, payload: new Uint8Array([1, 2]), receivedAt: iso() };
      assert.deepEqual(await store.insertMetricBatch(batch), { inserted: true });
      assert.deepEqual(await store.insertMetricBatch({ ...batch, payload: new Uint8Array([7]), receivedAt: iso(5) }), { inserted: false });
      assert.deepEqual(await store.insertMetricBatch({ ...batch, sequence: 1 }), { inserted: true });
      assert.deepEqual(await store.insertMetricBatch({ ...batch, agentId: 'agent-2' as AgentId }), { inserted: true });
      // Re-sends racing each other (a reconnect while the first send is in flight): one is stored.
      const racing = await Promise.all(Array.from({ length: 8 }, () => store.insertMetricBatch({ ...batch, sequence: 2 })));
      assert.equal(racing.filter((r) => r.inserted).length, 1);
      const stored = await store.listMetricBatches(run.id);
      assert.deepEqual(stored.map((b) => `${b.agentId}#${b.sequence}`), ['agent-1#0', 'agent-1#1', 'agent-1#2', 'agent-2#0']);
      assert.deepEqual([...(stored[0]?.payload ?? [])], [1, 2], 'the first payload is kept');
      assert.equal(stored[0]?.receivedAt, iso());
    }));

    test('never hands the same queued run to two concurrent claimers', async (f) => {
      const storeA = await f.open();
      const storeB = f.replicas ? await f.open() : storeA;
      try {
        const s = await seedOrg(storeA);
        const queued: string[] = [];
        for (let i = 0; i < 12; i++) queued.push((await advance(storeA, await newRun(storeA, s, i), RunStatuses.Queued, i)).id);
        const claimAll = async (store: KyselyStore, id: string): Promise<string[]> => {
          const got: string[] = [];
          for (;;) {
            const run = await store.claimQueuedRun(id);
            if (run === undefined) return got;
            assert.equal(run.claimedBy, id);
            got.push(run.id);
          }
        };
        const [a, b, c] = await Promise.all([claimAll(storeA, 'scheduler-a'), claimAll(storeB, 'scheduler-b'), claimAll(storeB, 'scheduler-c')]);
        const all = [...(a ?? []), ...(b ?? []), ...(c ?? [])];
        assert.equal(new Set(all).size, all.length, 'no run claimed twice');
        assert.deepEqual([...all].sort(), [...queued].sort(), 'every queued run claimed');
      } finally {
        if (storeB !== storeA) await storeB.close();
        await storeA.close();
        await f.dispose();
      }
    });

    test('claims the oldest queued run first, lets a claim expire after its lease, and takes a released run back', async (f) => {
      let now = T0;
      const store = await f.open({ now: () => new Date(now) });
      try {
        const s = await seedOrg(store);
        const first = await advance(store, await newRun(store, s), RunStatuses.Queued, 1_000);
        const second = await advance(store, await newRun(store, s), RunStatuses.Queued, 2_000);
        await newRun(store, s); // Created: not in the queue
        assert.equal((await store.claimQueuedRun('a', { leaseMs: 10_000 }))?.id, first.id);
        assert.equal((await store.claimQueuedRun('b', { leaseMs: 10_000 }))?.id, second.id);
        assert.equal(await store.claimQueuedRun('c', { leaseMs: 10_000 }), undefined);
        now += 11_000; // scheduler a died holding `first`
        assert.equal((await store.claimQueuedRun('c', { leaseMs: 10_000 }))?.id, first.id);
        assert.equal(await store.releaseClaim(second.id, 'a'), false, 'only the holder releases');
        assert.equal(await store.releaseClaim(second.id, 'b'), true);
        assert.equal((await store.claimQueuedRun('d', { leaseMs: 10_000 }))?.id, second.id);
        // Placing the run ends the claim with the move out of Queued.
        const placed = await store.transitionRun(second.id, RunStatuses.Queued, transition(RunStatuses.Queued, RunStatuses.Initializing, 'placed', '', new Date(now)));
        assert.ok(placed.ok);
        assert.equal(placed.run.claimedBy, null);
      } finally {
        await store.close();
        await f.dispose();
      }
    });

    test('applies each migration once, however often the database is opened', async (f) => {
      try {
        const first = await f.open();
        const applied = await first.appliedMigrations();
        assert.deepEqual(applied, ['0001_control_plane', '0002_run_results', '0003_run_leads']);
        await first.close();
        await first.close(); // closing twice is safe
        const again = await f.open();
        assert.deepEqual(await again.appliedMigrations(), applied);
        await again.close();
      } finally {
        await f.dispose();
      }
    });

    test('keeps every kind of data across a reopen', async (f) => {
      try {
        const first = await f.open();
        const s = await seedOrg(first);
        const run = await advance(first, await newRun(first, s), RunStatuses.Running);
        await first.insertMetricBatch({ runId: run.id, agentId: 'a1' as AgentId, sequence: 0, payload: new Uint8Array([5]), receivedAt: iso() });
        await first.upsertAgent({ id: 'a1' as AgentId, zone: 'local', capacity: 100, at: iso() });
        const token = await first.createToken({ orgId: s.orgId, name: 't', role: 'member', hash: 'h'.repeat(64) });
        const snapshot = {
          run: await first.getRun(s.orgId, run.id), history: await first.getStatusHistory(s.orgId, run.id),
          test: await first.getTest(s.orgId, s.testId), archive: await first.getArchive(s.orgId, s.archiveId),
          batches: await first.listMetricBatches(run.id), agents: await first.listAgents(),
        };
        await first.close();
        const second = await f.open();
        assert.deepEqual({
          run: await second.getRun(s.orgId, run.id), history: await second.getStatusHistory(s.orgId, run.id),
          test: await second.getTest(s.orgId, s.testId), archive: await second.getArchive(s.orgId, s.archiveId),
          batches: await second.listMetricBatches(run.id), agents: await second.listAgents(),
        }, snapshot);
        assert.equal((await second.findTokenByHash('h'.repeat(64)))?.id, token.id);
        assert.deepEqual((await second.listActiveRuns()).map((r) => r.id), [run.id]);
        await second.close();
      } finally {
        await f.dispose();
      }
    });

    test('lists runs newest first with status, test and time filters and a cursor', (f) => withStore(f, async (store) => {
      const s = await seedOrg(store);
      const other = await store.createTest(s.orgId, { projectId: s.projectId, name: 'other' });
      const otherArchive = await store.putArchive(s.orgId, other.id, new Uint8Array([4]));
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await newRun(store, s, i * 1000)).id);
      await advance(store, (await store.getRun(s.orgId, ids[1] as RunId)) ?? assert.fail(), RunStatuses.Running);
      const o = await newRun(store, { ...s, testId: other.id, archiveId: otherArchive.id }, 10_000);

      const page1 = await store.listRuns(s.orgId, query({ limit: '2' }));
      assert.deepEqual(page1.runs.map((r) => r.id), [o.id, ids[4]]);
      assert.equal(page1.nextBefore, ids[4]);
      const page2 = await store.listRuns(s.orgId, query({ limit: '2', before: page1.nextBefore ?? '' }));
      assert.deepEqual(page2.runs.map((r) => r.id), [ids[3], ids[2]]);
      const last = await store.listRuns(s.orgId, query({ limit: '10', before: ids[1] ?? '' }));
      assert.deepEqual(last, { runs: [await store.getRun(s.orgId, ids[0] as RunId)], nextBefore: null });

      assert.deepEqual((await store.listRuns(s.orgId, query({ status: '2' }))).runs.map((r) => r.id), [ids[1]]);
      assert.deepEqual((await store.listRuns(s.orgId, query({ status: '-2,2' }))).runs.length, 6);
      assert.deepEqual((await store.listRuns(s.orgId, query({ testId: other.id }))).runs.map((r) => r.id), [o.id]);
      assert.deepEqual((await store.listRuns(s.orgId, query({ createdAfter: iso(2500), createdBefore: iso(5000) }))).runs.map((r) => r.id), [ids[4], ids[3]]);
      assert.deepEqual((await store.listRuns(s.orgId, query({ projectId: s.projectId }))).runs.length, 6);
      // Status always travels as {code, name}.
      assert.deepEqual(page1.runs[0]?.status, { code: -2, name: 'Created' });
    }));

    test('sums usage per organization, month and project', (f) => withStore(f, async (store) => {
      const s = await seedOrg(store);
      await store.updateOrganizationLimits(s.orgId, { monthlyVuHourCap: 100 });
      const p2 = await store.createProject(s.orgId, { name: 'second' });
      const t2 = await store.createTest(s.orgId, { projectId: p2.id, name: 't2' });
      const a2 = await store.putArchive(s.orgId, t2.id, new Uint8Array([1]));
      const r1 = await newRun(store, s);
      const r2 = await newRun(store, s);
      const r3 = await newRun(store, { ...s, projectId: p2.id, testId: t2.id, archiveId: a2.id });
      const r4 = await newRun(store, s);
      await store.recordUsage({ runId: r1.id, projectId: s.projectId, month: '2026-11', vuHours: 1.5 });
      await store.recordUsage({ runId: r2.id, projectId: s.projectId, month: '2026-11', vuHours: 1 });
      await store.recordUsage({ runId: r2.id, projectId: s.projectId, month: '2026-11', vuHours: 2 }); // replaces
      await store.recordUsage({ runId: r3.id, projectId: p2.id, month: '2026-11', vuHours: 4 });
      await store.recordUsage({ runId: r4.id, projectId: s.projectId, month: '2026-10', vuHours: 8 });
      assert.deepEqual(await store.getUsage(s.orgId, '2026-11'), {
        orgId: s.orgId, month: '2026-11', vuHours: 7.5, runs: 3, cap: 100,
        projects: [{ projectId: s.projectId, vuHours: 3.5, runs: 2 }, { projectId: p2.id, vuHours: 4, runs: 1 }],
      });
      assert.equal((await store.getUsage(s.orgId, '2026-11', { projectId: p2.id })).vuHours, 4);
      assert.equal((await store.getUsage(s.orgId, '2026-10')).vuHours, 8);
    }));

    test('keeps organization limits as overrides of the defaults', (f) => withStore(f, async (store) => {
      const org = await store.createOrganization({ name: 'x', limits: { maxVus: 100 } });
      assert.equal(org.limits.maxVus, 100);
      assert.equal(org.limits.maxDurationSeconds, 3600);
      assert.equal(org.limits.maxGroups, 40);
      assert.equal(org.limits.maxMetricSeries, 10_000);
      const updated = await store.updateOrganizationLimits(org.id, { maxGroups: 5 });
      assert.deepEqual({ vus: updated?.limits.maxVus, groups: updated?.limits.maxGroups }, { vus: 100, groups: 5 });
      assert.equal(await store.updateOrganizationLimits('424242' as OrgId, { maxGroups: 5 }), undefined);
      assert.deepEqual((await store.listOrganizations()).map((o) => o.id), [org.id]);
      await assert.rejects(store.createProject('424242' as OrgId, { name: 'p' }), { code: 'not_found' });
    }));

    test('replaces a threshold\'s earlier outcome with its later evaluation', (f) => withStore(f, async (store) => {
      const s = await seedOrg(store);
      const run = await newRun(store, s);
      const t = { metric: 'http_req_duration{name:login}', expression: 'p(95)<500', passed: true, abortOnFail: true, evaluatedAt: iso() };
      await store.putThresholdResults(run.id, [t, { ...t, metric: 'checks', expression: 'rate>0.9', abortOnFail: false }]);
      await store.putThresholdResults(run.id, [{ ...t, passed: false, evaluatedAt: iso(1000) }]);
      assert.deepEqual(await store.listThresholdResults(s.orgId, run.id), [
        { metric: 'checks', expression: 'rate>0.9', passed: true, abortOnFail: false, evaluatedAt: iso() },
        { ...t, passed: false, evaluatedAt: iso(1000) },
      ]);
    }));

    test('registers agents with heartbeats and records their shares of runs', (f) => withStore(f, async (store) => {
      const s = await seedOrg(store);
      const a1 = 'agent-1' as AgentId;
      const a2 = 'agent-2' as AgentId;
      await store.upsertAgent({ id: a1, zone: 'local', capacity: 100, at: iso() });
      await store.upsertAgent({ id: a2, zone: 'eu', capacity: 50, at: iso() });
      const again = await store.upsertAgent({ id: a1, zone: 'local', capacity: 200, at: iso(500) });
      assert.equal(again.capacity, 200);
      assert.equal(again.registeredAt, iso(), 'registering again keeps the first registration time');
      assert.equal(await store.recordHeartbeat(a1, { at: iso(1000), cpuPercent: 93.5, memoryUsedBytes: 6_000_000_000, memoryLimitBytes: 8_000_000_000 }), true);
      assert.equal(await store.recordHeartbeat('ghost' as AgentId, { at: iso(), cpuPercent: 1, memoryUsedBytes: 1, memoryLimitBytes: null }), false);
      assert.deepEqual(await store.getAgent(a1), {
        id: a1, zone: 'local', capacity: 200, registeredAt: iso(), lastHeartbeatAt: iso(1000),
        cpuPercent: 93.5, memoryUsedBytes: 6_000_000_000, memoryLimitBytes: 8_000_000_000,
      });
      assert.deepEqual((await store.listAgents({ zone: 'eu' })).map((a) => a.id), [a2]);

      const run = await advance(store, await newRun(store, s), RunStatuses.Queued);
      await store.assignAgents(run.id, [
        { agentId: a1, zone: 'local', segment: '0:2/3', vus: 7 },
        { agentId: a2, zone: 'eu', segment: '2/3:1', vus: 3 },
      ], iso(2000));
      // A share cannot be given twice; the failed batch leaves nothing half-written.
      await assert.rejects(store.assignAgents(run.id, [{ agentId: a1, zone: 'local', segment: '0:1', vus: 1 }], iso()));
      assert.equal(await store.setAssignmentState(run.id, a1, 'initialized', iso(3000)), true);
      assert.equal(await store.setAssignmentState(run.id, 'ghost' as AgentId, 'initialized', iso(3000)), false);
      const shares = await store.listAssignments(run.id);
      assert.deepEqual(shares.map((x) => [x.agentId, x.segment, x.vus, x.state]), [[a1, '0:2/3', 7, 'initialized'], [a2, '2/3:1', 3, 'assigned']]);
      assert.equal((await store.listAgentAssignments(a1, { activeOnly: true })).length, 1);
      const abort = transition(run.status, RunStatuses.AbortedByUser, 'user_abort', '', new Date(T0));
      assert.ok((await store.transitionRun(run.id, run.status, abort)).ok);
      assert.equal((await store.listAgentAssignments(a1, { activeOnly: true })).length, 0);
      assert.equal((await store.listAgentAssignments(a1)).length, 1);
    }));

    test('moves a share only forward, keeping the group tree of its done', (f) => withStore(f, async (store) => {
      const s = await seedOrg(store);
      const a1 = 'agent-1' as AgentId;
      await store.upsertAgent({ id: a1, zone: 'local', capacity: 100, at: iso() });
      const run = await advance(store, await newRun(store, s), RunStatuses.Queued);
      await store.assignAgents(run.id, [{ agentId: a1, zone: 'local', segment: '0:1', vus: 2 }], iso());
      assert.equal(await store.setAssignmentState(run.id, a1, 'running', iso(1000)), true);
      // A replica recording a late `initialized` must not undo the leader's `running`.
      assert.equal(await store.setAssignmentState(run.id, a1, 'initialized', iso(2000)), false);
      assert.equal(await store.setAssignmentState(run.id, a1, 'running', iso(2000)), false);
      assert.equal((await store.listAssignments(run.id))[0]?.state, 'running');
      assert.equal(await store.setAssignmentState(run.id, a1, 'done', iso(3000), { groupsJSON: '{"name":""}' }), true);
      const [share] = await store.listAssignments(run.id);
      assert.deepEqual([share?.state, share?.groupsJSON, share?.updatedAt], ['done', '{"name":""}', iso(3000)]);
    }));

    test('gives the lead of a run to one replica at a time, for its lease', (f) => withStore(f, async (store) => {
      const s = await seedOrg(store);
      const run = await newRun(store, s);
      assert.equal(await store.getRunLead(run.id), undefined);
      assert.equal(await store.leadRun(run.id, 'a', { now: iso(0), until: iso(10_000) }), true);
      assert.equal(await store.leadRun(run.id, 'b', { now: iso(5_000), until: iso(15_000) }), false, 'the lease of a still holds');
      assert.equal(await store.leadRun(run.id, 'a', { now: iso(6_000), until: iso(16_000) }), true, 'a renews');
      assert.equal(await store.leadRun(run.id, 'b', { now: iso(15_000), until: iso(25_000) }), false, 'renewed until 16s');
      assert.equal(await store.leadRun(run.id, 'b', { now: iso(16_001), until: iso(26_001) }), true, 'a lapsed lease is taken');
      assert.equal(await store.leadRun(run.id, 'a', { now: iso(17_000), until: iso(27_000) }), false, 'a lost it');
      assert.equal(await store.releaseRunLead(run.id, 'a'), false);
      assert.equal(await store.releaseRunLead(run.id, 'b'), true);
      assert.equal(await store.leadRun(run.id, 'a', { now: iso(18_000), until: iso(28_000) }), true, 'a lead given up is free at once');
      // Two replicas racing for a free lead: exactly one wins.
      const other = await newRun(store, s);
      const wins = await Promise.all(['x', 'y', 'z'].map((who) => store.leadRun(other.id, who, { now: iso(0), until: iso(10_000) })));
      assert.equal(wins.filter(Boolean).length, 1);
    }));

    test('records the facts of a live run, whoever leads it', (f) => withStore(f, async (store) => {
      const s = await seedOrg(store);
      const run = await newRun(store, s);
      await store.recordRunFacts(run.id, { setupDoneAt: iso(1000), setupJSON: '{"token":"x"}' });
      let lead = await store.getRunLead(run.id);
      assert.deepEqual([lead?.leaderId, lead?.setupDoneAt, lead?.setupJSON, lead?.startAtMs], ['', iso(1000), '{"token":"x"}', null]);
      assert.equal(await store.leadRun(run.id, 'a', { now: iso(2000), until: iso(3000) }), true, 'facts recorded before any lead leave it free');
      await store.recordRunFacts(run.id, { startAtMs: 1_700_000_000_123 });
      await store.recordRunFacts(run.id, { teardownDoneAt: iso(4000), teardownGroupsJSON: '{}', endReason: 'script_abort', endMessage: 'm' });
      await store.recordRunFacts(run.id, {});
      lead = await store.getRunLead(run.id);
      assert.deepEqual(lead, {
        runId: run.id, leaderId: 'a', leaseUntil: iso(3000), setupDoneAt: iso(1000), setupJSON: '{"token":"x"}', startAtMs: 1_700_000_000_123,
        teardownDoneAt: iso(4000), teardownGroupsJSON: '{}', endReason: 'script_abort', endMessage: 'm',
      });
    }));

    test('keeps one point per (run, metric, second), replacing it when the second is written again', (f) => withStore(f, async (store) => {
      const s = await seedOrg(store);
      const run = await newRun(store, s);
      const other = await newRun(store, s);
      const t = T0 + 3_600_000 * 24 * 365; // epoch ms far beyond 2^31
      await store.putMetricPoints(run.id, [
        { metric: 'http_reqs', t, values: { count: 3, rate: 3 } },
        { metric: 'http_reqs', t: t + 1000, values: { count: 5, rate: 5 } },
        { metric: 'http_req_duration{status:200}', t, values: { avg: 12.5, 'p(95)': 20 } },
      ]);
      await store.putMetricPoints(run.id, [{ metric: 'http_reqs', t, values: { count: 7, rate: 7 } }]);
      await store.putMetricPoints(other.id, [{ metric: 'http_reqs', t, values: { count: 1, rate: 1 } }]);
      await store.putMetricPoints(run.id, []);
      assert.deepEqual(await store.listMetricPoints(run.id, 'http_reqs'), [
        { metric: 'http_reqs', t, values: { count: 7, rate: 7 } },
        { metric: 'http_reqs', t: t + 1000, values: { count: 5, rate: 5 } },
      ]);
      assert.deepEqual((await store.listMetricPoints(run.id, 'http_reqs', { fromMs: t + 1, toMs: t + 1000 })).map((p) => p.t), [t + 1000]);
      assert.deepEqual((await store.listMetricPoints(run.id, 'http_req_duration{status:200}'))[0]?.values, { avg: 12.5, 'p(95)': 20 });
      assert.deepEqual(await store.listMetricPoints(run.id, 'nope'), []);
      // Many points at once (more than one statement's worth of parameters).
      await store.putMetricPoints(other.id, Array.from({ length: 450 }, (_, i) => ({ metric: 'vus', t: t + i * 1000, values: { value: i } })));
      assert.equal((await store.listMetricPoints(other.id, 'vus')).length, 450);
    }));

    test('stores a run\'s summary and warnings, the warnings only for its own organization', (f) => withStore(f, async (store) => {
      const a = await seedOrg(store, 'a');
      const b = await seedOrg(store, 'b');
      const run = await newRun(store, a);
      assert.equal(await store.getRunSummary(run.id), undefined);
      await store.putRunSummary(run.id, { metrics: { iterations: { type: 'counter', values: { count: 1 } } } }, iso());
      await store.putRunSummary(run.id, { metrics: {}, root_group: { name: '' } }, iso(1000));
      assert.deepEqual(await store.getRunSummary(run.id), { metrics: {}, root_group: { name: '' } });
      await store.addRunWarning(run.id, { code: 'agent_high_cpu', message: 'first', at: iso() });
      await store.addRunWarning(run.id, { code: 'agent_high_memory', message: 'second', at: iso(1000) });
      assert.deepEqual((await store.listRunWarnings(a.orgId, run.id))?.map((w) => `${w.code}:${w.message}`), ['agent_high_cpu:first', 'agent_high_memory:second']);
      assert.equal(await store.listRunWarnings(b.orgId, run.id), undefined);
    }));

    test('keeps test names unique within a project and finds a test by name', (f) => withStore(f, async (store) => {
      const s = await seedOrg(store);
      await assert.rejects(store.createTest(s.orgId, { projectId: s.projectId, name: 'checkout' }));
      assert.equal((await store.findTestByName(s.orgId, s.projectId, 'checkout'))?.id, s.testId);
      const p2 = await store.createProject(s.orgId, { name: 'p2' });
      const same = await store.createTest(s.orgId, { projectId: p2.id, name: 'checkout' });
      assert.equal(same.latestArchive, null);
      assert.deepEqual((await store.listTests(s.orgId, { projectId: p2.id })).map((t) => t.id), [same.id]);
    }));
  });
}
