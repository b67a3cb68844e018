import { createHash } from 'node:crypto';
import { type Kysely, type Transaction, sql } from 'kysely';
import { HerdError } from '../../errors/index.js';
import {
  type AgentId, type ApiToken, type ArchiveId, type ArchiveInfo, isFinal, type LoadTest, type Organization, type OrgId,
  type OrgLimits, type Project, type ProjectId, type RunId, type RunListQuery, type RunResult, type RunStatus, runStatuses,
  RunStatuses, type RunUsage, type StatusChange, type TestId, type ThresholdResult, type TokenId, type TokenRole, type Usage,
  type UsageMonth,
} from '../../protocol/index.js';
import { appliedMigrations } from './migrations.js';
import {
  ASSIGNMENT_STATES, statusOf, toAgent, toAssignment, toId, toLoadTest, toNumber, toOrganization, toProject, toStatusChange, toStoredRun, toStoredToken,
  toRunLead, toThresholdResult, toToken,
} from './row-mapping.js';
import type { Database, SqlDialect } from './schema.js';
import type {
  AgentRecord, AssignmentState, Heartbeat, MetricBatch, NewRun, RunAssignment, RunFacts, RunLead, RunWarning, Store, StoredArchive, StoredMetricPoint,
  StoredRun, StoredRunPage, StoredToken, TransitionOutcome,
} from './store.js';

/** How a dialect-specific opener hands a ready database to the shared store. */
export interface KyselyStoreOptions {
  readonly dialect: SqlDialect;
  /** PostgreSQL schema the tables live in (for the migration table lookup); undefined on SQLite. */
  readonly schema?: string;
  /** The clock for bookkeeping times (created_at of rows, claim leases); tests inject one. */
  readonly now?: () => Date;
}

const DEFAULT_CLAIM_LEASE_MS = 30_000;
// Codes for SQL only: logic elsewhere works on the status union.
const ACTIVE_CODES = runStatuses.filter((s) => !isFinal(s)).map((s) => s.code);

/**
 * The one query code path of both stores: every method is written once against Kysely, and the
 * dialect shows up only where SQL itself differs (row locks in `claimQueuedRun`).
 */
export class KyselyStore implements Store {
  readonly dialect: SqlDialect;
  readonly #db: Kysely<Database>;
  readonly #schema: string | undefined;
  readonly #now: () => Date;
  #closed: Promise<void> | undefined;

  constructor(db: Kysely<Database>, options: KyselyStoreOptions) {
    this.#db = db;
    this.dialect = options.dialect;
    this.#schema = options.schema;
    this.#now = options.now ?? (() => new Date());
  }

  /** The Kysely instance, for tests that must reach under the interface (e.g. to try to edit history). */
  get kysely(): Kysely<Database> {
    return this.#db;
  }

