import type { SummaryData, SummaryGroup, SummaryMetric, SummaryCheck } from './summary-data.js';

/*
 * k6's end-of-test text summary (the layout of k6 v0.48-0.49, also what the k6-summary jslib's
 * `textSummary` prints): the root group's checks and the group tree first, then one line per
 * metric, sorted by name, with names padded by dots to a common width and the values of each
 * kind aligned in columns. Users diff this output against k6's, so every space counts,
 * including the trailing padding of a last column.
 */

const GROUP_PREFIX = '█';
const DETAILS_PREFIX = '↳';
const PASS_MARK = '✓';
const FAIL_MARK = '✗';

const FAINT = 2;
const RED = 31;
const GREEN = 32;
const CYAN = 36;

/** Wraps text in an ANSI SGR sequence (or returns it as is when colors are off). */
type Paint = (text: string, color: number, style?: number) => string;

const noPaint: Paint = (text) => text;
const ansiPaint: Paint = (text, color, style) =>
  `\x1b[${color}${style === undefined ? '' : `;${style}`}m${text}\x1b[0m`;

/** Options of `textSummary`, as in k6's jslib. */
export interface TextSummaryOptions {
  /** Prefix of every line; k6's default is one space. */
  indent?: string;
  /** ANSI colors; on by default, as in k6's jslib (k6 itself passes `!noColor && isStdOutTTY`). */
  enableColors?: boolean;
  /** Overrides `data.options.summaryTrendStats`, as the jslib allows. */
  summaryTrendStats?: readonly string[];
  /** Overrides `data.options.summaryTimeUnit`, as the jslib allows. */
  summaryTimeUnit?: string;
}

const DEFAULT_TREND_STATS: readonly string[] = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'];

/** k6's end-of-test text summary of `data` (without the blank lines k6 prints around it). */
export function textSummary(data: SummaryData, opts: TextSummaryOptions = {}): string {
  const indent = opts.indent ?? ' ';
  const paint = (opts.enableColors ?? true) ? ansiPaint : noPaint;
  // Scripts may hand over a trimmed data object, so missing options fall back to k6's defaults.
  const stats = opts.summaryTrendStats ?? data.options?.summaryTrendStats ?? DEFAULT_TREND_STATS;
  const timeUnit = opts.summaryTimeUnit ?? data.options?.summaryTimeUnit ?? '';
  const lines = data.root_group === undefined ? [] : groupLines(indent + '    ', data.root_group, paint);
  for (const line of metricLines(indent + '  ', data.metrics ?? {}, stats, timeUnit, paint)) lines.push(line);
  return lines.join('\n');
}

/** The summary exactly as `k6 run` prints it to stdout when the script has no handleSummary. */
export function defaultSummaryOutput(data: SummaryData, opts: { enableColors: boolean }): string {
  return `\n${textSummary(data, { indent: ' ', enableColors: opts.enableColors })}\n\n`;
}

function groupLines(indent: string, group: SummaryGroup, paint: Paint): string[] {
  const out: string[] = [];
  let inner = indent;
  if (group.name !== '') {
    // k6 follows every group title with an empty line.
    out.push(`${indent}${GROUP_PREFIX} ${group.name}`, '');
    inner = indent + '  ';
  }
  for (const check of group.checks) out.push(checkLine(inner, check, paint));
  if (group.checks.length > 0) out.push('');
  for (const sub of group.groups) for (const line of groupLines(inner, sub, paint)) out.push(line);
  return out;
}

function checkLine(indent: string, check: SummaryCheck, paint: Paint): string {
  if (check.fails === 0) return paint(`${indent}${PASS_MARK} ${check.name}`, GREEN);
  const percent = Math.floor((100 * check.passes) / (check.passes + check.fails));
  // One painted span over both lines, as k6 does.
  return paint(
    `${indent}${FAIL_MARK} ${check.name}\n` +
      `${indent} ${DETAILS_PREFIX}  ${percent}% — ${PASS_MARK} ${check.passes} / ${FAIL_MARK} ${check.fails}`,
    RED,
  );
}

