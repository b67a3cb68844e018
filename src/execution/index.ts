export { runTest, type RunRequest, type RunOutcome, type EngineProgress } from './run-test.js';
export { packRun, type PackRequest, type PackedRun } from './pack-run.js';
export { maxConcurrentVUs, type ScenarioRequirement } from './vu-requirements.js';
