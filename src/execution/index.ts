export { runTest, type RunRequest, type RunOutcome, type EngineProgress } from './run-test.js';