/** The printed width of `s`: code points, so that µ, ✓ and █ count as one column. */
function width(s: string): number {
  let n = 0;
  for (const _ of s.normalize('NFKC')) n++;
  return n;
}

/** `name{a:b}` is shown as `{ a:b }`, indented under its parent. */
function displayName(name: string): string {
  const brace = name.indexOf('{');
  return brace < 0 ? name : `{ ${name.slice(brace + 1, name.length - 1)} }`;
}

function nameIndent(name: string): string {
  return name.includes('{') ? '  ' : '';
}

function pad(text: string, columnWidth: number): string {
  return ' '.repeat(Math.max(0, columnWidth - width(text)));
}

/** Column cells of a non-trend metric: the main value, then the extras. */
function nonTrendCells(metric: SummaryMetric, timeUnit: string): string[] {
  const v = metric.values;
  const h = (x: number | undefined): string => humanizeValue(x ?? 0, metric, timeUnit);
  switch (metric.type) {
    case 'counter':
      return [h(v['count']), `${h(v['rate'])}/s`];
    case 'gauge':
      return [h(v['value']), `min=${h(v['min'])}`, `max=${h(v['max'])}`];
    case 'rate':
      // For http_req_failed too, ✓ counts the non-zero samples (the failed requests): k6 v0.48 prints it so.
      return [h(v['rate']), `${PASS_MARK} ${v['passes'] ?? 0}`, `${FAIL_MARK} ${v['fails'] ?? 0}`];
    case 'trend':
      return ['[no data]'];
  }
}

function trendCell(metric: SummaryMetric, stat: string, timeUnit: string): string {
  const value = metric.values[stat];
  if (value === undefined) return '-';
  return stat === 'count' ? String(value) : humanizeValue(value, metric, timeUnit);
}

function metricLines(
  indent: string,
  metrics: Readonly<Record<string, SummaryMetric>>,
  stats: readonly string[],
  timeUnit: string,
  paint: Paint,
): string[] {
  const names = Object.keys(metrics);

  // First pass: every cell as plain text, and the width of each column.
  let nameWidth = 0;
  const trendWidths = stats.map(() => 0);
  let mainWidth = 0;
  const extraWidths: number[] = [];
  const cells = new Map<string, string[]>();
  for (const name of names) {
    const metric = metrics[name] as SummaryMetric;
    nameWidth = Math.max(nameWidth, width(nameIndent(name) + displayName(name)));
    if (metric.type === 'trend') {
      const row = stats.map((stat) => trendCell(metric, stat, timeUnit));
      row.forEach((cell, i) => (trendWidths[i] = Math.max(trendWidths[i] as number, width(cell))));
      cells.set(name, row);
    } else {
      const row = nonTrendCells(metric, timeUnit);
      mainWidth = Math.max(mainWidth, width(row[0] as string));
      for (let i = 1; i < row.length; i++) {
        extraWidths[i - 1] = Math.max(extraWidths[i - 1] ?? 0, width(row[i] as string));
      }
      cells.set(name, row);
    }
  }

  // k6 sorts with JavaScript's default order, which puts `x{tag:v}` right after `x`.
  names.sort();

  const out: string[] = [];
  for (const name of names) {
    const metric = metrics[name] as SummaryMetric;
    const row = cells.get(name) as string[];
    let valueText: string;
    if (metric.type === 'trend') {
      valueText = row
        .map((cell, i) => `${stats[i]}=${paint(cell, CYAN)}${pad(cell, trendWidths[i] as number)}`)
        .join(' ');
    } else {
      const main = row[0] as string;
      valueText = paint(main, CYAN) + pad(main, mainWidth);
      const extras = row.slice(1);
      if (extras.length === 1) {
        // A single extra (a counter's rate) is not padded.
        valueText += ' ' + paint(extras[0] as string, CYAN, FAINT);
      } else if (extras.length > 1) {
        valueText +=
          ' ' + extras.map((e, i) => paint(e, CYAN, FAINT) + pad(e, extraWidths[i] as number)).join(' ');
      }
    }

    let mark = ' ';
    if (metric.thresholds !== undefined) {
      const failed = Object.values(metric.thresholds).some((t) => !t.ok);
      mark = failed ? paint(FAIL_MARK, RED) : paint(PASS_MARK, GREEN);
    }
    const subIndent = nameIndent(name);
    const shown = displayName(name);
    const dots = '.'.repeat(nameWidth - width(shown) - width(subIndent) + 3);
    out.push(`${indent}${subIndent}${mark} ${shown}${paint(dots + ':', FAINT)} ${valueText}`);
  }
  return out;
}

