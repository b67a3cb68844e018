export { consolidate, parseLayer, unknownOptionKeys, type OptionsLayer } from './consolidate.js';
export { optionsFromEnv, parseStages, parseKeyValues } from './env.js';
export { formatIssues, show } from './issues.js';
export {
  optionsSchema,
  durationSchema,
  thresholdDefSchema,
  parseDuration,
  formatDuration,
  runtimeOptions,
  DEFAULT_SYSTEM_TAGS,
  HERD_VERSION,
  type Options,
  type RuntimeOptions,
} from './options.js';
