// Loading user code: bundling, the synchronous-style → async transform, per-VU instances in a sandbox.
export { loadScript, BUNDLE_FILENAME } from './load-script.js';
export type { LoadOptions, CompiledScript, InstanceHost, ModuleExports } from './load-script.js';
export { BLOCKING_CALLS, SEQUENTIAL_ARRAY_METHODS } from './blocking-calls.js';
