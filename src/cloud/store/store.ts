import type {
  AgentId, ApiToken, ArchiveId, ArchiveInfo, Distribution, LoadTest, Organization, OrgId, OrgLimits, Project, ProjectId,
  Run, RunId, RunListQuery, RunResult, RunStatus, RunUsage, StatusChange, TestId, ThresholdResult, TokenId, TokenRole,
  Usage, UsageMonth,
} from '../../protocol/index.js';
import type { SqlDialect } from './schema.js';

/** A run as stored: the API's view plus what only the control plane needs. */
export interface StoredRun extends Run {
  readonly orgId: OrgId;
  /** When it entered Queued; the scheduler takes runs in this order. */
  readonly queuedAt: string | null;
  /** The scheduler that holds it while placing it, and since when. */
  readonly claimedBy: string | null;
  readonly claimedAt: string | null;
}

/** An archive's bytes with what describes them. */
export interface StoredArchive {
  readonly info: ArchiveInfo;
  readonly testId: TestId;
  readonly bytes: Uint8Array;
}

/** A token as stored, with the hash it is looked up by (never the secret). */
export interface StoredToken extends ApiToken {
  readonly hash: string;
}

/** What creating a run needs; it starts Created, with its first history entry. */
export interface NewRun {
  readonly testId: TestId;
  readonly archiveId: ArchiveId;
  readonly options: Record<string, unknown>;
  readonly vus: number;
  readonly durationSeconds: number | null;
  readonly distribution: Distribution;
  /** The Created entry, from the status machine's `createdChange`. */
  readonly created: StatusChange;
}

/** The outcome of a compare-and-set status change. */
export type TransitionOutcome =
  | { readonly ok: true; readonly run: StoredRun }
  /** Another writer moved the run first; `current` is what it is now. */
  | { readonly ok: false; readonly current: RunStatus };

/** A page of stored runs, newest first. */
export interface StoredRunPage {
  readonly runs: StoredRun[];
  readonly nextBefore: RunId | null;
}

/** A batch of metric aggregates from one agent; the payload is opaque to the store. */
export interface MetricBatch {
  readonly runId: RunId;
  readonly agentId: AgentId;
  /** The agent's sequence number for this run, from 0; (run, agent, sequence) is unique. */
  readonly sequence: number;
  readonly payload: Uint8Array;
  readonly receivedAt: string;
}

/** A registered load generator and its last heartbeat (health is decided by the scheduler). */
export interface AgentRecord {
  readonly id: AgentId;
  readonly zone: string;
  readonly capacity: number;
  readonly registeredAt: string;
  readonly lastHeartbeatAt: string | null;
  readonly cpuPercent: number | null;
  readonly memoryUsedBytes: number | null;
  readonly memoryLimitBytes: number | null;
}

/** One heartbeat's readings. */
export interface Heartbeat {
  readonly at: string;
  readonly cpuPercent: number;
  readonly memoryUsedBytes: number;
  readonly memoryLimitBytes: number | null;
}

/** Where an agent is in its share of a run. */
export type AssignmentState = 'assigned' | 'initialized' | 'running' | 'done' | 'failed';

/** An agent's share of a run: its execution segment and VUs. */
export interface RunAssignment {
  readonly runId: RunId;
  readonly agentId: AgentId;
  readonly zone: string;
  /** k6's execution segment, e.g. `0:1/3`. */
  readonly segment: string;
  readonly vus: number;
  readonly state: AssignmentState;
  readonly assignedAt: string;
  readonly updatedAt: string;
  /** The group tree (checks) the generator sent with `done`, as JSON; null before. */
  readonly groupsJSON: string | null;
}

/**
 * Who leads a live run, and what its generators reported that a replica taking the run over
 * needs to go on (the rest is in the assignments and the metric batches).
 */
export interface RunLead {
  readonly runId: RunId;
  /** The replica that leads the run (its scheduler id); '' when none took it yet. */
  readonly leaderId: string;
  /** Until when the lead holds unless renewed (ISO). */
  readonly leaseUntil: string;
  /** When the lifecycle generator reported setup() done, with its data. */
  readonly setupDoneAt: string | null;
  readonly setupJSON: string | null;
  /** The common start time sent to the generators (epoch ms). */
  readonly startAtMs: number | null;
  /** When the lifecycle generator reported teardown() done, with teardown's group tree. */
  readonly teardownDoneAt: string | null;
  readonly teardownGroupsJSON: string | null;
  /** A generator's report that the script ended the run (status reason and message). */
  readonly endReason: string | null;
  readonly endMessage: string | null;
}

/** The facts of a live run's conversation that `recordRunFacts` writes (left out: unchanged). */
export type RunFacts = Partial<Pick<RunLead, 'setupDoneAt' | 'setupJSON' | 'startAtMs' | 'teardownDoneAt' | 'teardownGroupsJSON' | 'endReason' | 'endMessage'>>;

