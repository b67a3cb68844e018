// The schemas (zod) and types of what crosses a process around test runs: REST bodies and
// answers, shared by server, agent, CLI and dashboard. Every object schema is strict.
export {
  runIdSchema, testIdSchema, orgIdSchema, projectIdSchema, tokenIdSchema, archiveIdSchema, agentIdSchema, isoTimeSchema,
  type RunId, type TestId, type OrgId, type ProjectId, type TokenId, type ArchiveId, type AgentId, type IsoTime,
} from './ids.js';
export {
  runStatusSchema, runStatuses, RunStatuses, statusByCode, statusByName, statusName, isFinal, formatStatus,
  type RunStatus, type RunStatusCode, type RunStatusName,
} from './run-status.js';
export { statusReasonSchema, statusChangeSchema, type StatusReason, type StatusChange } from './status-change.js';
export { loadZoneNameSchema, distributionSchema, type Distribution } from './distribution.js';
export {
  orgLimitsSchema, organizationSchema, createOrganizationBodySchema, updateOrgLimitsBodySchema,
  type OrgLimits, type Organization, type CreateOrganizationBody, type UpdateOrgLimitsBody,
} from './organization.js';
export { projectSchema, createProjectBodySchema, type Project, type CreateProjectBody } from './project.js';
export {
  tokenRoleSchema, apiTokenSchema, createTokenBodySchema, createdTokenSchema,
  type TokenRole, type ApiToken, type CreateTokenBody, type CreatedToken,
} from './token.js';
export {
  archiveInfoSchema, loadTestSchema, createLoadTestBodySchema, loadTestListQuerySchema,
  type ArchiveInfo, type LoadTest, type CreateLoadTestBody, type LoadTestListQuery,
} from './load-tests.js';
export {
  runResultSchema, runSchema, runListQuerySchema, runListSchema, runHistorySchema, startRunBodySchema,
  type RunResult, type Run, type RunListQuery, type RunList, type RunHistory, type StartRunBody,
} from './run.js';
export { thresholdResultSchema, type ThresholdResult } from './threshold-result.js';
export {
  usageMonthSchema, usageQuerySchema, runUsageSchema, usageSchema,
  type UsageMonth, type UsageQuery, type RunUsage, type Usage,
} from './usage.js';
export { agentSchema, loadZoneSchema, type Agent, type LoadZone } from './agent.js';
export {
  errorPayloadSchema, metricsBatchSchema, groupNodeSchema, agentCountsSchema, controlToAgentSchema, agentToControlSchema,
  type ControlToAgent, type AgentToControl, type GroupNodeJSON,
} from './agent-messages.js';
