// Runs the real `herd` binary in a child process, as a user would, and collects what it
// printed and how it ended. Shared by the cross-process CLI tests (test/cli-*.test.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of `bin/herd.js` (this file runs from dist/test/helpers/). */
export const HERD_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'herd.js');

/** How a herd process ended and what it printed. */
export interface HerdResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall-clock time from spawn to exit, in ms. */
  elapsedMs: number;
}

/** Options of one herd invocation. */
export interface HerdRunOptions {
  cwd?: string;
  /** Added to a clean copy of the test's environment (K6_* and NO_COLOR removed); `undefined` deletes. */
  env?: Record<string, string | undefined>;
  /** Kills the process after this many ms (the test then fails on the exit code). */
  timeoutMs?: number;
}

/** The environment herd runs with: the test's own, without variables that would change options. */
export function herdEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('K6_') || k === 'NO_COLOR' || k === 'FORCE_COLOR' || k.startsWith('HERD_')) continue;
    env[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Starts `herd ...args` and returns the child with its collected output. */
export function spawnHerd(args: readonly string[], opts: HerdRunOptions = {}): { child: ChildProcess; done: Promise<HerdResult>; output: { stdout: string; stderr: string } } {
  const started = performance.now();
  const child = spawn(process.execPath, [HERD_BIN, ...args], {
    cwd: opts.cwd,
    env: herdEnv(opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (output.stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (output.stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
  const done = new Promise<HerdResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: output.stdout, stderr: output.stderr, elapsedMs: performance.now() - started });
    });
  });
  return { child, done, output };
}

/** Runs `herd ...args` to its end. */
export function runHerd(args: readonly string[], opts: HerdRunOptions = {}): Promise<HerdResult> {
  return spawnHerd(args, opts).done;
}

/** A fresh temp dir holding `files` (name → content). */
export function tempDir(files: Record<string, string | Uint8Array> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'herd-cli-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

/**
 * A `handleSummary` that writes the whole summary data as JSON to `file` (and nothing else),
 * to append to test scripts.
 */
export function summaryToFile(file: string): string {
  return `\nexport function handleSummary(data) { return { ${JSON.stringify(file)}: JSON.stringify(data) }; }\n`;
}

/** What the tests read from handleSummary's data. */
export interface SummaryJson {
  metrics: Record<string, { type: string; values: Record<string, number> } | undefined>;
  root_group: { checks: { name: string; passes: number; fails: number }[] };
  state: { testRunDurationMs: number };
}

/** Reads a summary written by `summaryToFile`. */
export function readSummary(file: string): SummaryJson {
  return JSON.parse(readFileSync(file, 'utf8')) as SummaryJson;
}

/** A metric value of the summary, or NaN when the metric or value is missing. */
export function metricValue(summary: SummaryJson, metric: string, value: string): number {
  return summary.metrics[metric]?.values[value] ?? Number.NaN;
}

/** The checks of the root group as `name → "passes/fails"`, easy to compare with deepEqual. */
export function checkResults(summary: SummaryJson): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of summary.root_group.checks) out[c.name] = `${c.passes}/${c.fails}`;
  return out;
}

/** Lines of a stack trace that point into herd's own compiled code. */
export function herdStackLines(text: string): string[] {
  return text.split('\n').filter((l) => /^\s*at .*\/dist\//.test(l));
}

/** Resolves once `read()` contains `needle`; rejects after `timeoutMs`. */
export async function waitForText(read: () => string, needle: string, timeoutMs = 10_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!read().includes(needle)) {
    if (performance.now() > until) throw new Error(`timed out waiting for ${JSON.stringify(needle)}; got:\n${read()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
