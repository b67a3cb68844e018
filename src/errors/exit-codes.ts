/** k6's process exit codes, by name (k6 errext/exitcodes). herd uses the same numbers. */
export const ExitCode = {
  ok: 0,
  cloudTestRunFailed: 97,
  cloudFailedToGetProgress: 98,
  thresholdsHaveFailed: 99,
  setupTimeout: 100,
  teardownTimeout: 101,
  genericTimeout: 102,
  genericEngine: 103,
  invalidConfig: 104,
  externalAbort: 105,
  cannotStartRESTAPI: 106,
  scriptException: 107,
  scriptAborted: 108,
  goPanic: 109,
} as const;

/** One of k6's exit code numbers. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