/** Formats a metric value as k6's summary does: rates as percentages, then by `contains`. */
export function humanizeValue(value: number, metric: Pick<SummaryMetric, 'type' | 'contains'>, timeUnit = ''): string {
  if (metric.type === 'rate') {
    // Truncated, not rounded: 99.999% must not print as 100.00%.
    return (Math.trunc(value * 100 * 100) / 100).toFixed(2) + '%';
  }
  switch (metric.contains) {
    case 'data':
      return humanizeBytes(value);
    case 'time':
      return humanizeDuration(value, timeUnit);
    case 'default':
      return trimmed(value, 6);
  }
}

const BYTE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** Bytes in k6's decimal units: `7 B`, `1.3 MB`, `81 kB` (one decimal below 10). */
export function humanizeBytes(bytes: number): string {
  if (bytes < 10) return `${bytes} B`;
  const exp = Math.floor(Math.log(bytes) / Math.log(1000));
  const scaled = Math.floor((bytes / Math.pow(1000, exp)) * 10 + 0.5) / 10;
  return `${scaled.toFixed(scaled < 10 ? 1 : 0)} ${BYTE_UNITS[exp] ?? 'YB'}`;
}

const TIME_UNITS: Readonly<Record<string, { unit: string; perMs: number }>> = {
  s: { unit: 's', perMs: 0.001 },
  ms: { unit: 'ms', perMs: 1 },
  us: { unit: 'µs', perMs: 1000 },
};

/**
 * Milliseconds as k6's summary prints them. With `timeUnit` 's', 'ms' or 'us' (the
 * summaryTimeUnit option) always in that unit with two decimals; otherwise in the largest
 * fitting unit, truncated to two decimals: `0s`, `450ns`, `12.25µs`, `144.56ms`, `1.14s`,
 * `1m5s`, `1h2m3s` (whole seconds once past a minute).
 */
export function humanizeDuration(ms: number, timeUnit = ''): string {
  const fixed = TIME_UNITS[timeUnit];
  if (timeUnit !== '' && fixed !== undefined) return (ms * fixed.perMs).toFixed(2) + fixed.unit;
  if (ms === 0) return '0s';
  if (ms < 0.001) return `${Math.trunc(ms * 1_000_000)}ns`;
  if (ms < 1) return `${truncated(ms * 1000, 2)}µs`;
  if (ms < 1000) return `${truncated(ms, 2)}ms`;
  const seconds = `${truncated((ms % 60_000) / 1000, ms > 60_000 ? 0 : 2)}s`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes < 1) return seconds;
  const hours = Math.trunc(minutes / 60);
  const withMinutes = `${minutes % 60}m${seconds}`;
  return hours < 1 ? withMinutes : `${hours}h${withMinutes}`;
}

/** `value` rounded to `digits` decimals, without trailing zeros. */
function trimmed(value: number, digits: number): string {
  return String(parseFloat(value.toFixed(digits)));
}

/** `value` truncated to `digits` decimals, without trailing zeros. */
function truncated(value: number, digits: number): string {
  const scale = Math.pow(10, digits);
  return trimmed(Math.trunc(value * scale) / scale, digits);
}
