import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { optionsFromEnv, parseKeyValues, parseStages, type OptionsLayer } from '../config/index.js';
import { ExitCode, HerdError, type ExitCodeValue } from '../errors/index.js';
import { applyHeapPolicy } from '../execution/heap-policy.js';
import { runTest } from '../execution/index.js';
import type { SampleSink } from '../metrics/index.js';
import {
  parseOutputSpec,
  Progress,
  resolveHandleSummaryResult,
  summaryExport,
  textSummary,
  createOutput,
  type SummaryData,
} from '../output/index.js';
import { createLogger } from './logger.js';
import { readArchiveFile } from './load-archive.js';
import type { CliIO } from './io.js';

/** The flags of `herd run`, as commander hands them over (before validation). */
export interface RunFlags {
  vus?: string;
  duration?: string;
  iterations?: string;
  stage?: string[];
  env?: string[];
  tag?: string[];
  config?: string;
  summaryExport?: string;
  summaryTrendStats?: string;
  summaryTimeUnit?: string;
  systemTags?: string;
  out?: string[];
  quiet?: boolean;
  summary?: boolean;
  color?: boolean;
  includeSystemEnvVars?: boolean;
  userAgent?: string;
  insecureSkipTlsVerify?: boolean;
  maxRedirects?: string;
  batch?: string;
  batchPerHost?: string;
  connectionReuse?: boolean;
  vuConnectionReuse?: boolean;
  discardResponseBodies?: boolean;
  setup?: boolean;
  teardown?: boolean;
  throw?: boolean;
  executionSegment?: string;
  executionSegmentSequence?: string;
  workers?: string;
}

function wholeNumber(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim())) {
    throw new HerdError('invalid_flag', `${flag} must be a whole number, got ${JSON.stringify(v)}`, { hint: `e.g. ${flag} 10` });
  }
  return Number(v);
}

/** --workers: one thread per core unless given. */
function workerCount(v: string | undefined): number {
  if (v === undefined) return os.availableParallelism();
  const n = wholeNumber('--workers', v) ?? 1;
  if (n < 1) throw new HerdError('invalid_flag', `--workers must be at least 1, got ${JSON.stringify(v)}`);
  return n;
}