/** One second of a metric (or sub-metric, named as in thresholds: `http_req_duration{status:200}`). */
export interface StoredMetricPoint {
  readonly metric: string;
  /** Epoch ms of the second. */
  readonly t: number;
  /** That second's k6 stats (count/rate, value, avg/p(95)/…), by name. */
  readonly values: Readonly<Record<string, number>>;
}

/** A warning raised on a run (e.g. an overutilized load generator). */
export interface RunWarning {
  /** Stable code, e.g. `agent_high_cpu`. */
  readonly code: string;
  readonly message: string;
  readonly at: string;
}

/**
 * Persistence of the control plane behind one interface (SQLite embedded, PostgreSQL for many
 * replicas); both implementations pass `store.case.test.ts`. Methods that take an `OrgId` see only
 * that organization's rows and answer `undefined` for another's, which the API turns into 404.
 * Methods without one (scheduler, agents) are for the control plane itself, never for a handler
 * acting on a user's request.
 */
export interface Store {
  /** The SQL dialect behind this store. */
  readonly dialect: SqlDialect;

  /** Creates an organization; limits left out take the seed's defaults. */
  createOrganization(input: { name: string; limits?: Partial<OrgLimits> }): Promise<Organization>;
  /** One organization. */
  getOrganization(id: OrgId): Promise<Organization | undefined>;
  /** Every organization, oldest first (admin). */
  listOrganizations(): Promise<Organization[]>;
  /** Changes some limits of an organization; undefined if there is none. */
  updateOrganizationLimits(id: OrgId, limits: Partial<OrgLimits>): Promise<Organization | undefined>;

  /** Creates a project; throws HerdError `not_found` if the organization does not exist. */
  createProject(orgId: OrgId, input: { name: string }): Promise<Project>;
  /** One project of the organization. */
  getProject(orgId: OrgId, id: ProjectId): Promise<Project | undefined>;
  /** The organization's projects, oldest first. */
  listProjects(orgId: OrgId): Promise<Project[]>;

  /** Stores a token by the hash of its secret (see `hashToken`). */
  createToken(input: { orgId: OrgId; name: string; role: TokenRole; hash: string }): Promise<ApiToken>;
  /** The live (not revoked) token with this hash: how every request is authenticated. */
  findTokenByHash(hash: string): Promise<StoredToken | undefined>;
  /** The organization's tokens, revoked ones included. */
  listTokens(orgId: OrgId): Promise<ApiToken[]>;
  /** Revokes a token of the organization; false if it has none by that id or it was revoked already. */
  revokeToken(orgId: OrgId, id: TokenId, at: string): Promise<boolean>;

  /** Creates a test in a project of the organization; throws `not_found` for another's project. */
  createTest(orgId: OrgId, input: { projectId: ProjectId; name: string }): Promise<LoadTest>;
  /** One test of the organization. */
  getTest(orgId: OrgId, id: TestId): Promise<LoadTest | undefined>;
  /** The test of that name in the project (names are unique per project, as in k6 Cloud). */
  findTestByName(orgId: OrgId, projectId: ProjectId, name: string): Promise<LoadTest | undefined>;
  /** The organization's tests, optionally of one project, oldest first. */
  listTests(orgId: OrgId, filter?: { projectId?: ProjectId }): Promise<LoadTest[]>;
  /** Stores an archive as the test's latest; throws `not_found` for another organization's test. */
  putArchive(orgId: OrgId, testId: TestId, bytes: Uint8Array): Promise<ArchiveInfo>;
  /** An archive of the organization, bytes included. */
  getArchive(orgId: OrgId, id: ArchiveId): Promise<StoredArchive | undefined>;

  /** Creates a run in Created with its first history entry, atomically; `not_found` for another's test or archive. */
  createRun(orgId: OrgId, input: NewRun): Promise<StoredRun>;
  /** One run of the organization. */
  getRun(orgId: OrgId, id: RunId): Promise<StoredRun | undefined>;
  /** One run, whatever its organization: for the scheduler and agents' messages only. */
  getRunForSystem(id: RunId): Promise<StoredRun | undefined>;
  /** A page of the organization's runs, newest first, filtered as the query says. */
  listRuns(orgId: OrgId, query: RunListQuery): Promise<StoredRunPage>;
  /** Every run not in a final status, oldest first: what a restarted control plane resumes or ends. */
  listActiveRuns(): Promise<StoredRun[]>;
  /**
   * Compare-and-set of a run's status: writes `change` (decided by the status machine from
   * `expected`) and appends it to the history in one transaction, only if the run is still in
   * `expected`. Sets startedAt on Running, queuedAt on Queued, endedAt and `result` on a final
   * status. Throws `not_found` if there is no such run.
   */
  transitionRun(id: RunId, expected: RunStatus, change: StatusChange, opts?: { result?: RunResult }): Promise<TransitionOutcome>;
  /** The run's status history, oldest first; undefined for another organization's run. */
  getStatusHistory(orgId: OrgId, runId: RunId): Promise<StatusChange[] | undefined>;
  /**
   * Takes the oldest Queued run that no scheduler holds (or whose hold is older than `leaseMs`)
   * for `schedulerId`. Two schedulers, in one process or on two replicas, never get the same run.
   */
  claimQueuedRun(schedulerId: string, opts?: { leaseMs?: number }): Promise<StoredRun | undefined>;
  /** Gives a claimed run back to the queue (no capacity yet); false if `schedulerId` does not hold it. */
  releaseClaim(runId: RunId, schedulerId: string): Promise<boolean>;

