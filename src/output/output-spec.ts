import path from 'node:path';
import type { Writable } from 'node:stream';
import { HerdError } from '../errors/index.js';
import { parseDuration } from '../config/options.js';
import { CsvOutput, type CsvTimeFormat } from './csv-output.js';
import { JsonOutput } from './json-output.js';

/** A parsed `--out` value. `path` '-' means stdout. */
export type OutputSpec =
  | { readonly type: 'json'; readonly path: string }
  | { readonly type: 'csv'; readonly path: string; readonly timeFormat: CsvTimeFormat; readonly saveIntervalMs: number };

/** The outputs herd implements (`--out <type>[=<argument>]`). */
export const supportedOutputTypes: readonly string[] = ['json', 'csv'];

/** Outputs k6 has that herd does not; they get a more specific hint. */
const K6_ONLY_OUTPUTS: ReadonlySet<string> = new Set([
  'cloud',
  'influxdb',
  'statsd',
  'datadog',
  'kafka',
  'experimental-prometheus-rw',
  'experimental-opentelemetry',
  'opentelemetry',
  'web-dashboard',
  'dashboard',
  'timescaledb',
]);

const CSV_TIME_FORMATS: readonly CsvTimeFormat[] = ['unix', 'unix_nano', 'rfc3339'];
/** k6's defaults: `--out csv` alone writes file.csv, saved every second. */
const CSV_DEFAULT_FILE = 'file.csv';
const CSV_DEFAULT_SAVE_INTERVAL_MS = 1000;

const HINT = 'use --out json=FILE or --out csv=FILE (a .gz name compresses the file)';

/**
 * Parses one `--out` value as k6 does: the type before the first `=`, the argument after it.
 * `json` alone (or `json=-`) writes to stdout; `csv` alone writes `file.csv`; the csv
 * argument is a file name or `fileName=...,timeFormat=unix|unix_nano|rfc3339,saveInterval=1s`.
 * Throws HerdError `invalid_flag` listing every problem.
 */
export function parseOutputSpec(value: string): OutputSpec {
  const [spec] = parseOutputSpecs([value]);
  return spec as OutputSpec;
}

/** Parses every `--out` value, reporting the problems of all of them in one HerdError `invalid_flag`. */
export function parseOutputSpecs(values: readonly string[]): OutputSpec[] {
  const specs: OutputSpec[] = [];
  const problems: string[] = [];
  let hint = HINT;
  for (const value of values) {
    const eq = value.indexOf('=');
    const type = eq < 0 ? value : value.slice(0, eq);
    const arg = eq < 0 ? '' : value.slice(eq + 1);
    if (type === 'json') {
      specs.push({ type: 'json', path: arg === '' ? '-' : arg });
    } else if (type === 'csv') {
      const spec = parseCsvArgument(arg, problems);
      if (spec !== undefined) specs.push(spec);
    } else if (type === '') {
      problems.push(`--out needs an output type, got ${JSON.stringify(value)}`);
    } else {
      problems.push(`unknown output type "${type}"; herd supports json and csv`);
      if (K6_ONLY_OUTPUTS.has(type)) {
        hint = `"${type}" is a k6 output herd does not implement; ${HINT} and load the file into your tool`;
      }
    }
  }
  if (problems.length > 0) throw new HerdError('invalid_flag', problems.join('; '), { hint });
  return specs;
}

function parseCsvArgument(arg: string, problems: string[]): OutputSpec | undefined {
  let path = CSV_DEFAULT_FILE;
  let timeFormat: CsvTimeFormat = 'unix';
  let saveIntervalMs = CSV_DEFAULT_SAVE_INTERVAL_MS;
  if (!arg.includes('=')) {
    return { type: 'csv', path: arg === '' ? CSV_DEFAULT_FILE : arg, timeFormat, saveIntervalMs };
  }
  const before = problems.length;
  for (const pair of arg.split(',')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const val = eq < 0 ? '' : pair.slice(eq + 1);
    switch (key) {
      case 'fileName':
      case 'file_name':
        path = val;
        break;
      case 'timeFormat':
      case 'time_format':
        if ((CSV_TIME_FORMATS as readonly string[]).includes(val)) timeFormat = val as CsvTimeFormat;
        else problems.push(`csv timeFormat must be one of ${CSV_TIME_FORMATS.join(', ')}, got ${JSON.stringify(val)}`);
        break;
      case 'saveInterval':
      case 'save_interval': {
        const ms = parseDuration(val);
        if (ms === null || ms <= 0) problems.push(`csv saveInterval must be a positive duration like "1s", got ${JSON.stringify(val)}`);
        else saveIntervalMs = ms;
        break;
      }
      default:
        problems.push(`unknown key "${key}" in the csv output argument ${JSON.stringify(arg)}; keys are fileName, timeFormat and saveInterval`);
    }
  }
  return problems.length === before ? { type: 'csv', path, timeFormat, saveIntervalMs } : undefined;
}

/** A sample output with its lifecycle, as `createOutput` returns it. */
export type SampleOutput = JsonOutput | CsvOutput;

/**
 * Builds the output a spec describes. Relative paths are resolved against `cwd`; `stdout` is
 * where `-` writes (without it, a stdout output is a HerdError `invalid_flag`).
 */
export function createOutput(
  spec: OutputSpec,
  cwd: string,
  deps: { stdout?: Writable; thresholds?: Readonly<Record<string, readonly string[]>> } = {},
): SampleOutput {
  if (spec.path === '-' && deps.stdout === undefined) {
    throw new HerdError('invalid_flag', `the ${spec.type} output cannot write to stdout here`, {
      hint: `give a file: --out ${spec.type}=FILE`,
    });
  }
  const file = spec.path === '-' ? '-' : path.resolve(cwd, spec.path);
  switch (spec.type) {
    case 'json':
      return new JsonOutput({ path: file, stdout: deps.stdout, thresholds: deps.thresholds });
    case 'csv':
      return new CsvOutput({ path: file, stdout: deps.stdout, timeFormat: spec.timeFormat, flushIntervalMs: spec.saveIntervalMs });
  }
}