  #nowIso(): string {
    return this.#now().toISOString();
  }

  // ---- organizations ----

  async createOrganization(input: { name: string; limits?: Partial<OrgLimits> }): Promise<Organization> {
    const row = await this.#db.insertInto('organizations')
      .values({ name: input.name, created_at: this.#nowIso(), limits_json: JSON.stringify(input.limits ?? {}) })
      .returningAll().executeTakeFirstOrThrow();
    return toOrganization(row);
  }

  async getOrganization(id: OrgId): Promise<Organization | undefined> {
    const row = await this.#db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toOrganization(row);
  }

  async listOrganizations(): Promise<Organization[]> {
    const rows = await this.#db.selectFrom('organizations').selectAll().orderBy('id').execute();
    return rows.map(toOrganization);
  }

  async updateOrganizationLimits(id: OrgId, limits: Partial<OrgLimits>): Promise<Organization | undefined> {
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('organizations').select('limits_json').where('id', '=', id).executeTakeFirst();
      if (row === undefined) return undefined;
      // Only overrides are stored, so an organization that never set a limit follows the defaults.
      const merged = { ...(JSON.parse(row.limits_json) as Record<string, unknown>), ...limits };
      const updated = await trx.updateTable('organizations').set({ limits_json: JSON.stringify(merged) })
        .where('id', '=', id).returningAll().executeTakeFirstOrThrow();
      return toOrganization(updated);
    });
  }

  // ---- projects ----

  async createProject(orgId: OrgId, input: { name: string }): Promise<Project> {
    return this.#db.transaction().execute(async (trx) => {
      await this.#requireOrg(trx, orgId);
      const row = await trx.insertInto('projects')
        .values({ org_id: orgId, name: input.name, created_at: this.#nowIso() })
        .returningAll().executeTakeFirstOrThrow();
      return toProject(row);
    });
  }

  async getProject(orgId: OrgId, id: ProjectId): Promise<Project | undefined> {
    const row = await this.#db.selectFrom('projects').selectAll().where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst();
    return row === undefined ? undefined : toProject(row);
  }

  async listProjects(orgId: OrgId): Promise<Project[]> {
    const rows = await this.#db.selectFrom('projects').selectAll().where('org_id', '=', orgId).orderBy('id').execute();
    return rows.map(toProject);
  }

  // ---- tokens ----

  async createToken(input: { orgId: OrgId; name: string; role: TokenRole; hash: string }): Promise<ApiToken> {
    return this.#db.transaction().execute(async (trx) => {
      await this.#requireOrg(trx, input.orgId);
      const row = await trx.insertInto('api_tokens')
        .values({ org_id: input.orgId, name: input.name, role: input.role, token_hash: input.hash, created_at: this.#nowIso(), revoked_at: null })
        .returningAll().executeTakeFirstOrThrow();
      return toToken(row);
    });
  }

  async findTokenByHash(hash: string): Promise<StoredToken | undefined> {
    const row = await this.#db.selectFrom('api_tokens').selectAll()
      .where('token_hash', '=', hash).where('revoked_at', 'is', null).executeTakeFirst();
    return row === undefined ? undefined : toStoredToken(row);
  }

  async listTokens(orgId: OrgId): Promise<ApiToken[]> {
    const rows = await this.#db.selectFrom('api_tokens').selectAll().where('org_id', '=', orgId).orderBy('id').execute();
    return rows.map(toToken);
  }

  async revokeToken(orgId: OrgId, id: TokenId, at: string): Promise<boolean> {
    const r = await this.#db.updateTable('api_tokens').set({ revoked_at: at })
      .where('id', '=', id).where('org_id', '=', orgId).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  // ---- tests and archives ----

  #selectTests(db: Kysely<Database> | Transaction<Database>) {
    // A test's latest archive is its newest archive row: no pointer to keep in step.
    return db.selectFrom('tests')
      .leftJoin('archives', (join) => join.on((eb) => eb.and([
        eb('archives.test_id', '=', eb.ref('tests.id')),
        eb('archives.id', '=', eb.selectFrom('archives as a2').select((e) => e.fn.max('a2.id').as('max_id')).whereRef('a2.test_id', '=', 'tests.id')),
      ])))
      .selectAll('tests')
      .select([
        'archives.id as archive_id', 'archives.size_bytes as archive_size_bytes',
        'archives.sha256 as archive_sha256', 'archives.created_at as archive_created_at',
      ]);
  }

  async createTest(orgId: OrgId, input: { projectId: ProjectId; name: string }): Promise<LoadTest> {
    return this.#db.transaction().execute(async (trx) => {
      const project = await trx.selectFrom('projects').select('id').where('id', '=', input.projectId).where('org_id', '=', orgId).executeTakeFirst();
      if (project === undefined) throw notFound(`project ${input.projectId}`);
      const now = this.#nowIso();
      const row = await trx.insertInto('tests')
        .values({ org_id: orgId, project_id: input.projectId, name: input.name, created_at: now, updated_at: now })
        .returning('id').executeTakeFirstOrThrow();
      return toLoadTest(await this.#selectTests(trx).where('tests.id', '=', String(row.id)).executeTakeFirstOrThrow());
    });
  }

  async getTest(orgId: OrgId, id: TestId): Promise<LoadTest | undefined> {
    const row = await this.#selectTests(this.#db).where('tests.id', '=', id).where('tests.org_id', '=', orgId).executeTakeFirst();
    return row === undefined ? undefined : toLoadTest(row);
  }

  async findTestByName(orgId: OrgId, projectId: ProjectId, name: string): Promise<LoadTest | undefined> {
    const row = await this.#selectTests(this.#db)
      .where('tests.org_id', '=', orgId).where('tests.project_id', '=', projectId).where('tests.name', '=', name).executeTakeFirst();
    return row === undefined ? undefined : toLoadTest(row);
  }

  async listTests(orgId: OrgId, filter: { projectId?: ProjectId } = {}): Promise<LoadTest[]> {
    let q = this.#selectTests(this.#db).where('tests.org_id', '=', orgId);
    if (filter.projectId !== undefined) q = q.where('tests.project_id', '=', filter.projectId);
    return (await q.orderBy('tests.id').execute()).map(toLoadTest);
  }

  async putArchive(orgId: OrgId, testId: TestId, bytes: Uint8Array): Promise<ArchiveInfo> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return this.#db.transaction().execute(async (trx) => {
      const test = await trx.selectFrom('tests').select('id').where('id', '=', testId).where('org_id', '=', orgId).executeTakeFirst();
      if (test === undefined) throw notFound(`test ${testId}`);
      const now = this.#nowIso();
      const row = await trx.insertInto('archives')
        .values({ org_id: orgId, test_id: testId, size_bytes: bytes.byteLength, sha256, bytes: asBuffer(bytes), created_at: now })
        .returning(['id', 'size_bytes', 'sha256', 'created_at']).executeTakeFirstOrThrow();
      await trx.updateTable('tests').set({ updated_at: now }).where('id', '=', testId).execute();
      return { id: toId<ArchiveId>(row.id), sizeBytes: toNumber(row.size_bytes), sha256: row.sha256, createdAt: row.created_at };
    });
  }

  async getArchive(orgId: OrgId, id: ArchiveId): Promise<StoredArchive | undefined> {
    const row = await this.#db.selectFrom('archives').selectAll().where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst();
    if (row === undefined) return undefined;
    return {
      info: { id: toId<ArchiveId>(row.id), sizeBytes: toNumber(row.size_bytes), sha256: row.sha256, createdAt: row.created_at },
      testId: toId<TestId>(row.test_id),
      bytes: new Uint8Array(row.bytes.buffer, row.bytes.byteOffset, row.bytes.byteLength),
    };
  }

  // ---- runs ----

  async createRun(orgId: OrgId, input: NewRun): Promise<StoredRun> {
    if (input.created.status.code !== RunStatuses.Created.code) {
      throw new HerdError('invalid_transition', `a run starts as ${RunStatuses.Created.name}, not ${input.created.status.name}`);
    }
    return this.#db.transaction().execute(async (trx) => {
      const archive = await trx.selectFrom('archives')
        .innerJoin('tests', 'tests.id', 'archives.test_id')
        .select(['tests.project_id as project_id'])
        .where('archives.id', '=', input.archiveId).where('archives.test_id', '=', input.testId).where('archives.org_id', '=', orgId)
        .executeTakeFirst();
      if (archive === undefined) throw notFound(`archive ${input.archiveId} of test ${input.testId}`);
      const c = input.created;
      const row = await trx.insertInto('runs').values({
        org_id: orgId, project_id: String(archive.project_id), test_id: input.testId, archive_id: input.archiveId,
        status_code: c.status.code, result: null, last_reason: c.reason, last_message: c.message, last_change_at: c.at,
        options_json: JSON.stringify(input.options), distribution_json: JSON.stringify(input.distribution),
        vus: input.vus, duration_seconds: input.durationSeconds, created_at: c.at,
        queued_at: null, started_at: null, ended_at: null, claimed_by: null, claimed_at: null,
      }).returningAll().executeTakeFirstOrThrow();
      await appendHistory(trx, String(row.id), c);
      return toStoredRun(row);
    });
  }

  async getRun(orgId: OrgId, id: RunId): Promise<StoredRun | undefined> {
    const row = await this.#db.selectFrom('runs').selectAll().where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst();
    return row === undefined ? undefined : toStoredRun(row);
  }

  async getRunForSystem(id: RunId): Promise<StoredRun | undefined> {
    const row = await this.#db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toStoredRun(row);
  }

  async listRuns(orgId: OrgId, query: RunListQuery): Promise<StoredRunPage> {
    let q = this.#db.selectFrom('runs').selectAll().where('org_id', '=', orgId);
    if (query.projectId !== undefined) q = q.where('project_id', '=', query.projectId);
    if (query.testId !== undefined) q = q.where('test_id', '=', query.testId);
    if (query.status !== undefined) q = query.status.length === 0 ? q.where(sql<boolean>`1 = 0`) : q.where('status_code', 'in', query.status);
    if (query.createdAfter !== undefined) q = q.where('created_at', '>', query.createdAfter);
    if (query.createdBefore !== undefined) q = q.where('created_at', '<', query.createdBefore);
    if (query.before !== undefined) q = q.where('id', '<', query.before);
    // One row more than the page tells whether there is a next page.
    const rows = await q.orderBy('id', 'desc').limit(query.limit + 1).execute();
    const runs = rows.slice(0, query.limit).map(toStoredRun);
    const last = runs.at(-1);
    return { runs, nextBefore: rows.length > query.limit && last !== undefined ? last.id : null };
  }

  async listActiveRuns(): Promise<StoredRun[]> {
    const rows = await this.#db.selectFrom('runs').selectAll().where('status_code', 'in', ACTIVE_CODES).orderBy('id').execute();
    return rows.map(toStoredRun);
  }

  async transitionRun(id: RunId, expected: RunStatus, change: StatusChange, opts: { result?: RunResult } = {}): Promise<TransitionOutcome> {
    return this.#db.transaction().execute(async (trx): Promise<TransitionOutcome> => {
      const to = change.status;
      // The compare-and-set: the WHERE on the current status makes a second writer (another
      // replica, or a stale decision in this one) update nothing. On PostgreSQL the second
      // UPDATE waits for the first's row lock, then re-reads the row and no longer matches; on
      // SQLite writers are serialized by the database lock.
      const updated = await trx.updateTable('runs')
        .set({
          status_code: to.code, last_reason: change.reason, last_message: change.message, last_change_at: change.at,
          // A run that leaves Queued leaves its scheduler's hold too.
          claimed_by: null, claimed_at: null,
          ...(to.code === RunStatuses.Queued.code ? { queued_at: change.at } : {}),
          ...(to.code === RunStatuses.Running.code ? { started_at: change.at } : {}),
          ...(isFinal(to) ? { ended_at: change.at } : {}),
          ...(opts.result !== undefined ? { result: opts.result } : {}),
        })
        .where('id', '=', id).where('status_code', '=', expected.code)
        .returningAll().executeTakeFirst();
      if (updated === undefined) {
        const row = await trx.selectFrom('runs').select('status_code').where('id', '=', id).executeTakeFirst();
        if (row === undefined) throw notFound(`run ${id}`);
        return { ok: false, current: statusOf(row.status_code) };
      }
      await appendHistory(trx, id, change);
      return { ok: true, run: toStoredRun(updated) };
    });
  }

  async getStatusHistory(orgId: OrgId, runId: RunId): Promise<StatusChange[] | undefined> {
    if (!(await this.#runInOrg(orgId, runId))) return undefined;
    const rows = await this.#db.selectFrom('run_status_history').selectAll().where('run_id', '=', runId).orderBy('id').execute();
    return rows.map(toStatusChange);
  }

  async claimQueuedRun(schedulerId: string, opts: { leaseMs?: number } = {}): Promise<StoredRun | undefined> {
    const now = this.#now();
    const staleBefore = new Date(now.getTime() - (opts.leaseMs ?? DEFAULT_CLAIM_LEASE_MS)).toISOString();
    return this.#db.transaction().execute(async (trx) => {
      const pick = trx.selectFrom('runs').select('id')
        .where('status_code', '=', RunStatuses.Queued.code)
        .where((eb) => eb.or([eb('claimed_by', 'is', null), eb('claimed_at', '<', staleBefore)]))
        .orderBy('queued_at').orderBy('id').limit(1)
        // PostgreSQL: lock the row we take and skip rows other schedulers have locked, so
        // concurrent claimers each get a different run without waiting on each other. SQLite
        // needs no row lock: the store's transactions begin IMMEDIATE, a single writer at a time.
        .$if(this.dialect === 'postgres', (q) => q.forUpdate().skipLocked());
      const picked = await pick.executeTakeFirst();
      if (picked === undefined) return undefined;
      const row = await trx.updateTable('runs').set({ claimed_by: schedulerId, claimed_at: now.toISOString() })
        .where('id', '=', String(picked.id)).returningAll().executeTakeFirstOrThrow();
      return toStoredRun(row);
    });
  }

  async releaseClaim(runId: RunId, schedulerId: string): Promise<boolean> {
    const r = await this.#db.updateTable('runs').set({ claimed_by: null, claimed_at: null })
      .where('id', '=', runId).where('claimed_by', '=', schedulerId).where('status_code', '=', RunStatuses.Queued.code)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  // ---- metrics and thresholds ----

  async insertMetricBatch(batch: MetricBatch): Promise<{ inserted: boolean }> {
    // ON CONFLICT DO NOTHING on the (run, agent, sequence) key: a batch re-sent after a reconnect
    // changes nothing, and the row count says whether this call stored it.
    const r = await this.#db.insertInto('metric_batches')
      .values({
        run_id: batch.runId, agent_id: batch.agentId, sequence: batch.sequence,
        payload: asBuffer(batch.payload), received_at: batch.receivedAt,
      })
      .onConflict((oc) => oc.columns(['run_id', 'agent_id', 'sequence']).doNothing())
      .executeTakeFirst();
    return { inserted: Number(r.numInsertedOrUpdatedRows ?? 0n) === 1 };
  }

  async listMetricBatches(runId: RunId): Promise<MetricBatch[]> {
    const rows = await this.#db.selectFrom('metric_batches').selectAll().where('run_id', '=', runId)
      .orderBy('agent_id').orderBy('sequence').execute();
    return rows.map((r) => ({
      runId: toId<RunId>(r.run_id), agentId: r.agent_id as AgentId, sequence: toNumber(r.sequence),
      payload: new Uint8Array(r.payload.buffer, r.payload.byteOffset, r.payload.byteLength), receivedAt: r.received_at,
    }));
  }

  async putThresholdResults(runId: RunId, results: readonly ThresholdResult[]): Promise<void> {
    if (results.length === 0) return;
    await this.#db.insertInto('threshold_results')
      .values(results.map((t) => ({
        run_id: runId, metric: t.metric, expression: t.expression, passed: t.passed ? 1 : 0,
        abort_on_fail: t.abortOnFail ? 1 : 0, evaluated_at: t.evaluatedAt,
      })))
      .onConflict((oc) => oc.columns(['run_id', 'metric', 'expression']).doUpdateSet((eb) => ({
        passed: eb.ref('excluded.passed'), abort_on_fail: eb.ref('excluded.abort_on_fail'), evaluated_at: eb.ref('excluded.evaluated_at'),
      })))
      .execute();
  }

  async listThresholdResults(orgId: OrgId, runId: RunId): Promise<ThresholdResult[] | undefined> {
    if (!(await this.#runInOrg(orgId, runId))) return undefined;
    const rows = await this.#db.selectFrom('threshold_results').selectAll().where('run_id', '=', runId)
      .orderBy('metric').orderBy('expression').execute();
    return rows.map(toThresholdResult);
  }

  // ---- usage ----

  async recordUsage(usage: RunUsage): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      const run = await trx.selectFrom('runs').select(['org_id', 'project_id']).where('id', '=', usage.runId).executeTakeFirst();
      if (run === undefined) throw notFound(`run ${usage.runId}`);
      await trx.insertInto('run_usage')
        .values({
          run_id: usage.runId, org_id: String(run.org_id), project_id: String(run.project_id),
          month: usage.month, vu_hours: usage.vuHours, recorded_at: this.#nowIso(),
        })
        .onConflict((oc) => oc.column('run_id').doUpdateSet((eb) => ({
          month: eb.ref('excluded.month'), vu_hours: eb.ref('excluded.vu_hours'), recorded_at: eb.ref('excluded.recorded_at'),
        })))
        .execute();
    });
  }

  async getUsage(orgId: OrgId, month: UsageMonth, filter: { projectId?: ProjectId } = {}): Promise<Usage> {
    const org = await this.getOrganization(orgId);
    if (org === undefined) throw notFound(`organization ${orgId}`);
    let q = this.#db.selectFrom('run_usage')
      .select((eb) => ['project_id', eb.fn.sum<number | string>('vu_hours').as('vu_hours'), eb.fn.countAll<number | string>().as('runs')])
      .where('org_id', '=', orgId).where('month', '=', month);
    if (filter.projectId !== undefined) q = q.where('project_id', '=', filter.projectId);
    const rows = await q.groupBy('project_id').orderBy('project_id').execute();
    const projects = rows.map((r) => ({ projectId: toId<ProjectId>(r.project_id), vuHours: toNumber(r.vu_hours), runs: toNumber(r.runs) }));
    return {
      orgId, month, cap: org.limits.monthlyVuHourCap, projects,
      vuHours: projects.reduce((s, p) => s + p.vuHours, 0),
      runs: projects.reduce((s, p) => s + p.runs, 0),
    };
  }

  // ---- agents ----

  async upsertAgent(input: { id: AgentId; zone: string; capacity: number; at: string }): Promise<AgentRecord> {
    const row = await this.#db.insertInto('agents')
      .values({
        id: input.id, zone: input.zone, capacity: input.capacity, registered_at: input.at,
        last_heartbeat_at: input.at, cpu_percent: null, memory_used_bytes: null, memory_limit_bytes: null,
      })
      .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({
        zone: eb.ref('excluded.zone'), capacity: eb.ref('excluded.capacity'), last_heartbeat_at: eb.ref('excluded.last_heartbeat_at'),
      })))
      .returningAll().executeTakeFirstOrThrow();
    return toAgent(row);
  }

  async recordHeartbeat(id: AgentId, hb: Heartbeat): Promise<boolean> {
    const r = await this.#db.updateTable('agents')
      .set({ last_heartbeat_at: hb.at, cpu_percent: hb.cpuPercent, memory_used_bytes: hb.memoryUsedBytes, memory_limit_bytes: hb.memoryLimitBytes })
      .where('id', '=', id).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async getAgent(id: AgentId): Promise<AgentRecord | undefined> {
    const row = await this.#db.selectFrom('agents').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toAgent(row);
  }

  async listAgents(filter: { zone?: string } = {}): Promise<AgentRecord[]> {
    let q = this.#db.selectFrom('agents').selectAll();
    if (filter.zone !== undefined) q = q.where('zone', '=', filter.zone);
    return (await q.orderBy('zone').orderBy('id').execute()).map(toAgent);
  }

  // ---- assignments ----

  async assignAgents(
    runId: RunId, shares: ReadonlyArray<{ agentId: AgentId; zone: string; segment: string; vus: number }>, at: string,
  ): Promise<void> {
    if (shares.length === 0) return;
    // One INSERT of all rows: atomic on both databases, so a run is never half-assigned.
    await this.#db.insertInto('run_agents')
      .values(shares.map((s) => ({
        run_id: runId, agent_id: s.agentId, zone: s.zone, segment: s.segment, vus: s.vus, state: 'assigned', assigned_at: at, updated_at: at,
      })))
      .execute();
  }

  async listAssignments(runId: RunId): Promise<RunAssignment[]> {
    const rows = await this.#db.selectFrom('run_agents').selectAll().where('run_id', '=', runId).orderBy('agent_id').execute();
    return rows.map(toAssignment);
  }

  async listAgentAssignments(agentId: AgentId, opts: { activeOnly?: boolean } = {}): Promise<RunAssignment[]> {
    let q = this.#db.selectFrom('run_agents').innerJoin('runs', 'runs.id', 'run_agents.run_id')
      .selectAll('run_agents').where('run_agents.agent_id', '=', agentId);
    if (opts.activeOnly === true) q = q.where('runs.status_code', 'in', ACTIVE_CODES);
    return (await q.orderBy('run_agents.run_id').execute()).map(toAssignment);
  }

  async setAssignmentState(runId: RunId, agentId: AgentId, state: AssignmentState, at: string, opts: { groupsJSON?: string } = {}): Promise<boolean> {
    // Only forward: replicas record the same agent messages, and a late repeat of `initialized`
    // must not undo the leader's `running`.
    const earlier = ASSIGNMENT_STATES.slice(0, ASSIGNMENT_STATES.indexOf(state));
    if (earlier.length === 0) return false;
    const r = await this.#db.updateTable('run_agents')
      .set({ state, updated_at: at, ...(opts.groupsJSON === undefined ? {} : { groups_json: opts.groupsJSON }) })
      .where('run_id', '=', runId).where('agent_id', '=', agentId).where('state', 'in', earlier).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  // ---- leads of live runs ----

  async leadRun(runId: RunId, leaderId: string, opts: { now: string; until: string }): Promise<boolean> {
    // One statement on both databases: insert the lead, or take it over when it is ours or its
    // lease ended. On a conflict PostgreSQL re-checks the WHERE on the locked row, SQLite runs
    // one writer at a time, so two replicas never both win the same lease.
    await this.#db.insertInto('run_leads')
      .values({ run_id: runId, leader_id: leaderId, lease_until: opts.until })
      .onConflict((oc) => oc.column('run_id').doUpdateSet({ leader_id: leaderId, lease_until: opts.until })
        .where((eb) => eb.or([
          eb('run_leads.leader_id', '=', leaderId), eb('run_leads.leader_id', '=', ''), eb('run_leads.lease_until', '<', opts.now),
        ])))
      .execute();
    const row = await this.#db.selectFrom('run_leads').select(['leader_id', 'lease_until']).where('run_id', '=', runId).executeTakeFirst();
    return row !== undefined && row.leader_id === leaderId && row.lease_until === opts.until;
  }

  async releaseRunLead(runId: RunId, leaderId: string): Promise<boolean> {
    const r = await this.#db.updateTable('run_leads').set({ leader_id: '', lease_until: new Date(0).toISOString() })
      .where('run_id', '=', runId).where('leader_id', '=', leaderId).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async getRunLead(runId: RunId): Promise<RunLead | undefined> {
    const row = await this.#db.selectFrom('run_leads').selectAll().where('run_id', '=', runId).executeTakeFirst();
    return row === undefined ? undefined : toRunLead(row);
  }

  async recordRunFacts(runId: RunId, facts: RunFacts): Promise<void> {
    const set = {
      ...(facts.setupDoneAt === undefined ? {} : { setup_done_at: facts.setupDoneAt }),
      ...(facts.setupJSON === undefined ? {} : { setup_json: facts.setupJSON }),
      ...(facts.startAtMs === undefined ? {} : { start_at_ms: facts.startAtMs }),
      ...(facts.teardownDoneAt === undefined ? {} : { teardown_done_at: facts.teardownDoneAt }),
      ...(facts.teardownGroupsJSON === undefined ? {} : { teardown_groups_json: facts.teardownGroupsJSON }),
      ...(facts.endReason === undefined ? {} : { end_reason: facts.endReason }),
      ...(facts.endMessage === undefined ? {} : { end_message: facts.endMessage }),
    };
    if (Object.keys(set).length === 0) return;
    // A run nobody leads yet gets a row with no leader and a lease long over.
    await this.#db.insertInto('run_leads')
      .values({ run_id: runId, leader_id: '', lease_until: new Date(0).toISOString(), ...set })
      .onConflict((oc) => oc.column('run_id').doUpdateSet(set))
      .execute();
  }

  // ---- per-second points, summaries, warnings ----

  async putMetricPoints(runId: RunId, given: readonly StoredMetricPoint[]): Promise<void> {
    // One statement cannot upsert a row twice (PostgreSQL refuses): the last point of a second wins.
    const points = [...new Map(given.map((p) => [`${p.metric}\n${p.t}`, p])).values()];
    if (points.length === 0) return;
    // Chunks keep each statement under SQLite's bound-parameter limit.
    for (let i = 0; i < points.length; i += 200) {
      const rows = points.slice(i, i + 200).map((p) => ({ run_id: runId, metric: p.metric, t: p.t, values_json: JSON.stringify(p.values) }));
      await this.#db.insertInto('metric_points').values(rows)
        .onConflict((oc) => oc.columns(['run_id', 'metric', 't']).doUpdateSet((eb) => ({ values_json: eb.ref('excluded.values_json') })))
        .execute();
    }
  }

  async listMetricPoints(runId: RunId, metric: string, range: { fromMs?: number; toMs?: number } = {}): Promise<StoredMetricPoint[]> {
    let q = this.#db.selectFrom('metric_points').select(['metric', 't', 'values_json']).where('run_id', '=', runId).where('metric', '=', metric);
    if (range.fromMs !== undefined) q = q.where('t', '>=', range.fromMs);
    if (range.toMs !== undefined) q = q.where('t', '<=', range.toMs);
    const rows = await q.orderBy('t').execute();
    return rows.map((r) => ({ metric: r.metric, t: toNumber(r.t), values: JSON.parse(r.values_json) as Record<string, number> }));
  }

  async putRunSummary(runId: RunId, summary: Readonly<Record<string, unknown>>, at: string): Promise<void> {
    await this.#db.insertInto('run_summaries').values({ run_id: runId, summary_json: JSON.stringify(summary), updated_at: at })
      .onConflict((oc) => oc.column('run_id').doUpdateSet((eb) => ({
        summary_json: eb.ref('excluded.summary_json'), updated_at: eb.ref('excluded.updated_at'),
      })))
      .execute();
  }

  async getRunSummary(runId: RunId): Promise<Record<string, unknown> | undefined> {
    const row = await this.#db.selectFrom('run_summaries').select('summary_json').where('run_id', '=', runId).executeTakeFirst();
    return row === undefined ? undefined : JSON.parse(row.summary_json) as Record<string, unknown>;
  }

  async addRunWarning(runId: RunId, warning: RunWarning): Promise<void> {
    await this.#db.insertInto('run_warnings').values({ run_id: runId, code: warning.code, message: warning.message, at: warning.at }).execute();
  }

  async listRunWarnings(orgId: OrgId, runId: RunId): Promise<RunWarning[] | undefined> {
    if (!(await this.#runInOrg(orgId, runId))) return undefined;
    const rows = await this.#db.selectFrom('run_warnings').select(['code', 'message', 'at']).where('run_id', '=', runId).orderBy('id').execute();
    return rows.map((r) => ({ code: r.code, message: r.message, at: r.at }));
  }

  // ---- lifecycle ----

  async appliedMigrations(): Promise<string[]> {
    return appliedMigrations(this.#db as unknown as Kysely<unknown>, this.#schema);
  }

  close(): Promise<void> {
    this.#closed ??= this.#db.destroy();
    return this.#closed;
  }

  async #requireOrg(trx: Transaction<Database>, orgId: OrgId): Promise<void> {
    const org = await trx.selectFrom('organizations').select('id').where('id', '=', orgId).executeTakeFirst();
    if (org === undefined) throw notFound(`organization ${orgId}`);
  }

  async #runInOrg(orgId: OrgId, runId: RunId): Promise<boolean> {
    const row = await this.#db.selectFrom('runs').select('id').where('id', '=', runId).where('org_id', '=', orgId).executeTakeFirst();
    return row !== undefined;
  }
}

async function appendHistory(trx: Transaction<Database>, runId: string, c: StatusChange): Promise<void> {
  await trx.insertInto('run_status_history')
    .values({ run_id: runId, status_code: c.status.code, reason: c.reason, message: c.message, at: c.at })
    .execute();
}

function notFound(what: string): HerdError {
  return new HerdError('not_found', `${what} does not exist or belongs to another organization`);
}

// Both drivers bind Buffers as BLOB/bytea; a plain Uint8Array is not accepted by better-sqlite3.
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
