import { ExitCode, type ExitCodeValue } from './exit-codes.js';

/**
 * Stable error codes. A code never changes meaning once shipped; the message may.
 * Each code maps to the k6 exit code a CLI run ends with when this error ends it.
 */
export const errorCodes = {
  invalid_option: ExitCode.invalidConfig,
  invalid_flag: ExitCode.invalidConfig,
  invalid_threshold: ExitCode.invalidConfig,
  invalid_config_file: ExitCode.invalidConfig,
  script_not_found: ExitCode.scriptException,
  script_syntax: ExitCode.scriptException,
  script_unsupported: ExitCode.scriptException,
  script_import: ExitCode.scriptException,
  script_exception: ExitCode.scriptException,
  init_context_only: ExitCode.scriptException,
  setup_timeout: ExitCode.setupTimeout,
  teardown_timeout: ExitCode.teardownTimeout,
  test_aborted: ExitCode.scriptAborted,
  external_abort: ExitCode.externalAbort,
  thresholds_failed: ExitCode.thresholdsHaveFailed,
  cloud_unreachable: ExitCode.cloudFailedToGetProgress,
  cloud_request_failed: ExitCode.cloudTestRunFailed,
  internal: ExitCode.genericEngine,
  // The control plane (cloud/runs, cloud/store). A CLI run ends with these only through a bug
  // or a lost race, so they map to k6's generic engine error.
  invalid_transition: ExitCode.genericEngine,
  status_conflict: ExitCode.genericEngine,
  store_failure: ExitCode.genericEngine,
  // A cloud command named a test, run or archive its organization cannot see.
  not_found: ExitCode.cloudTestRunFailed,
  // A run archive that cannot be read (corrupt, malformed, unsafe entries): the packaged script
  // cannot be loaded, as a script that does not parse cannot.
  invalid_archive: ExitCode.scriptException,
  // A run archive over a size or entry-count limit: a limit the user must change their input for,
  // rejected before anything runs, like an invalid option.
  archive_too_large: ExitCode.invalidConfig,
} as const satisfies Record<string, ExitCodeValue>;

/** A stable, machine-readable error code. */
export type ErrorCode = keyof typeof errorCodes;

/** The shape an error has when it crosses a process boundary. */
export interface ErrorPayload {
  code: ErrorCode;
  message: string;
  hint?: string;
}

/**
 * The one error family of herd. `message` says what is wrong, `hint` how to fix it;
 * `exitCode` is what `herd run` exits with when this error ends the run.
 */
export class HerdError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HerdError';
    this.code = code;
    this.hint = options.hint;
  }

  /** The k6 exit code for this error. */
  get exitCode(): ExitCodeValue {
    return errorCodes[this.code];
  }

  /** The error as it travels between processes. */
  toPayload(): ErrorPayload {
    return this.hint === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, hint: this.hint };
  }

  /** Rebuilds an error received from another process. */
  static fromPayload(p: ErrorPayload): HerdError {
    return new HerdError(p.code, p.message, p.hint === undefined ? {} : { hint: p.hint });
  }
}

/** True when `e` is a HerdError (also across realms, by shape). */
export function isHerdError(e: unknown): e is HerdError {
  return e instanceof HerdError;
}
