import type { Selectable } from 'kysely';
import { HerdError } from '../../errors/index.js';
import {
  type AgentId, type ApiToken, type ArchiveId, type ArchiveInfo, distributionSchema, type LoadTest, type Organization,
  orgLimitsSchema, type OrgId, type Project, type ProjectId, type RunId, type RunStatus, statusByCode, type StatusChange,
  statusReasonSchema, type TestId, type ThresholdResult, tokenRoleSchema, type TokenId,
} from '../../protocol/index.js';
import type {
  AgentsTable, ApiTokensTable, OrganizationsTable, ProjectsTable, RunAgentsTable, RunLeadsTable, RunsTable, RunStatusHistoryTable,
  TestsTable, ThresholdResultsTable,
} from './schema.js';
import type { AgentRecord, AssignmentState, RunAssignment, RunLead, StoredRun, StoredToken } from './store.js';

// Rows become records here and only here: ids to decimal strings (pg gives bigint as a string,
// SQLite as a number), codes to statuses, JSON text to values. A row that does not map (a status
// code out of range, a reason nobody knows) means the database was changed behind herd's back,
// and is reported as such rather than passed on.

/** A database integer id as the branded decimal string of the protocol. */
export function toId<T extends string>(v: number | string): T {
  return String(v) as T;
}

/** A bigint column as a number (sequence numbers and byte counts stay far below 2^53). */
export function toNumber(v: number | string): number {
  return typeof v === 'number' ? v : Number(v);
}

function corrupt(what: string): never {
  throw new HerdError('store_failure', `the database holds ${what}`, { hint: 'was the database edited outside herd?' });
}

/** The status with a stored code. */
export function statusOf(code: number): RunStatus {
  return statusByCode(code) ?? corrupt(`an unknown run status code ${code}`);
}

/** An organization from its row; stored limit overrides get the current defaults around them. */
export function toOrganization(r: Selectable<OrganizationsTable>): Organization {
  return { id: toId<OrgId>(r.id), name: r.name, createdAt: r.created_at, limits: orgLimitsSchema.parse(JSON.parse(r.limits_json)) };
}

/** A project from its row. */
export function toProject(r: Selectable<ProjectsTable>): Project {
  return { id: toId<ProjectId>(r.id), orgId: toId<OrgId>(r.org_id), name: r.name, createdAt: r.created_at };
}

/** A token from its row, with its hash. */
export function toStoredToken(r: Selectable<ApiTokensTable>): StoredToken {
  return { ...toToken(r), hash: r.token_hash };
}

/** A token from its row, without its hash. */
export function toToken(r: Selectable<ApiTokensTable>): ApiToken {
  const role = tokenRoleSchema.safeParse(r.role);
  return {
    id: toId<TokenId>(r.id), orgId: toId<OrgId>(r.org_id), name: r.name,
    role: role.success ? role.data : corrupt(`a token role ${JSON.stringify(r.role)}`),
    createdAt: r.created_at, revokedAt: r.revoked_at,
  };
}

/** A test's row with its latest archive's columns (null without an archive). */
export type TestRow = Selectable<TestsTable> & {
  archive_id: number | string | null;
  archive_size_bytes: number | string | null;
  archive_sha256: string | null;
  archive_created_at: string | null;
};

/** A test from its row and latest archive. */
export function toLoadTest(r: TestRow): LoadTest {
  const latestArchive: ArchiveInfo | null = r.archive_id === null
    ? null
    : {
      id: toId<ArchiveId>(r.archive_id),
      sizeBytes: toNumber(r.archive_size_bytes ?? 0),
      sha256: r.archive_sha256 ?? '',
      createdAt: r.archive_created_at ?? '',
    };
  return {
    id: toId<TestId>(r.id), projectId: toId<ProjectId>(r.project_id), name: r.name,
    createdAt: r.created_at, updatedAt: r.updated_at, latestArchive,
  };
}

