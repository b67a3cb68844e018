import type { Writable } from 'node:stream';

/** The process as the CLI commands see it; tests give a fake one. */
export interface CliIO {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  stdout(text: string): void;
  /** Standard output as a stream, for outputs that stream samples to it (`--out json`). */
  readonly stdoutStream: Writable;
  stderr(text: string): void;
  /** Calls `fn` on every Ctrl+C (SIGINT/SIGTERM); returns a function that stops listening. */
  onInterrupt(fn: () => void): () => void;
  /** Ends the process now. */
  exit(code: number): never;
}

/** The real process. */
export function processIO(): CliIO {
  return {
    cwd: process.cwd(),
    env: process.env,
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    stdout: (t) => void process.stdout.write(t),
    stdoutStream: process.stdout,
    stderr: (t) => void process.stderr.write(t),
    onInterrupt(fn) {
      process.on('SIGINT', fn);
      process.on('SIGTERM', fn);
      return () => {
        process.off('SIGINT', fn);
        process.off('SIGTERM', fn);
      };
    },
    exit: (code) => process.exit(code),
  };
}