  /** Stores a metric batch once: a batch with a (run, agent, sequence) already stored is a no-op, reported as not inserted. */
  insertMetricBatch(batch: MetricBatch): Promise<{ inserted: boolean }>;
  /** A run's metric batches, by agent then sequence. */
  listMetricBatches(runId: RunId): Promise<MetricBatch[]>;

  /** Records threshold outcomes of a run; a later evaluation of the same (metric, expression) replaces the earlier. */
  putThresholdResults(runId: RunId, results: readonly ThresholdResult[]): Promise<void>;
  /** A run's threshold outcomes; undefined for another organization's run. */
  listThresholdResults(orgId: OrgId, runId: RunId): Promise<ThresholdResult[] | undefined>;

  /** Records (or replaces) a run's usage. */
  recordUsage(usage: RunUsage): Promise<void>;
  /** The organization's usage for a month, in total and per project. */
  getUsage(orgId: OrgId, month: UsageMonth, filter?: { projectId?: ProjectId }): Promise<Usage>;

  /** Registers an agent, or updates its zone and capacity when it registers again. */
  upsertAgent(input: { id: AgentId; zone: string; capacity: number; at: string }): Promise<AgentRecord>;
  /** Records a heartbeat; false for an unknown agent. */
  recordHeartbeat(id: AgentId, heartbeat: Heartbeat): Promise<boolean>;
  /** One agent. */
  getAgent(id: AgentId): Promise<AgentRecord | undefined>;
  /** Agents, optionally of one zone. */
  listAgents(filter?: { zone?: string }): Promise<AgentRecord[]>;

  /** Records the agents' shares of a run, all or none. */
  assignAgents(runId: RunId, shares: ReadonlyArray<{ agentId: AgentId; zone: string; segment: string; vus: number }>, at: string): Promise<void>;
  /** A run's shares. */
  listAssignments(runId: RunId): Promise<RunAssignment[]>;
  /** An agent's shares, optionally only those of runs not yet final. */
  listAgentAssignments(agentId: AgentId, opts?: { activeOnly?: boolean }): Promise<RunAssignment[]>;
  /**
   * Moves one share forward to a new state (assigned → initialized → running → done, or failed),
   * with the group tree of its `done`; a move backwards (a late repeat) changes nothing. False if
   * there is no such share or it was already at or past that state.
   */
  setAssignmentState(runId: RunId, agentId: AgentId, state: AssignmentState, at: string, opts?: { groupsJSON?: string }): Promise<boolean>;

  /**
   * Takes or keeps the lead of a live run for `leaderId` until `until`: succeeds when nobody
   * leads it, the lead is already this replica's, or the lease ended before `now`. Two replicas
   * never both succeed for the same lease. True when `leaderId` leads the run after the call.
   */
  leadRun(runId: RunId, leaderId: string, opts: { now: string; until: string }): Promise<boolean>;
  /** Gives the lead up at once (so another replica can take it); false if `leaderId` did not lead it. */
  releaseRunLead(runId: RunId, leaderId: string): Promise<boolean>;
  /** The run's lead and recorded facts; undefined when no replica ever led it and nothing was recorded. */
  getRunLead(runId: RunId): Promise<RunLead | undefined>;
  /** Records facts of a live run's conversation (any replica, whoever leads); idempotent. */
  recordRunFacts(runId: RunId, facts: RunFacts): Promise<void>;

  /** Writes per-second points; a point already stored for (run, metric, second) is replaced. */
  putMetricPoints(runId: RunId, points: readonly StoredMetricPoint[]): Promise<void>;
  /** A run's points of one metric, by time, with `t` in [fromMs, toMs] when given. */
  listMetricPoints(runId: RunId, metric: string, range?: { fromMs?: number; toMs?: number }): Promise<StoredMetricPoint[]>;
  /** Stores (or replaces) a run's summary JSON. */
  putRunSummary(runId: RunId, summary: Readonly<Record<string, unknown>>, at: string): Promise<void>;
  /** A run's stored summary; undefined when none was stored. */
  getRunSummary(runId: RunId): Promise<Record<string, unknown> | undefined>;
  /** Records a warning raised on a run. */
  addRunWarning(runId: RunId, warning: RunWarning): Promise<void>;
  /** A run's warnings, oldest first; undefined for another organization's run. */
  listRunWarnings(orgId: OrgId, runId: RunId): Promise<RunWarning[] | undefined>;

  /** The migrations applied to this database, in order. */
  appliedMigrations(): Promise<string[]>;
  /** Closes the connections; safe to call twice. */
  close(): Promise<void>;
}