function list(v: string | undefined): string[] | undefined {
  return v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** Turns flags into the highest-precedence options layer. */
export function optionsFromFlags(f: RunFlags): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const set = (k: string, v: unknown): void => {
    if (v !== undefined) out[k] = v;
  };
  set('vus', wholeNumber('--vus', f.vus));
  set('duration', f.duration);
  set('iterations', wholeNumber('--iterations', f.iterations));
  if (f.stage !== undefined && f.stage.length > 0) {
    const specs = f.stage.flatMap((s) => s.split(','));
    for (const s of specs) {
      if (!/^[^:]+:\d+$/.test(s.trim())) {
        throw new HerdError('invalid_flag', `--stage must be DURATION:TARGET (e.g. 30s:10), got ${JSON.stringify(s)}`);
      }
    }
    set('stages', parseStages(specs));
  }
  if (f.tag !== undefined && f.tag.length > 0) {
    try {
      set('tags', parseKeyValues(f.tag, '--tag'));
    } catch (e) {
      throw new HerdError('invalid_flag', (e as Error).message);
    }
  }
  set('summaryTrendStats', list(f.summaryTrendStats));
  set('summaryTimeUnit', f.summaryTimeUnit);
  set('systemTags', list(f.systemTags));
  set('userAgent', f.userAgent);
  if (f.insecureSkipTlsVerify === true) set('insecureSkipTLSVerify', true);
  set('maxRedirects', wholeNumber('--max-redirects', f.maxRedirects));
  set('batch', wholeNumber('--batch', f.batch));
  set('batchPerHost', wholeNumber('--batch-per-host', f.batchPerHost));
  if (f.connectionReuse === false) set('noConnectionReuse', true);
  if (f.vuConnectionReuse === false) set('noVUConnectionReuse', true);
  if (f.discardResponseBodies === true) set('discardResponseBodies', true);
  if (f.setup === false) set('noSetup', true);
  if (f.teardown === false) set('noTeardown', true);
  if (f.throw === true) set('throw', true);
  set('executionSegment', f.executionSegment);
  set('executionSegmentSequence', f.executionSegmentSequence);
  return out;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new HerdError('invalid_config_file', `cannot read the config file ${file}`, { hint: 'check the path given to --config' });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new HerdError('invalid_config_file', `the config file ${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new HerdError('invalid_config_file', `the config file ${file} must hold a JSON object of options`);
  }
  const { collectors: _collectors, ...options } = parsed as Record<string, unknown>;
  return options;
}

/** The option layers above the script's own: config file, K6_* environment, flags (k6's precedence). */
export function optionLayers(flags: RunFlags, io: CliIO): OptionsLayer[] {
  const layers: OptionsLayer[] = [];
  const configPath = flags.config ?? io.env['K6_CONFIG'];
  if (configPath !== undefined) {
    layers.push({ source: `config file ${configPath}`, values: readConfigFile(path.resolve(io.cwd, configPath)) });
  }
  layers.push({ source: 'environment variables', values: optionsFromEnv(io.env) });
  layers.push({ source: 'command-line flags', values: optionsFromFlags(flags) });
  return layers;
}

/** `herd run`: runs a script locally and exits with k6's exit codes. */
export async function runCommand(script: string, flags: RunFlags, io: CliIO): Promise<ExitCodeValue> {
  applyHeapPolicy(io.env);
  const color = flags.color !== false && io.stderrIsTTY && io.env['NO_COLOR'] === undefined;
  const logger = createLogger({ write: (t) => io.stderr(t), color });
  const entry = path.resolve(io.cwd, script);
  if (!existsSync(entry)) {
    throw new HerdError('script_not_found', `the script ${script} does not exist (looked at ${entry})`, {
      hint: 'give the path of a .js or .ts file',
    });
  }

  const archiveFile = await readArchiveFile(entry);
  const { env } = scriptEnv(flags, io);

  const layers = optionLayers(flags, io);

  const outputs = (flags.out ?? []).map((spec) => createOutput(parseOutputSpec(spec), io.cwd, { stdout: io.stdoutStream }));
  for (const o of outputs) await o.start();

  const interrupt = new AbortController();
  const offSignal = io.onInterrupt(() => {
    if (!interrupt.signal.aborted) {
      logger.log('warn', 'stopping the test gracefully (press Ctrl+C again to stop now)');
      interrupt.abort();
    } else {
      io.exit(ExitCode.externalAbort);
    }
  });

  let progress: Progress | undefined;
  let result;
  try {
    result = await runTest({
      entry,
      env,
      layers,
      cacheDir: path.join(io.env['HERD_CACHE_DIR'] ?? path.join(os.homedir(), '.cache', 'herd'), 'modules'),
      logger,
      outputs: outputs as SampleSink[],
      interrupt: interrupt.signal,
      allowInsecureRemote: io.env['HERD_ALLOW_INSECURE_IMPORTS'] === 'true',
      workers: workerCount(flags.workers),
      ...(archiveFile === undefined ? {} : { archive: archiveFile.archive }),
      onStart: (snapshot) => {
        if (flags.quiet === true) return;
        progress = new Progress({ tty: io.stderrIsTTY, write: (s) => io.stderr(s) });
        progress.start(snapshot);
      },
    });
  } finally {
    for (const o of outputs) await o.stop();
  }
  const summary = result.summary;
  if (progress !== undefined && summary !== undefined) {
    progress.stop({
      elapsedMs: summary.state.testRunDurationMs,
      vus: 0,
      vusMax: summary.metrics['vus_max']?.values['value'] ?? 0,
      iterationsCompleted: summary.metrics['iterations']?.values['count'] ?? 0,
      iterationsInterrupted: 0,
      scenarios: [],
    });
  }
  try {
    if (summary !== undefined) await writeSummaries(summary, result.handleSummary, flags, io, color);
  } finally {
    // Ctrl+C stays ours until the summary is written: a second one exits 105, not by signal.
    offSignal();
  }
  return result.exitCode;
}

async function writeSummaries(
  summary: SummaryData,
  handleSummary: ((d: SummaryData) => Promise<unknown>) | undefined,
  flags: RunFlags,
  io: CliIO,
  color: boolean,
): Promise<void> {
  summary.options.noColor = !color;
  summary.state.isStdOutTTY = io.stdoutIsTTY;
  summary.state.isStdErrTTY = io.stderrIsTTY;
  if (flags.summaryExport !== undefined) {
    const file = path.resolve(io.cwd, flags.summaryExport);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, summaryExport(summary));
  }
  if (handleSummary !== undefined) {
    const result = await handleSummary(summary);
    await resolveHandleSummaryResult(result, {
      stdout: (t) => io.stdout(t),
      stderr: (t) => io.stderr(t),
      writeFile: async (p, content) => {
        const file = path.resolve(io.cwd, p);
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, content);
      },
    });
    return;
  }
  if (flags.summary !== false) io.stdout(`\n${textSummary(summary, { indent: '     ', enableColors: color })}\n`);
}

/**
 * __ENV for the script: the process environment (unless --no-include-system-env-vars) with the
 * -e values on top; `userEnv` is the -e values alone (what an archive may carry).
 */
export function scriptEnv(flags: Pick<RunFlags, 'env' | 'includeSystemEnvVars'>, io: CliIO): { env: Record<string, string>; userEnv: Record<string, string> } {
  const userEnv = flags.env === undefined ? {} : parseEnvFlags(flags.env);
  const env: Record<string, string> = {};
  if (flags.includeSystemEnvVars !== false) {
    for (const [k, v] of Object.entries(io.env)) if (v !== undefined) env[k] = v;
  }
  Object.assign(env, userEnv);
  return { env, userEnv };
}

/** Parses -e KEY=VALUE flags. */
export function parseEnvFlags(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new HerdError('invalid_flag', `-e/--env must be KEY=VALUE, got ${JSON.stringify(p)}`, { hint: 'e.g. -e BASE_URL=http://localhost:8099' });
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}
