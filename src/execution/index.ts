export { runTest, type RunRequest, type RunOutcome, type EngineProgress } from './engine.js';
