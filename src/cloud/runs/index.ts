// The test-run lifecycle: status machine, limits and usage accounting (ARCHITECTURE.md §5).
export { transition, canTransition, ruleFor, createdChange, transitionTable, type TransitionRule } from './status-machine.js';
export {
  defaultLimits, checkVus, checkDuration, checkArchiveSize, checkGroups, checkMetricSeries, checkVuHourCap, checkStaticLimits,
  type LimitViolation, type StaticRunFacts,
} from './limits.js';
export { countsTowardUsage, runVuHours, estimateVuHours, usageMonth, type RunUsageFacts } from './usage.js';
export type { RunService, RunEvent, SubmitRun, MetricPoint } from './service.js';
export { RunManager, type RunManagerOptions, type RunLog } from './run-manager.js';
export { planRun, vusForSegment, type RunPlan } from './run-plan.js';
export type { UnpackArchive } from './archive-unpacker.js';
export { ExternalRuns, type ExternalRunsOptions, type NewExternalRun, type ExternalEnding, type PushOutcome } from './external-runs.js';
export { isExternalRun } from './external-marker.js';
export type { ExternalMetricSet, ExternalMetric, ExternalSeries, ExternalBucket } from './external-metric-set.js';