/** A run from its row. */
export function toStoredRun(r: Selectable<RunsTable>): StoredRun {
  const result = r.result === null || r.result === 'passed' || r.result === 'failed' ? r.result : corrupt(`a run result ${r.result}`);
  const status = statusOf(r.status_code);
  const distribution = distributionSchema.safeParse(JSON.parse(r.distribution_json));
  return {
    id: toId<RunId>(r.id),
    orgId: toId<OrgId>(r.org_id),
    projectId: toId<ProjectId>(r.project_id),
    testId: toId<TestId>(r.test_id),
    archiveId: toId<ArchiveId>(r.archive_id),
    status,
    result,
    lastChange: { status, at: r.last_change_at, reason: reasonOf(r.last_reason), message: r.last_message },
    createdAt: r.created_at,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    vus: r.vus,
    durationSeconds: r.duration_seconds,
    distribution: distribution.success ? distribution.data : corrupt(`an invalid distribution ${r.distribution_json}`),
    options: JSON.parse(r.options_json) as Record<string, unknown>,
    queuedAt: r.queued_at,
    claimedBy: r.claimed_by,
    claimedAt: r.claimed_at,
  };
}

function reasonOf(s: string): StatusChange['reason'] {
  const r = statusReasonSchema.safeParse(s);
  return r.success ? r.data : corrupt(`an unknown status reason ${JSON.stringify(s)}`);
}

/** A history entry from its row. */
export function toStatusChange(r: Selectable<RunStatusHistoryTable>): StatusChange {
  return { status: statusOf(r.status_code), at: r.at, reason: reasonOf(r.reason), message: r.message };
}

/** A threshold outcome from its row. */
export function toThresholdResult(r: Selectable<ThresholdResultsTable>): ThresholdResult {
  return { metric: r.metric, expression: r.expression, passed: r.passed === 1, abortOnFail: r.abort_on_fail === 1, evaluatedAt: r.evaluated_at };
}

/** An agent from its row. */
export function toAgent(r: Selectable<AgentsTable>): AgentRecord {
  return {
    id: r.id as AgentId, zone: r.zone, capacity: r.capacity, registeredAt: r.registered_at, lastHeartbeatAt: r.last_heartbeat_at,
    cpuPercent: r.cpu_percent,
    memoryUsedBytes: r.memory_used_bytes === null ? null : toNumber(r.memory_used_bytes),
    memoryLimitBytes: r.memory_limit_bytes === null ? null : toNumber(r.memory_limit_bytes),
  };
}

/** Assignment states in the order a share moves through them (failed is last: nothing follows it). */
export const ASSIGNMENT_STATES: readonly AssignmentState[] = ['assigned', 'initialized', 'running', 'done', 'failed'];

/** An assignment from its row. */
export function toAssignment(r: Selectable<RunAgentsTable>): RunAssignment {
  const state = ASSIGNMENT_STATES.find((s) => s === r.state) ?? corrupt(`an assignment state ${JSON.stringify(r.state)}`);
  return {
    runId: toId<RunId>(r.run_id), agentId: r.agent_id as AgentId, zone: r.zone, segment: r.segment, vus: r.vus,
    state, assignedAt: r.assigned_at, updatedAt: r.updated_at, groupsJSON: r.groups_json,
  };
}

/** A run's lead and recorded facts from its row. */
export function toRunLead(r: Selectable<RunLeadsTable>): RunLead {
  return {
    runId: toId<RunId>(r.run_id), leaderId: r.leader_id, leaseUntil: r.lease_until,
    setupDoneAt: r.setup_done_at, setupJSON: r.setup_json, startAtMs: r.start_at_ms === null ? null : toNumber(r.start_at_ms),
    teardownDoneAt: r.teardown_done_at, teardownGroupsJSON: r.teardown_groups_json, endReason: r.end_reason, endMessage: r.end_message,
  };
}
