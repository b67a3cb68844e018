/** The built-in httpbin-style test target (contract: compat/TARGET.md). */
export {
  startTarget,
  DEFAULT_TARGET_HOST,
  DEFAULT_TARGET_PORT,
  type RunningTarget,
  type TargetOptions,
} from './server.js';
