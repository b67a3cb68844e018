/**
 * k6's executors: one file per executor (config schema, pure plan for a segment, runtime),
 * an explicit registry, the shortcut-option derivation and execution segments.
 */
export type {
  ExecutionPlan,
  ExecutionSegment,
  ExecutionStep,
  ExecutorConfig,
  ExecutorEnv,
  ExecutorRuntime,
  ExecutorVU,
  SegmentedIndex,
} from './types.js';
export type { ExecutorDefinition, ScenarioParse } from './definition.js';
export { executors, parseScenarios } from './registry.js';
export { DEFAULT_SCENARIO_NAME, deriveScenarios, type ShortcutOptions } from './shortcuts.js';
export { fullSegment, parseExecutionSegment, segmentsOfSequence, splitSegment, workerSegment } from './segment.js';
export { PerVUIterationsConfig, perVUIterations, perVUIterationsSchema, type PerVUIterationsOptions } from './per-vu-iterations.js';
export { SharedIterationsConfig, sharedIterations, sharedIterationsSchema, type SharedIterationsOptions } from './shared-iterations.js';
export { ConstantVUsConfig, constantVUs, constantVUsSchema, type ConstantVUsOptions } from './constant-vus.js';
export { RampingVUsConfig, rampingVUs, rampingVUsSchema, type RampingVUsOptions } from './ramping-vus.js';
export {
  ConstantArrivalRateConfig,
  constantArrivalRate,
  constantArrivalRateSchema,
  type ConstantArrivalRateOptions,
} from './constant-arrival-rate.js';
export {
  RampingArrivalRateConfig,
  rampingArrivalRate,
  rampingArrivalRateSchema,
  type RampingArrivalRateOptions,
} from './ramping-arrival-rate.js';
export { constantSchedule, rampingSchedule, type ArrivalSchedule } from './arrival-schedule.js';
export { insufficientVUsWarning } from './arrival-rate.js';
export { gracefulSteps, rawSteps, type Stage } from './ramping-steps.js';
